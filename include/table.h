/* table.h - compiling a policy into a matching table (docs/table-format.md).
 *
 * The table is up to four decision trees per address family over the
 * rules' boxes (pspace.h), grouped by which of their addresses are wide
 * (EffiCuts). A tree's root may be a cut on the top bits of its narrow
 * address (HiCuts' equal cut); below, each inner node halves its region
 * at one rule boundary of one field, chosen so that the larger half holds
 * as few rules as it can (HyperSplit); a leaf lists at most a few boxes,
 * in rule order, and the first that holds the packet decides. Within a
 * node, a box that covers the whole node hides every box after it, which
 * is what keeps wildcard-heavy (firewall-like) sets small. */
#ifndef PORTC_TABLE_H
#define PORTC_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "ir.h"
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

#endif
