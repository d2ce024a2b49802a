#!/bin/sh
# run-bundled.sh PORTC - the policies and the stdlib that ship with portc:
# every file checks clean, is in the canonical layout, and formatting any
# policy in the tree leaves its meaning (the IR) unchanged.
set -u
PORTC=$1
export NO_COLOR=1
unset PORTC_PATH
fail=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in $(find policies stdlib -name '*.pol' | sort); do
	n=$((n + 1))
	if ! $PORTC check "$f" >"$tmp/out" 2>&1; then
		echo "FAIL $f does not check"
		cat "$tmp/out"
		fail=$((fail + 1))
	fi
	if ! $PORTC fmt --check "$f" >/dev/null 2>&1; then
		echo "FAIL $f is not formatted (run: portc fmt -w $f)"
		fail=$((fail + 1))
	fi
done

# fmt keeps meaning: the IR of a file and of its formatted copy are the
# same but for line numbers.
strip() { sed -e 's/ at [^ ]*:[0-9]*:[0-9]*\( ruleset [^ ]* via [^ ]*\)\{0,1\}//' "$1"; }
for f in $(find policies tests/golden/ir tests/golden/query tests/golden/fmt docs/examples -name '*.pol' | sort); do
	args=$(sed -n '1s/^# portc-args: //p' "$f")
	# shellcheck disable=SC2086
	$PORTC check --dump=ir $args "$f" >"$tmp/a" 2>/dev/null || continue
	copy="$(dirname "$f")/.fmt-roundtrip-$$.pol"
	$PORTC fmt "$f" >"$copy" 2>/dev/null
	# shellcheck disable=SC2086
	$PORTC check --dump=ir $args "$copy" >"$tmp/b" 2>/dev/null
	rm -f "$copy"
	n=$((n + 1))
	strip "$tmp/a" >"$tmp/a2"
	strip "$tmp/b" >"$tmp/b2"
	if ! cmp -s "$tmp/a2" "$tmp/b2"; then
		echo "FAIL fmt changed the meaning of $f"
		diff "$tmp/a2" "$tmp/b2" | head -10
		fail=$((fail + 1))
	fi
done

echo "bundled: $n checks, $fail failed"
[ "$fail" = 0 ]
