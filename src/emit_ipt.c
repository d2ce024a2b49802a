/* emit_ipt.c - the iptables backend: files for iptables-restore,
 * ip6tables-restore and ipset restore, and a loader that runs them.
 *
 *   sh OUT.sh        (ipset restore, then iptables-restore --noflush and
 *                     ip6tables-restore --noflush, then the jumps)
 *
 * The rules live beside everyone else's: every chain and set portc writes
 * is named after the policy (PORTC-STEM-..., pc-STEM-...), the rules files
 * are loaded with --noflush, which flushes only the chains they declare,
 * and the loader inserts the jump from each built-in chain (INPUT, OUTPUT,
 * FORWARD) once, checking for it first. Docker's, Kubernetes' or
 * fail2ban's chains are never touched; a reload replaces portc's. The
 * loader tests the IPv6 file before it loads the IPv4 one, so IPv4 and
 * IPv6 never end up on different builds, and removes the chains and sets
 * of an earlier build that this one no longer has.
 *
 * A network with many prefixes becomes an ipset named after its content,
 * so a new build's sets never change what the running rules match before
 * the new rules are in; port lists become multiport matches. A rule that
 * must do more than decide (log, mark) is written once per target. DSCP
 * is set in the mangle table from the connection mark the filter rule sets
 * (or the packet mark, for stateless policies), since only mangle may
 * rewrite it. */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "backend.h"
#include "ipt_loader.h"
#include "names.h"

/* A side with this many prefixes or more is an ipset. */
#define IPT_SET_THRESHOLD 4
/* multiport takes 15 ports, a range counting as two. */
#define MULTIPORT_MAX 15
#define CHAIN_MAX 28		/* iptables chain names */
#define SET_MAX 27		/* ipset names (31), minus "_new" for the swap */
/* The policy's part of every name: "PORTC-" STEM "-r123456" fits CHAIN_MAX,
 * "pc-" STEM "-" 8 hex digits fits SET_MAX. A '-' never occurs in a stem,
 * so one policy's names are never a prefix of another's. */
#define STEM_MAX 14

struct ipt {
	const struct ir_policy *pol;
	const struct emit_opts *opts;
	struct emit_stats *st;
	struct addr_sets sets;		/* sides big enough for an ipset */
	char stem[STEM_MAX + 1];
	const unsigned char *on;	/* per IR rule, the hooks it is placed on */
	char chain[40];			/* the chain of the hook being written */
	bool mangle[2];			/* IPv4, IPv6: some rule marks DSCP */
	bool rej[2];			/* IPv4, IPv6: the reject chain is declared */
};


struct fam_out {
	int family;
	struct strbuf rules;		/* -A lines of the policy chain */
	bool reject_used;
	bool dscp_used[64];
};

static const char *proto_arg(int proto, int family)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return family == 6 ? "ipv6-icmp" : "58";
	}
	return NULL;
}

/* "-s 10.0.0.0/8" / "-m set --match-set NAME src" / nothing */
static bool put_addr(struct ipt *t, struct strbuf *sb, int family, const char *flag, const char *dir,
		     struct ivset s)
{
	if (ivset_is_range(s, 0, family == 4 ? V4_MAX : U128_MAX))
		return false;
	const struct addr_set *set = addr_sets_find(&t->sets, family, s);
	if (set) {
		sb_printf(sb, " -m set --match-set %s %s", set->ident, dir);
		return true;
	}
	sb_printf(sb, " %s ", flag);
	ir_put_prefixes(sb, family, s, ",");
	return false;
}

/* Port lists cut into multiport-sized pieces. */
struct chunks {
	struct strbuf *v;
	size_t n;
};

static void port_chunks(struct ivset s, struct chunks *out)
{
	out->v = NULL;
	out->n = 0;
	if (ivset_is_range(s, 0, 65535))
		return;
	size_t used = 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned cost = s.v[i].lo == s.v[i].hi ? 1 : 2;
		if (out->n == 0 || used + cost > MULTIPORT_MAX) {
			out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
			sb_init(&out->v[out->n++]);
			used = 0;
		}
		struct strbuf *c = &out->v[out->n - 1];
		if (c->len)
			sb_putc(c, ',');
		put_port_range(c, s.v[i], ":");
		used += cost;
	}
}

static void chunks_free(struct chunks *c)
{
	for (size_t i = 0; i < c->n; i++)
		sb_free(&c->v[i]);
	free(c->v);
}

static void put_ports(struct strbuf *sb, const char *dir, const struct strbuf *chunk)
{
	if (!chunk)
		return;
	if (strchr(chunk->s, ','))
		sb_printf(sb, " -m multiport --%ss %s", dir, chunk->s);
	else
		sb_printf(sb, " --%s %s", dir, chunk->s);
}

static void put_comment(struct strbuf *sb, const struct ir_rule *r)
{
	put_rule_comment(sb, r, " -m comment --comment", 200);
}

static void put_log_prefix(struct ipt *t, struct strbuf *sb, const struct ir_rule *r)
{
	/* --log-prefix takes 29 characters: the policy's name whole where it
	 * fits beside the rest ("portc ", "#N", " allow: "), shortened with a
	 * hash only where it does not */
	char rest[40];
	if (r)
		snprintf(rest, sizeof rest, "#%u %.6s: ", r->source + 1, action_name(r->action));
	else
		snprintf(rest, sizeof rest, " default: ");
	size_t room = 29 - strlen("portc ") - strlen(rest);
	struct strbuf name = { 0 };
	sb_init(&name);
	safe_ident(&name, "", t->pol->name, room);
	sb_printf(sb, " -j LOG --log-prefix \"portc %s%s\"", name.s, rest);
	sb_free(&name);
}

/* The targets of a rule, in order: LOG, the mark, the verdict. The
 * first two decide nothing, so the rule's match is written once for each
 * (not a chain per rule: the loader could not find an earlier build's
 * chains without dumping every rule, and that dump costs iptables-nft a
 * second for ten thousand rules). */
static size_t put_targets(struct ipt *t, struct fam_out *fo, const struct ir_rule *r,
			  struct strbuf out[3])
{
	size_t n = 0;
	if (r->log) {
		sb_init(&out[n]);
		put_log_prefix(t, &out[n++], r);
	}
	if (r->action == ACT_ALLOW && r->dscp >= 0) {
		fo->dscp_used[r->dscp] = true;
		sb_init(&out[n]);
		sb_printf(&out[n++], " -j %s --set-xmark 0x%x/0xff", t->pol->stateless ? "MARK" : "CONNMARK",
			  CT_MARK_FLAG | r->dscp);
	}
	sb_init(&out[n]);
	if (r->action == ACT_REJECT) {
		fo->reject_used = true;
		sb_printf(&out[n++], " -j PORTC-%s-rej", t->stem);
	} else {
		sb_printf(&out[n++], " -j %s", r->action == ACT_ALLOW ? "ACCEPT" : "DROP");
	}
	return n;
}

static void emit_rule(struct ipt *t, struct fam_out *fo, const struct ir_rule *r)
{
	int f = fo->family;
	struct ivset src = f == 4 ? r->src4 : r->src6;
	struct ivset dst = f == 4 ? r->dst4 : r->dst6;
	struct strbuf base = { 0 };
	sb_init(&base);
	bool merged = false;
	if (r->proto != IR_PROTO_ANY) {
		const char *p = proto_arg(r->proto, f);
		if (p)
			sb_printf(&base, " -p %s", p);
		else
			sb_printf(&base, " -p %d", r->proto);
	}
	merged |= put_addr(t, &base, f, "-s", "src", src);
	merged |= put_addr(t, &base, f, "-d", "dst", dst);
	struct chunks sp = { 0 }, dp = { 0 };
	bool ports = r->proto != IR_PROTO_ANY && ir_has_ports(r->proto);
	bool types = r->proto != IR_PROTO_ANY && ir_has_types(r->proto) && !ivset_is_range(r->types, 0, 255);
	if (ports) {
		port_chunks(r->sport, &sp);
		port_chunks(r->dport, &dp);
		if (sp.n > 0 && (sp.n > 1 || strchr(sp.v[0].s, ',')))
			merged = true;
		if (dp.n > 0 && (dp.n > 1 || strchr(dp.v[0].s, ',')))
			merged = true;
	}
	struct strbuf target[3];
	size_t ntarget = put_targets(t, fo, r, target);
	/* ICMP types: one rule per type (a list of types is short) */
	unsigned type_list[256];
	size_t ntypes = 0;
	for (size_t i = 0; types && i < r->types.n; i++)
		for (u128 v = r->types.v[i].lo; v <= r->types.v[i].hi && ntypes < 256; v++)
			type_list[ntypes++] = (unsigned)v;
	size_t nsp = sp.n ? sp.n : 1, ndp = dp.n ? dp.n : 1, nt = types ? ntypes : 1;
	struct strbuf match = { 0 };
	sb_init(&match);
	for (size_t i = 0; i < nsp; i++) {
		for (size_t j = 0; j < ndp; j++) {
			for (size_t k = 0; k < nt; k++) {
				sb_reset(&match);
				/* a single port is the tcp/udp match's: given after
				 * -m multiport, multiport would read --dport as its own
				 * --dports and refuse the file */
				const struct strbuf *s1 = sp.n ? &sp.v[i] : NULL, *d1 = dp.n ? &dp.v[j] : NULL;
				bool slist = s1 && strchr(s1->s, ','), dlist = d1 && strchr(d1->s, ',');
				if (!slist)
					put_ports(&match, "sport", s1);
				if (!dlist)
					put_ports(&match, "dport", d1);
				if (slist)
					put_ports(&match, "sport", s1);
				if (dlist)
					put_ports(&match, "dport", d1);
				if (types)
					sb_printf(&match, " --%s-type %u", f == 6 ? "icmpv6" : "icmp", type_list[k]);
				put_comment(&match, r);
				for (size_t g = 0; g < ntarget; g++) {
					sb_printf(&fo->rules, "-A %s%s%s%s\n", t->chain, base.s, match.s,
						  target[g].s);
					t->st->emitted_rules++;
				}
			}
		}
	}
	sb_free(&match);
	if (merged)
		t->st->merged_rules++;
	for (size_t g = 0; g < ntarget; g++)
		sb_free(&target[g]);
	chunks_free(&sp);
	chunks_free(&dp);
	sb_free(&base);
}

/* The prologue of a hook's chain (hooks.h), in the order query models. */
static void put_prologue(struct ipt *t, int family, enum hook h, struct strbuf *out)
{
	const struct prologue_opts *po = &t->opts->prologue;
	if (po->loopback && h != HOOK_FORWARD)
		sb_printf(out, "-A %s %s lo -m comment --comment \"loopback\" -j ACCEPT\n", t->chain,
			  h == HOOK_INPUT ? "-i" : "-o");
	if (!t->pol->stateless)
		sb_printf(out, "-A %s -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment "
			  "\"replies and the rest of allowed flows\" -j ACCEPT\n"
			  "-A %s -m conntrack --ctstate INVALID -j DROP\n", t->chain, t->chain);
	/* on forward the hop limit is already one less than 255 */
	if (family == 6 && po->ndp && h != HOOK_FORWARD) {
		static const int nd[] = { 133, 134, 135, 136 };
		for (size_t i = 0; i < ARRAY_LEN(nd); i++)
			sb_printf(out, "-A %s -p ipv6-icmp --icmpv6-type %d -m hl --hl-eq 255 -m comment "
				  "--comment \"IPv6 neighbour discovery\" -j ACCEPT\n", t->chain, nd[i]);
	}
}

static void emit_family(struct ipt *t, int family, struct strbuf *out)
{
	const struct ir_policy *pol = t->pol;
	struct fam_out fo = { .family = family };
	fo.reject_used = pol->dflt == ACT_REJECT;
	struct strbuf hooks[HOOK__COUNT];
	for (int h = 0; h < HOOK__COUNT; h++) {
		sb_init(&hooks[h]);
		if (!(t->opts->hooks & HOOK_BIT(h)))
			continue;
		snprintf(t->chain, sizeof t->chain, "PORTC-%s-%s", t->stem, ipt_chain_short[h]);
		put_prologue(t, family, (enum hook)h, &hooks[h]);
		fo.rules = hooks[h];
		for (size_t i = 0; i < pol->nrules; i++) {
			const struct ir_rule *r = &pol->rules[i];
			if (r->unenforceable || !(ir_rule_families(r) & (family == 4 ? 1u : 2u)) ||
			    !(t->on[i] & HOOK_BIT(h)))
				continue;
			emit_rule(t, &fo, r);
			t->st->placed_rules++;
		}
		hooks[h] = fo.rules;
		if (pol->dflt_log) {
			sb_printf(&hooks[h], "-A %s", t->chain);
			put_log_prefix(t, &hooks[h], NULL);
			sb_putc(&hooks[h], '\n');
		}
		sb_printf(&hooks[h], "-A %s -m comment --comment \"default %s\" -j ", t->chain,
			  action_name(pol->dflt));
		if (pol->dflt == ACT_REJECT)
			sb_printf(&hooks[h], "PORTC-%s-rej\n", t->stem);
		else
			sb_puts(&hooks[h], pol->dflt == ACT_ALLOW ? "ACCEPT\n" : "DROP\n");
	}
	bool mangle = false;
	for (int v = 0; v < 64; v++)
		mangle |= fo.dscp_used[v];
	if (mangle) {
		/* the loader jumps here from INPUT (there is no later hook for
		 * input: from the second packet of a flow) and POSTROUTING */
		sb_printf(out, "*mangle\n:PORTC-%s-dscp - [0:0]\n", t->stem);
		for (int v = 0; v < 64; v++) {
			if (!fo.dscp_used[v])
				continue;
			if (pol->stateless)
				sb_printf(out, "-A PORTC-%s-dscp -m mark --mark 0x%x/0xff -j DSCP --set-dscp %d\n",
					  t->stem, CT_MARK_FLAG | v, v);
			else
				sb_printf(out, "-A PORTC-%s-dscp -m connmark --mark 0x%x/0xff -m conntrack "
					  "--ctdir ORIGINAL -j DSCP --set-dscp %d\n", t->stem, CT_MARK_FLAG | v, v);
			t->st->emitted_rules++;
		}
		sb_puts(out, "COMMIT\n");
	}
	/* --noflush: only these chains are flushed and filled */
	sb_puts(out, "*filter\n");
	for (int h = 0; h < HOOK__COUNT; h++)
		if (t->opts->hooks & HOOK_BIT(h))
			sb_printf(out, ":PORTC-%s-%s - [0:0]\n", t->stem, ipt_chain_short[h]);
	if (fo.reject_used)
		sb_printf(out, ":PORTC-%s-rej - [0:0]\n", t->stem);
	if (fo.reject_used) {
		sb_printf(out, "-A PORTC-%s-rej -p tcp -j REJECT --reject-with tcp-reset\n"
			  "-A PORTC-%s-rej -j REJECT --reject-with %s\n", t->stem, t->stem,
			  family == 4 ? "icmp-port-unreachable" : "icmp6-port-unreachable");
	}
	for (int h = 0; h < HOOK__COUNT; h++) {
		sb_puts(out, hooks[h].s);
		sb_free(&hooks[h]);
	}
	sb_puts(out, "COMMIT\n");
	t->mangle[family == 6] |= mangle;
	t->rej[family == 6] = fo.reject_used;
}

static void header(struct strbuf *sb, const struct ir_policy *pol, const struct emit_opts *opts,
		   const char *what, const char *load)
{
	sb_printf(sb, "# %s, generated by portc from ", what);
	quote_text(sb, opts->source ? opts->source : "?", 200);
	sb_puts(sb, ", policy ");
	quote_text(sb, pol->name, 100);
	sb_puts(sb, ", ");
	put_hooks_header(sb, opts->hooks);
	sb_printf(sb, ".\n# Do not edit: change the policy and compile again. Load with: %s\n", load);
	put_left_out(pol, sb, NULL, "# left out: ");
}

/* An ipset's name says whose it is and what it holds: a new build with
 * other addresses makes new sets, which the running rules do not use. */
static void name_sets(struct ipt *t)
{
	for (size_t i = 0; i < t->sets.n; i++) {
		struct addr_set *a = &t->sets.v[i];
		uint32_t h = 2166136261u ^ (uint32_t)a->family;
		for (size_t k = 0; k < a->set.n; k++)
			for (int b = 0; b < 32; b++) {
				u128 v = b < 16 ? a->set.v[k].lo : a->set.v[k].hi;
				h = (h ^ (uint8_t)(v >> (8 * (b % 16)))) * 16777619u;
			}
		for (;;) {	/* two contents, one hash: the second moves on */
			snprintf(a->ident, sizeof a->ident, "pc-%s-%08x", t->stem, h);
			bool clash = false;
			for (size_t k = 0; k < i; k++)
				clash |= strcmp(t->sets.v[k].ident, a->ident) == 0;
			if (!clash)
				break;
			h++;
		}
	}
}

/* The loader: sh OUT.sh (ipt_loader.h). */
static void put_loader(struct ipt *t, struct strbuf *s)
{
	struct strbuf head = { 0 };
	sb_init(&head);
	header(&head, t->pol, t->opts, "loader", "sh FILE, as root, with FILE.ipset, FILE.v4, FILE.v6 beside it");
	const char **sets = xcalloc(t->sets.n + 1, sizeof *sets);
	for (size_t i = 0; i < t->sets.n; i++)
		sets[i] = t->sets.v[i].ident;
	struct ipt_shape sh = { .stem = t->stem, .sets = sets, .nsets = t->sets.n };
	for (int k = 0; k < 2; k++) {
		for (int h = 0; h < HOOK__COUNT; h++)
			if (t->opts->hooks & HOOK_BIT(h))
				sh.chains[k] |= IPT_BIT(IPT_IN + h);
		if (t->rej[k])
			sh.chains[k] |= IPT_BIT(IPT_REJ);
		if (t->mangle[k]) {
			/* from INPUT (there is no later hook for input: from the
			 * second packet of a flow) and POSTROUTING */
			sh.chains[k] |= IPT_BIT(IPT_DSCP);
			if (t->opts->hooks & HOOK_BIT(HOOK_INPUT))
				sh.dscp_from[k] |= IPT_DSCP_FROM_INPUT;
			if (t->opts->hooks & (HOOK_BIT(HOOK_OUTPUT) | HOOK_BIT(HOOK_FORWARD)))
				sh.dscp_from[k] |= IPT_DSCP_FROM_POSTROUTING;
		}
	}
	ipt_loader_write(s, head.s, &sh);
	free(sets);
	sb_free(&head);
}

static bool ipt_emit(const struct ir_policy *pol, const struct emit_opts *opts,
		     struct emit_file files[EMIT_MAX_FILES], size_t *nfiles,
		     struct emit_stats *st, struct diag *d)
{
	(void)d;
	struct ipt t = { .pol = pol, .opts = opts, .st = st };
	struct strbuf stem = { 0 };
	sb_init(&stem);
	safe_ident(&stem, "", pol->name, STEM_MAX);
	snprintf(t.stem, sizeof t.stem, "%s", stem.s);
	sb_free(&stem);
	t.on = rules_on_hooks(pol, opts->hooks);
	st->hooks = opts->hooks;
	addr_sets_collect(&t.sets, pol, IPT_SET_THRESHOLD, "pc_", SET_MAX);
	name_sets(&t);
	st->source_rules = pol->nsource;
	st->ir_rules = (unsigned)pol->nrules;
	for (size_t i = 0; i < pol->nrules; i++)
		if (pol->rules[i].unenforceable)
			st->left_out++;

	files[0] = (struct emit_file){ .suffix = ".ipset", .comment = "#" };
	files[1] = (struct emit_file){ .suffix = ".v4", .comment = "#" };
	files[2] = (struct emit_file){ .suffix = ".v6", .comment = "#" };
	files[3] = (struct emit_file){ .suffix = ".sh", .comment = "#" };
	*nfiles = 4;
	for (int i = 0; i < 4; i++)
		sb_init(&files[i].text);
	header(&files[1].text, pol, opts, "iptables rules",
	       "sh FILE.sh (or iptables-restore --noflush FILE, after the .ipset file)");
	emit_family(&t, 4, &files[1].text);
	header(&files[2].text, pol, opts, "ip6tables rules",
	       "sh FILE.sh (or ip6tables-restore --noflush FILE, after the .ipset file)");
	emit_family(&t, 6, &files[2].text);

	struct strbuf *s = &files[0].text;
	header(s, pol, opts, "ipsets", "sh FILE.sh (or ipset restore -exist -file FILE, first)");
	/* Each set is filled under a new name and swapped in, so a running
	 * firewall never sees it half-filled. */
	for (size_t i = 0; i < t.sets.n; i++) {
		const struct addr_set *set = &t.sets.v[i];
		const char *fam = set->family == 4 ? "inet" : "inet6";
		if (set->label) {
			sb_puts(s, "# network ");
			quote_text(s, set->label, 100);
			sb_putc(s, '\n');
		}
		sb_printf(s, "create %s hash:net family %s\n", set->ident, fam);
		sb_printf(s, "create %s_new hash:net family %s\nflush %s_new\n", set->ident, fam, set->ident);
		struct strbuf list = { 0 };
		sb_init(&list);
		ir_put_prefixes(&list, set->family, set->set, ",");
		for (char *p = strtok(list.s, ","); p; p = strtok(NULL, ",")) {
			sb_printf(s, "add %s_new %s\n", set->ident, p);
			st->set_elements++;
		}
		sb_free(&list);
		sb_printf(s, "swap %s_new %s\ndestroy %s_new\n", set->ident, set->ident, set->ident);
	}
	put_loader(&t, &files[3].text);
	addr_sets_free(&t.sets);
	free((void *)t.on);
	backend_stats_rules(st);
	return true;
}

const struct backend backend_iptables = {
	.name = "iptables",
	.summary = "iptables-restore and ip6tables-restore files, with an ipset restore file",
	.emit = ipt_emit,
};
