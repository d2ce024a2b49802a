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
 * half the bytes per node and a sixth per box of the file's 128-bit
 * bounds, and 32-bit compares. IPv6 lookups read the file's. */
struct node4 {
	uint32_t thr;
	uint8_t leaf, dim;
	uint16_t reserved;
	uint32_t a, b;
};

struct entry4 {
	uint32_t lo[PTAB_DIMS], hi[PTAB_DIMS];
	uint32_t rule;
	uint32_t reserved;
};

struct portc_table {
	void *mem;			/* the file, 8-byte aligned */
	struct node4 *nodes4;
	struct entry4 *entries4;
	const struct ptab_header *h;
	const struct ptab_rule *rules;
	const struct ptab_entry *entries;
	const struct ptab_node *nodes;
	const uint32_t *leaf;
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
	if (h->flags || h->default_action > 2)
		return fail(err, errlen, "table header has unknown flags or default");
	if (!section_ok(len, h->off_rules, h->nrules, sizeof *t->rules) ||
	    !section_ok(len, h->off_entries, h->nentries, sizeof *t->entries) ||
	    !section_ok(len, h->off_nodes, h->nnodes, sizeof *t->nodes) ||
	    !section_ok(len, h->off_leaf, h->nleaf, sizeof *t->leaf))
		return fail(err, errlen, "a table section lies outside the file");
	t->rules = (const void *)((const char *)t->mem + h->off_rules);
	t->entries = (const void *)((const char *)t->mem + h->off_entries);
	t->nodes = (const void *)((const char *)t->mem + h->off_nodes);
	t->leaf = (const void *)((const char *)t->mem + h->off_leaf);
	for (uint32_t i = 0; i < h->nrules; i++)
		if (t->rules[i].action > 2 || (t->rules[i].dscp > 63 && t->rules[i].dscp != PTAB_NO_DSCP))
			return fail(err, errlen, "rule %u: bad action or DSCP", i);
	for (uint32_t i = 0; i < h->nentries; i++)
		if (t->entries[i].rule >= h->nrules)
			return fail(err, errlen, "entry %u: rule %u out of range", i, t->entries[i].rule);
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
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < PTAB_TREES; k++)
			if (h->root[f][k] != PTAB_NO_TREE && h->root[f][k] >= h->nnodes)
				return fail(err, errlen, "a root of the IPv%d trees is out of range", f ? 6 : 4);
	return 0;
}

/* A 128-bit bound as 32 bits: above 2^32 - 1 no IPv4 field reaches it. */
static uint32_t clamp32(const uint64_t w[2])
{
	return w[1] || w[0] > UINT32_MAX ? UINT32_MAX : (uint32_t)w[0];
}

static int compact(struct portc_table *t)
{
	const struct ptab_header *h = t->h;
	t->nodes4 = calloc(h->nnodes ? h->nnodes : 1, sizeof *t->nodes4);
	t->entries4 = calloc(h->nentries ? h->nentries : 1, sizeof *t->entries4);
	if (!t->nodes4 || !t->entries4)
		return -1;
	for (uint32_t i = 0; i < h->nnodes; i++) {
		const struct ptab_node *n = &t->nodes[i];
		/* a threshold past 32 bits sends every IPv4 packet left, as
		 * UINT32_MAX does */
		t->nodes4[i] = (struct node4){ clamp32(n->thr), n->leaf, n->dim, 0, n->a, n->b };
	}
	for (uint32_t i = 0; i < h->nentries; i++) {
		const struct ptab_entry *e = &t->entries[i];
		struct entry4 *x = &t->entries4[i];
		x->rule = e->rule;
		bool empty = false;
		for (int d = 0; d < PTAB_DIMS; d++) {
			x->lo[d] = clamp32(e->d[d].lo);
			x->hi[d] = clamp32(e->d[d].hi);
			/* a bound no IPv4 field reaches, or a reversed one (only in
			 * a hand-made table): no packet is in the box */
			empty |= e->d[d].lo[1] || e->d[d].lo[0] > UINT32_MAX || x->lo[d] > x->hi[d];
		}
		if (empty) {	/* lookup4 tests lo[0] <= hi[0] last */
			x->lo[0] = 1;
			x->hi[0] = 0;
		}
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
		free(t->entries4);
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

/* The first entry of leaf node that holds key, if below best. */
static uint32_t leaf4(const struct portc_table *t, const struct node4 *node,
		      const uint32_t key[PTAB_DIMS], uint32_t best)
{
	for (uint32_t i = node->a; i < node->a + node->b && t->leaf[i] < best; i++) {
		const struct entry4 *e = &t->entries4[t->leaf[i]];
		/* lo <= key <= hi as one unsigned compare per field */
		if (key[0] - e->lo[0] <= e->hi[0] - e->lo[0] && key[1] - e->lo[1] <= e->hi[1] - e->lo[1] &&
		    key[2] - e->lo[2] <= e->hi[2] - e->lo[2] && key[3] - e->lo[3] <= e->hi[3] - e->lo[3] &&
		    key[4] - e->lo[4] <= e->hi[4] - e->lo[4] && key[5] - e->lo[5] <= e->hi[5] - e->lo[5] &&
		    e->lo[0] <= e->hi[0])
			return t->leaf[i];
	}
	return best;
}

static uint32_t lookup4(const struct portc_table *t, const struct portc_tuple *k)
{
	uint32_t key[PTAB_DIMS];
	key4(t, k, key);
	uint32_t best = UINT32_MAX;
	for (int tr = 0; tr < PTAB_TREES; tr++) {
		uint32_t n = t->h->root[0][tr];
		if (n == PTAB_NO_TREE)
			continue;
		const struct node4 *node = &t->nodes4[n];
		while (!node->leaf)
			node = &t->nodes4[key[node->dim] <= node->thr ? node->a : node->b];
		best = leaf4(t, node, key, best);
	}
	return best;
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
	return best;
}

int portc_classify(const struct portc_table *t, const struct portc_tuple *k,
		   struct portc_result *r)
{
	if (k->family != 4 && k->family != 6) {
		fill(t, PORTC_DEFAULT_RULE, r);
		return -1;
	}
	/* entries are in rule order: the lowest that holds the packet, over
	 * every tree of the family, is the first match */
	uint32_t best = k->family == 4 ? lookup4(t, k) : lookup6(t, k);
	fill(t, best == UINT32_MAX ? PORTC_DEFAULT_RULE : t->entries[best].rule, r);
	return 0;
}

void portc_classify_batch(const struct portc_table *t, const struct portc_tuple *k, size_t n,
			  struct portc_result *r)
{
	for (size_t i = 0; i < n; i++)
		portc_classify(t, &k[i], &r[i]);
}
