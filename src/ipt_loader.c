/* ipt_loader.c - the shell loader of an iptables bundle (ipt_loader.h).
 *
 * Rules are found with `-S CHAIN`, which reads that chain alone:
 * iptables-nft answers -C and -D with a rule, and -S without a chain, by
 * reading every rule of the table (1.3 s each beside 15,000 rules). */
#include "ipt_loader.h"

const char *const ipt_chain_short[IPT__COUNT] = { "in", "out", "fwd", "rej", "dscp" };

static const char *const builtin[3] = { "INPUT", "OUTPUT", "FORWARD" };
static const char *const tools[2] = { "iptables", "ip6tables" };

void ipt_loader_write(struct strbuf *s, const char *header, const struct ipt_shape *sh)
{
	const char *st = sh->stem;
	sb_puts(s, "#!/bin/sh\n");
	sb_puts(s, header);
	sb_puts(s, "# Loads this policy's sets and chains beside every other rule (--noflush) and\n"
		"# jumps to them once from the built-in chains; touches no chain or set that is\n"
		"# not this policy's. The IPv6 rules are tested before the IPv4 rules are loaded\n"
		"# (a load is all or nothing, so it is its own test): a file that does not load\n"
		"# leaves both families as they were.\n"
		"set -eu\nbase=${0%.sh}\n"
		"for f in \"$base.ipset\" \"$base.v4\" \"$base.v6\"; do\n"
		"\t[ -r \"$f\" ] || { echo \"$0: cannot read $f\" >&2; exit 1; }\ndone\n"
		"ipset restore -exist -file \"$base.ipset\"\n"
		"ip6tables-restore --test --noflush \"$base.v6\"\n"
		"iptables-restore --noflush \"$base.v4\"\n"
		"ip6tables-restore --noflush \"$base.v6\"\n"
		"jump() { # TOOL TABLE BUILTIN CHAIN: first in BUILTIN, once\n"
		"\t\"$1\" -w -t \"$2\" -S \"$3\" | grep -qxF -- \"-A $3 -j $4\" ||\n"
		"\t\t\"$1\" -w -t \"$2\" -I \"$3\" 1 -j \"$4\"\n"
		"}\n"
		"unjump() { # TOOL TABLE BUILTIN CHAIN: every jump from BUILTIN to CHAIN goes\n"
		"\twhile n=$(\"$1\" -w -t \"$2\" -S \"$3\" 2>/dev/null | grep -nxF -- \"-A $3 -j $4\" |\n"
		"\t\thead -n 1 | cut -d: -f1) && [ -n \"$n\" ]; do\n"
		"\t\t\"$1\" -w -t \"$2\" -D \"$3\" $((n - 1))\t# line 1 is the policy\n"
		"\tdone\n"
		"}\n"
		"stale() { # TOOL TABLE CHAIN...: the chains an earlier build made and this one\n"
		"\t# does not: flushed (one that is not there is skipped), unjumped, deleted\n"
		"\ttool=$1 table=$2\n\tshift 2\n\told=\n"
		"\tfor c; do \"$tool\" -w -t \"$table\" -F \"$c\" 2>/dev/null && old=\"$old $c\"; done\n"
		"\tfor c in $old; do\n"
		"\t\tfor b in PREROUTING INPUT OUTPUT FORWARD POSTROUTING; do unjump \"$tool\" \"$table\" \"$b\" \"$c\"; done\n"
		"\t\t\"$tool\" -w -t \"$table\" -X \"$c\"\n"
		"\tdone\n"
		"}\n");
	for (int k = 0; k < 2; k++) {
		for (int c = IPT_IN; c <= IPT_FWD; c++)
			if (sh->chains[k] & IPT_BIT(c))
				sb_printf(s, "jump %s filter %s PORTC-%s-%s\n", tools[k], builtin[c], st,
					  ipt_chain_short[c]);
		if (sh->chains[k] & IPT_BIT(IPT_DSCP)) {
			if (sh->dscp_from[k] & IPT_DSCP_FROM_INPUT)
				sb_printf(s, "jump %s mangle INPUT PORTC-%s-dscp\n", tools[k], st);
			if (sh->dscp_from[k] & IPT_DSCP_FROM_POSTROUTING)
				sb_printf(s, "jump %s mangle POSTROUTING PORTC-%s-dscp\n", tools[k], st);
		}
	}
	for (int k = 0; k < 2; k++) {
		struct strbuf filter = { 0 };
		sb_init(&filter);
		for (int c = IPT_IN; c <= IPT_REJ; c++)
			if (!(sh->chains[k] & IPT_BIT(c)))
				sb_printf(&filter, " PORTC-%s-%s", st, ipt_chain_short[c]);
		if (filter.len)
			sb_printf(s, "stale %s filter%s\n", tools[k], filter.s);
		if (!(sh->chains[k] & IPT_BIT(IPT_DSCP)))
			sb_printf(s, "stale %s mangle PORTC-%s-dscp\n", tools[k], st);
		sb_free(&filter);
	}
	/* an earlier build's sets go once no rule uses them */
	sb_puts(s, "sets=' ");
	for (size_t i = 0; i < sh->nsets; i++)
		sb_printf(s, "%s ", sh->sets[i]);
	sb_puts(s, "'\n");
	sb_printf(s, "for set in $(ipset list -n | grep '^pc-%s-' || true); do\n"
		  "\tcase $sets in *\" $set \"*) ;; *) ipset destroy \"$set\" 2>/dev/null || true ;; esac\n"
		  "done\n", st);
}
