/* ipt_table.h - portc's iptables chains and ipsets as the kernel lists
 * them.
 *
 * iptables-save, ip6tables-save and ipset save are read for one policy's
 * part (its stem: chains PORTC-STEM-*, sets pc-STEM-*, and the rules of
 * the built-in chains that lead to them) into the form of one nftables
 * table (nft_table.h), so that portc verify's comparison by content and
 * the lift (lift.h) work on it unchanged:
 *
 *  - chains are named after the tool and table: "iptables PORTC-x-in",
 *    "ip6tables -t mangle PORTC-x-dscp";
 *  - the hooks' base chains "input", "output", "forward" hold the rules of
 *    the built-in filter chains INPUT, OUTPUT, FORWARD, IPv4's then IPv6's,
 *    from the first to the last that jumps to one of the policy's chains
 *    (the rules before it decide first; the ones after it are reached only
 *    when the policy's chain ends without a verdict, which portc's never
 *    do), with policy accept; mangle's built-in chains likewise, as
 *    regular chains the lift does not walk;
 *  - each rule's match and target become the nft expressions that mean
 *    the same (a CONNMARK or MARK that the policy's DSCP chain turns into
 *    a DSCP mark is that mark), and what has no meaning in the packet model
 *    (a module or target portc does not write) an expression the lift
 *    leaves out, with its reason;
 *  - a rule is compared by its text as iptables-save writes it, its handle
 *    is its number in its chain (what iptables -D CHAIN N takes). */
#ifndef PORTC_IPT_TABLE_H
#define PORTC_IPT_TABLE_H

#include <stdbool.h>

#include "nft_table.h"

struct ipt_listing {
	char *save[2];		/* iptables-save, ip6tables-save */
	char *sets;		/* ipset save */
};

/* The listings of this network namespace (loader NULL), or of a new one
 * after `sh loader` ran in it. 0, or the exit status of what failed (-1:
 * it could not run), with its error output in *err (free it). */
int ipt_list(const char *loader, struct ipt_listing *l, char **err);
void ipt_listing_free(struct ipt_listing *l);

/* The policy's part of l. *present is false when l holds no chain or set
 * of stem. False, with *why (free it), when a listing is not one. */
bool ipt_table_build(const char *stem, const struct ipt_listing *l, struct nft_table *t, bool *present,
		     char **why);

/* base.ipset, base.v4, base.v6 and the loader base.sh (ipt_loader.h) that
 * put stem's chains, their jumps and its sets back as l holds them, and
 * remove what l does not hold. False, having said why. */
bool ipt_snapshot_write(const char *stem, const struct ipt_listing *l, const char *base);

#endif
