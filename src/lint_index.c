/* lint_index.c - a bounding-box tree over the boxes that cover rules'
 * products (lint_index.h).
 *
 * Covering. A product is covered by the boxes of its source and
 * destination intervals, each pair one box (the other dimensions as
 * hulls, the destination ports too when few), up to COVER_MAX per
 * product; a larger product has its address sets cut into chunks at their
 * widest gaps. On the bench's group estates two rules' sources meet in
 * one pair of five and their destinations likewise, while the hulls of
 * their groups nearly always do: with a few boxes per product, a query
 * met most of the tree to find one rule in a thousand.
 *
 * Ranks. The tree stores each bound as its rank among the bounds of its
 * dimension (32 bits, where an address takes 128): meeting and containment
 * are unchanged once a query's bounds are ranked the same way (lows
 * rounded up, highs down), and a node fits a cache line, which was most of
 * the cost of a descent. */
#include "lint_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define COVER_MAX 1024	/* 256 to 1024: 30k-rule group estate 1.6x faster, 16% more memory */
#define COVER_SMALL 16
/* Entries per leaf, scanned in a row: the last levels of a tree of single
 * entries were most of a descent's nodes and cache misses. */
#define LEAF 8	/* destination ports are cut too while the boxes stay under this */

struct rbox {
	uint32_t lo[PS_DIMS], hi[PS_DIMS];
};

/* One cache line: the join and the descents read an entry's box and rule
 * and little else, and at 96 bytes (a 128-bit key and the product's
 * pointer in it) most entries straddled two lines. */
struct entry {
	struct rbox b;		/* its covering box, ranked */
	uint32_t rule, pid;	/* pid: the product's number in the index */
	uint32_t key;		/* its size class (size_class) */
	unsigned char kind;	/* 1 << action, RINDEX_MULTI */
};

struct tnode {
	struct rbox bb;
	uint32_t minrule, maxrule;
	unsigned char kinds;	/* the union of its entries' */
};

/* The tree over entries [l, r): implicit, node k has children 2k and
 * 2k + 1. */
struct tree {
	size_t l, r;
	struct tnode *node;
	struct rbox *inner;	/* per node: max of the lows, min of the highs */
};

struct rindex {
	struct entry *e;	/* aligned to a cache line */
	size_t n;
	const struct prod **prod;	/* per pid */
	u128 *bound[PS_DIMS];	/* each dimension's bounds, sorted, distinct */
	size_t nbound[PS_DIMS];
	struct tree *t;		/* one per size class */
	size_t nt;
	unsigned *seen;		/* per product: the query that last asked it */
	unsigned stamp;
	/* the query, ranked */
	struct { uint32_t lo, hi; } *qv;
	size_t qcap;
};

/* n entries (at least one), zeroed, on cache-line boundaries. */
static struct entry *entries_new(size_t n)
{
	_Static_assert(sizeof(struct entry) == 64, "an entry is one cache line");
	size_t bytes = (n + 1) * sizeof(struct entry);
	struct entry *e = aligned_alloc(64, bytes);
	if (!e)
		die("out of memory");
	memset(e, 0, bytes);
	return e;
}

/* ---- covering boxes ---------------------------------------------------- */

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Where to cut set s into c chunks: after its c - 1 widest gaps. cut[k]
 * is the end (one past the last interval) of chunk k. */
static void cuts(struct ivset s, size_t c, size_t *cut)
{
	if (c >= s.n) {
		for (size_t k = 0; k < s.n; k++)
			cut[k] = k + 1;
		return;
	}
	struct weighted *g = xcalloc(s.n, sizeof *g);	/* the gaps, widest first */
	for (size_t i = 1; i < s.n; i++)
		g[i - 1] = (struct weighted){ s.v[i].lo - s.v[i - 1].hi, i };
	sort_by_weight(g, s.n - 1);
	for (size_t k = 0; k + 1 < c; k++)
		cut[k] = g[k].index;
	free(g);
	qsort(cut, c - 1, sizeof *cut, cmp_size);
	cut[c - 1] = s.n;
}

/* The boxes whose union holds p; at most COVER_MAX. */
static size_t cover(const struct prod *p, struct box *out)
{
	size_t c[PS_DIMS];
	for (int d = 0; d < PS_DIMS; d++)
		c[d] = 1;
	c[PS_SRC] = prod_dim(p, PS_SRC).n;
	c[PS_DST] = prod_dim(p, PS_DST).n;
	while (c[PS_SRC] * c[PS_DST] > COVER_MAX) {
		int d = c[PS_SRC] > c[PS_DST] ? PS_SRC : PS_DST;
		c[d] = (c[d] + 1) / 2;
	}
	if (c[PS_SRC] * c[PS_DST] * prod_dim(p, PS_DPORT).n <= COVER_SMALL)
		c[PS_DPORT] = prod_dim(p, PS_DPORT).n;
	size_t *cut[PS_DIMS];
	size_t one[PS_DIMS];
	struct ivset set[PS_DIMS];
	for (int d = 0; d < PS_DIMS; d++)
		set[d] = prod_dim(p, d);
	for (int d = 0; d < PS_DIMS; d++) {
		if (c[d] == 1) {
			one[d] = set[d].n;
			cut[d] = &one[d];
		} else {
			cut[d] = xcalloc(c[d] > set[d].n ? c[d] : set[d].n, sizeof *cut[d]);
			cuts(set[d], c[d], cut[d]);
		}
	}
	size_t idx[PS_DIMS] = { 0 }, n = 0;
	for (;;) {
		struct box *b = &out[n++];
		for (int d = 0; d < PS_DIMS; d++) {
			size_t first = idx[d] ? cut[d][idx[d] - 1] : 0, end = cut[d][idx[d]];
			b->d[d].lo = set[d].v[first].lo;
			b->d[d].hi = set[d].v[end - 1].hi;
		}
		int d = PS_DIMS - 1;
		while (d >= 0 && ++idx[d] == c[d])
			idx[d--] = 0;
		if (d < 0)
			break;
	}
	for (int d = 0; d < PS_DIMS; d++)
		if (cut[d] != &one[d])
			free(cut[d]);
	return n;
}

/* ---- ranks --------------------------------------------------------------- */

static int cmp_u128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;
	return x < y ? -1 : x > y;
}

/* The rank of the first bound at or above v (nbound when none). */
static uint32_t rank_up(const struct rindex *ix, int d, u128 v)
{
	size_t lo = 0, hi = ix->nbound[d];
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (ix->bound[d][m] < v)
			lo = m + 1;
		else
			hi = m;
	}
	return (uint32_t)lo;
}

/* The rank of the last bound at or below v, plus one (0 when none): with
 * rank_up, [rank_up(lo), rank_down(hi) - 1] are the bounds inside. */
static uint32_t rank_down(const struct rindex *ix, int d, u128 v)
{
	size_t lo = 0, hi = ix->nbound[d];
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (ix->bound[d][m] <= v)
			lo = m + 1;
		else
			hi = m;
	}
	return (uint32_t)lo;
}

/* rank_up of v, from *rank when v is *last (which it then becomes). */
static uint32_t rank_cached(const struct rindex *ix, int d, u128 v, u128 *last, uint32_t *rank)
{
	if (v != *last) {
		*last = v;
		*rank = rank_up(ix, d, v);
	}
	return *rank;
}

/* Every bound of a covering box is an end of one of its product's
 * intervals: the bounds are taken from those, each product's once (the
 * boxes repeat each many times; sorting theirs was a fifth of lint on a
 * 10k group estate). */
static void rank_bounds(struct rindex *ix, const struct rindex_rule *rules, size_t nrules,
			const struct box *boxes)
{
	for (int d = 0; d < PS_DIMS; d++) {
		size_t total = 0;
		for (size_t i = 0; i < nrules; i++)
			for (size_t k = 0; k < rules[i].n; k++)
				total += 2 * prod_dim(&rules[i].p[k], d).n;
		u128 *v = xcalloc(total + 1, sizeof *v);
		size_t m = 0;
		for (size_t i = 0; i < nrules; i++)
			for (size_t k = 0; k < rules[i].n; k++) {
				struct ivset s = prod_dim(&rules[i].p[k], d);
				for (size_t j = 0; j < s.n; j++) {
					v[m++] = s.v[j].lo;
					v[m++] = s.v[j].hi;
				}
			}
		qsort(v, m, sizeof *v, cmp_u128);
		size_t k = 0;
		for (size_t i = 0; i < m; i++)
			if (k == 0 || v[k - 1] != v[i])
				v[k++] = v[i];
		ix->bound[d] = xrealloc(v, (k + 1) * sizeof *v);
		ix->nbound[d] = k;
	}
	/* A product's boxes repeat its bounds (each source interval with every
	 * destination one, the other fields the same in all): the last value
	 * ranked in each dimension is remembered, which saves most searches. */
	u128 last_v[PS_DIMS][2];
	uint32_t last_r[PS_DIMS][2];
	for (int d = 0; d < PS_DIMS; d++) {
		last_v[d][0] = last_v[d][1] = 0;
		last_r[d][0] = last_r[d][1] = rank_up(ix, d, 0);
	}
	for (size_t i = 0; i < ix->n; i++)
		for (int d = 0; d < PS_DIMS; d++) {
			/* a bound is in the list: its rank is exact */
			ix->e[i].b.lo[d] = rank_cached(ix, d, boxes[i].d[d].lo, &last_v[d][0], &last_r[d][0]);
			ix->e[i].b.hi[d] = rank_cached(ix, d, boxes[i].d[d].hi, &last_v[d][1], &last_r[d][1]);
		}
}

/* ---- the tree ------------------------------------------------------------ */

/* The dimension to split entries [l, r) on: the one along which they are
 * most spread out for their size (the range of their starts over their
 * mean width), so that the halves share least. Mostly an address; the
 * ports where rules share addresses and services tell them apart. (A
 * fixed alternation of destination and source left most of the time in
 * false candidates on ClassBench's IPC sets, many of whose destinations
 * are wildcards.) Of a large node every so many entries are looked at,
 * SPLIT_SAMPLE in all: the choice only shapes the tree, which the
 * queries then filter exactly, and the full passes over millions of
 * entries at every level were most of the build. */
#define SPLIT_SAMPLE 2048

static int best_split(const struct rindex *ix, size_t l, size_t r)
{
	static const int dims[] = { PS_DST, PS_SRC, PS_DPORT, PS_PROTO };
	enum { ND = sizeof dims / sizeof dims[0] };
	uint32_t lo[ND], hi[ND];
	double width[ND];
	for (size_t k = 0; k < ND; k++) {
		lo[k] = UINT32_MAX;
		hi[k] = 0;
		width[k] = 0;
	}
	size_t step = (r - l + SPLIT_SAMPLE - 1) / SPLIT_SAMPLE, seen = 0;
	for (size_t i = l; i < r; i += step, seen++) {
		const struct rbox *b = &ix->e[i].b;
		for (size_t k = 0; k < ND; k++) {
			int d = dims[k];
			if (b->lo[d] < lo[k])
				lo[k] = b->lo[d];
			if (b->lo[d] > hi[k])
				hi[k] = b->lo[d];
			width[k] += (double)(b->hi[d] - b->lo[d]) + 1.0;
		}
	}
	int best = PS_DST;
	double score = -1;
	for (size_t k = 0; k < ND; k++) {
		double sc = (double)(hi[k] - lo[k]) / (width[k] / (double)seen);
		if (sc > score) {
			score = sc;
			best = dims[k];
		}
	}
	return best;
}

static void swap_entries(struct entry *e, size_t i, size_t j)
{
	struct entry t = e[i];
	e[i] = e[j];
	e[j] = t;
}

/* Entries in the order of their boxes' starts in dimension dim, then rules. */
static int cmp_at(const struct entry *x, const struct entry *y, int dim)
{
	if (x->b.lo[dim] != y->b.lo[dim])
		return x->b.lo[dim] < y->b.lo[dim] ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule ? 1 : 0;
}

/* Reorders e[l, r) so that e[m] is where a sort by cmp_at would put it,
 * with none after it before it and none before it after it: a median
 * split needs no more than that, and a sort per node made the build
 * n log^2 n. */
static void select_nth(struct entry *e, size_t l, size_t m, size_t r, int dim)
{
	while (r - l > 1) {
		/* the median of three as the pivot */
		size_t a = l, b = l + (r - l - 1) / 2, c = r - 1;
		if (cmp_at(&e[b], &e[a], dim) < 0)
			swap_entries(e, a, b);
		if (cmp_at(&e[c], &e[b], dim) < 0)
			swap_entries(e, b, c);
		if (cmp_at(&e[b], &e[a], dim) < 0)
			swap_entries(e, a, b);
		/* Hoare's partition, with a pivot before the last: both parts
		 * are non-empty, so each round shrinks [l, r) even when keys
		 * repeat */
		struct entry pivot = e[b];
		size_t i = l - 1, j = r;
		for (;;) {
			do
				i++;
			while (cmp_at(&e[i], &pivot, dim) < 0);
			do
				j--;
			while (cmp_at(&pivot, &e[j], dim) < 0);
			if (i >= j)
				break;
			swap_entries(e, i, j);
		}
		/* e[l, j] <= pivot <= e[j + 1, r) */
		if (m <= j)
			r = j + 1;
		else
			l = j + 1;
	}
}

static void build_node(struct rindex *ix, struct tree *t, size_t k, size_t l, size_t r)
{
	struct tnode *nd = &t->node[k];
	if (r - l <= LEAF) {
		nd->bb = t->inner[k] = ix->e[l].b;
		nd->minrule = nd->maxrule = ix->e[l].rule;
		nd->kinds = 0;
		for (size_t i = l; i < r; i++) {
			const struct entry *e = &ix->e[i];
			for (int d = 0; d < PS_DIMS; d++) {
				if (e->b.lo[d] < nd->bb.lo[d])
					nd->bb.lo[d] = e->b.lo[d];
				if (e->b.hi[d] > nd->bb.hi[d])
					nd->bb.hi[d] = e->b.hi[d];
				if (e->b.lo[d] > t->inner[k].lo[d])
					t->inner[k].lo[d] = e->b.lo[d];
				if (e->b.hi[d] < t->inner[k].hi[d])
					t->inner[k].hi[d] = e->b.hi[d];
			}
			if (e->rule < nd->minrule)
				nd->minrule = e->rule;
			if (e->rule > nd->maxrule)
				nd->maxrule = e->rule;
			nd->kinds |= e->kind;
		}
		return;
	}
	int dim = best_split(ix, l, r);
	size_t m = l + (r - l) / 2;
	select_nth(ix->e, l, m, r, dim);
	build_node(ix, t, 2 * k, l, m);
	build_node(ix, t, 2 * k + 1, m, r);
	const struct tnode *x = &t->node[2 * k], *y = &t->node[2 * k + 1];
	const struct rbox *xi = &t->inner[2 * k], *yi = &t->inner[2 * k + 1];
	struct rbox *in = &t->inner[k];
	for (int d = 0; d < PS_DIMS; d++) {
		nd->bb.lo[d] = x->bb.lo[d] < y->bb.lo[d] ? x->bb.lo[d] : y->bb.lo[d];
		nd->bb.hi[d] = x->bb.hi[d] > y->bb.hi[d] ? x->bb.hi[d] : y->bb.hi[d];
		in->lo[d] = xi->lo[d] > yi->lo[d] ? xi->lo[d] : yi->lo[d];
		in->hi[d] = xi->hi[d] < yi->hi[d] ? xi->hi[d] : yi->hi[d];
	}
	nd->kinds = x->kinds | y->kinds;
	nd->minrule = x->minrule < y->minrule ? x->minrule : y->minrule;
	nd->maxrule = x->maxrule > y->maxrule ? x->maxrule : y->maxrule;
}

/* The size class of box b: the bits of its source and destination widths,
 * in steps of CLASS_STEP. In one tree over boxes of every size, wide boxes
 * (a /16 of a group of /32s) made wide nodes all the way down, and a query
 * met a share of the tree that grew with it; in a tree of their own, the
 * narrow ones keep narrow nodes. */
#define CLASS_STEP 8

static unsigned width_bits(u128 w)
{
	unsigned bits = 0;
	while (w) {
		bits++;
		w >>= 1;
	}
	return bits;
}

static uint32_t size_class(const struct box *b)
{
	return (uint32_t)(width_bits(b->d[PS_SRC].hi - b->d[PS_SRC].lo) / CLASS_STEP) << 8 |
	       width_bits(b->d[PS_DST].hi - b->d[PS_DST].lo) / CLASS_STEP;
}

/* Entries sorted by class (their keys), a tree per class. */
/* Entries grouped by class (a counting sort: there are at most 17 x 17
 * classes, and a comparison sort of the entries was a tenth of lint). */
#define NCLASS (128 / CLASS_STEP + 1)

static void group_by_class(struct rindex *ix)
{
	size_t count[NCLASS * NCLASS + 1] = { 0 };
	for (size_t i = 0; i < ix->n; i++) {
		unsigned k = (unsigned)(ix->e[i].key >> 8) * NCLASS + (unsigned)(ix->e[i].key & 0xff);
		count[k + 1]++;
	}
	for (size_t k = 1; k <= NCLASS * NCLASS; k++)
		count[k] += count[k - 1];
	struct entry *out = entries_new(ix->n);
	for (size_t i = 0; i < ix->n; i++) {
		unsigned k = (unsigned)(ix->e[i].key >> 8) * NCLASS + (unsigned)(ix->e[i].key & 0xff);
		out[count[k]++] = ix->e[i];
	}
	free(ix->e);
	ix->e = out;
}

static void build_forest(struct rindex *ix)
{
	group_by_class(ix);
	size_t cap = 0;
	for (size_t l = 0; l < ix->n;) {
		size_t r = l;
		while (r < ix->n && ix->e[r].key == ix->e[l].key)
			r++;
		if (ix->nt == cap) {
			cap = cap ? 2 * cap : 8;
			ix->t = xrealloc(ix->t, cap * sizeof *ix->t);
		}
		struct tree *t = &ix->t[ix->nt++];
		*t = (struct tree){ l, r, NULL, NULL };
		/* calloc: the pages of nodes a small tree never reaches stay untouched */
		t->node = xcalloc(4 * (r - l) + 4, sizeof *t->node);
		t->inner = xcalloc(4 * (r - l) + 4, sizeof *t->inner);
		build_node(ix, t, 1, l, r);
		l = r;
	}
}

struct rindex *rindex_build(const struct rindex_rule *rules, size_t n)
{
	struct rindex *ix = xcalloc(1, sizeof *ix);
	size_t total = 0, nprod = 0;
	struct box *scratch = xcalloc(COVER_MAX, sizeof *scratch);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < rules[i].n; k++)
			total += cover(&rules[i].p[k], scratch);
		nprod += rules[i].n;
	}
	free(scratch);
	struct box *boxes = xcalloc(total + 1, sizeof *boxes);
	ix->e = entries_new(total);
	ix->prod = xcalloc(nprod + 1, sizeof *ix->prod);
	unsigned pid = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < rules[i].n; k++, pid++) {
			ix->prod[pid] = &rules[i].p[k];
			size_t m = cover(&rules[i].p[k], &boxes[ix->n]);
			for (size_t b = 0; b < m; b++, ix->n++)
				ix->e[ix->n] = (struct entry){
					.rule = (uint32_t)i, .pid = pid, .key = size_class(&boxes[ix->n]),
					.kind = (unsigned char)((1u << rules[i].action) |
								(rules[i].multi ? RINDEX_MULTI : 0)) };
		}
	rank_bounds(ix, rules, n, boxes);
	free(boxes);
	ix->seen = xcalloc(nprod + 1, sizeof *ix->seen);
	build_forest(ix);
	return ix;
}

void rindex_free(struct rindex *ix)
{
	if (!ix)
		return;
	for (int d = 0; d < PS_DIMS; d++)
		free(ix->bound[d]);
	free(ix->e);
	free(ix->prod);
	for (size_t k = 0; k < ix->nt; k++) {
		free(ix->t[k].node);
		free(ix->t[k].inner);
	}
	free(ix->t);
	free(ix->seen);
	free(ix->qv);
	free(ix);
}

/* ---- queries ------------------------------------------------------------- */

/* One query: q, ranked (its intervals per dimension in qv, and its
 * bounding box), the rules [lo, hi) and actions it asks for. The queries
 * for the lowest rule lower hi as they find one, so that the rest of the
 * descent looks only below it. */
struct walk {
	struct rindex *ix;
	const struct tree *t;	/* the tree of the descent */
	const struct prod *q;
	size_t off[PS_DIMS + 1];	/* dimension d's intervals: qv[off[d] .. off[d + 1]) */
	struct rbox qb;		/* its hull, for meeting */
	struct rbox qin;	/* its hull, for containment */
	bool qin_empty;		/* no box is within q */
	unsigned lo, hi, kinds, need;
	/* every rule (to fn), or the lowest that meets q, that has a box
	 * within q's bounds, or one across them */
	enum { ALL, FIRST, WITHIN, ACROSS } mode;
	bool (*fn)(unsigned, void *);
	void *ctx;
	bool stop;
};

/* Ranks q into w; false when q meets no box of the index. A bound of q
 * ranks as the bounds of the index inside it: exact for containment. An
 * interval of q with no bound inside meets only boxes that span it, so
 * it ranks as the two bounds around it: a box that meets q meets the
 * ranked q, and the leaf asks q itself. */
static bool walk_of(struct rindex *ix, const struct prod *q, unsigned kinds, unsigned lo,
		    unsigned hi, struct walk *w)
{
	*w = (struct walk){ .ix = ix, .q = q, .lo = lo, .hi = hi, .kinds = kinds & 0x7f,
			    .need = kinds & RINDEX_MULTI };
	if (ix->n == 0)
		return false;
	ix->stamp++;
	size_t total = 0;
	for (int d = 0; d < PS_DIMS; d++)
		total += prod_dim(q, d).n;
	if (total > ix->qcap) {
		ix->qcap = 2 * total;
		ix->qv = xrealloc(ix->qv, ix->qcap * sizeof *ix->qv);
	}
	size_t k = 0;
	for (int d = 0; d < PS_DIMS; d++) {
		w->off[d] = k;
		struct ivset s = prod_dim(q, d);
		for (size_t i = 0; i < s.n; i++) {
			uint32_t a = rank_up(ix, d, s.v[i].lo), b = rank_down(ix, d, s.v[i].hi);
			if (a < b) {
				ix->qv[k].lo = a;
				ix->qv[k++].hi = b - 1;
			} else if (a > 0 && a < ix->nbound[d]) {
				ix->qv[k].lo = a - 1;
				ix->qv[k++].hi = a;
			}
		}
		if (k == w->off[d])
			return false;
		w->qb.lo[d] = ix->qv[w->off[d]].lo;
		w->qb.hi[d] = ix->qv[k - 1].hi;
		/* containment: exact, and empty when no bound is inside */
		uint32_t a = rank_up(ix, d, s.v[0].lo);
		uint32_t b = rank_down(ix, d, s.v[s.n - 1].hi);
		w->qin.lo[d] = a;
		w->qin.hi[d] = b - 1;
		if (a >= b)
			w->qin_empty = true;
	}
	w->off[PS_DIMS] = k;
	return true;
}

static bool rbox_meets(const struct rbox *x, const struct rbox *y)
{
	for (int d = 0; d < PS_DIMS; d++)
		if (x->hi[d] < y->lo[d] || y->hi[d] < x->lo[d])
			return false;
	return true;
}

static bool rbox_within(const struct rbox *in, const struct rbox *out)
{
	for (int d = 0; d < PS_DIMS; d++)
		if (in->lo[d] < out->lo[d] || in->hi[d] > out->hi[d])
			return false;
	return true;
}

/* Whether the ranked q meets box b: in every dimension one of its
 * intervals does (the first that ends at or after b's start). */
static bool q_meets(const struct walk *w, const struct rbox *b)
{
	const struct rindex *ix = w->ix;
	for (int d = 0; d < PS_DIMS; d++) {
		size_t lo = w->off[d], hi = w->off[d + 1];
		if (hi - lo == 1)
			continue;	/* its hull: checked */
		while (lo < hi) {
			size_t m = lo + (hi - lo) / 2;
			if (ix->qv[m].hi < b->lo[d])
				lo = m + 1;
			else
				hi = m;
		}
		if (lo == w->off[d + 1] || ix->qv[lo].lo > b->hi[d])
			return false;
	}
	return true;
}

static bool leaf_meets(struct rindex *ix, size_t l, const struct prod *q)
{
	const struct entry *e = &ix->e[l];
	/* each product once per query: its other boxes would ask again */
	if (ix->seen[e->pid] == ix->stamp)
		return false;
	ix->seen[e->pid] = ix->stamp;
	return prod_overlaps(ix->prod[e->pid], q);
}

/* Whether node k may hold an entry of the rules and actions w asks for
 * that meets q. */
static bool node_meets(const struct walk *w, size_t k)
{
	const struct tnode *nd = &w->t->node[k];
	return nd->minrule < w->hi && nd->maxrule >= w->lo && (nd->kinds & w->kinds) &&
	       (nd->kinds & w->need) == w->need && rbox_meets(&nd->bb, &w->qb) && q_meets(w, &nd->bb);
}

/* Whether entry i is one w asks for: the rule, its action and q, then,
 * once per product, the product itself. */
static bool entry_meets(struct walk *w, size_t i)
{
	const struct entry *e = &w->ix->e[i];
	if (e->rule < w->lo || e->rule >= w->hi || !(e->kind & w->kinds) ||
	    (e->kind & w->need) != w->need || !rbox_meets(&e->b, &w->qb) || !q_meets(w, &e->b))
		return false;
	if (w->mode == WITHIN && !rbox_within(&e->b, &w->qin))
		return false;
	if (w->mode == ACROSS && !w->qin_empty && rbox_within(&e->b, &w->qin))
		return false;
	return leaf_meets(w->ix, i, w->q);
}

static void descend(struct walk *w, size_t k, size_t l, size_t r)
{
	if (w->stop || !node_meets(w, k))
		return;
	/* a box within q's bounds starts no earlier and ends no later than
	 * they do: so do the latest start and the earliest end of its node */
	if (w->mode == WITHIN && !rbox_within(&w->t->inner[k], &w->qin))
		return;
	if (w->mode == ACROSS && !w->qin_empty && rbox_within(&w->t->node[k].bb, &w->qin))
		return;
	if (r - l <= LEAF) {
		for (size_t i = l; i < r && !w->stop; i++) {
			if (!entry_meets(w, i))
				continue;
			if (w->mode != ALL)
				w->hi = w->ix->e[i].rule;
			else if (!w->fn(w->ix->e[i].rule, w->ctx))
				w->stop = true;
		}
		return;
	}
	size_t m = l + (r - l) / 2;
	descend(w, 2 * k, l, m);
	descend(w, 2 * k + 1, m, r);
}

static void run(struct walk *w)
{
	for (size_t t = 0; t < w->ix->nt && !w->stop; t++) {
		w->t = &w->ix->t[t];
		descend(w, 1, w->t->l, w->t->r);
	}
}

void rindex_meets(struct rindex *ix, const struct prod *q, unsigned lo, unsigned hi,
		  bool (*fn)(unsigned rule, void *ctx), void *ctx)
{
	struct walk w;
	if (!walk_of(ix, q, 0x7f, lo, hi, &w))
		return;
	w.fn = fn;
	w.ctx = ctx;
	run(&w);
}

unsigned rindex_first_meets(struct rindex *ix, const struct prod *q, unsigned kinds,
			    unsigned from, unsigned below)
{
	struct walk w;
	if (!walk_of(ix, q, kinds, from, below, &w))
		return below;
	w.mode = FIRST;
	run(&w);
	return w.hi;
}

unsigned rindex_first_within(struct rindex *ix, const struct prod *q, unsigned kinds,
			     unsigned from, unsigned below)
{
	struct walk w;
	if (!walk_of(ix, q, kinds, from, below, &w) || w.qin_empty)
		return below;
	w.mode = WITHIN;
	run(&w);
	return w.hi;
}

unsigned rindex_first_across(struct rindex *ix, const struct prod *q, unsigned kinds,
			     unsigned below)
{
	struct walk w;
	if (!walk_of(ix, q, kinds, 0, below, &w))
		return below;
	w.mode = ACROSS;
	run(&w);
	return w.hi;
}

/* ---- the self-join ------------------------------------------------------- */

/* Every pair of boxes of two rules that meet, by one walk down two trees
 * at once (pairs of nodes whose bounding boxes meet), rather than a query
 * per product: a query pays for the top of every tree, the walk once. */
struct join {
	struct rindex *ix;
	const struct tree *ta, *tb;
	bool (*fn)(unsigned, unsigned, void *);
	void *ctx;
	bool stop;
};

/* Pairs of two leaves' entries that meet; entries that miss the other
 * leaf's bounding box are dropped first (on the group estates most of
 * a leaf pair's entries do: 672 million pairs were tried at 30k rules
 * for 22 million that met). */
static void join_leaves(struct join *j, size_t ka, size_t la, size_t ra, size_t kb, size_t lb,
			size_t rb, bool same)
{
	size_t xa[LEAF], yb[LEAF], na = 0, nb = 0;
	const struct rbox *bba = &j->ta->node[ka].bb, *bbb = &j->tb->node[kb].bb;
	for (size_t x = la; x < ra; x++)
		if (same || rbox_meets(&j->ix->e[x].b, bbb))
			xa[na++] = x;
	if (!same)
		for (size_t y = lb; y < rb; y++)
			if (rbox_meets(&j->ix->e[y].b, bba))
				yb[nb++] = y;
	for (size_t p = 0; p < na && !j->stop; p++)
		for (size_t q = same ? p + 1 : 0; q < (same ? na : nb); q++) {
			const struct entry *a = &j->ix->e[xa[p]];
			const struct entry *b = &j->ix->e[same ? xa[q] : yb[q]];
			if (a->rule == b->rule || !rbox_meets(&a->b, &b->b))
				continue;
			unsigned lo = a->rule < b->rule ? a->rule : b->rule;
			unsigned hi = a->rule < b->rule ? b->rule : a->rule;
			if (!j->fn(lo, hi, j->ctx)) {
				j->stop = true;
				return;
			}
		}
}

static void join(struct join *j, size_t ka, size_t la, size_t ra, size_t kb, size_t lb, size_t rb)
{
	bool same = j->ta == j->tb && ka == kb;
	if (j->stop || (!same && !rbox_meets(&j->ta->node[ka].bb, &j->tb->node[kb].bb)))
		return;
	bool leafa = ra - la <= LEAF, leafb = rb - lb <= LEAF;
	if (leafa && leafb) {
		join_leaves(j, ka, la, ra, kb, lb, rb, same);
		return;
	}
	size_t ma = la + (ra - la) / 2, mb = lb + (rb - lb) / 2;
	if (same) {
		/* a node with itself: each half with itself, and with the other */
		join(j, 2 * ka, la, ma, 2 * ka, la, ma);
		join(j, 2 * ka, la, ma, 2 * ka + 1, ma, ra);
		join(j, 2 * ka + 1, ma, ra, 2 * ka + 1, ma, ra);
	} else if (!leafa && (leafb || ra - la >= rb - lb)) {
		join(j, 2 * ka, la, ma, kb, lb, rb);
		join(j, 2 * ka + 1, ma, ra, kb, lb, rb);
	} else {
		join(j, ka, la, ra, 2 * kb, lb, mb);
		join(j, ka, la, ra, 2 * kb + 1, mb, rb);
	}
}

void rindex_pairs(struct rindex *ix, bool (*fn)(unsigned a, unsigned b, void *ctx), void *ctx)
{
	struct join j = { ix, NULL, NULL, fn, ctx, false };
	for (size_t a = 0; a < ix->nt && !j.stop; a++)
		for (size_t b = a; b < ix->nt && !j.stop; b++) {
			j.ta = &ix->t[a];
			j.tb = &ix->t[b];
			join(&j, 1, j.ta->l, j.ta->r, 1, j.tb->l, j.tb->r);
		}
}
