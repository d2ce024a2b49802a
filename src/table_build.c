/* table_build.c - a policy's IR as a matching table (see table.h).
 *
 * Entries are the boxes of the IR rules, in rule order, so the lowest
 * entry that holds a packet is the evaluator's first match. A tree is
 * built per family; its nodes are numbered in preorder, so a node's
 * children come after it, which the loader checks and which makes every
 * walk end. */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "portc/table_format.h"
#include "pspace.h"

#define BINTH 8			/* boxes a leaf may hold before it is cut */
#define MAX_DEPTH PTAB_MAX_DEPTH	/* a node at this depth is a leaf */
#define MAX_NODES (1u << 22)
#define MAX_LEAF_SLOTS (1u << 24)
#define MAX_INDEX_SLOTS (1u << 24)
/* An address is wide when its range is wider than a /14: a box no wider
 * lies in at most 2^(bits - 14) + 1 slots of a cut on the top bits of that
 * address, so a tree cutting there copies it little (docs/table-format.md,
 * "Separate trees by wide fields", for why not half the address). */
#define WIDE_PREFIX 14
#define SMALL_GROUP 32		/* boxes a group needs for a tree of its own */

struct builder {
	struct table_entry *e;
	uint32_t *index;		/* the slots of cut nodes */
	size_t nindex;
	size_t ne, cap;
	struct ptab_node *nodes;
	size_t nnodes, ncap;
	uint32_t *leaf;
	size_t nleaf, lcap;
	unsigned depth;
	bool too_big;
};

/* The prefix that every address of one field of a family's boxes lies
 * in, the boxes that take any address aside (one per field: the sources'
 * and the destinations'). A cut and the wide/narrow split count their
 * bits from below it: in a policy whose addresses all lie in one site
 * prefix (an IPv6 /48, say), the top bits are the same for every box and
 * a cut on them spreads nothing. */
struct prefix {
	u128 value;			/* the prefix, its low bits 0 */
	unsigned len;
};

static uint32_t new_node(struct builder *b)
{
	if (b->nnodes == b->ncap) {
		b->ncap = b->ncap ? 2 * b->ncap : 256;
		b->nodes = xrealloc(b->nodes, b->ncap * sizeof *b->nodes);
	}
	memset(&b->nodes[b->nnodes], 0, sizeof *b->nodes);
	return (uint32_t)b->nnodes++;
}

static void make_leaf(struct builder *b, uint32_t at, const uint32_t *list, size_t n)
{
	if (b->nleaf + n > b->lcap) {
		while (b->nleaf + n > b->lcap)
			b->lcap = b->lcap ? 2 * b->lcap : 1024;
		b->leaf = xrealloc(b->leaf, b->lcap * sizeof *b->leaf);
	}
	b->nodes[at].kind = PTAB_LEAF;
	b->nodes[at].a = (uint32_t)b->nleaf;
	b->nodes[at].b = (uint32_t)n;
	if (n)
		memcpy(b->leaf + b->nleaf, list, n * sizeof *list);
	b->nleaf += n;
}

static int cmp_u128(const void *x, const void *y)
{
	u128 a = *(const u128 *)x, c = *(const u128 *)y;
	return a < c ? -1 : a > c;
}

/* Entries (of list) with bound <= t, by binary search in sorted v. */
static size_t count_le(const u128 *v, size_t n, u128 t)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (v[m] <= t)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* The best cut of region r for the entries of list: the field and the
 * threshold whose larger side holds the fewest entries (ties: the fewest
 * in all). Returns false when no cut leaves both sides smaller. */
static bool best_cut(const struct builder *b, const uint32_t *list, size_t n, const struct box *r,
		     int *dim, u128 *thr)
{
	u128 *lo = xcalloc(n, sizeof *lo), *hi = xcalloc(n, sizeof *hi);
	size_t best = n, best_sum = 2 * n + 1;
	for (int d = 0; d < PS_DIMS; d++) {
		if (r->d[d].lo == r->d[d].hi)
			continue;
		for (size_t i = 0; i < n; i++) {
			const struct iv *x = &b->e[list[i]].b.d[d];
			lo[i] = x->lo > r->d[d].lo ? x->lo : r->d[d].lo;
			hi[i] = x->hi < r->d[d].hi ? x->hi : r->d[d].hi;
		}
		qsort(lo, n, sizeof *lo, cmp_u128);
		qsort(hi, n, sizeof *hi, cmp_u128);
		/* candidate cuts: just below a start, at an end, inside r */
		for (int side = 0; side < 2; side++)
			for (size_t i = 0; i < n; i++) {
				u128 t;
				if (side == 0) {
					if (lo[i] <= r->d[d].lo || (i && lo[i] == lo[i - 1]))
						continue;
					t = lo[i] - 1;
				} else {
					if (hi[i] >= r->d[d].hi || (i && hi[i] == hi[i - 1]))
						continue;
					t = hi[i];
				}
				size_t left = count_le(lo, n, t);		/* start at or below t */
				size_t right = n - count_le(hi, n, t);	/* end above t */
				size_t worst = left > right ? left : right;
				if (worst < best || (worst == best && left + right < best_sum)) {
					best = worst;
					best_sum = left + right;
					*dim = d;
					*thr = t;
				}
			}
	}
	free(lo);
	free(hi);
	return best < n;
}

static void build(struct builder *b, uint32_t at, uint32_t *list, size_t n, struct box r,
		  unsigned depth)
{
	if (depth > b->depth)
		b->depth = depth;
	/* a box that covers the node hides the boxes after it here */
	for (size_t i = 0; i < n; i++)
		if (box_contains(&b->e[list[i]].b, &r)) {
			n = i + 1;
			break;
		}
	int dim = 0;
	u128 thr = 0;
	if (n <= BINTH || depth >= MAX_DEPTH || b->too_big || !best_cut(b, list, n, &r, &dim, &thr)) {
		make_leaf(b, at, list, n);
		if (b->nnodes > MAX_NODES || b->nleaf > MAX_LEAF_SLOTS)
			b->too_big = true;
		return;
	}
	uint32_t *left = xcalloc(n, sizeof *left), *right = xcalloc(n, sizeof *right);
	size_t nl = 0, nr = 0;
	for (size_t i = 0; i < n; i++) {
		const struct iv *x = &b->e[list[i]].b.d[dim];
		if (x->lo <= thr)
			left[nl++] = list[i];
		if (x->hi > thr)
			right[nr++] = list[i];
	}
	b->nodes[at].dim = (uint8_t)dim;
	b->nodes[at].thr[0] = (uint64_t)thr;
	b->nodes[at].thr[1] = (uint64_t)(thr >> 64);
	struct box rl = r, rr = r;
	rl.d[dim].hi = thr;
	rr.d[dim].lo = thr + 1;
	uint32_t a = new_node(b);
	b->nodes[at].a = a;
	build(b, a, left, nl, rl, depth + 1);
	free(left);
	uint32_t c = new_node(b);
	b->nodes[at].b = c;
	build(b, c, right, nr, rr, depth + 1);
	free(right);
}

/* The common prefix of field dim of boxes e[0 .. n), those that take
 * any address left out: for IPv6, at most a /96, which leaves room below
 * it for the widest cut and the wide/narrow split; for IPv4, none (an
 * IPv4 policy's addresses seldom share more than a few top bits, and its
 * tables stay those measured in bench/README.md). Length 0 when no box is
 * left or they share nothing. */
static struct prefix common_prefix(const struct table_entry *e, size_t n, int dim, unsigned addr_bits)
{
	u128 all = addr_bits == 128 ? ~(u128)0 : ((u128)1 << addr_bits) - 1;
	u128 ref = 0, diff = 0;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		const struct iv *x = &e[i].b.d[dim];
		if (x->lo == 0 && x->hi == all)
			continue;
		if (!any)
			ref = x->lo, any = true;
		diff |= (x->lo ^ ref) | (x->hi ^ ref);
	}
	unsigned len = 0;
	while (any && len < addr_bits - 32 && !(diff >> (addr_bits - 1 - len) & 1))
		len++;
	struct prefix p = { 0, len };
	if (len)
		p.value = ref >> (addr_bits - len) << (addr_bits - len);
	return p;
}

/* Whether field dim of box x lies inside prefix p. */
static bool inside(const struct box *x, int dim, struct prefix p, unsigned addr_bits)
{
	if (p.len == 0)
		return true;
	unsigned s = addr_bits - p.len;
	return x->d[dim].lo >> s == p.value >> s && x->d[dim].hi >> s == p.value >> s;
}

/* The index slots [first, last] that box x falls in on address field
 * dim, for a cut on bits [shift, shift + bits): x lies inside the
 * prefix above them. */
static void slots_of(const struct box *x, int dim, unsigned shift, unsigned bits, size_t *first,
		     size_t *last)
{
	u128 mask = ((u128)1 << bits) - 1;
	*first = (size_t)(x->d[dim].lo >> shift & mask);
	*last = (size_t)(x->d[dim].hi >> shift & mask);
}

/* The cut for boxes list[0 .. n): the address field (PS_SRC or PS_DST)
 * and bits (below the field's prefix in pre when every box lies inside
 * it, then returned in top; else the top bits, top of length 0) whose
 * busiest slot holds the fewest boxes, with at least 4
 * slots per box (up to 2^16), more while they still split the busiest
 * slot, up to 64 per box and 2^PTAB_CUT_BITS_MAX; a field that copies the
 * boxes into more than 1.5 slots each on average is the wide one and is
 * not cut. False when neither field spreads the boxes (a slot would hold
 * more than half of them). */
static bool choose_cut(const struct builder *b, const uint32_t *list, size_t n,
		       unsigned addr_bits, const struct prefix pre[PS_DIMS], int *dim, unsigned *bits,
		       struct prefix *top)
{
	unsigned lo_bits = 1, hi_bits = 1;
	while (lo_bits < 16 && ((size_t)1 << lo_bits) < 4 * n)
		lo_bits++;
	while (hi_bits < PTAB_CUT_BITS_MAX && hi_bits < addr_bits && ((size_t)1 << hi_bits) < 64 * n)
		hi_bits++;
	if (hi_bits < lo_bits)
		hi_bits = lo_bits;
	*dim = -1;
	size_t best_max = n;
	long *delta = xcalloc(((size_t)1 << hi_bits) + 1, sizeof *delta);
	for (int d = PS_SRC; d <= PS_DST; d += PS_DST - PS_SRC) {
		/* below the field's common prefix when every box lies inside it
		 * (a box that takes any address spans every slot of such a cut) */
		struct prefix p = pre[d];
		for (size_t i = 0; i < n && p.len; i++)
			if (!inside(&b->e[list[i]].b, d, p, addr_bits))
				p = (struct prefix){ 0, 0 };
		for (unsigned bb = lo_bits; bb <= hi_bits; bb++) {
			/* the load per slot, counted where the runs of slots start and end */
			size_t nslots = (size_t)1 << bb, copies = 0, max = 0;
			memset(delta, 0, (nslots + 1) * sizeof *delta);
			for (size_t i = 0; i < n; i++) {
				size_t lo, hi;
				slots_of(&b->e[list[i]].b, d, addr_bits - p.len - bb, bb, &lo, &hi);
				delta[lo]++;
				delta[hi + 1]--;
				copies += hi - lo + 1;
			}
			long run = 0;
			for (size_t j = 0; j < nslots; j++) {
				run += delta[j];
				if ((size_t)run > max)
					max = (size_t)run;
			}
			if (copies > n + n / 2)
				break;
			if (max < best_max) {
				best_max = max;
				*dim = d;
				*bits = bb;
				*top = p;
			}
			if (max <= BINTH)
				break;
		}
	}
	free(delta);
	return *dim >= 0 && best_max <= n / 2;
}

/* Makes root `at` a cut on the top bits of the source or the destination
 * address, or on those below the prefix pre of that field when all the
 * boxes lie inside it (choose_cut), with a subtree per slot: the narrow field of
 * EffiCuts' groups, where a box lies in one slot or two. Each slot's
 * subtree starts from the slot's region, so it never cuts again on what
 * the cut decided. On ClassBench's 10k sets this takes 8 to 10 binary
 * levels off a walk. (A second cut, on the other address, for slots of
 * more than 8, 16 or 32 boxes was tried: it was seldom made, and the extra
 * step cost more than it saved.) False, with nothing built, when neither
 * address spreads the boxes. */
static bool build_cut(struct builder *b, uint32_t at, const uint32_t *list, size_t n,
		      const struct box *r, unsigned addr_bits, const struct prefix pre[PS_DIMS])
{
	int dim;
	unsigned bits;
	struct prefix top;
	if (!choose_cut(b, list, n, addr_bits, pre, &dim, &bits, &top))
		return false;
	unsigned shift = addr_bits - top.len - bits;
	size_t nslots = (size_t)1 << bits;
	if (b->nindex + nslots > MAX_INDEX_SLOTS)
		return false;

	size_t *count = xcalloc(nslots + 1, sizeof *count);
	for (size_t i = 0; i < n; i++) {
		size_t lo, hi;
		slots_of(&b->e[list[i]].b, dim, shift, bits, &lo, &hi);
		for (size_t j = lo; j <= hi; j++)
			count[j]++;
	}
	size_t *start = xcalloc(nslots + 1, sizeof *start);
	for (size_t j = 0; j < nslots; j++)
		start[j + 1] = start[j] + count[j];
	uint32_t *byslot = xcalloc(start[nslots] ? start[nslots] : 1, sizeof *byslot);
	memset(count, 0, nslots * sizeof *count);
	for (size_t i = 0; i < n; i++) {	/* in list order, so rule order */
		size_t lo, hi;
		slots_of(&b->e[list[i]].b, dim, shift, bits, &lo, &hi);
		for (size_t j = lo; j <= hi; j++)
			byslot[start[j] + count[j]++] = list[i];
	}
	size_t first = b->nindex;
	b->index = xrealloc(b->index, (b->nindex + nslots) * sizeof *b->index);
	b->nindex += nslots;
	b->nodes[at] = (struct ptab_node){ .kind = PTAB_CUT, .dim = (uint8_t)dim, .bits = (uint8_t)bits,
					   .shift = (uint8_t)shift, .a = (uint32_t)first };
	/* the empty slots' leaf, after the cut as every child must be */
	uint32_t empty = new_node(b);
	make_leaf(b, empty, NULL, 0);
	for (size_t j = 0; j < nslots; j++) {
		if (count[j] == 0) {
			b->index[first + j] = empty;
			continue;
		}
		uint32_t node = new_node(b);
		b->index[first + j] = node;
		/* A packet outside the prefix lands in some slot too, by its
		 * bits there; it matches no box of this tree (all lie inside),
		 * so the region may leave it out. */
		struct box sr = *r;
		sr.d[dim].lo = top.value | (u128)j << shift;
		sr.d[dim].hi = sr.d[dim].lo + (((u128)1 << shift) - 1);
		build(b, node, byslot + start[j], count[j], sr, 2);
	}
	free(count);
	free(start);
	free(byslot);
	return true;
}

/* Merges ascending list add[0 .. nadd) into ascending list[0 .. *n),
 * which has room for both: entry order is rule order. */
static void merge_lists(uint32_t *list, size_t *n, const uint32_t *add, size_t nadd)
{
	size_t i = *n, j = nadd, k = *n + nadd;
	while (j > 0) {		/* from the back, in place */
		if (i > 0 && list[i - 1] > add[j - 1])
			list[--k] = list[--i];
		else
			list[--k] = add[--j];
	}
	*n += nadd;
}

/* The bytes of a record (sb_putn takes characters). */
static void put(struct strbuf *out, const void *p, size_t n)
{
	if (n)	/* p may be NULL then: a table without cut nodes */
		sb_putn(out, p, n);
}

static void pad8(struct strbuf *out, size_t base)
{
	static const char zero[8];
	put(out, zero, (8 - (out->len - base) % 8) % 8);
}

/* Appends every rule's boxes of one family to b->e, in rule order. */
static bool collect_boxes(struct builder *b, const struct ir_policy *pol, int f, struct diag *d)
{
	for (size_t i = 0; i < pol->nrules; i++) {
		struct boxes bx = { 0 };
		if (!rule_boxes(&pol->rules[i], f ? 6 : 4, &bx, MAX_LEAF_SLOTS)) {
			diag_error(d, pol->rules[i].origin, "this rule is too large for a table: "
				   "its address and port lists multiply to over %u boxes",
				   MAX_LEAF_SLOTS);
			return false;
		}
		for (size_t k = 0; k < bx.n; k++) {
			if (b->ne == b->cap) {
				b->cap = b->cap ? 2 * b->cap : 1024;
				b->e = xrealloc(b->e, b->cap * sizeof *b->e);
			}
			b->e[b->ne++] = (struct table_entry){ bx.v[k], (uint32_t)i };
		}
		boxes_free(&bx);
	}
	return true;
}

/* Sorts one family's boxes b->e[first ..) into the PTAB_TREES groups and
 * builds a tree for each group that has boxes; root[] gets their roots. */
static void build_trees(struct builder *b, size_t first, int f, uint32_t root[PTAB_TREES])
{
	size_t n = b->ne - first;
	/* Separate the boxes by which addresses are wide (wider than a
	 * WIDE_PREFIX): a wide source laid over narrow destinations would
	 * be copied into every leaf of a tree cut on destinations, which
	 * blew ClassBench's FW sets past any bound. */
	unsigned addr_bits = f ? 128 : 32;
	struct prefix pre[PS_DIMS] = { { 0, 0 } };
	u128 wide[PS_DIMS] = { 0 };
	for (int dd = PS_SRC; dd <= PS_DST; dd += PS_DST - PS_SRC) {
		pre[dd] = common_prefix(b->e + first, n, dd, addr_bits);
		wide[dd] = (u128)1 << (addr_bits - pre[dd].len - WIDE_PREFIX);
	}
	uint32_t *lists[PTAB_TREES];
	size_t counts[PTAB_TREES] = { 0 };
	for (int k = 0; k < PTAB_TREES; k++)
		lists[k] = xcalloc(n, sizeof *lists[k]);
	for (size_t k = 0; k < n; k++) {
		const struct box *x = &b->e[first + k].b;
		int g = (x->d[PS_SRC].hi - x->d[PS_SRC].lo >= wide[PS_SRC]) |
			(x->d[PS_DST].hi - x->d[PS_DST].lo >= wide[PS_DST]) << 1;
		lists[g][counts[g]++] = (uint32_t)(first + k);
	}
	/* The narrow-narrow boxes join the group that is narrow on the
	 * field their own cut would take: the tree then cuts that field
	 * for both, and a packet walks one tree fewer (on ClassBench's
	 * FW1 and IPC1 at 10k, a quarter faster). */
	int dim;
	unsigned bits;
	struct prefix top;
	if (counts[0] && choose_cut(b, lists[0], counts[0], addr_bits, pre, &dim, &bits, &top)) {
		int to = dim == PS_DST ? 1 : 2;
		merge_lists(lists[to], &counts[to], lists[0], counts[0]);
		counts[0] = 0;
	}
	/* A group of a few boxes joins the wide-wide one (whose tree
	 * assumes nothing of its boxes): a tree costs every lookup its
	 * gate, and a handful of boxes does not repay it (ACL1 10k: 3
	 * boxes, 7% slower as a tree of their own). */
	for (int k = 1; k < 3; k++)
		if (counts[k] && counts[k] < SMALL_GROUP) {
			merge_lists(lists[3], &counts[3], lists[k], counts[k]);
			counts[k] = 0;
		}
	struct box all;
	u128 amax = f ? ~(u128)0 : 0xFFFFFFFFu;
	all.d[PS_PROTO] = (struct iv){ 0, 255 };
	all.d[PS_SRC] = all.d[PS_DST] = (struct iv){ 0, amax };
	all.d[PS_SPORT] = all.d[PS_DPORT] = (struct iv){ 0, 65535 };
	all.d[PS_TYPE] = (struct iv){ 0, 255 };
	for (int k = 0; k < PTAB_TREES; k++) {
		if (counts[k]) {
			root[k] = new_node(b);
			if (!build_cut(b, root[k], lists[k], counts[k], &all, addr_bits, pre))
				build(b, root[k], lists[k], counts[k], all, 1);
		}
		free(lists[k]);
	}
}

/* The file: header, rules, entries, nodes, leaf lists, index, each
 * 8-aligned; the header last, once its offsets and checksum are known. */
static void write_table(struct strbuf *out, const struct ir_policy *pol, const struct builder *b,
			uint32_t root[2][PTAB_TREES], size_t first6, const uint8_t *settles)
{
	size_t base = out->len;
	struct ptab_header h = { 0 };
	memcpy(h.magic, PTAB_MAGIC, 8);
	h.version = PTAB_VERSION;
	h.header_size = sizeof h;
	h.nrules = (uint32_t)pol->nrules;
	h.nentries = (uint32_t)b->ne;
	h.nnodes = (uint32_t)b->nnodes;
	h.nleaf = (uint32_t)b->nleaf;
	memcpy(h.root, root, sizeof h.root);
	h.nindex = (uint32_t)b->nindex;
	h.first6 = (uint32_t)first6;
	h.default_action = (uint32_t)pol->dflt;
	for (unsigned p = 0; p < 256; p++) {
		if (ir_has_ports((int)p))
			h.port_protos[p >> 3] |= (uint8_t)(1u << (p & 7));
		if (ir_has_types((int)p))
			h.type_protos[p >> 3] |= (uint8_t)(1u << (p & 7));
	}
	put(out, &h, sizeof h);
	pad8(out, base);
	h.off_rules = out->len - base;
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		struct ptab_rule x = { r->origin.line, (uint8_t)r->action,
				       (uint8_t)(r->action == ACT_ALLOW && r->dscp >= 0 ? (unsigned)r->dscp : PTAB_NO_DSCP),
				       settles[i], r->source, 0 };
		put(out, &x, sizeof x);
	}
	pad8(out, base);
	h.off_entries = out->len - base;
	for (size_t i = 0; i < b->ne; i++) {
		struct ptab_entry x = { .rule = b->e[i].rule };
		for (int k = 0; k < PTAB_DIMS; k++) {
			x.d[k].lo[0] = (uint64_t)b->e[i].b.d[k].lo;
			x.d[k].lo[1] = (uint64_t)(b->e[i].b.d[k].lo >> 64);
			x.d[k].hi[0] = (uint64_t)b->e[i].b.d[k].hi;
			x.d[k].hi[1] = (uint64_t)(b->e[i].b.d[k].hi >> 64);
		}
		put(out, &x, sizeof x);
	}
	pad8(out, base);
	h.off_nodes = out->len - base;
	put(out, b->nodes, b->nnodes * sizeof *b->nodes);
	pad8(out, base);
	h.off_leaf = out->len - base;
	put(out, b->leaf, b->nleaf * sizeof *b->leaf);
	pad8(out, base);
	h.off_index = out->len - base;
	put(out, b->index, b->nindex * sizeof *b->index);
	pad8(out, base);
	h.file_size = out->len - base;
	memcpy(out->s + base, &h, sizeof h);
	h.crc32c = portc_crc32c(0, out->s + base, out->len - base);
	memcpy(out->s + base, &h, sizeof h);
}

static void builder_free(struct builder *b)
{
	free(b->e);
	free(b->nodes);
	free(b->leaf);
	free(b->index);
}

bool table_build(const struct ir_policy *pol, struct strbuf *out, struct table_stats *st,
		 struct diag *d)
{
	struct builder b = { 0 };
	uint32_t root[2][PTAB_TREES];
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < PTAB_TREES; k++)
			root[f][k] = PTAB_NO_TREE;
	size_t first6 = 0;
	uint8_t *settles = xcalloc(pol->nrules + 1, 1);	/* per rule, PTAB_SETTLES4 | 6 */
	bool ok = true;
	for (int f = 0; f < 2 && ok; f++) {
		size_t first = b.ne;
		if (f)
			first6 = first;
		ok = collect_boxes(&b, pol, f, d);
		if (!ok || b.ne == first)
			continue;
		build_trees(&b, first, f, root[f]);
		if (!b.too_big)
			table_settles(b.e, first, b.ne, b.nodes, b.nnodes, b.leaf, b.index, b.nindex,
				      root[f], f ? 128 : 32, settles, f ? PTAB_SETTLES6 : PTAB_SETTLES4);
	}
	if (ok && b.too_big) {
		diag_error(d, pol->loc, "policy '%s' needs a table of over %u nodes or %u leaf slots: "
			   "its rules overlap too much to be cut into a bounded tree", pol->name,
			   MAX_NODES, MAX_LEAF_SLOTS);
		ok = false;
	}
	if (ok) {
		size_t base = out->len;
		write_table(out, pol, &b, root, first6, settles);
		if (st)
			*st = (struct table_stats){ pol->nrules, b.ne, b.nnodes, b.nleaf, b.depth,
						    out->len - base };
	}
	free(settles);
	builder_free(&b);
	return ok;
}
