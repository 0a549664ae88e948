#!/bin/bash
# Live filters (root): the real ./httpeek with and without filters while curl talks to two
# loopback servers. Checks that the kernel's share (port=) leaves fewer ring-buffer records,
# that comm=, pid=, uid= and direction= select the right events, and --stats prints counters.
# Prints "filters-live: <name> ok" or FAIL per check.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${HTTPEEK:-$ROOT/httpeek}
[ "$(id -u)" = 0 ] || { echo "filters-live: needs root" >&2; exit 1; }

TMP=$(mktemp -d /tmp/httpeek-lf.XXXXXX)
P1=$((21000 + $$ % 10000))
P2=$((P1 + 1))
PIDS=()
fails=0
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "filters-live: $1 ok"; }
fail() { echo "filters-live: $1 FAIL: $2"; fails=$((fails + 1)); }

python3 -m http.server "$P1" --bind 127.0.0.1 >/dev/null 2>&1 &
S1=$!
python3 -m http.server "$P2" --bind 127.0.0.1 >/dev/null 2>&1 &
S2=$!
PIDS+=("$S1" "$S2")
sleep 1

start() {  # name, args...
	local name=$1
	shift
	"$BIN" -e net_packet_http "$@" -O "$TMP/$name.jsonl" 2>"$TMP/$name.err" &
	PIDS+=($!)
	eval "HP_$name=$!"
}
start all --stats 1
start port -f "port=$P1"
start comm -f comm=curl -f direction=egress
start pid -f "pid=$S2"
start uid -f uid=0 -f "port=$P2"
start export -f "port=$P1" -f comm=curl -w "$TMP/x.pcapng"
# Each instance is ready once attached and its privileges dropped (no_new_privs set).
for n in all port comm pid uid export; do
	eval "p=\$HP_$n"
	for _ in $(seq 200); do
		grep -q "NoNewPrivs:.1" "/proc/$p/status" 2>/dev/null && break
		sleep 0.1
	done
done
for i in $(seq 20); do
	curl -s -o /dev/null "http://127.0.0.1:$P1/a$i"
	curl -s -o /dev/null "http://127.0.0.1:$P2/b$i"
done
sleep 2.2
for n in all port comm pid uid export; do
	eval "kill -INT \$HP_$n; wait \$HP_$n" || fail "$n exit" "httpeek exited non-zero"
done

records() { sed -n 's/.* \([0-9]*\) ring-buffer records.*/\1/p' "$TMP/$1.err"; }
count() { python3 - "$TMP/$1.jsonl" "$2" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    a = {x["name"]: x["value"] for x in e["args"]}
    h = a["proto_http"]
    if eval(sys.argv[2]):
        n += 1
print(n)
PY
}

ra=$(records all)
rp=$(records port)
if [ -n "$ra" ] && [ -n "$rp" ] && [ "$rp" -gt 0 ] && [ "$rp" -lt "$ra" ]; then
	ok "port= in the kernel: $rp records instead of $ra"
else
	fail "port= in the kernel" "records: all '$ra', port '$rp'"
fi
# 20 exchanges on each port, each message seen at both socket ends: 80 events per port
t=$(count all "True"); [ "$t" = 160 ] && ok "all events" || fail "all events" "$t of 160"
t=$(count port "True"); p=$(count port "$P1 in (a['src_port'], a['dst_port'])")
[ "$t" = 80 ] && [ "$p" = 80 ] && ok "port= events" || fail "port= events" "$t events, $p on $P1"
t=$(count comm "True")
c=$(count comm "e['processName'] == 'curl' and a['metadata']['direction'] == 2 and h['direction'] == 'request'")
[ "$t" = 40 ] && [ "$c" = 40 ] && ok "comm= direction= events" || fail "comm= direction=" "$t events, $c curl egress requests"
t=$(count pid "True"); c=$(count pid "e['hostProcessId'] == $S2 and $P2 in (a['src_port'], a['dst_port'])")
[ "$t" = 40 ] && [ "$c" = 40 ] && ok "pid= events" || fail "pid= events" "$t events, $c of the server"
t=$(count uid "True")
[ "$t" = 80 ] && ok "uid= events" || fail "uid= events" "$t of 80"
n=$(grep -c '^httpeek: stats: [0-9]* records, [0-9]* packets, [0-9]* messages, [0-9]* events, 0 filtered, [0-9]* kernel drops' "$TMP/all.err")
[ "$n" -ge 2 ] && ok "--stats lines ($n)" || fail "--stats" "$n lines: $(head -2 "$TMP/all.err")"
grep -q "filtered out" "$TMP/port.err" && ok "summary filtered count" || fail "summary" "$(cat "$TMP/port.err")"
# -w live: curl's request at egress (p2p_dir 0, sent) and its response at ingress (1, received),
# raw IP that tshark parses, with the process in the comment
rows=$(tshark -r "$TMP/x.pcapng" -T fields -e frame.comment -e frame.p2p_dir -e http.request.method \
	2>/dev/null)
nreq=$(grep -c "^net_packet_http GET /a[0-9]* comm=curl pid=[0-9]*	0	GET$" <<<"$rows")
nresp=$(grep -c "^net_packet_http 404 File not found comm=curl pid=[0-9]*	1	$" <<<"$rows")
[ "$nreq" = 20 ] && [ "$nresp" = 20 ] && ok "live export with process comments" ||
	fail "live export" "$nreq requests, $nresp responses: $(head -3 <<<"$rows")"
[ "$fails" = 0 ]
