/* table_load.c - libportc: load and check a compiled portc table, and make
 * what lookups read (table_mem.h).
 *
 * Loading copies the bytes into one aligned block and checks all of it
 * (docs/table-format.md, "What a loader checks"), so that a lookup can
 * trust every index it follows: the lookup path has no bounds checks, no
 * allocation and no locks. libportc depends on nothing of the compiler. */
#include "table_mem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The header: magic, version, sizes, checksum; then every section
 * inside the file, and t's pointers to them. */
static int check_header(struct portc_table *t, size_t len, char *err, size_t errlen)
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
	return 0;
}

/* Rules, entries, leaf and index slots: each field in range. */
static int check_records(const struct portc_table *t, char *err, size_t errlen)
{
	const struct ptab_header *h = t->h;
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
	return 0;
}

/* Each node's kind and children, and the trees' roots. */
static int check_nodes(const struct portc_table *t, char *err, size_t errlen)
{
	const struct ptab_header *h = t->h;
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
	return 0;
}

static int check(struct portc_table *t, size_t len, char *err, size_t errlen)
{
	int r = check_header(t, len, err, errlen);
	if (!r)
		r = check_records(t, err, errlen);
	if (!r)
		r = check_nodes(t, err, errlen);
	return r ? r : check_depth(t, err, errlen);
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

/* The nodes of the IPv4 trees, into v4, in one pass since children come
 * after their parents: only their leaves get chunks (an IPv6 leaf's would
 * be 14 bytes per slot of the file's 4, for nothing). The lines of their
 * leaves' boxes: check() bounds the slots the leaves list (as many as a
 * leaf lists: those no IPv4 packet is in, left out by fill_nodes4, seldom
 * leave a line spare). */
static size_t mark_v4(const struct portc_table *t, uint8_t *v4)
{
	const struct ptab_header *h = t->h;
	for (int tr = 0; tr < PTAB_TREES; tr++)
		if (h->root[0][tr] != PTAB_NO_TREE)
			v4[h->root[0][tr]] = 1;
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
	return nlines;
}

/* Leaf n (file node i, IPv4 node id[i]) as a node4 and its boxes' rows or
 * chunks from line *at on. */
static void fill_leaf4(struct portc_table *t, const struct ptab_node *n, uint32_t me, size_t *at)
{
	const uint32_t *slot = &t->leaf[n->a];
	uint32_t nbox = boxes4(t, n), k = 0;
	uint32_t lo[PTAB_DIMS], span[PTAB_DIMS];
	t->nodes4[me] = (struct node4){ UINT32_MAX, 0, me, (uint32_t)*at };
	t->nbox4[me - t->leaf0] = nbox;
	struct chunk4 *c = (struct chunk4 *)(t->lines + LINE * *at);
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
			put_row((struct row4 *)(t->lines + LINE * *at) + k, lo, span, e->rule);
		else
			put_lane(&c[k / CHUNK], (int)(k % CHUNK), lo, span, e->rule);
		k++;
	}
	*at += lines_of(nbox);
}

/* The IPv4 trees' roots: a node, or a cut's slots (slot4, as nodes4). */
static void fill_trees4(struct portc_table *t, const uint32_t *id)
{
	const struct ptab_header *h = t->h;
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
}

/* The IPv4 trees as node4s: inner nodes first, in file order, then the
 * leaves, whose boxes go to rows and chunks (cuts, only ever roots, are in
 * tree4). -1 when out of memory. */
static int build4(struct portc_table *t)
{
	const struct ptab_header *h = t->h;
	uint8_t *v4 = calloc((size_t)h->nnodes + 1, 1);
	if (!v4)
		return -1;
	size_t nlines = mark_v4(t, v4);
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
		if (n->kind == PTAB_LEAF) {
			fill_leaf4(t, n, id[i], &at);
			continue;
		}
		/* a threshold past 32 bits sends every IPv4 packet to a, as
		 * UINT32_MAX does */
		t->nodes4[id[i]] = (struct node4){ clamp_to(n->thr, UINT32_MAX), n->dim, id[n->a], id[n->b] };
	}
	fill_trees4(t, id);
	free(v4);
	free(id);
	t->memory = sizeof *t + h->file_size + ((size_t)ninner + nleaves + 1) * sizeof *t->nodes4 +
		    ((size_t)nleaves + 1) * sizeof *t->nbox4 + h->nindex * sizeof *t->slot4 +
		    nlines * LINE;
	return 0;
}

/* The lowest rule below each node, children first (they come after), then
 * of each tree: a tree whose lowest rule comes after what a packet has
 * found cannot better it. The trees then in the order of their first
 * rules, the empty ones last: a tree's gate sees the answers of every tree
 * that can hold an earlier rule, and the first tree walked is the one
 * every packet must walk. */
static int order_trees(struct portc_table *t)
{
	const struct ptab_header *h = t->h;
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
	return 0;
}

/* Each rule's answer, and the default's; which rules settle an IPv4
 * packet (PTAB_SETTLES4), and whether lookups read that; which protocols
 * have ports and types; whether to use AVX2. */
static int results_of(struct portc_table *t)
{
	const struct ptab_header *h = t->h;
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
	 * walk (bench/README.md, T15). */
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

/* What the lookups read, made from the checked file. */
static int compact(struct portc_table *t)
{
	if (build4(t) != 0 || order_trees(t) != 0)
		return -1;
	return results_of(t);
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
