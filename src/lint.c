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
#include "lint_rules.h"

#include <stdlib.h>
#include <string.h>

#include "names.h"

#define DEFAULT_MAX_FRAGMENTS 4096
#define MANY_OVERLAPS 64	/* see list_earlier */

/* ---- preparation ------------------------------------------------------- */

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

/* ---- the analysis of one rule ------------------------------------------- */

/* The first earlier rule of each relation to rule i (-1: none). */
struct found {
	long shadow;		/* another action, S_i within it */
	long redundant;		/* the same action, S_i within it */
	long corr;		/* another action, overlapping in part */
	long gen;		/* another action, within S_i */
	long qos;		/* an allow that marks some of S_i with another DSCP */
	long diff;		/* the first of another action */
	long first;		/* the first of all */
};

/* Lists rule i's earlier rules into cand, or proves by sampling that it
 * is live and finishes it (true: nothing is left to do); *sampled when
 * sampling was tried and proved nothing. A rule that meets many earlier
 * rules is first tried by sampling (lint_analyze_live): listing thousands
 * of overlaps per rule was most of the time on ClassBench's FW sets. A
 * rule that meets few is cheaper to analyse from its list, as on the ACL
 * sets. */
static bool list_earlier(struct ctx *c, size_t i, struct cands *cand, uint64_t *seed, bool *sampled)
{
	const struct lrule *ri = &c->r[i];
	bool listed = false;
	*sampled = false;
	if (!c->o->brute_force && ri->dscp < 0 && nprods(ri) == 1) {
		c->limit = MANY_OVERLAPS;
		lint_overlapping_region(c, i, ri->b, cand, 0, i);
		c->limit = 0;
		listed = c->graph || cand->n < MANY_OVERLAPS;	/* then the list is whole */
		if (listed) {
			c->st->pairs += cand->n;
		} else if (lint_own_points_prove(c, i, seed) || lint_next_points_prove(c, i, seed)) {
			lint_analyze_live(c, i);
			return true;
		} else {
			*sampled = true;
		}
	}
	if (!listed)
		lint_overlapping(c, i, cand, 0, i);
	return false;
}

/* The earlier rules of cand in order: the first of each relation to rule
 * i into f; with in_order, e (S_i) loses each in turn, so that the QoS
 * check sees what is left of S_i before each rule (*e_known false once
 * that is over the cap). */
static void scan_earlier(struct ctx *c, size_t i, const struct cands *cand, bool in_order, struct region e[2],
			 bool *e_known, struct found *f)
{
	const struct lrule *ri = &c->r[i];
	for (size_t k = 0; k < cand->n; k++) {
		size_t j = cand->v[k];
		const struct lrule *rj = &c->r[j];
		if (f->first < 0)
			f->first = (long)j;
		bool differs = rj->action != ri->action;
		if (differs && f->diff < 0)
			f->diff = (long)j;
		/* a QoS conflict is with a rule that does mark some of these
		 * packets: one that decides part of S_i (it overlaps what is
		 * left of S_i after the rules before it) */
		if (ri->dscp >= 0 && rj->dscp >= 0 && rj->dscp != ri->dscp && f->qos < 0 &&
		    (!*e_known || lint_region_overlaps(c, e, j)))
			f->qos = (long)j;
		bool within = (f->shadow < 0 || f->redundant < 0 || (differs && (f->corr < 0 || f->gen < 0))) &&
			      lint_rule_within(c, i, j);
		if (within) {
			if (differs && f->shadow < 0)
				f->shadow = (long)j;
			else if (!differs && f->redundant < 0)
				f->redundant = (long)j;
		} else if (differs && (f->corr < 0 || f->gen < 0)) {
			if (lint_rule_within(c, j, i)) {
				if (f->gen < 0)
					f->gen = (long)j;
			} else if (f->corr < 0) {
				f->corr = (long)j;
			}
		}
		if (in_order && *e_known && !lint_region_empty(e))
			*e_known = lint_region_minus(c, e, j);
		/* a shadowed rule needs nothing more but its QoS conflict: stop
		 * early (the oracle does not, and must find the same) */
		if (!c->o->brute_force && f->shadow >= 0 && (f->qos >= 0 || ri->dscp < 0))
			break;
	}
}

/* Whether sampling proves rule i live (lint_own_points_prove), with the
 * later rules one by one for a rule of one box (an early, wide rule may
 * meet thousands of them), else listed into later (*have_later). */
static bool prove_live(struct ctx *c, size_t i, bool sampled, struct cands *later, bool *have_later, uint64_t *seed)
{
	bool live = !sampled && lint_own_points_prove(c, i, seed);
	if (!live && nprods(&c->r[i]) == 1 && !c->graph) {
		live = !sampled && lint_next_points_prove(c, i, seed);
	} else if (!live) {
		lint_overlapping(c, i, later, i + 1, c->n);
		*have_later = true;
		live = lint_later_points_prove(c, i, later, seed);
	}
	return live;
}

/* E_i: e (S_i) minus the earlier rules of cand. It is the same in any
 * order of subtraction, but its fragments are not: taking the larger rules
 * first cut the boxes of ClassBench's IPC sets to a fraction. False when
 * it is over the cap. */
static bool subtract_earlier(struct ctx *c, const struct cands *cand, struct region e[2])
{
	bool known = true;
	struct by_size *by_size = xcalloc(cand->n, sizeof *by_size);
	for (size_t k = 0; k < cand->n; k++)
		by_size[k] = (struct by_size){ c->r[cand->v[k]].bits, cand->v[k] };
	qsort(by_size, cand->n, sizeof *by_size, cmp_larger);
	for (size_t k = 0; k < cand->n && known && !lint_region_empty(e); k++)
		known = lint_region_minus(c, e, by_size[k].rule);
	free(by_size);
	return known;
}

/* Whether the rules after i, then the default, decide every packet of e
 * (what i decides) as i does; false also when that cannot be told (over
 * the cap). *next: the first later rule that decides some of e, *to_default:
 * some of e reaches the default. The later rules in order: from the index
 * one at a time for a rule of one box (an early, wide rule may meet
 * thousands, and the first that decides otherwise ends the walk), else
 * listed (into later, unless have_later says it holds them). */
static bool later_decide_same(struct ctx *c, size_t i, const struct region e[2], struct cands *later,
			      bool have_later, long *next, bool *to_default)
{
	const struct lrule *ri = &c->r[i];
	struct region r[2] = { { 0 }, { 0 } };
	region_copy(&r[0], &e[0]);
	region_copy(&r[1], &e[1]);
	bool same = true, known = true;
	*next = -1;
	bool one_prod = !c->o->brute_force && !c->graph && nprods(ri) == 1;
	int f1;
	const struct prod *q1 = only_prod(ri, &f1);
	if (!one_prod && !have_later)
		lint_overlapping(c, i, later, i + 1, c->n);
	for (size_t k = 0, from = i + 1; same && known && !lint_region_empty(r); k++) {
		size_t j;
		if (one_prod) {
			j = rindex_first_meets(c->idx[f1], q1, ALL_ACTIONS, (unsigned)from, (unsigned)c->n);
			if (j == c->n)
				break;
			from = j + 1;
		} else {
			if (k == later->n)
				break;
			j = later->v[k];
		}
		if (!lint_region_overlaps(c, r, j))
			continue;
		if (!same_decision(&c->r[j], ri)) {
			same = false;
			break;
		}
		if (*next < 0)
			*next = (long)j;
		known = lint_region_minus(c, r, j);
	}
	*to_default = !lint_region_empty(r);
	if (same && known && *to_default && !(c->pol->dflt == ri->action && ri->dscp < 0))
		same = false;
	lint_regions_free(r);
	return same && known;
}

/* Rule i's anomaly, reported: shadowed, redundant (by earlier rules, or
 * by what decides its packets without it), redundant-default. False when
 * it has none. e is E_i (e_known: exactly; live: i is proved to decide
 * some packet otherwise than the rest would). */
static bool report_anomaly(struct ctx *c, size_t i, const struct found *f, const struct cands *earlier,
			   const struct region e[2], bool e_known, bool live, struct cands *later, bool have_later)
{
	const struct lrule *ri = &c->r[i];
	struct packet p;
	if (f->shadow >= 0) {
		lint_witness_pair(c, i, (size_t)f->shadow, earlier, &p);
		lint_report(c, W_SHADOWED, i, f->shadow, &p, false, "this rule never matches: an earlier rule "
			    "that %s matches every packet it does", lint_action_verb(c->r[f->shadow].action));
		return true;
	}
	if (f->redundant >= 0) {
		lint_witness_pair(c, i, (size_t)f->redundant, earlier, &p);
		lint_report(c, W_REDUNDANT, i, f->redundant, &p, false, "this rule never matches: an earlier "
			    "rule that also %s matches every packet it does", lint_action_verb(ri->action));
		return true;
	}
	if (e_known && lint_region_empty(e)) {
		lint_witness_pair(c, i, (size_t)(f->diff >= 0 ? f->diff : f->first), earlier, &p);
		if (f->diff >= 0)
			lint_report(c, W_SHADOWED, i, f->diff, &p, false, "this rule never matches: earlier rules "
				    "together match every packet it does, and one of them %s",
				    lint_action_verb(c->r[f->diff].action));
		else
			lint_report(c, W_REDUNDANT, i, f->first, &p, false, "this rule never matches: earlier rules "
				    "that also %s match every packet it does", action_name(ri->action));
		return true;
	}
	if (!e_known || live)
		return false;
	/* i decides E_i: would the rules after it (and the default) decide
	 * those packets the same way? */
	long next;
	bool to_default;
	if (!later_decide_same(c, i, e, later, have_later, &next, &to_default))
		return false;
	lint_region_sample(e, &p);
	if (to_default)
		lint_report(c, W_REDUNDANT_DEFAULT, i, next, &p, true, "this rule only repeats what %s would do: "
			    "without it, every packet it decides would still be %s",
			    next >= 0 ? "later rules and the default" : "the default", action_name(ri->action));
	else
		lint_report(c, W_REDUNDANT, i, next, &p, true, "removing this rule would change nothing: later "
			    "rules decide every packet it decides the same way");
	return true;
}

static void analyze(struct ctx *c, size_t i, struct cands *cand, struct cands *later)
{
	const struct lrule *ri = &c->r[i];
	uint64_t seed = 0x5EED + i;
	bool sampled;
	if (list_earlier(c, i, cand, &seed, &sampled))
		return;
	const struct cands earlier = *cand;
	struct found f = { -1, -1, -1, -1, -1, -1, -1 };
	struct region e[2];
	lint_rule_region(c, i, e);
	bool e_known = true, have_later = false, live = false;
	/* only the QoS check needs E_i after each earlier rule in turn */
	bool in_order = ri->dscp >= 0;
	scan_earlier(c, i, cand, in_order, e, &e_known, &f);
	bool open = !in_order && f.shadow < 0 && f.redundant < 0;
	if (open && !c->o->brute_force && cand->n >= 8)
		live = prove_live(c, i, sampled, later, &have_later, &seed);
	if (open && !live && cand->n)
		e_known = subtract_earlier(c, cand, e) && e_known;
	if (!e_known)
		c->st->undecided++;
	if (!report_anomaly(c, i, &f, &earlier, e, e_known, live, later, have_later))
		lint_report_overlaps(c, i, f.gen, f.corr, &earlier);
	if (f.qos >= 0) {
		struct packet p;
		lint_witness_pair(c, i, (size_t)f.qos, &earlier, &p);
		lint_report(c, W_QOS_CONFLICT, i, f.qos, &p, false, "this rule marks DSCP %d, but an earlier "
			    "rule marks some of the same packets DSCP %d", ri->dscp, c->r[f.qos].dscp);
	}
	lint_regions_free(e);
}
void lint_policy(struct unit *u, const struct ir_policy *pol, const struct lint_opts *o,
		 struct lint_stats *st)
{
	struct ctx c = { .u = u, .pol = pol, .o = o, .st = st };
	c.cap = o->max_fragments ? o->max_fragments : DEFAULT_MAX_FRAGMENTS;
	prepare(&c);
	build_index(&c, 0);
	build_index(&c, 1);
	lint_build_graph(&c);
	lint_build_listeners(&c);
	struct cands cand = { 0 }, later = { 0 };
	for (size_t i = 0; i < c.n; i++) {
		if (!c.r[i].active)
			continue;
		st->rules++;
		/* what one rule's analysis builds dies with it */
		c.tmp = arena_new();
		analyze(&c, i, &cand, &later);
		lint_local_findings(&c, i);
		lint_listeners(&c, i, &cand);
		arena_free(c.tmp);
		c.tmp = NULL;
	}
	free(cand.v);
	free(later.v);
	for (size_t i = 0; i < c.n; i++)
		lint_regions_free(c.r[i].b);
	rindex_free(c.idx[0]);
	rindex_free(c.idx[1]);
	free(c.r);
	free(c.mark);
	free(c.listen);
	free(c.gstart);
	free(c.gv);
	free(c.nearly);
}
