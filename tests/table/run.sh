#!/bin/sh
# run.sh BUILD - the matching tables: libportc's answers against the
# reference evaluator, the CLI's, the C target, and corrupt tables.
set -u
B=$1
P=$B/portc
T=$B/tests/tablecheck
export PORTC_PATH=stdlib
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
ok() {
	pass=$((pass + 1))
}

args_for() { # the -D values a bundled policy needs (shared with the kernel tests)
	sed -n "s|^$1 ||p" tests/kernel/policies.args
}

# 1. Every bundled policy and generated sets: a million packets each, edges
# of every rule first, through the library, against eval_packet.
for p in policies/*.pol; do
	# shellcheck disable=SC2046
	if out=$($T --count 1000000 $(args_for "$p") -Wno-unenforceable "$p" 2>&1); then
		echo "  $out"
		ok
	else
		fail "$p: $out"
	fi
done
for spec in "1 500" "2 2000" "3 2000"; do
	set -- $spec
	f=$tmp/gen-$1-$2.pol
	python3 tests/kernel/genpolicy.py "$1" "$2" > "$f"
	if out=$($T --count 1000000 --seed "$1" "$f" 2>&1); then
		echo "  $out"
		ok
	else
		fail "$f: $out"
	fi
done
python3 bench/gensynth.py 2000 3 > "$tmp/estate.pol"
if out=$($T --count 1000000 "$tmp/estate.pol" 2>&1); then
	echo "  $out"
	ok
else
	fail "estate: $out"
fi
# A ClassBench-shaped set, whose prefixes spread over the IPv4 space, so
# that its trees start with an index (the sets above share a /15); once
# with the AVX2 leaf check where the processor has it, once without.
python3 tests/table/gencb.py 1 2000 > "$tmp/cb.filters"
python3 bench/classbench2pol.py "$tmp/cb.filters" > "$tmp/cb.pol"
for simd in "" 1; do
	if out=$(PORTC_NO_AVX2=$simd $T --count 1000000 "$tmp/cb.pol" 2>&1); then
		echo "  $out${simd:+ (PORTC_NO_AVX2=1)}"
		ok
	else
		fail "classbench-shaped${simd:+ (PORTC_NO_AVX2=1)}: $out"
	fi
done
# The same set inside 2001:db8::/32 (bench/classbench2pol.py --ipv6): all
# its addresses share that /32, so its IPv6 trees cut and split below it
# (docs/table-format.md), and its wide rules land in trees of their own.
python3 bench/classbench2pol.py --ipv6 "$tmp/cb.filters" > "$tmp/cb6.pol"
if out=$($T --count 1000000 "$tmp/cb6.pol" 2>&1); then
	echo "  $out (IPv6)"
	ok
else
	fail "classbench-shaped, IPv6: $out"
fi

# 2. portc query --table answers as portc query does.
bo="policies/branch-office.pol"
# shellcheck disable=SC2046
$P compile -t table -o "$tmp/bo.ptab" $(args_for "$bo") "$bo" || fail "compile -t table $bo"
while read -r proto src dst; do
	# shellcheck disable=SC2046
	want=$($P query --format=json $(args_for "$bo") "$bo" "$proto" "$src" "$dst" |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["verdict"], (j["rule"] or {}).get("line"), j["dscp"])')
	got=$($P query --format=json --table "$tmp/bo.ptab" "$proto" "$src" "$dst" |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["verdict"], j["line"], j["dscp"])')
	if [ "$want" = "$got" ]; then ok; else fail "query --table $proto $src $dst: '$got', policy says '$want'"; fi
done <<EOF
udp 198.18.1.9:16400 198.51.100.7:16500
udp 198.18.1.9:16400 198.19.0.5:16500
tcp 198.18.1.9:40000 198.19.0.5:5061
tcp 198.18.7.7:40000 192.0.2.10:443
icmp 198.18.1.9 198.19.0.5
tcp [2001:db8::1]:40000 [2001:db8::2]:22
EOF

# 3. -t c: the same table as C source, built into a program with libportc.
# shellcheck disable=SC2046
$P compile -t c -o "$tmp/bo_table.c" $(args_for "$bo") "$bo" || fail "compile -t c"
cat > "$tmp/main.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <portc/match.h>
extern const unsigned char portc_table_branch_office[];
extern const size_t portc_table_branch_office_len;
int main(void)
{
	struct portc_table *t;
	char err[256];
	if (portc_table_load(portc_table_branch_office, portc_table_branch_office_len, &t, err,
			     sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct portc_tuple k = { .family = 4, .proto = 17, .sport = 16400, .dport = 16500 };
	memcpy(k.src, "\xc6\x12\x01\x09", 4);	/* 198.18.1.9 */
	memcpy(k.dst, "\xc6\x13\x00\x05", 4);	/* 198.19.0.5 */
	struct portc_result r;
	portc_classify(t, &k, &r);
	printf("%d %u %d\n", r.action, r.line, r.dscp);
	portc_table_free(t);
	return 0;
}
EOF
# a library built with SANITIZE=1 needs the sanitizers' runtimes
san=""
if nm "$B/libportc.a" 2>/dev/null | grep -q __asan_; then
	san="-fsanitize=address,undefined"
fi
# shellcheck disable=SC2086
if cc -std=c11 -Wall -Wextra -Werror $san -Iinclude -o "$tmp/embedded" "$tmp/main.c" "$tmp/bo_table.c" \
	"$B/libportc.a" 2>"$tmp/cc.err"; then
	got=$("$tmp/embedded")
	# shellcheck disable=SC2046
	want=$($P query --format=json $(args_for "$bo") "$bo" udp 198.18.1.9:16400 198.19.0.5:16500 |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(["allow","deny","reject"].index(j["verdict"]), j["rule"]["line"], -1 if j["dscp"] is None else j["dscp"])')
	if [ "$got" = "$want" ]; then ok; else fail "-t c: embedded table says '$got', policy '$want'"; fi
else
	fail "-t c output does not compile: $(cat "$tmp/cc.err")"
fi

# 4. Corrupt tables: the loader refuses them with a reason, or answers
# without reading out of bounds (ASan/UBSan under SANITIZE=1).
# shellcheck disable=SC2046
if out=$($T --mutate 3000 --seed 7 $(args_for "$bo") "$bo" 2>&1); then
	echo "  $out"
	ok
else
	fail "mutation: $out"
fi
# shellcheck disable=SC2046
if out=$($T --mutate 1000 --seed 8 $(args_for policies/webex-calling.pol) -Wno-unenforceable policies/webex-calling.pol 2>&1); then
	echo "  $out"
	ok
else
	fail "mutation (webex): $out"
fi
for simd in "" 1; do
	if out=$(PORTC_NO_AVX2=$simd $T --mutate 1000 --seed 9 "$tmp/cb.pol" 2>&1); then
		echo "  $out${simd:+ (PORTC_NO_AVX2=1)}"
		ok
	else
		fail "mutation (classbench-shaped${simd:+, PORTC_NO_AVX2=1}): $out"
	fi
done
head -c 100 "$tmp/bo.ptab" > "$tmp/short.ptab"
printf 'not a table at all' > "$tmp/text.ptab"
for bad in "$tmp/short.ptab" "$tmp/text.ptab" /dev/null "$tmp/missing.ptab"; do
	$P query --table "$bad" udp 192.0.2.1:1 192.0.2.2:2 >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc = 2 ] && grep -q "$bad" "$tmp/err"; then ok; else fail "query --table $bad: exit $rc, $(cat "$tmp/err")"; fi
done

# a table whose version reads byte-swapped: said as such, not as a version
python3 - "$tmp/bo.ptab" "$tmp/swapped.ptab" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
b[8:12] = b[8:12][::-1]  # the version, whichever it is, read the other way
open(sys.argv[2], "wb").write(b)
PY
if $P query --table "$tmp/swapped.ptab" udp 192.0.2.1:1 192.0.2.2:2 2>&1 >/dev/null | grep -q "other byte order"; then
	ok
else
	fail "a byte-swapped table is not named as such"
fi

echo "table: $pass passed, $fails failed"
[ $fails = 0 ]
