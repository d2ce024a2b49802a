/* hooks.c - hooks, rule placement and the prologue (hooks.h). */
#include "hooks.h"

#include <string.h>

#include "diag.h"

static const char *const names[HOOK__COUNT] = { "input", "output", "forward" };

const char *hook_name(enum hook h)
{
	if ((unsigned)h >= HOOK__COUNT)
		BUG("bad hook %d", (int)h);
	return names[h];
}

const char *hooks_parse(const char *text, unsigned *hooks)
{
	unsigned got = 0;
	const char *p = text;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int h = -1;
		for (int i = 0; i < HOOK__COUNT; i++)
			if (strlen(names[i]) == len && strncmp(p, names[i], len) == 0)
				h = i;
		if (h < 0)
			return "--hook takes input, output and forward, alone or as a comma list "
			       "(input,output)";
		if (got & HOOK_BIT(h))
			return "--hook names a hook twice";
		got |= HOOK_BIT(h);
		if (!end)
			break;
		p = end + 1;
	}
	*hooks = got;
	return NULL;
}

void hooks_text(unsigned hooks, struct strbuf *sb)
{
	unsigned n = 0, total = 0;
	for (int i = 0; i < HOOK__COUNT; i++)
		total += (hooks >> i) & 1u;
	for (int i = 0; i < HOOK__COUNT; i++) {
		if (!(hooks & HOOK_BIT(i)))
			continue;
		n++;
		sb_puts(sb, n == 1 ? "" : n == total ? " and " : ", ");
		sb_puts(sb, names[i]);
	}
}

/* Placement assumes what the kernel guarantees: a packet on input is to
 * one of the host's addresses, one on output is from one, and a routed
 * one is neither (a packet from outside with a source of the host's is a
 * martian and never reaches forward). So a rule whose destination misses
 * the host never matches on input, and so on; leaving it out of that
 * hook's chain changes no verdict there. */
unsigned ir_rule_hooks(const struct ir_policy *p, const struct ir_rule *r)
{
	if (!p->has_host)
		return HOOKS_ALL;
	unsigned fams = ir_rule_families(r), h = 0;
	for (int f = 4; f <= 6; f += 2) {
		if (!(fams & (f == 4 ? 1u : 2u)))
			continue;
		struct ivset src = f == 4 ? r->src4 : r->src6, dst = f == 4 ? r->dst4 : r->dst6;
		struct ivset host = f == 4 ? p->host4 : p->host6;
		if (ivset_overlaps(dst, host))
			h |= HOOK_BIT(HOOK_INPUT);
		if (ivset_overlaps(src, host))
			h |= HOOK_BIT(HOOK_OUTPUT);
		if (!ivset_subset(dst, host) && !ivset_subset(src, host))
			h |= HOOK_BIT(HOOK_FORWARD);
	}
	return h;
}

unsigned ir_policy_default_hooks(const struct ir_policy *p)
{
	if (!p->has_host)
		return HOOK_BIT(HOOK_INPUT);
	unsigned h = HOOK_BIT(HOOK_INPUT) | HOOK_BIT(HOOK_OUTPUT);
	for (size_t i = 0; i < p->nrules; i++)
		if (!p->rules[i].unenforceable)
			h |= ir_rule_hooks(p, &p->rules[i]) & HOOK_BIT(HOOK_FORWARD);
	return h;
}

/* The order is the rulesets' (emit_nft.c, emit_ipt.c): loopback, then
 * conntrack's verdicts, then neighbour discovery. */
const char *prologue_decides(const struct ir_policy *pol, const struct prologue_opts *po,
			     enum hook h, const struct packet *p, enum action *action)
{
	bool local = h == HOOK_INPUT || h == HOOK_OUTPUT;
	if (po->loopback && local && p->loopback) {
		*action = ACT_ALLOW;
		return "loopback";
	}
	if (!pol->stateless && (p->state == STATE_ESTABLISHED || p->state == STATE_RELATED)) {
		*action = ACT_ALLOW;
		return p->state == STATE_ESTABLISHED ? "established" : "related";
	}
	if (!pol->stateless && p->state == STATE_INVALID) {
		*action = ACT_DENY;
		return "invalid";
	}
	/* a router decrements the hop limit before forward, so a real
	 * neighbour discovery message (hop limit 255) is never seen there */
	if (po->ndp && local && p->family == 6 && p->proto == 58 && p->type >= 133 && p->type <= 136 &&
	    p->hoplimit == 255) {
		*action = ACT_ALLOW;
		return "neighbour-discovery";
	}
	return NULL;
}

struct verdict eval_on_hook(const struct ir_policy *pol, const struct prologue_opts *po, enum hook h,
			    const struct packet *p)
{
	enum action a;
	const char *pro = prologue_decides(pol, po, h, p, &a);
	if (pro)
		return (struct verdict){ .action = a, .dscp = -1, .prologue = pro };
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		if ((ir_rule_hooks(pol, r) & HOOK_BIT(h)) && ir_rule_matches(r, p))
			return (struct verdict){ r->action, r, r->action == ACT_ALLOW ? r->dscp : -1, r->log,
						 NULL };
	}
	return (struct verdict){ pol->dflt, NULL, -1, pol->dflt_log, NULL };
}

static bool host_has(const struct ir_policy *pol, int family, u128 a)
{
	return pol->has_host && ivset_contains(family == 4 ? pol->host4 : pol->host6, a);
}

bool packet_on_loopback(const struct ir_policy *pol, const struct packet *p)
{
	if (p->family == 4 && (p->dst >> 24) == 127)
		return true;
	if (p->family == 6 && p->dst == 1)
		return true;
	/* Linux sends a packet from an address to itself over lo, and drops
	 * one from outside as a martian; two different addresses of a host
	 * (or of the machines a 'host' names) may still be two machines */
	(void)pol;
	return p->src == p->dst;
}

enum hook packet_hook(const struct ir_policy *pol, const struct packet *p)
{
	if (!pol->has_host || host_has(pol, p->family, p->dst))
		return HOOK_INPUT;
	return host_has(pol, p->family, p->src) ? HOOK_OUTPUT : HOOK_FORWARD;
}

void warn_unplaced_rules(struct diag *d, const struct ir_policy *p, unsigned hooks)
{
	/* per source rule: one direction of a '<->' rule on another hook is
	 * the point of '<->', not a slip */
	for (size_t i = 0; i < p->nrules;) {
		size_t j = i;
		unsigned seen = 0;
		bool enforceable = false;
		while (j < p->nrules && p->rules[j].source == p->rules[i].source) {
			if (!p->rules[j].unenforceable) {
				enforceable = true;
				seen |= ir_rule_hooks(p, &p->rules[j]);
			}
			j++;
		}
		const struct ir_rule *r = &p->rules[i];
		i = j;
		if (!enforceable || (seen & hooks))
			continue;
		struct strbuf where = { 0 }, have = { 0 };
		sb_init(&where);
		sb_init(&have);
		hooks_text(seen, &where);
		hooks_text(hooks, &have);
		if (diag_warn(d, W_WRONG_HOOK, r->origin, "rule #%u can match only on the %s hook%s, "
			      "and this ruleset has %s only: it is left out", r->source + 1, where.s,
			      (seen & (seen - 1)) ? "s" : "", have.s)) {
			diag_note(d, p->loc, "policy '%s' names its host, which places each rule; add "
				  "the hook with --hook, or check the rule's direction", p->name);
			if (r->ruleset && loc_valid(r->via))
				diag_note(d, r->via, "in ruleset '%s', used here", r->ruleset);
		}
		sb_free(&where);
		sb_free(&have);
	}
}
