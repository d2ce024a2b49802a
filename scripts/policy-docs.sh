#!/bin/sh
# policy-docs.sh PORTC [--check] - the bundled policies rendered by
# `portc doc` into docs/policies/: a Markdown table (NAME.md), an HTML page
# (NAME.html) and a Graphviz diagram (NAME.dot) each. `make docs` writes
# them; `make check` runs this with --check and fails when one is stale.
set -u
PORTC=$1
MODE=${2:-write}
export NO_COLOR=1
unset PORTC_PATH
out=docs/policies
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stale=0

# name | policy file | the site values the rendering uses
while IFS='|' read -r name file args; do
	[ -z "$name" ] && continue
	for fmt in md html dot; do
		# shellcheck disable=SC2086
		if ! $PORTC doc -Wno-unenforceable --format=$fmt $args "$file" >"$tmp/$name.$fmt"; then
			echo "policy-docs: portc doc failed on $file" >&2
			exit 1
		fi
		if [ "$MODE" = --check ]; then
			if ! cmp -s "$tmp/$name.$fmt" "$out/$name.$fmt"; then
				echo "policy-docs: $out/$name.$fmt is stale (run: make docs)"
				stale=1
			fi
		else
			mkdir -p "$out"
			cp "$tmp/$name.$fmt" "$out/$name.$fmt"
		fi
	done
done <<'EOF2'
branch-office|policies/branch-office.pol|
webex-calling|policies/webex-calling.pol|-D site=198.18.0.0/16 -D dns=192.0.2.53 -D ntp=192.0.2.123
cisco-finesse|policies/cisco-finesse.pol|-D finesse=198.18.10.0/29 -D desktops=198.18.64.0/18 -D ucce=198.18.20.0/28
EOF2
if [ "$MODE" = --check ]; then
	[ $stale = 0 ] && echo "policy-docs: docs/policies is up to date"
	exit $stale
fi
echo "policy-docs: wrote $out"
