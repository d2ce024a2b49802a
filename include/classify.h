/* classify.h - which rule of a policy decides each packet of a product.
 *
 * Exact, over products of real packets only: a rule's product leaves the
 * fields its protocol lacks full (region.h), so a piece of a subtraction
 * could hold "gre with source port 1024" and no packet at all, and a
 * difference or a failed expectation made of such a piece would be a
 * false one. Each rule's product is therefore cut into its part of each
 * protocol class, with the fields the class lacks pinned to 0, as the
 * evaluator sees them: TCP and UDP (no ICMP type), ICMP and ICMPv6 (no
 * ports), the rest (neither). portc diff (diff.h) and expectations
 * (expect.h) are built on it. */
#ifndef PORTC_CLASSIFY_H
#define PORTC_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "eval.h"
#include "ir.h"
#include "lint_index.h"
#include "region.h"

/* The most products one piece of the work may grow to before the caller
 * gives up rather than answer wrong or run for hours. */
#define CLS_MAX_PIECES 100000

/* What a policy does with a packet. */
struct decision {
	enum action action;
	int dscp;		/* -1 unless an allow marks */
	bool log;
};

struct decision rule_decision(const struct ir_rule *r);
struct decision decision_of(const struct ir_policy *pol, const struct ir_rule *r);	/* r NULL: the default */
bool decision_equal(struct decision a, struct decision b);

struct prods {
	struct prod *v;
	size_t n, cap;
};

void prods_push(struct prods *ps, const struct prod *p);
/* p with every set of several intervals copied into a, so that it
 * outlives what it was cut from. */
struct prod prod_keep(struct arena *a, const struct prod *p);
/* Every packet of protocol class c (0 ported, 1 typed, 2 other) of a
 * family whose addresses span [0, amax]; addr is storage it points to. */
void class_prod(int c, u128 amax, struct iv *addr, struct prod *out);
/* The real products of IR rule r in family f (0: IPv4, 1: IPv6), into ps,
 * their sets in a. */
void real_prods(struct arena *a, const struct ir_rule *r, int f, struct prods *ps);

/* A policy's rules as real products, and an index of one family over the
 * rules that matter. */
struct cls_policy {
	const struct ir_policy *pol;
	struct arena *ar;
	struct prods prods[2];		/* per family, rule after rule */
	size_t *start[2];		/* rule i's are [start[i], start[i + 1]) */
	/* the index of one family over the rules that meet the part of the
	 * space being classified (the rest cannot decide a packet there), and
	 * their numbers in the policy */
	struct rindex *ix;
	unsigned *rule_of;
	unsigned nix;
};

void cls_init(struct cls_policy *s, const struct ir_policy *pol);
/* The index of family f over the rules that meet a product of cover (all
 * of them when cover is NULL). */
void cls_index(struct cls_policy *s, int f, struct rindex *cover, unsigned ncover);
void cls_free(struct cls_policy *s);

struct piece {
	struct prod p;
	long rule;			/* -1: the default */
};

struct pieces {
	struct piece *v;
	size_t n, cap;
};

void pieces_push(struct pieces *ps, const struct prod *p, long rule);
/* q (of the indexed family f) cut into the parts each rule or the default
 * decides, first match first, appended to out, their sets in ar. False
 * when the pieces outgrow CLS_MAX_PIECES. */
bool cls_classify(const struct cls_policy *s, int f, const struct prod *q, struct arena *ar,
		  struct pieces *out);

/* A packet of p that reads well (box_sample_readable), of a protocol the
 * family carries where p has one. */
void cls_witness(const struct prod *p, int family, struct packet *out);
/* "tcp 198.18.0.0/24 sport 1024-65535 -> 192.0.2.1 dport 443" */
void cls_put_prod(struct strbuf *sb, int family, const struct prod *p);

#endif
