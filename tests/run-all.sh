#!/bin/sh
# run-all.sh BUILD - every test suite; what `make check` runs.
set -u
B=$1
P=$B/portc
status=0
failed=""
suite() {
	name=$1
	shift
	printf '\n== %s\n' "$name"
	if ! "$@"; then
		status=1
		failed="$failed $name"
	fi
}
suite unit sh tests/run-unit.sh "$B"
suite golden sh tests/run-golden.sh "$P"
suite new-backend sh tests/run-new-backend.sh
suite bad-inputs sh tests/run-bad.sh "$P"
suite valgrind sh tests/run-valgrind.sh "$B"
suite outfiles sh tests/run-outfiles.sh "$P"
suite bundled sh tests/run-bundled.sh "$P"
suite help python3 tests/run-help.py "$P"
suite cli sh tests/run-cli.sh "$P"
suite structure python3 tests/run-structure.py src
suite docs python3 tests/run-docs.py "$P" docs/language.md docs/cli.md docs/lint.md docs/stdlib.md
# Debian's python3: it has python3-jsonschema for the SARIF schema
suite lint /usr/bin/python3 tests/run-lint.py "$P"
suite policy-docs sh scripts/policy-docs.sh "$P" --check
suite vendor python3 tests/run-vendor.py "$P"
suite table sh tests/table/run.sh "$B"
suite diff python3 tests/diff/run.py "$B"
suite kernel bash tests/kernel/run.sh "$B"
suite ansible bash tests/ansible/run.sh "$B"
# The fuzz target replays its seeds under clang's ASan and UBSan (a build of
# its own); `make fuzz` runs the real campaign.
if [ "${PORTC_SKIP_FUZZ:-}" != 1 ]; then
	suite fuzz-replay sh tests/fuzz/run.sh 0 replay
fi
if [ $status = 0 ]; then
	printf '\nall suites passed\n'
else
	printf '\nFAILED:%s\n' "$failed"
fi
exit $status
