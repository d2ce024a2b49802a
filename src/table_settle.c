/* table_settle.c - which rules settle a packet: the flags of
 * docs/table-format.md, "Rules that settle a packet".
 *
 * A lookup walks up to four trees per family and keeps the lowest rule
 * it finds. Once a packet's best rule is r, another tree matters only if
 * one of its boxes of a rule before r holds the packet. When no box of
 * any other tree, of a rule before r, meets a box of r, a packet that
 * matched r is settled, and the lookup walks no further tree for it: on
 * ClassBench's IPC1 at 10k rules, that leaves a quarter of the walks of
 * the second tree (38.6% of the packets walked it, 9.9% now). */
#include "table.h"

#include <stdlib.h>
#include <string.h>

/* The visits one box's search may take before it gives up and counts as
 * meeting an earlier box (which only costs a walk): bounds the build on
 * sets whose early wide rules would search whole cuts. */
#define BUDGET 256
/* Cut slots per block of the blocks' lowest rules, which let a search
 * pass over the slots of rules that all come after its own. */
#define BLOCK 64

struct search {
	const struct table_entry *e;
	const struct ptab_node *nodes;
	const uint32_t *leaf, *index;
	const uint32_t *first;		/* per node: its lowest rule */
	const uint32_t *block;		/* per BLOCK index slots: their nodes' lowest */
	unsigned addr_bits;
	long budget;
};

static u128 thr_of(const struct ptab_node *n)
{
	return (u128)n->thr[1] << 64 | n->thr[0];
}

/* Whether a box of a rule before `rule` under node n meets x; true too
 * when the budget runs out. */
static bool meets(struct search *s, uint32_t n, const struct box *x, uint32_t rule)
{
	if (--s->budget < 0)
		return true;
	if (s->first[n] >= rule)
		return false;
	const struct ptab_node *nd = &s->nodes[n];
	if (nd->kind == PTAB_LEAF) {
		/* slots ascend, entries are in rule order */
		for (uint32_t j = nd->a; j < nd->a + nd->b; j++) {
			const struct table_entry *y = &s->e[s->leaf[j]];
			if (y->rule >= rule)
				break;
			if (box_overlaps(&y->b, x))
				return true;
		}
		return false;
	}
	const struct iv *v = &x->d[nd->dim];
	if (nd->kind == PTAB_INNER) {
		u128 t = thr_of(nd);
		return (v->lo <= t && meets(s, nd->a, x, rule)) || (v->hi > t && meets(s, nd->b, x, rule));
	}
	/* a cut: the slots x's field lies in, all of them when it spans
	 * more than the bits above the cut's */
	size_t nslots = (size_t)1 << nd->bits, lo = 0, hi = nslots - 1;
	unsigned top = nd->shift + nd->bits;
	if (top >= s->addr_bits || v->lo >> top == v->hi >> top) {
		lo = (size_t)(v->lo >> nd->shift) & (nslots - 1);
		hi = (size_t)(v->hi >> nd->shift) & (nslots - 1);
	}
	for (size_t j = lo; j <= hi; j++) {
		size_t at = nd->a + j;
		if (at % BLOCK == 0 && j + BLOCK - 1 <= hi && s->block[at / BLOCK] >= rule) {
			if (--s->budget < 0)
				return true;
			j += BLOCK - 1;
			continue;
		}
		if (meets(s, s->index[at], x, rule))
			return true;
	}
	return false;
}

void table_settles(const struct table_entry *e, size_t from, size_t to,
		   const struct ptab_node *nodes, size_t nnodes, const uint32_t *leaf,
		   const uint32_t *index, size_t nindex, const uint32_t root[PTAB_TREES],
		   unsigned addr_bits, uint8_t *flags, uint8_t bit)
{
	/* the lowest rule under each node: children come after parents */
	uint32_t *first = xcalloc(nnodes + 1, sizeof *first);
	for (size_t i = nnodes; i-- > 0;) {
		const struct ptab_node *n = &nodes[i];
		uint32_t m = UINT32_MAX;
		if (n->kind == PTAB_LEAF && n->b)
			m = e[leaf[n->a]].rule;
		else if (n->kind == PTAB_INNER)
			m = first[n->a] < first[n->b] ? first[n->a] : first[n->b];
		else if (n->kind == PTAB_CUT)
			for (uint32_t j = 0; j < 1u << n->bits; j++)
				if (first[index[n->a + j]] < m)
					m = first[index[n->a + j]];
		first[i] = m;
	}
	uint32_t *block = xcalloc(nindex / BLOCK + 1, sizeof *block);
	for (size_t b = 0; b <= nindex / BLOCK; b++) {
		block[b] = UINT32_MAX;
		for (size_t j = b * BLOCK; j < (b + 1) * BLOCK && j < nindex; j++)
			if (first[index[j]] < block[b])
				block[b] = first[index[j]];
	}
	/* the tree each entry is in (a leaf lists it); -1: none, as when
	 * boxes of earlier rules cover it everywhere */
	signed char *tree = xcalloc(to - from + 1, 1);
	memset(tree, -1, to - from + 1);
	uint32_t *stack = xcalloc(nnodes + 1, sizeof *stack);
	bool *seen = xcalloc(nnodes + 1, sizeof *seen);	/* cut slots share their empty leaf */
	for (int t = 0; t < PTAB_TREES; t++) {
		size_t sp = 0;
		if (root[t] != PTAB_NO_TREE)
			stack[sp++] = root[t], seen[root[t]] = true;
		while (sp) {	/* each node pushed once: at most nnodes on the stack */
			const struct ptab_node *n = &nodes[stack[--sp]];
			if (n->kind == PTAB_LEAF) {
				for (uint32_t j = n->a; j < n->a + n->b; j++)
					tree[leaf[j] - from] = (signed char)t;
				continue;
			}
			uint32_t nkids = n->kind == PTAB_INNER ? 2 : 1u << n->bits;
			for (uint32_t j = 0; j < nkids; j++) {
				uint32_t c = n->kind == PTAB_INNER ? (j ? n->b : n->a) : index[n->a + j];
				if (!seen[c])
					stack[sp++] = c, seen[c] = true;
			}
		}
	}
	free(seen);
	free(stack);
	/* A rule settles while each of its boxes does; a rule without boxes
	 * in a tree is never a packet's best, and is left unflagged. */
	uint32_t last = UINT32_MAX;
	bool settles = false;
	struct search s = { e, nodes, leaf, index, first, block, addr_bits, 0 };
	for (size_t i = from; i <= to; i++) {
		if (i == to || e[i].rule != last) {
			if (last != UINT32_MAX && settles)
				flags[last] |= bit;
			if (i == to)
				break;
			last = e[i].rule;
			settles = true;
		}
		int t = tree[i - from];
		for (int u = 0; t >= 0 && settles && u < PTAB_TREES; u++) {
			if (u == t || root[u] == PTAB_NO_TREE)
				continue;
			s.budget = BUDGET;
			settles = !meets(&s, root[u], &e[i].b, e[i].rule);
		}
	}
	free(tree);
	free(block);
	free(first);
}
