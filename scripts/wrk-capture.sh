#!/bin/sh
# Records wrk against nginx on loopback into OUT (pcap): about REQUESTS requests (default
# 75000, so about 150k HTTP messages). Usage: wrk-capture.sh OUT [REQUESTS]
set -eu
out=$1
requests=${2:-75000}
port=18080
dir=$(mktemp -d)
cleanup() {
	[ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
	[ -n "${dump:-}" ] && kill "$dump" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
sh "$(dirname "$0")/nginx-conf.sh" "$dir" "127.0.0.1:$port"
nginx -c "$dir/nginx.conf" -p "$dir"
tcpdump -i lo -B 262144 -s 0 -w "$dir/cap.pcap" "tcp port $port" 2>"$dir/tcpdump.log" &
dump=$!
sleep 1
# wrk runs for a duration; a short Lua script stops each connection after its share.
cat > "$dir/limit.lua" <<LUA
local n = 0
local per_thread = $requests
response = function(status, headers, body)
	n = n + 1
	if n >= per_thread then wrk.thread:stop() end
end
LUA
wrk -t1 -c16 -d4s -s "$dir/limit.lua" "http://127.0.0.1:$port/index.html" >"$dir/wrk.log"
sleep 1
kill -INT "$dump"
wait "$dump" || true
dump=""
grep -E 'requests in|Requests/sec' "$dir/wrk.log" >&2
grep -E 'captured|dropped' "$dir/tcpdump.log" >&2
mv "$dir/cap.pcap" "$out"
