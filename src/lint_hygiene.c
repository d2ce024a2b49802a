/* lint_hygiene.c - address and port hygiene, on the tree: entries of a
 * group inside or equal to other entries, exclusions that remove nothing
 * or everything, networks that end up empty, overlapping ranges in one
 * port or service list. Values come from the evaluator (sema.h), with
 * reporting off (check already said what was wrong); what depends on a ruleset's parameters is
 * unknown here and left alone. */
#include <stdlib.h>
#include <string.h>

#include "lint.h"

struct hyg {
	struct unit *u;
	struct sema s;
};

static bool net_known(const struct netval *v)
{
	return !v->unknown && v->nsymbolic == 0;
}

static bool net_empty(const struct netval *v)
{
	return v->v4.n == 0 && v->v6.n == 0;
}

static bool net_within(const struct netval *a, const struct netval *b)
{
	return ivset_subset(a->v4, b->v4) && ivset_subset(a->v6, b->v6);
}

static bool net_equal(const struct netval *a, const struct netval *b)
{
	return ivset_equal(a->v4, b->v4) && ivset_equal(a->v6, b->v6);
}

static void walk_net(struct hyg *h, struct node *n);

/* Entries of one group, pairwise. Groups are short; very long ones (a
 * generated list) are compared by sorted first address instead. */
static void check_group(struct hyg *h, struct node *g)
{
	size_t k = g->u.list.n;
	struct netval *v = arena_calloc(h->u->arena, k + 1, sizeof *v);
	for (size_t i = 0; i < k; i++)
		v[i] = sema_net(&h->s, g->u.list.v[i], NULL);
	size_t limit = k > 2000 ? 0 : k;	/* quadratic only where cheap */
	for (size_t i = 0; i < limit; i++) {
		if (!net_known(&v[i]) || net_empty(&v[i]))
			continue;
		for (size_t j = 0; j < k; j++) {
			if (j == i || !net_known(&v[j]) || net_empty(&v[j]))
				continue;
			struct node *a = g->u.list.v[i], *b = g->u.list.v[j];
			if (net_equal(&v[i], &v[j])) {
				if (j > i)
					continue;	/* said once, at the second */
				if (diag_warn(h->u->diag, W_DUPLICATE_ENTRY, a->loc, "this entry of the "
					      "group repeats an earlier one"))
					diag_note(h->u->diag, b->loc, "the earlier entry is here");
				break;
			}
			if (net_within(&v[i], &v[j])) {
				if (diag_warn(h->u->diag, W_CONTAINED_ENTRY, a->loc, "this entry lies inside "
					      "another entry of the same group, which already covers it"))
					diag_note(h->u->diag, b->loc, "the entry that covers it is here");
				break;
			}
		}
	}
	for (size_t i = 0; i < k; i++)
		walk_net(h, g->u.list.v[i]);
}

static void walk_net(struct hyg *h, struct node *n)
{
	switch (n->kind) {
	case N_NET_GROUP:
		check_group(h, n);
		return;
	case N_NET_EXCEPT: {
		struct netval base = sema_net(&h->s, n->u.except.base, NULL);
		struct netval minus = sema_net(&h->s, n->u.except.minus, NULL);
		if (net_known(&base) && !base.unknown && !minus.unknown && !net_empty(&minus) &&
		    !net_empty(&base)) {
			struct arena *a = h->u->arena;
			bool none = ivset_is_empty(ivset_intersect(a, base.v4, minus.v4)) &&
				    ivset_is_empty(ivset_intersect(a, base.v6, minus.v6));
			if (none)
				diag_warn(h->u->diag, W_EXCLUSION_NOOP, n->u.except.minus->loc,
					  "this exclusion removes nothing: none of its addresses are in "
					  "the network before 'except'");
			else if (net_within(&base, &minus))
				diag_warn(h->u->diag, W_EXCLUSION_ALL, n->u.except.minus->loc,
					  "this exclusion removes everything: the network before 'except' "
					  "lies inside it");
		}
		walk_net(h, n->u.except.base);
		walk_net(h, n->u.except.minus);
		return;
	}
	default:
		return;
	}
}

/* A port list or a service list: ranges of one protocol that overlap. */
/* Which earlier item of a list each range meets first. A segment tree over
 * the list's own range ends (keys of protocol and port, so TCP 53 and UDP
 * 53 never meet; two ranges meet exactly where their ends, ranked, do):
 * ranges are marked in list order, so the first earlier range to meet one
 * is the smallest mark over its span. `whole[n]` is the smallest range
 * that covered node n's whole span, `least[n]` the smallest that met any
 * of it. O(n log n) time and O(n) memory a list, where comparing each
 * range with every earlier one was quadratic (a 32k-port list took
 * seconds). */
#define NONE_YET UINT32_MAX

struct port_rec {
	uint32_t lo, hi;	/* protocol slot << 16 | port */
	size_t item;		/* its item in the list */
};

struct port_tree {
	uint32_t *whole, *least;	/* 4 * m nodes, heap-ordered from 1 */
};

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* The first range that met a point of [lo, hi] (ranks). */
static uint32_t tree_first(const struct port_tree *t, size_t node, size_t nlo, size_t nhi,
			   size_t lo, size_t hi)
{
	if (hi < nlo || nhi < lo)
		return NONE_YET;
	if (lo <= nlo && nhi <= hi)
		return t->least[node];
	size_t mid = nlo + (nhi - nlo) / 2;
	return min_u32(t->whole[node], min_u32(tree_first(t, 2 * node, nlo, mid, lo, hi),
						tree_first(t, 2 * node + 1, mid + 1, nhi, lo, hi)));
}

static void tree_mark(struct port_tree *t, size_t node, size_t nlo, size_t nhi, size_t lo,
		      size_t hi, uint32_t rec)
{
	if (hi < nlo || nhi < lo)
		return;
	if (lo <= nlo && nhi <= hi) {
		t->whole[node] = min_u32(t->whole[node], rec);
		t->least[node] = min_u32(t->least[node], rec);
		return;
	}
	size_t mid = nlo + (nhi - nlo) / 2;
	tree_mark(t, 2 * node, nlo, mid, lo, hi, rec);
	tree_mark(t, 2 * node + 1, mid + 1, nhi, lo, hi, rec);
	t->least[node] = min_u32(t->least[node], rec);
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return (a > b) - (a < b);
}

static size_t rank_of(const uint32_t *keys, size_t m, uint32_t key)
{
	const uint32_t *p = bsearch(&key, keys, m, sizeof *keys, cmp_u32);
	return (size_t)(p - keys);
}

static void port_items(struct hyg *h, struct node *list, bool service)
{
	struct node_list one = { &list, 1, 1 };
	const struct node_list *items = (list->kind == N_PORT_LIST || list->kind == N_SVC_LIST)
					? &list->u.list : &one;
	struct port_rec *recs = xmalloc((items->n + 1) * sizeof *recs);
	size_t nrec = 0;
	int cur = service ? -1 : 0;
	for (size_t i = 0; i < items->n; i++) {
		struct node *n = items->v[i];
		struct node *range = NULL;
		bool all = false;	/* "tcp" alone: every port */
		if (n->kind == N_SVC_PROTO) {
			cur = n->u.svc.proto == SP_TCP ? 6 : n->u.svc.proto == SP_UDP ? 17 : -1;
			range = cur >= 0 ? n->u.svc.arg : NULL;
			all = cur >= 0 && !range;
		} else if (n->kind == N_SVC_ICMP_TYPE) {
			cur = -1;
		} else if (n->kind == N_RANGE) {
			range = cur >= 0 ? n : NULL;
		} else if (n->kind == N_REF && n->u.ref.sym && n->u.ref.sym->kind != SYM_FORMAL &&
			   n->u.ref.sym->vk != VK_PORTS) {
			cur = -1;	/* a service: items after it need their own protocol */
		}
		if (!all && (!range || range->kind != N_RANGE || range->u.range.lo > range->u.range.hi ||
			     range->u.range.hi > 65535))
			continue;
		/* protocol 0 is a plain port list's; a service list's are TCP and UDP */
		uint32_t slot = (uint32_t)(cur == 0 ? 0 : cur == 6 ? 1 : 2) << 16;
		recs[nrec++] = (struct port_rec){ slot | (all ? 0 : (uint32_t)range->u.range.lo),
						  slot | (all ? 65535 : (uint32_t)range->u.range.hi), i };
	}
	if (nrec > 1) {
		uint32_t *keys = xmalloc(2 * nrec * sizeof *keys);
		for (size_t r = 0; r < nrec; r++) {
			keys[2 * r] = recs[r].lo;
			keys[2 * r + 1] = recs[r].hi;
		}
		qsort(keys, 2 * nrec, sizeof *keys, cmp_u32);
		size_t m = 0;
		for (size_t k = 0; k < 2 * nrec; k++)
			if (m == 0 || keys[k] != keys[m - 1])
				keys[m++] = keys[k];
		struct port_tree t = { xmalloc(4 * m * sizeof *t.whole), xmalloc(4 * m * sizeof *t.least) };
		memset(t.whole, 0xFF, 4 * m * sizeof *t.whole);
		memset(t.least, 0xFF, 4 * m * sizeof *t.least);
		for (size_t r = 0; r < nrec; r++) {
			size_t lo = rank_of(keys, m, recs[r].lo), hi = rank_of(keys, m, recs[r].hi);
			uint32_t k = tree_first(&t, 1, 0, m - 1, lo, hi);
			if (k != NONE_YET) {
				bool dup = recs[k].lo == recs[r].lo && recs[k].hi == recs[r].hi;
				if (diag_warn(h->u->diag, W_PORT_OVERLAP, items->v[recs[r].item]->loc, dup ?
					      "this port range repeats an earlier one of the same list" :
					      "this port range overlaps an earlier one of the same list"))
					diag_note(h->u->diag, items->v[recs[k].item]->loc,
						  "the earlier range is here");
			}
			tree_mark(&t, 1, 0, m - 1, lo, hi, (uint32_t)r);
		}
		free(t.whole);
		free(t.least);
		free(keys);
	}
	free(recs);
}

static void walk_rule(struct hyg *h, struct node *r)
{
	walk_net(h, r->u.rule.src);
	walk_net(h, r->u.rule.dst);
	for (size_t i = 0; i < r->u.rule.opts.n; i++) {
		struct node *o = r->u.rule.opts.v[i];
		if (o->kind == N_OPT_SERVICE)
			port_items(h, o->u.opt, true);
		else if (o->kind == N_OPT_SPORT)
			port_items(h, o->u.opt, false);
	}
}

void lint_hygiene(struct unit *u)
{
	struct hyg h = { .u = u };
	h.s = (struct sema){ .arena = u->arena, .diag = u->diag, .syms = &u->syms };
	for (size_t f = 0; f < u->nfiles; f++) {
		struct node_list *items = &u->files[f]->items;
		for (size_t i = 0; i < items->n; i++) {
			struct node *n = items->v[i];
			switch (n->kind) {
			case N_DEF:
			case N_PARAM:
				if (!n->u.def.value)
					break;
				if (n->u.def.vk == VK_NETWORK || n->u.def.vk == VK_HOST) {
					walk_net(&h, n->u.def.value);
					const struct value *v = sema_symbol(&h.s, n->u.def.sym);
					if (!v->unknown && net_empty(&v->net) && v->net.nsymbolic == 0)
						diag_warn(u->diag, W_EMPTY_GROUP, n->u.def.name_loc, "'%s' holds "
							  "no address at all", n->u.def.name);
				} else if (n->u.def.vk == VK_PORTS) {
					port_items(&h, n->u.def.value, false);
				} else if (n->u.def.vk == VK_SERVICE) {
					port_items(&h, n->u.def.value, true);
				}
				break;
			case N_RULESET:
			case N_POLICY:
				h.s.formals = n->kind == N_RULESET ? &n->u.block.params : NULL;
				for (size_t k = 0; k < n->u.block.body.n; k++)
					if (n->u.block.body.v[k]->kind == N_RULE)
						walk_rule(&h, n->u.block.body.v[k]);
				h.s.formals = NULL;
				break;
			default:
				break;
			}
		}
	}
}
