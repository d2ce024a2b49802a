/* ivset.h - sets of integers as sorted, disjoint, non-adjacent intervals.
 *
 * One representation serves addresses of both families (IPv4 in
 * [0, 2^32-1], IPv6 in [0, 2^128-1]), port lists and ICMP type lists, so the
 * set algebra (union, difference, intersection, containment) is written and
 * tested once. Results are allocated in the arena given. */
#ifndef PORTC_IVSET_H
#define PORTC_IVSET_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "util.h"

struct iv {
	u128 lo, hi;	/* inclusive */
};

struct ivset {
	struct iv *v;
	size_t n;
};

#define U128_MAX (~(u128)0)
#define V4_MAX ((u128)0xFFFFFFFFu)
#define PORT_MAX ((u128)65535)

static inline struct ivset ivset_empty(void) { return (struct ivset){ NULL, 0 }; }
struct ivset ivset_range(struct arena *a, u128 lo, u128 hi);
/* Sorts and merges any list of intervals (lo <= hi each). */
struct ivset ivset_normalize(struct arena *a, const struct iv *v, size_t n);
struct ivset ivset_union(struct arena *a, struct ivset x, struct ivset y);
struct ivset ivset_diff(struct arena *a, struct ivset x, struct ivset y);
struct ivset ivset_intersect(struct arena *a, struct ivset x, struct ivset y);
/* The same into out, which has room for x.n + y.n intervals; they return
 * how many they wrote. */
size_t ivset_diff_to(struct iv *out, struct ivset x, struct ivset y);
size_t ivset_intersect_to(struct iv *out, struct ivset x, struct ivset y);
/* A set of many parts (a group, a port list, an exclusion's right side) is
 * collected here and sorted and merged once: O(n log n), where a union per
 * part would be O(n^2) in time and in arena memory. The buffer is heap
 * memory until ivbuf_finish, which frees it. */
struct ivbuf {
	struct iv *v;
	size_t n, cap;
};
void ivbuf_add(struct ivbuf *b, u128 lo, u128 hi);
void ivbuf_add_set(struct ivbuf *b, struct ivset s);
struct ivset ivbuf_finish(struct arena *a, struct ivbuf *b);

bool ivset_contains(struct ivset s, u128 v);
bool ivset_subset(struct ivset x, struct ivset y);	/* x within y */
bool ivset_overlaps(struct ivset x, struct ivset y);
/* The first index from i on whose interval ends at or past v (s.n if none). */
size_t ivset_seek(struct ivset s, size_t i, u128 v);
bool ivset_equal(struct ivset x, struct ivset y);
/* A hash of the set's intervals: equal sets hash alike (for tables of sets). */
uint64_t ivset_hash(struct ivset s);
bool ivset_is_range(struct ivset s, u128 lo, u128 hi);	/* exactly [lo, hi] */
static inline bool ivset_is_empty(struct ivset s) { return s.n == 0; }
/* Number of members, saturating at U128_MAX. */
u128 ivset_count(struct ivset s);

/* The fewest CIDR prefixes that cover exactly the set, over an address
 * space of `bits` (32 or 128). Calls fn(addr, len, ctx) for each, in order. */
void ivset_prefixes(struct ivset s, int bits, void (*fn)(u128 addr, int len, void *ctx), void *ctx);
size_t ivset_prefix_count(struct ivset s, int bits);

#endif
