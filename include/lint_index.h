/* lint_index.h - which rules' regions meet a product, without a scan.
 *
 * One index per address family over every rule's products. Each product
 * is covered by a few boxes (its sets cut at their widest gaps, so a group
 * of 50 prefixes spread over a /15 is not one box as wide as the /15), and
 * the boxes go into a static bounding-box tree. A query descends only where
 * a box of the query meets a node's bounding box, then asks the product
 * itself: every answer is exact. Rules are numbered from 0, in policy
 * order; the queries that return one rule return the lowest. */
#ifndef PORTC_LINT_INDEX_H
#define PORTC_LINT_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "region.h"

/* What the index knows of one rule in one family. */
struct rindex_rule {
	const struct prod *p;
	size_t n;
	unsigned action;	/* enum action: queries select by a mask of 1 << action */
	bool multi;		/* the rule, in both families, is more than one box */
};

#define RINDEX_MULTI 0x80	/* in a kinds mask: only multi rules */
/* every action, as a kinds mask */
#define ALL_ACTIONS ((1u << ACT_ALLOW) | (1u << ACT_DENY) | (1u << ACT_REJECT))

struct rindex;

struct rindex *rindex_build(const struct rindex_rule *rules, size_t n);
void rindex_free(struct rindex *ix);

/* Calls fn(rule, ctx) for each rule in [lo, hi) with a product that meets
 * q, possibly more than once per rule, until fn returns false. */
void rindex_meets(struct rindex *ix, const struct prod *q, unsigned lo, unsigned hi,
		  bool (*fn)(unsigned rule, void *ctx), void *ctx);
/* The lowest rule in [from, below) with an action in kinds and a product
 * that meets q; below for none. */
unsigned rindex_first_meets(struct rindex *ix, const struct prod *q, unsigned kinds,
			    unsigned from, unsigned below);
/* The lowest rule in [from, below) with an action in kinds that has a
 * product meeting q and a covering box within q's bounds (every rule
 * within q has; with RINDEX_MULTI in kinds, only rules of several boxes). */
unsigned rindex_first_within(struct rindex *ix, const struct prod *q, unsigned kinds,
			     unsigned from, unsigned below);
/* The lowest rule below `below` with an action in kinds that has a product
 * meeting q and a covering box not within q's bounds (so not within q). */
unsigned rindex_first_across(struct rindex *ix, const struct prod *q, unsigned kinds,
			     unsigned below);

/* Calls fn(a, b, ctx), a < b, for pairs of rules with covering boxes that
 * meet (every pair of rules that meet is among them, some more than once;
 * some of them do not meet), until fn returns false. */
void rindex_pairs(struct rindex *ix, bool (*fn)(unsigned a, unsigned b, void *ctx), void *ctx);

#endif
