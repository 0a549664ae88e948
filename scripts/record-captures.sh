#!/bin/bash
# Records the project's own offline test captures into OUTDIR: real curl, python and nginx
# traffic between two network namespaces (hpk-cli, hpk-srv) joined by a veth pair, one capture
# per case, taken on the server side. Needs root, iproute2, nginx-light, curl, tcpdump, dumpcap,
# python3. One pcapng is written by a small recorder of our own (write_epb_recorder): dumpcap
# 4.0 writes no epb_flags, and that case needs the direction in them. Every namespace, process and temporary file it makes is removed on exit.
# tests/offline/golden/expected.tsv describes what these captures hold (tshark's reading,
# tests/offline/golden/derive.py --write after a new recording; review its diff).
set -euo pipefail

usage() {
	echo "usage: $0 OUTDIR" >&2
	exit 2
}

[ $# -eq 1 ] || usage
OUT=$1
NS_CLI=hpk-cli
NS_SRV=hpk-srv
CLI_IF=hpk-c0
SRV_IF=hpk-s0
CLI4=10.201.0.1
SRV4=10.201.0.2
CLI6=fd00:201::1
SRV6=fd00:201::2
PY_PORT=8088
UA="httpeek-test/1.0"
FIXED_DATE="2024-01-01 00:00:00 UTC"
FIXED_HTTP_DATE="Mon, 01 Jan 2024 00:00:00 GMT"

TMP=""
PIDS=()     # servers
CAP_PID=""  # the capture running now
NS_MADE=0

cleanup() {
	local pid
	set +e
	[ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null && wait "$CAP_PID" 2>/dev/null
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	if [ "$NS_MADE" = 1 ]; then
		ip netns del "$NS_CLI" 2>/dev/null
		ip netns del "$NS_SRV" 2>/dev/null
	fi
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

die() {
	echo "record-captures: $*" >&2
	exit 1
}

in_srv() { ip netns exec "$NS_SRV" "$@"; }

# Polls until cmd succeeds, at most about 5 seconds.
wait_for() {
	local what=$1 i
	shift
	for i in $(seq 1 50); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "timed out waiting for $what"
}

ipv6_ready() {
	ip -n "$NS_CLI" -6 addr show dev "$CLI_IF" | grep -v tentative | grep -q "$CLI6/" &&
		ip -n "$NS_SRV" -6 addr show dev "$SRV_IF" | grep -v tentative | grep -q "$SRV6/"
}

listening() { in_srv ss -Hltn "sport = :$1" | grep -q LISTEN; }

setup_net() {
	for cmd in ip nginx curl tcpdump dumpcap python3 ss; do
		command -v "$cmd" >/dev/null || die "missing $cmd"
	done
	[ "$(id -u)" = 0 ] || die "must run as root"
	if ip netns list | grep -qE "^($NS_CLI|$NS_SRV)( |$)"; then
		die "namespace $NS_CLI or $NS_SRV already exists; remove it first"
	fi
	NS_MADE=1
	ip netns add "$NS_CLI"
	ip netns add "$NS_SRV"
	ip -n "$NS_CLI" link add "$CLI_IF" mtu 1500 type veth peer name "$SRV_IF" netns "$NS_SRV"
	ip -n "$NS_SRV" link set "$SRV_IF" mtu 1500
	# No segmentation offload: a head over the MTU must reach the wire as several segments.
	ip -n "$NS_CLI" link set "$CLI_IF" gso_max_segs 1
	ip -n "$NS_SRV" link set "$SRV_IF" gso_max_segs 1
	ip -n "$NS_CLI" addr add "$CLI4/24" dev "$CLI_IF"
	ip -n "$NS_SRV" addr add "$SRV4/24" dev "$SRV_IF"
	ip -n "$NS_CLI" addr add "$CLI6/64" dev "$CLI_IF" nodad
	ip -n "$NS_SRV" addr add "$SRV6/64" dev "$SRV_IF" nodad
	ip -n "$NS_CLI" link set lo up
	ip -n "$NS_SRV" link set lo up
	ip -n "$NS_CLI" link set "$CLI_IF" up
	ip -n "$NS_SRV" link set "$SRV_IF" up
	wait_for "IPv6 addresses" ipv6_ready
}

write_site() {
	local www=$TMP/www
	mkdir -p "$www" "$TMP/nginx"
	printf '<html><body>httpeek index</body></html>\n' > "$www/index.html"
	printf 'small text file\n' > "$www/small.txt"
	printf '<html><body>hello world, this body is rewritten on the way out</body></html>\n' \
		> "$www/chunked.html"
	touch -d "$FIXED_DATE" "$www/index.html" "$www/small.txt" "$www/chunked.html"
	cat > "$TMP/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events {
	worker_connections 64;
}
http {
	access_log off;
	server_tokens off;
	sendfile off;
	keepalive_timeout 5;
	client_body_temp_path $TMP/nginx/body;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	types {
		text/html html;
		text/plain txt;
	}
	default_type application/octet-stream;
	server {
		listen $SRV4:80;
		listen [$SRV6]:80;
		listen $SRV4:8080;
		listen $SRV4:8123;
		root $www;
		location = /chunked.html {
			# Rewriting the body drops Content-Length: HTTP/1.1 answers are chunked.
			sub_filter 'world' 'chunked world';
		}
		location = /submit {
			default_type text/plain;
			return 201 "created\n";
		}
	}
}
EOF
}

# Answers what nginx cannot: 100 Continue before a final response, and an HTTP/1.0 response
# whose body ends at close.
write_pyserver() {
	cat > "$TMP/pyserver.py" <<'EOF'
import socket, sys

def read_head(conn):
	buf = b""
	while b"\r\n\r\n" not in buf:
		chunk = conn.recv(4096)
		if not chunk:
			return None, b""
		buf += chunk
	head, rest = buf.split(b"\r\n\r\n", 1)
	return head.decode("latin-1"), rest

def serve(conn):
	head, rest = read_head(conn)
	if head is None:
		return
	lines = head.split("\r\n")
	target = lines[0].split(" ")[1]
	fields = {}
	for line in lines[1:]:
		name, _, value = line.partition(":")
		fields[name.strip().lower()] = value.strip()
	if target == "/upload":
		if fields.get("expect", "").lower() == "100-continue":
			conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
		need = int(fields.get("content-length", "0"))
		while len(rest) < need:
			chunk = conn.recv(4096)
			if not chunk:
				break
			rest += chunk
		conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			     b"Content-Length: 9\r\nConnection: close\r\n\r\nreceived\n")
	elif target == "/old":
		conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
		conn.sendall(b"an HTTP/1.0 body that ends when the server closes\n")
	else:
		conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
			     b"Connection: close\r\n\r\n")

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2])))
srv.listen(8)
while True:
	conn, _ = srv.accept()
	conn.settimeout(5)
	try:
		serve(conn)
	except OSError:
		pass
	conn.close()
EOF
}

# Three requests written with one send(): one TCP segment.
write_pipeline_client() {
	cat > "$TMP/pipeline.py" <<'EOF'
import socket, sys

host, port, lport, ua = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
reqs = b""
for path, extra in (("/index.html", ""), ("/missing", ""), ("/small.txt", "Connection: close\r\n")):
	reqs += ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n%s\r\n"
		 % (path, host, ua, extra)).encode()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.settimeout(5)
s.bind(("", lport))
s.connect((host, port))
s.sendall(reqs)
while s.recv(65536):
	pass
s.close()
EOF
}

# A pcapng recorder for one interface: an AF_PACKET socket, TCP only, kernel time stamps in ns,
# and each Enhanced Packet Block's epb_flags from the kernel's packet type (outbound for
# PACKET_OUTGOING, else inbound unicast). The file holds its header once the socket is bound.
write_epb_recorder() {
	cat > "$TMP/epbcap.py" <<'EOF'
import signal, socket, struct, sys

ifname, path = sys.argv[1], sys.argv[2]
SO_TIMESTAMPNS = 35
PACKET_OUTGOING = 4

class Stop(Exception):
	pass

def stop(signum, frame):
	raise Stop()

def block(btype, body):
	body += b"\0" * (-len(body) % 4)
	total = len(body) + 12
	return struct.pack("<II", btype, total) + body + struct.pack("<I", total)

def option(code, value):
	return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)

def is_tcp(frame):
	if frame[12:14] == b"\x08\x00":
		return len(frame) > 23 and frame[23] == 6
	return frame[12:14] == b"\x86\xdd" and len(frame) > 20 and frame[20] == 6

signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
sock.bind((ifname, 0))
sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
out = open(path, "wb")
out.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) +
		option(4, b"httpeek record-captures.sh") + option(0, b"")))
out.write(block(1, struct.pack("<HHI", 1, 0, 262144) + option(2, ifname.encode()) +
		option(9, b"\x09") + option(0, b"")))
out.flush()
try:
	while True:
		frame, anc, _, addr = sock.recvmsg(65535, socket.CMSG_SPACE(16))
		if not is_tcp(frame):
			continue
		ts = 0
		for level, kind, data in anc:
			if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
				sec, nsec = struct.unpack("qq", data[:16])
				ts = sec * 1000000000 + nsec
		flags = 2 if addr[2] == PACKET_OUTGOING else 1 | 1 << 2
		out.write(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff, len(frame),
					       len(frame)) + frame + b"\0" * (-len(frame) % 4) +
				option(2, struct.pack("<I", flags)) + option(0, b"")))
		out.flush()
except Stop:
	pass
out.close()
EOF
}

start_servers() {
	ip netns exec "$NS_SRV" nginx -c "$TMP/nginx.conf" -p "$TMP/nginx" \
		-e "$TMP/nginx/error.log" >"$TMP/nginx.out" 2>&1 &
	PIDS+=($!)
	ip netns exec "$NS_SRV" python3 "$TMP/pyserver.py" "$SRV4" "$PY_PORT" >"$TMP/py.out" 2>&1 &
	PIDS+=($!)
	for port in 80 8080 8123 "$PY_PORT"; do
		wait_for "a server on port $port" listening "$port"
	done
}

# capture NAME TOOL CMD...: records what CMD (run in the client namespace) exchanges.
# TOOL is tcpdump (Ethernet pcap on the veth), sll2 (tcpdump -i any, LINUX_SLL2 with
# direction), dumpcap (pcapng) or epbflags (pcapng with direction in epb_flags, on the veth).
capture() {
	local name=$1 tool=$2 file log
	shift 2
	log=$TMP/$name.log
	case $tool in
	tcpdump)
		file=$OUT/$name.pcap
		ip netns exec "$NS_SRV" tcpdump -i "$SRV_IF" -U --immediate-mode -n -w "$file" tcp \
			>"$log" 2>&1 &
		;;
	sll2)
		file=$OUT/$name.pcap
		ip netns exec "$NS_SRV" tcpdump -i any -y LINUX_SLL2 -U --immediate-mode -n \
			-w "$file" tcp >"$log" 2>&1 &
		;;
	dumpcap)
		file=$OUT/$name.pcapng
		ip netns exec "$NS_SRV" dumpcap -q -i "$SRV_IF" -f tcp -w "$file" >"$log" 2>&1 &
		;;
	epbflags)
		file=$OUT/$name.pcapng
		rm -f "$file"
		ip netns exec "$NS_SRV" python3 "$TMP/epbcap.py" "$SRV_IF" "$file" >"$log" 2>&1 &
		;;
	esac
	CAP_PID=$!
	if [ "$tool" = dumpcap ] || [ "$tool" = epbflags ]; then
		wait_for "$tool on $name" test -s "$file"
	else
		wait_for "tcpdump on $name" grep -q "listening on" "$log"
	fi
	timeout 15 ip netns exec "$NS_CLI" "$@" || die "case $name: client failed"
	sleep 0.5  # the closing FIN and ACK
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || true
	CAP_PID=""
	chown "$(id -u):$(id -g)" "$file"
	chmod 0644 "$file"
	echo "record-captures: $file"
}

record_all() {
	local etag big=() i
	local curl=(curl -sS -o /dev/null --max-time 5 -A "$UA")
	etag=$(printf '"%x-%x"' "$(stat -c %Y "$TMP/www/index.html")" \
		"$(stat -c %s "$TMP/www/index.html")")
	for i in $(seq -w 1 30); do
		big+=(-H "X-Filler-$i: $(printf 'f%.0s' $(seq 1 100))")
	done

	capture get tcpdump "${curl[@]}" --local-port 40001 "http://$SRV4/index.html"
	capture post tcpdump "${curl[@]}" --local-port 40002 -d 'name=httpeek&case=post' \
		"http://$SRV4/submit"
	capture keepalive tcpdump "${curl[@]}" --local-port 40003 \
		"http://$SRV4/index.html" -o /dev/null "http://$SRV4/missing"
	capture pipelined tcpdump python3 "$TMP/pipeline.py" "$SRV4" 80 40004 "$UA"
	capture big-head tcpdump "${curl[@]}" --local-port 40005 "${big[@]}" \
		"http://$SRV4/index.html"
	capture ipv6 tcpdump "${curl[@]}" -6 -g --local-port 40006 "http://[$SRV6]/index.html"
	capture port8123 tcpdump "${curl[@]}" --local-port 40007 \
		"http://$SRV4:8123/small.txt?from=8123&x=%20y"
	capture continue100 tcpdump "${curl[@]}" --local-port 40008 -H 'Expect: 100-continue' \
		-H 'Content-Type: text/plain' --data-binary 'a body sent after 100 Continue' \
		"http://$SRV4:$PY_PORT/upload"
	capture chunked tcpdump "${curl[@]}" --local-port 40009 "http://$SRV4:8080/chunked.html"
	capture notmodified tcpdump "${curl[@]}" --local-port 40010 \
		-H "If-Modified-Since: $FIXED_HTTP_DATE" -H "If-None-Match: $etag" \
		"http://$SRV4/index.html"
	capture head tcpdump "${curl[@]}" --local-port 40011 -I "http://$SRV4/index.html"
	capture http10 tcpdump "${curl[@]}" --local-port 40012 --http1.0 "http://$SRV4:$PY_PORT/old"
	capture sll2 sll2 "${curl[@]}" --local-port 40013 "http://$SRV4/small.txt"
	capture pcapng dumpcap "${curl[@]}" --local-port 40014 -X PUT -H 'Content-Type: text/plain' \
		--data-binary 'put body' "http://$SRV4:8080/submit"
	capture pcapng-flags epbflags "${curl[@]}" --local-port 40015 \
		"http://$SRV4/index.html?flags=epb"
}

mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/hpk-record.XXXXXX)
setup_net
write_site
write_pyserver
write_pipeline_client
write_epb_recorder
start_servers
record_all
