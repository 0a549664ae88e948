#!/bin/bash
# Live filters (root): the real ./httpeek with and without filters while curl talks to two
# loopback servers on free ports. Checks that the kernel's share (port=) leaves fewer ring-buffer
# records, that comm=, pid=, uid= and direction= select the right events, and that --stats
# counts what the summary counts. Other HTTP on the host may show in the unfiltered instance:
# every count is of this run's connections, and every event a filtered instance wrote must match
# its filter. One TAP line per check (tests/tap.sh).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${HTTPEEK:-$ROOT/httpeek}
TAP_SUITE=filters-live
. "$ROOT/tests/tap.sh"
. "$HERE/lib.sh"
[ "$(id -u)" = 0 ] || { echo "filters-live: needs root" >&2; exit 1; }

TMP=$(mktemp -d /tmp/httpeek-lf.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { tap_ok "$1"; }
fail() { tap_fail "$1" "$2"; }

# serve N: a python HTTP server on a free port, ready once it says so; sets P<N> and S<N>.
serve() {
	local port
	port=$(free_port)
	python3 -u -m http.server "$port" --bind 127.0.0.1 >"$TMP/server$1.out" 2>&1 &
	PIDS+=($!)
	eval "P$1=$port S$1=$!"
	wait_file "$TMP/server$1.out" || { fail "server $1" "did not start"; exit 1; }
}
serve 1
serve 2

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
# Each instance is ready once attached and its privileges dropped.
for n in all port comm pid uid export; do
	eval "p=\$HP_$n"
	python3 "$HERE/check_live.py" wait-attached "$p" >/dev/null || fail "$n start" "not set up"
done
for i in $(seq 20); do
	curl -s -o /dev/null "http://127.0.0.1:$P1/a$i"
	curl -s -o /dev/null "http://127.0.0.1:$P2/b$i"
done
for n in all port comm pid uid export; do
	eval "kill -INT \$HP_$n; wait \$HP_$n" || fail "$n exit" "httpeek exited non-zero"
done

records() { sed -n 's/.* \([0-9]*\) ring-buffer records.*/\1/p' "$TMP/$1.err"; }
# count NAME EXPR: events of instance NAME for which the python EXPR holds (e: the event, a:
# its args by name, h: proto_http, ports: its two ports, ours: a connection of this run). A
# connection is this run's when the unfiltered instance saw one of its messages at one of our
# servers (by process id): other tests on the host may use our port numbers as their own
# client ports, in network namespaces of their own.
count() { python3 - "$TMP/$1.jsonl" "$2" "$TMP/all.jsonl" "$S1" "$S2" <<'PY'
import json, sys

def events(path):
    for line in open(path):
        e = json.loads(line)
        yield e, {x["name"]: x["value"] for x in e["args"]}

def conn(a):
    return frozenset([(a["src"], a["src_port"]), (a["dst"], a["dst_port"])])

servers = {int(sys.argv[4]), int(sys.argv[5])}
mine = {conn(a) for e, a in events(sys.argv[3]) if e["hostProcessId"] in servers}
n = 0
for e, a in events(sys.argv[1]):
    h = a["proto_http"]
    ports = (a["src_port"], a["dst_port"])
    ours = conn(a) in mine
    if eval(sys.argv[2]):
        n += 1
print(n)
PY
}

ra=$(records all)
rp=$(records port)
if [ -n "$ra" ] && [ -n "$rp" ] && [ "$rp" -gt 0 ] && [ "$rp" -lt "$ra" ]; then
	ok "port= in the kernel"
	tap_note "port= in the kernel: $rp records instead of $ra"
else
	fail "port= in the kernel" "records: all '$ra', port '$rp'"
fi
# 20 exchanges on each port, each message seen at both socket ends: 80 events per port.
t=$(count all "ours"); [ "$t" = 160 ] && ok "all events" || fail "all events" "$t of 160 on our ports"
t=$(count port "ours"); o=$(count port "$P1 not in ports")
[ "$t" = 80 ] && [ "$o" = 0 ] && ok "port= events" || fail "port= events" "$t of ours, $o not on $P1"
t=$(count comm "not (e['processName'] == 'curl' and a['metadata']['direction'] == 2)")
c=$(count comm "ours and h['direction'] == 'request'")
o=$(count comm "ours and h['direction'] != 'request'")
[ "$t" = 0 ] && [ "$c" = 40 ] && [ "$o" = 0 ] && ok "comm= direction= events" ||
	fail "comm= direction=" "$t events not curl egress, $c curl requests on our ports, $o others"
t=$(count pid "e['hostProcessId'] != $S2"); c=$(count pid "ours")
[ "$t" = 0 ] && [ "$c" = 40 ] && ok "pid= events" || fail "pid= events" "$t of another process, $c of the server"
t=$(count uid "ours"); o=$(count uid "e['userId'] != 0 or $P2 not in ports")
[ "$t" = 80 ] && [ "$o" = 0 ] && ok "uid= events" || fail "uid= events" "$t of 80 ours, $o not uid 0 on $P2"
# (on failure check_live.py says why, in a line of its own)
python3 "$HERE/check_live.py" stats "$TMP/all.err" && ok "--stats equals the summary"
grep -q "filtered out" "$TMP/port.err" && ok "summary filtered count" || fail "summary" "$(cat "$TMP/port.err")"
# -w live: curl's request at egress (p2p_dir 0, sent) and its response at ingress (1, received),
# raw IP that tshark parses, with the process in the comment
rows=$(tshark -r "$TMP/x.pcapng" -T fields -e frame.comment -e frame.p2p_dir -e http.request.method \
	2>/dev/null)
nreq=$(grep -c "^net_packet_http GET /a[0-9]* comm=curl pid=[0-9]*	0	GET$" <<<"$rows")
nresp=$(grep -c "^net_packet_http 404 File not found comm=curl pid=[0-9]*	1	$" <<<"$rows")
[ "$nreq" = 20 ] && [ "$nresp" = 20 ] && ok "live export with process comments" ||
	fail "live export" "$nreq requests, $nresp responses: $(head -3 <<<"$rows")"
[ "$tap_failures" = 0 ]
