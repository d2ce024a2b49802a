#!/bin/sh
# run.sh SECONDS [replay] - build the libFuzzer targets with clang (ASan and
# UBSan on) and fuzz each for SECONDS:
#   fuzz_front  the front end (parse, check, lower, fmt), seeded with every
#               policy in the tree
#   fuzz_table  libportc's loader and lookups, seeded with the tables of
#               the bundled policies and the golden cases
#   fuzz_ipt    the reader of iptables-save and ipset save output (verify
#               and apply -t iptables), seeded with the bundles of the
#               bundled policies and the golden cases
# "replay" only runs the seeds and the saved corpora once: the quick
# regression `make check` does.
set -eu
secs=${1:-60}
mode=${2:-fuzz}
B=build-fuzz
command -v clang >/dev/null 2>&1 || { echo "fuzz: SKIP: clang is not installed"; exit 0; }
mkdir -p $B/obj $B/corpus $B/corpus-table $B/corpus-ipt
make -s --no-print-directory BUILD=$B CC=clang \
	CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	LDFLAGS="-fsanitize=address,undefined" \
	$B/libportc-core.a $B/libportc.a $B/portc
for t in fuzz_front fuzz_table fuzz_ipt; do
	clang -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Iinclude -I$B -D_GNU_SOURCE -o $B/$t tests/fuzz/$t.c \
		$B/libportc-core.a $B/libportc.a -lcidr -ljansson
done
seeds=$B/seeds
rm -rf "$seeds" && mkdir -p "$seeds"
i=0
for f in $(find tests/golden tests/bad tests/fuzz/regressions policies stdlib docs -name '*.pol' 2>/dev/null); do
	i=$((i + 1))
	cp "$f" "$seeds/seed$i.pol"
done
# real tables: every bundled and golden policy that compiles on its own
tseeds=$B/seeds-table
rm -rf "$tseeds" && mkdir -p "$tseeds"
i=0
for f in policies/*.pol tests/golden/query/*.pol tests/golden/ir/*.pol tests/golden/nftables/*.pol; do
	i=$((i + 1))
	# shellcheck disable=SC2046
	ASAN_OPTIONS=detect_leaks=0 PORTC_PATH=stdlib $B/portc compile -t table \
		$(sed -n "s|^$f ||p" tests/kernel/policies.args 2>/dev/null) \
		-o "$tseeds/t$i.ptab" "$f" >/dev/null 2>&1 || true
done
ntables=$(ls "$tseeds" | wc -l)
# iptables bundles: the rules files are close to iptables-save's output, the
# ipset file to ipset save's; the three joined by NUL bytes
iseeds=$B/seeds-ipt
rm -rf "$iseeds" && mkdir -p "$iseeds"
i=0
for f in policies/*.pol tests/golden/iptables/*.pol tests/kernel/deploy.pol; do
	i=$((i + 1))
	# shellcheck disable=SC2046
	if ASAN_OPTIONS=detect_leaks=0 PORTC_PATH=stdlib $B/portc compile -t iptables --hook=input,output,forward \
		$(sed -n "s|^$f ||p" tests/kernel/policies.args 2>/dev/null) -o "$iseeds/b$i" "$f" >/dev/null 2>&1; then
		{ cat "$iseeds/b$i.v4"; printf '\0'; cat "$iseeds/b$i.v6"; printf '\0'; cat "$iseeds/b$i.ipset"; } >"$iseeds/i$i.ipt"
	fi
	rm -f "$iseeds/b$i".*
done
cp tests/fuzz/regressions/*.ipt "$iseeds/" 2>/dev/null || true
nipt=$(ls "$iseeds" | wc -l)
[ "$nipt" -gt 3 ] || { echo "fuzz: only $nipt seed bundles were made"; exit 1; }
[ "$ntables" -gt 3 ] || { echo "fuzz: only $ntables seed tables were made"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1
if [ "$mode" = replay ]; then
	$B/fuzz_front -runs=0 $B/corpus "$seeds" >$B/fuzz.log 2>&1 || { tail -40 $B/fuzz.log; exit 1; }
	$B/fuzz_table -runs=0 $B/corpus-table "$tseeds" >$B/fuzz-table.log 2>&1 ||
		{ tail -40 $B/fuzz-table.log; exit 1; }
	$B/fuzz_ipt -runs=0 $B/corpus-ipt "$iseeds" >$B/fuzz-ipt.log 2>&1 || { tail -40 $B/fuzz-ipt.log; exit 1; }
	echo "fuzz replay: $(ls "$seeds" | wc -l) seed policies, $ntables seed tables and $nipt iptables listings, no crash"
else
	st=0
	echo "fuzz_front, $secs s:"
	$B/fuzz_front -max_total_time="$secs" -max_len=4096 -timeout=10 \
		$B/corpus "$seeds" >$B/fuzz.log 2>&1 || st=1
	tail -3 $B/fuzz.log
	echo "fuzz_table, $secs s:"
	$B/fuzz_table -max_total_time="$secs" -max_len=262144 -timeout=10 \
		$B/corpus-table "$tseeds" >$B/fuzz-table.log 2>&1 || st=1
	tail -3 $B/fuzz-table.log
	echo "fuzz_ipt, $secs s:"
	$B/fuzz_ipt -max_total_time="$secs" -max_len=65536 -timeout=10 \
		$B/corpus-ipt "$iseeds" >$B/fuzz-ipt.log 2>&1 || st=1
	tail -3 $B/fuzz-ipt.log
	[ $st = 0 ] || { echo "fuzz: a target failed; see $B/fuzz.log, $B/fuzz-table.log and $B/fuzz-ipt.log"; exit 1; }
fi
