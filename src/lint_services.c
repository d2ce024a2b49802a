/* lint_services.c - what lint finds from the services a rule names
 * (lint_rules.h): DSCP on a rule that does not allow, any-to-any allows,
 * and two services that listen on one port of one host. */
#include "lint_rules.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "names.h"

static bool full_addrs(struct ivset s, int family)
{
	return ivset_is_range(s, 0, family == 4 ? V4_MAX : U128_MAX);
}

void lint_local_findings(struct ctx *c, size_t i)
{
	const struct ir_rule *r = lint_ir_of(c, i);
	struct lrule *lr = &c->r[i];
	if (r->dscp >= 0 && r->action != ACT_ALLOW) {
		lint_report(c, W_QOS_ON_DENY, i, -1, NULL, false, "this rule %s, so its DSCP mark %d is "
		      "never applied", lint_action_verb(r->action), r->dscp);
	}
	if (r->action == ACT_ALLOW) {
		bool any = true, have = false;
		for (size_t k = 0; k < lr->ir_n; k++) {
			const struct ir_rule *x = &c->pol->rules[lr->ir_first + k];
			if (x->unenforceable)
				continue;
			unsigned fams = ir_rule_families(x);
			for (int f = 4; f <= 6; f += 2) {
				if (!(fams & (f == 4 ? 1u : 2u)))
					continue;
				have = true;
				any &= full_addrs(f == 4 ? x->src4 : x->src6, f) &&
				       full_addrs(f == 4 ? x->dst4 : x->dst6, f);
			}
		}
		if (have && any) {
			struct packet p;
			lint_region_sample(lr->b, &p);
			lint_report(c, W_ANY_ANY, i, -1, &p, false, "this rule allows from any address to any "
			      "address");
		}
	}
}

/* Two rules naming different services that both let clients reach one
 * protocol and port on one host: two listeners cannot share it. */
/* The listeners of the policy: (family, protocol, host) of every allow
 * rule's IR rules with ports and one destination address, sorted, so a
 * rule finds the earlier rules on its hosts without listing its overlaps. */
struct listener {
	u128 host;
	int family, proto;
	unsigned rule;
};

static int cmp_listener(const void *a, const void *b)
{
	const struct listener *x = a, *y = b;
	if (x->family != y->family)
		return x->family - y->family;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Appends the listener keys of rule j: one per IR rule with ports and one
 * destination address, per family. */
static void listener_keys(const struct ctx *c, size_t j, struct listener **v, size_t *n,
			  size_t *cap)
{
	for (size_t b = 0; b < c->r[j].ir_n; b++) {
		const struct ir_rule *y = &c->pol->rules[c->r[j].ir_first + b];
		if (!ir_has_ports(y->proto) || y->unenforceable)
			continue;
		for (int f = 4; f <= 6; f += 2) {
			struct ivset d = f == 4 ? y->dst4 : y->dst6;
			if (ivset_count(d) != 1)
				continue;
			if (*n == *cap) {
				*cap = *cap ? 2 * *cap : 16;
				*v = xrealloc(*v, *cap * sizeof **v);
			}
			(*v)[(*n)++] = (struct listener){ d.v[0].lo, f, y->proto, (unsigned)j };
		}
	}
}

void lint_build_listeners(struct ctx *c)
{
	size_t cap = 0;
	for (size_t j = 0; j < c->n; j++)
		if (c->r[j].active && lint_ir_of(c, j)->action == ACT_ALLOW)
			listener_keys(c, j, &c->listen, &c->nlisten, &cap);
	if (c->nlisten > 1)
		qsort(c->listen, c->nlisten, sizeof *c->listen, cmp_listener);
}

/* The earlier active rules that listen where rule i does and overlap it. */
static void listener_cands(struct ctx *c, size_t i, struct cands *out)
{
	out->n = 0;
	c->stamp++;
	struct listener *keys = NULL;
	size_t nkeys = 0, cap = 0;
	listener_keys(c, i, &keys, &nkeys, &cap);
	for (size_t a = 0; a < nkeys; a++) {
		const struct listener *key = &keys[a];
		size_t lo = 0, hi = c->nlisten;
		while (lo < hi) {
			size_t m = lo + (hi - lo) / 2;
			if (cmp_listener(&c->listen[m], key) < 0)
				lo = m + 1;
			else
				hi = m;
		}
		/* key.rule is i: the entries before it are the earlier rules */
		for (size_t k = lo; k > 0; k--) {
			const struct listener *e = &c->listen[k - 1];
			if (e->family != key->family || e->proto != key->proto || e->host != key->host)
				break;
			if (c->mark[e->rule] != c->stamp && lint_region_overlaps(c, c->r[i].b, e->rule))
				lint_cand_add(c, out, e->rule);
		}
	}
	free(keys);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, lint_cmp_uint);
}

void lint_listeners(struct ctx *c, size_t i, struct cands *cand)
{
	const struct ir_rule *ri = lint_ir_of(c, i);
	if (ri->action != ACT_ALLOW)
		return;
	listener_cands(c, i, cand);
	for (size_t k = 0; k < cand->n; k++) {
		size_t j = cand->v[k];
		/* a listener is a service on a host: one destination address */
		for (size_t a = 0; a < c->r[i].ir_n; a++) {
			const struct ir_rule *x = &c->pol->rules[c->r[i].ir_first + a];
			if (!ir_has_ports(x->proto) || x->unenforceable)
				continue;
			for (size_t b = 0; b < c->r[j].ir_n; b++) {
				const struct ir_rule *y = &c->pol->rules[c->r[j].ir_first + b];
				if (y->proto != x->proto || y->unenforceable)
					continue;
				bool host4 = ivset_count(x->dst4) == 1 && ivset_equal(x->dst4, y->dst4);
				bool host6 = ivset_count(x->dst6) == 1 && ivset_equal(x->dst6, y->dst6);
				if (!host4 && !host6)
					continue;
				/* One listener is one name for the listening end: a
				 * named service, or the named port list of "tcp
				 * NAME". Two rules with different names on one host
				 * and port are two applications (Genesys's rule);
				 * rules that give the port as a number, whatever
				 * their notes, are clients of one listener. */
				if (!x->listener || !y->listener || strcmp(x->listener, y->listener) == 0)
					continue;
				struct arena *ar = c->u->arena;
				struct ivset common = ivset_intersect(ar, x->dport, y->dport);
				struct ivset src = ivset_intersect(ar, host4 ? x->src4 : x->src6,
								   host4 ? y->src4 : y->src6);
				struct ivset sp = ivset_intersect(ar, x->sport, y->sport);
				if (ivset_is_empty(common) || ivset_is_empty(src) || ivset_is_empty(sp))
					continue;
				/* a packet both rules match: a client of both */
				struct packet p = { .family = host4 ? 4 : 6, .proto = x->proto,
						    .dst = host4 ? x->dst4.v[0].lo : x->dst6.v[0].lo,
						    .dport = (uint16_t)common.v[0].lo,
						    .sport = ivset_contains(sp, 40000) ? 40000 : (uint16_t)sp.v[0].lo };
				p.src = src.v[0].lo;
				char h[64];
				addr_format(p.family, p.dst, h, sizeof h);
				lint_report(c, W_LISTENER_COLLISION, i, (long)j, &p, false, "two services listen on "
				      "%s port %u of host %s: '%s' of this rule and '%s' of the earlier rule",
				      proto_name(x->proto), (unsigned)common.v[0].lo, h, x->listener, y->listener);
				return;
			}
		}
	}
}
