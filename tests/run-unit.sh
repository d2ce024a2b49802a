#!/bin/sh
# run-unit.sh BUILD - every cmocka binary in BUILD/tests.
set -u
fail=0
for t in "$1"/tests/test_*; do
	[ -x "$t" ] || continue
	if ! "$t" >"$t.log" 2>&1; then
		echo "FAIL $t"
		cat "$t.log"
		fail=$((fail + 1))
	else
		echo "ok   $(basename "$t"): $(grep -c '\[       OK \]' "$t.log") tests"
	fi
done
[ "$fail" = 0 ]
