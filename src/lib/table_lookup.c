/* table_lookup.c - libportc: the lookups, over what loading made
 * (table_mem.h): scalar, and with AVX2 where the machine has it. */
#include "table_mem.h"

#include <string.h>

/* An IPv6 address, 16 bytes in network order, as a number: two 8-byte
 * loads, not byte by byte (bench/README.md, T1). */
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
 * those loads instead of waiting on each one (T2). */
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

/* The same with two gathers, not a loop over the walkers (T3). */
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
	 * their loads. No test of a packet's best against the rules below a
	 * node on the way: it costs every step more than it saves (T4). */
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
 * each caller (AVX2 or not). Batches of LANES, not blocks of 64 (T5). */
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
		 * unrolled for a whole batch (T6) */
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
 * big to cache: 8 batches (5 KB) on (T7). The address is integer
 * arithmetic, as it may be past the end (a prefetch never faults). */
enum { AHEAD = 8 * LANES };

#define PREFETCH_AHEAD(p) __builtin_prefetch((const void *)((uintptr_t)(p) + AHEAD * sizeof *(p)))

/* The answers to LANES IPv4 tuples k, in r: keys, lookup and answers in
 * one piece, for a batch of IPv4 packets, rather than gathering the IPv4
 * packets of any batch one by one and spreading their answers (T8). */
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
 * the protocol has them (T9). */
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
 * step, side by side, so that their loads overlap (T10); the file's nodes
 * have no self-linked leaves, so each step asks. */
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
