/* region.h - packet sets as unions of products of interval sets.
 *
 * A rule's IR rule matches, in one family, a product: one interval set per
 * dimension of the packet space (pspace.h). Expanding the product into
 * boxes multiplies the sizes of its sets: a rule from a group of 50
 * prefixes to another of 50, on 5 ports, is 12,500 boxes, and lint paired
 * boxes. A product stays one record whatever its groups hold, and the
 * algebra lint needs (meets, within, intersection, subtraction) is one
 * interval-set operation per dimension. A region is a union of products,
 * all of one family.
 *
 * Products do not own their sets of several intervals: a rule's point into
 * the IR, and the pieces of a subtraction share every dimension they do
 * not cut with the product they came from. What an intersection builds
 * goes into the arena it is given, what a subtraction builds into the
 * region's own. */
#ifndef PORTC_REGION_H
#define PORTC_REGION_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "ir.h"
#include "ivset.h"
#include "pspace.h"

/* Every dimension non-empty (an empty product is not stored). The hull
 * of each dimension is kept in the product (hull.d[d]), so that most
 * pairs are told apart by one box comparison; a set of one interval is its
 * hull, and is not stored elsewhere (d[d].v is then not read): the
 * products of ClassBench's rules, and most pieces of a subtraction, are
 * boxes, and allocating each of their intervals made lint on the FW sets
 * allocate gigabytes. multi has bit d set when dimension d has several
 * intervals. Read a dimension with prod_dim, write it with prod_set_dim. */
struct prod {
	struct ivset d[PS_DIMS];
	struct box hull;
	unsigned char multi;
};

static inline struct ivset prod_dim(const struct prod *p, int d)
{
	return p->d[d].n == 1 ? (struct ivset){ (struct iv *)&p->hull.d[d], 1 } : p->d[d];
}

static inline void prod_set_dim(struct prod *p, int d, struct ivset s)
{
	p->d[d] = s;
	if (s.n) {
		p->hull.d[d].lo = s.v[0].lo;
		p->hull.d[d].hi = s.v[s.n - 1].hi;
	}
	if (s.n > 1)
		p->multi |= (unsigned char)(1u << d);
	else
		p->multi &= (unsigned char)~(1u << d);
}

/* A growable list of products of one family. What its subtractions build
 * lives in its own arena, which is compacted when most of it is dead (the
 * pieces of earlier cuts): on ClassBench's FW sets one rule's thousands of
 * cuts built two gigabytes that were never read again. */
struct region {
	struct prod *v;
	size_t n, cap;
	struct arena *ar;	/* NULL until the first subtraction */
	size_t next_check;	/* bytes of ar at which to look for dead ones */
};

/* The product of IR rule r in family 4 or 6; false when r matches no
 * packet of that family. Sets the rule lacks (ports of a protocol without
 * ports) are full, as in rule_boxes. */
bool prod_of_rule(const struct ir_rule *r, int family, struct prod *out);

bool prod_overlaps(const struct prod *x, const struct prod *y);
bool prod_within(const struct prod *inner, const struct prod *outer);
bool prod_intersect(struct arena *a, const struct prod *x, const struct prod *y,
		    struct prod *out);
/* Whether the product is one box (one interval per dimension). */
bool prod_is_box(const struct prod *p);
/* The box of each dimension's lowest interval. */
void prod_first_box(const struct prod *p, struct box *out);
bool prod_has_point(const struct prod *p, const struct box *pt);
/* log2 of its number of points, rounded down per dimension and summed. */
unsigned prod_bits(const struct prod *p);
/* A point of the product: k = 0 its lowest, 1 its highest, else drawn from
 * r (two words per dimension). */
void prod_point(const struct prod *p, int k, const uint64_t *r, struct box *out);

void region_push(struct region *r, const struct prod *p);
void region_free(struct region *r);
/* dst becomes a copy of src, sharing its sets: src must outlive dst. */
void region_copy(struct region *dst, const struct region *src);
bool region_meets(const struct region *r, const struct prod *p);
/* r minus p, in place; false, with r unchanged, when the result would hold
 * more than max products. The pieces may point into p's sets and into
 * those r held: those must outlive r. */
bool region_subtract(struct region *r, const struct prod *p, size_t max);

#endif
