/* expect.c - expectations against the rules (expect.h). */
#include "expect.h"

#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "names.h"
#include "util.h"

static bool holds(enum expect_kind k, const struct ir_rule *e, struct decision d)
{
	switch (k) {
	case EXPECT_ALLOW:
		return d.action == ACT_ALLOW && (e->dscp < 0 || d.dscp == e->dscp) && (!e->log || d.log);
	case EXPECT_DENY:
		return d.action == ACT_DENY && (!e->log || d.log);
	case EXPECT_REJECT:
		return d.action == ACT_REJECT && (!e->log || d.log);
	case EXPECT_NONE:
		return d.action != ACT_ALLOW;
	case EXPECT_RULE:
		break;
	}
	BUG("bad expectation %d", (int)k);
}

static void put_dscp(struct strbuf *sb, int v)
{
	const char *n = dscp_name(v);
	sb_printf(sb, " with dscp %d", v);
	if (n)
		sb_printf(sb, " (%s)", n);
}

static void put_wanted(struct strbuf *sb, enum expect_kind k, const struct ir_rule *e)
{
	if (k == EXPECT_NONE) {
		sb_puts(sb, "not allowed");
		return;
	}
	sb_puts(sb, k == EXPECT_ALLOW ? "allowed" : k == EXPECT_DENY ? "denied" : "rejected");
	if (e->dscp >= 0)
		put_dscp(sb, e->dscp);
	if (e->log)
		sb_puts(sb, ", logged");
}

static void put_got(struct strbuf *sb, struct decision d)
{
	sb_puts(sb, d.action == ACT_ALLOW ? "allowed" : d.action == ACT_DENY ? "denied" : "rejected");
	if (d.dscp >= 0)
		put_dscp(sb, d.dscp);
	else if (d.action == ACT_ALLOW)
		sb_puts(sb, " unmarked");
	sb_puts(sb, d.log ? ", logged" : "");
}

/* The first piece of e's region that pol decides against k, with the rule
 * (index, or -1: the default) deciding it; false when none. */
static bool first_failure(const struct cls_policy *cp, int f, const struct ir_rule *e,
			  enum expect_kind k, struct prod *bad, long *rule, struct arena *ar)
{
	struct prods mine = { 0 };
	real_prods(ar, e, f, &mine);
	bool found = false;
	for (size_t i = 0; i < mine.n && !found; i++) {
		struct pieces ps = { 0 };
		if (!cls_classify(cp, f, &mine.v[i], ar, &ps)) {
			free(ps.v);
			continue;	/* past the bound: not claimed either way */
		}
		for (size_t j = 0; j < ps.n && !found; j++) {
			const struct ir_rule *r = ps.v[j].rule >= 0 ? &cp->pol->rules[ps.v[j].rule] : NULL;
			if (!holds(k, e, decision_of(cp->pol, r))) {
				*bad = prod_keep(ar, &ps.v[j].p);
				*rule = ps.v[j].rule;
				found = true;
			}
		}
		free(ps.v);
	}
	free(mine.v);
	return found;
}

size_t expect_check_policy(const struct ir_policy *pol, struct diag *d)
{
	if (!pol->nexpects)
		return 0;
	struct cls_policy cp;
	cls_init(&cp, pol);
	struct arena *ar = arena_new();
	size_t failed = 0;
	/* one error per expectation as written (source numbers them) */
	unsigned char *reported = xcalloc(pol->nexpects + 1, 1);
	for (int f = 0; f < 2; f++) {
		cls_index(&cp, f, NULL, 0);
		for (size_t i = 0; i < pol->nexpects; i++) {
			const struct ir_rule *e = &pol->expects[i];
			if (reported[e->source] || e->unenforceable)
				continue;
			enum expect_kind k = (enum expect_kind)pol->expect_kind[i];
			struct prod bad;
			long rule;
			if (!first_failure(&cp, f, e, k, &bad, &rule, ar))
				continue;
			reported[e->source] = 1;
			failed++;
			struct packet p;
			cls_witness(&bad, f ? 6 : 4, &p);
			const struct ir_rule *r = rule >= 0 ? &pol->rules[rule] : NULL;
			struct decision got = decision_of(pol, r);
			struct strbuf pk = { 0 }, want = { 0 }, has = { 0 };
			sb_init(&pk);
			sb_init(&want);
			sb_init(&has);
			packet_format(&p, &pk);
			put_wanted(&want, k, e);
			put_got(&has, got);
			diag_error(d, e->origin, "expectation fails: %s is %s; expected: %s", pk.s, has.s, want.s);
			if (r)
				diag_note(d, r->origin, "rule #%u decides it", r->source + 1);
			else
				diag_note(d, pol->loc, "the default of policy '%s' decides it", pol->name);
			if (loc_valid(e->via))
				diag_note(d, e->via, "the expectation comes from ruleset '%s', used here",
					  e->ruleset ? e->ruleset : "?");
			sb_free(&pk);
			sb_free(&want);
			sb_free(&has);
		}
	}
	free(reported);
	arena_free(ar);
	cls_free(&cp);
	return failed;
}
