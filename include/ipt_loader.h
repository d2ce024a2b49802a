/* ipt_loader.h - the shell loader of an iptables bundle (OUT.sh beside
 * OUT.ipset, OUT.v4, OUT.v6).
 *
 * The compiler writes one for each build (emit_ipt.c), and portc apply
 * writes one for the snapshot it rolls back to (deploy_ipt.c): both load
 * their sets and chains beside everyone else's, jump to the chains once
 * from the built-in chains, and remove the chains and sets of this policy
 * that the bundle does not have. */
#ifndef PORTC_IPT_LOADER_H
#define PORTC_IPT_LOADER_H

#include <stddef.h>

#include "util.h"

/* The chains a bundle may have, per family: every chain of a build is one
 * of these, so another build's are found by name. */
enum ipt_chain { IPT_IN, IPT_OUT, IPT_FWD, IPT_REJ, IPT_DSCP, IPT__COUNT };
#define IPT_BIT(c) (1u << (c))

/* "in", "out", "fwd", "rej", "dscp": PORTC-STEM-SHORT */
extern const char *const ipt_chain_short[IPT__COUNT];

/* Where the DSCP chain is jumped to from, in the mangle table. */
#define IPT_DSCP_FROM_INPUT 1u
#define IPT_DSCP_FROM_POSTROUTING 2u

struct ipt_shape {
	const char *stem;		/* [A-Za-z0-9_], no '-' */
	unsigned chains[2];		/* IPv4, IPv6: IPT_BIT()s */
	unsigned dscp_from[2];		/* IPv4, IPv6: IPT_DSCP_FROM_*, with IPT_DSCP */
	const char *const *sets;	/* the ipsets the bundle has: pc-STEM-... */
	size_t nsets;
};

/* The loader after its header (each line "# ..."). Only names portc made
 * go into it (the stem, chain and set names: [A-Za-z0-9_-]). */
void ipt_loader_write(struct strbuf *s, const char *header, const struct ipt_shape *sh);

#endif
