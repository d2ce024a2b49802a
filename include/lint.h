/* lint.h - portc lint: rule anomalies, QoS, services and address hygiene.
 *
 * Rule anomalies are found in the packet space over the rules of a policy
 * as written (rulesets expanded): each rule's region is the union of the
 * products of its IR rules (region.h). Findings go into the diagnostics
 * queue like any other, each with a note at the other rule and a witness
 * packet that shows it. See docs/lint.md for every diagnostic. */
#ifndef PORTC_LINT_H
#define PORTC_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "eval.h"
#include "unit.h"

struct lint_opts {
	bool brute_force;	/* the pairwise oracle: every pair, no index */
	size_t max_fragments;	/* cap on products while subtracting (0: default) */
};

struct lint_stats {
	size_t rules;		/* rules analyzed */
	size_t pairs;		/* overlapping pairs looked at */
	size_t undecided;	/* rules whose first-match region was too fragmented */
};

/* What a witness packet shows, for the JSON and SARIF outputs and for the
 * tests that check every witness with the reference evaluator. */
struct witness {
	struct packet pkt;
	struct loc matches;	/* a rule the packet matches (the finding's rule) */
	struct loc other;	/* the other rule of the finding, which matches it too */
	struct loc decided_by;	/* the rule that decides it (invalid: the default) */
	bool same_without;	/* redundant: without the rule, the same verdict */
};

/* Rule anomalies, QoS conflicts, listener collisions and any-any rules of
 * one policy. Findings are raised into u->diag with their witnesses
 * attached (diag_record.witness). */
void lint_policy(struct unit *u, const struct ir_policy *pol, const struct lint_opts *o,
		 struct lint_stats *st);
/* Address and port hygiene of every definition and rule in the unit. */
void lint_hygiene(struct unit *u);
/* Applies "# portc: allow(NAME, ...) reason" comments to the findings at
 * the rule or definition they sit on or above; reports bad ones. */
void lint_suppress(struct unit *u);

#endif
