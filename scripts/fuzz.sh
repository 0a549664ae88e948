#!/bin/sh
# Runs every libFuzzer target of fuzz/, built in build/fuzz by make (make fuzz-smoke, make fuzz),
# for SECONDS (default 10) each on a copy of its seed corpus, from libFuzzer's random seed FUZZ_SEED
# (default: a new one each run; tests/run.sh sets 1, so that make check's short runs are the
# same runs each time): one TAP line per target
# (tests/tap.sh). Exits non-zero when a target finds a crash, leak or undefined behaviour, or
# was not built.
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
	# A long run grows its corpus in build/fuzz from run to run; a seeded smoke run starts
	# from the committed seeds alone, so that make check runs the same inputs each time.
	work=$out/corpus-$name
	if [ -n "${FUZZ_SEED:-}" ]; then
		work=$out/smoke-$name
		rm -rf "$work"
	fi
	mkdir -p "$work"
	[ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
	dict=""
	[ -f "fuzz/${stage%%_*}.dict" ] && dict="-dict=fuzz/${stage%%_*}.dict"
	# shellcheck disable=SC2086
	if "$out/$name" $dict ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "$work" >"$out/$name.log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$')
		cov=$(grep -o 'cov: [0-9]*' "$out/$name.log" | tail -1)
		echo "ok - fuzz: $name"
		echo "# fuzz: $name ${seconds}s ${execs:-?} execs ${cov:-}"
	else
		tail -30 "$out/$name.log" | sed 's/^/# /'
		echo "not ok - fuzz: $name: see $out/$name.log"
		status=1
	fi
done
exit $status
