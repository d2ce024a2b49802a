/* classify.c - which rule decides each packet of a product (classify.h). */
#include "classify.h"

#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "util.h"

/* ---- decisions ----------------------------------------------------------- */

struct decision rule_decision(const struct ir_rule *r)
{
	return (struct decision){ r->action, r->action == ACT_ALLOW ? r->dscp : -1, r->log };
}

struct decision decision_of(const struct ir_policy *pol, const struct ir_rule *r)
{
	return r ? rule_decision(r) : (struct decision){ pol->dflt, -1, pol->dflt_log };
}

bool decision_equal(struct decision a, struct decision b)
{
	return a.action == b.action && a.dscp == b.dscp && a.log == b.log;
}

/* ---- products of real packets ---------------------------------------------- */

static const struct iv ZERO = { 0, 0 }, FULL_PORT = { 0, 65535 }, FULL_TYPE = { 0, 255 };
static const struct iv PORTED[] = { { 6, 6 }, { 17, 17 } };
static const struct iv TYPED[] = { { 1, 1 }, { 58, 58 } };
static const struct iv OTHER[] = { { 0, 0 }, { 2, 5 }, { 7, 16 }, { 18, 57 }, { 59, 255 } };

static struct ivset cset(const struct iv *v, size_t n)
{
	return (struct ivset){ (struct iv *)v, n };
}

void class_prod(int c, u128 amax, struct iv *addr, struct prod *out)
{
	*addr = (struct iv){ 0, amax };
	out->multi = 0;
	prod_set_dim(out, PS_PROTO, c == 0 ? cset(PORTED, 2) : c == 1 ? cset(TYPED, 2) : cset(OTHER, 5));
	prod_set_dim(out, PS_SRC, cset(addr, 1));
	prod_set_dim(out, PS_DST, cset(addr, 1));
	prod_set_dim(out, PS_SPORT, c == 0 ? cset(&FULL_PORT, 1) : cset(&ZERO, 1));
	prod_set_dim(out, PS_DPORT, c == 0 ? cset(&FULL_PORT, 1) : cset(&ZERO, 1));
	prod_set_dim(out, PS_TYPE, c == 1 ? cset(&FULL_TYPE, 1) : cset(&ZERO, 1));
}

struct prod prod_keep(struct arena *a, const struct prod *p)
{
	struct prod q = *p;
	for (int d = 0; d < PS_DIMS; d++)
		if (p->d[d].n > 1) {
			struct iv *v = arena_alloc(a, p->d[d].n * sizeof *v);
			memcpy(v, p->d[d].v, p->d[d].n * sizeof *v);
			q.d[d].v = v;
		}
	return q;
}

void prods_push(struct prods *ps, const struct prod *p)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 16;
		ps->v = xrealloc(ps->v, ps->cap * sizeof *ps->v);
	}
	ps->v[ps->n++] = *p;
}

/* ---- a policy -------------------------------------------------------------- */

static u128 family_max(int f)
{
	return f ? U128_MAX : V4_MAX;
}

void real_prods(struct arena *a, const struct ir_rule *r, int f, struct prods *ps)
{
	struct prod p;
	if (!prod_of_rule(r, f ? 6 : 4, &p))
		return;
	p = prod_keep(a, &p);	/* prod_of_rule's protocol is on its stack */
	if (p.d[PS_PROTO].n == 1)
		p.d[PS_PROTO].v = NULL;
	for (int c = 0; c < 3; c++) {
		struct iv addr;
		struct prod cp, x;
		class_prod(c, family_max(f), &addr, &cp);
		if (prod_intersect(a, &p, &cp, &x))
			prods_push(ps, &x);
	}
}

void cls_init(struct cls_policy *s, const struct ir_policy *pol)
{
	memset(s, 0, sizeof *s);
	s->pol = pol;
	s->ar = arena_new();
	for (int f = 0; f < 2; f++) {
		s->start[f] = xcalloc(pol->nrules + 1, sizeof *s->start[f]);
		for (size_t i = 0; i < pol->nrules; i++) {
			s->start[f][i] = s->prods[f].n;
			real_prods(s->ar, &pol->rules[i], f, &s->prods[f]);
		}
		s->start[f][pol->nrules] = s->prods[f].n;
	}
}

/* Building an index over a whole 10k-rule estate cost more than all the
 * rest of a diff that touches one rule in a hundred. */
void cls_index(struct cls_policy *s, int f, struct rindex *cover, unsigned ncover)
{
	rindex_free(s->ix);
	free(s->rule_of);
	const struct ir_policy *pol = s->pol;
	struct rindex_rule *rr = xcalloc(pol->nrules + 1, sizeof *rr);
	s->rule_of = xcalloc(pol->nrules + 1, sizeof *s->rule_of);
	s->nix = 0;
	for (size_t i = 0; i < pol->nrules; i++) {
		size_t a = s->start[f][i], b = s->start[f][i + 1];
		bool meets = !cover;
		for (size_t m = a; m < b && !meets; m++)
			meets = rindex_first_meets(cover, &s->prods[f].v[m], ALL_ACTIONS, 0, ncover) < ncover;
		if (!meets)
			continue;
		rr[s->nix] = (struct rindex_rule){ s->prods[f].v + a, b - a, pol->rules[i].action, b - a > 1 };
		s->rule_of[s->nix++] = (unsigned)i;
	}
	s->ix = rindex_build(rr, s->nix);
	free(rr);
}

void cls_free(struct cls_policy *s)
{
	for (int f = 0; f < 2; f++) {
		free(s->prods[f].v);
		free(s->start[f]);
	}
	rindex_free(s->ix);
	free(s->rule_of);
	arena_free(s->ar);
}

/* ---- classifying packets by the rule that decides them ------------------------ */



void pieces_push(struct pieces *ps, const struct prod *p, long rule)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 16;
		ps->v = xrealloc(ps->v, ps->cap * sizeof *ps->v);
	}
	ps->v[ps->n++] = (struct piece){ *p, rule };
}

bool cls_classify(const struct cls_policy *s, int f, const struct prod *q, struct arena *ar,
		     struct pieces *out)
{
	struct pieces work = { 0 };	/* rule: where in the index the search resumes */
	pieces_push(&work, q, 0);
	bool ok = true;
	while (work.n && ok) {
		struct piece w = work.v[--work.n];
		unsigned at = rindex_first_meets(s->ix, &w.p, ALL_ACTIONS, (unsigned)w.rule, s->nix);
		if (at >= s->nix) {
			pieces_push(out, &w.p, -1);
			continue;
		}
		unsigned k = s->rule_of[at];
		struct region rest = { 0 };
		region_push(&rest, &w.p);
		for (size_t m = s->start[f][k]; m < s->start[f][k + 1] && ok; m++) {
			struct prod x;
			if (prod_intersect(ar, &w.p, &s->prods[f].v[m], &x))
				pieces_push(out, &x, k);
			ok = region_subtract(&rest, &s->prods[f].v[m], CLS_MAX_PIECES);
		}
		for (size_t m = 0; m < rest.n && ok; m++) {
			struct prod kept = prod_keep(ar, &rest.v[m]);
			pieces_push(&work, &kept, (long)at + 1);
		}
		region_free(&rest);
		ok = ok && out->n + work.n <= CLS_MAX_PIECES;
	}
	free(work.v);
	return ok;
}

/* ---- witnesses ----------------------------------------------------------------- */

void cls_witness(const struct prod *p, int family, struct packet *out)
{
	/* the first box, on a protocol of the family: a product of ICMP and
	 * ICMPv6 starts with ICMP, which an IPv6 packet does not carry */
	struct box b;
	prod_first_box(p, &b);
	static const int prefer[] = { 6, 17, 1, 58 };
	for (size_t i = 0; i < ARRAY_LEN(prefer); i++)
		if (ivset_contains(prod_dim(p, PS_PROTO), (u128)prefer[i]) && !(prefer[i] == 1 && family == 6) &&
		    !(prefer[i] == 58 && family == 4)) {
			b.d[PS_PROTO].lo = b.d[PS_PROTO].hi = (u128)prefer[i];
			break;
		}
	box_sample_readable(&b, family, out);
}

/* ---- text ------------------------------------------------------------------------ */

static void put_protos(struct strbuf *sb, struct ivset s)
{
	for (size_t i = 0; i < s.n; i++) {
		if (i)
			sb_puts(sb, ", ");
		const char *name = s.v[i].lo == s.v[i].hi ? proto_name((int)s.v[i].lo) : NULL;
		if (name)
			sb_puts(sb, name);
		else if (s.v[i].lo == s.v[i].hi)
			sb_printf(sb, "proto %u", (unsigned)s.v[i].lo);
		else
			sb_printf(sb, "proto %u-%u", (unsigned)s.v[i].lo, (unsigned)s.v[i].hi);
	}
}

static void put_addrs(struct strbuf *sb, int family, struct ivset s)
{
	if (ivset_is_range(s, 0, family == 4 ? V4_MAX : U128_MAX)) {
		sb_puts(sb, "any");
		return;
	}
	struct strbuf t = { 0 };
	sb_init(&t);
	unsigned n = ir_put_prefixes(&t, family, s, ", ");
	if (n > 1)
		sb_printf(sb, "{ %s }", t.s);
	else
		sb_puts(sb, t.s);
	sb_free(&t);
}

static void put_ranges(struct strbuf *sb, const char *what, struct ivset s, u128 max)
{
	if (ivset_is_range(s, 0, max))
		return;
	sb_printf(sb, " %s ", what);
	for (size_t i = 0; i < s.n; i++) {
		if (i)
			sb_puts(sb, ", ");
		sb_put_uint(sb, (unsigned)s.v[i].lo);
		if (s.v[i].hi != s.v[i].lo) {
			sb_putc(sb, '-');
			sb_put_uint(sb, (unsigned)s.v[i].hi);
		}
	}
}

void cls_put_prod(struct strbuf *sb, int family, const struct prod *p)
{
	struct ivset protos = prod_dim(p, PS_PROTO);
	bool ported = true, typed = true;
	for (size_t i = 0; i < protos.n; i++)
		for (u128 v = protos.v[i].lo; v <= protos.v[i].hi; v++) {
			ported &= ir_has_ports((int)v);
			typed &= ir_has_types((int)v);
		}
	put_protos(sb, protos);
	sb_putc(sb, ' ');
	put_addrs(sb, family, prod_dim(p, PS_SRC));
	if (ported)
		put_ranges(sb, "sport", prod_dim(p, PS_SPORT), 65535);
	sb_puts(sb, " -> ");
	put_addrs(sb, family, prod_dim(p, PS_DST));
	if (ported)
		put_ranges(sb, "dport", prod_dim(p, PS_DPORT), 65535);
	if (typed)
		put_ranges(sb, "type", prod_dim(p, PS_TYPE), 255);
}
