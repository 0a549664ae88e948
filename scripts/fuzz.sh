#!/bin/sh
# Builds every libFuzzer target in fuzz/ and runs each for SECONDS (default 30) on a copy of
# its seed corpus. Exits non-zero when a target finds a crash, leak or undefined behaviour.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-30}
out=build/fuzz
mkdir -p "$out"
core=$(ls src/*.c | grep -v -e src/main.c -e src/live -e src/owner)
flags="-g -O1 -std=gnu11 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
status=0
for target in fuzz/fuzz_*.c; do
	name=$(basename "$target" .c)
	extra=""
	[ "$name" = fuzz_frame ] && extra="-Itests/unit tests/unit/frame_sim.c"
	# shellcheck disable=SC2086
	clang $flags -o "$out/$name" "$target" $extra $core -lpcap
	stage=${name#fuzz_}
	seeds=fuzz/corpus/$stage
	[ -d "$seeds" ] || seeds=fuzz/corpus/${stage%%_*}
	work=$out/corpus-$name
	mkdir -p "$work"
	[ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
	dict=""
	[ -f "fuzz/${stage%%_*}.dict" ] && dict="-dict=fuzz/${stage%%_*}.dict"
	if "$out/$name" $dict -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "$work" >"$out/$name.log" 2>&1; then
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$')
		cov=$(grep -o 'cov: [0-9]*' "$out/$name.log" | tail -1)
		echo "fuzz: $name ${seconds}s ${execs:-?} execs ${cov:-} ok"
	else
		tail -30 "$out/$name.log"
		echo "fuzz: $name FAIL (see $out/$name.log)"
		status=1
	fi
done
exit $status
