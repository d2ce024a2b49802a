/* table_mem.h - libportc's table in memory: what loading makes of a file
 * (table_load.c) and lookups read (table_lookup.c). Internal to
 * src/lib; the interface is include/portc/match.h. */
#ifndef PORTC_TABLE_MEM_H
#define PORTC_TABLE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portc/match.h"
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
 * last packet reaches a leaf, with no test for leaves on the way (T11). A
 * leaf's boxes start at line b of the box lines: rows for a small leaf,
 * chunks for a larger one (below); nbox4[n - leaf0] says how many. A
 * leaf keeps no first rule to skip it by (T12). */
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
 * cache lines a chunk (T13). A chunk's unused lanes,
 * all in its leaf's last chunk, have rule UINT32_MAX and bounds of 0: a
 * key they hold takes no rule from them, and lanes before them come
 * first. Boxes no IPv4 packet is in are left out at load. */
enum { WIDE_SRC, WIDE_DST, NWIDE };
/* the file's field of each lane group (loading writes them, lookups read) */
static const int wide_dim[NWIDE] __attribute__((unused)) = { PTAB_SRC, PTAB_DST };
static const int port_dim[2] __attribute__((unused)) = { PTAB_SPORT, PTAB_DPORT };
static const int byte_dim[2] __attribute__((unused)) = { PTAB_PROTO, PTAB_TYPE };

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
 * line and one compare per box, where a chunk takes four lines (T14). */
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

#endif
