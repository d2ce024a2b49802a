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

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define PORTC_X86 1
#include <immintrin.h>
#else
#define PORTC_X86 0
#endif

/* IPv4 lookups use 32-bit copies of the trees and boxes, made at load:
 * half the bytes per node, 32-bit compares, and the boxes of every leaf
 * laid out eight to a chunk, field by field, so that one leaf's boxes are
 * checked at once with eight-lane vector compares (AVX2 where the
 * processor has it; the same answers one box at a time elsewhere). A
 * leaf node4's a and b are its first chunk and its number of boxes. Node
 * h->nnodes is an empty leaf, where a packet that can find no better rule
 * in a tree than it has waits. IPv6 lookups read the file's. */
struct node4 {
	uint32_t thr;			/* a cut's: the mask of its bits */
	uint8_t leaf, dim, cut, shift;
	uint32_t a, b;
};

enum { CHUNK = 8 };
enum { HAS_PORTS = 1, HAS_TYPE = 2 };

/* Up to eight boxes of a leaf, in rule order: box l holds key when, for
 * every field d, key[d] - lo[l] <= span[l] (unsigned: one compare for
 * both ends), and bit l of valid is set (unused lanes, and boxes no IPv4
 * packet falls in, have it clear). The addresses are 32 bits; ports,
 * protocol and ICMP type fit in 16, two fields to a 16-lane vector:
 * four compares a chunk, not six, and five cache lines, not seven (on
 * ClassBench's 10k sets, 1.15 to 1.23 times the lookups a second). */
enum { WIDE_SRC, WIDE_DST, NWIDE };
enum { PAIR_PORTS, PAIR_PROTO_TYPE, NPAIRS };
static const int wide_dim[NWIDE] = { PTAB_SRC, PTAB_DST };
static const int pair_dim[NPAIRS][2] = { { PTAB_SPORT, PTAB_DPORT }, { PTAB_PROTO, PTAB_TYPE } };

struct chunk4 {
	uint32_t lo[NWIDE][CHUNK];
	uint32_t span[NWIDE][CHUNK];
	uint16_t lo16[NPAIRS][2 * CHUNK];	/* the pair's first field, then its second */
	uint16_t span16[NPAIRS][2 * CHUNK];
	uint32_t rule[CHUNK];		/* UINT32_MAX in unused lanes */
	uint32_t valid;
	uint32_t pad[7];
};

struct portc_table {
	void *mem;			/* the file, 8-byte aligned */
	struct node4 *nodes4;
	struct chunk4 *chunks;		/* 64-byte aligned */
	bool avx2;			/* chunks checked with AVX2 */
	size_t memory;			/* portc_table_memory */
	struct portc_result *results;	/* per rule, then the default's */
	uint8_t l4[256];		/* per protocol: HAS_PORTS, HAS_TYPE */
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
	return 0;
}

/* A bound as n bits: above 2^n - 1 no IPv4 field reaches it. */
static uint32_t clamp_to(const uint64_t w[2], uint32_t max)
{
	return w[1] || w[0] > max ? max : (uint32_t)w[0];
}

/* Box e of the file as lane l of chunk c. */
static void put_lane(struct chunk4 *c, int l, const struct ptab_entry *e)
{
	static const uint32_t max[PTAB_DIMS] = { 255, UINT32_MAX, 65535, UINT32_MAX, 65535, 255 };
	uint32_t lo[PTAB_DIMS], span[PTAB_DIMS];
	bool empty = false;
	for (int d = 0; d < PTAB_DIMS; d++) {
		uint32_t hi = clamp_to(e->d[d].hi, max[d]);
		lo[d] = clamp_to(e->d[d].lo, max[d]);
		span[d] = hi - lo[d];
		/* a bound no IPv4 field reaches, or a reversed one (only in a
		 * hand-made table): no packet is in the box */
		empty |= e->d[d].lo[1] || e->d[d].lo[0] > max[d] || lo[d] > hi;
	}
	/* laid out as chunk_hits reads them; a paired field's max is 65535 */
	for (int w = 0; w < NWIDE; w++) {
		c->lo[w][l] = lo[wide_dim[w]];
		c->span[w][l] = span[wide_dim[w]];
	}
	for (int p = 0; p < NPAIRS; p++)
		for (int h = 0; h < 2; h++) {
			c->lo16[p][h * CHUNK + l] = (uint16_t)lo[pair_dim[p][h]];
			c->span16[p][h * CHUNK + l] = (uint16_t)span[pair_dim[p][h]];
		}
	c->rule[l] = e->rule;
	c->valid |= (uint32_t)!empty << l;
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
	size_t nchunks = 1;	/* check() bounds the slots the leaves list */
	for (uint32_t i = 0; i < h->nnodes; i++) {
		const struct ptab_node *n = &t->nodes[i];
		if (!v4[i])
			continue;
		if (n->kind == PTAB_LEAF)
			nchunks += (n->b + CHUNK - 1) / CHUNK;
		else if (n->kind == PTAB_INNER)
			v4[n->a] = v4[n->b] = 1;
		else
			for (uint32_t j = 0; j < 1u << n->bits; j++)
				v4[t->index[n->a + j]] = 1;
	}
	t->nodes4 = calloc((size_t)h->nnodes + 1, sizeof *t->nodes4);
	t->chunks = aligned_alloc(64, nchunks * sizeof *t->chunks);
	if (!t->nodes4 || !t->chunks) {
		free(v4);
		return -1;
	}
	size_t at = 0;
	for (uint32_t i = 0; i < h->nnodes; i++) {
		const struct ptab_node *n = &t->nodes[i];
		/* a threshold past 32 bits sends every IPv4 packet left, as
		 * UINT32_MAX does; a leaf's dimension is read (and its compare
		 * thrown away) by the batched walk, so it must name a field; a
		 * cut's mask is in thr, and a shift past 32 bits leaves 0 */
		bool leaf = n->kind == PTAB_LEAF, cut = n->kind == PTAB_CUT;
		t->nodes4[i] = (struct node4){ clamp_to(n->thr, UINT32_MAX), leaf, leaf ? 0 : n->dim,
					       cut, 0, n->a, n->b };
		if (cut) {
			t->nodes4[i].thr = n->shift < 32 ? (1u << n->bits) - 1 : 0;
			t->nodes4[i].shift = n->shift < 32 ? n->shift : 0;
		}
		if (!leaf)
			continue;
		if (!v4[i]) {	/* an IPv6 leaf: never reached from here */
			t->nodes4[i].a = t->nodes4[i].b = 0;
			continue;
		}
		t->nodes4[i].a = (uint32_t)at;
		for (uint32_t j = 0; j < n->b; j += CHUNK) {
			struct chunk4 *c = &t->chunks[at++];
			memset(c, 0, sizeof *c);
			for (int l = 0; l < CHUNK; l++)
				if (j + (uint32_t)l < n->b)
					put_lane(c, l, &t->entries[t->leaf[n->a + j + (uint32_t)l]]);
				else
					c->rule[l] = UINT32_MAX;
		}
	}
	free(v4);
	t->nodes4[h->nnodes] = (struct node4){ UINT32_MAX, 1, 0, 0, 0, 0, 0 };
	t->memory = sizeof *t + h->file_size + ((size_t)h->nnodes + 1) * sizeof *t->nodes4 +
		    nchunks * sizeof *t->chunks;
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
		t->first4[tr] = root == PTAB_NO_TREE ? UINT32_MAX : first[root];
	}
	free(first);
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
		free(t->chunks);
		free(t->results);
		free(t->mem);
		free(t);
	}
}

uint32_t portc_table_rules(const struct portc_table *t)
{
	return t->h->nrules;
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


/* The answer for rule (PORTC_DEFAULT_RULE: the default), made at load. */
static inline void fill(const struct portc_table *t, uint32_t rule, struct portc_result *r)
{
	*r = t->results[rule < t->h->nrules ? rule : t->h->nrules];
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
			uint32_t key[PTAB_DIMS])
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
}

/* The first lane of chunk c that holds key, as a bit (0: none), one box
 * at a time. */
static inline uint32_t chunk_hits(const struct chunk4 *c, const uint32_t key[PTAB_DIMS])
{
	for (int l = 0; l < CHUNK && c->rule[l] != UINT32_MAX; l++) {
		bool in = c->valid >> l & 1;
		for (int w = 0; w < NWIDE; w++)
			in &= key[wide_dim[w]] - c->lo[w][l] <= c->span[w][l];
		for (int p = 0; p < NPAIRS; p++)
			for (int h = 0; h < 2; h++)
				in &= (uint16_t)(key[pair_dim[p][h]] - c->lo16[p][h * CHUNK + l]) <=
				      c->span16[p][h * CHUNK + l];
		if (in)
			return 1u << l;
	}
	return 0;
}

#if PORTC_X86
/* The lanes of chunk c that hold key, as bits, with AVX2: eight boxes per
 * compare, min(x, span) == x being x <= span unsigned. */
__attribute__((target("avx2"), always_inline)) static inline uint32_t
chunk_hits_avx2(const struct chunk4 *c, const uint32_t key[PTAB_DIMS])
{
	__m256i in = _mm256_set1_epi32(-1);
	for (int w = 0; w < NWIDE; w++) {
		__m256i x = _mm256_sub_epi32(_mm256_set1_epi32((int)key[wide_dim[w]]),
					     _mm256_load_si256((const __m256i *)c->lo[w]));
		__m256i span = _mm256_load_si256((const __m256i *)c->span[w]);
		in = _mm256_and_si256(in, _mm256_cmpeq_epi32(_mm256_min_epu32(x, span), x));
	}
	__m256i in16 = _mm256_set1_epi16(-1);
	for (int p = 0; p < NPAIRS; p++) {
		__m256i k = _mm256_setr_m128i(_mm_set1_epi16((short)key[pair_dim[p][0]]),
					      _mm_set1_epi16((short)key[pair_dim[p][1]]));
		__m256i x = _mm256_sub_epi16(k, _mm256_load_si256((const __m256i *)c->lo16[p]));
		__m256i span = _mm256_load_si256((const __m256i *)c->span16[p]);
		in16 = _mm256_and_si256(in16, _mm256_cmpeq_epi16(_mm256_min_epu16(x, span), x));
	}
	/* a lane holds both fields of the pairs: the halves and-ed, widened */
	__m128i both = _mm_and_si128(_mm256_castsi256_si128(in16), _mm256_extracti128_si256(in16, 1));
	in = _mm256_and_si256(in, _mm256_cvtepi16_epi32(both));
	return (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(in)) & c->valid;
}
#endif

/* Packets classified together. A walk is a chain of dependent loads; the
 * walks of LANES packets, stepped a level at a time side by side, overlap
 * those loads instead of waiting on each one, which on ClassBench's 10k
 * sets is 1.5 times the speed of one walk after another. */
enum { LANES = 16 };

/* Walks one tree for the walkers w[0 .. nw) (NULL: packets 0 .. nw), and
 * lowers their best rules to what its leaves hold. */
__attribute__((always_inline)) static inline void
walk_tree(const struct portc_table *t, const uint32_t (*key)[PTAB_DIMS], uint32_t *best,
	  uint32_t root, const uint8_t *w, size_t nw,
	  uint32_t (*hits)(const struct chunk4 *, const uint32_t *))
{
	uint32_t cur[LANES];
	/* a cut at the root: one load per packet */
	const struct node4 *top = &t->nodes4[root];
	for (size_t j = 0; j < nw; j++) {
		size_t i = w ? w[j] : j;
		cur[i] = !top->cut ? root :
			 t->index[top->a + ((key[i][top->dim] >> top->shift) & top->thr)];
	}
	/* A packet at a leaf stays there until every packet is at one.
	 * (Sending a packet to the empty leaf at any node whose rules all
	 * come after its best, as at the tree's top, was tried: the
	 * compare costs every step more than the walks it ends save.) */
	for (bool moved = true; moved;) {
		moved = false;
		for (size_t j = 0; j < nw; j++) {
			size_t i = w ? w[j] : j;
			const struct node4 *nd = &t->nodes4[cur[i]];
			uint32_t next = key[i][nd->dim] <= nd->thr ? nd->a : nd->b;
			cur[i] = nd->leaf ? cur[i] : next;
			moved |= !nd->leaf;
		}
	}
	/* every walker's first chunk, asked for before any is checked */
	for (size_t j = 0; j < nw; j++)
		__builtin_prefetch(&t->chunks[t->nodes4[cur[w ? w[j] : j]].a]);
	for (size_t j = 0; j < nw; j++) {
		size_t i = w ? w[j] : j;
		const struct node4 *nd = &t->nodes4[cur[i]];
		const struct chunk4 *c = &t->chunks[nd->a];
		/* boxes in rule order: the lowest lane that holds the key
		 * is the leaf's answer; a chunk whose first rule comes
		 * after the best so far cannot better it */
		for (uint32_t n = 0; n < nd->b && c->rule[0] < best[i]; n += CHUNK, c++) {
			uint32_t in = hits(c, key[i]);
			if (in) {
				uint32_t r = c->rule[__builtin_ctz(in)];
				best[i] = r < best[i] ? r : best[i];
				break;
			}
		}
	}
}

/* The first rule that holds each of the m keys (UINT32_MAX for none);
 * hits is chunk_hits or chunk_hits_avx2, inlined into each caller. */
__attribute__((always_inline)) static inline void
lookup4_with(const struct portc_table *t, const uint32_t (*key)[PTAB_DIMS], size_t m,
	     uint32_t *best, uint32_t (*hits)(const struct chunk4 *, const uint32_t *))
{
	for (size_t i = 0; i < m; i++)
		best[i] = UINT32_MAX;
	for (int tr = 0; tr < PTAB_TREES; tr++) {
		uint32_t root = t->h->root[0][tr];
		if (root == PTAB_NO_TREE)
			continue;
		/* A tree whose rules all come after what a packet has found is
		 * not walked for it, nor is its cut read: the walkers are the
		 * packets that may yet find a better rule here. */
		uint8_t w[LANES];
		size_t nw = 0;
		for (size_t i = 0; i < m; i++) {
			w[nw] = (uint8_t)i;
			nw += best[i] > t->first4[tr];
		}
		if (!nw)
			continue;
		/* the same walk, without the walkers' list when all walk */
		if (nw == m)
			walk_tree(t, key, best, root, NULL, nw, hits);
		else
			walk_tree(t, key, best, root, w, nw, hits);
	}
}

static void lookup4(const struct portc_table *t, const uint32_t (*key)[PTAB_DIMS], size_t m,
		    uint32_t *best)
{
	lookup4_with(t, key, m, best, chunk_hits);
}

#if PORTC_X86
__attribute__((target("avx2"))) static void lookup4_avx2(const struct portc_table *t,
							 const uint32_t (*key)[PTAB_DIMS],
							 size_t m, uint32_t *best)
{
	lookup4_with(t, key, m, best, chunk_hits_avx2);
}
#endif

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
		if (node->kind == PTAB_CUT)
			node = &t->nodes[t->index[node->a + (uint32_t)((key[node->dim] >> node->shift) &
								       ((1u << node->bits) - 1))]];
		while (node->kind == PTAB_INNER)
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
			/* the tuples two batches on, from a stream too big to cache:
			 * integer arithmetic, as the address may be past the end
			 * (a prefetch never faults) */
			__builtin_prefetch((const void *)((uintptr_t)&k[i] + 2 * LANES * sizeof *k));
			if (k[i].family == 4) {
				key4(t, &k[i], key[m]);
				at[m++] = i;
			} else {
				fill(t, k[i].family == 6 ? lookup6(t, &k[i]) : PORTC_DEFAULT_RULE, &r[i]);
			}
		}
		if (m) {
#if PORTC_X86
			if (t->avx2)
				lookup4_avx2(t, (const uint32_t(*)[PTAB_DIMS])key, m, best);
			else
#endif
				lookup4(t, (const uint32_t(*)[PTAB_DIMS])key, m, best);
		}
		for (size_t j = 0; j < m; j++)
			fill(t, best[j], &r[at[j]]);
	}
}
