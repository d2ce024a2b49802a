/* lift.h - a running nftables table read back into the packet-space model.
 *
 * Each base chain portc makes (input, output, forward) becomes an IR
 * policy whose rules, in first-match order, say what the chain does with
 * every packet of the model: the first packet of a new flow (conntrack
 * state new, mark 0, original direction), on an interface that no rule
 * names (not lo), with IPv6 hop limit 255. The chain is run symbolically
 * over products of field sets: a rule narrows the packets it is reached
 * with by its matches, a verdict decides them, a jump runs the other
 * chain over them and comes back, a verdict map runs each element, and a
 * statement that decides nothing (log, a DSCP mark) runs the rest of the
 * chain over the packets it saw with what it set. The rules written out
 * are the decided pieces in the order they are decided, so plain first
 * match over them (eval.h) is the chain's meaning.
 *
 * A rule with a match outside the model (a packet mark, TCP flags, a
 * rate limit) cannot be followed: it is left out and listed, and whoever
 * reads the result says so. portc verify compares the lift of the running
 * table with the lift of the table the policy compiles to (loaded in a
 * network namespace of its own), with the diff engine (diff.h). */
#ifndef PORTC_LIFT_H
#define PORTC_LIFT_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "hooks.h"
#include "ir.h"
#include "nft_table.h"

/* A rule the lift left out, and why. */
struct lift_skip {
	const struct nft_rule *rule;
	const char *why;
};

struct lift {
	struct arena *ar;
	struct source *src;		/* the rules' origins: line = the nft rule's handle */
	unsigned hooks;			/* HOOK_BIT()s of the base chains found */
	struct ir_policy pol[HOOK__COUNT];
	struct lift_skip *skipped;
	size_t nskipped;
	const char *failed;		/* set: no result (too large, a chain loop) */
};

/* shown names the table in the origins ("kernel", "policy"); handles:
 * the notes name each rule's handle (the running table's mean something
 * to its reader, a scratch namespace's do not). */
void nft_lift(const struct nft_table *t, const char *shown, bool handles, struct lift *out);
void lift_free(struct lift *l);

#endif
