/* diff.c - the exact difference of two policies (diff.h), over the real
 * products and the first-match classification of classify.h. */
#include "diff.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint_index.h"
#include "names.h"
#include "util.h"

/* ---- kinds ------------------------------------------------------------------- */

static enum diff_kind kind_of(struct decision o, struct decision n)
{
	if (o.action != ACT_ALLOW && n.action == ACT_ALLOW)
		return DIFF_OPENED;
	if (o.action == ACT_ALLOW && n.action != ACT_ALLOW)
		return DIFF_CLOSED;
	if (o.action == ACT_ALLOW && o.dscp != n.dscp)
		return DIFF_REMARKED;
	return DIFF_OTHER;
}

const char *diff_kind_name(enum diff_kind k)
{
	static const char *const names[DIFF__COUNT] = { "opened", "closed", "remarked", "other" };
	return names[k];
}

/* ---- aligning the rule lists ------------------------------------------------ */

static bool same_rule(const struct ir_rule *a, const struct ir_rule *b)
{
	return decision_equal(rule_decision(a), rule_decision(b)) && a->proto == b->proto && !a->unenforceable == !b->unenforceable &&
	       ivset_equal(a->src4, b->src4) && ivset_equal(a->src6, b->src6) &&
	       ivset_equal(a->dst4, b->dst4) && ivset_equal(a->dst6, b->dst6) &&
	       ivset_equal(a->sport, b->sport) && ivset_equal(a->dport, b->dport) &&
	       ivset_equal(a->types, b->types);
}

static uint64_t rule_hash(const struct ir_rule *r)
{
	uint64_t h = (uint64_t)r->action * 31 + (uint64_t)(r->proto + 1);
	h = h * 1000003 + (uint64_t)(r->action == ACT_ALLOW ? r->dscp + 1 : 0) * 2 + r->log;
	const struct ivset *sets[] = { &r->src4, &r->src6, &r->dst4, &r->dst6, &r->sport, &r->dport, &r->types };
	for (size_t i = 0; i < ARRAY_LEN(sets); i++)
		h = h * 0x9E3779B97F4A7C15u ^ ivset_hash(*sets[i]);
	return h ? h : 1;
}

struct align {
	const struct ir_policy *a, *b;
	uint64_t *ha, *hb;
	long *match_a;			/* per old rule: its new partner, or -1 */
	long *match_b;
};

static void pair(struct align *al, size_t i, size_t j)
{
	al->match_a[i] = (long)j;
	al->match_b[j] = (long)i;
}

/* Rule contents of one range, counted on each side: key, how often on
 * each, where (the last one). Sized to the range, so that the many small
 * ranges between anchors cost what they hold. */
struct keys {
	uint64_t *key;
	long *cnt_a, *cnt_b, *pos_b;
	size_t cap;
};

static size_t key_slot(const struct keys *t, uint64_t h)
{
	size_t i = (size_t)(h * 0x9E3779B97F4A7C15u >> 20) & (t->cap - 1);
	while (t->key[i] && t->key[i] != h)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static void count_keys(struct keys *t, const struct align *al, size_t a_lo, size_t a_hi,
		       size_t b_lo, size_t b_hi)
{
	t->cap = 64;
	while (t->cap < 2 * ((a_hi - a_lo) + (b_hi - b_lo)))
		t->cap *= 2;
	t->key = xcalloc(t->cap, sizeof *t->key);
	t->cnt_a = xcalloc(t->cap, sizeof *t->cnt_a);
	t->cnt_b = xcalloc(t->cap, sizeof *t->cnt_b);
	t->pos_b = xcalloc(t->cap, sizeof *t->pos_b);
	for (size_t i = a_lo; i < a_hi; i++) {
		size_t k = key_slot(t, al->ha[i]);
		t->key[k] = al->ha[i];
		t->cnt_a[k]++;
	}
	for (size_t j = b_lo; j < b_hi; j++) {
		size_t k = key_slot(t, al->hb[j]);
		t->key[k] = al->hb[j];
		t->cnt_b[k]++;
		t->pos_b[k] = (long)j;
	}
}

static void keys_free(struct keys *t)
{
	free(t->key);
	free(t->cnt_a);
	free(t->cnt_b);
	free(t->pos_b);
}

/* The anchors of a range (rules that occur once on each side, equal), in
 * old order, and the longest run of them in the same order on the new
 * side (patience sorting): into run_a, run_b; returns its length. */
static size_t anchor_run(const struct align *al, size_t a_lo, size_t a_hi, size_t b_lo, size_t b_hi,
			 long **run_a, long **run_b)
{
	struct keys t;
	count_keys(&t, al, a_lo, a_hi, b_lo, b_hi);
	size_t na = 0;
	long *anc = xcalloc(a_hi - a_lo + 1, sizeof *anc), *at = xcalloc(a_hi - a_lo + 1, sizeof *at);
	for (size_t i = a_lo; i < a_hi; i++) {
		size_t k = key_slot(&t, al->ha[i]);
		if (t.cnt_a[k] == 1 && t.cnt_b[k] == 1 && same_rule(&al->a->rules[i], &al->b->rules[t.pos_b[k]])) {
			at[na] = t.pos_b[k];
			anc[na++] = (long)i;
		}
	}
	keys_free(&t);
	long *tail = xcalloc(na + 1, sizeof *tail);	/* index into anc */
	long *prev = xcalloc(na + 1, sizeof *prev);
	size_t len = 0;
	for (size_t x = 0; x < na; x++) {
		size_t lo = 0, hi = len;
		while (lo < hi) {
			size_t m = (lo + hi) / 2;
			if (at[tail[m]] < at[x])
				lo = m + 1;
			else
				hi = m;
		}
		prev[x] = lo ? tail[lo - 1] : -1;
		tail[lo] = (long)x;
		if (lo == len)
			len++;
	}
	*run_a = xcalloc(len + 1, sizeof **run_a);
	*run_b = xcalloc(len + 1, sizeof **run_b);
	for (long x = len ? tail[len - 1] : -1, k = (long)len - 1; x >= 0; x = prev[x], k--) {
		(*run_a)[k] = anc[x];
		(*run_b)[k] = at[x];
	}
	free(anc);
	free(at);
	free(tail);
	free(prev);
	return len;
}

/* Patience alignment of a[a_lo, a_hi) with b[b_lo, b_hi): equal ends are
 * paired, then the longest run of anchors, and the ranges between anchors
 * are aligned the same way. Any common subsequence is correct (diff.h);
 * this one finds the rules a reviewer sees as unchanged where one edit, a
 * move or a few scattered edits are all that changed. */
static void align_range(struct align *al, size_t a_lo, size_t a_hi, size_t b_lo, size_t b_hi)
{
	for (;;) {
		while (a_lo < a_hi && b_lo < b_hi && al->ha[a_lo] == al->hb[b_lo] &&
		       same_rule(&al->a->rules[a_lo], &al->b->rules[b_lo]))
			pair(al, a_lo++, b_lo++);
		while (a_lo < a_hi && b_lo < b_hi && al->ha[a_hi - 1] == al->hb[b_hi - 1] &&
		       same_rule(&al->a->rules[a_hi - 1], &al->b->rules[b_hi - 1]))
			pair(al, --a_hi, --b_hi);
		if (a_lo == a_hi || b_lo == b_hi)
			return;
		long *run_a, *run_b;
		size_t nrun = anchor_run(al, a_lo, a_hi, b_lo, b_hi, &run_a, &run_b);
		size_t pa = a_lo, pb = b_lo;
		for (size_t k = 0; k < nrun; k++) {
			pair(al, (size_t)run_a[k], (size_t)run_b[k]);
			align_range(al, pa, (size_t)run_a[k], pb, (size_t)run_b[k]);
			pa = (size_t)run_a[k] + 1;
			pb = (size_t)run_b[k] + 1;
		}
		free(run_a);
		free(run_b);
		if (nrun == 0)
			return;
		a_lo = pa;
		b_lo = pb;	/* the last gap: round again, without recursion */
	}
}

/* ---- the changes ---------------------------------------------------------------- */

struct ctx {
	struct cls_policy old, new;
	struct diff_result *res;
	/* per (family, old rule + 1, new rule + 1): its change + 1 */
	uint64_t *gkey;
	size_t *gval, gcap;
	struct prods *gprods;		/* per change, while collecting */
};

static uint64_t group_key(int f, long o, long n)
{
	return ((uint64_t)(o + 2) << 33) ^ ((uint64_t)(n + 2) << 1) ^ (uint64_t)f;
}

static size_t group_slot(const struct ctx *c, uint64_t k)
{
	size_t i = (size_t)(k * 0x9E3779B97F4A7C15u >> 17) & (c->gcap - 1);
	while (c->gkey[i] && c->gkey[i] != k)
		i = (i + 1) & (c->gcap - 1);
	return i;
}

static void add_change(struct ctx *c, int f, long o, long n, const struct prod *p)
{
	struct diff_result *r = c->res;
	if (2 * (r->n + 1) > c->gcap) {
		size_t old = c->gcap;
		uint64_t *ok = c->gkey;
		size_t *ov = c->gval;
		c->gcap = old ? 2 * old : 256;
		c->gkey = xcalloc(c->gcap, sizeof *c->gkey);
		c->gval = xcalloc(c->gcap, sizeof *c->gval);
		for (size_t i = 0; i < old; i++)
			if (ok[i]) {
				size_t s = group_slot(c, ok[i]);
				c->gkey[s] = ok[i];
				c->gval[s] = ov[i];
			}
		free(ok);
		free(ov);
	}
	uint64_t k = group_key(f, o, n);
	size_t s = group_slot(c, k);
	if (!c->gkey[s]) {
		c->gkey[s] = k;
		r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
		c->gprods = xrealloc(c->gprods, (r->n + 1) * sizeof *c->gprods);
		c->gprods[r->n] = (struct prods){ 0 };
		struct diff_change *ch = &r->v[r->n];
		memset(ch, 0, sizeof *ch);
		ch->family = f ? 6 : 4;
		ch->old_rule = o >= 0 ? &c->old.pol->rules[o] : NULL;
		ch->new_rule = n >= 0 ? &c->new.pol->rules[n] : NULL;
		ch->old_dec = decision_of(c->old.pol, ch->old_rule);
		ch->new_dec = decision_of(c->new.pol, ch->new_rule);
		ch->kind = kind_of(ch->old_dec, ch->new_dec);
		c->gval[s] = ++r->n;
	}
	struct prod kept = prod_keep(r->ar, p);
	prods_push(&c->gprods[c->gval[s] - 1], &kept);
}

/* One part of the space the unaligned rules cover: its pieces on each
 * side, paired where they meet and decide differently. */
static bool compare_part(struct ctx *c, int f, const struct prod *q, struct arena *ar)
{
	struct pieces po = { 0 }, pn = { 0 };
	bool ok = cls_classify(&c->old, f, q, ar, &po) && cls_classify(&c->new, f, q, ar, &pn);
	for (size_t i = 0; ok && i < po.n; i++) {
		struct decision d_old = decision_of(c->old.pol, po.v[i].rule >= 0 ? &c->old.pol->rules[po.v[i].rule] : NULL);
		for (size_t j = 0; j < pn.n; j++) {
			const struct ir_rule *nr = pn.v[j].rule >= 0 ? &c->new.pol->rules[pn.v[j].rule] : NULL;
			if (decision_equal(d_old, decision_of(c->new.pol, nr)))
				continue;
			struct prod x;
			if (prod_intersect(ar, &po.v[i].p, &pn.v[j].p, &x))
				add_change(c, f, po.v[i].rule, pn.v[j].rule, &x);
		}
	}
	free(po.v);
	free(pn.v);
	return ok;
}

struct earlier {
	unsigned *v;
	size_t n, cap;
};

static bool collect(unsigned rule, void *arg)
{
	struct earlier *e = arg;
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 16;
		e->v = xrealloc(e->v, e->cap * sizeof *e->v);
	}
	e->v[e->n++] = rule;
	return true;
}

/* The products of family f that the difference lies within (diff.h), cut
 * disjoint, each compared. */
static bool compare_family(struct ctx *c, int f, const struct align *al, bool defaults_differ)
{
	struct prods cover = { 0 };
	struct iv addr[3];
	if (defaults_differ) {
		for (int k = 0; k < 3; k++) {
			struct prod p;
			class_prod(k, f ? U128_MAX : V4_MAX, &addr[k], &p);
			prods_push(&cover, &p);
		}
	} else {
		for (size_t i = 0; i < c->old.pol->nrules; i++)
			if (al->match_a[i] < 0)
				for (size_t m = c->old.start[f][i]; m < c->old.start[f][i + 1]; m++)
					prods_push(&cover, &c->old.prods[f].v[m]);
		for (size_t j = 0; j < c->new.pol->nrules; j++)
			if (al->match_b[j] < 0)
				for (size_t m = c->new.start[f][j]; m < c->new.start[f][j + 1]; m++)
					prods_push(&cover, &c->new.prods[f].v[m]);
	}
	struct rindex_rule *rr = xcalloc(cover.n + 1, sizeof *rr);
	for (size_t i = 0; i < cover.n; i++)
		rr[i] = (struct rindex_rule){ &cover.v[i], 1, ACT_ALLOW, false };
	struct rindex *ix = rindex_build(rr, cover.n);
	cls_index(&c->old, f, defaults_differ ? NULL : ix, (unsigned)cover.n);
	cls_index(&c->new, f, defaults_differ ? NULL : ix, (unsigned)cover.n);
	struct earlier e = { 0 };
	bool ok = true;
	for (size_t i = 0; i < cover.n && ok; i++) {
		struct arena *ar = arena_new();	/* this part's work */
		struct region part = { 0 };
		region_push(&part, &cover.v[i]);
		e.n = 0;
		rindex_meets(ix, &cover.v[i], 0, (unsigned)i, collect, &e);
		for (size_t k = 0; k < e.n && ok && part.n; k++)
			ok = region_subtract(&part, &cover.v[e.v[k]], CLS_MAX_PIECES);
		for (size_t m = 0; m < part.n && ok; m++)
			ok = compare_part(c, f, &part.v[m], ar);
		region_free(&part);
		arena_free(ar);
	}
	free(e.v);
	rindex_free(ix);
	free(rr);
	free(cover.v);
	return ok;
}

/* ---- merging and witnesses --------------------------------------------------------- */

/* x and y as one product, when they differ in one dimension at most. */
static bool merge_two(struct arena *a, struct prod *x, const struct prod *y)
{
	int differ = -1;
	for (int d = 0; d < PS_DIMS; d++)
		if (!ivset_equal(prod_dim(x, d), prod_dim(y, d))) {
			if (differ >= 0)
				return false;
			differ = d;
		}
	if (differ >= 0) {
		struct ivset u = ivset_union(a, prod_dim(x, differ), prod_dim(y, differ));
		prod_set_dim(x, differ, u);
	}
	return true;
}

#define MERGE_MAX 512	/* products of one change merged pairwise */

static void merge_products(struct arena *a, struct prods *ps)
{
	if (ps->n > MERGE_MAX)
		return;
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < ps->n; i++)
			for (size_t j = i + 1; j < ps->n; j++)
				if (merge_two(a, &ps->v[i], &ps->v[j])) {
					ps->v[j] = ps->v[--ps->n];
					j--;
					again = true;
				}
	}
}

static void finish(struct ctx *c)
{
	struct diff_result *r = c->res;
	for (size_t i = 0; i < r->n; i++) {
		struct diff_change *ch = &r->v[i];
		struct prods *ps = &c->gprods[i];
		merge_products(r->ar, ps);
		ch->p = arena_alloc(r->ar, ps->n * sizeof *ch->p);
		memcpy(ch->p, ps->v, ps->n * sizeof *ch->p);
		ch->n = ps->n;
		free(ps->v);
		cls_witness(&ch->p[0], ch->family, &ch->witness);
		/* the claim, checked by the evaluator itself: a wrong one is a
		 * bug to stop at, never an answer to print */
		struct verdict vo = eval_packet(c->old.pol, &ch->witness);
		struct verdict vn = eval_packet(c->new.pol, &ch->witness);
		if (vo.rule != ch->old_rule || vn.rule != ch->new_rule) {
			fprintf(stderr, "portc: internal error: a diff witness is not decided as claimed\n");
			abort();
		}
		r->count[ch->kind]++;
	}
	free(c->gprods);
	c->gprods = NULL;
}

static int cmp_change(const void *a, const void *b)
{
	const struct diff_change *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	/* in new-rule order, the default last; then the old rule's */
	long xn = x->new_rule ? (long)x->new_rule->index : LONG_MAX;
	long yn = y->new_rule ? (long)y->new_rule->index : LONG_MAX;
	if (xn != yn)
		return xn < yn ? -1 : 1;
	long xo = x->old_rule ? (long)x->old_rule->index : LONG_MAX;
	long yo = y->old_rule ? (long)y->old_rule->index : LONG_MAX;
	if (xo != yo)
		return xo < yo ? -1 : 1;
	return x->family - y->family;
}

bool diff_policies(const struct ir_policy *old, const struct ir_policy *new, struct diff_result *out)
{
	memset(out, 0, sizeof *out);
	out->ar = arena_new();
	struct ctx c = { .res = out };
	cls_init(&c.old, old);
	cls_init(&c.new, new);
	struct align al = { .a = old, .b = new };
	al.ha = xcalloc(old->nrules + 1, sizeof *al.ha);
	al.hb = xcalloc(new->nrules + 1, sizeof *al.hb);
	al.match_a = xcalloc(old->nrules + 1, sizeof *al.match_a);
	al.match_b = xcalloc(new->nrules + 1, sizeof *al.match_b);
	for (size_t i = 0; i < old->nrules; i++) {
		al.ha[i] = rule_hash(&old->rules[i]);
		al.match_a[i] = -1;
	}
	for (size_t j = 0; j < new->nrules; j++) {
		al.hb[j] = rule_hash(&new->rules[j]);
		al.match_b[j] = -1;
	}
	align_range(&al, 0, old->nrules, 0, new->nrules);
	for (size_t i = 0; i < old->nrules; i++)
		out->aligned += al.match_a[i] >= 0;
	out->unaligned_old = old->nrules - out->aligned;
	out->unaligned_new = new->nrules - out->aligned;
	bool defaults_differ = !decision_equal(decision_of(old, NULL), decision_of(new, NULL));
	bool ok = true;
	for (int f = 0; f < 2 && ok; f++)
		ok = compare_family(&c, f, &al, defaults_differ);
	if (ok) {
		finish(&c);
		if (out->n > 1)
			qsort(out->v, out->n, sizeof *out->v, cmp_change);
	} else {
		for (size_t i = 0; i < out->n; i++)
			free(c.gprods[i].v);
		free(c.gprods);
		out->too_large = true;
	}
	free(al.ha);
	free(al.hb);
	free(al.match_a);
	free(al.match_b);
	free(c.gkey);
	free(c.gval);
	cls_free(&c.old);
	cls_free(&c.new);
	return ok;
}

void diff_free(struct diff_result *r)
{
	free(r->v);
	arena_free(r->ar);
	memset(r, 0, sizeof *r);
}


void diff_print_region(struct strbuf *sb, const struct diff_change *ch)
{
	for (size_t k = 0; k < ch->n; k++) {
		sb_reset(sb);
		cls_put_prod(sb, ch->family, &ch->p[k]);
		printf("    %s\n", sb->s);
	}
	sb_reset(sb);
	packet_format(&ch->witness, sb);
	printf("    for example: %s\n", sb->s);
}

void diff_put_decision(struct strbuf *sb, struct decision d)
{
	sb_puts(sb, action_name(d.action));
	if (d.dscp >= 0) {
		const char *n = dscp_name(d.dscp);
		sb_printf(sb, " dscp %d", d.dscp);
		if (n)
			sb_printf(sb, " (%s)", n);
	}
	if (d.log)
		sb_puts(sb, " log");
}
