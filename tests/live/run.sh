#!/bin/bash
# Live end-to-end test (root): two network namespaces joined by a veth pair, nginx and small
# python servers in one, curl and python clients in the other, the real ./httpeek in the root
# namespace. check_live.py asserts the exact events. One TAP line per check (tests/tap.sh).
# Apart from its neighbours: addresses and loopback ports of its own (lib.sh), readiness by
# signals (nginx's pid file, the servers' "listening" line, httpeek's NoNewPrivs), the end of
# the traffic by no connection left open. (The programs on canned packets: make test-bpf.)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${HTTPEEK:-$ROOT/httpeek}
CHECK="python3 $HERE/check_live.py"
TAP_SUITE=live
. "$ROOT/tests/tap.sh"
. "$HERE/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "live: needs root" >&2
	exit 1
fi
for tool in ip nginx curl python3 tcpdump unshare wrk ss; do
	command -v "$tool" >/dev/null || { echo "live: missing $tool" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/httpeek-live.XXXXXX)
chmod 755 "$TMP"
NSC=hpk-c-$$
NSS=hpk-s-$$
QUICK_CLIENTS=100
PIDS=()
# Ports of the server namespace: loopback (nginx) and the pipelining server have ports of
# this run, so that a neighbour's loopback traffic is never taken for ours.
LPORT=$((20000 + $$ % 20000))
PPORT=$((LPORT + 1))
export LIVE_C4=$V4_C LIVE_S4=$V4_S LIVE_C6=$V6_C LIVE_S6=$V6_S LIVE_LPORT=$LPORT
export LIVE_PPORT=$PPORT

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	[ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true
	sleep 0.2
	ip netns del "$NSC" 2>/dev/null || true
	ip netns del "$NSS" 2>/dev/null || true
	[ -n "${LIVE_KEEP:-}" ] && echo "# kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

inc() { ip netns exec "$NSC" "$@"; }
ins() { ip netns exec "$NSS" "$@"; }

setup_net() {
	ip netns add "$NSC"
	ip netns add "$NSS"
	ip link add "hc$$" type veth peer name "hs$$"
	ip link set "hc$$" netns "$NSC"
	ip link set "hs$$" netns "$NSS"
	inc ip link set lo up
	ins ip link set lo up
	inc ip link set "hc$$" mtu 1500 up
	ins ip link set "hs$$" mtu 1500 up
	inc ip addr add "$V4_C/24" dev "hc$$"
	ins ip addr add "$V4_S/24" dev "hs$$"
	inc ip -6 addr add "$V6_C/64" dev "hc$$" nodad
	ins ip -6 addr add "$V6_S/64" dev "hs$$" nodad
}

start_nginx() {
	local big
	big=$(head -c 3000 /dev/zero | tr '\0' 'b')
	mkdir -p "$TMP/tmp"
	cat >"$TMP/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $TMP/tmp;
	large_client_header_buffers 4 16k;
	server {
		listen 80;
		listen [::]:80;
		listen 8081;
		listen 8082;
		listen 127.0.0.1:$LPORT;
		listen [::1]:$LPORT;
		location = /bighdr { add_header X-Big "$big"; return 200 "big\n"; }
		location / { return 200 "ok\n"; }
	}
}
EOF
	ins nginx -e "$TMP/error.log" -c "$TMP/nginx.conf" -p "$TMP/"
	# nginx writes its pid file once its sockets listen.
	wait_file "$TMP/nginx.pid" || { echo "live: nginx did not start" >&2; exit 1; }
	echo "nginx $(cat "$TMP/nginx.pid")" >>"$TMP/cases"
}

# helper NAME KIND PORT: a servers.py server in the server namespace, ready when it says so.
helper() {
	ip netns exec "$NSS" python3 "$HERE/servers.py" "$2" "$3" >"$TMP/$1.out" 2>&1 &
	PIDS+=($!)
	echo "$1 $!" >>"$TMP/cases"
	wait_file "$TMP/$1.out" || { echo "live: $1 did not start" >&2; exit 1; }
}

# Accept-late HTTP, non-HTTP echo, pipelined answers in one send(), IPv6 extension headers.
start_helpers() {
	helper late_server late-http 8090
	helper echo_server echo 9000
	helper pipe_server pipe-http "$PPORT"
	helper ext6_server ext6-http 8092
}

# start_httpeek EVENTS STDERR [OPTION...]: ready once set up (its own programs linked, its
# privileges dropped).
start_httpeek() {
	"$BIN" -O "$1" "${@:3}" 2>"$2" &
	HPID=$!
	PIDS+=($HPID)
	$CHECK wait-attached "$HPID" >"$TMP/ids.$HPID" ||
		{ tap_fail "start $*" "$(tail -c 300 "$2")"; exit 1; }
}

# Runs one client in a namespace; records its pid under the case name.
client() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" >>"$TMP/client.out" 2>&1 &
	local pid=$!
	wait "$pid" || { tap_fail "client $name" "exited with $?: $(tail -c 300 "$TMP/client.out")"; exit 1; }
	echo "$name $pid" >>"$TMP/cases"
}

# Waits until no TCP connection is left open in the two namespaces: every exchange is over.
wait_quiet() {
	local _
	for _ in $(seq 100); do
		[ -z "$(inc ss -Htn state established)$(ins ss -Htn state established)" ] && return 0
		sleep 0.05
	done
	tap_note "connections still open after 5 s"
}

run_clients() {
	local long s4=$V4_S s6=$V6_S
	long=$(head -c 4000 /dev/zero | tr '\0' 'l')
	client curl4 "$NSC" curl -sS "http://$s4/c4"
	client curl6 "$NSC" curl -sS "http://[$s6]/c6"
	client py4 "$NSC" python3 "$HERE/clients.py" get "$s4" 80 /p4
	client py6 "$NSC" python3 "$HERE/clients.py" get "$s6" 80 /p6
	client ext6 "$NSC" python3 "$HERE/clients.py" ext6 "$s6" 8092 /ext6
	client longreq "$NSC" curl -sS -H "X-Long: $long" "http://$s4/longreq"
	client bighdr "$NSC" curl -sS "http://$s4/bighdr"
	client pipe "$NSC" python3 "$HERE/clients.py" pipeline "$s4" 80 /pipe1 /pipe2 /pipe3
	client port8081 "$NSC" curl -sS "http://$s4:8081/port8081"
	client patch "$NSC" curl -sS -X PATCH -d x=1 "http://$s4/patch"
	client options "$NSC" curl -sS -X OPTIONS "http://$s4/options"
	client head "$NSC" curl -sS -I "http://$s4/head"
	client nonhttp "$NSC" python3 "$HERE/clients.py" binary "$s4" 9000
	client loop "$NSS" curl -sS "http://127.0.0.1:$LPORT/loop"
	# Loopback copies made once for both ends (docs/LIVE.md): requests after the first on a
	# connection, responses, pipelined responses in one send(), IPv4 and IPv6.
	client loopkeep "$NSS" python3 "$HERE/clients.py" keepalive 127.0.0.1 "$LPORT" /lk1 /lk2 /lk3
	client loop6keep "$NSS" python3 "$HERE/clients.py" keepalive ::1 "$LPORT" /l6k1 /l6k2
	client looppipe "$NSS" python3 "$HERE/clients.py" pipeline 127.0.0.1 "$PPORT" /lp1 /lp2 /lp3
	# One socket used by a process, then by its forked child, then by the process again.
	client handoff "$NSC" python3 "$HERE/clients.py" handoff "$s4" 80 "$TMP/child.pid" \
		/ho1 /ho2 /ho3
	echo "handoff_child $(cat "$TMP/child.pid")" >>"$TMP/cases"
	client accept "$NSC" curl -sS "http://$s4:8090/accept"
	client pidns "$NSC" unshare --pid --fork --mount-proc curl -sS "http://$s4/pidns"
	client pipesrv "$NSC" python3 "$HERE/clients.py" pipeline "$s4" "$PPORT" /ps1 /ps2 /ps3
	client postpipe "$NSC" python3 "$HERE/clients.py" post-pipeline "$s4" "$PPORT" \
		/post1 /post2
	# Clients that exit at once: their interface is named all the same (pktmeta).
	for i in $(seq "$QUICK_CLIENTS"); do
		inc curl -sS -o /dev/null "http://$s4:8082/quick$i"
	done
	wait_quiet
}

# stop_httpeek [PID [SIGNAL]]: SIGINT (or SIGNAL), then httpeek must exit 0.
stop_httpeek() {
	local pid=${1:-$HPID} rc=0
	kill "-${2:-INT}" "$pid"
	wait "$pid" || rc=$?
	if [ "$rc" != 0 ]; then
		tap_fail "httpeek $pid exit" "status $rc: $(tail -c 300 "$TMP"/*.err)"
		exit 1
	fi
}

# record NAME NS IFACE TO: records all of IFACE (a "tcp" filter would miss IPv6 with extension
# headers) of a namespace to $TMP/NAME.pcap until stop_tcpdumps, which ends it once a marker
# sent to address TO is in the file.
RECORDS=()
record() {
	ip netns exec "$2" tcpdump -i "$3" -s 0 -B 8192 -n -U --immediate-mode -Z root \
		-w "$TMP/$1.pcap" 2>"$TMP/$1.tcpdump" &
	PIDS+=($!)
	RECORDS+=("$! $1 $2 $4")
	local _
	for _ in $(seq 100); do
		grep -qs "listening on" "$TMP/$1.tcpdump" && return 0
		sleep 0.05
	done
	tap_fail "tcpdump $1" "did not start: $(cat "$TMP/$1.tcpdump")"
	exit 1
}

stop_tcpdumps() {
	local r pid name ns to _
	for r in "${RECORDS[@]}"; do
		read -r pid name ns to <<<"$r"
		ip netns exec "$ns" python3 -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"httpeek-live-end", (sys.argv[1], 9))' "$to"
		for _ in $(seq 100); do
			grep -qa httpeek-live-end "$TMP/$name.pcap" && break
			sleep 0.05
		done
		kill -INT "$pid"
		wait "$pid" || true
		grep -qa httpeek-live-end "$TMP/$name.pcap" || tap_fail "tcpdump $name" "the end marker is not in the recording"
	done
	RECORDS=()
}

# The kernel filter: a second instance that keeps only port 8081 runs beside the main one.
start_filtered() {
	local main=$HPID
	start_httpeek "$TMP/filtered.jsonl" "$TMP/filtered.err" -v -f port=8081
	FPID=$HPID
	HPID=$main
}

stop_filtered() {
	stop_httpeek "$FPID"
	$CHECK filtered "$TMP/filtered.jsonl" "$TMP/filtered.err" "$TMP/main.err"
}

# A 4 KiB ring buffer filtered to this run's addresses, its reader stopped (SIGSTOP) under a
# burst: drops happen whatever the machine's speed; they are counted, and once the reader goes
# on, the requests after the burst are reported.
ringbuf_burst() {
	start_httpeek "$TMP/burst.jsonl" "$TMP/burst.err" --ringbuf 4096 -f "src=$NET4.0/24"
	kill -STOP "$HPID"
	inc wrk -t2 -c8 -d1s "http://$V4_S/burst" >/dev/null
	kill -CONT "$HPID"
	wait_quiet
	for i in 1 2 3; do
		client "after$i" "$NSC" curl -sS "http://$V4_S/after$i"
	done
	wait_quiet
	stop_httpeek
	$CHECK burst "$TMP/burst.jsonl" "$TMP/burst.err"
}

setup_net
start_nginx
start_helpers
start_httpeek "$TMP/events.jsonl" "$TMP/main.err" -v -e all
start_filtered
$CHECK caps "$HPID"
record veth "$NSS" "hs$$" "$V4_C"
record lo "$NSS" lo 127.0.0.1
run_clients
stop_tcpdumps
stop_httpeek "$HPID" TERM  # what systemd and Kubernetes send: the summary (checked) must come
stop_filtered
for r in veth lo; do
	"$BIN" -r "$TMP/$r.pcap" -e all -O "$TMP/rec-$r.jsonl" 2>"$TMP/rec-$r.err" ||
		tap_fail "httpeek -r $r.pcap" "$(tail -c 300 "$TMP/rec-$r.err")"
done
$CHECK events "$TMP/events.jsonl" "$TMP/cases" "$TMP/main.err" "hc$$" "hs$$" "$QUICK_CLIENTS" \
	"$TMP/rec-veth.jsonl" "$TMP/rec-lo.jsonl"
ringbuf_burst

# After SIGKILL nothing of httpeek stays in the kernel: its links go with its descriptors.
start_httpeek "$TMP/events2.jsonl" "$TMP/kill.err"
kill -9 "$HPID"
wait "$HPID" 2>/dev/null || true
$CHECK gone "$TMP/ids.$HPID"
[ "$tap_failures" = 0 ]
