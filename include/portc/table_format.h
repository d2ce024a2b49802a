/* portc/table_format.h - the on-disk layout of a portc table, version 3.
 *
 * docs/table-format.md is the prose; this is the layout both the writer
 * (src/table_build.c) and the reader (src/lib/match.c) compile against. Every
 * field is little-endian; the file holds offsets and indices, never
 * pointers, so it can be mapped or copied anywhere. */
#ifndef PORTC_TABLE_FORMAT_H
#define PORTC_TABLE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define PTAB_MAGIC "PORTCTAB"
#define PTAB_VERSION 3u

/* The dimensions of a box, in this order. */
enum { PTAB_PROTO, PTAB_SRC, PTAB_SPORT, PTAB_DST, PTAB_DPORT, PTAB_TYPE, PTAB_DIMS };

#define PTAB_NO_TREE UINT32_MAX		/* root of a tree without rules */
/* Trees per family: the rules are split by which of their addresses are
 * wide (EffiCuts' separation), and a packet walks every tree; the lowest
 * entry found wins. */
#define PTAB_TREES 4
#define PTAB_NO_DSCP 0xFFu
/* Node kinds. */
enum { PTAB_INNER = 0, PTAB_LEAF = 1, PTAB_CUT = 2 };
#define PTAB_CUT_BITS_MAX 20
/* The most nodes a walk from a root to its leaf visits, both included: the
 * builder cuts no deeper, and loaders refuse a deeper tree (a valid-looking
 * chain of many nodes would make every lookup crawl). */
#define PTAB_MAX_DEPTH 64
/* The largest table file a loader accepts (1 GiB; a 100k-rule ClassBench
 * set makes about 70 MB). A bigger file is refused before it is read. */
#define PTAB_MAX_FILE_SIZE ((uint64_t)1 << 30)

struct ptab_header {
	char magic[8];			/* "PORTCTAB" */
	uint32_t version;		/* PTAB_VERSION */
	uint32_t header_size;		/* sizeof (struct ptab_header) */
	uint64_t file_size;		/* the whole file */
	uint32_t crc32c;		/* CRC-32C of the file, this field taken as 0 */
	uint32_t flags;			/* 0 */
	uint32_t nrules, nentries, nnodes, nleaf;
	uint32_t root[2][PTAB_TREES];	/* first node of each tree, per family
					 * (IPv4, IPv6); PTAB_NO_TREE if none */
	uint32_t nindex;		/* slots of the index section: node numbers,
					 * the children of cut nodes */
	uint32_t first6;		/* entries [0, first6) are IPv4's, the rest
					 * IPv6's; each run in rule order */
	uint32_t default_action;	/* 0 allow, 1 deny, 2 reject */
	uint32_t reserved;
	uint64_t off_rules, off_entries, off_nodes, off_leaf, off_index;
	uint8_t port_protos[32];	/* bit p: protocol p has ports */
	uint8_t type_protos[32];	/* bit p: protocol p has ICMP types */
};

/* Rule flags: a packet of the family (IPv4, IPv6) whose best rule so far
 * is this one is settled; no box of another tree, of an earlier rule,
 * meets a box of this rule, so no other tree can better it. A hint: a
 * reader that ignores it answers the same. */
#define PTAB_SETTLES4 1u
#define PTAB_SETTLES6 2u

/* A rule of the policy, in order (IR rules: one source rule may give several). */
struct ptab_rule {
	uint32_t line;			/* in the policy source */
	uint8_t action;			/* 0 allow, 1 deny, 2 reject */
	uint8_t dscp;			/* PTAB_NO_DSCP, or 0..63 on an allow */
	uint16_t flags;			/* PTAB_SETTLES4, PTAB_SETTLES6 */
	uint32_t source;		/* index of the source rule (rulesets expanded) */
	uint32_t reserved2;
};

/* One box of a rule: an interval per dimension; a 128-bit bound as two
 * 64-bit halves (lo word first). Entries are in rule order. */
struct ptab_bound {
	uint64_t lo[2], hi[2];
};

struct ptab_entry {
	struct ptab_bound d[PTAB_DIMS];
	uint32_t rule;
	uint32_t reserved;
};

/* A node of a tree; every node it leads to comes after it (a higher
 * index), so every walk ends.
 * Inner: a packet whose field `dim` is <= thr goes to node a, else to b.
 * Leaf: entries leaf[a .. a + b), in rule order.
 * Cut: the packet goes to node index[a + ((field >> shift) & (2^bits - 1))]:
 * one load in place of the binary levels that would split the field's
 * bits. Only a root may be a cut: no node leads to one. */
struct ptab_node {
	uint8_t kind;			/* PTAB_INNER, PTAB_LEAF, PTAB_CUT */
	uint8_t dim;
	uint8_t bits, shift;		/* cut: 1..PTAB_CUT_BITS_MAX, < 128 */
	uint32_t a, b;
	uint32_t reserved2;
	uint64_t thr[2];		/* lo word, hi word */
};

/* The CRC-32C (Castagnoli) of the file, as header.crc32c holds it:
 * portc_crc32c(0, file, size) with crc32c taken as 0. libportc's. */
#ifdef __cplusplus
extern "C" {
#endif
uint32_t portc_crc32c(uint32_t crc, const void *buf, size_t len);
#ifdef __cplusplus
}
#endif

#ifndef __cplusplus
_Static_assert(sizeof(struct ptab_header) == 200, "the header is 200 bytes");
_Static_assert(sizeof(struct ptab_rule) == 16, "a rule is 16 bytes");
_Static_assert(sizeof(struct ptab_entry) == 200, "an entry is 200 bytes");
_Static_assert(sizeof(struct ptab_node) == 32, "a node is 32 bytes");
#endif

#endif
