#!/bin/sh
# run-golden.sh PORTC [--regen] - the golden suites.
#
#   tests/golden/diag/X.pol   `portc check X.pol` -> X.expected (stderr, then "exit N")
#   tests/golden/ir/X.pol     `portc check --dump=ir X.pol` -> X.expected (stdout)
#   tests/golden/fmt/X.pol    `portc fmt X.pol` -> X.expected, and fmt of that is itself
#   tests/golden/query/X.pol  each "# query: ARGS" line -> X.expected (all answers)
#
# A case's first line may say "# portc-args: -D site=10.0.0.0/8" to pass
# options. --regen rewrites the .expected files: review the diff before
# committing, since a golden file is only as good as its review.
set -u
PORTC=$1
REGEN=${2:-}
export NO_COLOR=1
unset PORTC_PATH
fail=0
pass=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

args_of() {
	sed -n '1s/^# portc-args: //p' "$1"
}

compare() { # case expected actual
	# paths under this checkout are shown relative to it, wherever it is
	sed "s|$PWD/||g" "$3" >"$3.rel" && mv "$3.rel" "$3"
	if [ "$REGEN" = "--regen" ]; then
		cp "$3" "$2"
		return
	fi
	if [ ! -f "$2" ]; then
		echo "FAIL $1: no $2 (run with --regen and review it)"
		fail=$((fail + 1))
	elif cmp -s "$2" "$3"; then
		pass=$((pass + 1))
	else
		echo "FAIL $1"
		diff -u "$2" "$3" | head -40
		fail=$((fail + 1))
	fi
}

# Diagnostics-only suites: `portc CMD X.pol` -> X.expected (stderr, then "exit N").
#   tests/golden/diag/X.pol   portc check
#   tests/golden/lint/X.pol   portc lint
stderr_suite() {
	for f in tests/golden/$1/*.pol; do
		# shellcheck disable=SC2046
		$PORTC "$2" $(args_of "$f") "$f" >/dev/null 2>"$tmp/out"
		echo "exit $?" >>"$tmp/out"
		compare "$f" "${f%.pol}.expected" "$tmp/out"
	done
}
stderr_suite diag check
stderr_suite lint lint

for f in tests/golden/ir/*.pol; do
	exp=${f%.pol}.expected
	$PORTC check --dump=ir $(args_of "$f") "$f" >"$tmp/out" 2>&1
	echo "exit $?" >>"$tmp/out"
	compare "$f" "$exp" "$tmp/out"
done

for f in tests/golden/fmt/*.pol; do
	exp=${f%.pol}.expected
	$PORTC fmt "$f" >"$tmp/out" 2>&1
	echo "exit $?" >>"$tmp/out"
	compare "$f" "$exp" "$tmp/out"
	# the canonical layout is a fixed point
	if [ "$REGEN" != "--regen" ]; then
		sed '$d' "$tmp/out" >"$tmp/once.pol"
		$PORTC fmt "$tmp/once.pol" >"$tmp/twice" 2>&1
		if ! cmp -s "$tmp/once.pol" "$tmp/twice"; then
			echo "FAIL $f: fmt is not idempotent"
			diff -u "$tmp/once.pol" "$tmp/twice" | head -20
			fail=$((fail + 1))
		fi
	fi
done

#   tests/golden/TARGET/X.pol `portc compile -t TARGET X.pol` -> X.expected, for
#                             every backend that has such a directory: the
#                             targets are read from `portc help compile`, which
#                             lists the backend registry (include/backends.def)
targets=$($PORTC help compile | sed -n 's/^                       \([a-z0-9_]*\) .*/\1/p')
[ -n "$targets" ] || { echo "FAIL: no targets in 'portc help compile'"; fail=$((fail + 1)); }
for target in $targets; do
	[ -d "tests/golden/$target" ] || continue
	for f in tests/golden/"$target"/*.pol; do
		exp=${f%.pol}.expected
		# shellcheck disable=SC2046
		$PORTC compile -t "$target" $(args_of "$f") "$f" >"$tmp/out" 2>&1
		echo "exit $?" >>"$tmp/out"
		compare "$f" "$exp" "$tmp/out"
	done
done
for d in tests/golden/*/; do
	d=$(basename "$d")
	case " diag lint ir fmt query $(echo $targets) " in
	*" $d "*) ;;
	*) echo "FAIL tests/golden/$d: no suite of that name (nor a backend)"; fail=$((fail + 1)) ;;
	esac
done

for f in tests/golden/query/*.pol; do
	exp=${f%.pol}.expected
	: >"$tmp/out"
	grep '^# query: ' "$f" | sed 's/^# query: //' | while IFS= read -r q; do
		echo "\$ portc query $q" >>"$tmp/out"
		# shellcheck disable=SC2086
		$PORTC query $(args_of "$f") "$f" $q >>"$tmp/out" 2>&1
		echo "exit $?" >>"$tmp/out"
	done
	compare "$f" "$exp" "$tmp/out"
done

echo "golden: $pass passed, $fail failed"
[ "$fail" = 0 ]
