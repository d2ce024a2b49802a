/* lint_rules.h - what lint's files share (internal to them; lint.h is the
 * interface): the policy's rules as regions, the context of a run, and
 * what each file gives the others.
 *
 *   lint.c           the driver, and the analysis of one rule (analyze)
 *   lint_overlap.c   which rules meet: index queries, the overlap graph,
 *                    the region algebra on rules, a packet's decision
 *   lint_prove.c     sampling: a packet that proves a rule live
 *   lint_report.c    witness packets, and the diagnostics
 *   lint_services.c  the findings of a rule on its own (any-any, DSCP on a
 *                    deny) and listener collisions between rules */
#ifndef PORTC_LINT_RULES_H
#define PORTC_LINT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval.h"
#include "lint.h"
#include "lint_index.h"
#include "region.h"

struct lrule {
	size_t ir_first, ir_n;		/* its IR rules */
	struct region b[2];		/* region per family (0: IPv4, 1: IPv6) */
	enum action action;
	int dscp;			/* -1 when not allow or not marked */
	unsigned bits;			/* size: log2 of its largest product's points */
	bool active;			/* enforceable and not empty */
};

struct listener;

struct ctx {
	struct unit *u;
	const struct ir_policy *pol;
	const struct lint_opts *o;
	struct lint_stats *st;
	struct lrule *r;
	size_t n;
	struct rindex *idx[2];
	size_t cap;
	struct arena *tmp;		/* what the analysis of one rule builds */
	/* scratch for candidate lists */
	unsigned *mark;			/* per rule: query stamp */
	size_t limit;			/* queries stop at this many rules (0: none) */
	/* the overlap graph (build_graph): rule i meets gv[gstart[i] ..
	 * gstart[i + 1]), the nearly[i] earlier ones first, each part in
	 * order; graph is false when there is none */
	bool graph;
	unsigned *gstart, *gv, *nearly;
	struct listener *listen;	/* see build_listeners */
	size_t nlisten;
	unsigned stamp;
};

/* A list of rules (by position), each once per query (ctx.stamp). */
struct cands {
	unsigned *v;
	size_t n, cap;
};

static inline size_t nprods(const struct lrule *r)
{
	return r->b[0].n + r->b[1].n;
}

/* The one product of a rule of one product. */
static inline const struct prod *only_prod(const struct lrule *r, int *family)
{
	*family = r->b[0].n ? 0 : 1;
	return &r->b[*family].v[0];
}

static inline bool same_decision(const struct lrule *a, const struct lrule *b)
{
	return a->action == b->action && a->dscp == b->dscp;
}

/* lint_overlap.c */
int lint_cmp_uint(const void *a, const void *b);
void lint_cand_add(struct ctx *c, struct cands *out, unsigned rule);
/* The rules in [lo, hi) that meet region r (rule owner's, or within it),
 * sorted by position. */
void lint_overlapping_region(struct ctx *c, size_t owner, const struct region r[2], struct cands *out, size_t lo,
			     size_t hi);
/* The rules in [lo, hi) (never i) that overlap rule i, counted. */
void lint_overlapping(struct ctx *c, size_t i, struct cands *out, size_t lo, size_t hi);
void lint_build_graph(struct ctx *c);
/* The first rule in [from, below) that matches p (below: none). */
unsigned lint_first_in(const struct ctx *c, long owner, const struct packet *p, unsigned from, unsigned below);
/* What the policy does with p (owner: a rule p is a packet of, or -1). */
struct verdict lint_decide(const struct ctx *c, long owner, const struct packet *p);
void lint_rule_region(const struct ctx *c, size_t i, struct region out[2]);
void lint_regions_free(struct region r[2]);
bool lint_region_empty(const struct region r[2]);
bool lint_region_minus(const struct ctx *c, struct region r[2], size_t j);
bool lint_region_overlaps(const struct ctx *c, const struct region r[2], size_t j);
bool lint_rule_within(const struct ctx *c, size_t i, size_t j);

/* lint_prove.c */
void lint_analyze_live(struct ctx *c, size_t i);
bool lint_own_points_prove(const struct ctx *c, size_t i, uint64_t *seed);
bool lint_next_points_prove(const struct ctx *c, size_t i, uint64_t *seed);
bool lint_later_points_prove(const struct ctx *c, size_t i, const struct cands *later, uint64_t *seed);

/* lint_report.c */
const char *lint_action_verb(enum action a);
const struct ir_rule *lint_ir_of(const struct ctx *c, size_t i);
bool lint_region_sample(const struct region r[2], struct packet *p);
void lint_witness_pair(struct ctx *c, size_t i, size_t j, const struct cands *earlier, struct packet *p);
/* A finding w on rule i (the other rule j, or -1; the witness p, or
 * NULL; same_without: p is decided the same way without rule i). */
void lint_report(struct ctx *c, enum warn_id w, size_t i, long j, const struct packet *p, bool same_without,
		 const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void lint_report_overlaps(struct ctx *c, size_t i, long gen, long corr, const struct cands *earlier);

/* lint_services.c */
void lint_local_findings(struct ctx *c, size_t i);
void lint_build_listeners(struct ctx *c);
void lint_listeners(struct ctx *c, size_t i, struct cands *cand);

#endif
