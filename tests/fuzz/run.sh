#!/bin/sh
# run.sh SECONDS [replay] - build the libFuzzer target with clang (ASan and
# UBSan on) and fuzz the front end for SECONDS, seeded with every policy in
# the tree. "replay" only runs the seeds and the saved corpus once: the
# quick regression `make check` does.
set -eu
secs=${1:-60}
mode=${2:-fuzz}
B=build-fuzz
command -v clang >/dev/null 2>&1 || { echo "fuzz: SKIP: clang is not installed"; exit 0; }
mkdir -p $B/obj $B/corpus
make -s --no-print-directory BUILD=$B CC=clang \
	CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	$B/libportc-core.a $B/libportc.a
clang -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iinclude -I$B -D_GNU_SOURCE -o $B/fuzz_front tests/fuzz/fuzz_front.c \
	$B/libportc-core.a $B/libportc.a -lcidr -ljansson
seeds=$B/seeds
rm -rf "$seeds" && mkdir -p "$seeds"
i=0
for f in $(find tests/golden tests/bad tests/fuzz/regressions policies stdlib docs -name '*.pol' 2>/dev/null); do
	i=$((i + 1))
	cp "$f" "$seeds/seed$i.pol"
done
export ASAN_OPTIONS=detect_leaks=1
if [ "$mode" = replay ]; then
	$B/fuzz_front -runs=0 $B/corpus "$seeds" >$B/fuzz.log 2>&1 || { tail -40 $B/fuzz.log; exit 1; }
	echo "fuzz replay: $(ls "$seeds" | wc -l) seed inputs, no crash"
else
	$B/fuzz_front -max_total_time="$secs" -max_len=4096 -timeout=10 \
		$B/corpus "$seeds" 2>&1 | tail -5
fi
