/* lint.c - rule anomalies in the packet space, at scale.
 *
 * A rule's region S_i is the union of the boxes of its IR rules (both
 * address families). For each rule i, in order:
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
 * Each names the first such j and carries a witness packet. The earlier
 * and later rules that overlap a rule come from an index (a max-augmented
 * tree over the boxes' destination intervals), so a rule meets only the
 * rules it overlaps; --brute-force takes every pair instead, the oracle
 * the tests compare against. Subtraction is capped: a rule whose region
 * splits into more boxes than the cap is left undecided, not guessed. */
#include "lint.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "names.h"
#include "pspace.h"

#define DEFAULT_MAX_FRAGMENTS 4096

struct lrule {
	size_t ir_first, ir_n;		/* its IR rules */
	struct boxes b[2];		/* region per family (0: IPv4, 1: IPv6) */
	enum action action;
	int dscp;			/* -1 when not allow or not marked */
	bool active;			/* enforceable and not empty */
};

struct entry {
	u128 lo, hi;			/* the box's destination interval */
	unsigned rule;
	unsigned box;
};

/* A static interval index: entries sorted by lo, with a tree of max hi. */
struct index {
	struct entry *e;
	size_t n;
	u128 *maxhi;			/* size 2*n, implicit tree over e */
};

struct ctx {
	struct unit *u;
	const struct ir_policy *pol;
	const struct lint_opts *o;
	struct lint_stats *st;
	struct lrule *r;
	size_t n;
	struct index idx[2];
	size_t cap;
	/* scratch for candidate lists */
	unsigned *mark;			/* per rule: query stamp */
	unsigned stamp;
};

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
		for (size_t m = i; m < k; m++) {
			const struct ir_rule *ir = &pol->rules[m];
			if (ir->unenforceable)
				continue;
			for (int f = 0; f < 2; f++)
				if (!rule_boxes(ir, f ? 6 : 4, &lr->b[f], (size_t)-1))
					BUG("rule too large to lint");
		}
		lr->active = lr->b[0].n || lr->b[1].n;
		i = k;
	}
	c->mark = xcalloc(c->n + 1, sizeof *c->mark);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule ? 1 : 0;
}

static u128 build_max(struct index *ix, size_t node, size_t l, size_t r)
{
	if (r - l == 1)
		return ix->maxhi[node] = ix->e[l].hi;
	size_t m = l + (r - l) / 2;
	u128 a = build_max(ix, 2 * node, l, m), b = build_max(ix, 2 * node + 1, m, r);
	return ix->maxhi[node] = a > b ? a : b;
}

static void build_index(struct ctx *c, int f)
{
	struct index *ix = &c->idx[f];
	size_t total = 0;
	for (size_t i = 0; i < c->n; i++)
		total += c->r[i].b[f].n;
	ix->e = xcalloc(total + 1, sizeof *ix->e);
	ix->n = 0;
	for (size_t i = 0; i < c->n; i++)
		for (size_t k = 0; k < c->r[i].b[f].n; k++) {
			const struct box *b = &c->r[i].b[f].v[k];
			ix->e[ix->n++] = (struct entry){ b->d[PS_DST].lo, b->d[PS_DST].hi, (unsigned)i, (unsigned)k };
		}
	qsort(ix->e, ix->n, sizeof *ix->e, cmp_entry);
	ix->maxhi = xcalloc(4 * ix->n + 4, sizeof *ix->maxhi);
	if (ix->n)
		build_max(ix, 1, 0, ix->n);
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

static void query(struct ctx *c, const struct index *ix, size_t node, size_t l, size_t r,
		  const struct box *q, struct cands *out, unsigned self)
{
	if (ix->maxhi[node] < q->d[PS_DST].lo || ix->e[l].lo > q->d[PS_DST].hi)
		return;
	if (r - l == 1) {
		const struct entry *e = &ix->e[l];
		if (e->rule != self && c->mark[e->rule] != c->stamp &&
		    box_overlaps(&c->r[e->rule].b[ix == &c->idx[1]].v[e->box], q))
			cand_add(c, out, e->rule);
		return;
	}
	size_t m = l + (r - l) / 2;
	query(c, ix, 2 * node, l, m, q, out, self);
	query(c, ix, 2 * node + 1, m, r, q, out, self);
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

static bool rules_overlap(const struct ctx *c, size_t i, size_t j)
{
	for (int f = 0; f < 2; f++)
		for (size_t a = 0; a < c->r[i].b[f].n; a++)
			for (size_t b = 0; b < c->r[j].b[f].n; b++)
				if (box_overlaps(&c->r[i].b[f].v[a], &c->r[j].b[f].v[b]))
					return true;
	return false;
}

/* Every rule overlapping rule i, sorted by position. */
static void overlapping(struct ctx *c, size_t i, struct cands *out)
{
	out->n = 0;
	c->stamp++;
	if (c->o->brute_force) {
		for (size_t j = 0; j < c->n; j++)
			if (j != i && c->r[j].active && rules_overlap(c, i, j))
				cand_add(c, out, (unsigned)j);
	} else {
		for (int f = 0; f < 2; f++)
			for (size_t k = 0; k < c->r[i].b[f].n; k++)
				if (c->idx[f].n)
					query(c, &c->idx[f], 1, 0, c->idx[f].n, &c->r[i].b[f].v[k], out,
					      (unsigned)i);
		if (out->n > 1)
			qsort(out->v, out->n, sizeof *out->v, cmp_uint);
	}
	c->st->pairs += out->n;
}

/* ---- region algebra ------------------------------------------------------ */

/* A copy of rule i's region. */
static void region_copy(const struct ctx *c, size_t i, struct boxes out[2])
{
	for (int f = 0; f < 2; f++) {
		memset(&out[f], 0, sizeof out[f]);
		for (size_t k = 0; k < c->r[i].b[f].n; k++)
			boxes_push(&out[f], &c->r[i].b[f].v[k]);
	}
}

static void region_free(struct boxes r[2])
{
	boxes_free(&r[0]);
	boxes_free(&r[1]);
}

static bool region_empty(const struct boxes r[2])
{
	return r[0].n == 0 && r[1].n == 0;
}

/* r minus rule j; false (r partly subtracted) when over the cap */
static bool region_minus(const struct ctx *c, struct boxes r[2], size_t j)
{
	for (int f = 0; f < 2; f++)
		for (size_t k = 0; k < c->r[j].b[f].n && r[f].n; k++)
			if (!boxes_subtract(&r[f], &c->r[j].b[f].v[k], c->cap))
				return false;
	return true;
}

static bool region_overlaps(const struct ctx *c, const struct boxes r[2], size_t j)
{
	for (int f = 0; f < 2; f++)
		for (size_t a = 0; a < r[f].n; a++)
			for (size_t b = 0; b < c->r[j].b[f].n; b++)
				if (box_overlaps(&r[f].v[a], &c->r[j].b[f].v[b]))
					return true;
	return false;
}

/* Whether rule i's region lies within rule j's. */
static bool rule_within(const struct ctx *c, size_t i, size_t j)
{
	/* the common case, one box each, without allocating */
	if (c->r[i].b[0].n + c->r[i].b[1].n == 1 && c->r[j].b[0].n + c->r[j].b[1].n == 1) {
		int f = c->r[i].b[0].n ? 0 : 1;
		return c->r[j].b[f].n && box_contains(&c->r[j].b[f].v[0], &c->r[i].b[f].v[0]);
	}
	struct boxes r[2];
	region_copy(c, i, r);
	bool ok = region_minus(c, r, j) && region_empty(r);
	region_free(r);
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

/* A packet in box b, chosen to read well: TCP where the protocol allows,
 * a common client port, the first address. */
static void sample(const struct box *b, int family, struct packet *p)
{
	box_sample(b, family, p);
	static const int prefer[] = { 6, 17, 1, 58 };
	for (size_t i = 0; i < ARRAY_LEN(prefer); i++) {
		if (b->d[PS_PROTO].lo <= (u128)prefer[i] && (u128)prefer[i] <= b->d[PS_PROTO].hi &&
		    !(prefer[i] == 1 && family == 6) && !(prefer[i] == 58 && family == 4)) {
			p->proto = prefer[i];
			break;
		}
	}
	if (b->d[PS_SPORT].lo <= 40000 && 40000 <= b->d[PS_SPORT].hi)
		p->sport = 40000;
	if (b->d[PS_DPORT].lo == 0 && b->d[PS_DPORT].hi == 65535)
		p->dport = 443;
	/* an address from the documentation ranges where the box allows one */
	u128 doc = family == 4 ? 0xC0000201u : (((u128)0x20010db8 << 96) | 1);
	u128 doc2 = family == 4 ? 0xC0000202u : (((u128)0x20010db8 << 96) | 2);
	if (b->d[PS_SRC].lo <= doc && doc <= b->d[PS_SRC].hi)
		p->src = doc;
	if (b->d[PS_DST].lo <= doc2 && doc2 <= b->d[PS_DST].hi)
		p->dst = doc2;
	if (!ir_has_ports(p->proto))
		p->sport = p->dport = 0;
	if (!ir_has_types(p->proto))
		p->type = 0;
}

static bool region_sample(const struct boxes r[2], struct packet *p)
{
	for (int f = 0; f < 2; f++)
		if (r[f].n) {
			sample(&r[f].v[0], f ? 6 : 4, p);
			return true;
		}
	return false;
}

/* A packet that both rules match and that rule j (the earlier) decides,
 * when one can be found: (S_i and S_j) minus the rules before j. */
static void witness_pair(struct ctx *c, size_t i, size_t j, const struct cands *earlier,
			 struct packet *p)
{
	struct boxes w[2] = { { 0 }, { 0 } };
	for (int f = 0; f < 2; f++)
		for (size_t a = 0; a < c->r[i].b[f].n; a++)
			for (size_t b = 0; b < c->r[j].b[f].n; b++) {
				struct box x;
				if (box_intersect(&c->r[i].b[f].v[a], &c->r[j].b[f].v[b], &x))
					boxes_push(&w[f], &x);
			}
	struct packet fallback;
	bool have = region_sample(w, &fallback);
	bool ok = true;
	for (size_t k = 0; k < earlier->n && earlier->v[k] < j && ok && !region_empty(w); k++)
		if (region_overlaps(c, w, earlier->v[k]))
			ok = region_minus(c, w, earlier->v[k]);
	if (!(ok && region_sample(w, p)) && have)
		*p = fallback;
	region_free(w);
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
		struct verdict v = eval_packet(c->pol, p);
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

static void analyze(struct ctx *c, size_t i, struct cands *cand)
{
	struct lrule *ri = &c->r[i];
	overlapping(c, i, cand);
	size_t nearlier = 0;
	while (nearlier < cand->n && cand->v[nearlier] < i)
		nearlier++;
	struct cands earlier = { cand->v, nearlier, 0 };

	long shadow = -1, redundant = -1, corr = -1, gen = -1, qos = -1, diff = -1, first = -1;
	struct boxes e[2];
	region_copy(c, i, e);
	bool e_known = true;
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
		if (e_known && !region_empty(e) && region_overlaps(c, e, j))
			e_known = region_minus(c, e, j);
		/* a shadowed rule needs nothing more but its QoS conflict: stop
		 * early (the oracle does not, and must find the same) */
		if (!c->o->brute_force && shadow >= 0 && (qos >= 0 || ri->dscp < 0))
			break;
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
	} else if (e_known) {
		/* i decides E_i: would the rules after it (and the default)
		 * decide those packets the same way? */
		struct boxes r[2];
		for (int f = 0; f < 2; f++) {
			memset(&r[f], 0, sizeof r[f]);
			for (size_t k = 0; k < e[f].n; k++)
				boxes_push(&r[f], &e[f].v[k]);
		}
		bool same = true, known = true;
		long later = -1;
		for (size_t k = nearlier; k < cand->n && same && known && !region_empty(r); k++) {
			size_t j = cand->v[k];
			if (!region_overlaps(c, r, j))
				continue;
			if (!same_decision(&c->r[j], ri)) {
				same = false;
				break;
			}
			if (later < 0)
				later = (long)j;
			known = region_minus(c, r, j);
		}
		bool to_default = !region_empty(r);
		if (same && known && to_default && !(c->pol->dflt == ri->action && ri->dscp < 0))
			same = false;
		if (same && known) {
			region_sample(e, &p);
			if (to_default)
				report(c, W_REDUNDANT_DEFAULT, i, later, &p, true, "this rule only repeats "
				      "what %s would do: without it, every packet it decides would still be %s",
				      later >= 0 ? "later rules and the default" : "the default",
				      action_name(ri->action));
			else
				report(c, W_REDUNDANT, i, later, &p, true, "removing this rule would change "
				      "nothing: later rules decide every packet it decides the same way");
		} else {
			anomaly = false;
		}
		region_free(r);
	} else {
		anomaly = false;
	}
	if (!anomaly) {
		if (gen >= 0) {
			witness_pair(c, i, (size_t)gen, &earlier, &p);
			report(c, W_GENERALIZATION, i, gen, &p, false, "this rule generalizes an earlier "
			      "rule that %s part of what this rule %s", action_verb(c->r[gen].action),
			      action_verb(ri->action));
		}
		if (corr >= 0) {
			witness_pair(c, i, (size_t)corr, &earlier, &p);
			report(c, W_CORRELATED, i, corr, &p, false, "this rule and an earlier rule that "
			      "%s overlap in part: their order decides the packets they share",
			      action_verb(c->r[corr].action));
		}
	}
	if (qos >= 0) {
		witness_pair(c, i, (size_t)qos, &earlier, &p);
		report(c, W_QOS_CONFLICT, i, qos, &p, false, "this rule marks DSCP %d, but an earlier "
		      "rule marks some of the same packets DSCP %d", ri->dscp, c->r[qos].dscp);
	}
	region_free(e);
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
static void listeners(struct ctx *c, size_t i, const struct cands *cand)
{
	const struct ir_rule *ri = ir_of(c, i);
	if (ri->action != ACT_ALLOW)
		return;
	for (size_t k = 0; k < cand->n && cand->v[k] < i; k++) {
		size_t j = cand->v[k];
		const struct ir_rule *rj = ir_of(c, j);
		if (rj->action != ACT_ALLOW)
			continue;
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
				const char *sx = x->service ? x->service : x->note;
				const char *sy = y->service ? y->service : y->note;
				bool different = (sx && sy) ? strcmp(sx, sy) != 0 : (sx != sy);
				struct arena *ar = c->u->arena;
				struct ivset common = ivset_intersect(ar, x->dport, y->dport);
				if (!different || ivset_is_empty(common))
					continue;
				struct packet p = { .family = host4 ? 4 : 6, .proto = x->proto,
						    .dst = host4 ? x->dst4.v[0].lo : x->dst6.v[0].lo,
						    .dport = (uint16_t)common.v[0].lo, .sport = 40000 };
				struct ivset src = host4 ? x->src4 : x->src6;
				p.src = src.n ? src.v[0].lo : 0;
				char h[64];
				addr_format(p.family, p.dst, h, sizeof h);
				report(c, W_LISTENER_COLLISION, i, (long)j, &p, false, "two services listen on "
				      "%s port %u of host %s: this rule's and the earlier rule's", proto_name(x->proto),
				      (unsigned)common.v[0].lo, h);
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
	if (!o->brute_force) {
		build_index(&c, 0);
		build_index(&c, 1);
	}
	struct cands cand = { 0 };
	for (size_t i = 0; i < c.n; i++) {
		if (!c.r[i].active)
			continue;
		st->rules++;
		analyze(&c, i, &cand);
		local_findings(&c, i);
		listeners(&c, i, &cand);
	}
	free(cand.v);
	for (size_t i = 0; i < c.n; i++) {
		boxes_free(&c.r[i].b[0]);
		boxes_free(&c.r[i].b[1]);
	}
	for (int f = 0; f < 2; f++) {
		free(c.idx[f].e);
		free(c.idx[f].maxhi);
	}
	free(c.r);
	free(c.mark);
}
