#!/bin/bash
# Differential live test (root): the same traffic seen by the real ./httpeek live and recorded
# by tcpdump; the recording read back with httpeek -r is the reference, and live must report
# every message of it once at egress and once at ingress, nothing more (compare.py). Both
# sides write net_packet_http: one event per message, with its direction.
# Every field of every message is compared (compare.py), with the recording and with the heads
# the clients logged (traffic.py, and curl -v for the curl case).
# Two namespaces joined by a veth pair (addresses and ports of this run: ../lib.sh) hold nginx
# and origin.py (server side) and traffic.py's clients; loopback traffic runs inside the server
# namespace. Cases, each its own httpeek and tcpdump session: the two regressions of the bug
# report, one seeded random mix per seed, and the extremes. One TAP line per check.
# DIFF_SEEDS ("1 2 3"), DIFF_SCALE (messages per seed, 2400), DIFF_EXTREMES (1; 0 skips),
# DIFF_KEEP=1 keeps the temporary directory (pcaps, events, logs) and prints its path.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BIN=${HTTPEEK:-$ROOT/httpeek}
CHECK="python3 $ROOT/tests/live/check_live.py"
TAP_SUITE=diff
. "$ROOT/tests/tap.sh"
. "$ROOT/tests/live/lib.sh"
SEEDS=${DIFF_SEEDS:-1 2 3}
SCALE=${DIFF_SCALE:-2400}
EXTREMES=${DIFF_EXTREMES:-1}
KEEP=${DIFF_KEEP:-0}

# Refuses to start without root or a tool the test runs.
preflight() {
	local tool
	[ "$(id -u)" = 0 ] || { echo "diff: needs root" >&2; return 1; }
	for tool in ip ss nginx curl python3 tcpdump bpftool timeout nghttp nghttpd; do
		command -v "$tool" >/dev/null || { echo "diff: missing $tool" >&2; return 1; }
	done
}
preflight || exit 1

TMP=$(mktemp -d /tmp/httpeek-diff.XXXXXX)
chmod 755 "$TMP"  # nginx's workers read the static files below it
ID=hd$$           # namespaces ID-c and ID-s, veth ends IDc and IDs
NSC=$ID-c
NSS=$ID-s
VC=${ID}c
VS=${ID}s
SRV4=$V4_S
# Ports of this run: loopback traffic in the server namespace is told from a neighbour's by them.
NGINX=$((20000 + $$ % 20000))
ORIGIN=$((NGINX + 1))
NGINX_H2=$((NGINX + 2))  # the h2 case's servers (traffic.py's H2_PORTS)
NGHTTPD=$((NGINX + 3))
H2C=$((NGINX + 4))
GRPC=$((NGINX + 5))
export DIFF_V4_C=$V4_C DIFF_V4_S=$V4_S DIFF_V6_C=$V6_C DIFF_V6_S=$V6_S DIFF_NGINX=$NGINX
export DIFF_ORIGIN=$ORIGIN DIFF_NGINX_H2=$NGINX_H2 DIFF_NGHTTPD=$NGHTTPD DIFF_H2C=$H2C
export DIFF_GRPC=$GRPC

# Ends what is still running of what this script started: its unreaped background jobs (so
# never a recycled pid) and the nginx whose command line names this run's config.
cleanup() {
	local p
	set +e
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	p=$(cat "$TMP/nginx.pid" 2>/dev/null)
	[ -n "$p" ] && grep -q "$TMP/nginx.conf" "/proc/$p/cmdline" 2>/dev/null && kill "$p"
	sleep 0.2
	ip netns del "$NSC" 2>/dev/null
	ip netns del "$NSS" 2>/dev/null
	if [ "$KEEP" = 1 ]; then
		echo "diff: kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# (Background jobs call ip netns exec directly: $! of a backgrounded function is a subshell.)
inc() { ip netns exec "$NSC" "$@"; }
ins() { ip netns exec "$NSS" "$@"; }

setup_net() {
	ip netns add "$NSC" && ip netns add "$NSS" &&
		ip link add "$VC" type veth peer name "$VS" &&
		ip link set "$VC" netns "$NSC" && ip link set "$VS" netns "$NSS" || return 1
	inc ip link set lo up
	ins ip link set lo up
	inc ip link set "$VC" mtu 1500 up
	ins ip link set "$VS" mtu 1500 up
	inc ip addr add "$V4_C/24" dev "$VC"
	ins ip addr add "$V4_S/24" dev "$VS"
	inc ip -6 addr add "$V6_C/64" dev "$VC" nodad
	ins ip -6 addr add "$V6_S/64" dev "$VS" nodad
}

# Static files of 0, 1, 2, 100, one MSS, several MSS and 200 KB bytes, a page, and a text
# file gzip compresses (chunked); all with the mtime traffic.py's If-Modified-Since names.
make_files() {
	local www=$TMP/www n
	mkdir -p "$www" "$TMP/body"
	for n in 0 1 2 100 1448 4500; do
		head -c "$n" /dev/zero | tr '\0' 'f' >"$www/f$n"
	done
	head -c 200000 /dev/zero | tr '\0' 'k' >"$www/f200k"
	echo '<html><body>httpeek differential test</body></html>' >"$www/index.html"
	seq 1 800 | sed 's/^/line /' >"$www/t.txt"
	touch -d "2024-01-01 00:00:00 UTC" "$www"/*
	chmod -R a+rX "$www"
}

start_nginx() {
	cat >"$TMP/nginx.conf" <<EOF
worker_processes 2;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $TMP/body;
	client_max_body_size 10m;
	keepalive_requests 1000000;
	keepalive_timeout 30s;
	default_type application/octet-stream;
	types { text/html html; text/plain txt; }
	gzip on;
	gzip_types text/plain;
	gzip_min_length 20;
	server {
		listen $NGINX;
		listen [::]:$NGINX;
		listen $NGINX_H2 http2;
		listen [::]:$NGINX_H2 http2;
		root $TMP/www;
		location /api/ { return 201 'ok'; }
		location = /empty { return 204; }
		location = /redirect { return 302 /index.html; }
	}
}
EOF
	ins nginx -e "$TMP/nginx-error.log" -c "$TMP/nginx.conf" -p "$TMP/" || return 1
	wait_for "nginx" listening "$NGINX"
}

# The h2 case's servers: nghttpd (padding, pushes), h2c_server.py (h2c Upgrade, python3-h2),
# the gRPC server (python3-grpcio).
start_h2_servers() {
	ip netns exec "$NSS" nghttpd --no-tls -b 32 -p /index.html=/f100 -d "$TMP/www" \
		"$NGHTTPD" >"$TMP/nghttpd.log" 2>&1 &
	ip netns exec "$NSS" /usr/bin/python3 "$HERE/h2c_server.py" 0.0.0.0 "$H2C" \
		>"$TMP/h2c.log" 2>&1 &
	ip netns exec "$NSS" /usr/bin/python3 "$ROOT/scripts/grpc-peer.py" server 0.0.0.0 "$GRPC" \
		>"$TMP/grpc.log" 2>&1 &
	wait_for nghttpd listening "$NGHTTPD" && wait_for h2c_server.py listening "$H2C" &&
		wait_for grpc-peer.py listening "$GRPC"
}

start_origin() {
	ip netns exec "$NSS" python3 "$HERE/origin.py" "$ORIGIN" >"$TMP/origin.log" 2>&1 &
	wait_for "origin.py" listening "$ORIGIN"
}

listening() { ins ss -Hltn "sport = :$1" | grep -q LISTEN; }

# wait_for WHAT CMD...: polls CMD for about 5 seconds.
wait_for() {
	local what=$1 _
	shift
	for _ in $(seq 50); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "diff: timed out waiting for $what" >&2
	return 1
}

# start_tcpdump DIR NAME IFACE: records IFACE of the server namespace into DIR/cap-NAME.pcap.
start_tcpdump() {
	local dir=$1 name=$2 iface=$3
	ip netns exec "$NSS" tcpdump -i "$iface" -s 0 -B 131072 -n -Z root -w "$dir/cap-$name.pcap" \
		tcp 2>"$dir/tcpdump-$name.err" &
	TCPDUMPS+=("$!")
	wait_for "tcpdump on $iface" grep -q "listening on" "$dir/tcpdump-$name.err"
}

# CPU time of process $1 so far, in clock ticks (user + system).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# session_start CASE DIR: live httpeek (attached) and both recordings running; a failure
# ends the suite.
session_start() {
	local dir=$2
	mkdir -p "$dir"
	"$BIN" -v -e net_packet_http -O "$dir/live.jsonl" 2>"$dir/live.err" &
	HPID=$!
	TCPDUMPS=()
	if ! $CHECK wait-attached "$HPID" >/dev/null || ! start_tcpdump "$dir" veth "$VS" ||
		! start_tcpdump "$dir" lo lo; then
		tap_fail "$1 start" "httpeek or tcpdump did not start: $(tail -c 300 "$dir/live.err")"
		exit 1
	fi
	CPU0=$(cpu_ticks "$HPID")
}

# What tracing cost while the traffic ran: httpeek's CPU per 1000 messages it reported and
# the ring-buffer bytes per message (a line for make bench; not a check).
report_cost() {
	local dir=$1 ticks=$2 msgs bytes
	msgs=$(($(wc -l <"$dir/live.jsonl") / 2))
	bytes=$(sed -n 's/.*ring-buffer records (\([0-9]*\) bytes.*/\1/p' "$dir/live.err")
	awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v m="$msgs" -v b="${bytes:-0}" 'BEGIN {
		printf "#  cost: %d messages, httpeek CPU %.1f ms per 1000 messages, %.0f ring-buffer bytes per message\n",
			m, m ? t * 1000 / hz * 1000 / m : 0, m ? b / m : 0 }'
}

# session_stop CASE DIR [N]: stops the recordings and httpeek (SIGINT, it must exit 0), reads the
# recordings back and compares (N: the messages the recording must hold, for traffic that
# traffic.py did not send).
session_stop() {
	local name=$1 dir=$2 p rc f ticks
	sleep 1
	for p in "${TCPDUMPS[@]}"; do
		kill -INT "$p"
		wait "$p"
	done
	ticks=$(($(cpu_ticks "$HPID") - CPU0))
	kill -INT "$HPID"
	wait "$HPID"
	rc=$?
	report_cost "$dir" "$ticks"
	if [ "$rc" = 0 ]; then
		tap_ok "$name httpeek-exit"
	else
		tap_fail "$name httpeek-exit" "exit status $rc: $(tail -c 300 "$dir/live.err")"
	fi
	for f in "$dir"/cap-*.pcap; do
		p=$(basename "$f" .pcap)
		"$BIN" -r "$f" -e net_packet_http -O "$dir/rec-${p#cap-}.jsonl" 2>"$dir/rec-${p#cap-}.err"
		echo $? >"$dir/rec-${p#cap-}.rc"
	done
	python3 "$HERE/compare.py" "$name" "$dir" "${@:3}" || tap_failures=$((tap_failures + 1))
}

# traffic CASE DIR ARGS...: traffic.py ARGS over the veth pair and over loopback at once. It
# exits 1 when a connection failed (compare.py reports those); without its logs, fails here.
traffic() {
	local name=$1 dir=$2 veth lo
	shift 2
	ip netns exec "$NSC" timeout 120 python3 "$HERE/traffic.py" "$@" veth \
		"$dir/conns-veth.jsonl" &
	veth=$!
	ip netns exec "$NSS" timeout 120 python3 "$HERE/traffic.py" "$@" lo "$dir/conns-lo.jsonl" &
	lo=$!
	wait "$veth"
	wait "$lo"
	if [ ! -f "$dir/conns-veth.jsonl" ] || [ ! -f "$dir/conns-lo.jsonl" ]; then
		tap_fail "$name traffic" "traffic.py wrote no log"
	fi
}

# The bug report's cases: (a) three pipelined requests in one write, the third a HEAD of a
# missing page; (b) curl fetching four URLs over one connection, after a 201 'ok' (its heads
# as curl -v wrote them, its addresses as -w did, made into traffic.py's log).
regressions() {
	local dir=$TMP/regression-a url=http://$SRV4:$NGINX
	session_start regression-a "$dir"
	traffic regression-a "$dir" regression-a
	session_stop regression-a "$dir"
	dir=$TMP/regression-b
	session_start regression-b "$dir"
	inc curl -sSv -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		-w '%{local_ip} %{local_port} %{remote_ip} %{remote_port}\n' \
		"$url/api/p" "$url/missing" "$url/api/q" "$url/index.html" \
		>"$dir/curl.out" 2>"$dir/curl.err" || tap_fail "regression-b curl" "exit $?"
	python3 "$HERE/traffic.py" curl "$dir/curl.err" "$dir/curl.out" "$dir/conns-curl.jsonl"
	session_stop regression-b "$dir"
}

seeded() {
	local seed=$1 dir=$TMP/seed-$1
	session_start "seed $seed" "$dir"
	traffic "seed $seed" "$dir" random "$seed" "$SCALE"
	session_stop "seed $seed" "$dir"
}

# HTTP/2 (issue 21), over the veth pair and loopback: nghttp to nghttpd (60 streams at once,
# padded frames, each /index.html with a pushed /f100), curl to nginx with prior knowledge,
# curl --http2 to h2c_server.py (HTTP/1.1, 101, then h2c; a POST gets trailers), gRPC calls of
# every kind (a cancelled one ends in RST_STREAM). The recording must hold 60 x 4 + 20 x 2 on
# loopback, 2 for nginx, 3 for each Upgrade (request, 101, the HTTP/2 response) and 42 for 3
# rounds of 7 gRPC calls: 333.
h2_case() {
	local dir=$TMP/h2 url=http://$SRV4
	session_start h2 "$dir"
	inc nghttp -n -m 60 "$url:$NGHTTPD/index.html" >/dev/null
	inc curl -sS --http2-prior-knowledge -o /dev/null "$url:$NGINX_H2/f4500"
	inc curl -sS --http2 -o /dev/null "$url:$H2C/f1448"
	inc curl -sS --http2 -o /dev/null -d 'x=1' "$url:$H2C/post"
	inc /usr/bin/python3 "$ROOT/scripts/grpc-peer.py" client "$SRV4" "$GRPC" 3 >/dev/null
	ins nghttp -n -m 20 "http://127.0.0.1:$NGHTTPD/t.txt" >/dev/null
	ins curl -sS --http2 -o /dev/null "http://127.0.0.1:$H2C/index.html"
	session_stop h2 "$dir" 333
}

extremes() {
	local dir=$TMP/extremes
	session_start extremes "$dir"
	traffic extremes "$dir" extremes
	session_stop extremes "$dir"
}

if ! setup_net || ! { make_files && start_nginx && start_origin && start_h2_servers; }; then
	tap_fail set-up "namespaces, nginx, origin.py or the HTTP/2 servers"
	exit 1
fi
start=$SECONDS
regressions
h2_case
for seed in $SEEDS; do
	seeded "$seed"
done
if [ "$EXTREMES" = 1 ]; then
	extremes
else
	tap_skip extremes "DIFF_EXTREMES=$EXTREMES"
fi
tap_note "diff: $((SECONDS - start)) s"
[ "$tap_failures" -eq 0 ]
