/* pspace.h - packet space: sets of packets as unions of boxes.
 *
 * A packet is a point (protocol, source, source port, destination,
 * destination port, ICMP type) of one address family. A box is a product of
 * one interval per dimension; what a rule matches is a union of boxes. The
 * nftables backend uses this to turn runs of rules into one lookup with
 * disjoint elements, lint to find rules that shadow or overlap others, the
 * table compiler to cut the space. Dimensions a protocol does not have are
 * full in the rule and 0 in the packet, so "matches" is plain containment. */
#ifndef PORTC_PSPACE_H
#define PORTC_PSPACE_H

#include <stdbool.h>

#include "eval.h"
#include "ir.h"
#include "ivset.h"

enum { PS_PROTO, PS_SRC, PS_SPORT, PS_DST, PS_DPORT, PS_TYPE, PS_DIMS };

struct box {
	struct iv d[PS_DIMS];
};

/* A growable list of boxes, all of one family. */
struct boxes {
	struct box *v;
	size_t n, cap;
};

void boxes_push(struct boxes *b, const struct box *x);
void boxes_free(struct boxes *b);

static inline bool box_empty(const struct box *b)
{
	for (int i = 0; i < PS_DIMS; i++)
		if (b->d[i].lo > b->d[i].hi)
			return true;
	return false;
}

bool box_intersect(const struct box *a, const struct box *b, struct box *out);
bool box_contains(const struct box *outer, const struct box *inner);
bool box_overlaps(const struct box *a, const struct box *b);
bool box_has_point(const struct box *b, const struct packet *p);	/* p of the box's family */
/* The box's size: the sum over its dimensions of the bits of its width. */
unsigned box_bits(const struct box *b);
/* The box holding just p. */
void box_of_packet(const struct packet *p, struct box *out);
/* a minus b, as at most 2*PS_DIMS disjoint boxes appended to out. */
void box_subtract(const struct box *a, const struct box *b, struct boxes *out);

/* The boxes of one family of an IR rule (the product of its interval sets;
 * nothing when the rule cannot match that family). Returns false, having
 * added nothing, when there would be more than max boxes. */
bool rule_boxes(const struct ir_rule *r, int family, struct boxes *out, size_t max);
/* Number of boxes rule_boxes would produce. */
size_t rule_box_count(const struct ir_rule *r, int family);

/* set minus box, in place; false (set unchanged) when the result would
 * exceed max boxes. */
bool boxes_subtract(struct boxes *set, const struct box *b, size_t max);

/* A packet inside a box: its lowest corner, with fields a protocol lacks
 * zeroed, as the evaluator sees them. */
void box_sample(const struct box *b, int family, struct packet *p);
/* A packet inside b that reads well (lint's and diff's witnesses): TCP,
 * then UDP, then ICMP where b allows, client port 40000, port 443 for a
 * full range, documentation addresses where b holds them. */
void box_sample_readable(const struct box *b, int family, struct packet *p);

#endif
