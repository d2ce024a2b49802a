/* region.c - the product algebra of lint (region.h). */
#include "region.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Full dimensions and protocol numbers need storage the IR does not
 * have; they never change, so one copy serves every product. */
static const struct iv FULL_PROTO = { 0, 255 }, FULL_PORT = { 0, 65535 }, FULL_TYPE = { 0, 255 };

bool prod_of_rule(const struct ir_rule *r, int family, struct prod *out)
{
	out->multi = 0;
	if (r->unenforceable)
		return false;
	if (r->proto == IR_PROTO_ANY) {
		prod_set_dim(out, PS_PROTO, (struct ivset){ (struct iv *)&FULL_PROTO, 1 });
	} else {
		struct iv one = { (u128)r->proto, (u128)r->proto };
		prod_set_dim(out, PS_PROTO, (struct ivset){ &one, 1 });
	}
	prod_set_dim(out, PS_SRC, family == 4 ? r->src4 : r->src6);
	prod_set_dim(out, PS_DST, family == 4 ? r->dst4 : r->dst6);
	bool ports = r->proto != IR_PROTO_ANY && ir_has_ports(r->proto);
	bool types = r->proto != IR_PROTO_ANY && ir_has_types(r->proto);
	struct ivset full_port = { (struct iv *)&FULL_PORT, 1 }, full_type = { (struct iv *)&FULL_TYPE, 1 };
	prod_set_dim(out, PS_SPORT, ports ? r->sport : full_port);
	prod_set_dim(out, PS_DPORT, ports ? r->dport : full_port);
	prod_set_dim(out, PS_TYPE, types ? r->types : full_type);
	for (int i = 0; i < PS_DIMS; i++)
		if (out->d[i].n == 0)
			return false;
	return true;
}

/* ivset_overlaps, by search when one set is much smaller: a port or a
 * host against a group of 50 prefixes is the common pair. */
static bool sets_meet(struct ivset x, struct ivset y)
{
	if (x.n > y.n) {
		struct ivset t = x;
		x = y;
		y = t;
	}
	if (x.n * 8 > y.n)
		return ivset_overlaps(x, y);
	size_t j = 0;
	for (size_t i = 0; i < x.n; i++) {
		j = ivset_seek(y, j, x.v[i].lo);
		if (j == y.n)
			return false;
		if (y.v[j].lo <= x.v[i].hi)
			return true;
	}
	return false;
}

static bool set_within(struct ivset x, struct ivset y)
{
	if (x.n * 8 > y.n)
		return ivset_subset(x, y);
	size_t j = 0;
	for (size_t i = 0; i < x.n; i++) {
		j = ivset_seek(y, j, x.v[i].lo);
		if (j == y.n || y.v[j].lo > x.v[i].lo || y.v[j].hi < x.v[i].hi)
			return false;
	}
	return true;
}

/* Dimension d of p becomes op(x, y) (ivset_diff_to or _intersect_to): a
 * result of one interval is kept in p, a longer one in the arena, at its
 * size. */
static void set_op(struct arena *a, struct prod *p, int d, struct ivset x, struct ivset y,
		   size_t (*op)(struct iv *, struct ivset, struct ivset))
{
	struct iv small[16], *buf = x.n + y.n <= ARRAY_LEN(small) ? small
				   : arena_alloc(a, (x.n + y.n) * sizeof *buf);
	size_t k = op(buf, x, y);
	if (k > 1 && buf == small) {
		buf = arena_alloc(a, k * sizeof *buf);
		memcpy(buf, small, k * sizeof *buf);
	}
	prod_set_dim(p, d, (struct ivset){ buf, k });
}

/* Addresses first: they tell most products apart. */
static const int order[PS_DIMS] = { PS_DPORT, PS_DST, PS_SRC, PS_PROTO, PS_SPORT, PS_TYPE };

bool prod_overlaps(const struct prod *x, const struct prod *y)
{
	/* the hulls first: they rule out most pairs, and decide those of two
	 * boxes */
	if (!box_overlaps(&x->hull, &y->hull))
		return false;
	if (!(x->multi | y->multi))
		return true;
	for (int k = 0; k < PS_DIMS; k++)
		if (((x->multi | y->multi) >> order[k] & 1) &&
		    !sets_meet(prod_dim(x, order[k]), prod_dim(y, order[k])))
			return false;
	return true;
}

bool prod_within(const struct prod *inner, const struct prod *outer)
{
	for (int k = 0; k < PS_DIMS; k++)
		if (!set_within(prod_dim(inner, order[k]), prod_dim(outer, order[k])))
			return false;
	return true;
}

bool prod_intersect(struct arena *a, const struct prod *x, const struct prod *y, struct prod *out)
{
	if (!prod_overlaps(x, y))
		return false;
	out->multi = 0;
	for (int i = 0; i < PS_DIMS; i++) {
		struct ivset xs = prod_dim(x, i), ys = prod_dim(y, i);
		if (set_within(xs, ys))
			prod_set_dim(out, i, xs);
		else if (set_within(ys, xs))
			prod_set_dim(out, i, ys);
		else
			set_op(a, out, i, xs, ys, ivset_intersect_to);
		if (out->d[i].n == 0)
			return false;	/* overlapping per dimension: cannot happen */
	}
	return true;
}

bool prod_is_box(const struct prod *p)
{
	return p->multi == 0;
}

void prod_first_box(const struct prod *p, struct box *out)
{
	for (int i = 0; i < PS_DIMS; i++)
		out->d[i] = prod_dim(p, i).v[0];
}

bool prod_has_point(const struct prod *p, const struct box *pt)
{
	for (int k = 0; k < PS_DIMS; k++)
		if (!ivset_contains(prod_dim(p, order[k]), pt->d[order[k]].lo))
			return false;
	return true;
}

unsigned prod_bits(const struct prod *p)
{
	unsigned bits = 0;
	for (int i = 0; i < PS_DIMS; i++) {
		u128 w = ivset_count(prod_dim(p, i)) - 1;
		while (w) {
			bits++;
			w >>= 1;
		}
	}
	return bits;
}

void prod_point(const struct prod *p, int k, const uint64_t *r, struct box *out)
{
	for (int i = 0; i < PS_DIMS; i++) {
		struct ivset s = prod_dim(p, i);
		u128 v;
		if (k == 0) {
			v = s.v[0].lo;
		} else if (k == 1) {
			v = s.v[s.n - 1].hi;
		} else {
			const struct iv *iv = &s.v[r[2 * i] % s.n];
			u128 w = iv->hi - iv->lo, x = ((u128)r[2 * i] << 64) | r[2 * i + 1];
			v = iv->lo + (w == U128_MAX ? x : x % (w + 1));
		}
		out->d[i].lo = out->d[i].hi = v;
	}
}

void region_push(struct region *r, const struct prod *p)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 8;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n++] = *p;
}

void region_free(struct region *r)
{
	free(r->v);
	arena_free(r->ar);
	memset(r, 0, sizeof *r);
}

#define COMPACT_MIN (1u << 20)

/* Copies every set of r into a new arena and drops the old one. */
static void compact(struct region *r)
{
	struct arena *fresh = arena_new();
	for (size_t i = 0; i < r->n; i++)
		for (int d = 0; d < PS_DIMS; d++) {
			struct ivset s = r->v[i].d[d];
			if (s.n == 1)
				continue;	/* in the product */
			struct iv *v = arena_alloc(fresh, s.n * sizeof *v);
			memcpy(v, s.v, s.n * sizeof *v);
			r->v[i].d[d].v = v;
		}
	arena_free(r->ar);
	r->ar = fresh;
	size_t live = arena_used(fresh);
	r->next_check = 4 * live > COMPACT_MIN ? 4 * live : COMPACT_MIN;
}

void region_copy(struct region *dst, const struct region *src)
{
	dst->n = 0;
	for (size_t k = 0; k < src->n; k++)
		region_push(dst, &src->v[k]);
}

bool region_meets(const struct region *r, const struct prod *p)
{
	for (size_t k = 0; k < r->n; k++)
		if (prod_overlaps(&r->v[k], p))
			return true;
	return false;
}

/* Peels x off dimension by dimension, ports before addresses: the part
 * outside p's set in this dimension, then narrow to p's set and go on. The
 * pieces are disjoint, and a piece keeps the address groups of the product
 * it came from as they are (shared, not copied). Where a dimension of one
 * interval loses its middle, the two ends become two pieces, as a box's
 * subtraction makes them: boxes stay boxes, which need no storage.
 * Returns the number of pieces (at most 2 * PS_DIMS), written to out when
 * out is not NULL. */
static const int peel[PS_DIMS] = { PS_PROTO, PS_TYPE, PS_DPORT, PS_SPORT, PS_DST, PS_SRC };

static size_t pieces(struct arena *a, const struct prod *x, const struct prod *p,
		     struct prod *out)
{
	size_t n = 0;
	struct prod rest = *x;
	for (int k = 0; k < PS_DIMS; k++) {
		int d = peel[k];
		struct ivset rd = prod_dim(&rest, d), pd = prod_dim(p, d);
		if (set_within(rd, pd))
			continue;
		struct iv ends[2];
		size_t m = 0;
		if (rd.n == 1 && pd.n == 1) {
			/* one interval minus another: its ends */
			if (rd.v[0].lo < pd.v[0].lo)
				ends[m++] = (struct iv){ rd.v[0].lo, pd.v[0].lo - 1 };
			if (rd.v[0].hi > pd.v[0].hi)
				ends[m++] = (struct iv){ pd.v[0].hi + 1, rd.v[0].hi };
		}
		if (out) {
			if (m) {
				for (size_t e = 0; e < m; e++) {
					out[n + e] = rest;
					prod_set_dim(&out[n + e], d, (struct ivset){ &ends[e], 1 });
				}
			} else {
				out[n] = rest;
				set_op(a, &out[n], d, rd, pd, ivset_diff_to);
			}
			if (k < PS_DIMS - 1) {
				if (set_within(pd, rd))
					prod_set_dim(&rest, d, pd);
				else
					set_op(a, &rest, d, rd, pd, ivset_intersect_to);
			}
		}
		n += m ? m : 1;
	}
	return n;
}

/* prod_overlaps, inlined into the scan of region_subtract, which asks it
 * of every product of a region of thousands, for each rule subtracted
 * (ClassBench's FW sets): the hulls, in the order that tells most apart */
static inline bool meets(const struct prod *x, const struct prod *y)
{
#define MISS(i) (x->hull.d[i].hi < y->hull.d[i].lo || y->hull.d[i].hi < x->hull.d[i].lo)
	if (MISS(PS_DST) || MISS(PS_SRC) || MISS(PS_DPORT) || MISS(PS_SPORT) || MISS(PS_PROTO) ||
	    MISS(PS_TYPE))
		return false;
#undef MISS
	return !(x->multi | y->multi) || prod_overlaps(x, y);
}

bool region_subtract(struct region *r, const struct prod *p, size_t max)
{
	if (!r->ar) {
		r->ar = arena_new();
		r->next_check = COMPACT_MIN;
	}
	struct arena *a = r->ar;
	/* one scan finds the products p cuts; only those are touched again */
	size_t small[256], *hit = small, nhit = 0, hcap = ARRAY_LEN(small), n = r->n;
	for (size_t i = 0; i < n; i++) {
		if (!meets(&r->v[i], p))
			continue;
		if (nhit == hcap) {
			hcap *= 2;
			hit = hit == small ? memcpy(xcalloc(hcap, sizeof *hit), small, sizeof small)
					   : xrealloc(hit, hcap * sizeof *hit);
		}
		hit[nhit++] = i;
	}
	if (n + nhit * (2 * PS_DIMS - 1) > max) {
		/* the bound is loose; count exactly before refusing */
		size_t total = n;
		for (size_t k = 0; k < nhit; k++)
			total += pieces(a, &r->v[hit[k]], p, NULL) - 1;
		if (total > max) {
			if (hit != small)
				free(hit);
			return false;
		}
	}
	/* in place: a cut product's first piece takes its slot, the others go
	 * to the end, and products p swallows are compacted away */
	bool holes = false;
	for (size_t h = 0; h < nhit; h++) {
		size_t i = hit[h];
		struct prod out[2 * PS_DIMS];
		size_t m = pieces(a, &r->v[i], p, out);
		if (m == 0) {
			r->v[i].d[0].n = 0;	/* a hole */
			holes = true;
			continue;
		}
		r->v[i] = out[0];
		for (size_t k = 1; k < m; k++)
			region_push(r, &out[k]);
	}
	if (holes) {
		size_t k = 0;
		for (size_t i = 0; i < r->n; i++)
			if (r->v[i].d[0].n)
				r->v[k++] = r->v[i];
		r->n = k;
	}
	if (hit != small)
		free(hit);
	if (arena_used(a) > r->next_check)
		compact(r);
	return true;
}
