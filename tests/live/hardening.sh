#!/bin/bash
# Live hardening checks (root; issue 16): --cgroup on something that is not a cgroup v2
# directory, a failed start that must leave existing output files alone, a request line inside
# a chunked body (never an event), write errors on full file systems told at once and counted,
# a flood of unterminated heads held under the memory limit, and httpeek started under the
# systemd unit's capability bounding set ending as nobody with no capability. The real
# ./httpeek (HTTPEEK selects another) in the root namespace, nginx and python servers in
# network namespaces.
# One TAP line per check (tests/tap.sh); every check runs whatever the others gave.
# Arguments name the checks to run (cgroup, failed_start, chunked_spoof, write_errors, flood,
# unit_caps); none runs them all.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${HTTPEEK:-$ROOT/httpeek}
CHECK="python3 $HERE/check_live.py"

if [ "$(id -u)" != 0 ]; then
	echo "hardening: needs root" >&2
	exit 1
fi
for tool in ip nginx wrk python3 bpftool mount setpriv; do
	command -v "$tool" >/dev/null || { echo "hardening: missing $tool" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/httpeek-hardening.XXXXXX)
chmod 755 "$TMP"
NSC=hph-c-$$
NSS=hph-s-$$
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	[ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true
	# Whatever still runs in the namespaces (it would hold the caller's lock file open).
	for ns in "$NSC" "$NSS"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	sleep 0.2
	for m in "$TMP"/small*; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	ip netns del "$NSC" 2>/dev/null || true
	ip netns del "$NSS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

TAP_SUITE=hardening
. "$ROOT/tests/tap.sh"
. "$HERE/lib.sh"
ok() {
	tap_ok "$1"
	[ -z "${2:-}" ] || tap_note "$1: $2"
}
fail() { tap_fail "$@"; }
inc() { ip netns exec "$NSC" "$@"; }
ins() { ip netns exec "$NSS" "$@"; }

setup_net() {
	ip netns add "$NSC"
	ip netns add "$NSS"
	ip link add "kc$$" type veth peer name "ks$$"
	ip link set "kc$$" netns "$NSC"
	ip link set "ks$$" netns "$NSS"
	inc ip link set lo up
	ins ip link set lo up
	inc ip link set "kc$$" up
	ins ip link set "ks$$" up
	inc ip addr add "$V4_C/24" dev "kc$$"
	ins ip addr add "$V4_S/24" dev "ks$$"
}

start_nginx() {
	mkdir -p "$TMP/tmp"
	cat >"$TMP/nginx.conf" <<NGINX
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $TMP/tmp;
	server {
		listen 80;
		location / { return 200 "ok\n"; }
	}
}
NGINX
	ins nginx -e "$TMP/error.log" -c "$TMP/nginx.conf" -p "$TMP/"
	for _ in $(seq 50); do
		[ -s "$TMP/nginx.pid" ] && break
		sleep 0.1
	done
}

# start_httpeek STDERR ARG...: live httpeek in the background, attached when this returns.
start_httpeek() {
	local err=$1
	shift
	"$BIN" "$@" 2>"$err" &
	HPID=$!
	PIDS+=($HPID)
	$CHECK wait-attached "$HPID" >/dev/null || fail attach "httpeek $* did not attach"
}

stop_httpeek() {
	kill -INT "$HPID" 2>/dev/null
	wait "$HPID"
	RC=$?
}

# wait_for FILE TEXT SECONDS: TEXT appears in FILE while httpeek still runs.
wait_for() {
	for _ in $(seq $(($3 * 10))); do
		grep -qF -- "$2" "$1" && kill -0 "$HPID" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

check_cgroup() {
	local v1 err
	err=$("$BIN" --cgroup /etc -O "$TMP/x.jsonl" 2>&1 >/dev/null)
	if [ $? = 1 ] && [ "$(echo "$err" | wc -l)" = 1 ] &&
		echo "$err" | grep -q "/etc: not a cgroup v2 directory"; then
		ok cgroup-not-v2 "$err"
	else
		fail cgroup-not-v2 "$err"
	fi
	v1=$(awk '$3 == "cgroup" { print $2; exit }' /proc/mounts)
	if [ -n "$v1" ]; then
		err=$("$BIN" --cgroup "$v1" -O "$TMP/x.jsonl" 2>&1 >/dev/null)
		if [ $? = 1 ] && echo "$err" | grep -q "not a cgroup v2 directory"; then
			ok cgroup-v1 "$v1"
		else
			fail cgroup-v1 "$v1: $err"
		fi
	fi
}

check_failed_start() {
	echo "yesterday" >"$TMP/keep.jsonl"
	echo "yesterday" >"$TMP/keep.pcapng"
	"$BIN" --cgroup /bogus -O "$TMP/keep.jsonl" -w "$TMP/keep.pcapng" 2>/dev/null
	if echo yesterday | cmp -s - "$TMP/keep.jsonl" && echo yesterday | cmp -s - "$TMP/keep.pcapng"; then
		ok failed-start-keeps-files
	else
		fail failed-start-keeps-files "-O or -w emptied by a start that failed"
	fi
}

# A POST whose chunk data, in a segment of its own, begins with a request line.
check_chunked_spoof() {
	start_httpeek "$TMP/spoof.err" -e all -O "$TMP/spoof.jsonl"
	inc python3 "$HERE/clients.py" chunked-spoof "$V4_S" 80 /upload ||
		fail chunked-spoof "client failed"
	sleep 1
	stop_httpeek
	python3 - "$TMP/spoof.jsonl" "$V4_C" "$V4_S" <<'PY' && ok chunked-spoof "POST and GET /after at both ends, no SPOOFED event" || fail chunked-spoof "$(tail -c 300 "$TMP/spoof.err")"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
http = [e for e in evs if e["eventName"] == "net_packet_http"]
args = lambda e: {a["name"]: a["value"] for a in e["args"]}
ours = [args(e)["proto_http"] for e in http if args(e)["dst"] in sys.argv[2:4]]
spoofed = [l for l in open(sys.argv[1]) if "SPOOFED" in l]
reqs = [(h["method"], h["uri_path"]) for h in ours if h["direction"] == "request"]
resps = [h for h in ours if h["direction"] == "response" and h["status_code"] == 200]
print(f"# hardening: chunked-spoof: requests {reqs}, {len(resps)} responses, "
      f"{len(spoofed)} lines with SPOOFED")
want = [("POST", "/upload"), ("GET", "/after")]
ok = sorted(reqs) == sorted(want * 2) and len(resps) == 4 and not spoofed
sys.exit(0 if ok else 1)
PY
}

# summary_count STDERR WHAT: "N M" from the summary's "N WHAT (M not written)".
summary_count() {
	grep '^httpeek: [0-9]* packets' "$1" | tail -1 | python3 -c 'import re,sys; m = re.search(r"(\d+) '"$2"'( \((\d+) not written\))?", sys.stdin.read()); print(m.group(1) if m else -1, (m.group(3) or 0) if m else -1)'
}

# -O and -w on full file systems, standard output on /dev/full, under load.
check_write_errors() {
	local ev p n lines written lost exported plost
	mkdir "$TMP/small1" "$TMP/small2"
	mount -t tmpfs -o size=1m tmpfs "$TMP/small1"
	mount -t tmpfs -o size=1m tmpfs "$TMP/small2"
	ev=$TMP/small1/ev.jsonl
	p=$TMP/small2/p.pcapng
	start_httpeek "$TMP/full.err" -e all --stats 1 -O "$ev" -w "$p"
	inc wrk -t2 -c16 -d3s "http://$V4_S/load" >/dev/null 2>&1 &
	load=$!
	if wait_for "$TMP/full.err" "failed to write events to $ev: No space left on device" 8 &&
		wait_for "$TMP/full.err" "failed to write packets to $p: No space left on device" 8; then
		ok full-disk-told-at-once "while tracing: $(grep -c 'failed to write' "$TMP/full.err") lines"
	else
		fail full-disk-told-at-once "$(grep -v stats: "$TMP/full.err" | tail -c 300)"
	fi
	wait "$load"
	stop_httpeek
	n=$(grep -c "failed to write" "$TMP/full.err")
	read -r written lost < <(summary_count "$TMP/full.err" events)
	read -r exported plost < <(summary_count "$TMP/full.err" "packets exported")
	lines=$(wc -l <"$ev")
	if [ "$RC" = 1 ] && [ "$n" = 2 ] && [ "$lines" = "$written" ] && [ "$lost" -gt 0 ] &&
		[ "$plost" -gt 0 ] && python3 "$HERE/../offline/hostile/check_outputs.py" --count "$p" "$exported"; then
		ok full-disk-counted "$written events written, $lost not; $exported packets, $plost not"
	else
		fail full-disk-counted "rc $RC, $n error lines, file $lines lines, summary $written/$lost, packets $exported/$plost: $(tail -2 "$TMP/full.err")"
	fi
	"$BIN" --stats 1 >/dev/full 2>"$TMP/devfull.err" &
	HPID=$!
	PIDS+=($HPID)
	$CHECK wait-attached "$HPID" >/dev/null
	inc wrk -t2 -c16 -d2s "http://$V4_S/devfull" >/dev/null 2>&1 &
	load=$!
	if wait_for "$TMP/devfull.err" "failed to write events to standard output: No space left on device" 6; then
		ok devfull-told-at-once
	else
		fail devfull-told-at-once "$(tail -c 300 "$TMP/devfull.err")"
	fi
	wait "$load"
	stop_httpeek
	read -r written lost < <(summary_count "$TMP/devfull.err" events)
	if [ "$RC" = 1 ] && [ "$written" = 0 ] && [ "$lost" -gt 0 ]; then
		ok devfull-counted "0 events written, $lost not"
	else
		fail devfull-counted "rc $RC: $(tail -2 "$TMP/devfull.err")"
	fi
}

# 9,000 connections each holding a 60 KiB head that never ends (540 MB of heads): httpeek's
# peak stays under 256 MiB (128 MiB limit) and the summary counts the flows it ended.
check_flood() {
	local rss hwm ended client=0
	ip netns exec "$NSS" python3 "$HERE/servers.py" sink 9100 >"$TMP/sink.out" 2>&1 &
	PIDS+=($!)  # the server itself: ip netns exec execs it
	wait_file "$TMP/sink.out" || fail live-head-flood "the sink server did not start"
	start_httpeek "$TMP/flood.err" -O /dev/null
	rss=$(awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$HPID/status")
	inc python3 "$HERE/clients.py" flood "$V4_S" 9100 9000 61440 || client=$?
	sleep 1
	hwm=$(awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$HPID/status")
	stop_httpeek
	ended=$(grep -o '[0-9]* flows ended at --memory-limit' "$TMP/flood.err" | cut -d' ' -f1)
	if [ "$client" = 0 ] && [ "$hwm" -lt 256 ] && [ "$RC" = 0 ] && [ "${ended:-0}" -gt 0 ]; then
		ok live-head-flood "$rss MiB before, peak $hwm MiB; $ended flows ended at --memory-limit"
	else
		fail live-head-flood "client $client, $rss MiB before, peak $hwm MiB (want < 256), rc $RC: $(tail -2 "$TMP/flood.err")"
	fi
}

# Under the systemd unit's capability bounding set, httpeek starts, then holds no capability
# and runs as nobody (the unit must leave it what dropping its privileges needs).
check_unit_caps() {
	local caps status
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT/deploy/httpeek.service" |
		tr 'A-Z ' 'a-z,' | sed 's/cap_/+/g')
	setpriv --bounding-set "-all,$caps" "$BIN" -O /dev/null 2>"$TMP/unit.err" &
	HPID=$!
	PIDS+=($HPID)
	if $CHECK wait-attached "$HPID" >/dev/null; then
		for _ in $(seq 100); do  # set-up (TLS too) ends with the drop
			grep -q '^NoNewPrivs:.1' "/proc/$HPID/status" && break
			sleep 0.1
		done
		status=$(grep -E '^(Uid|CapPrm|CapEff):' "/proc/$HPID/status" | tr -s '\t\n' '  ')
	fi
	stop_httpeek
	if echo "${status:-}" | grep -q 'Uid: 65534 65534 65534 65534 CapPrm: 0\{16\} CapEff: 0\{16\}'; then
		ok unit-capabilities "$caps"
	else
		fail unit-capabilities "${status:-did not attach}: $(head -c 300 "$TMP/unit.err")"
	fi
}

setup_net
start_nginx
for name in ${*:-cgroup failed_start chunked_spoof write_errors flood unit_caps}; do
	"check_$name"
done
[ "$tap_failures" = 0 ]
