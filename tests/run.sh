#!/bin/sh
# Runs every test suite: unit tests (ASan/UBSan), golden captures, the shared corpus and, as
# root, the live end-to-end tests. Ends with "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
passed=0
failed=0
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

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in build/tests/test_*; do
	[ -x "$t" ] && suite "unit $(basename "$t")" "$t"
done
for t in tests/golden/check_*.py tests/corpus/check_*.py tests/hostile/check_*.py \
	tests/filters/check_*.py tests/schema/check_*.py tests/deploy/check_deploy.py; do
	[ -f "$t" ] && suite "$(basename "$t" .py)" python3 "$t"
done
if [ "$(id -u)" = 0 ]; then
	suite "live end-to-end" bash tests/live/run.sh
	suite "live filters" bash tests/filters/check_live_filters.sh
	suite "live differential" bash tests/live/diff/run.sh
	suite "live hardening" bash tests/live/hardening.sh
	suite "containers" bash tests/containers/run.sh
	suite "readme" python3 tests/deploy/check_readme.py
else
	echo "!! live tests need root: not run"
	failed=$((failed + 1))
fi
# The same offline suites again with the sanitized binary, then a short fuzzing smoke.
export HTTPEEK=build/httpeek-asan HTTPEEK_SANITIZED=1
for t in tests/golden/check_*.py tests/corpus/check_*.py tests/hostile/check_*.py \
	tests/filters/check_filters.py tests/schema/check_*.py; do
	[ -f "$t" ] && suite "asan $(basename "$t" .py)" python3 "$t"
done
[ "$(id -u)" = 0 ] && suite "asan live end-to-end" bash tests/live/run.sh
unset HTTPEEK HTTPEEK_SANITIZED
suite "fuzz smoke" sh scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
