#!/bin/sh
# run-bad.sh PORTC - the bad-input corpus (see tests/bad/README.md).
set -u
PORTC=$1
export NO_COLOR=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0

# Generated cases: too big to commit, cheap to make.
python3 - "$tmp" <<'PY'
import os, random, sys
d = sys.argv[1]
def w(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
# a 1 MB line: one huge identifier, one huge note, one huge group with a
# mistake at its end
w("line-1mb-ident.pol", b"network " + b"a" * (1 << 20) + b" = 192.0.2.0/24;\n")
w("line-1mb-string.pol", b'policy p { allow any -> any tcp 80 "' + b"x" * (1 << 20) + b'"; }\n')
w("line-1mb-group.pol", b"network g = { " + b"192.0.2.1, " * 95000 + b"192.0.2.300 };\n")
w("line-1mb-junk.pol", b"network g = " + b"$" * (1 << 20) + b";\n")
# 10,000 nested groups: by name, and by braces
chain = [b"network g0 = 192.0.2.0/24;"]
chain += [b"network g%d = { g%d };" % (i, i - 1) for i in range(1, 10001)]
chain.append(b"policy p { allow g10000 -> any tcp 80; }")
w("nested-10000-names.pol", b"\n".join(chain) + b"\n")
w("nested-10000-braces.pol", b"network g = " + b"{ " * 10000 + b"192.0.2.0/24" + b" }" * 10000 + b";\n")
w("nested-10000-uses.pol", b"\n".join(
    [b"ruleset r0(x: network) { allow x -> any tcp 80; }"] +
    [b"ruleset r%d(x: network) { use r%d(x); }" % (i, i - 1) for i in range(1, 10001)] +
    [b"policy p { use r10000(192.0.2.0/24); }"]) + b"\n")
PY

check_one() { # file
	n=$((n + 1))
	out="$tmp/out"
	timeout 30 $PORTC check "$1" >/dev/null 2>"$out"
	rc=$?
	why=""
	[ $rc = 1 ] || why="exit $rc, not 1"
	grep -Eq '^[^ ]+:[0-9]+:[0-9]+: error: ' "$out" || why="$why; no file:line:col: error: line"
	if grep -Eq 'Sanitizer|runtime error|internal error' "$out"; then
		why="$why; crashed"
	fi
	# fmt reads syntax only (a file with a wrong name still formats): it
	# must not crash, must refuse what does not parse, and must never leave
	# a broken file or a temporary file behind.
	cp "$1" "$tmp/fmt-copy.pol"
	timeout 30 $PORTC fmt -w "$tmp/fmt-copy.pol" >/dev/null 2>"$out.fmt"
	frc=$?
	case $frc in
	0) $PORTC fmt --check "$tmp/fmt-copy.pol" >/dev/null 2>&1 || why="$why; fmt output is not canonical" ;;
	1) cmp -s "$1" "$tmp/fmt-copy.pol" || why="$why; fmt rewrote a file it refused" ;;
	*) why="$why; fmt exit $frc" ;;
	esac
	ls "$tmp" | grep -q '\.tmp\.' && why="$why; a temporary file was left behind"
	if grep -Eq 'Sanitizer|runtime error|internal error' "$out.fmt"; then
		why="$why; fmt crashed"
	fi
	if [ -n "$why" ]; then
		echo "FAIL $1:$why"
		head -5 "$out"
		fail=$((fail + 1))
	fi
}

for f in tests/bad/*.pol "$tmp"/*.pol; do
	case $f in *fmt-copy.pol) continue ;; esac
	check_one "$f"
done

# Truncations of good files at many offsets: any exit 0 or 1 is fine (a cut
# can fall between two definitions), but never a crash, a hang or exit 2.
for good in tests/golden/query/basic.pol tests/golden/fmt/messy.pol; do
	size=$(wc -c <"$good")
	off=1
	while [ "$off" -lt "$size" ]; do
		head -c "$off" "$good" >"$tmp/cut.pol"
		timeout 30 $PORTC check "$tmp/cut.pol" >/dev/null 2>"$tmp/out"
		rc=$?
		n=$((n + 1))
		if [ $rc -gt 1 ] || grep -Eq 'Sanitizer|runtime error|internal error' "$tmp/out"; then
			echo "FAIL $good cut at $off: exit $rc"
			head -5 "$tmp/out"
			fail=$((fail + 1))
		fi
		off=$((off + 23))
	done
done

# Large sets are not bad input, but they were a denial of service: a
# group was built by one union per member, quadratic in time and memory
# (8k /32s took 15 s and 2 GB; 50k ran out of memory). Each of these must
# check within the same 30 s as everything above: they take well under a
# second since every set is sorted and merged once.
python3 - "$tmp" <<'PY'
import os, random, sys
d = sys.argv[1]
r = random.Random(18)
def hosts(n):
    base = (198 << 24) | (18 << 16)
    return ", ".join("%d.%d.%d.%d" % ((a >> 24) & 255, (a >> 16) & 255, (a >> 8) & 255, a & 255)
                     for a in (base + 2 * p for p in r.sample(range(65536), n)))
with open(os.path.join(d, "big-group.set"), "w") as f:
    f.write("network g = { %s };\npolicy p { default deny; allow g -> 192.0.2.0/24 tcp 443; }\n"
            % hosts(50000))
with open(os.path.join(d, "big-ports.set"), "w") as f:
    f.write("policy p { default deny; allow any -> 192.0.2.0/24 tcp %s; }\n"
            % ", ".join(map(str, r.sample(range(1, 65536, 2), 32000))))
with open(os.path.join(d, "big-except.set"), "w") as f:
    f.write("network g = 198.0.0.0/8 except { %s };\n"
            "policy p { default deny; allow g -> 192.0.2.0/24 tcp 443; }\n" % hosts(65000))
PY
for f in "$tmp"/*.set; do
	n=$((n + 1))
	for cmd in check lint; do
		timeout 30 $PORTC $cmd "$f" >/dev/null 2>"$tmp/out"
		rc=$?
		if [ $rc != 0 ]; then
			echo "FAIL $cmd $(basename "$f"): exit $rc (124: over 30 s)"
			head -3 "$tmp/out"
			fail=$((fail + 1))
		fi
	done
done

echo "bad inputs: $n runs, $fail failed"
[ "$fail" = 0 ]
