/* table.h - compiling a policy into a matching table (docs/table-format.md).
 *
 * The table is up to four decision trees per address family over the
 * rules' boxes (pspace.h), grouped by which of their addresses are wide
 * (EffiCuts). A tree's root may be a cut on the top bits of its narrow
 * address, or, in IPv6, on the bits below the prefix all its boxes share
 * (HiCuts' equal cut); below, each inner node halves its region
 * at one rule boundary of one field, chosen so that the larger half holds
 * as few rules as it can (HyperSplit); a leaf lists at most a few boxes,
 * in rule order, and the first that holds the packet decides. Within a
 * node, a box that covers the whole node hides every box after it, which
 * is what keeps wildcard-heavy (firewall-like) sets small. Rules that no
 * earlier box of another tree meets are flagged, so that a lookup that
 * finds one walks no further tree (table_settle.c). */
#ifndef PORTC_TABLE_H
#define PORTC_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "ir.h"
#include "portc/table_format.h"
#include "pspace.h"
#include "util.h"

struct table_stats {
	size_t rules, entries, nodes, leaf_slots;
	unsigned depth;			/* of the deepest leaf */
	size_t bytes;
};

/* Appends the table of pol to out. False, with a diagnostic, when the table
 * would pass the size bounds (a policy that no tree of bounded size
 * separates). */
bool table_build(const struct ir_policy *pol, struct strbuf *out, struct table_stats *st,
		 struct diag *d);

/* One box of an IR rule, as the builder holds it; entries are in rule
 * order. */
struct table_entry {
	struct box b;
	uint32_t rule;
};

/* Sets bit in flags[r] for each rule r that settles a packet of one
 * family (table_settle.c): no box of another of the family's trees
 * (root), of a rule before r, meets a box of r. The family's entries are
 * e[from .. to); the trees are nodes, with their leaf and index slots. */
void table_settles(const struct table_entry *e, size_t from, size_t to,
		   const struct ptab_node *nodes, size_t nnodes, const uint32_t *leaf,
		   const uint32_t *index, size_t nindex, const uint32_t root[PTAB_TREES],
		   unsigned addr_bits, uint8_t *flags, uint8_t bit);

#endif
