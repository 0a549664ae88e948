# Sourced by the shell suites: one TAP line per check, as tests/checklib.py prints them and
# tests/run.sh counts them. Set TAP_SUITE first; tap_failures counts the failed checks.
tap_failures=0

tap_ok() {
	echo "ok - $TAP_SUITE: $1"
}

# tap_fail NAME WHY
tap_fail() {
	echo "not ok - $TAP_SUITE: $1: $(printf '%s' "$2" | tr '\n' ' ')"
	tap_failures=$((tap_failures + 1))
}

# tap_skip NAME WHY: a check this run cannot make (counted as skipped, never as passed).
tap_skip() {
	echo "ok - $TAP_SUITE: $1 # SKIP $2"
}

# tap_check NAME WHY-IF-FAILED COMMAND...: runs COMMAND; ok when it succeeds.
tap_check() {
	local name=$1 why=$2
	shift 2
	if "$@"; then
		tap_ok "$name"
	else
		tap_fail "$name" "$why"
	fi
}

# Anything else a suite says: "# " lines, which count as nothing.
tap_note() {
	printf '%s\n' "$@" | sed 's/^/# /'
}
