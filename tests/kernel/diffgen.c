/* diffgen.c - packets for the differential test, with the reference
 * verdict of each.
 *
 *   diffgen [-I DIR] [-D NAME=VALUE]... [-p POLICY] [--seed N] [--count N]
 *           [--hook HOOK] [--no-loopback] [--no-ndp] FILE
 *
 * Compiles FILE like portc does, then prints packets, one a line:
 *
 *   ID FAMILY PROTO SRC DST SPORT DPORT TYPE VERDICT DSCP HOPLIMIT
 *
 * VERDICT is what the ruleset decides on HOOK (default input), prologue
 * included, for a packet that arrives there from another machine:
 * HOPLIMIT is the hop limit it is sent with, one less by forward. Among
 * the ICMPv6 packets are neighbour discovery messages, with hop limit 255
 * (what the prologue accepts on input) or not.
 *
 * half of them on the edges of what the rules match (the first and last
 * address of every interval of every set, and the addresses just outside;
 * the same for ports and ICMP types), half at random among the policy's own
 * addresses. VERDICT and DSCP come from eval_packet, the reference
 * semantics `portc query` prints. Only packets a kernel handles as the
 * first packet of a flow are made (TCP SYN, UDP, ICMP echo and timestamp
 * requests, ICMPv6 echo requests, GRE, ESP) unless the policy is stateless,
 * and no address a kernel drops before the firewall sees it (loopback,
 * multicast, "this network", class E, IPv4-mapped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cli.h"
#include "../tool_args.h"
#include "eval.h"
#include "hooks.h"

static bool usable_v4(u128 a)
{
	unsigned top = (unsigned)(a >> 24);
	return top != 0 && top != 127 && top < 224;
}

static bool usable_v6(u128 a)
{
	unsigned top16 = (unsigned)(a >> 112);
	if (a <= 1)				/* :: and ::1 */
		return false;
	if ((top16 & 0xff00) == 0xff00)		/* multicast */
		return false;
	if ((top16 & 0xffc0) == 0xfe80)		/* link-local */
		return false;
	if ((a >> 32) == 0xffff)		/* ::ffff:0:0/96, mapped */
		return false;
	return true;
}

static bool usable(int family, u128 a)
{
	return family == 4 ? usable_v4(a) : usable_v6(a);
}

/* Addresses a test may use freely: benchmarking and documentation space. */
static const struct iv doc4[] = { { 0xC6120000u, 0xC613FFFFu }, { 0xC0000200u, 0xC00002FFu } };
static const struct iv doc6[] = { { (u128)0x20010db8 << 96, ((u128)0x20010db8 << 96) | (((u128)1 << 96) - 1) } };

/* A random address inside [lo, hi]: inside the documentation ranges where
 * the interval reaches them, else inside the interval when it is a policy's
 * own specific prefix, else one of its ends. */
static u128 inside(const struct iv *v, int family)
{
	const struct iv *doc = family == 4 ? doc4 : doc6;
	size_t ndoc = family == 4 ? ARRAY_LEN(doc4) : ARRAY_LEN(doc6);
	size_t start = rnd() % ndoc;
	for (size_t k = 0; k < ndoc; k++) {
		const struct iv *d = &doc[(start + k) % ndoc];
		u128 lo = v->lo > d->lo ? v->lo : d->lo, hi = v->hi < d->hi ? v->hi : d->hi;
		if (lo <= hi)
			return rnd_in(lo, hi);
	}
	u128 small = family == 4 ? (u128)1 << 24 : (u128)1 << 104;
	if (v->hi - v->lo < small)
		return rnd_in(v->lo, v->hi);
	return rnd() % 2 ? v->lo : v->hi;
}

/* Four times in five, an edge of v or the value just outside it. */
static bool edge(const struct iv *v, u128 max, u128 *out)
{
	switch (rnd() % 5) {
	case 0: *out = v->lo; return true;
	case 1: *out = v->hi; return true;
	case 2: *out = v->lo > 0 ? v->lo - 1 : v->lo; return true;
	case 3: *out = v->hi < max ? v->hi + 1 : v->hi; return true;
	default: return false;
	}
}

/* An address at or near an edge of one of the set's intervals, or inside. */
static u128 pick_addr(struct ivset s, int family, bool edges)
{
	u128 max = family == 4 ? V4_MAX : U128_MAX;
	if (s.n == 0) {
		struct iv all = { 0, max };
		return inside(&all, family);
	}
	const struct iv *v = &s.v[rnd() % s.n];
	u128 e;
	return edges && edge(v, max, &e) ? e : inside(v, family);
}

/* A port or type at or near an edge of one of the set's intervals. */
static u128 pick(struct ivset s, u128 max, bool edges)
{
	if (s.n == 0)
		return rnd_in(0, max);
	const struct iv *v = &s.v[rnd() % s.n];
	u128 e;
	return edges && edge(v, max, &e) ? e : rnd_in(v->lo, v->hi);
}

/* Flows already sent, to keep a packet from being the reply of an earlier
 * one: conntrack would pass it as part of that flow, and the reference
 * semantics is about the first packet of a flow. */
#define SEEN_SLOTS (1u << 20)
static u128 *seen;

static u128 flow_key(int proto, u128 src, u128 dst, unsigned sport, unsigned dport)
{
	u128 h = (u128)1469598103934665603ull;
	u128 parts[5] = { (u128)proto, src, dst, sport, dport };
	for (int i = 0; i < 5; i++)
		h = (h ^ parts[i]) * (((u128)0x100000001b3ull << 64) | 0x13b);
	return h | 1;
}

static bool seen_has(u128 k)
{
	for (size_t i = (size_t)(k % SEEN_SLOTS);; i = (i + 1) % SEEN_SLOTS) {
		if (seen[i] == 0)
			return false;
		if (seen[i] == k)
			return true;
	}
}

static void seen_add(u128 k)
{
	size_t i = (size_t)(k % SEEN_SLOTS);
	while (seen[i] != 0 && seen[i] != k)
		i = (i + 1) % SEEN_SLOTS;
	seen[i] = k;
}

static const int safe_protos[] = { 6, 17, 1, 58, 47, 50 };

static bool proto_ok(int proto, int family)
{
	if (proto == 1)
		return family == 4;
	if (proto == 58)
		return family == 6;
	for (size_t i = 0; i < ARRAY_LEN(safe_protos); i++)
		if (safe_protos[i] == proto)
			return true;
	return false;
}

static int type_for(int proto, bool stateless, const struct ir_rule *r, bool edges)
{
	if (stateless) {
		if (r && r->proto == proto)
			return (int)pick(r->types, 255, edges);
		return (int)(rnd() % 256);
	}
	/* types conntrack takes as the start of a flow, or does not track
	 * (neighbour discovery) */
	if (proto == 58)
		return rnd() % 4 ? 128 : 133 + (int)(rnd() % 4);
	return rnd() % 2 ? 8 : 13;
}

int main(int argc, char **argv)
{
	struct tool_args args;
	tool_args_init(&args, 3000);
	enum hook hook = HOOK_INPUT;
	struct prologue_opts po = { .loopback = true, .ndp = true };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--hook") == 0 && i + 1 < argc) {
			unsigned h;
			if (hooks_parse(argv[++i], &h) || (h & (h - 1)))
				args.file = NULL, i = argc;
			else
				hook = (enum hook)__builtin_ctz(h);
		} else if (strcmp(argv[i], "--no-loopback") == 0) {
			po.loopback = false;
		} else if (strcmp(argv[i], "--no-ndp") == 0) {
			po.ndp = false;
		} else if (tool_arg(&args, argc, argv, &i) != 0) {
			args.file = NULL, i = argc;
		}
	}
	unsigned long count = args.count;
	const char *file = args.file;
	if (!file) {
		fprintf(stderr, "usage: diffgen [-I DIR] [-D N=V]... [-p POLICY] [--seed N] [--count N] "
			"[--hook HOOK] [--no-loopback] [--no-ndp] FILE\n");
		return 2;
	}
	struct diag d;
	struct unit u;
	int rc;
	const struct ir_policy *pol = driver_compile(&u, &d, &args.o, args.file, &rc);
	if (!pol)
		return 1;

	seen = xcalloc(SEEN_SLOTS, sizeof *seen);
	/* the protocols worth sending */
	int protos[16];
	size_t nprotos = 0;
	for (size_t i = 0; i < ARRAY_LEN(safe_protos); i++)
		protos[nprotos++] = safe_protos[i];

	unsigned long made = 0, tries = 0;
	while (made < count && tries < count * 50) {
		tries++;
		bool edges = made % 2 == 0;
		const struct ir_rule *r = pol->nrules ? &pol->rules[rnd() % pol->nrules] : NULL;
		struct packet p = { 0 };
		p.family = r && ir_rule_families(r) ? (ir_rule_families(r) == 3 ? (rnd() % 2 ? 4 : 6)
							     : ir_rule_families(r) == 1 ? 4 : 6)
						   : (rnd() % 2 ? 4 : 6);
		/* one packet in 25 is neighbour discovery, whatever the policy's
		 * families and protocols: the prologue decides most of them */
		bool nd = made % 25 == 12;
		if (nd)
			p.family = 6;
		if (nd)
			p.proto = 58;
		else if (r && r->proto != IR_PROTO_ANY && rnd() % 4 != 0)
			p.proto = r->proto;
		else
			p.proto = protos[rnd() % nprotos];
		if (!proto_ok(p.proto, p.family))
			continue;
		/* addresses: from this rule, or from another, or random in
		 * the documentation ranges */
		const struct ir_rule *rs = rnd() % 3 ? r : (pol->nrules ? &pol->rules[rnd() % pol->nrules] : NULL);
		const struct ir_rule *rd = rnd() % 3 ? r : (pol->nrules ? &pol->rules[rnd() % pol->nrules] : NULL);
		struct ivset ssrc = rs ? (p.family == 4 ? rs->src4 : rs->src6) : (struct ivset){ 0 };
		struct ivset sdst = rd ? (p.family == 4 ? rd->dst4 : rd->dst6) : (struct ivset){ 0 };
		p.src = pick_addr(rnd() % 8 ? ssrc : (struct ivset){ 0 }, p.family, edges);
		p.dst = pick_addr(sdst, p.family, edges);
		if (!usable(p.family, p.src) || !usable(p.family, p.dst))
			continue;
		if (ir_has_ports(p.proto)) {
			p.sport = (uint16_t)(r && r->proto == p.proto ? pick(r->sport, 65535, edges) : rnd() % 65536);
			p.dport = (uint16_t)(r && r->proto == p.proto ? pick(r->dport, 65535, edges) : rnd() % 65536);
		}
		if (ir_has_types(p.proto))
			p.type = (uint8_t)type_for(p.proto, pol->stateless, r, edges);
		if (nd)
			p.type = (uint8_t)(133 + rnd() % 4);
		if (!pol->stateless) {
			/* generic conntrack (GRE, ESP) keys on addresses only */
			bool ports = ir_has_ports(p.proto);
			unsigned sp = ports ? p.sport : 0, dp = ports ? p.dport : 0;
			if (seen_has(flow_key(p.proto, p.dst, p.src, dp, sp)))
				continue;
			seen_add(flow_key(p.proto, p.src, p.dst, sp, dp));
		}
		unsigned sent_hl = 64;
		if (p.family == 6 && p.proto == 58 && p.type >= 133 && p.type <= 136 && rnd() % 4)
			sent_hl = 255;
		p.hoplimit = (uint8_t)(hook == HOOK_FORWARD ? sent_hl - 1 : sent_hl);
		struct verdict v = eval_on_hook(pol, &po, hook, &p);
		char a[64], b[64];
		addr_format(p.family, p.src, a, sizeof a);
		addr_format(p.family, p.dst, b, sizeof b);
		printf("%lu %d %d %s %s %u %u %u %s %d %u\n", made + 1, p.family, p.proto, a, b, p.sport,
		       p.dport, p.type, action_name(v.action), v.dscp, sent_hl);
		made++;
	}
	free(seen);
	unit_free(&u);
	diag_free(&d);
	return made == count ? 0 : 1;
}
