#!/bin/sh
# ab.sh BUILD BASE [CLASSBENCH] - libportc as of git revision BASE against
# the working tree's (BUILD/libportc.so), in one process (bench/ab.c), on
# ClassBench's 10k traces: one long call, then calls of 64 packets as
# table-bench makes them. The tables are compiled by the working tree's
# portc; a BASE whose table format differs cannot load them and says so.
# AB_ROUNDS (default 300) sets the rounds of each comparison.
set -eu
B=$1
base=$2
cb=${3:-../shared/bench/classbench}
rounds=${AB_ROUNDS:-300}
out=$B/ab
rm -rf "$out/lib"
mkdir -p "$out/include/portc" "$out/lib"
# the library (every file of src/lib) and the headers it includes, as of BASE
for f in $(git ls-tree --name-only "$base" src/lib/); do
	git show "$base:$f" > "$out/lib/${f##*/}"
done
for h in match.h table_format.h; do
	git show "$base:include/portc/$h" > "$out/include/portc/$h"
done
${CC:-cc} -std=c11 -O2 -fPIC -shared -D_GNU_SOURCE -I"$out/include" -I"$out/lib" -o "$out/base.so" "$out"/lib/*.c
rev=$(git rev-parse --short "$base")
echo "libportc of $rev ($out/base.so) against the working tree's ($B/libportc.so)"
for set in acl1 fw1 ipc1; do
	trace=$cb/${set}_10000_trace
	if [ ! -f "$trace" ] || [ ! -f "$cb/${set}_10000" ]; then
		echo "ab: $trace not found; $set skipped"
		continue
	fi
	python3 bench/classbench2pol.py "$cb/${set}_10000" > "$out/$set.pol"
	"$B/portc" compile -t table -o "$out/$set.ptab" "$out/$set.pol"
	echo "== $set 10k"
	"$B/bench/ab" --rounds "$rounds" "$trace" "$out/$set.ptab" "$out/base.so" "$B/libportc.so"
	"$B/bench/ab" --rounds "$rounds" --call 64 "$trace" "$out/$set.ptab" "$out/base.so" "$B/libportc.so"
done
