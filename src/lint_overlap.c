/* lint_overlap.c - which rules meet (lint_rules.h): the index queries
 * that list a rule's overlaps, the overlap graph that spares them where
 * rules meet few others, the region algebra on rules, and what the policy
 * does with a packet, through the same index. */
#include "lint_rules.h"

#include <stdlib.h>
#include <string.h>

int lint_cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

void lint_cand_add(struct ctx *c, struct cands *out, unsigned rule)
{
	if (c->mark[rule] == c->stamp)
		return;
	c->mark[rule] = c->stamp;
	if (out->n == out->cap) {
		out->cap = out->cap ? 2 * out->cap : 64;
		out->v = xrealloc(out->v, out->cap * sizeof *out->v);
	}
	out->v[out->n++] = rule;
}

struct collect {
	struct ctx *c;
	struct cands *out;
};

static bool collect_one(unsigned rule, void *arg)
{
	struct collect *k = arg;
	lint_cand_add(k->c, k->out, rule);
	return !(k->c->limit && k->out->n >= k->c->limit);
}

/* The packet p as a product of single points. */
static void point_prod(const struct packet *p, struct box *pt, struct prod *q)
{
	box_of_packet(p, pt);
	q->multi = 0;
	for (int d = 0; d < PS_DIMS; d++)
		prod_set_dim(q, d, (struct ivset){ &pt->d[d], 1 });
}

static bool rule_has_point(const struct ctx *c, size_t j, const struct packet *p,
			   const struct box *pt)
{
	const struct region *r = &c->r[j].b[p->family == 6];
	for (size_t k = 0; k < r->n; k++)
		if (prod_has_point(&r->v[k], pt))
			return true;
	return false;
}

/* The first rule in [from, below) that matches p; below for none. When p
 * is a packet of rule `owner` (-1: not known) and there is an overlap
 * graph, the rules that match p are among the rules owner meets: they are
 * asked in order, without the index. */
unsigned lint_first_in(const struct ctx *c, long owner, const struct packet *p,
			 unsigned from, unsigned below)
{
	struct box pt;
	struct prod q;
	point_prod(p, &pt, &q);
	if (c->graph && owner >= 0 && rule_has_point(c, (size_t)owner, p, &pt)) {
		/* the earlier rules, i itself, the later ones: in order */
		unsigned i = (unsigned)owner;
		const unsigned *adj = c->gv + c->gstart[i];
		size_t ne = c->nearly[i], nt = c->gstart[i + 1] - c->gstart[i];
		for (size_t k = 0; k < nt; k++) {
			if (k == ne && i >= from && i < below)
				return i;
			if (adj[k] >= from && adj[k] < below && rule_has_point(c, adj[k], p, &pt))
				return adj[k];
		}
		return ne == nt && i >= from && i < below ? i : below;
	}
	return rindex_first_meets(c->idx[p->family == 6], &q, ALL_ACTIONS, from, below);
}

/* What the policy does with p: the reference evaluator's answer, found
 * through the index (a scan of every rule per finding was most of the time
 * on 100k rules). The oracle asks the evaluator itself. */
struct verdict lint_decide(const struct ctx *c, long owner, const struct packet *p)
{
	if (c->o->brute_force)
		return eval_packet(c->pol, p);
	unsigned k = lint_first_in(c, owner, p, 0, (unsigned)c->n);
	if (k == c->n)
		return (struct verdict){ c->pol->dflt, NULL, -1, c->pol->dflt_log, NULL };
	for (size_t m = 0; m < c->r[k].ir_n; m++) {
		const struct ir_rule *r = &c->pol->rules[c->r[k].ir_first + m];
		if (ir_rule_matches(r, p))
			return (struct verdict){ r->action, r, r->action == ACT_ALLOW ? r->dscp : -1, r->log, NULL };
	}
	BUG("rule %u holds the packet in a product but not in its IR rules", k);
}

/* The rules in [lo, hi) that meet region r, sorted by position. r is rule
 * owner's region or lies within it: with an overlap graph, the rules that
 * owner meets are asked. */
void lint_overlapping_region(struct ctx *c, size_t owner, const struct region r[2],
			       struct cands *out, size_t lo, size_t hi)
{
	out->n = 0;
	c->stamp++;
	if (c->graph) {
		bool whole = r == c->r[owner].b;
		for (unsigned k = c->gstart[owner]; k < c->gstart[owner + 1]; k++) {
			unsigned j = c->gv[k];
			if (j >= lo && j < hi && (whole || lint_region_overlaps(c, r, j)))
				lint_cand_add(c, out, j);
		}
		return;
	}
	if (c->o->brute_force) {
		for (size_t j = lo; j < hi; j++)
			if (c->r[j].active && lint_region_overlaps(c, r, j))
				lint_cand_add(c, out, (unsigned)j);
		return;
	}
	struct collect k = { c, out };
	for (int f = 0; f < 2; f++)
		for (size_t x = 0; x < r[f].n && !(c->limit && out->n >= c->limit); x++)
			rindex_meets(c->idx[f], &r[f].v[x], (unsigned)lo, (unsigned)hi, collect_one, &k);
	/* in position order; where a rule meets many, reading the marks back
	 * in order is cheaper than sorting (FW sets at 100k) */
	if (out->n * 64 > hi - lo) {
		size_t n = 0;
		for (size_t j = lo; j < hi; j++)
			if (c->mark[j] == c->stamp)
				out->v[n++] = (unsigned)j;
	} else if (out->n > 1) {
		qsort(out->v, out->n, sizeof *out->v, lint_cmp_uint);
	}
}

/* The rules in [lo, hi) (never i) that overlap rule i. A rule's earlier
 * rules are wanted unless sampling proved it live (analyze_live), its
 * later ones only when it may be redundant: separate queries, so that
 * most rules never list them. */
void lint_overlapping(struct ctx *c, size_t i, struct cands *out, size_t lo, size_t hi)
{
	lint_overlapping_region(c, i, c->r[i].b, out, lo, hi);
	c->st->pairs += out->n;
}

/* The overlap graph: every pair of rules that meet, from one self-join of
 * the index (rindex_pairs) whose candidate pairs are then asked exactly.
 * Where rules meet few others (group estates: about one), the lists of a
 * rule's earlier and later rules, and the rules a packet of it can match,
 * are read off the graph: a query per rule and per list was most of
 * lint's time there. Where they meet many (ClassBench's FW sets), the
 * graph would be quadratic, and their long lists are better left to
 * sampling (analyze): past a budget of candidates, or of pairs, it is
 * dropped, and every list is a query again. */
#define GRAPH_PER_RULE 64	/* candidate pairs per rule, at most */
#define GRAPH_DENSE 32		/* pairs per rule, at most */

/* The candidate pairs, each once: the join meets a pair of rules once per
 * pair of their boxes that meet, tens of times for two groups. They are
 * appended as they come and sorted and made unique (by radix) whenever
 * the buffer fills: an open hash set of millions of pairs cost a cache
 * miss per pair found, a tenth of lint at 100k rules. */
#define RECENT_BITS 16	/* 2^12 to 2^16: 100k-rule group estate lint 11% faster */
#define RECENT (1u << RECENT_BITS)
#define DIGIT 11	/* radix bits a pass */

struct pairs {
	uint64_t *v, *tmp;	/* a << 32 | b, a < b; tmp: the sort's other half */
	size_t n, cap, budget;
	unsigned bits;		/* of a rule number */
	bool over;		/* budget or more distinct pairs */
	/* The pairs seen last, by a hash: the join finds a pair of rules
	 * once per pair of their boxes that meet (70 times a pair at 30k
	 * rules), mostly close together, and this answers those repeats
	 * from the cache before they reach the buffer (0 is no pair: a < b). */
	uint64_t *recent;	/* RECENT of them */
};

/* (a, b) as 2 * bits bits, in the same order as a << 32 | b. */
static uint64_t pair_key(const struct pairs *p, uint64_t x)
{
	return (x >> 32) << p->bits | (x & 0xFFFFFFFFu);
}

/* Sorts v[0, n) (LSD radix on pair_key) and drops repeats; over is set
 * when budget or more remain. */
static void compact(struct pairs *p)
{
	for (unsigned shift = 0; shift < 2 * p->bits; shift += DIGIT) {
		size_t count[(1u << DIGIT) + 1] = { 0 };
		for (size_t i = 0; i < p->n; i++)
			count[((pair_key(p, p->v[i]) >> shift) & ((1u << DIGIT) - 1)) + 1]++;
		for (size_t d = 1; d <= 1u << DIGIT; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < p->n; i++)
			p->tmp[count[(pair_key(p, p->v[i]) >> shift) & ((1u << DIGIT) - 1)]++] = p->v[i];
		uint64_t *t = p->v;
		p->v = p->tmp;
		p->tmp = t;
	}
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++)
		if (k == 0 || p->v[k - 1] != p->v[i])
			p->v[k++] = p->v[i];
	p->n = k;
	if (k >= p->budget)
		p->over = true;
}

static bool add_pair(unsigned a, unsigned b, void *arg)
{
	struct pairs *p = arg;
	uint64_t x = (uint64_t)a << 32 | b;
	uint64_t *seen = &p->recent[(x * 0x9E3779B97F4A7C15u) >> (64 - RECENT_BITS)];
	if (*seen == x)
		return true;
	*seen = x;
	if (p->n == p->cap) {
		compact(p);
		if (p->over)
			return false;
		if (p->n > p->cap / 2) {	/* mostly distinct: room for as many again */
			p->cap *= 2;
			p->v = xrealloc(p->v, p->cap * sizeof *p->v);
			p->tmp = xrealloc(p->tmp, p->cap * sizeof *p->tmp);
		}
	}
	p->v[p->n++] = x;
	return true;
}

void lint_build_graph(struct ctx *c)
{
	if (c->o->brute_force)
		return;
	struct pairs p = { .budget = GRAPH_PER_RULE * c->n + 4096, .cap = 1 << 16,
			   .recent = xcalloc(RECENT, sizeof *p.recent) };
	p.v = xcalloc(p.cap, sizeof *p.v);
	p.tmp = xcalloc(p.cap, sizeof *p.tmp);
	while (p.bits < 32 && (uint64_t)1 << p.bits < c->n)
		p.bits++;
	for (int f = 0; f < 2 && !p.over; f++)
		rindex_pairs(c->idx[f], add_pair, &p);
	free(p.recent);
	if (!p.over)
		compact(&p);
	free(p.tmp);
	if (p.over) {
		free(p.v);
		return;
	}
	/* those that meet, in order of a, then b (compact sorted them) */
	size_t n = 0;
	for (size_t m = 0; m < p.n; m++)
		if (lint_region_overlaps(c, c->r[p.v[m] >> 32].b, (unsigned)p.v[m]))
			p.v[n++] = p.v[m];
	if (n > GRAPH_DENSE * c->n) {
		/* most rules would be analysed from long lists, where sampling
		 * through the index proves most of them in a few lookups */
		free(p.v);
		return;
	}
	c->nearly = xcalloc(c->n + 1, sizeof *c->nearly);
	unsigned *nlater = xcalloc(c->n + 1, sizeof *nlater);
	for (size_t m = 0; m < n; m++) {
		nlater[p.v[m] >> 32]++;
		c->nearly[(unsigned)p.v[m]]++;
	}
	c->gstart = xcalloc(c->n + 1, sizeof *c->gstart);
	c->gv = xcalloc(2 * n + 1, sizeof *c->gv);
	for (size_t i = 0; i < c->n; i++)
		c->gstart[i + 1] = c->gstart[i] + c->nearly[i] + nlater[i];
	/* in order of a: each b gets its earlier rules in order, and each a
	 * its later ones in order of b */
	unsigned *early = xcalloc(c->n + 1, sizeof *early), *late = xcalloc(c->n + 1, sizeof *late);
	for (size_t m = 0; m < n; m++) {
		unsigned a = (unsigned)(p.v[m] >> 32), b = (unsigned)p.v[m];
		c->gv[c->gstart[b] + early[b]++] = a;
		c->gv[c->gstart[a] + c->nearly[a] + late[a]++] = b;
	}
	free(early);
	free(late);
	free(nlater);
	free(p.v);
	c->graph = true;
}

/* ---- region algebra ------------------------------------------------------ */

/* A copy of rule i's region. */
void lint_rule_region(const struct ctx *c, size_t i, struct region out[2])
{
	for (int f = 0; f < 2; f++) {
		memset(&out[f], 0, sizeof out[f]);
		region_copy(&out[f], &c->r[i].b[f]);
	}
}

void lint_regions_free(struct region r[2])
{
	region_free(&r[0]);
	region_free(&r[1]);
}

bool lint_region_empty(const struct region r[2])
{
	return r[0].n == 0 && r[1].n == 0;
}

/* r minus rule j; false (r partly subtracted) when over the cap */
bool lint_region_minus(const struct ctx *c, struct region r[2], size_t j)
{
	for (int f = 0; f < 2; f++)
		for (size_t k = 0; k < c->r[j].b[f].n && r[f].n; k++)
			if (!region_subtract(&r[f], &c->r[j].b[f].v[k], c->cap))
				return false;
	return true;
}

bool lint_region_overlaps(const struct ctx *c, const struct region r[2], size_t j)
{
	for (int f = 0; f < 2; f++)
		for (size_t b = 0; b < c->r[j].b[f].n; b++)
			if (region_meets(&r[f], &c->r[j].b[f].v[b]))
				return true;
	return false;
}

/* Whether rule i's region lies within rule j's. */
bool lint_rule_within(const struct ctx *c, size_t i, size_t j)
{
	const struct lrule *ri = &c->r[i], *rj = &c->r[j];
	/* the common case: each product of i within one of j's, without
	 * allocating; only a product no single one holds needs subtraction */
	bool all = true;
	for (int f = 0; f < 2 && all; f++)
		for (size_t a = 0; a < ri->b[f].n && all; a++) {
			bool one = false;
			for (size_t b = 0; b < rj->b[f].n && !one; b++)
				one = prod_within(&ri->b[f].v[a], &rj->b[f].v[b]);
			all = one;
		}
	if (all)
		return true;
	if (nprods(rj) == 1)
		return false;
	struct region r[2];
	lint_rule_region(c, i, r);
	bool ok = lint_region_minus(c, r, j) && lint_region_empty(r);
	lint_regions_free(r);
	return ok;
}
