/* lint.c - rule anomalies in the packet space, at scale.
 *
 * A rule's region S_i is the union of the products of its IR rules (both
 * address families; region.h). For each rule i, in order:
 *
 *   shadowed     an earlier rule j with another action has S_i within S_j,
 *                or earlier rules together take all of S_i and one of
 *                them has another action                        (error)
 *   redundant    an earlier rule j with the same action has S_i within
 *                S_j; or earlier rules of the same action take all of S_i;
 *                or, where i does decide packets (its first-match region
 *                E_i is not empty), the later rules would decide every one
 *                of them the same way                           (warning)
 *   redundant-default  as the last, but some of E_i reaches the default,
 *                which would decide it the same way             (warning)
 *   generalization  an earlier rule j with another action lies within S_i
 *                (i is more general), when i is not shadowed or redundant
 *                                                               (note)
 *   correlated   an earlier rule j with another action overlaps S_i in
 *                part, neither within the other, when i is not shadowed or
 *                redundant                                      (warning)
 *   qos-conflict an earlier allow rule marks part of S_i with another DSCP
 *
 * Each names the first such j and carries a witness packet. The rules
 * that overlap a rule come from an index (lint_index.h), so a rule meets
 * only the rules it overlaps; before the exact region algebra, a few
 * sample points through the same index often prove that a rule is neither
 * shadowed nor redundant (own_points_prove, next_points_prove;
 * analyze_live then finishes it without listing). --brute-force takes
 * every pair and never samples: the oracle the tests and the benchmark
 * compare against. Subtraction is capped: a rule whose region splits into
 * more products than the cap is left undecided, not guessed. */
#include "lint.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "lint_index.h"
#include "names.h"
#include "region.h"

#define DEFAULT_MAX_FRAGMENTS 4096
#define MANY_OVERLAPS 64	/* see analyze */

struct lrule {
	size_t ir_first, ir_n;		/* its IR rules */
	struct region b[2];		/* region per family (0: IPv4, 1: IPv6) */
	enum action action;
	int dscp;			/* -1 when not allow or not marked */
	unsigned bits;			/* size: log2 of its largest product's points */
	bool active;			/* enforceable and not empty */
};

struct ctx {
	struct unit *u;
	const struct ir_policy *pol;
	const struct lint_opts *o;
	struct lint_stats *st;
	struct lrule *r;
	size_t n;
	struct rindex *idx[2];
	size_t cap;
	struct arena *tmp;		/* what the analysis of one rule builds */
	/* scratch for candidate lists */
	unsigned *mark;			/* per rule: query stamp */
	size_t limit;			/* queries stop at this many rules (0: none) */
	/* the overlap graph (build_graph): rule i meets gv[gstart[i] ..
	 * gstart[i + 1]), the nearly[i] earlier ones first, each part in
	 * order; graph is false when there is none */
	bool graph;
	unsigned *gstart, *gv, *nearly;
	struct listener *listen;	/* see build_listeners */
	size_t nlisten;
	unsigned stamp;
};

/* ---- preparation ------------------------------------------------------- */

static size_t nprods(const struct lrule *r)
{
	return r->b[0].n + r->b[1].n;
}

/* The one product of a rule of one product. */
static const struct prod *only_prod(const struct lrule *r, int *family)
{
	*family = r->b[0].n ? 0 : 1;
	return &r->b[*family].v[0];
}

static void prepare(struct ctx *c)
{
	const struct ir_policy *pol = c->pol;
	c->r = xcalloc(pol->nsource + 1, sizeof *c->r);
	c->n = 0;
	for (size_t i = 0; i < pol->nrules;) {
		size_t k = i;
		while (k < pol->nrules && pol->rules[k].source == pol->rules[i].source)
			k++;
		struct lrule *lr = &c->r[c->n++];
		lr->ir_first = i;
		lr->ir_n = k - i;
		lr->action = pol->rules[i].action;
		lr->dscp = lr->action == ACT_ALLOW ? pol->rules[i].dscp : -1;
		for (size_t m = i; m < k; m++)
			for (int f = 0; f < 2; f++) {
				struct prod p;
				if (prod_of_rule(&pol->rules[m], f ? 6 : 4, &p))
					region_push(&lr->b[f], &p);
			}
		lr->active = nprods(lr) > 0;
		for (int f = 0; f < 2; f++)
			for (size_t x = 0; x < lr->b[f].n; x++) {
				unsigned bits = prod_bits(&lr->b[f].v[x]);
				if (bits > lr->bits)
					lr->bits = bits;
			}
		i = k;
	}
	c->mark = xcalloc(c->n + 1, sizeof *c->mark);
}

static void build_index(struct ctx *c, int f)
{
	struct rindex_rule *rr = xcalloc(c->n + 1, sizeof *rr);
	for (size_t i = 0; i < c->n; i++) {
		const struct lrule *r = &c->r[i];
		if (!r->active)
			continue;
		int g;
		rr[i] = (struct rindex_rule){ r->b[f].v, r->b[f].n, r->action,
					      nprods(r) > 1 || !prod_is_box(only_prod(r, &g)) };
	}
	c->idx[f] = rindex_build(rr, c->n);
	free(rr);
}

/* ---- candidate rules ----------------------------------------------------- */

struct cands {
	unsigned *v;
	size_t n, cap;
};

static void cand_add(struct ctx *c, struct cands *out, unsigned rule)
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
	cand_add(k->c, k->out, rule);
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
static unsigned first_in(const struct ctx *c, long owner, const struct packet *p,
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
static struct verdict decide(const struct ctx *c, long owner, const struct packet *p)
{
	if (c->o->brute_force)
		return eval_packet(c->pol, p);
	unsigned k = first_in(c, owner, p, 0, (unsigned)c->n);
	if (k == c->n)
		return (struct verdict){ c->pol->dflt, NULL, -1, c->pol->dflt_log, NULL };
	for (size_t m = 0; m < c->r[k].ir_n; m++) {
		const struct ir_rule *r = &c->pol->rules[c->r[k].ir_first + m];
		if (ir_rule_matches(r, p))
			return (struct verdict){ r->action, r, r->action == ACT_ALLOW ? r->dscp : -1, r->log, NULL };
	}
	BUG("rule %u holds the packet in a product but not in its IR rules", k);
}

/* Rules by size, larger first, then by position. */
struct by_size {
	unsigned bits, rule;
};

static int cmp_larger(const void *a, const void *b)
{
	const struct by_size *x = a, *y = b;
	if (x->bits != y->bits)
		return x->bits > y->bits ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

static bool region_overlaps(const struct ctx *c, const struct region r[2], size_t j);

/* The rules in [lo, hi) that meet region r, sorted by position. r is rule
 * owner's region or lies within it: with an overlap graph, the rules that
 * owner meets are asked. */
static void overlapping_region(struct ctx *c, size_t owner, const struct region r[2],
			       struct cands *out, size_t lo, size_t hi)
{
	out->n = 0;
	c->stamp++;
	if (c->graph) {
		bool whole = r == c->r[owner].b;
		for (unsigned k = c->gstart[owner]; k < c->gstart[owner + 1]; k++) {
			unsigned j = c->gv[k];
			if (j >= lo && j < hi && (whole || region_overlaps(c, r, j)))
				cand_add(c, out, j);
		}
		return;
	}
	if (c->o->brute_force) {
		for (size_t j = lo; j < hi; j++)
			if (c->r[j].active && region_overlaps(c, r, j))
				cand_add(c, out, (unsigned)j);
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
		qsort(out->v, out->n, sizeof *out->v, cmp_uint);
	}
}

/* The rules in [lo, hi) (never i) that overlap rule i. A rule's earlier
 * rules are wanted unless sampling proved it live (analyze_live), its
 * later ones only when it may be redundant: separate queries, so that
 * most rules never list them. */
static void overlapping(struct ctx *c, size_t i, struct cands *out, size_t lo, size_t hi)
{
	overlapping_region(c, i, c->r[i].b, out, lo, hi);
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
 * pair of their boxes that meet, tens of times for two groups. An open
 * hash set (0 is free: a < b, so no pair is 0). */
struct pairs {
	uint64_t *v;	/* a << 32 | b, a < b */
	size_t n, cap, budget;
};

static size_t pair_slot(const struct pairs *p, uint64_t x)
{
	uint64_t h = x * 0x9E3779B97F4A7C15u;
	size_t i = (size_t)(h >> 17) & (p->cap - 1);
	while (p->v[i] && p->v[i] != x)
		i = (i + 1) & (p->cap - 1);
	return i;
}

static bool add_pair(unsigned a, unsigned b, void *arg)
{
	struct pairs *p = arg;
	if (2 * (p->n + 1) > p->cap) {
		struct pairs old = *p;
		p->cap = old.cap ? 2 * old.cap : 1 << 14;
		p->v = xcalloc(p->cap, sizeof *p->v);
		for (size_t i = 0; i < old.cap; i++)
			if (old.v[i])
				p->v[pair_slot(p, old.v[i])] = old.v[i];
		free(old.v);
	}
	uint64_t x = (uint64_t)a << 32 | b;
	size_t i = pair_slot(p, x);
	if (!p->v[i]) {
		if (p->n == p->budget)
			return false;
		p->v[i] = x;
		p->n++;
	}
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void build_graph(struct ctx *c)
{
	if (c->o->brute_force)
		return;
	struct pairs p = { .budget = GRAPH_PER_RULE * c->n + 4096 };
	for (int f = 0; f < 2 && p.n < p.budget; f++)
		rindex_pairs(c->idx[f], add_pair, &p);
	if (p.n >= p.budget) {
		free(p.v);
		return;
	}
	/* those that meet, in order of a, then b */
	size_t n = 0;
	for (size_t m = 0; m < p.cap; m++)
		if (p.v[m] && region_overlaps(c, c->r[p.v[m] >> 32].b, (unsigned)p.v[m]))
			p.v[n++] = p.v[m];
	if (n > 1)
		qsort(p.v, n, sizeof *p.v, cmp_u64);
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
static void rule_region(const struct ctx *c, size_t i, struct region out[2])
{
	for (int f = 0; f < 2; f++) {
		memset(&out[f], 0, sizeof out[f]);
		region_copy(&out[f], &c->r[i].b[f]);
	}
}

static void regions_free(struct region r[2])
{
	region_free(&r[0]);
	region_free(&r[1]);
}

static bool region_empty(const struct region r[2])
{
	return r[0].n == 0 && r[1].n == 0;
}

/* r minus rule j; false (r partly subtracted) when over the cap */
static bool region_minus(const struct ctx *c, struct region r[2], size_t j)
{
	for (int f = 0; f < 2; f++)
		for (size_t k = 0; k < c->r[j].b[f].n && r[f].n; k++)
			if (!region_subtract(&r[f], &c->r[j].b[f].v[k], c->cap))
				return false;
	return true;
}

static bool region_overlaps(const struct ctx *c, const struct region r[2], size_t j)
{
	for (int f = 0; f < 2; f++)
		for (size_t b = 0; b < c->r[j].b[f].n; b++)
			if (region_meets(&r[f], &c->r[j].b[f].v[b]))
				return true;
	return false;
}

/* Whether rule i's region lies within rule j's. */
static bool rule_within(const struct ctx *c, size_t i, size_t j)
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
	rule_region(c, i, r);
	bool ok = region_minus(c, r, j) && region_empty(r);
	regions_free(r);
	return ok;
}

static const char *action_verb(enum action a)
{
	return a == ACT_ALLOW ? "allows" : a == ACT_DENY ? "denies" : "rejects";
}

static bool same_decision(const struct lrule *a, const struct lrule *b)
{
	return a->action == b->action && a->dscp == b->dscp;
}

/* ---- witnesses ------------------------------------------------------------ */

/* A packet of the region: in the box of its first product's lowest
 * intervals, which reads as the first address and port of each set. */
static bool region_sample(const struct region r[2], struct packet *p)
{
	for (int f = 0; f < 2; f++)
		if (r[f].n) {
			struct box b;
			prod_first_box(&r[f].v[0], &b);
			box_sample_readable(&b, f ? 6 : 4, p);
			return true;
		}
	return false;
}

/* A packet that both rules match and that rule j (the earlier) decides,
 * when one can be found: (S_i and S_j) minus the rules before j. */
static void witness_pair(struct ctx *c, size_t i, size_t j, const struct cands *earlier,
			 struct packet *p)
{
	struct region w[2] = { { 0 }, { 0 } };
	for (int f = 0; f < 2; f++)
		for (size_t a = 0; a < c->r[i].b[f].n; a++)
			for (size_t b = 0; b < c->r[j].b[f].n; b++) {
				struct prod x;
				if (prod_intersect(c->tmp, &c->r[i].b[f].v[a], &c->r[j].b[f].v[b], &x))
					region_push(&w[f], &x);
			}
	struct packet fallback;
	bool have = region_sample(w, &fallback);
	/* the first point of S_i and S_j, if j decides it, reads best and
	 * costs one lookup; else the part of it no rule before j takes */
	if (have) {
		const struct ir_rule *by = decide(c, (long)i, &fallback).rule;
		const struct ir_rule *rj = &c->pol->rules[c->r[j].ir_first];
		if (by >= rj && by < rj + c->r[j].ir_n) {
			*p = fallback;
			regions_free(w);
			return;
		}
	}
	bool ok = true;
	/* without a list of i's earlier rules (analyze_live made none), the
	 * rules before j that meet w: the same subtractions, as the rest of
	 * i's earlier rules miss w */
	struct cands own = { 0 };
	if (!earlier) {
		overlapping_region(c, i, w, &own, 0, j);
		earlier = &own;
	}
	for (size_t k = 0; k < earlier->n && earlier->v[k] < j && ok && !region_empty(w); k++)
		if (region_overlaps(c, w, earlier->v[k]))
			ok = region_minus(c, w, earlier->v[k]);
	free(own.v);
	if (!(ok && region_sample(w, p)) && have)
		*p = fallback;
	regions_free(w);
}

static const struct ir_rule *ir_of(const struct ctx *c, size_t i)
{
	return &c->pol->rules[c->r[i].ir_first];
}

static void report(struct ctx *c, enum warn_id w, size_t i, long j, const struct packet *p,
		  bool same_without, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void report(struct ctx *c, enum warn_id w, size_t i, long j, const struct packet *p,
		  bool same_without, const char *fmt, ...)
{
	struct diag *d = c->u->diag;
	const struct ir_rule *ri = ir_of(c, i);
	va_list ap;
	va_start(ap, fmt);
	struct strbuf msg = { 0 };
	sb_init(&msg);
	sb_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (!diag_warn(d, w, ri->origin, "%s", msg.s)) {
		sb_free(&msg);
		return;
	}
	sb_free(&msg);
	if (ri->ruleset)
		diag_note(d, ri->via, "in ruleset '%s', used here", ri->ruleset);
	if (j >= 0) {
		const struct ir_rule *rj = ir_of(c, (size_t)j);
		diag_note(d, rj->origin, "the %s rule is here", (size_t)j < i ? "earlier" : "later");
		if (rj->ruleset && (rj->via.line != ri->via.line || rj->via.src != ri->via.src))
			diag_note(d, rj->via, "in ruleset '%s', used here", rj->ruleset);
	}
	if (p) {
		struct witness wt = { .pkt = *p, .matches = ri->origin, .same_without = same_without };
		if (j >= 0 && !same_without)
			wt.other = ir_of(c, (size_t)j)->origin;
		struct verdict v = decide(c, (long)i, p);
		if (v.rule)
			wt.decided_by = v.rule->origin;
		struct strbuf t = { 0 };
		sb_init(&t);
		packet_format(p, &t);
		if (v.rule)
			sb_printf(&t, " (decided by %s:%u: %s)", v.rule->origin.src->name, v.rule->origin.line,
				  action_name(v.action));
		else
			sb_printf(&t, " (decided by the default: %s)", action_name(v.action));
		diag_witness(d, &wt, sizeof wt, t.s);
		sb_free(&t);
	}
}

/* ---- the analysis of one rule ------------------------------------------- */

/* The findings of a rule that is neither shadowed nor redundant: the
 * first earlier rule of another action within it, and the first that
 * overlaps it in part. */
static void report_overlaps(struct ctx *c, size_t i, long gen, long corr,
			    const struct cands *earlier)
{
	const struct lrule *ri = &c->r[i];
	struct packet p;
	if (gen >= 0) {
		witness_pair(c, i, (size_t)gen, earlier, &p);
		report(c, W_GENERALIZATION, i, gen, &p, false, "this rule generalizes an earlier "
		      "rule that %s part of what this rule %s", action_verb(c->r[gen].action),
		      action_verb(ri->action));
	}
	if (corr >= 0) {
		witness_pair(c, i, (size_t)corr, earlier, &p);
		report(c, W_CORRELATED, i, corr, &p, false, "this rule and an earlier rule that "
		      "%s overlap in part: their order decides the packets they share",
		      action_verb(c->r[corr].action));
	}
}

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
static void analyze_live(struct ctx *c, size_t i)
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
		if (rule_within(c, j, i)) {
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
	report_overlaps(c, i, gen == below ? -1 : (long)gen, corr == below ? -1 : (long)corr, NULL);
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
	if (first_in(c, (long)i, &p, 0, (unsigned)i) != i)
		return false;
	unsigned later = first_in(c, (long)i, &p, (unsigned)i + 1, (unsigned)c->n);
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
static bool own_points_prove(const struct ctx *c, size_t i, uint64_t *seed)
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
static bool next_points_prove(const struct ctx *c, size_t i, uint64_t *seed)
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

static bool later_points_prove(const struct ctx *c, size_t i, const struct cands *later,
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

static void analyze(struct ctx *c, size_t i, struct cands *cand, struct cands *later)
{
	struct lrule *ri = &c->r[i];
	uint64_t seed = 0x5EED + i;
	bool sampled = false, listed = false;
	/* A rule that meets many earlier rules is first tried by sampling
	 * (analyze_live): listing thousands of overlaps per rule was most of
	 * the time on ClassBench's FW sets. A rule that meets few is cheaper
	 * to analyse from its list, as on the ACL sets. */
	if (!c->o->brute_force && ri->dscp < 0 && nprods(ri) == 1) {
		c->limit = MANY_OVERLAPS;
		overlapping_region(c, i, ri->b, cand, 0, i);
		c->limit = 0;
		listed = c->graph || cand->n < MANY_OVERLAPS;	/* then the list is whole */
		if (listed) {
			c->st->pairs += cand->n;
		} else if (own_points_prove(c, i, &seed) || next_points_prove(c, i, &seed)) {
			analyze_live(c, i);
			return;
		} else {
			sampled = true;
		}
	}
	if (!listed)
		overlapping(c, i, cand, 0, i);
	size_t nearlier = cand->n;
	const struct cands earlier = *cand;
	bool have_later = false;

	long shadow = -1, redundant = -1, corr = -1, gen = -1, qos = -1, diff = -1, first = -1;
	struct region e[2];
	rule_region(c, i, e);
	bool e_known = true;
	/* E_i, what is left of S_i after the earlier rules, is the same in
	 * any order of subtraction, but its fragments are not: taking the
	 * larger rules first cut the boxes of ClassBench's IPC sets to a
	 * fraction. Only the QoS check needs E after each rule in turn. */
	bool in_order = ri->dscp >= 0;
	for (size_t k = 0; k < nearlier; k++) {
		size_t j = cand->v[k];
		struct lrule *rj = &c->r[j];
		if (first < 0)
			first = (long)j;
		bool differs = rj->action != ri->action;
		if (differs && diff < 0)
			diff = (long)j;
		/* a QoS conflict is with a rule that does mark some of these
		 * packets: one that decides part of S_i (it overlaps what is
		 * left of S_i after the rules before it) */
		if (ri->dscp >= 0 && rj->dscp >= 0 && rj->dscp != ri->dscp && qos < 0 &&
		    (!e_known || region_overlaps(c, e, j)))
			qos = (long)j;
		bool within = (shadow < 0 || redundant < 0 || (differs && (corr < 0 || gen < 0)))
			      && rule_within(c, i, j);
		if (within) {
			if (differs && shadow < 0)
				shadow = (long)j;
			else if (!differs && redundant < 0)
				redundant = (long)j;
		} else if (differs && (corr < 0 || gen < 0)) {
			if (rule_within(c, j, i)) {
				if (gen < 0)
					gen = (long)j;
			} else if (corr < 0) {
				corr = (long)j;
			}
		}
		if (in_order && e_known && !region_empty(e))
			e_known = region_minus(c, e, j);
		/* a shadowed rule needs nothing more but its QoS conflict: stop
		 * early (the oracle does not, and must find the same) */
		if (!c->o->brute_force && shadow >= 0 && (qos >= 0 || ri->dscp < 0))
			break;
	}
	bool live = false;
	if (!in_order && shadow < 0 && redundant < 0 && !c->o->brute_force && nearlier >= 8) {
		live = !sampled && own_points_prove(c, i, &seed);
		if (!live && nprods(ri) == 1 && !c->graph) {
			/* the later rules one by one: an early, wide rule may
			 * meet thousands of them */
			live = !sampled && next_points_prove(c, i, &seed);
		} else if (!live) {
			overlapping(c, i, later, i + 1, c->n);
			have_later = true;
			live = later_points_prove(c, i, later, &seed);
		}
	}
	if (!in_order && shadow < 0 && redundant < 0 && !live && nearlier) {
		struct by_size *by_size = xcalloc(nearlier, sizeof *by_size);
		for (size_t k = 0; k < nearlier; k++)
			by_size[k] = (struct by_size){ c->r[cand->v[k]].bits, cand->v[k] };
		qsort(by_size, nearlier, sizeof *by_size, cmp_larger);
		for (size_t k = 0; k < nearlier && e_known && !region_empty(e); k++)
			e_known = region_minus(c, e, by_size[k].rule);
		free(by_size);
	}
	if (!e_known)
		c->st->undecided++;

	struct packet p;
	bool anomaly = true;
	if (shadow >= 0) {
		witness_pair(c, i, (size_t)shadow, &earlier, &p);
		report(c, W_SHADOWED, i, shadow, &p, false, "this rule never matches: an earlier rule "
		      "that %s matches every packet it does", action_verb(c->r[shadow].action));
	} else if (redundant >= 0) {
		witness_pair(c, i, (size_t)redundant, &earlier, &p);
		report(c, W_REDUNDANT, i, redundant, &p, false, "this rule never matches: an earlier "
		      "rule that also %s matches every packet it does", action_verb(ri->action));
	} else if (e_known && region_empty(e)) {
		witness_pair(c, i, (size_t)(diff >= 0 ? diff : first), &earlier, &p);
		if (diff >= 0)
			report(c, W_SHADOWED, i, diff, &p, false, "this rule never matches: earlier rules "
			      "together match every packet it does, and one of them %s",
			      action_verb(c->r[diff].action));
		else
			report(c, W_REDUNDANT, i, first, &p, false, "this rule never matches: earlier rules "
			      "that also %s match every packet it does", action_name(ri->action));
	} else if (e_known && !live) {
		/* i decides E_i: would the rules after it (and the default)
		 * decide those packets the same way? */
		struct region r[2] = { { 0 }, { 0 } };
		region_copy(&r[0], &e[0]);
		region_copy(&r[1], &e[1]);
		bool same = true, known = true;
		long next = -1;
		/* the later rules in order: from the index one at a time for a
		 * rule of one box (an early, wide rule may meet thousands, and
		 * the first that decides otherwise ends the walk), else listed */
		bool one_prod = !c->o->brute_force && !c->graph && nprods(ri) == 1;
		int f1;
		const struct prod *q1 = only_prod(ri, &f1);
		if (!one_prod && !have_later)
			overlapping(c, i, later, i + 1, c->n);
		for (size_t k = 0, from = i + 1; same && known && !region_empty(r); k++) {
			size_t j;
			if (one_prod) {
				j = rindex_first_meets(c->idx[f1], q1, ALL_ACTIONS, (unsigned)from,
						       (unsigned)c->n);
				if (j == c->n)
					break;
				from = j + 1;
			} else {
				if (k == later->n)
					break;
				j = later->v[k];
			}
			if (!region_overlaps(c, r, j))
				continue;
			if (!same_decision(&c->r[j], ri)) {
				same = false;
				break;
			}
			if (next < 0)
				next = (long)j;
			known = region_minus(c, r, j);
		}
		bool to_default = !region_empty(r);
		if (same && known && to_default && !(c->pol->dflt == ri->action && ri->dscp < 0))
			same = false;
		if (same && known) {
			region_sample(e, &p);
			if (to_default)
				report(c, W_REDUNDANT_DEFAULT, i, next, &p, true, "this rule only repeats "
				      "what %s would do: without it, every packet it decides would still be %s",
				      next >= 0 ? "later rules and the default" : "the default",
				      action_name(ri->action));
			else
				report(c, W_REDUNDANT, i, next, &p, true, "removing this rule would change "
				      "nothing: later rules decide every packet it decides the same way");
		} else {
			anomaly = false;
		}
		regions_free(r);
	} else {
		anomaly = false;
	}
	if (!anomaly)
		report_overlaps(c, i, gen, corr, &earlier);
	if (qos >= 0) {
		witness_pair(c, i, (size_t)qos, &earlier, &p);
		report(c, W_QOS_CONFLICT, i, qos, &p, false, "this rule marks DSCP %d, but an earlier "
		      "rule marks some of the same packets DSCP %d", ri->dscp, c->r[qos].dscp);
	}
	regions_free(e);
}

/* ---- rule-local findings ------------------------------------------------------ */

static bool full_addrs(struct ivset s, int family)
{
	return ivset_is_range(s, 0, family == 4 ? V4_MAX : U128_MAX);
}

static void local_findings(struct ctx *c, size_t i)
{
	const struct ir_rule *r = ir_of(c, i);
	struct lrule *lr = &c->r[i];
	if (r->dscp >= 0 && r->action != ACT_ALLOW) {
		report(c, W_QOS_ON_DENY, i, -1, NULL, false, "this rule %s, so its DSCP mark %d is "
		      "never applied", action_verb(r->action), r->dscp);
	}
	if (r->action == ACT_ALLOW) {
		bool any = true, have = false;
		for (size_t k = 0; k < lr->ir_n; k++) {
			const struct ir_rule *x = &c->pol->rules[lr->ir_first + k];
			if (x->unenforceable)
				continue;
			unsigned fams = ir_rule_families(x);
			for (int f = 4; f <= 6; f += 2) {
				if (!(fams & (f == 4 ? 1u : 2u)))
					continue;
				have = true;
				any &= full_addrs(f == 4 ? x->src4 : x->src6, f) &&
				       full_addrs(f == 4 ? x->dst4 : x->dst6, f);
			}
		}
		if (have && any) {
			struct packet p;
			region_sample(lr->b, &p);
			report(c, W_ANY_ANY, i, -1, &p, false, "this rule allows from any address to any "
			      "address");
		}
	}
}

/* Two rules naming different services that both let clients reach one
 * protocol and port on one host: two listeners cannot share it. */
/* The listeners of the policy: (family, protocol, host) of every allow
 * rule's IR rules with ports and one destination address, sorted, so a
 * rule finds the earlier rules on its hosts without listing its overlaps. */
struct listener {
	u128 host;
	int family, proto;
	unsigned rule;
};

static int cmp_listener(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;
	if (x->family != y->family)
		return x->family - y->family;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Appends the listener keys of rule j: one per IR rule with ports and one
 * destination address, per family. */
static void listener_keys(const struct ctx *c, size_t j, struct listener **v, size_t *n,
			  size_t *cap)
{
	for (size_t b = 0; b < c->r[j].ir_n; b++) {
		const struct ir_rule *y = &c->pol->rules[c->r[j].ir_first + b];
		if (!ir_has_ports(y->proto) || y->unenforceable)
			continue;
		for (int f = 4; f <= 6; f += 2) {
			struct ivset d = f == 4 ? y->dst4 : y->dst6;
			if (ivset_count(d) != 1)
				continue;
			if (*n == *cap) {
				*cap = *cap ? 2 * *cap : 16;
				*v = xrealloc(*v, *cap * sizeof **v);
			}
			(*v)[(*n)++] = (struct listener){ d.v[0].lo, f, y->proto, (unsigned)j };
		}
	}
}

static void build_listeners(struct ctx *c)
{
	size_t cap = 0;
	for (size_t j = 0; j < c->n; j++)
		if (c->r[j].active && ir_of(c, j)->action == ACT_ALLOW)
			listener_keys(c, j, &c->listen, &c->nlisten, &cap);
	if (c->nlisten > 1)
		qsort(c->listen, c->nlisten, sizeof *c->listen, cmp_listener);
}

/* The earlier active rules that listen where rule i does and overlap it. */
static void listener_cands(struct ctx *c, size_t i, struct cands *out)
{
	out->n = 0;
	c->stamp++;
	struct listener *keys = NULL;
	size_t nkeys = 0, cap = 0;
	listener_keys(c, i, &keys, &nkeys, &cap);
	for (size_t a = 0; a < nkeys; a++) {
		const struct listener *key = &keys[a];
		size_t lo = 0, hi = c->nlisten;
		while (lo < hi) {
			size_t m = lo + (hi - lo) / 2;
			if (cmp_listener(&c->listen[m], key) < 0)
				lo = m + 1;
			else
				hi = m;
		}
		/* key.rule is i: the entries before it are the earlier rules */
		for (size_t k = lo; k > 0; k--) {
			const struct listener *e = &c->listen[k - 1];
			if (e->family != key->family || e->proto != key->proto || e->host != key->host)
				break;
			if (c->mark[e->rule] != c->stamp && region_overlaps(c, c->r[i].b, e->rule))
				cand_add(c, out, e->rule);
		}
	}
	free(keys);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_uint);
}

static void listeners(struct ctx *c, size_t i, struct cands *cand)
{
	const struct ir_rule *ri = ir_of(c, i);
	if (ri->action != ACT_ALLOW)
		return;
	listener_cands(c, i, cand);
	for (size_t k = 0; k < cand->n; k++) {
		size_t j = cand->v[k];
		/* a listener is a service on a host: one destination address */
		for (size_t a = 0; a < c->r[i].ir_n; a++) {
			const struct ir_rule *x = &c->pol->rules[c->r[i].ir_first + a];
			if (!ir_has_ports(x->proto) || x->unenforceable)
				continue;
			for (size_t b = 0; b < c->r[j].ir_n; b++) {
				const struct ir_rule *y = &c->pol->rules[c->r[j].ir_first + b];
				if (y->proto != x->proto || y->unenforceable)
					continue;
				bool host4 = ivset_count(x->dst4) == 1 && ivset_equal(x->dst4, y->dst4);
				bool host6 = ivset_count(x->dst6) == 1 && ivset_equal(x->dst6, y->dst6);
				if (!host4 && !host6)
					continue;
				/* One listener is one name for the listening end: a
				 * named service, or the named port list of "tcp
				 * NAME". Two rules with different names on one host
				 * and port are two applications (Genesys's rule);
				 * rules that give the port as a number, whatever
				 * their notes, are clients of one listener. */
				if (!x->listener || !y->listener || strcmp(x->listener, y->listener) == 0)
					continue;
				struct arena *ar = c->u->arena;
				struct ivset common = ivset_intersect(ar, x->dport, y->dport);
				struct ivset src = ivset_intersect(ar, host4 ? x->src4 : x->src6,
								   host4 ? y->src4 : y->src6);
				struct ivset sp = ivset_intersect(ar, x->sport, y->sport);
				if (ivset_is_empty(common) || ivset_is_empty(src) || ivset_is_empty(sp))
					continue;
				/* a packet both rules match: a client of both */
				struct packet p = { .family = host4 ? 4 : 6, .proto = x->proto,
						    .dst = host4 ? x->dst4.v[0].lo : x->dst6.v[0].lo,
						    .dport = (uint16_t)common.v[0].lo,
						    .sport = ivset_contains(sp, 40000) ? 40000 : (uint16_t)sp.v[0].lo };
				p.src = src.v[0].lo;
				char h[64];
				addr_format(p.family, p.dst, h, sizeof h);
				report(c, W_LISTENER_COLLISION, i, (long)j, &p, false, "two services listen on "
				      "%s port %u of host %s: '%s' of this rule and '%s' of the earlier rule",
				      proto_name(x->proto), (unsigned)common.v[0].lo, h, x->listener, y->listener);
				return;
			}
		}
	}
}

void lint_policy(struct unit *u, const struct ir_policy *pol, const struct lint_opts *o,
		 struct lint_stats *st)
{
	struct ctx c = { .u = u, .pol = pol, .o = o, .st = st };
	c.cap = o->max_fragments ? o->max_fragments : DEFAULT_MAX_FRAGMENTS;
	prepare(&c);
	build_index(&c, 0);
	build_index(&c, 1);
	build_graph(&c);
	build_listeners(&c);
	struct cands cand = { 0 }, later = { 0 };
	for (size_t i = 0; i < c.n; i++) {
		if (!c.r[i].active)
			continue;
		st->rules++;
		/* what one rule's analysis builds dies with it */
		c.tmp = arena_new();
		analyze(&c, i, &cand, &later);
		local_findings(&c, i);
		listeners(&c, i, &cand);
		arena_free(c.tmp);
		c.tmp = NULL;
	}
	free(cand.v);
	free(later.v);
	for (size_t i = 0; i < c.n; i++)
		regions_free(c.r[i].b);
	rindex_free(c.idx[0]);
	rindex_free(c.idx[1]);
	free(c.r);
	free(c.mark);
	free(c.listen);
	free(c.gstart);
	free(c.gv);
	free(c.nearly);
}
