/* lint_hygiene.c - address and port hygiene, on the tree: entries of a
 * group inside or equal to other entries, exclusions that remove nothing
 * or everything, networks that end up empty, overlapping ranges in one
 * port or service list. Values come from sema.c, with reporting off (check
 * already said what was wrong); what depends on a ruleset's parameters is
 * unknown here and left alone. */
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
/* The ports one list has named so far, per protocol: for each port, the
 * first item that named it. A segment tree over the 65,536 ports: since
 * items are marked in order, the first item to cover a port is the
 * smallest index marked over it. `whole[n]` is the smallest item that
 * covered node n's whole span, `least[n]` the smallest that met any port
 * in it. O(log 65536) an item, where comparing each item with every
 * earlier one was quadratic (a 32k-port list took seconds). */
enum { PORT_SPAN = 65536 };
#define NONE_YET UINT32_MAX

struct port_owners {
	uint32_t *whole, *least;	/* 2 * PORT_SPAN nodes, heap-ordered from 1 */
};

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* The first item that met a port of [lo, hi]. */
static uint32_t owners_first(const struct port_owners *o, size_t node, uint32_t nlo, uint32_t nhi,
			     uint32_t lo, uint32_t hi)
{
	if (hi < nlo || nhi < lo)
		return NONE_YET;
	if (lo <= nlo && nhi <= hi)
		return o->least[node];
	uint32_t mid = nlo + (nhi - nlo) / 2;
	return min_u32(o->whole[node], min_u32(owners_first(o, 2 * node, nlo, mid, lo, hi),
						owners_first(o, 2 * node + 1, mid + 1, nhi, lo, hi)));
}

static void owners_mark(struct port_owners *o, size_t node, uint32_t nlo, uint32_t nhi,
			uint32_t lo, uint32_t hi, uint32_t item)
{
	if (hi < nlo || nhi < lo)
		return;
	if (lo <= nlo && nhi <= hi) {
		o->whole[node] = min_u32(o->whole[node], item);
		o->least[node] = min_u32(o->least[node], item);
		return;
	}
	uint32_t mid = nlo + (nhi - nlo) / 2;
	owners_mark(o, 2 * node, nlo, mid, lo, hi, item);
	owners_mark(o, 2 * node + 1, mid + 1, nhi, lo, hi, item);
	o->least[node] = min_u32(o->least[node], item);
}

static void port_items(struct hyg *h, struct node *list, bool service)
{
	struct node_list one = { &list, 1, 1 };
	const struct node_list *items = (list->kind == N_PORT_LIST || list->kind == N_SVC_LIST)
					? &list->u.list : &one;
	/* protocol 0 is a plain port list's; a service list's are TCP and UDP */
	struct port_owners owners[3] = { { 0 } };
	int cur = service ? -1 : 0;
	struct node all = { .kind = N_RANGE };	/* "tcp" alone: every port */
	all.u.range.hi = 65535;
	for (size_t i = 0; i < items->n; i++) {
		struct node *n = items->v[i];
		struct node *range = NULL;
		if (n->kind == N_SVC_PROTO) {
			cur = n->u.svc.proto == SP_TCP ? 6 : n->u.svc.proto == SP_UDP ? 17 : -1;
			range = cur >= 0 ? n->u.svc.arg : NULL;
			if (cur >= 0 && !range)
				range = &all;
		} else if (n->kind == N_SVC_ICMP_TYPE) {
			cur = -1;
		} else if (n->kind == N_RANGE) {
			range = cur >= 0 ? n : NULL;
		} else if (n->kind == N_REF && n->u.ref.sym && n->u.ref.sym->kind != SYM_FORMAL &&
			   n->u.ref.sym->vk != VK_PORTS) {
			cur = -1;	/* a service: items after it need their own protocol */
		}
		if (!range || range->kind != N_RANGE || range->u.range.lo > range->u.range.hi ||
		    range->u.range.hi > 65535)
			continue;
		struct port_owners *o = &owners[cur == 0 ? 0 : cur == 6 ? 1 : 2];
		if (!o->whole) {
			o->whole = arena_alloc(h->u->arena, 2 * PORT_SPAN * sizeof *o->whole);
			o->least = arena_alloc(h->u->arena, 2 * PORT_SPAN * sizeof *o->least);
			memset(o->whole, 0xFF, 2 * PORT_SPAN * sizeof *o->whole);
			memset(o->least, 0xFF, 2 * PORT_SPAN * sizeof *o->least);
		}
		uint32_t lo = (uint32_t)range->u.range.lo, hi = (uint32_t)range->u.range.hi;
		uint32_t k = owners_first(o, 1, 0, PORT_SPAN - 1, lo, hi);
		if (k != NONE_YET) {
			const struct node *earlier = items->v[k];
			const struct node *er = earlier->kind == N_SVC_PROTO ? earlier->u.svc.arg : earlier;
			bool dup = er ? er->u.range.lo == lo && er->u.range.hi == hi : lo == 0 && hi == 65535;
			if (diag_warn(h->u->diag, W_PORT_OVERLAP, n->loc, dup ? "this port range repeats "
				      "an earlier one of the same list" : "this port range overlaps an "
				      "earlier one of the same list"))
				diag_note(h->u->diag, earlier->loc, "the earlier range is here");
		}
		owners_mark(o, 1, 0, PORT_SPAN - 1, lo, hi, (uint32_t)i);
	}
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
