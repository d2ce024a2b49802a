/* match.c - libportc: load, check and query a compiled portc table.
 *
 * Loading copies the bytes into one aligned block and checks all of it
 * (docs/table-format.md, "What a loader checks"), so that a lookup can
 * trust every index it follows: the lookup path has no bounds checks, no
 * allocation and no locks. This file depends on nothing of the compiler. */
#include "portc/match.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portc/table_format.h"

typedef unsigned __int128 u128;

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define PORTC_X86 1
#include <immintrin.h>
#else
#define PORTC_X86 0
#endif

/* IPv4 lookups use 32-bit copies of the trees and boxes, made at load
 * (IPv6 lookups read the file's).
 *
 * A packet at an inner node goes to a if its field dim is at most thr,
 * else to b. The leaves are numbered after every inner node (from
 * leaf0), so that whether a packet is at a leaf is one compare, and a
 * leaf links to itself (thr UINT32_MAX, a the leaf): a packet stays at
 * its leaf while the others of its batch walk on, and a walk ends as its
 * last packet reaches a leaf, with no test for leaves on the way (on
 * ACL1 10k, 7% fewer instructions a lookup than a leaf flag, and a last
 * step to see that no packet moved). A leaf's boxes start at line b of
 * the box lines: rows for a small leaf, chunks for a larger one (below);
 * nbox4[n - leaf0] says how many. (Skipping the leaves whose first rule
 * comes after a packet's best, from a first rule kept beside nbox, was
 * tried: the branch cost more than the lines it saved reading, 0.92 to
 * 0.96 times the lookups a second on ClassBench's 10k sets.) */
struct node4 {
	uint32_t thr, dim, a, b;
};

/* Where an IPv4 tree starts: at node start, or, for a cut, at the node
 * in slot4[start + ((field >> shift) & mask)]. first: the lowest rule in
 * the tree (UINT32_MAX: none); a packet whose best rule so far comes
 * before it does not walk the tree. */
struct tree4 {
	uint32_t start, mask, first;
	uint8_t cut, dim, shift;
};

/* An IPv6 tree: its root in the file, and its lowest rule (UINT32_MAX:
 * no tree), which orders the trees and gates them as tree4's first. */
struct tree6 {
	uint32_t root, first;
};

enum { LINE = 64 };

enum { CHUNK = 8 };
enum { KEYW = 8 };	/* a packet's fields, padded to a vector: PTAB order, then 0, 0 */
enum { HAS_PORTS = 1, HAS_TYPE = 2 };

/* Up to eight boxes of a leaf, in rule order: box l holds key when, for
 * every field d, key[d] - lo[l] <= span[l] (unsigned: one compare for
 * both ends). The addresses are 32 bits, the ports 16, both in one
 * 16-lane vector, and protocol and ICMP type 8, beside the rules: four
 * cache lines a chunk. (The protocol and the type as a 16-bit pair took a
 * fifth line: against that, on ClassBench's 10k sets, IPC1 1.03 to 1.07
 * times the lookups a second, ACL1 1.06, FW1 0.98 to 1.01; all in 16
 * bits was itself 1.15 to 1.23 times all in 32.) A chunk's unused lanes,
 * all in its leaf's last chunk, have rule UINT32_MAX and bounds of 0: a
 * key they hold takes no rule from them, and lanes before them come
 * first. Boxes no IPv4 packet is in are left out at load. */
enum { WIDE_SRC, WIDE_DST, NWIDE };
static const int wide_dim[NWIDE] = { PTAB_SRC, PTAB_DST };
static const int port_dim[2] = { PTAB_SPORT, PTAB_DPORT };
static const int byte_dim[2] = { PTAB_PROTO, PTAB_TYPE };

struct chunk4 {
	uint32_t lo[NWIDE][CHUNK];
	uint32_t span[NWIDE][CHUNK];
	uint16_t lo16[2 * CHUNK];	/* source ports, then destination ports */
	uint16_t span16[2 * CHUNK];
	uint32_t rule[CHUNK];		/* UINT32_MAX in unused lanes */
	uint8_t lo8[2 * CHUNK];		/* protocols, then ICMP types */
	uint8_t span8[2 * CHUNK];
};

/* One box of a small leaf, as a vector: box holds key when, for every
 * lane d, key[d] - lo[d] <= span[d]. Lanes 0-5 are the fields, lane 6
 * (span UINT32_MAX, every key holds it) the rule, lane 7 0, as the
 * key's. A leaf of at most ROWS boxes is checked row by row: one cache
 * line and one compare per box, where a chunk takes four lines (against
 * chunks of five lines, on FW1 10k, whose leaves hold one box or none,
 * 1.17 to 1.21 times the lookups a second; ACL1 and IPC1 within 2%). */
struct row4 {
	uint32_t lo[KEYW];
	uint32_t span[KEYW];
};
_Static_assert(sizeof(struct row4) == LINE && sizeof(struct chunk4) % LINE == 0,
	       "rows and chunks are whole cache lines");
enum { ROWS = 2, ROW_RULE = 6, ROW_PAD = 7 };

struct portc_table {
	void *mem;			/* the file, 8-byte aligned */
	struct node4 *nodes4;
	uint32_t *nbox4;		/* per leaf, from leaf0: its boxes */
	uint32_t leaf0;			/* nodes4[leaf0 ..] are the leaves */
	uint32_t *slot4;		/* the cuts' slots, as nodes4 */
	struct tree4 tree4[PTAB_TREES];
	char *lines;			/* the leaves' rows and chunks, LINE-aligned */
	bool avx2;			/* leaves checked with AVX2 */
	size_t memory;			/* portc_table_memory */
	struct portc_result *results;	/* per rule, then the default's */
	uint8_t *settles4;		/* per rule, then 0 (none): PTAB_SETTLES4 as 0 or 1 */
	bool settle4;			/* lookups read settles4 */
	struct tree6 tree6[PTAB_TREES];
	uint8_t l4[256];		/* per protocol: HAS_PORTS, HAS_TYPE */
	const struct ptab_header *h;
	const struct ptab_rule *rules;
	const struct ptab_entry *entries;
	const struct ptab_node *nodes;
	const uint32_t *leaf;
	const uint32_t *index;
};

/* ---- CRC-32C (Castagnoli), bitwise-table: the writer uses it too -------- */

uint32_t portc_crc32c(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	if (!table[1]) {	/* benign race: every thread computes the same values */
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
			table[i] = c;
		}
	}
	const unsigned char *p = buf;
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* ---- loading -------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Whether [off, off + n * size) lies in the file after the header,
 * 8-byte aligned, without overflow. */
static bool section_ok(uint64_t file_size, uint64_t off, uint64_t n, uint64_t size)
{
	if (off % 8 || off < sizeof(struct ptab_header) || off > file_size)
		return false;
	if (n && size > (file_size - off) / n)
		return false;
	return true;
}

/* No walk is longer than PTAB_MAX_DEPTH nodes. Children come after their
 * node (checked before this), so one pass in node order sees every node
 * after all its parents and gives it its deepest walk. */
static int check_depth(const struct portc_table *t, char *err, size_t errlen)
{
	const struct ptab_header *h = t->h;
	uint8_t *depth = calloc(h->nnodes ? h->nnodes : 1, 1);
	if (!depth)
		return fail(err, errlen, "out of memory");
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < PTAB_TREES; k++)
			if (h->root[f][k] != PTAB_NO_TREE)
				depth[h->root[f][k]] = 1;
	int r = 0;
	for (uint32_t i = 0; i < h->nnodes && r == 0; i++) {
		const struct ptab_node *n = &t->nodes[i];
		uint8_t below = (uint8_t)(depth[i] + 1);
		if (!depth[i] || n->kind == PTAB_LEAF)
			continue;
		if (below > PTAB_MAX_DEPTH) {
			r = fail(err, errlen, "node %u: a tree deeper than %d nodes (no portc "
				 "builds one)", i, PTAB_MAX_DEPTH);
			break;
		}
		if (n->kind == PTAB_INNER) {
			if (depth[n->a] < below)
				depth[n->a] = below;
			if (depth[n->b] < below)
				depth[n->b] = below;
		} else {
			for (uint32_t j = 0; j < 1u << n->bits; j++) {
				uint32_t c = t->index[n->a + j];
				if (depth[c] < below)
					depth[c] = below;
			}
		}
	}
	free(depth);
	return r;
}

static int check(struct portc_table *t, size_t len, char *err, size_t errlen)
{
	const struct ptab_header *h = t->h;
	if (len < sizeof *h)
		return fail(err, errlen, "not a portc table: %zu bytes, shorter than a header", len);
	if (memcmp(h->magic, PTAB_MAGIC, 8) != 0)
		return fail(err, errlen, "not a portc table (bad magic)");
	if (h->version == __builtin_bswap32(PTAB_VERSION))
		return fail(err, errlen, "table in the other byte order: portc tables are "
			    "little-endian, and this library reads them on little-endian hosts only");
	if (h->version != PTAB_VERSION)
		return fail(err, errlen, "table version %u; this library reads version %u", h->version,
			    PTAB_VERSION);
	if (h->header_size != sizeof *h || h->file_size != len)
		return fail(err, errlen, "table size %llu, header %u: the file is %zu bytes (truncated?)",
			    (unsigned long long)h->file_size, h->header_size, len);
	struct ptab_header copy = *h;
	copy.crc32c = 0;
	uint32_t crc = portc_crc32c(0, &copy, sizeof copy);
	crc = portc_crc32c(crc, (const char *)t->mem + sizeof copy, len - sizeof copy);
	if (crc != h->crc32c)
		return fail(err, errlen, "table checksum mismatch: the file is corrupt");
	if (h->flags || h->default_action > 2 || h->first6 > h->nentries)
		return fail(err, errlen, "table header has unknown flags or default");
	if (!section_ok(len, h->off_rules, h->nrules, sizeof *t->rules) ||
	    !section_ok(len, h->off_entries, h->nentries, sizeof *t->entries) ||
	    !section_ok(len, h->off_nodes, h->nnodes, sizeof *t->nodes) ||
	    !section_ok(len, h->off_leaf, h->nleaf, sizeof *t->leaf) ||
	    !section_ok(len, h->off_index, h->nindex, sizeof *t->index))
		return fail(err, errlen, "a table section lies outside the file");
	t->rules = (const void *)((const char *)t->mem + h->off_rules);
	t->entries = (const void *)((const char *)t->mem + h->off_entries);
	t->nodes = (const void *)((const char *)t->mem + h->off_nodes);
	t->leaf = (const void *)((const char *)t->mem + h->off_leaf);
	t->index = (const void *)((const char *)t->mem + h->off_index);
	for (uint32_t i = 0; i < h->nrules; i++)
		if (t->rules[i].action > 2 || (t->rules[i].dscp > 63 && t->rules[i].dscp != PTAB_NO_DSCP) ||
		    (t->rules[i].flags & ~(PTAB_SETTLES4 | PTAB_SETTLES6)))
			return fail(err, errlen, "rule %u: bad action, DSCP or flags", i);
	for (uint32_t i = 0; i < h->nentries; i++)
		/* in rule order: the lowest entry that holds a packet is then the
		 * lowest rule, and IPv4 leaves compare rule numbers */
		if (t->entries[i].rule >= h->nrules ||
		    (i && i != h->first6 && t->entries[i].rule < t->entries[i - 1].rule))
			return fail(err, errlen, "entry %u: rule %u out of range or order", i,
				    t->entries[i].rule);
	for (uint32_t i = 0; i < h->nleaf; i++)
		if (t->leaf[i] >= h->nentries)
			return fail(err, errlen, "leaf slot %u: entry out of range", i);
	for (uint32_t i = 0; i < h->nindex; i++)
		if (t->index[i] >= h->nnodes)
			return fail(err, errlen, "index slot %u: node out of range", i);
	/* The leaves' runs of slots, and the cuts', add up to at most the
	 * slots (the builder writes them disjoint): the loader's copies then
	 * stay the table's size, and the checks below read a slot once. */
	uint64_t listed = 0, owned = 0;
	for (uint32_t i = 0; i < h->nnodes; i++) {
		const struct ptab_node *n = &t->nodes[i];
		if (n->kind == PTAB_LEAF) {
			listed += n->b;
			if (n->a > h->nleaf || n->b > h->nleaf - n->a || listed > h->nleaf)
				return fail(err, errlen, "node %u: leaf list out of range", i);
		} else if (n->kind == PTAB_INNER) {
			/* children after the node: every walk moves forward, so
			 * ends; and no cut below an inner node */
			if (n->dim >= PTAB_DIMS || n->a <= i || n->b <= i || n->a >= h->nnodes ||
			    n->b >= h->nnodes || t->nodes[n->a].kind == PTAB_CUT ||
			    t->nodes[n->b].kind == PTAB_CUT)
				return fail(err, errlen, "node %u: bad dimension or child", i);
		} else if (n->kind == PTAB_CUT) {
			uint32_t slots = n->bits >= 1 && n->bits <= PTAB_CUT_BITS_MAX ? 1u << n->bits : 0;
			owned += slots;
			if (n->dim >= PTAB_DIMS || !slots || n->shift >= 128 || n->a > h->nindex ||
			    slots > h->nindex - n->a || owned > h->nindex)
				return fail(err, errlen, "node %u: bad cut", i);
		} else {
			return fail(err, errlen, "node %u: bad kind", i);
		}
	}
	/* a cut's slots go forward, and not to a cut: only roots are cuts */
	for (uint32_t i = 0; i < h->nnodes; i++) {
		const struct ptab_node *n = &t->nodes[i];
		for (uint32_t j = 0; n->kind == PTAB_CUT && j < 1u << n->bits; j++) {
			uint32_t c = t->index[n->a + j];
			if (c <= i || t->nodes[c].kind == PTAB_CUT)
				return fail(err, errlen, "node %u: a cut's slot goes back or to a cut", i);
		}
	}
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < PTAB_TREES; k++)
			if (h->root[f][k] != PTAB_NO_TREE && h->root[f][k] >= h->nnodes)
				return fail(err, errlen, "a root of the IPv%d trees is out of range", f ? 6 : 4);
	return check_depth(t, err, errlen);
}

/* A bound as n bits: above 2^n - 1 no IPv4 field reaches it. */
static uint32_t clamp_to(const uint64_t w[2], uint32_t max)
{
	return w[1] || w[0] > max ? max : (uint32_t)w[0];
}

/* Box e of the file as IPv4 bounds: the low bound and the span of each
 * field; false if no IPv4 packet is in it. */
static bool bounds4(const struct ptab_entry *e, uint32_t lo[PTAB_DIMS], uint32_t span[PTAB_DIMS])
{
	static const uint32_t max[PTAB_DIMS] = { 255, UINT32_MAX, 65535, UINT32_MAX, 65535, 255 };
	bool empty = false;
	for (int d = 0; d < PTAB_DIMS; d++) {
		uint32_t hi = clamp_to(e->d[d].hi, max[d]);
		lo[d] = clamp_to(e->d[d].lo, max[d]);
		span[d] = hi - lo[d];
		/* a bound no IPv4 field reaches, or a reversed one (only in a
		 * hand-made table): no packet is in the box */
		empty |= e->d[d].lo[1] || e->d[d].lo[0] > max[d] || lo[d] > hi;
	}
	return !empty;
}

/* A box with IPv4 bounds lo and span (bounds4) as lane l of chunk c:
 * laid out as chunk_hits reads it (a port's max is 65535, a protocol's
 * and a type's 255). */
static void put_lane(struct chunk4 *c, int l, const uint32_t lo[PTAB_DIMS],
		     const uint32_t span[PTAB_DIMS], uint32_t rule)
{
	for (int w = 0; w < NWIDE; w++) {
		c->lo[w][l] = lo[wide_dim[w]];
		c->span[w][l] = span[wide_dim[w]];
	}
	for (int h = 0; h < 2; h++) {
		c->lo16[h * CHUNK + l] = (uint16_t)lo[port_dim[h]];
		c->span16[h * CHUNK + l] = (uint16_t)span[port_dim[h]];
		c->lo8[h * CHUNK + l] = (uint8_t)lo[byte_dim[h]];
		c->span8[h * CHUNK + l] = (uint8_t)span[byte_dim[h]];
	}
	c->rule[l] = rule;
}

/* The lines a leaf of n boxes takes. */
static size_t lines_of(uint32_t n)
{
	return n <= ROWS ? n : (n + CHUNK - 1) / CHUNK * (sizeof(struct chunk4) / LINE);
}

/* A box with IPv4 bounds lo and span (bounds4) as row r. */
static void put_row(struct row4 *r, const uint32_t lo[PTAB_DIMS], const uint32_t span[PTAB_DIMS],
		    uint32_t rule)
{
	memcpy(r->lo, lo, PTAB_DIMS * sizeof *lo);
	memcpy(r->span, span, PTAB_DIMS * sizeof *span);
	r->lo[ROW_RULE] = rule;
	r->span[ROW_RULE] = UINT32_MAX;
	r->lo[ROW_PAD] = r->span[ROW_PAD] = 0;
}

/* The boxes of leaf n that an IPv4 packet may be in: the others are left
 * out of its rows and chunks. */
static uint32_t boxes4(const struct portc_table *t, const struct ptab_node *n)
{
	uint32_t lo[PTAB_DIMS], span[PTAB_DIMS], k = 0;
	for (uint32_t j = 0; j < n->b; j++)
		k += bounds4(&t->entries[t->leaf[n->a + j]], lo, span);
	return k;
}

static inline bool has_bit(const uint8_t bits[32], unsigned p)
{
	return bits[p >> 3] >> (p & 7) & 1;
}

static int compact(struct portc_table *t)
{
	const struct ptab_header *h = t->h;
	/* The nodes of the IPv4 trees, in one pass since children come after
	 * their parents: only their leaves get chunks (an IPv6 leaf's would
	 * be 14 bytes per slot of the file's 4, for nothing). */
	uint8_t *v4 = calloc((size_t)h->nnodes + 1, 1);
	if (!v4)
		return -1;
	for (int tr = 0; tr < PTAB_TREES; tr++)
		if (h->root[0][tr] != PTAB_NO_TREE)
			v4[h->root[0][tr]] = 1;
	/* the lines of the leaves' boxes: check() bounds the slots the
	 * leaves list (as many as a leaf lists: those no IPv4 packet is in,
	 * left out below, seldom leave a line spare) */
	size_t nlines = 1;
	for (uint32_t i = 0; i < h->nnodes; i++) {
		const struct ptab_node *n = &t->nodes[i];
		if (!v4[i])
			continue;
		if (n->kind == PTAB_LEAF)
			nlines += lines_of(n->b);
		else if (n->kind == PTAB_INNER)
			v4[n->a] = v4[n->b] = 1;
		else
			for (uint32_t j = 0; j < 1u << n->bits; j++)
				v4[t->index[n->a + j]] = 1;
	}
	/* The IPv4 nodes renumbered: inner nodes first, in file order, then
	 * the leaves (struct node4); cuts, only ever roots, are in tree4. */
	uint32_t *id = malloc(((size_t)h->nnodes + 1) * sizeof *id);
	uint32_t ninner = 0, nleaves = 0;
	for (uint32_t i = 0; i < h->nnodes; i++)
		if (v4[i] && t->nodes[i].kind != PTAB_CUT)
			t->nodes[i].kind == PTAB_LEAF ? nleaves++ : ninner++;
	t->leaf0 = ninner;
	/* each + 1: never a request for no bytes, which may fail */
	t->nodes4 = malloc(((size_t)ninner + nleaves + 1) * sizeof *t->nodes4);
	t->nbox4 = malloc(((size_t)nleaves + 1) * sizeof *t->nbox4);
	t->slot4 = malloc(((size_t)h->nindex + 1) * sizeof *t->slot4);
	t->lines = aligned_alloc(LINE, nlines * LINE);
	if (!id || !t->nodes4 || !t->nbox4 || !t->slot4 || !t->lines) {
		free(v4);
		free(id);
		return -1;
	}
	for (uint32_t i = 0, inner = 0, leaf = ninner; i < h->nnodes; i++)
		if (v4[i] && t->nodes[i].kind != PTAB_CUT)
			id[i] = t->nodes[i].kind == PTAB_LEAF ? leaf++ : inner++;
	size_t at = 0;		/* an empty leaf's line is the next one's, or the spare last */
	for (uint32_t i = 0; i < h->nnodes; i++) {
		const struct ptab_node *n = &t->nodes[i];
		if (!v4[i] || n->kind == PTAB_CUT)
			continue;
		struct node4 *x = &t->nodes4[id[i]];
		if (n->kind == PTAB_INNER) {
			/* a threshold past 32 bits sends every IPv4 packet to a,
			 * as UINT32_MAX does */
			*x = (struct node4){ clamp_to(n->thr, UINT32_MAX), n->dim, id[n->a], id[n->b] };
			continue;
		}
		const uint32_t *slot = &t->leaf[n->a];
		uint32_t nbox = boxes4(t, n), k = 0;
		uint32_t lo[PTAB_DIMS], span[PTAB_DIMS];
		*x = (struct node4){ UINT32_MAX, 0, id[i], (uint32_t)at };
		t->nbox4[id[i] - ninner] = nbox;
		struct chunk4 *c = (struct chunk4 *)(t->lines + LINE * at);
		if (nbox > ROWS)
			for (uint32_t j = 0; j < (nbox + CHUNK - 1) / CHUNK; j++) {
				memset(&c[j], 0, sizeof *c);
				for (int l = 0; l < CHUNK; l++)
					c[j].rule[l] = UINT32_MAX;
			}
		for (uint32_t j = 0; j < n->b; j++) {
			const struct ptab_entry *e = &t->entries[slot[j]];
			if (!bounds4(e, lo, span))
				continue;
			if (nbox <= ROWS)
				put_row((struct row4 *)(t->lines + LINE * at) + k, lo, span, e->rule);
			else
				put_lane(&c[k / CHUNK], (int)(k % CHUNK), lo, span, e->rule);
			k++;
		}
		at += lines_of(nbox);
	}
	for (int tr = 0; tr < PTAB_TREES; tr++) {
		uint32_t root = h->root[0][tr];
		struct tree4 *x = &t->tree4[tr];
		*x = (struct tree4){ 0, 0, UINT32_MAX, 0, 0, 0 };
		if (root == PTAB_NO_TREE)
			continue;
		const struct ptab_node *n = &t->nodes[root];
		if (n->kind != PTAB_CUT) {
			x->start = id[root];
			continue;
		}
		/* a shift past 32 bits leaves slot 0 */
		*x = (struct tree4){ n->a, n->shift < 32 ? (1u << n->bits) - 1 : 0, UINT32_MAX, 1, n->dim,
				     (uint8_t)(n->shift < 32 ? n->shift : 0) };
		for (uint32_t j = 0; j < 1u << n->bits; j++)
			t->slot4[n->a + j] = id[t->index[n->a + j]];
	}
	free(v4);
	free(id);
	t->memory = sizeof *t + h->file_size + ((size_t)ninner + nleaves + 1) * sizeof *t->nodes4 +
		    ((size_t)nleaves + 1) * sizeof *t->nbox4 + h->nindex * sizeof *t->slot4 +
		    nlines * LINE;
	/* the lowest rule below each node, children first (they come after),
	 * then of each tree: a tree whose lowest rule comes after what a packet
	 * has found cannot better it */
	uint32_t *first = malloc(((size_t)h->nnodes + 1) * sizeof *first);
	if (!first)
		return -1;
	for (uint32_t i = h->nnodes; i-- > 0;) {
		const struct ptab_node *n = &t->nodes[i];
		first[i] = UINT32_MAX;
		if (n->kind == PTAB_INNER)
			first[i] = first[n->a] < first[n->b] ? first[n->a] : first[n->b];
		for (uint32_t j = n->a; n->kind == PTAB_LEAF && j < n->a + n->b; j++)
			if (t->entries[t->leaf[j]].rule < first[i])
				first[i] = t->entries[t->leaf[j]].rule;
		for (uint32_t j = 0; n->kind == PTAB_CUT && j < 1u << n->bits; j++)
			if (first[t->index[n->a + j]] < first[i])
				first[i] = first[t->index[n->a + j]];
	}
	for (int tr = 0; tr < PTAB_TREES; tr++) {
		uint32_t root = h->root[0][tr];
		if (root != PTAB_NO_TREE)
			t->tree4[tr].first = first[root];
		root = h->root[1][tr];
		t->tree6[tr] = (struct tree6){ root, root == PTAB_NO_TREE ? UINT32_MAX : first[root] };
	}
	free(first);
	/* The trees in the order of their first rules, the empty ones last:
	 * a tree's gate then sees the answers of every tree that can hold an
	 * earlier rule, and the first tree walked is the one every packet
	 * must walk. */
	for (int i = 1; i < PTAB_TREES; i++) {
		for (int j = i; j > 0 && t->tree4[j].first < t->tree4[j - 1].first; j--) {
			struct tree4 x = t->tree4[j];
			t->tree4[j] = t->tree4[j - 1];
			t->tree4[j - 1] = x;
		}
		for (int j = i; j > 0 && t->tree6[j].first < t->tree6[j - 1].first; j--) {
			struct tree6 x = t->tree6[j];
			t->tree6[j] = t->tree6[j - 1];
			t->tree6[j - 1] = x;
		}
	}
	t->results = malloc(((size_t)h->nrules + 1) * sizeof *t->results);
	if (!t->results)
		return -1;
	for (uint32_t i = 0; i < h->nrules; i++) {
		const struct ptab_rule *x = &t->rules[i];
		t->results[i] = (struct portc_result){ i, x->line, x->action,
						       x->dscp == PTAB_NO_DSCP ? -1 : (int8_t)x->dscp, 0 };
	}
	t->results[h->nrules] = (struct portc_result){ PORTC_DEFAULT_RULE, 0,
						       (uint8_t)h->default_action, -1, 0 };
	t->settles4 = calloc((size_t)h->nrules + 4, 1);	/* + 3: a gather reads 4 bytes */
	if (!t->settles4)
		return -1;
	uint32_t nsettle = 0;
	for (uint32_t i = 0; i < h->nrules; i++)
		nsettle += t->settles4[i] = t->rules[i].flags & PTAB_SETTLES4 ? 1 : 0;
	/* Reading the flags costs a batch two gathers at every tree after
	 * the first; where most rules do not settle, they seldom spare a
	 * walk (FW1 10k, a fifth of its rules: 0.95 times the lookups a
	 * second with them, IPC1 10k, nine tenths: 1.13 to 1.16). */
	t->settle4 = nsettle >= h->nrules / 2 && nsettle > 0;
	t->memory += (size_t)h->nrules + 4;
	t->memory += ((size_t)h->nrules + 1) * sizeof *t->results;
	for (unsigned p = 0; p < 256; p++)
		t->l4[p] = (uint8_t)(has_bit(h->port_protos, p) * HAS_PORTS +
				     has_bit(h->type_protos, p) * HAS_TYPE);
#if PORTC_X86
	const char *no = getenv("PORTC_NO_AVX2");
	t->avx2 = __builtin_cpu_supports("avx2") && !(no && *no && strcmp(no, "0") != 0);
#endif
	return 0;
}

int portc_table_load(const void *buf, size_t len, struct portc_table **out, char *err,
		     size_t errlen)
{
	*out = NULL;
	if (!buf)
		return fail(err, errlen, "no table");
	if ((uint64_t)len > PTAB_MAX_FILE_SIZE)
		return fail(err, errlen, "%zu bytes: a portc table is at most %llu bytes", len,
			    (unsigned long long)PTAB_MAX_FILE_SIZE);
	struct portc_table *t = calloc(1, sizeof *t);
	/* malloc's alignment is at least 8: the sections' offsets are too */
	if (!t || !(t->mem = malloc(len ? len : 1))) {
		free(t);
		return fail(err, errlen, "out of memory for a %zu-byte table", len);
	}
	memcpy(t->mem, buf, len);
	t->h = t->mem;
	if (check(t, len, err, errlen) != 0 || compact(t) != 0) {
		if (!t->nodes4 && err && errlen && !err[0])
			fail(err, errlen, "out of memory");
		portc_table_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

/* The header first: a file that is not a table, or claims more than the
 * bound, or is not the size it claims, is refused before the rest is read
 * (a loader handed /dev/zero or a 10 GB log must not swallow it). */
int portc_table_open(const char *path, struct portc_table **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	struct ptab_header h;
	size_t got = fread(&h, 1, sizeof h, fp);
	const char *why = NULL;
	if (got < sizeof h)
		why = ferror(fp) ? "cannot read the table" : "not a portc table: shorter than a header";
	else if (memcmp(h.magic, PTAB_MAGIC, 8) != 0)
		why = "not a portc table (bad magic)";
	else if (h.file_size > PTAB_MAX_FILE_SIZE)
		why = "the table claims more bytes than a portc table may have";
	else if (h.file_size < sizeof h)
		why = "the table's size field is smaller than its header";
	if (why) {
		fclose(fp);
		return fail(err, errlen, "%s: %s", path, why);
	}
	size_t len = (size_t)h.file_size;
	char *buf = malloc(len + 1);
	if (!buf) {
		fclose(fp);
		return fail(err, errlen, "%s: out of memory for a %zu-byte table", path, len);
	}
	memcpy(buf, &h, sizeof h);
	/* one byte more than claimed: a longer file is found out here */
	size_t rest = fread(buf + sizeof h, 1, len + 1 - sizeof h, fp);
	bool bad = ferror(fp);
	fclose(fp);
	if (bad) {
		free(buf);
		return fail(err, errlen, "%s: cannot read the table", path);
	}
	int r;
	if (sizeof h + rest != len) {
		r = fail(err, errlen, "%s: the file is %s than the %zu bytes its header gives "
			 "(truncated or appended to?)", path, sizeof h + rest < len ? "shorter" : "longer",
			 len);
		free(buf);
		return r;
	}
	r = portc_table_load(buf, len, out, err, errlen);
	free(buf);
	if (r != 0 && err && errlen) {
		char why2[256];
		snprintf(why2, sizeof why2, "%s", err);
		snprintf(err, errlen, "%s: %s", path, why2);
	}
	return r;
}

void portc_table_free(struct portc_table *t)
{
	if (t) {
		free(t->nodes4);
		free(t->slot4);
		free(t->nbox4);
		free(t->lines);
		free(t->results);
		free(t->settles4);
		free(t->mem);
		free(t);
	}
}

uint32_t portc_table_rules(const struct portc_table *t)
{
	return t->h->nrules;
}

uint32_t portc_rule_number(const struct portc_table *t, uint32_t rule)
{
	return rule < t->h->nrules ? t->rules[rule].source + 1 : 0;
}

size_t portc_table_memory(const struct portc_table *t)
{
	return t->memory;
}

enum portc_action portc_table_default(const struct portc_table *t)
{
	return (enum portc_action)t->h->default_action;
}

/* ---- lookup ------------------------------------------------------------------ */

/* An IPv6 address, 16 bytes in network order, as a number: two 8-byte
 * loads. (Byte by byte it took 13% of an IPv6 lookup's samples; on
 * ClassBench's 10k sets moved into IPv6, two loads are 1.29 to 1.42
 * times the lookups a second.) */
static inline u128 addr6(const uint8_t a[16])
{
	uint64_t hi, lo;
	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	hi = __builtin_bswap64(hi);
	lo = __builtin_bswap64(lo);
#endif
	return (u128)hi << 64 | lo;
}

static inline u128 join(const uint64_t w[2])
{
	return (u128)w[1] << 64 | w[0];
}

/* Source port, destination port and ICMP type as the policy sees them:
 * 0 for a protocol that lacks them. */
static inline void l4_fields(const struct portc_table *t, const struct portc_tuple *k, uint32_t out[3])
{
	uint8_t has = t->l4[k->proto];
	out[0] = has & HAS_PORTS ? k->sport : 0;
	out[1] = has & HAS_PORTS ? k->dport : 0;
	out[2] = has & HAS_TYPE ? k->icmp_type : 0;
}

/* IPv4: the 32-bit copies. */
static inline void key4(const struct portc_table *t, const struct portc_tuple *k,
			uint32_t key[KEYW])
{
	uint32_t src, dst;	/* network order: big-endian, on a little-endian host */
	memcpy(&src, k->src, 4);
	memcpy(&dst, k->dst, 4);
	key[PTAB_PROTO] = k->proto;
	key[PTAB_SRC] = __builtin_bswap32(src);
	key[PTAB_DST] = __builtin_bswap32(dst);
	uint32_t l4[3];
	l4_fields(t, k, l4);
	key[PTAB_SPORT] = l4[0];
	key[PTAB_DPORT] = l4[1];
	key[PTAB_TYPE] = l4[2];
	for (int d = PTAB_DIMS; d < KEYW; d++)
		key[d] = 0;
}

/* The first lane of chunk c that holds key, as a bit (0: none), one box
 * at a time. */
static inline uint32_t chunk_hits(const struct chunk4 *c, const uint32_t key[KEYW])
{
	for (int l = 0; l < CHUNK && c->rule[l] != UINT32_MAX; l++) {
		bool in = true;
		for (int w = 0; w < NWIDE; w++)
			in &= key[wide_dim[w]] - c->lo[w][l] <= c->span[w][l];
		for (int h = 0; h < 2; h++) {
			in &= (uint16_t)(key[port_dim[h]] - c->lo16[h * CHUNK + l]) <= c->span16[h * CHUNK + l];
			in &= (uint8_t)(key[byte_dim[h]] - c->lo8[h * CHUNK + l]) <= c->span8[h * CHUNK + l];
		}
		if (in)
			return 1u << l;
	}
	return 0;
}

#if PORTC_X86
/* The lanes of chunk c that hold key, as bits, with AVX2: eight boxes per
 * compare, min(x, span) == x being x <= span unsigned. */
__attribute__((target("avx2"), always_inline)) static inline uint32_t
chunk_hits_avx2(const struct chunk4 *c, const uint32_t key[KEYW])
{
	__m256i in = _mm256_set1_epi32(-1);
	for (int w = 0; w < NWIDE; w++) {
		__m256i x = _mm256_sub_epi32(_mm256_set1_epi32((int)key[wide_dim[w]]),
					     _mm256_load_si256((const __m256i *)c->lo[w]));
		__m256i span = _mm256_load_si256((const __m256i *)c->span[w]);
		in = _mm256_and_si256(in, _mm256_cmpeq_epi32(_mm256_min_epu32(x, span), x));
	}
	__m256i k = _mm256_setr_m128i(_mm_set1_epi16((short)key[port_dim[0]]),
				      _mm_set1_epi16((short)key[port_dim[1]]));
	__m256i x = _mm256_sub_epi16(k, _mm256_load_si256((const __m256i *)c->lo16));
	__m256i span = _mm256_load_si256((const __m256i *)c->span16);
	__m256i in16 = _mm256_cmpeq_epi16(_mm256_min_epu16(x, span), x);
	/* a lane holds both ports: the halves and-ed, widened */
	__m128i both = _mm_and_si128(_mm256_castsi256_si128(in16), _mm256_extracti128_si256(in16, 1));
	in = _mm256_and_si256(in, _mm256_cvtepi16_epi32(both));
	/* protocol and type, a byte each: bit l and bit 8 + l of the mask */
	__m128i k8 = _mm_unpacklo_epi64(_mm_set1_epi8((char)key[byte_dim[0]]),
					_mm_set1_epi8((char)key[byte_dim[1]]));
	__m128i x8 = _mm_sub_epi8(k8, _mm_load_si128((const __m128i *)c->lo8));
	__m128i in8 = _mm_cmpeq_epi8(_mm_min_epu8(x8, _mm_load_si128((const __m128i *)c->span8)), x8);
	uint32_t bytes = (uint32_t)_mm_movemask_epi8(in8);
	return (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(in)) & bytes & bytes >> 8;
}
#endif

/* Whether row r holds key. */
static inline bool row_holds(const struct row4 *r, const uint32_t key[KEYW])
{
	bool in = true;
	for (int d = 0; d < KEYW; d++)
		in &= key[d] - r->lo[d] <= r->span[d];
	return in;
}

#if PORTC_X86
__attribute__((target("avx2"), always_inline)) static inline bool
row_holds_avx2(const struct row4 *r, const uint32_t key[KEYW])
{
	__m256i x = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)key),
				     _mm256_load_si256((const __m256i *)r->lo));
	__m256i span = _mm256_load_si256((const __m256i *)r->span);
	return _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_min_epu32(x, span), x))) == 0xFF;
}
#endif

/* Packets classified together. A walk is a chain of dependent loads; the
 * walks of LANES packets, stepped a level at a time side by side, overlap
 * those loads instead of waiting on each one, which on ClassBench's 10k
 * sets is 1.5 times the speed of one walk after another. */
enum { LANES = 16 };

/* The lanes of a batch whose best rule so far comes after first, as
 * bits: the packets that walk a tree whose lowest rule is first. */
static inline uint32_t walkers_of(const uint32_t best[LANES], uint32_t first)
{
	uint32_t walk = 0;
	for (int i = 0; i < LANES; i++)
		walk |= (uint32_t)(best[i] > first) << i;
	return walk;
}

/* The lanes whose best rule does not settle them (PTAB_SETTLES4), as
 * bits. */
static inline uint32_t unsettled_of(const struct portc_table *t, const uint32_t best[LANES])
{
	uint32_t open = 0;
	for (int i = 0; i < LANES; i++)
		open |= (uint32_t)!t->settles4[best[i]] << i;
	return open;
}

#if PORTC_X86
/* The same with two compares. (As a loop over the packets, with a
 * variable count, it took 25 instructions a packet on IPC1 10k, and the
 * list it built was read back while still being written.) */
__attribute__((target("avx2"), always_inline)) static inline uint32_t
walkers_of_avx2(const uint32_t best[LANES], uint32_t first)
{
	/* unsigned >, as signed > with the top bits flipped */
	const __m256i top = _mm256_set1_epi32(INT32_MIN);
	__m256i f = _mm256_xor_si256(_mm256_set1_epi32((int)first), top);
	uint32_t walk = 0;
	for (int v = 0; v < LANES / 8; v++) {
		__m256i b = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(best + 8 * v)), top);
		walk |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(b, f)))
			<< (8 * v);
	}
	return walk;
}

/* The same with two gathers. (A loop over the walkers took FW1 10k,
 * whose second tree most packets walk, to 0.90 times the lookups a
 * second.) */
__attribute__((target("avx2"), always_inline)) static inline uint32_t
unsettled_of_avx2(const struct portc_table *t, const uint32_t best[LANES])
{
	const __m256i low = _mm256_set1_epi32(0xFF);
	uint32_t open = 0;
	for (int v = 0; v < LANES / 8; v++) {
		__m256i r = _mm256_loadu_si256((const __m256i *)(best + 8 * v));
		/* 4 bytes read at each rule's flag (settles4 has 3 of padding) */
		__m256i s = _mm256_and_si256(_mm256_i32gather_epi32((const int *)t->settles4, r, 1), low);
		open |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(
				_mm256_cmpeq_epi32(s, _mm256_setzero_si256())))
			<< (8 * v);
	}
	return open;
}
#endif

/* The packets of a batch that walk a tree: w[0 .. nw), or, when w is
 * NULL, packets 0 .. nw. */
#define EACH_WALKER(j, i) for (size_t j = 0, i; j < nw && (i = w ? w[j] : j, true); j++)

/* Moves a packet at *cur a level down: whether it is not yet at a leaf. */
static inline bool step(const struct node4 *nodes, uint32_t leaf0, const uint32_t key[KEYW],
			uint32_t *cur)
{
	const struct node4 *nd = &nodes[*cur];
	*cur = key[nd->dim] <= nd->thr ? nd->a : nd->b;
	return *cur < leaf0;
}

/* Moves the walkers at cur down tree x to their leaves. */
__attribute__((always_inline)) static inline void
walk_tree(const struct portc_table *t, const struct tree4 *x, const uint32_t (*key)[KEYW],
	  const uint8_t *w, size_t nw, uint32_t *cur)
{
	const struct node4 *nodes = t->nodes4;
	const uint32_t leaf0 = t->leaf0;
	bool walking = false;
	if (x->cut) {
		/* a cut at the root: one load per packet */
		const uint32_t *slot = &t->slot4[x->start];
		unsigned dim = x->dim, shift = x->shift, mask = x->mask;
		EACH_WALKER(j, i) {
			cur[i] = slot[(key[i][dim] >> shift) & mask];
			walking |= cur[i] < leaf0;
		}
	} else {
		EACH_WALKER(j, i)
			cur[i] = x->start;
		walking = x->start < leaf0;
	}
	/* A level per step, every walker at once: the processor overlaps
	 * their loads. (Sending a packet to an empty leaf at any node whose
	 * rules all come after its best, as at the tree's top, was tried:
	 * the compare costs every step more than the walks it ends save.) */
	while (walking) {
		walking = false;
		if (w) {
			for (size_t j = 0; j < nw; j++)
				walking |= step(nodes, leaf0, key[w[j]], &cur[w[j]]);
		} else {
#pragma GCC unroll 16
			for (size_t i = 0; i < nw; i++)
				walking |= step(nodes, leaf0, key[i], &cur[i]);
		}
	}
}

/* Lowers the best rules of the walkers at leaves cur to what the leaves
 * hold. */
__attribute__((always_inline)) static inline void
check_leaves(const struct portc_table *t, const uint32_t (*key)[KEYW], uint32_t *best,
	     const uint8_t *w, size_t nw, const uint32_t *cur,
	     uint32_t (*hits)(const struct chunk4 *, const uint32_t *),
	     bool (*holds)(const struct row4 *, const uint32_t *))
{
	const struct node4 *nodes = t->nodes4;
	const uint32_t *nboxes = t->nbox4 - t->leaf0;
	/* every walker's first line, asked for before any is checked */
	EACH_WALKER(j, i)
		__builtin_prefetch(t->lines + LINE * (size_t)nodes[cur[i]].b);
	EACH_WALKER(j, i) {
		uint32_t nbox = nboxes[cur[i]];
		const char *line = t->lines + LINE * (size_t)nodes[cur[i]].b;
		/* boxes in rule order: the first that holds the key is the
		 * leaf's answer; one whose rule comes after the best so far
		 * cannot better it */
		if (nbox <= ROWS) {
			const struct row4 *r = (const struct row4 *)line;
			for (uint32_t n = 0; n < nbox && r->lo[ROW_RULE] < best[i]; n++, r++)
				if (holds(r, key[i])) {
					best[i] = r->lo[ROW_RULE];
					break;
				}
			continue;
		}
		const struct chunk4 *c = (const struct chunk4 *)line;
		for (uint32_t n = 0; n < nbox && c->rule[0] < best[i]; n += CHUNK, c++) {
			uint32_t in = hits(c, key[i]);
			if (in) {
				uint32_t r = c->rule[__builtin_ctz(in)];
				best[i] = r < best[i] ? r : best[i];
				break;
			}
		}
	}
}

/* The first rule that holds each of the m keys (h->nrules for none), in
 * best[0 .. LANES); hits, holds, walkers and unsettled are inlined into
 * each caller (AVX2 or not). (Blocks of 64 packets, whose later trees
 * are walked by the walkers of the whole block 16 at a time, were tried:
 * the same lookups a second on ClassBench's 10k sets.) */
__attribute__((always_inline)) static inline void
lookup4_with(const struct portc_table *t, const uint32_t (*key)[KEYW], size_t m, uint32_t *best,
	     uint32_t (*hits)(const struct chunk4 *, const uint32_t *),
	     bool (*holds)(const struct row4 *, const uint32_t *),
	     uint32_t (*walkers)(const uint32_t *, uint32_t),
	     uint32_t (*unsettled)(const struct portc_table *, const uint32_t *))
{
	/* the lanes past m never walk: no rule comes before rule 0 */
	for (size_t i = 0; i < LANES; i++)
		best[i] = i < m ? t->h->nrules : 0;
	/* the trees in the order of their first rules, up to the empty ones */
	for (int tr = 0; tr < PTAB_TREES && t->tree4[tr].first != UINT32_MAX; tr++) {
		const struct tree4 *x = &t->tree4[tr];
		/* A tree whose rules all come after what a packet has found is
		 * not walked for it, nor is its cut read: the walkers are the
		 * packets that may yet find a better rule here. Every packet
		 * walks the first. */
		uint32_t walk = tr == 0 ? (1u << m) - 1 : walkers(best, x->first);
		/* nor for a packet whose best rule settles it (PTAB_SETTLES4):
		 * asked only when some packet would walk, so that a set whose
		 * later trees few packets walk pays nothing for it (ACL1 10k) */
		if (walk && tr > 0 && t->settle4)
			walk &= unsettled(t, best);
		if (!walk)
			continue;
		uint8_t w[LANES];
		size_t nw = 0;
		if (walk == (1u << m) - 1)
			nw = m;
		else
			for (; walk; walk &= walk - 1)
				w[nw++] = (uint8_t)__builtin_ctz(walk);
		/* the same walk, without the walkers' list when all walk, and
		 * unrolled for a whole batch (ACL1 10k: 1.08 to 1.12 times the
		 * lookups a second, IPC1 1.03, FW1 0.96 to 0.98) */
		uint32_t cur[LANES];
		if (nw == LANES) {
			walk_tree(t, x, key, NULL, LANES, cur);
			check_leaves(t, key, best, NULL, LANES, cur, hits, holds);
		} else if (nw == m) {
			walk_tree(t, x, key, NULL, nw, cur);
			check_leaves(t, key, best, NULL, nw, cur, hits, holds);
		} else {
			walk_tree(t, x, key, w, nw, cur);
			check_leaves(t, key, best, w, nw, cur, hits, holds);
		}
	}
}

static void lookup4(const struct portc_table *t, const uint32_t (*key)[KEYW], size_t m,
		    uint32_t *best)
{
	lookup4_with(t, key, m, best, chunk_hits, row_holds, walkers_of, unsettled_of);
}

#if PORTC_X86
__attribute__((target("avx2"))) static void lookup4_avx2(const struct portc_table *t,
							 const uint32_t (*key)[KEYW],
							 size_t m, uint32_t *best)
{
	lookup4_with(t, key, m, best, chunk_hits_avx2, row_holds_avx2, walkers_of_avx2,
		     unsettled_of_avx2);
}
#endif

/* The tuples prefetched ahead of the one being read, from a stream too
 * big to cache: 8 batches (5 KB) on, where 2 left ClassBench's 10k sets
 * 1.03 to 1.08 times slower. The address is integer arithmetic, as it
 * may be past the end (a prefetch never faults). */
enum { AHEAD = 8 * LANES };

#define PREFETCH_AHEAD(p) __builtin_prefetch((const void *)((uintptr_t)(p) + AHEAD * sizeof *(p)))

/* The answers to LANES IPv4 tuples k, in r: keys, lookup and answers in
 * one piece, for a batch of IPv4 packets (on ClassBench's 10k sets 1.05
 * to 1.10 times the lookups a second of gathering the IPv4 packets of
 * any batch one by one, and spreading their answers). */
__attribute__((always_inline)) static inline void
batch4_with(const struct portc_table *t, const struct portc_tuple *k, struct portc_result *r,
	    void (*make_key)(const struct portc_table *, const struct portc_tuple *, uint32_t *),
	    uint32_t (*hits)(const struct chunk4 *, const uint32_t *),
	    bool (*holds)(const struct row4 *, const uint32_t *),
	    uint32_t (*walkers)(const uint32_t *, uint32_t),
	    uint32_t (*unsettled)(const struct portc_table *, const uint32_t *))
{
	uint32_t key[LANES][KEYW], best[LANES];
	for (size_t j = 0; j < LANES; j++) {
		PREFETCH_AHEAD(&k[j]);
		make_key(t, &k[j], key[j]);
	}
	lookup4_with(t, (const uint32_t(*)[KEYW])key, LANES, best, hits, holds, walkers, unsettled);
	for (size_t j = 0; j < LANES; j++)
		r[j] = t->results[best[j]];
}

static void batch4(const struct portc_table *t, const struct portc_tuple *k, struct portc_result *r)
{
	batch4_with(t, k, r, key4, chunk_hits, row_holds, walkers_of, unsettled_of);
}

#if PORTC_X86
/* key4 with byte shuffles: the tuple's first 32 bytes rearranged into
 * the key's lanes, then the ports and the ICMP type kept or cleared as
 * the protocol has them (on IPC1 10k, 1.08 times the lookups a second
 * of key4, ACL1 1.05). */
_Static_assert(offsetof(struct portc_tuple, proto) == 1 &&
	       offsetof(struct portc_tuple, icmp_type) == 2 &&
	       offsetof(struct portc_tuple, sport) == 4 && offsetof(struct portc_tuple, dport) == 6 &&
	       offsetof(struct portc_tuple, src) == 8 && offsetof(struct portc_tuple, dst) == 24 &&
	       PTAB_PROTO == 0 && PTAB_SRC == 1 && PTAB_SPORT == 2 && PTAB_DST == 3 &&
	       PTAB_DPORT == 4 && PTAB_TYPE == 5 && KEYW == 8,
	       "key4_avx2 knows where the tuple's fields are, and the key's lanes");

__attribute__((target("avx2"), always_inline)) static inline void
key4_avx2(const struct portc_table *t, const struct portc_tuple *k, uint32_t key[KEYW])
{
	const __m128i *p = (const __m128i *)k;
	__m128i a = _mm_loadu_si128(p), b = _mm_loadu_si128(p + 1);
	const char z = -1;	/* a byte of 0 */
	/* lanes 0-3: protocol; source, bytes reversed to host order; source
	 * port (the tuple's is host order); destination, reversed */
	__m128i lo = _mm_or_si128(_mm_shuffle_epi8(a, _mm_setr_epi8(1, z, z, z, 11, 10, 9, 8,
								    4, 5, z, z, z, z, z, z)),
				  _mm_shuffle_epi8(b, _mm_setr_epi8(z, z, z, z, z, z, z, z,
								    z, z, z, z, 11, 10, 9, 8)));
	/* lanes 4-7: destination port, ICMP type, 0, 0 */
	__m128i hi = _mm_shuffle_epi8(a, _mm_setr_epi8(6, 7, z, z, 2, z, z, z,
						       z, z, z, z, z, z, z, z));
	int ports = t->l4[k->proto] & HAS_PORTS ? -1 : 0;
	int type = t->l4[k->proto] & HAS_TYPE ? -1 : 0;
	_mm_storeu_si128((__m128i *)key, _mm_and_si128(lo, _mm_setr_epi32(-1, -1, ports, -1)));
	_mm_storeu_si128((__m128i *)(key + 4), _mm_and_si128(hi, _mm_setr_epi32(ports, type, 0, 0)));
}

__attribute__((target("avx2"))) static void batch4_avx2(const struct portc_table *t,
							const struct portc_tuple *k,
							struct portc_result *r)
{
	batch4_with(t, k, r, key4_avx2, chunk_hits_avx2, row_holds_avx2, walkers_of_avx2,
		    unsettled_of_avx2);
}
#endif

/* IPv6: the file's 128-bit trees and boxes. */
static void key6(const struct portc_table *t, const struct portc_tuple *k, u128 key[PTAB_DIMS])
{
	key[PTAB_PROTO] = k->proto;
	key[PTAB_SRC] = addr6(k->src);
	key[PTAB_DST] = addr6(k->dst);
	uint32_t l4[3];
	l4_fields(t, k, l4);
	key[PTAB_SPORT] = l4[0];
	key[PTAB_DPORT] = l4[1];
	key[PTAB_TYPE] = l4[2];
}

/* Whether a packet whose best entry so far is best (UINT32_MAX: none)
 * walks IPv6 tree x: the tree may hold an earlier rule, and the best
 * rule does not settle the packet (PTAB_SETTLES6). */
static inline bool walks6(const struct portc_table *t, const struct tree6 *x, uint32_t best)
{
	if (best == UINT32_MAX)
		return true;
	uint32_t rule = t->entries[best].rule;
	return rule > x->first && !(t->rules[rule].flags & PTAB_SETTLES6);
}

/* The first rule that holds each of the m keys (m <= LANES; h->nrules
 * for none), in best: as lookup4_with, the walkers of a tree a level a
 * step, side by side, so that their loads overlap (on ClassBench's IPC1
 * 10k in 2001:db8::/32, 1.13 times the lookups a second of one packet
 * at a time; ACL1 the same); the file's nodes have no self-linked
 * leaves, so each step asks. */
static void lookup6(const struct portc_table *t, const u128 (*key)[PTAB_DIMS], size_t m,
		    uint32_t *best)
{
	for (size_t i = 0; i < m; i++)
		best[i] = UINT32_MAX;
	/* the trees in the order of their lowest rules, up to the empty ones */
	for (int tr = 0; tr < PTAB_TREES && t->tree6[tr].first != UINT32_MAX; tr++) {
		const struct tree6 *x = &t->tree6[tr];
		uint8_t w[LANES];
		const struct ptab_node *cur[LANES];
		size_t nw = 0;
		for (size_t i = 0; i < m; i++)
			if (walks6(t, x, best[i]))
				w[nw++] = (uint8_t)i;
		for (size_t j = 0; j < nw; j++) {
			const struct ptab_node *n = &t->nodes[x->root];
			if (n->kind == PTAB_CUT)
				n = &t->nodes[t->index[n->a + (uint32_t)((key[w[j]][n->dim] >> n->shift) &
									 ((1u << n->bits) - 1))]];
			cur[j] = n;
		}
		for (bool walking = true; walking;) {
			walking = false;
			for (size_t j = 0; j < nw; j++) {
				const struct ptab_node *n = cur[j];
				if (n->kind != PTAB_INNER)
					continue;
				cur[j] = &t->nodes[key[w[j]][n->dim] <= join(n->thr) ? n->a : n->b];
				walking = true;
			}
		}
		for (size_t j = 0; j < nw; j++) {
			const u128 *k = key[w[j]];
			const struct ptab_node *n = cur[j];
			for (uint32_t i = n->a; i < n->a + n->b && t->leaf[i] < best[w[j]]; i++) {
				const struct ptab_entry *e = &t->entries[t->leaf[i]];
				int d = 0;
				for (; d < PTAB_DIMS; d++)
					if (k[d] < join(e->d[d].lo) || k[d] > join(e->d[d].hi))
						break;
				if (d == PTAB_DIMS) {
					best[w[j]] = t->leaf[i];
					break;
				}
			}
		}
	}
	/* entries are in rule order: the lowest entry is the first rule */
	for (size_t i = 0; i < m; i++)
		best[i] = best[i] == UINT32_MAX ? t->h->nrules : t->entries[best[i]].rule;
}

int portc_classify(const struct portc_table *t, const struct portc_tuple *k,
		   struct portc_result *r)
{
	portc_classify_batch(t, k, 1, r);
	return k->family == 4 || k->family == 6 ? 0 : -1;
}

void portc_classify_batch(const struct portc_table *t, const struct portc_tuple *k, size_t n,
			  struct portc_result *r)
{
	uint32_t key[LANES][KEYW], best[LANES];
	u128 key6s[LANES][PTAB_DIMS];
	size_t at[LANES], at6[LANES];
	for (size_t i = 0; i < n;) {
		/* the next LANES packets, if all are IPv4 */
		bool all4 = n - i >= LANES;
		for (size_t j = 0; all4 && j < LANES; j++)
			all4 = k[i + j].family == 4;
		if (all4) {
#if PORTC_X86
			if (t->avx2)
				batch4_avx2(t, &k[i], &r[i]);
			else
#endif
				batch4(t, &k[i], &r[i]);
			i += LANES;
			continue;
		}
		/* else gather up to LANES packets of each family; any other
		 * family gets the default */
		size_t m = 0, m6 = 0;
		for (; i < n && m < LANES && m6 < LANES; i++) {
			PREFETCH_AHEAD(&k[i]);
			if (k[i].family == 4) {
				key4(t, &k[i], key[m]);
				at[m++] = i;
			} else if (k[i].family == 6) {
				key6(t, &k[i], key6s[m6]);
				at6[m6++] = i;
			} else {
				r[i] = t->results[t->h->nrules];	/* the default's */
			}
		}
		if (m) {
#if PORTC_X86
			if (t->avx2)
				lookup4_avx2(t, (const uint32_t(*)[KEYW])key, m, best);
			else
#endif
				lookup4(t, (const uint32_t(*)[KEYW])key, m, best);
		}
		for (size_t j = 0; j < m; j++)
			r[at[j]] = t->results[best[j]];
		if (m6)
			lookup6(t, (const u128(*)[PTAB_DIMS])key6s, m6, best);
		for (size_t j = 0; j < m6; j++)
			r[at6[j]] = t->results[best[j]];
	}
}
