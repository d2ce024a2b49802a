/* lint_prove.c - a packet that proves a rule live (lint_rules.h): one
 * that the rule decides and that the rules after it, or the default, would
 * decide another way, found among a few points through the index; and
 * what is left to find of such a rule without listing its overlaps. */
#include "lint_rules.h"

/* A rule of one product that sampling proved live (own_points_prove): no
 * earlier rule takes all of it, so it is neither shadowed nor redundant,
 * and what is left to find are the first earlier rules of another action
 * within it (generalization) and across it (correlated). Two queries of
 * the index find them without listing the rule's earlier rules, which on
 * ClassBench's FW sets number in the thousands per rule: a rule with a
 * covering box across q's bounds is not within q; one with every box
 * inside is asked exactly (rule_within). When q is one box, a rule of
 * one box inside it is within it, and once the first such is found, only
 * rules of several boxes can still be the first correlated one. */
void lint_analyze_live(struct ctx *c, size_t i)
{
	const struct lrule *ri = &c->r[i];
	int f;
	const struct prod *q = only_prod(ri, &f);
	struct rindex *ix = c->idx[f];
	unsigned others = ALL_ACTIONS & ~(1u << ri->action), below = (unsigned)i;
	unsigned corr = rindex_first_across(ix, q, others, below);
	unsigned gen = below, need = 0;
	bool box = prod_is_box(q);
	for (unsigned from = 0;;) {
		unsigned j = rindex_first_within(ix, q, others | need, from, below);
		if (j == below)
			break;
		if (lint_rule_within(c, j, i)) {
			if (gen == below)
				gen = j;
			if (box)
				need = RINDEX_MULTI;
		} else if (j < corr) {
			corr = j;
		}
		from = j + 1;
		if (gen != below && from > corr)
			break;
	}
	lint_report_overlaps(c, i, gen == below ? -1 : (long)gen, corr == below ? -1 : (long)corr, NULL);
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15u);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* Whether rule i decides p (no earlier rule matches it) and the rules
 * after it, or the default, would decide p another way. */
static bool point_proves(const struct ctx *c, size_t i, const struct box *pt, int f)
{
	const struct lrule *ri = &c->r[i];
	struct packet p = { .family = f ? 6 : 4, .proto = (int)pt->d[PS_PROTO].lo,
			    .src = pt->d[PS_SRC].lo, .dst = pt->d[PS_DST].lo };
	/* a dimension the protocol lacks is 0 in the packet: still in the
	 * rule's products, whose such dimensions are full */
	if (ir_has_ports(p.proto)) {
		p.sport = (uint16_t)pt->d[PS_SPORT].lo;
		p.dport = (uint16_t)pt->d[PS_DPORT].lo;
	}
	if (ir_has_types(p.proto))
		p.type = (uint8_t)pt->d[PS_TYPE].lo;
	/* p is in S_i: i decides it unless a rule before i matches it */
	if (lint_first_in(c, (long)i, &p, 0, (unsigned)i) != i)
		return false;
	unsigned later = lint_first_in(c, (long)i, &p, (unsigned)i + 1, (unsigned)c->n);
	bool same = later < c->n ? same_decision(&c->r[later], ri)
				 : c->pol->dflt == ri->action && ri->dscp < 0;
	return !same;
}

/* Tries points of product x: its lowest and highest, then n - 2 others. */
static bool prod_proves(const struct ctx *c, size_t i, const struct prod *x, int f, int n,
			uint64_t *seed)
{
	for (int s = 0; s < n; s++) {
		uint64_t r[2 * PS_DIMS];
		for (int k = 0; k < 2 * PS_DIMS; k++)
			r[k] = s > 1 ? splitmix(seed) : 0;
		struct box pt;
		prod_point(x, s, r, &pt);
		if (point_proves(c, i, &pt, f))
			return true;
	}
	return false;
}

/* Proof, by one packet, that rule i is neither shadowed nor redundant: a
 * packet of S_i that i decides and that the rules after i, or the
 * default, would decide another way (own_points_prove, then
 * later_points_prove). Most rules of a large policy have
 * one among a few points, and finding it through the index spares
 * computing E_i, whose fragments were nearly all of lint's time on
 * ClassBench's FW and IPC sets. The points: some of each product of S_i
 * (its corners, then pseudo-random ones, seeded by i: the same from run to
 * run); then some of where S_i meets a later rule that decides otherwise,
 * since a rule that repeats the default is told apart from a redundant
 * one only there. Finding none proves nothing; the caller computes E_i. */
bool lint_own_points_prove(const struct ctx *c, size_t i, uint64_t *seed)
{
	const struct lrule *ri = &c->r[i];
	for (int f = 0; f < 2; f++)
		for (size_t k = 0; k < ri->b[f].n && k < 4; k++)
			if (prod_proves(c, i, &ri->b[f].v[k], f, 8, seed))
				return true;
	return false;
}

/* Points where rule i (of one product) meets the first later rules of
 * another action, found one by one through the index, without listing the
 * later rules: a deny rule before a default deny is told apart from a
 * redundant one only there. */
bool lint_next_points_prove(const struct ctx *c, size_t i, uint64_t *seed)
{
	const struct lrule *ri = &c->r[i];
	int f;
	const struct prod *q = only_prod(ri, &f);
	unsigned others = ALL_ACTIONS & ~(1u << ri->action);
	unsigned from = (unsigned)i + 1;
	for (int tried = 0; tried < 16; tried++) {
		unsigned j = rindex_first_meets(c->idx[f], q, others, from, (unsigned)c->n);
		if (j == c->n)
			return false;
		for (size_t b = 0; b < c->r[j].b[f].n && b < 2; b++) {
			struct prod x;
			if (prod_intersect(c->tmp, q, &c->r[j].b[f].v[b], &x) &&
			    prod_proves(c, i, &x, f, 4, seed))
				return true;
		}
		from = j + 1;
	}
	return false;
}

bool lint_later_points_prove(const struct ctx *c, size_t i, const struct cands *later,
			       uint64_t *seed)
{
	const struct lrule *ri = &c->r[i];
	size_t tried = 0;
	for (size_t k = 0; k < later->n && tried < 16; k++) {
		const struct lrule *rj = &c->r[later->v[k]];
		if (same_decision(rj, ri))
			continue;
		tried++;
		for (int f = 0; f < 2; f++)
			for (size_t a = 0; a < ri->b[f].n && a < 2; a++)
				for (size_t b = 0; b < rj->b[f].n && b < 2; b++) {
					struct prod x;
					if (prod_intersect(c->tmp, &ri->b[f].v[a], &rj->b[f].v[b], &x) &&
					    prod_proves(c, i, &x, f, 4, seed))
						return true;
				}
	}
	return false;
}
