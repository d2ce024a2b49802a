/* emit_ipt.c - the iptables backend: files for iptables-restore,
 * ip6tables-restore and ipset restore.
 *
 *   ipset restore -exist -file OUT.ipset
 *   iptables-restore OUT.v4
 *   ip6tables-restore OUT.v6
 *
 * Each rules file owns the filter table (and the mangle table when the
 * policy marks DSCP) and replaces it atomically, as iptables-restore does
 * without --noflush. The hook's built-in chain jumps to one chain per
 * policy. A network with many prefixes becomes an ipset, swapped in
 * atomically; port lists become multiport matches. A rule that must do
 * more than decide (log, mark) jumps to a chain of its own. DSCP is set in
 * the mangle table from the connection mark the filter rule sets (or the
 * packet mark, for stateless policies), since only mangle may rewrite it. */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "backend.h"
#include "names.h"

/* A side with this many prefixes or more is an ipset. */
#define IPT_SET_THRESHOLD 4
/* multiport takes 15 ports, a range counting as two. */
#define MULTIPORT_MAX 15
#define CHAIN_MAX 28		/* iptables chain names */
#define SET_MAX 27		/* ipset names (31), minus "_new" for the swap */

struct ipt {
	const struct ir_policy *pol;
	const struct emit_opts *opts;
	struct emit_stats *st;
	struct addr_sets sets;		/* sides big enough for an ipset */
	char chain[40];			/* the policy's chain */
};

struct fam_out {
	int family;
	struct strbuf rules;		/* -A lines of the policy chain */
	struct strbuf chains;		/* :NAME declarations of extra chains */
	struct strbuf extra;		/* -A lines of extra chains */
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

/* The target of a rule: a verdict, or a chain that logs and marks first. */
static void put_target(struct ipt *t, struct fam_out *fo, const struct ir_rule *r, struct strbuf *sb)
{
	bool marks = r->action == ACT_ALLOW && r->dscp >= 0;
	const char *verdict = r->action == ACT_ALLOW ? "ACCEPT" : r->action == ACT_DENY ? "DROP" : "PORTC_REJECT";
	if (r->action == ACT_REJECT)
		fo->reject_used = true;
	if (!r->log && !marks) {
		sb_printf(sb, " -j %s", verdict);
		return;
	}
	char chain[40];
	snprintf(chain, sizeof chain, "PORTC_R%u", r->index);
	if (!strstr(fo->chains.s, chain)) {
		sb_printf(&fo->chains, ":%s - [0:0]\n", chain);
		if (r->log) {
			sb_printf(&fo->extra, "-A %s", chain);
			put_log_prefix(t, &fo->extra, r);
			sb_putc(&fo->extra, '\n');
		}
		if (marks) {
			fo->dscp_used[r->dscp] = true;
			sb_printf(&fo->extra, "-A %s -j %s --set-xmark 0x%x/0xff\n", chain,
				  t->pol->stateless ? "MARK" : "CONNMARK", CT_MARK_FLAG | r->dscp);
		}
		sb_printf(&fo->extra, "-A %s -j %s\n", chain, verdict);
	}
	sb_printf(sb, " -j %s", chain);
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
	struct strbuf target = { 0 };
	sb_init(&target);
	put_target(t, fo, r, &target);
	/* ICMP types: one rule per type (a list of types is short) */
	unsigned type_list[256];
	size_t ntypes = 0;
	for (size_t i = 0; types && i < r->types.n; i++)
		for (u128 v = r->types.v[i].lo; v <= r->types.v[i].hi && ntypes < 256; v++)
			type_list[ntypes++] = (unsigned)v;
	size_t nsp = sp.n ? sp.n : 1, ndp = dp.n ? dp.n : 1, nt = types ? ntypes : 1;
	for (size_t i = 0; i < nsp; i++) {
		for (size_t j = 0; j < ndp; j++) {
			for (size_t k = 0; k < nt; k++) {
				sb_printf(&fo->rules, "-A %s%s", t->chain, base.s);
				put_ports(&fo->rules, "sport", sp.n ? &sp.v[i] : NULL);
				put_ports(&fo->rules, "dport", dp.n ? &dp.v[j] : NULL);
				if (types)
					sb_printf(&fo->rules, " --%s-type %u", f == 6 ? "icmpv6" : "icmp",
						  type_list[k]);
				put_comment(&fo->rules, r);
				sb_puts(&fo->rules, target.s);
				sb_putc(&fo->rules, '\n');
				t->st->emitted_rules++;
			}
		}
	}
	if (merged)
		t->st->merged_rules++;
	sb_free(&target);
	chunks_free(&sp);
	chunks_free(&dp);
	sb_free(&base);
}

static void emit_family(struct ipt *t, int family, struct strbuf *out)
{
	const struct ir_policy *pol = t->pol;
	struct fam_out fo = { .family = family };
	sb_init(&fo.rules);
	sb_init(&fo.chains);
	sb_init(&fo.extra);
	fo.reject_used = pol->dflt == ACT_REJECT;
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		if (r->unenforceable || !(ir_rule_families(r) & (family == 4 ? 1u : 2u)))
			continue;
		emit_rule(t, &fo, r);
	}
	const char *builtin = t->opts->hook == HOOK_INPUT ? "INPUT" :
			      t->opts->hook == HOOK_OUTPUT ? "OUTPUT" : "FORWARD";
	bool mangle = false;
	for (int v = 0; v < 64; v++)
		mangle |= fo.dscp_used[v];
	if (mangle) {
		/* after filter for output and forward; for input there is no
		 * later hook, so from the second packet of a flow */
		const char *mchain = t->opts->hook == HOOK_INPUT ? "INPUT" : "POSTROUTING";
		sb_puts(out, "*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n"
			":FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n");
		for (int v = 0; v < 64; v++) {
			if (!fo.dscp_used[v])
				continue;
			if (pol->stateless)
				sb_printf(out, "-A %s -m mark --mark 0x%x/0xff -j DSCP --set-dscp %d\n",
					  mchain, CT_MARK_FLAG | v, v);
			else
				sb_printf(out, "-A %s -m connmark --mark 0x%x/0xff -m conntrack --ctdir ORIGINAL "
					  "-j DSCP --set-dscp %d\n", mchain, CT_MARK_FLAG | v, v);
			t->st->emitted_rules++;
		}
		sb_puts(out, "COMMIT\n");
	}
	sb_puts(out, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
	sb_printf(out, ":%s - [0:0]\n", t->chain);
	if (fo.reject_used)
		sb_puts(out, ":PORTC_REJECT - [0:0]\n");
	sb_puts(out, fo.chains.s);
	sb_printf(out, "-A %s -j %s\n", builtin, t->chain);
	if (fo.reject_used) {
		sb_printf(out, "-A PORTC_REJECT -p tcp -j REJECT --reject-with tcp-reset\n"
			  "-A PORTC_REJECT -j REJECT --reject-with %s\n",
			  family == 4 ? "icmp-port-unreachable" : "icmp6-port-unreachable");
	}
	sb_puts(out, fo.extra.s);
	if (!pol->stateless)
		sb_printf(out, "-A %s -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment "
			  "\"replies and the rest of allowed flows\" -j ACCEPT\n"
			  "-A %s -m conntrack --ctstate INVALID -j DROP\n", t->chain, t->chain);
	if (family == 6 && t->opts->ndp) {
		static const int nd[] = { 133, 134, 135, 136 };
		for (size_t i = 0; i < ARRAY_LEN(nd); i++)
			sb_printf(out, "-A %s -p ipv6-icmp --icmpv6-type %d -m hl --hl-eq 255 -m comment "
				  "--comment \"IPv6 neighbour discovery\" -j ACCEPT\n", t->chain, nd[i]);
	}
	sb_puts(out, fo.rules.s);
	if (pol->dflt_log) {
		sb_printf(out, "-A %s", t->chain);
		put_log_prefix(t, out, NULL);
		sb_putc(out, '\n');
	}
	sb_printf(out, "-A %s -m comment --comment \"default %s\" -j %s\n", t->chain,
		  action_name(pol->dflt),
		  pol->dflt == ACT_ALLOW ? "ACCEPT" : pol->dflt == ACT_DENY ? "DROP" : "PORTC_REJECT");
	sb_puts(out, "COMMIT\n");
	sb_free(&fo.rules);
	sb_free(&fo.chains);
	sb_free(&fo.extra);
}

static void header(struct strbuf *sb, const struct ir_policy *pol, const struct emit_opts *opts,
		   const char *what, const char *load)
{
	sb_printf(sb, "# %s, generated by portc from ", what);
	quote_text(sb, opts->source ? opts->source : "?", 200);
	sb_puts(sb, ", policy ");
	quote_text(sb, pol->name, 100);
	sb_printf(sb, ", hook %s.\n# Do not edit: change the policy and compile again. Load with: %s\n",
		  hook_name(opts->hook), load);
	put_left_out(pol, sb, NULL, "# left out: ");
}

static bool ipt_emit(const struct ir_policy *pol, const struct emit_opts *opts,
		     struct emit_file files[EMIT_MAX_FILES], size_t *nfiles,
		     struct emit_stats *st, struct diag *d)
{
	(void)d;
	struct ipt t = { .pol = pol, .opts = opts, .st = st };
	struct strbuf chain = { 0 };
	sb_init(&chain);
	safe_ident(&chain, "PORTC_", pol->name, CHAIN_MAX);
	snprintf(t.chain, sizeof t.chain, "%s", chain.s);
	sb_free(&chain);
	/* ipset names have 31 characters; "_new" is added for the swap */
	addr_sets_collect(&t.sets, pol, IPT_SET_THRESHOLD, "pc_", SET_MAX);
	st->source_rules = pol->nsource;
	st->ir_rules = (unsigned)pol->nrules;
	for (size_t i = 0; i < pol->nrules; i++)
		if (pol->rules[i].unenforceable)
			st->left_out++;

	files[0] = (struct emit_file){ .suffix = ".ipset", .comment = "#" };
	files[1] = (struct emit_file){ .suffix = ".v4", .comment = "#" };
	files[2] = (struct emit_file){ .suffix = ".v6", .comment = "#" };
	*nfiles = 3;
	for (int i = 0; i < 3; i++)
		sb_init(&files[i].text);
	header(&files[1].text, pol, opts, "iptables rules", "iptables-restore FILE (after the .ipset file)");
	emit_family(&t, 4, &files[1].text);
	header(&files[2].text, pol, opts, "ip6tables rules", "ip6tables-restore FILE (after the .ipset file)");
	emit_family(&t, 6, &files[2].text);

	struct strbuf *s = &files[0].text;
	header(s, pol, opts, "ipsets", "ipset restore -exist -file FILE (first)");
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
	addr_sets_free(&t.sets);
	backend_stats_rules(st);
	return true;
}

const struct backend backend_iptables = {
	.name = "iptables",
	.summary = "iptables-restore and ip6tables-restore files, with an ipset restore file",
	.emit = ipt_emit,
};
