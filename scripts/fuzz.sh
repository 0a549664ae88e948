#!/bin/sh
# Runs every libFuzzer target of fuzz/, built in build/fuzz by make, one TAP line per target
# (tests/tap.sh). Two kinds of run:
#   FUZZ_RUNS set (make check, make fuzz-smoke; tests/run.sh sets 10000 and FUZZ_SEED 1): that
#     many inputs per target from the committed seeds alone, from libFuzzer's seed FUZZ_SEED,
#     so that every machine runs the same inputs and a red run is red again anywhere;
#   else (make fuzz): SECONDS (default 10) per target from a new random seed, on a corpus in
#     build/fuzz that grows from run to run, to find what the smoke runs do not.
# Exits non-zero when a target finds a crash, leak or undefined behaviour (the input is kept
# in build/fuzz), does not finish its runs, or was not built.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-10}
out=build/fuzz
status=0
for target in fuzz/fuzz_*.c; do
	name=$(basename "$target" .c)
	if [ ! -x "$out/$name" ]; then
		echo "not ok - fuzz: $name: not built (make fuzz-smoke builds it)"
		status=1
		continue
	fi
	stage=${name#fuzz_}
	seeds=fuzz/corpus/$stage
	[ -d "$seeds" ] || seeds=fuzz/corpus/${stage%%_*}
	work=$out/corpus-$name
	budget="${FUZZ_SEED:+-seed=$FUZZ_SEED} -max_total_time=$seconds"
	if [ -n "${FUZZ_RUNS:-}" ]; then
		work=$out/smoke-$name
		rm -rf "$work"
		budget="-seed=${FUZZ_SEED:-1} -runs=$FUZZ_RUNS -max_total_time=900"
	fi
	mkdir -p "$work"
	[ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
	dict=""
	[ -f "fuzz/${stage%%_*}.dict" ] && dict="-dict=fuzz/${stage%%_*}.dict"
	# shellcheck disable=SC2086
	if "$out/$name" $dict $budget -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "$work" >"$out/$name.log" 2>&1 &&
		{ [ -z "${FUZZ_RUNS:-}" ] || grep -q "^Done $FUZZ_RUNS runs" "$out/$name.log"; }; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$')
		cov=$(grep -o 'cov: [0-9]*' "$out/$name.log" | tail -1)
		echo "ok - fuzz: $name"
		took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$out/$name.log")
		echo "# fuzz: $name ${took:-$seconds}s ${execs:-?} execs ${cov:-}"
	else
		tail -30 "$out/$name.log" | sed 's/^/# /'
		echo "not ok - fuzz: $name: see $out/$name.log"
		status=1
	fi
done
exit $status
