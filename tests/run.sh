#!/bin/sh
# Runs the test suites of the groups named (default: all, in this order) and ends with
# "N passed, N failed". The make targets build what a group runs, then call this:
#   unit     tests/unit/STAGE: cmocka tests of each stage (ASan, UBSan)  make test-unit
#   offline  tests/offline/KIND: golden, corpus, hostile, filter,       make test-offline
#            schema, metrics and deploy checks, then again with         (unit offline)
#            build/httpeek-asan
#   bpf      tests/bpf: the BPF programs on canned packets              make test-bpf (root)
#   live     tests/live: end-to-end in network namespaces: live,        make test-live (root)
#            filters, differential, TLS, containers, README, metrics,
#            live under ASan
#   fuzz     fuzz/: every libFuzzer target for FUZZ_SECONDS (10) each   make fuzz-smoke
# For other users than root the root groups are skipped, not failed.
# Usage: tests/run.sh [unit|offline|bpf|live|fuzz ...]
cd "$(dirname "$0")/.." || exit 1
passed=0
failed=0
skipped=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Runs one suite; counts the checks it reports, and a failure when it exits non-zero.
suite() {
	name=$1
	shift
	echo "== $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -Ec '^\[       OK \]|^[a-z0-9_-]+: .* ok$' "$log")
	f=$(grep -Ec '^\[  FAILED  \] [a-z]|^[a-z0-9_-]+: .* FAIL' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	[ "$rc" -ne 0 ] && echo "!! $name exited with $rc"
	passed=$((passed + p))
	failed=$((failed + f))
}

# The python checks of tests/offline, each folder one kind (captures, outputs, filters, schema,
# metrics, deployment files); then, with the sanitized binary, those that run httpeek.
group_offline() {
	for t in tests/offline/*/check_*.py; do
		suite "$(basename "$t" .py)" python3 "$t"
	done
	export HTTPEEK=build/httpeek-asan HTTPEEK_SANITIZED=1
	for t in tests/offline/*/check_*.py; do
		case $t in tests/offline/deploy/* | tests/offline/structure/*) continue ;; esac
		suite "asan $(basename "$t" .py)" python3 "$t"
	done
	unset HTTPEEK HTTPEEK_SANITIZED
}

group_unit() {
	for t in build/tests/test_*; do
		[ -x "$t" ] && suite "unit $(basename "$t")" "$t"
	done
}

group_bpf() {
	suite "bpf prog_test_run" build/tests/prog_test_run
}

# The TLS suites and the README's commands run as on a fresh host, tracefs and debugfs not
# mounted (tests/live/fresh.sh); the host's facts come first.
group_live() {
	python3 tests/live/hostfacts.py
	suite "live end-to-end" bash tests/live/run.sh
	suite "live filters" bash tests/live/check_live_filters.sh
	suite "live differential" bash tests/live/diff/run.sh
	suite "live tls" sh tests/live/fresh.sh python3 tests/live/tls/check_tls.py
	suite "live tls attacks" sh tests/live/fresh.sh python3 tests/live/tls/check_attacks.py
	suite "live hardening" bash tests/live/hardening.sh
	suite "containers" bash tests/live/containers/run.sh
	suite "readme" sh tests/live/fresh.sh python3 tests/live/check_readme.py
	suite "metrics prometheus" python3 tests/live/live_prometheus.py
	export HTTPEEK=build/httpeek-asan HTTPEEK_SANITIZED=1
	suite "asan live end-to-end" bash tests/live/run.sh
	suite "asan live tls" sh tests/live/fresh.sh python3 tests/live/tls/check_tls.py
	unset HTTPEEK HTTPEEK_SANITIZED
}

group_fuzz() {
	suite "fuzz smoke" sh scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
}

[ $# -gt 0 ] || set -- unit offline bpf live fuzz
for g in "$@"; do
	case $g in
	unit | offline | bpf | live | fuzz) ;;
	*)
		echo "usage: tests/run.sh [unit|offline|bpf|live|fuzz ...]" >&2
		exit 2
		;;
	esac
done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
summary=""
for g in "$@"; do
	if { [ "$g" = bpf ] || [ "$g" = live ]; } && [ "$(id -u)" != 0 ]; then
		echo "== $g: skipped (needs root)"
		skipped="$skipped $g"
		continue
	fi
	p0=$passed f0=$failed t0=$(date +%s)
	"group_$g"
	summary="$summary$g: $((passed - p0)) passed, $((failed - f0)) failed, $(($(date +%s) - t0)) s
"
done
printf '%s' "$summary"
[ -n "$skipped" ] && echo "skipped (needs root):$skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
