/* lint_report.c - lint's findings as diagnostics (lint_rules.h): the
 * message, the notes that point at the other rule and at the `use` that
 * brought a rule in, and a witness packet with the rule that decides it. */
#include "lint_rules.h"

#include <stdarg.h>
#include <stdlib.h>

#include "names.h"

const char *lint_action_verb(enum action a)
{
	return a == ACT_ALLOW ? "allows" : a == ACT_DENY ? "denies" : "rejects";
}

const struct ir_rule *lint_ir_of(const struct ctx *c, size_t i)
{
	return &c->pol->rules[c->r[i].ir_first];
}

/* A packet of the region: in the box of its first product's lowest
 * intervals, which reads as the first address and port of each set. */
bool lint_region_sample(const struct region r[2], struct packet *p)
{
	for (int f = 0; f < 2; f++)
		if (r[f].n) {
			struct box b;
			prod_first_box(&r[f].v[0], &b);
			box_sample_readable(&b, f ? 6 : 4, p);
			return true;
		}
	return false;
}

/* A packet that both rules match and that rule j (the earlier) decides,
 * when one can be found: (S_i and S_j) minus the rules before j. */
void lint_witness_pair(struct ctx *c, size_t i, size_t j, const struct cands *earlier,
			 struct packet *p)
{
	struct region w[2] = { { 0 }, { 0 } };
	for (int f = 0; f < 2; f++)
		for (size_t a = 0; a < c->r[i].b[f].n; a++)
			for (size_t b = 0; b < c->r[j].b[f].n; b++) {
				struct prod x;
				if (prod_intersect(c->tmp, &c->r[i].b[f].v[a], &c->r[j].b[f].v[b], &x))
					region_push(&w[f], &x);
			}
	struct packet fallback;
	bool have = lint_region_sample(w, &fallback);
	/* the first point of S_i and S_j, if j decides it, reads best and
	 * costs one lookup; else the part of it no rule before j takes */
	if (have) {
		const struct ir_rule *by = lint_decide(c, (long)i, &fallback).rule;
		const struct ir_rule *rj = &c->pol->rules[c->r[j].ir_first];
		if (by >= rj && by < rj + c->r[j].ir_n) {
			*p = fallback;
			lint_regions_free(w);
			return;
		}
	}
	bool ok = true;
	/* without a list of i's earlier rules (analyze_live made none), the
	 * rules before j that meet w: the same subtractions, as the rest of
	 * i's earlier rules miss w */
	struct cands own = { 0 };
	if (!earlier) {
		lint_overlapping_region(c, i, w, &own, 0, j);
		earlier = &own;
	}
	for (size_t k = 0; k < earlier->n && earlier->v[k] < j && ok && !lint_region_empty(w); k++)
		if (lint_region_overlaps(c, w, earlier->v[k]))
			ok = lint_region_minus(c, w, earlier->v[k]);
	free(own.v);
	if (!(ok && lint_region_sample(w, p)) && have)
		*p = fallback;
	lint_regions_free(w);
}

void lint_report(struct ctx *c, enum warn_id w, size_t i, long j, const struct packet *p,
		  bool same_without, const char *fmt, ...)
{
	struct diag *d = c->u->diag;
	const struct ir_rule *ri = lint_ir_of(c, i);
	va_list ap;
	va_start(ap, fmt);
	struct strbuf msg = { 0 };
	sb_init(&msg);
	sb_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (!diag_warn(d, w, ri->origin, "%s", msg.s)) {
		sb_free(&msg);
		return;
	}
	sb_free(&msg);
	if (ri->ruleset)
		diag_note(d, ri->via, "in ruleset '%s', used here", ri->ruleset);
	if (j >= 0) {
		const struct ir_rule *rj = lint_ir_of(c, (size_t)j);
		diag_note(d, rj->origin, "the %s rule is here", (size_t)j < i ? "earlier" : "later");
		if (rj->ruleset && (rj->via.line != ri->via.line || rj->via.src != ri->via.src))
			diag_note(d, rj->via, "in ruleset '%s', used here", rj->ruleset);
	}
	if (p) {
		struct witness wt = { .pkt = *p, .matches = ri->origin, .same_without = same_without };
		if (j >= 0 && !same_without)
			wt.other = lint_ir_of(c, (size_t)j)->origin;
		struct verdict v = lint_decide(c, (long)i, p);
		if (v.rule)
			wt.decided_by = v.rule->origin;
		struct strbuf t = { 0 };
		sb_init(&t);
		packet_format(p, &t);
		if (v.rule)
			sb_printf(&t, " (decided by %s:%u: %s)", v.rule->origin.src->name, v.rule->origin.line,
				  action_name(v.action));
		else
			sb_printf(&t, " (decided by the default: %s)", action_name(v.action));
		diag_witness(d, &wt, sizeof wt, t.s);
		sb_free(&t);
	}
}

/* The findings of a rule that is neither shadowed nor redundant: the
 * first earlier rule of another action within it, and the first that
 * overlaps it in part. */
void lint_report_overlaps(struct ctx *c, size_t i, long gen, long corr,
			    const struct cands *earlier)
{
	const struct lrule *ri = &c->r[i];
	struct packet p;
	if (gen >= 0) {
		lint_witness_pair(c, i, (size_t)gen, earlier, &p);
		lint_report(c, W_GENERALIZATION, i, gen, &p, false, "this rule generalizes an earlier "
		      "rule that %s part of what this rule %s", lint_action_verb(c->r[gen].action),
		      lint_action_verb(ri->action));
	}
	if (corr >= 0) {
		lint_witness_pair(c, i, (size_t)corr, earlier, &p);
		lint_report(c, W_CORRELATED, i, corr, &p, false, "this rule and an earlier rule that "
		      "%s overlap in part: their order decides the packets they share",
		      lint_action_verb(c->r[corr].action));
	}
}
