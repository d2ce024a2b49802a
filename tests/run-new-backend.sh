#!/bin/sh
# run-new-backend.sh - a new backend is one new file and one line.
#
# In a copy of the tree, adds src/emit_count.c (a trivial backend that
# writes how many rules a policy has) and the line B(count) to
# include/backends.def, and nothing else; builds; and requires that
# `-t count` works, that `portc help compile` lists it with its summary,
# and that --stats prints its sentence. If this needs another edit
# somewhere (a registry, a help text, a stats branch), the design has
# drifted from include/backends.def.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r Makefile grammar include src scripts stdlib "$tmp"/
cat >"$tmp/src/emit_count.c" <<'C'
/* emit_count.c - a trivial backend: the number of rules. */
#include "backend.h"

static bool count_emit(const struct ir_policy *pol, const struct emit_opts *opts,
		       struct emit_file files[EMIT_MAX_FILES], size_t *nfiles,
		       struct emit_stats *st, struct diag *d)
{
	(void)opts;
	(void)d;
	files[0] = (struct emit_file){ .suffix = "", .comment = "#" };
	sb_init(&files[0].text);
	sb_printf(&files[0].text, "%zu rules\n", pol->nrules);
	*nfiles = 1;
	sb_printf(&st->text, "counted %zu rules", pol->nrules);
	return true;
}

const struct backend backend_count = {
	.name = "count",
	.summary = "the number of rules (a test backend)",
	.emit = count_emit,
};
C
echo 'B(count)' >>"$tmp/include/backends.def"
fail=0
# a plain build of its own, whatever make check was given (SANITIZE=1)
if ! env -u MAKEFLAGS -u MFLAGS make -s -C "$tmp" BUILD=build SANITIZE= -j2 build/portc >"$tmp/build.log" 2>&1; then
	echo "FAIL: the tree with one new backend does not build:"
	tail -20 "$tmp/build.log"
	exit 1
fi
P=$tmp/build/portc
printf 'policy p {\n    default deny;\n    allow any -> 192.0.2.0/24 tcp 80;\n    allow any -> 192.0.2.0/24 udp 53;\n}\n' >"$tmp/p.pol"
[ "$("$P" compile -t count "$tmp/p.pol")" = "2 rules" ] || { echo "FAIL: -t count"; fail=1; }
"$P" help compile | grep -q '  count .*the number of rules (a test backend)' ||
	{ echo "FAIL: help compile does not list the new backend"; fail=1; }
"$P" compile -t count --stats "$tmp/p.pol" 2>&1 >/dev/null | grep -q '^policy p (count): counted 2 rules$' ||
	{ echo "FAIL: --stats does not print the backend's sentence"; fail=1; }
"$P" compile -t nosuch "$tmp/p.pol" 2>&1 | grep -q 'the targets are: nftables, iptables, table, c, count' ||
	{ echo "FAIL: the list of targets in the error"; fail=1; }
[ $fail = 0 ] && echo "new backend: one file and one line, 4 checks passed"
exit $fail
