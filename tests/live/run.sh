#!/bin/bash
# Live end-to-end test (root): two network namespaces joined by a veth pair, nginx and small
# python servers in one, curl and python clients in the other, the real ./httpeek in the root
# namespace. check_live.py asserts the exact events. Prints "live: <name> ok" per check.
# (The programs on canned packets: prog_test_run.c, make test-bpf.)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${HTTPEEK:-$ROOT/httpeek}
CHECK="python3 $HERE/check_live.py"

if [ "$(id -u)" != 0 ]; then
	echo "live: needs root" >&2
	exit 1
fi
for tool in ip nginx curl python3 bpftool unshare wrk; do
	command -v "$tool" >/dev/null || { echo "live: missing $tool" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/httpeek-live.XXXXXX)
chmod 755 "$TMP"
NSC=hpk-c-$$
NSS=hpk-s-$$
QUICK_CLIENTS=100
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	[ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true
	sleep 0.2
	ip netns del "$NSC" 2>/dev/null || true
	ip netns del "$NSS" 2>/dev/null || true
	rm -rf "$TMP"
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
	inc ip addr add 10.200.0.1/24 dev "hc$$"
	ins ip addr add 10.200.0.2/24 dev "hs$$"
	inc ip -6 addr add fd00:200::1/64 dev "hc$$" nodad
	ins ip -6 addr add fd00:200::2/64 dev "hs$$" nodad
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
		location = /bighdr { add_header X-Big "$big"; return 200 "big\n"; }
		location / { return 200 "ok\n"; }
	}
}
EOF
	ins nginx -e "$TMP/error.log" -c "$TMP/nginx.conf" -p "$TMP/"
	for _ in $(seq 50); do
		[ -s "$TMP/nginx.pid" ] && break
		sleep 0.1
	done
	echo "nginx $(cat "$TMP/nginx.pid")" >>"$TMP/cases"
}

# Starts the python helper servers in the server namespace: accept-late HTTP, non-HTTP echo,
# and one that answers pipelined requests in one send().
start_helpers() {
	ip netns exec "$NSS" python3 "$HERE/servers.py" late-http 8090 >/dev/null 2>&1 &
	PIDS+=($!)
	echo "late_server $!" >>"$TMP/cases"
	ip netns exec "$NSS" python3 "$HERE/servers.py" echo 9000 >/dev/null 2>&1 &
	PIDS+=($!)
	ip netns exec "$NSS" python3 "$HERE/servers.py" pipe-http 8091 >/dev/null 2>&1 &
	PIDS+=($!)
	echo "pipe_server $!" >>"$TMP/cases"
	sleep 0.5
}

# start_httpeek EVENTS STDERR [OPTION...]
start_httpeek() {
	local before
	before=$($CHECK prog-ids)
	"$BIN" -O "$1" "${@:3}" 2>"$2" &
	HPID=$!
	PIDS+=($HPID)
	$CHECK wait-attached "$before" >"$TMP/ids.$HPID"
}

# Runs one client in the client namespace; records its pid under the case name.
client() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$@" >>"$TMP/client.out" 2>&1 &
	local pid=$!
	wait "$pid" || { echo "live: client $name failed" >&2; exit 1; }
	echo "$name $pid" >>"$TMP/cases"
}

run_clients() {
	local long
	long=$(head -c 4000 /dev/zero | tr '\0' 'l')
	client curl4 "$NSC" curl -sS http://10.200.0.2/c4
	client curl6 "$NSC" curl -sS "http://[fd00:200::2]/c6"
	client py4 "$NSC" python3 "$HERE/clients.py" get 10.200.0.2 80 /p4
	client py6 "$NSC" python3 "$HERE/clients.py" get fd00:200::2 80 /p6
	client longreq "$NSC" curl -sS -H "X-Long: $long" http://10.200.0.2/longreq
	client bighdr "$NSC" curl -sS http://10.200.0.2/bighdr
	client pipe "$NSC" python3 "$HERE/clients.py" pipeline 10.200.0.2 80 /pipe1 /pipe2 /pipe3
	client port8081 "$NSC" curl -sS http://10.200.0.2:8081/port8081
	client patch "$NSC" curl -sS -X PATCH -d x=1 http://10.200.0.2/patch
	client options "$NSC" curl -sS -X OPTIONS http://10.200.0.2/options
	client head "$NSC" curl -sS -I http://10.200.0.2/head
	client nonhttp "$NSC" python3 "$HERE/clients.py" binary 10.200.0.2 9000
	client loop "$NSS" curl -sS http://127.0.0.1/loop
	# Loopback copies made once for both ends (docs/LIVE.md): requests after the first on a
	# connection, responses, pipelined responses in one send(), IPv4 and IPv6.
	client loopkeep "$NSS" python3 "$HERE/clients.py" keepalive 127.0.0.1 80 /lk1 /lk2 /lk3
	client loop6keep "$NSS" python3 "$HERE/clients.py" keepalive ::1 80 /l6k1 /l6k2
	client looppipe "$NSS" python3 "$HERE/clients.py" pipeline 127.0.0.1 8091 /lp1 /lp2 /lp3
	# One socket used by a process, then by its forked child, then by the process again.
	client handoff "$NSC" python3 "$HERE/clients.py" handoff 10.200.0.2 80 "$TMP/child.pid" \
		/ho1 /ho2 /ho3
	echo "handoff_child $(cat "$TMP/child.pid")" >>"$TMP/cases"
	client accept "$NSC" curl -sS http://10.200.0.2:8090/accept
	client pidns "$NSC" unshare --pid --fork --mount-proc curl -sS http://10.200.0.2/pidns
	client pipesrv "$NSC" python3 "$HERE/clients.py" pipeline 10.200.0.2 8091 /ps1 /ps2 /ps3
	client postpipe "$NSC" python3 "$HERE/clients.py" post-pipeline 10.200.0.2 8091 \
		/post1 /post2
	# Clients that exit at once: their interface is named all the same (pktmeta).
	for i in $(seq "$QUICK_CLIENTS"); do
		inc curl -sS -o /dev/null "http://10.200.0.2:8082/quick$i"
	done
}

# stop_httpeek [PID]: SIGINT, then httpeek must exit 0.
stop_httpeek() {
	local pid=${1:-$HPID}
	kill -INT "$pid"
	wait "$pid" || { echo "live: httpeek $pid exited with $?" >&2; cat "$TMP"/*err* >&2; exit 1; }
}

# The kernel filter: a second instance that keeps only port 8081 runs beside the main one.
filter_supported() {
	"$BIN" --help 2>&1 | grep -q -- '-f, '
}

start_filtered() {
	local main=$HPID
	FPID=
	filter_supported || return 0
	start_httpeek "$TMP/filtered.jsonl" "$TMP/filtered.err" -v -f port=8081
	FPID=$HPID
	HPID=$main
}

stop_filtered() {
	if [ -n "$FPID" ]; then
		stop_httpeek "$FPID"
		$CHECK filtered "$TMP/filtered.jsonl" "$TMP/filtered.err" "$TMP/main.err"
	else
		echo "live: kernel-filter SKIPPED: $BIN has no -f option"
	fi
}

# A 4 KiB ring buffer under a burst: drops are counted, httpeek keeps working and exits 0.
ringbuf_burst() {
	start_httpeek "$TMP/burst.jsonl" "$TMP/burst.err" --ringbuf 4096
	inc wrk -t2 -c32 -d1s http://10.200.0.2/burst >/dev/null
	sleep 0.5
	for i in 1 2 3; do
		client "after$i" "$NSC" curl -sS "http://10.200.0.2/after$i"
		sleep 0.2
	done
	sleep 0.5
	stop_httpeek
	$CHECK burst "$TMP/burst.jsonl" "$TMP/burst.err"
}

setup_net
start_nginx
start_helpers
start_httpeek "$TMP/events.jsonl" "$TMP/main.err" -v -e all
start_filtered
$CHECK caps "$HPID"
run_clients
sleep 1
stop_httpeek
stop_filtered
$CHECK events "$TMP/events.jsonl" "$TMP/cases" "$TMP/main.err" "hc$$" "hs$$" "$QUICK_CLIENTS"
ringbuf_burst

# After SIGKILL nothing of httpeek stays in the kernel: its links go with its descriptors.
start_httpeek "$TMP/events2.jsonl" "$TMP/kill.err"
kill -9 "$HPID"
wait "$HPID" 2>/dev/null || true
$CHECK gone "$TMP/ids.$HPID"
