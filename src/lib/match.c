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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portc/table_format.h"

typedef unsigned __int128 u128;

/* IPv4 lookups use 32-bit copies of the trees and boxes, made at load:
 * half the bytes per node, 32-bit compares, and the boxes of every leaf
 * copied into leaf order (32 bytes each, against the file's 200), so that
 * a leaf is scanned front to back from consecutive cache lines. A leaf
 * node4's a and b are its first box4 and their count. Node h->nnodes is
 * an empty leaf, where a packet that can find no better rule in a tree
 * than it has waits. IPv6 lookups read the file's. */
struct node4 {
	uint32_t thr;
	uint8_t leaf, dim;
	uint16_t reserved;
	uint32_t a, b;
};

struct box4 {
	uint32_t src_lo, src_hi, dst_lo, dst_hi;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t proto_lo, proto_hi, type_lo, type_hi;
	uint32_t rule;
};

struct portc_table {
	void *mem;			/* the file, 8-byte aligned */
	struct node4 *nodes4;
	struct box4 *boxes4;		/* per leaf slot */
	uint32_t first4[PTAB_TREES];	/* the lowest rule of each IPv4 tree */
	const struct ptab_header *h;
	const struct ptab_rule *rules;
	const struct ptab_entry *entries;
	const struct ptab_node *nodes;
	const uint32_t *leaf;
	const uint32_t *index;
};

/* ---- CRC-32C (Castagnoli), bitwise-table: the writer uses it too -------- */

uint32_t portc_crc32c(uint32_t crc, const void *buf, size_t len);

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
		if (t->rules[i].action > 2 || (t->rules[i].dscp > 63 && t->rules[i].dscp != PTAB_NO_DSCP))
			return fail(err, errlen, "rule %u: bad action or DSCP", i);
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
	for (uint32_t i = 0; i < h->nnodes; i++) {
		const struct ptab_node *n = &t->nodes[i];
		if (n->leaf == 1) {
			if (n->a > h->nleaf || n->b > h->nleaf - n->a)
				return fail(err, errlen, "node %u: leaf list out of range", i);
		} else if (n->leaf == 0) {
			/* children after the node: every walk moves forward, so ends */
			if (n->dim >= PTAB_DIMS || n->a <= i || n->b <= i || n->a >= h->nnodes ||
			    n->b >= h->nnodes)
				return fail(err, errlen, "node %u: bad dimension or child", i);
		} else {
			return fail(err, errlen, "node %u: bad kind", i);
		}
	}
	for (uint32_t i = 0; i < h->nindex; i++)
		if (t->index[i] >= h->nnodes)
			return fail(err, errlen, "index slot %u: node out of range", i);
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < PTAB_TREES; k++) {
			const struct ptab_index *x = &h->index[f][k];
			if (h->root[f][k] != PTAB_NO_TREE && h->root[f][k] >= h->nnodes)
				return fail(err, errlen, "a root of the IPv%d trees is out of range", f ? 6 : 4);
			if (x->dim == PTAB_NO_INDEX)
				continue;
			if ((x->dim != PTAB_SRC && x->dim != PTAB_DST) || x->bits < 1 ||
			    x->bits > PTAB_INDEX_BITS_MAX || x->first > h->nindex ||
			    ((uint32_t)1 << x->bits) > h->nindex - x->first || h->root[f][k] == PTAB_NO_TREE)
				return fail(err, errlen, "an index of the IPv%d trees is out of range",
					    f ? 6 : 4);
		}
	return 0;
}

/* A bound as n bits: above 2^n - 1 no IPv4 field reaches it. */
static uint32_t clamp_to(const uint64_t w[2], uint32_t max)
{
	return w[1] || w[0] > max ? max : (uint32_t)w[0];
}

static int compact(struct portc_table *t)
{
	const struct ptab_header *h = t->h;
	t->nodes4 = calloc((size_t)h->nnodes + 1, sizeof *t->nodes4);
	t->boxes4 = calloc(h->nleaf ? h->nleaf : 1, sizeof *t->boxes4);
	if (!t->nodes4 || !t->boxes4)
		return -1;
	for (uint32_t i = 0; i < h->nnodes; i++) {
		const struct ptab_node *n = &t->nodes[i];
		/* a threshold past 32 bits sends every IPv4 packet left, as
		 * UINT32_MAX does */
		t->nodes4[i] = (struct node4){ clamp_to(n->thr, UINT32_MAX), n->leaf,
					       n->leaf ? 0 : n->dim, 0, n->a, n->b };
		/* a leaf's dimension is read (and its compare thrown away) by
		 * the batched walk, so it must name a field */
	}
	t->nodes4[h->nnodes] = (struct node4){ UINT32_MAX, 1, 0, 0, 0, 0 };
	/* the lowest rule below each node, children first (they come after),
	 * then of each tree: a tree whose lowest rule comes after what a packet
	 * has found cannot better it */
	uint32_t *first = malloc(((size_t)h->nnodes + 1) * sizeof *first);
	if (!first)
		return -1;
	for (uint32_t i = h->nnodes; i-- > 0;) {
		const struct node4 *n = &t->nodes4[i];
		first[i] = UINT32_MAX;
		if (!n->leaf)
			first[i] = first[n->a] < first[n->b] ? first[n->a] : first[n->b];
		for (uint32_t j = n->a; n->leaf && j < n->a + n->b; j++)
			if (t->entries[t->leaf[j]].rule < first[i])
				first[i] = t->entries[t->leaf[j]].rule;
	}
	for (int tr = 0; tr < PTAB_TREES; tr++) {
		const struct ptab_index *ix = &h->index[0][tr];
		t->first4[tr] = h->root[0][tr] == PTAB_NO_TREE ? UINT32_MAX : first[h->root[0][tr]];
		for (uint32_t j = 0; ix->dim != PTAB_NO_INDEX && j < (uint32_t)1 << ix->bits; j++)
			if (first[t->index[ix->first + j]] < t->first4[tr])
				t->first4[tr] = first[t->index[ix->first + j]];
	}
	free(first);
	for (uint32_t i = 0; i < h->nleaf; i++) {
		const struct ptab_entry *e = &t->entries[t->leaf[i]];
		static const uint32_t max[PTAB_DIMS] = { 255, UINT32_MAX, 65535, UINT32_MAX, 65535, 255 };
		uint32_t lo[PTAB_DIMS], hi[PTAB_DIMS];
		bool empty = false;
		for (int d = 0; d < PTAB_DIMS; d++) {
			lo[d] = clamp_to(e->d[d].lo, max[d]);
			hi[d] = clamp_to(e->d[d].hi, max[d]);
			/* a bound no IPv4 field reaches, or a reversed one (only in
			 * a hand-made table): no packet is in the box */
			empty |= e->d[d].lo[1] || e->d[d].lo[0] > max[d] || lo[d] > hi[d];
		}
		if (empty) {	/* leaf4 compares the protocol both ways */
			lo[PTAB_PROTO] = 1;
			hi[PTAB_PROTO] = 0;
		}
		t->boxes4[i] = (struct box4){ lo[PTAB_SRC], hi[PTAB_SRC], lo[PTAB_DST], hi[PTAB_DST],
					      (uint16_t)lo[PTAB_SPORT], (uint16_t)hi[PTAB_SPORT],
					      (uint16_t)lo[PTAB_DPORT], (uint16_t)hi[PTAB_DPORT],
					      (uint8_t)lo[PTAB_PROTO], (uint8_t)hi[PTAB_PROTO],
					      (uint8_t)lo[PTAB_TYPE], (uint8_t)hi[PTAB_TYPE], e->rule };
	}
	return 0;
}

int portc_table_load(const void *buf, size_t len, struct portc_table **out, char *err,
		     size_t errlen)
{
	*out = NULL;
	if (!buf)
		return fail(err, errlen, "no table");
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

int portc_table_open(const char *path, struct portc_table **out, char *err, size_t errlen)
{
	*out = NULL;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + len, 1, cap - len, fp)) > 0) {
		len += got;
		if (len == cap) {
			char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	bool bad = ferror(fp);
	fclose(fp);
	if (!buf || bad) {
		free(buf);
		return fail(err, errlen, "%s: cannot read the table", path);
	}
	int r = portc_table_load(buf, len, out, err, errlen);
	free(buf);
	if (r != 0 && err && errlen) {
		char why[256];
		snprintf(why, sizeof why, "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
	}
	return r;
}

void portc_table_free(struct portc_table *t)
{
	if (t) {
		free(t->nodes4);
		free(t->boxes4);
		free(t->mem);
		free(t);
	}
}

uint32_t portc_table_rules(const struct portc_table *t)
{
	return t->h->nrules;
}

enum portc_action portc_table_default(const struct portc_table *t)
{
	return (enum portc_action)t->h->default_action;
}

/* ---- lookup ------------------------------------------------------------------ */

static u128 addr_of(const uint8_t *a, int family)
{
	u128 v = 0;
	for (int i = 0; i < (family == 4 ? 4 : 16); i++)
		v = v << 8 | a[i];
	return v;
}

static inline u128 join(const uint64_t w[2])
{
	return (u128)w[1] << 64 | w[0];
}

static inline bool has_bit(const uint8_t bits[32], unsigned p)
{
	return bits[p >> 3] >> (p & 7) & 1;
}

static void fill(const struct portc_table *t, uint32_t rule, struct portc_result *r)
{
	if (rule == PORTC_DEFAULT_RULE) {
		*r = (struct portc_result){ PORTC_DEFAULT_RULE, 0, (uint8_t)t->h->default_action, -1, 0 };
		return;
	}
	const struct ptab_rule *x = &t->rules[rule];
	*r = (struct portc_result){ rule, x->line, x->action,
				    x->dscp == PTAB_NO_DSCP ? -1 : (int8_t)x->dscp, 0 };
}

/* Source port, destination port and ICMP type as the policy sees them:
 * 0 for a protocol that lacks them. */
static void l4_fields(const struct portc_table *t, const struct portc_tuple *k, uint32_t out[3])
{
	bool ports = has_bit(t->h->port_protos, k->proto);
	out[0] = ports ? k->sport : 0;
	out[1] = ports ? k->dport : 0;
	out[2] = has_bit(t->h->type_protos, k->proto) ? k->icmp_type : 0;
}

/* IPv4: the 32-bit copies. */
static void key4(const struct portc_table *t, const struct portc_tuple *k, uint32_t key[PTAB_DIMS])
{
	key[PTAB_PROTO] = k->proto;
	key[PTAB_SRC] = (uint32_t)k->src[0] << 24 | (uint32_t)k->src[1] << 16 |
			(uint32_t)k->src[2] << 8 | k->src[3];
	key[PTAB_DST] = (uint32_t)k->dst[0] << 24 | (uint32_t)k->dst[1] << 16 |
			(uint32_t)k->dst[2] << 8 | k->dst[3];
	uint32_t l4[3];
	l4_fields(t, k, l4);
	key[PTAB_SPORT] = l4[0];
	key[PTAB_DPORT] = l4[1];
	key[PTAB_TYPE] = l4[2];
}

/* Whether box x holds key: lo <= key <= hi as one unsigned compare per
 * field (compact() keeps lo <= hi), but the protocol both ways, which is
 * what an empty box fails. */
static inline bool holds4(const struct box4 *x, const uint32_t key[PTAB_DIMS])
{
	return (key[PTAB_PROTO] >= x->proto_lo) & (key[PTAB_PROTO] <= x->proto_hi) &
	       (key[PTAB_SRC] - x->src_lo <= x->src_hi - x->src_lo) &
	       (key[PTAB_DST] - x->dst_lo <= x->dst_hi - x->dst_lo) &
	       (key[PTAB_SPORT] - x->sport_lo <= (uint32_t)x->sport_hi - x->sport_lo) &
	       (key[PTAB_DPORT] - x->dport_lo <= (uint32_t)x->dport_hi - x->dport_lo) &
	       (key[PTAB_TYPE] - x->type_lo <= (uint32_t)x->type_hi - x->type_lo);
}

/* Packets classified together. A walk is a chain of dependent loads; the
 * walks of LANES packets, stepped a level at a time side by side, overlap
 * those loads instead of waiting on each one, which on ClassBench's 10k
 * sets is 1.5 times the speed of one walk after another. */
enum { LANES = 16 };

/* The first rule that holds each of the m keys (UINT32_MAX for none). */
static void lookup4(const struct portc_table *t, const uint32_t (*key)[PTAB_DIMS], size_t m,
		    uint32_t *best)
{
	uint32_t cur[LANES];
	for (size_t i = 0; i < m; i++)
		best[i] = UINT32_MAX;
	for (int tr = 0; tr < PTAB_TREES; tr++) {
		uint32_t root = t->h->root[0][tr];
		if (root == PTAB_NO_TREE)
			continue;
		/* a tree whose rules all come after what every packet has found
		 * is not walked, nor is its index read */
		bool any = false;
		for (size_t i = 0; i < m; i++)
			any |= best[i] > t->first4[tr];
		if (!any)
			continue;
		const struct ptab_index *ix = &t->h->index[0][tr];
		for (size_t i = 0; i < m; i++)
			cur[i] = best[i] <= t->first4[tr] ? t->h->nnodes :
				 ix->dim == PTAB_NO_INDEX ? root :
				 t->index[ix->first + (key[i][ix->dim] >> (32 - ix->bits))];
		/* A packet at a leaf stays there until every packet is at one.
		 * (Sending a packet to the empty leaf at any node whose rules all
		 * come after its best, as at the tree's top, was tried: the
		 * compare costs every step more than the walks it ends save.) */
		for (bool moved = true; moved;) {
			moved = false;
			for (size_t i = 0; i < m; i++) {
				const struct node4 *nd = &t->nodes4[cur[i]];
				uint32_t next = key[i][nd->dim] <= nd->thr ? nd->a : nd->b;
				cur[i] = nd->leaf ? cur[i] : next;
				moved |= !nd->leaf;
			}
		}
		/* every packet's first box, asked for before any is scanned */
		for (size_t i = 0; i < m; i++)
			__builtin_prefetch(&t->boxes4[t->nodes4[cur[i]].a]);
		for (size_t i = 0; i < m; i++) {
			const struct node4 *nd = &t->nodes4[cur[i]];
			/* boxes in rule order: stop at the best rule found so far */
			for (uint32_t j = nd->a; j < nd->a + nd->b && t->boxes4[j].rule < best[i]; j++)
				if (holds4(&t->boxes4[j], key[i])) {
					best[i] = t->boxes4[j].rule;
					break;
				}
		}
	}
}

/* IPv6: the file's 128-bit trees and boxes. */
static uint32_t lookup6(const struct portc_table *t, const struct portc_tuple *k)
{
	u128 key[PTAB_DIMS];
	key[PTAB_PROTO] = k->proto;
	key[PTAB_SRC] = addr_of(k->src, 6);
	key[PTAB_DST] = addr_of(k->dst, 6);
	uint32_t l4[3];
	l4_fields(t, k, l4);
	key[PTAB_SPORT] = l4[0];
	key[PTAB_DPORT] = l4[1];
	key[PTAB_TYPE] = l4[2];
	uint32_t best = UINT32_MAX;
	for (int tr = 0; tr < PTAB_TREES; tr++) {
		uint32_t n = t->h->root[1][tr];
		if (n == PTAB_NO_TREE)
			continue;
		const struct ptab_index *ix = &t->h->index[1][tr];
		if (ix->dim != PTAB_NO_INDEX)
			n = t->index[ix->first + (uint32_t)(key[ix->dim] >> (128 - ix->bits))];
		const struct ptab_node *node = &t->nodes[n];
		while (!node->leaf)
			node = &t->nodes[key[node->dim] <= join(node->thr) ? node->a : node->b];
		for (uint32_t i = node->a; i < node->a + node->b && t->leaf[i] < best; i++) {
			const struct ptab_entry *e = &t->entries[t->leaf[i]];
			int d = 0;
			for (; d < PTAB_DIMS; d++)
				if (key[d] < join(e->d[d].lo) || key[d] > join(e->d[d].hi))
					break;
			if (d == PTAB_DIMS) {
				best = t->leaf[i];
				break;
			}
		}
	}
	/* entries are in rule order: the lowest entry is the first rule */
	return best == UINT32_MAX ? best : t->entries[best].rule;
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
	uint32_t key[LANES][PTAB_DIMS], best[LANES];
	size_t at[LANES];
	for (size_t i = 0; i < n;) {
		/* gather up to LANES IPv4 packets; the rest are answered as met */
		size_t m = 0;
		for (; i < n && m < LANES; i++) {
			if (k[i].family == 4) {
				key4(t, &k[i], key[m]);
				at[m++] = i;
			} else {
				fill(t, k[i].family == 6 ? lookup6(t, &k[i]) : PORTC_DEFAULT_RULE, &r[i]);
			}
		}
		if (m)
			lookup4(t, (const uint32_t(*)[PTAB_DIMS])key, m, best);
		for (size_t j = 0; j < m; j++)
			fill(t, best[j], &r[at[j]]);
	}
}
