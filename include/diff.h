/* diff.h - what a change to a policy does to traffic, exactly.
 *
 * Two policies decide every packet; the difference is the set of packets
 * they decide differently (verdict, DSCP mark or log), cut into pieces
 * each decided by one rule (or the default) on each side. It is computed
 * over the whole packet space with the product algebra of region.h, never
 * sampled. Only the rules a change touches are looked at: the two rule
 * lists are aligned by content (a common subsequence), and a packet that
 * no unaligned rule matches meets the same first rule on both sides, so
 * the difference lies inside the unaligned rules' regions (and everywhere
 * the rules leave to the defaults, when those differ). */
#ifndef PORTC_DIFF_H
#define PORTC_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "eval.h"
#include "ir.h"
#include "classify.h"
#include "region.h"

struct strbuf;

enum diff_kind { DIFF_OPENED, DIFF_CLOSED, DIFF_REMARKED, DIFF_OTHER, DIFF__COUNT };

/* The packets of one family that the old rule (NULL: the default) and the
 * new rule decide, as products, with one packet of them. */
struct diff_change {
	enum diff_kind kind;
	int family;
	const struct ir_rule *old_rule, *new_rule;
	struct decision old_dec, new_dec;
	struct prod *p;
	size_t n;
	struct packet witness;
};

struct diff_result {
	struct diff_change *v;
	size_t n;
	size_t count[DIFF__COUNT];	/* changes of each kind */
	size_t aligned, unaligned_old, unaligned_new;	/* rules, for --stats */
	bool too_large;		/* a subtraction outgrew CLS_MAX_PIECES: no answer */
	struct arena *ar;	/* the products and their sets */
};

/* old against new; false (out->too_large) when the difference is beyond
 * the bound above. The result points into both policies. */
bool diff_policies(const struct ir_policy *old, const struct ir_policy *new, struct diff_result *out);
void diff_free(struct diff_result *r);

const char *diff_kind_name(enum diff_kind k);
/* Prints a change's region (one line per product, indented) and its
 * witness ("    for example: PACKET"), as diff, verify and apply show
 * them; sb is scratch. */
/* A decision as text: "allow", "deny dscp 46 log". */
void diff_put_decision(struct strbuf *sb, struct decision d);
void diff_print_region(struct strbuf *sb, const struct diff_change *ch);

#endif
