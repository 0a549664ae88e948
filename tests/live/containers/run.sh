#!/bin/bash
# Containers and Kubernetes (root): synthetic cgroup v2 directories named as docker, containerd,
# CRI-O, podman and a Kubernetes pod name them, one python client in each, the real ./httpeek
# live; checks containerId, container.id/runtime, kubernetes.podUID and the container= and
# cgroup= filters. One TAP line per check (tests/tap.sh); removes the cgroups after.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BIN=${HTTPEEK:-$ROOT/httpeek}
TAP_SUITE=containers
. "$ROOT/tests/tap.sh"
. "$ROOT/tests/live/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "containers: needs root" >&2
	exit 1
fi
CG=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$CG" ]; then
	echo "containers: no cgroup v2 mount in /proc/mounts" >&2
	exit 1
fi

TMP=$(mktemp -d /tmp/httpeek-containers.XXXXXX)
TOP="$CG/httpeek-test-$$"
PORT=$(free_port)
PIDS=()

hex64() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

D_ID=$(hex64)
C_ID=$(hex64)
O_ID=$(hex64)
P_ID=$(hex64)
K_ID=$(hex64)
POD_UID=$(cat /proc/sys/kernel/random/uuid)
POD_US=${POD_UID//-/_}
# name, cgroup path under $TOP, expected id, runtime, pod uid
CASES=(
	"docker system.slice/docker-$D_ID.scope $D_ID docker -"
	"containerd system.slice/cri-containerd-$C_ID.scope $C_ID containerd -"
	"crio machine.slice/crio-$O_ID.scope $O_ID crio -"
	"podman machine.slice/libpod-$P_ID.scope $P_ID podman -"
	"pod kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$POD_US.slice/cri-containerd-$K_ID.scope $K_ID containerd $POD_UID"
)

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	sleep 0.3
	# only this test's processes live below $TOP: end them, then remove the directories
	if [ -d "$TOP" ]; then
		echo 1 >"$TOP/cgroup.kill" 2>/dev/null || true
		sleep 0.2
		find "$TOP" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

for c in "${CASES[@]}"; do
	read -r _ path _ <<<"$c"
	mkdir -p "$TOP/$path"
done
mkdir -p "$TOP/server"

# The server answers POST /api/<name> with 503, anything else with 200; it lives in its own
# cgroup outside any container.
cat >"$TMP/server.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        code = 503 if self.command == "POST" and self.path.startswith("/api/") else 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_POST = answer
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
print("listening", flush=True)
s.serve_forever()
PY
# The client posts once and stays alive a little so that /proc can be read.
cat >"$TMP/client.py" <<'PY'
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("POST", "/api/" + sys.argv[2], body=b"x")
c.getresponse().read()
c.request("GET", "/health/" + sys.argv[2])
c.getresponse().read()
time.sleep(2)
PY

in_cgroup() {
	local dir=$1
	shift
	exec sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$dir" "$@"
}

in_cgroup "$TOP/server" python3 "$TMP/server.py" "$PORT" >"$TMP/server.out" &
PIDS+=($!)
wait_file "$TMP/server.out" || { tap_fail server "did not start"; exit 1; }

"$BIN" -e all -O "$TMP/all.jsonl" 2>"$TMP/all.err" &
PIDS+=($!)
HP_ALL=$!
"$BIN" -e all -f "container=${D_ID:0:12}" -O "$TMP/docker.jsonl" 2>"$TMP/docker.err" &
PIDS+=($!)
HP_DOCKER=$!
CRIO_CG="$TOP/machine.slice/crio-$O_ID.scope"
"$BIN" -e all -f "cgroup=$CRIO_CG" -f 'status>=500' -O "$TMP/crio.jsonl" 2>"$TMP/crio.err" &
PIDS+=($!)
HP_CRIO=$!
"$BIN" -e net_flow_http -f method=POST -f 'path=/api/*' -f 'status>=500' -f "container=${K_ID:0:8}" \
	-O "$TMP/recipe.jsonl" 2>"$TMP/recipe.err" &
PIDS+=($!)
HP_RECIPE=$!
for p in "$HP_ALL" "$HP_DOCKER" "$HP_CRIO" "$HP_RECIPE"; do
	python3 "$ROOT/tests/live/check_live.py" wait-attached "$p" >/dev/null ||
		{ tap_fail "httpeek $p start" "not set up: $(tail -c 300 "$TMP"/*.err)"; exit 1; }
done

CLIENTS=()
for c in "${CASES[@]}"; do
	read -r name path _ <<<"$c"
	in_cgroup "$TOP/$path" python3 "$TMP/client.py" "$PORT" "$name" &
	PIDS+=($!)
	CLIENTS+=("$! $name")
done
for c in "${CLIENTS[@]}"; do
	read -r p name <<<"$c"
	wait "$p" || tap_fail "client $name" "exited with $?"
done
kill -INT "$HP_ALL" "$HP_DOCKER" "$HP_CRIO" "$HP_RECIPE"
for p in "$HP_ALL" "$HP_DOCKER" "$HP_CRIO" "$HP_RECIPE"; do
	rc=0
	wait "$p" || rc=$?
	[ "$rc" = 0 ] || tap_fail "httpeek $p exit" "status $rc"
done

printf '%s\n' "${CASES[@]}" >"$TMP/cases.txt"
python3 "$HERE/check_containers.py" "$TMP" "$TOP" && [ "$tap_failures" = 0 ]
