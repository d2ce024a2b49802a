/* emit_nft.c - the nftables backend.
 *
 * One `table inet portc_POLICY`, replaced atomically: the file declares the
 * table, deletes it and defines it again, and `nft -f` applies the three as
 * one transaction. IPv4 and IPv6 share the table.
 *
 * Rules become lookups where first-match meaning allows it. Per family, the
 * rules are cut into groups: rules of one protocol may join a group across
 * rules of other protocols (they match disjoint packets), while a rule for
 * every protocol closes all groups. A group of two or more rules becomes one
 * concatenated lookup (`ip saddr . ip daddr . tcp sport . tcp dport`) whose
 * elements are the rules' first-match regions (each rule minus the rules
 * before it), so the elements are disjoint and the lookup answers as the
 * rules did in order: a named set when all share a verdict, a named
 * verdict map when not. A group too large to cut stays a list of rules. Networks used by
 * name become named interval sets. */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "backend.h"
#include "pspace.h"

/* Elements one lookup may hold; past them the next lookup starts. */
#define NFT_MAX_ELEMENTS 20000
/* Box pairs the subtraction of one rule's boxes from its lookup's may
 * compare; past them the rule starts the next lookup (the compile would
 * otherwise grow with the square of a group's boxes). */
#define NFT_MAX_WORK 200000
/* A rule of more boxes than this (a product of groups: 50 sources by 50
 * destinations is 2,500) stays a rule of its own, over named sets: as
 * lookup elements its product would cost far more to load than the one
 * rule does. Measured with nft 1.0.6 on a 6.18 kernel: an element of a
 * concatenated interval lookup costs about 25 us to load (nft and the
 * kernel's pipapo together), a rule over named sets about 35 us plus a
 * walk of the table's set list; on the 10k-rule estate of bench/ a bound
 * of 8 loads in 3.3 s, 16 in 3.6 s, 64 in 7.9 s (bench/README.md). */
#define NFT_MERGE_MAX_BOXES 8
/* A rule with at most this many port (or type) combinations is emitted as
 * that many rules, without a set (emit_rule). Rules are cheap to load and
 * sets are not: the kernel finds a set by name by walking the table's
 * sets, each time one is created and each time a rule names one. On the
 * 100k-rule estate of bench/, a bound of 4 left 30,418 port-list sets of
 * 46,465 and `nft -f` ran past 600 s; 64 leaves none, 16,048 sets, and
 * loads in 214 s; the 10k estate loads in 3.0-3.3 s either way. */
#define NFT_SPLIT_MAX 64
/* A table of more address sets than this writes its sets of up to
 * NFT_INLINE_MAX prefixes as a rule per prefix instead (side_of). The
 * kernel checks a new set's name, and finds the set its elements go to, by
 * walking the table's sets, so a table's sets cost it time growing with
 * their square: 16,000 empty sets take 13.6 s to create. A few more rules
 * cost it a constant each. On the 100k-rule estate of bench/ (13,388
 * address sets), with the chains of items (emit_rule) loading in 100 s: a
 * bound of 4 leaves 5,887 sets and loads in 34-40 s (1.0 M lines), 8
 * leaves 3,430 and loaded in 46 s when rewritten by a script (1.3 M
 * lines); the 10k estate (1,356 sets) is below the threshold and keeps
 * every set. */
#define NFT_MANY_SETS 2048
#define NFT_INLINE_MAX 4
/* A rule whose region, less what the lookup's earlier rules took, is more
 * than this many pieces per box of its own starts the next lookup, where
 * it is whole: a wide rule behind many narrow ones (ClassBench's FW sets
 * are made of them) otherwise loads as thousands of elements. Measured
 * with nft 1.0.6 on a 6.18 kernel: FW1 10k had 150,780 elements and
 * loaded in 7.7 s, now 10,718 and 0.5 s; FW1 100k 544,797 and 38.6 s, now
 * 102,173 and 5.4-5.9 s; IPC1 10k 15,250, now 9,776. A bound of 2 gave
 * the same load times within noise (more lookups, fewer elements), 8
 * 6.5 s at FW1 100k; the estates of bench/ compile the same at 4. */
#define NFT_MAX_PIECES 4
/* Large rules that may wait behind one lookup (emit_group); past them the
 * lookup closes, which keeps checking new rules against them linear. */
#define NFT_MAX_WAITING 32

struct group {
	int family;
	int proto;			/* IR_PROTO_ANY for rules of every protocol */
	size_t *rules;			/* IR rule indices, in order */
	size_t n, cap;
};

/* A list of ports or ICMP types used by a rule, declared once as a named
 * set (see put_range_match). */
struct named_list {
	const char *type;		/* inet_service, icmp_type or icmpv6_type */
	struct ivset s;
	unsigned id;
};

struct nft {
	const struct ir_policy *pol;
	const struct emit_opts *opts;
	struct emit_stats *st;
	const unsigned char *on;	/* per IR rule, the hooks it is placed on */
	unsigned hook_bit;		/* the hook whose rules are being emitted */
	struct strbuf body;		/* the hook chain's rules */
	struct strbuf aux;		/* per-rule chains */
	unsigned char *aux_done;	/* per IR rule, bit 0/1: its IPv4/IPv6 chain is written,
					 * bit 2/3: its IPv4/IPv6 chain of items */
	struct addr_sets sets;		/* named interval sets */
	unsigned *set_refs;		/* per set, the emitted rules that name it (or,
					 * written inline, use its prefixes) */
	bool *set_inline;		/* per set, written as a rule per prefix */
	struct strbuf lists;		/* named sets of ports and types */
	struct strbuf lookups;		/* named sets and maps of merged rules */
	struct named_list *named;	/* the lists, by content */
	size_t nnamed, *slot, nslot;	/* hash of named (index + 1; 0 free) */
	unsigned nlookups;
	bool need_reject;
	bool dscp_used[64];
};

static const char *fam_kw(int family)
{
	return family == 4 ? "ip" : "ip6";
}

static const char *l4_kw(int proto)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	}
	return NULL;
}

static bool rule_in_family(const struct ir_rule *r, int family)
{
	return !r->unenforceable && (ir_rule_families(r) & (family == 4 ? 1u : 2u));
}

static bool full_addr(struct ivset s, int family)
{
	return ivset_is_range(s, 0, family == 4 ? V4_MAX : U128_MAX);
}

/* ---- one rule at a time ------------------------------------------------ */

static void put_l4proto(struct strbuf *sb, const char *l4)
{
	sb_puts(sb, "meta l4proto ");
	sb_puts(sb, l4);
	sb_putc(sb, ' ');
}

static void put_addr_match(struct nft *n, struct strbuf *sb, int family, const char *dir,
			   struct ivset s)
{
	if (full_addr(s, family))
		return;
	sb_puts(sb, fam_kw(family));
	sb_putc(sb, ' ');
	sb_puts(sb, dir);
	sb_putc(sb, ' ');
	const struct addr_set *ns = addr_sets_find(&n->sets, family, s);
	if (ns) {
		sb_putc(sb, '@');
		sb_puts(sb, ns->ident);
		sb_putc(sb, ' ');
		n->set_refs[ns - n->sets.v]++;
		return;
	}
	size_t count = ivset_prefix_count(s, family_bits(family));
	if (count == 1) {
		ir_put_prefixes(sb, family, s, ", ");
		sb_putc(sb, ' ');
		return;
	}
	sb_puts(sb, "{ ");
	n->st->set_elements += ir_put_prefixes(sb, family, s, ", ");
	sb_puts(sb, " } ");
}

static uint64_t list_key(const char *type, struct ivset s)
{
	return ivset_hash(s) * 31u + (unsigned char)type[0] + strlen(type);
}

static size_t *list_slot(const struct nft *n, const char *type, struct ivset s)
{
	size_t mask = n->nslot - 1, i = (size_t)list_key(type, s) & mask;
	for (;; i = (i + 1) & mask) {
		size_t *p = &n->slot[i];
		if (!*p || (strcmp(n->named[*p - 1].type, type) == 0 && ivset_equal(n->named[*p - 1].s, s)))
			return p;
	}
}

/* The named set holding list s of the given type, declared on first use.
 * Named rather than anonymous because of what the kernel does on load:
 * binding an anonymous set walks the whole transaction, so a ruleset of
 * many rules with inline sets loads in time growing with the square of
 * the rules (on the 10k-rule estate: 5.6 s against 3.6 s). */
static const struct named_list *named_list(struct nft *n, const char *type, struct ivset s)
{
	if (2 * (n->nnamed + 1) > n->nslot) {
		free(n->slot);
		n->nslot = n->nslot ? 2 * n->nslot : 64;
		n->slot = xcalloc(n->nslot, sizeof *n->slot);
		for (size_t i = 0; i < n->nnamed; i++)
			*list_slot(n, n->named[i].type, n->named[i].s) = i + 1;
	}
	size_t *p = list_slot(n, type, s);
	if (*p)
		return &n->named[*p - 1];
	n->named = xrealloc(n->named, (n->nnamed + 1) * sizeof *n->named);
	struct named_list *l = &n->named[n->nnamed++];
	*l = (struct named_list){ .type = type, .s = s, .id = (unsigned)n->nnamed };
	*p = n->nnamed;
	bool ranges = false;
	for (size_t i = 0; i < s.n; i++)
		ranges |= s.v[i].lo != s.v[i].hi;
	sb_printf(&n->lists, "\tset %s_%u {\n\t\ttype %s\n%s\t\telements = { ",
		  strcmp(type, "inet_service") == 0 ? "ports" : type, l->id, type,
		  ranges ? "\t\tflags interval\n" : "");
	for (size_t i = 0; i < s.n; i++) {
		if (i)
			sb_puts(&n->lists, ", ");
		put_port_range(&n->lists, s.v[i], "-");
	}
	sb_puts(&n->lists, " }\n\t}\n\n");
	n->st->set_elements += (unsigned)s.n;
	return l;
}

/* what is "tcp dport", "icmp type" and the like. */
static void put_range_match(struct nft *n, struct strbuf *sb, const char *what, struct ivset s,
			    u128 max)
{
	if (ivset_is_range(s, 0, max))
		return;
	sb_puts(sb, what);
	sb_putc(sb, ' ');
	if (s.n == 1) {
		put_port_range(sb, s.v[0], "-");
		sb_putc(sb, ' ');
		return;
	}
	const char *type = strstr(what, "port") ? "inet_service"
			   : strncmp(what, "icmpv6", 6) == 0 ? "icmpv6_type" : "icmp_type";
	const struct named_list *l = named_list(n, type, s);
	sb_printf(sb, "@%s_%u ", strcmp(type, "inet_service") == 0 ? "ports" : type, l->id);
}

/* The protocol part of rule r's match: protocol, ports or types. */
static void put_l4_match(struct nft *n, struct strbuf *sb, const struct ir_rule *r)
{
	if (r->proto == IR_PROTO_ANY)
		return;
	const char *l4 = l4_kw(r->proto);
	bool constrained = false;
	if (ir_has_ports(r->proto)) {
		char what[16];
		constrained = !ivset_is_range(r->sport, 0, PORT_MAX) || !ivset_is_range(r->dport, 0, PORT_MAX);
		if (!constrained)
			put_l4proto(sb, l4);
		snprintf(what, sizeof what, "%s sport", l4);
		put_range_match(n, sb, what, r->sport, PORT_MAX);
		snprintf(what, sizeof what, "%s dport", l4);
		put_range_match(n, sb, what, r->dport, PORT_MAX);
	} else if (ir_has_types(r->proto)) {
		constrained = !ivset_is_range(r->types, 0, 255);
		if (!constrained)
			put_l4proto(sb, l4);
		char what[16];
		snprintf(what, sizeof what, "%s type", l4);
		put_range_match(n, sb, what, r->types, 255);
	} else if (l4) {
		put_l4proto(sb, l4);
	} else {
		sb_printf(sb, "meta l4proto %d ", r->proto);
	}
}

/* The match of one rule in one family, without the verdict. */
static void put_match(struct nft *n, struct strbuf *sb, const struct ir_rule *r, int family)
{
	struct ivset src = family == 4 ? r->src4 : r->src6;
	struct ivset dst = family == 4 ? r->dst4 : r->dst6;
	bool has_addr = !full_addr(src, family) || !full_addr(dst, family);
	if (!has_addr)
		sb_puts(sb, family == 4 ? "meta nfproto ipv4 " : "meta nfproto ipv6 ");
	put_addr_match(n, sb, family, "saddr", src);
	put_addr_match(n, sb, family, "daddr", dst);
	put_l4_match(n, sb, r);
}

static void put_comment(struct strbuf *sb, const struct ir_rule *r)
{
	put_rule_comment(sb, r, "comment", 120);
}

/* The log prefix names the policy and the rule by its number (from 1, as
 * portc doc and query give it): "portc p#12 allow: " */
static void put_log(struct nft *n, struct strbuf *sb, const struct ir_rule *r)
{
	/* nft takes a prefix of up to 127 characters: the name fits whole
	 * unless it is very long, then it is shortened with a hash */
	char rest[48];
	if (r)
		snprintf(rest, sizeof rest, "#%u %s: ", r->source + 1, action_name(r->action));
	else
		snprintf(rest, sizeof rest, " default %s: ", action_name(n->pol->dflt));
	struct strbuf name = { 0 };
	sb_init(&name);
	safe_ident(&name, "", n->pol->name, 127 - strlen("portc ") - strlen(rest));
	sb_printf(sb, "log prefix \"portc %s%s\" ", name.s, rest);
	sb_free(&name);
}

/* A rule that marks a flow needs a chain of its own: nft's `ct mark set`
 * ends the rule on a packet conntrack does not track (neighbour discovery
 * and MLD in a stateful policy, anything under `notrack`), verdict and
 * all, so the packet would fall through to later rules. The chain marks
 * tracked packets and only sets DSCP on the rest. */
static bool marks_flow(const struct nft *n, const struct ir_rule *r)
{
	return r->action == ACT_ALLOW && r->dscp >= 0 && !n->pol->stateless;
}

/* The statements and verdict of a rule that needs no chain. */
static void put_statements(struct nft *n, struct strbuf *sb, const struct ir_rule *r, int family)
{
	if (r->log)
		put_log(n, sb, r);
	if (r->action == ACT_ALLOW && r->dscp >= 0)
		sb_printf(sb, "%s dscp set %d ", fam_kw(family), r->dscp);
	switch (r->action) {
	case ACT_ALLOW: sb_puts(sb, "accept"); break;
	case ACT_DENY: sb_puts(sb, "drop"); break;
	case ACT_REJECT:
		sb_puts(sb, "jump reject_packet");
		n->need_reject = true;
		break;
	}
}

/* Writes rule r's chain for family (once, however many hooks' rules jump
 * to it). */
static void put_rule_chain(struct nft *n, const struct ir_rule *r, int family)
{
	unsigned char bit = family == 4 ? 1 : 2;
	if (n->aux_done[r->index] & bit)
		return;
	n->aux_done[r->index] |= bit;
	struct strbuf *a = &n->aux;
	sb_printf(a, "\tchain rule_%u_v%d {\n", r->index, family);
	if (marks_flow(n, r)) {
		n->dscp_used[r->dscp] = true;
		if (r->log) {
			sb_puts(a, "\t\t");
			put_log(n, a, r);
			put_comment(a, r);
			sb_putc(a, '\n');
		}
		sb_printf(a, "\t\tct state untracked %s dscp set %d accept ", fam_kw(family), r->dscp);
		put_comment(a, r);
		sb_printf(a, "\n\t\tct mark set ct mark and 0xffffff00 or 0x%08x %s dscp set %d accept ",
			  CT_MARK_FLAG | r->dscp, fam_kw(family), r->dscp);
	} else {
		sb_puts(a, "\t\t");
		put_statements(n, a, r, family);
		sb_putc(a, ' ');
	}
	put_comment(a, r);
	sb_puts(a, "\n\t}\n\n");
}

/* What a rule does when it matches: statements and verdict, or a jump to
 * its chain. */
static void put_action(struct nft *n, struct strbuf *sb, const struct ir_rule *r, int family)
{
	if (marks_flow(n, r)) {
		sb_printf(sb, "jump rule_%u_v%d", r->index, family);
		put_rule_chain(n, r, family);
		return;
	}
	put_statements(n, sb, r, family);
}

/* A verdict a lookup can hold directly, or NULL when the rule needs a
 * chain of its own (log, a mark, reject). */
static const char *plain_verdict(const struct ir_rule *r)
{
	if (r->log || (r->action == ACT_ALLOW && r->dscp >= 0))
		return NULL;
	switch (r->action) {
	case ACT_ALLOW: return "accept";
	case ACT_DENY: return "drop";
	case ACT_REJECT: return "jump reject_packet";
	}
	return NULL;
}

static void emit_one(struct nft *n, const struct ir_rule *r, int family)
{
	struct strbuf *sb = &n->body;
	sb_puts(sb, "\t\t");
	put_match(n, sb, r, family);
	put_action(n, sb, r, family);
	sb_putc(sb, ' ');
	put_comment(sb, r);
	sb_putc(sb, '\n');
	n->st->emitted_rules++;
	if (r->action == ACT_REJECT)
		n->need_reject = true;
}

/* How many rules a rule's ports or types are written as: one per
 * combination of its source and destination ports (or per type) when
 * there are 2 to NFT_SPLIT_MAX of them, else 1 (over lists). */
static size_t l4_items(const struct ir_rule *r)
{
	bool ports = r->proto != IR_PROTO_ANY && ir_has_ports(r->proto);
	bool types = r->proto != IR_PROTO_ANY && ir_has_types(r->proto);
	size_t k = ports ? r->sport.n * r->dport.n : types ? r->types.n : 1;
	return k >= 2 && k <= NFT_SPLIT_MAX ? k : 1;
}

/* Rule r with only its k-th port (or type) combination of l4_items. */
static struct ir_rule l4_item(const struct ir_rule *r, size_t k)
{
	struct ir_rule one = *r;
	if (l4_items(r) == 1)
		return one;
	if (ir_has_ports(r->proto)) {
		one.sport = (struct ivset){ &r->sport.v[k / r->dport.n], 1 };
		one.dport = (struct ivset){ &r->dport.v[k % r->dport.n], 1 };
	} else {
		one.types = (struct ivset){ &r->types.v[k], 1 };
	}
	return one;
}

/* One side of a rule as the items its rules are written for: the whole
 * side, or each prefix of a set written inline (NFT_MANY_SETS). */
struct side {
	struct ivset v[NFT_INLINE_MAX];
	struct iv iv[NFT_INLINE_MAX];
	size_t n;
	int bits;
};

static void side_prefix(u128 addr, int len, void *ctx)
{
	struct side *sd = ctx;
	int host = sd->bits - len;
	sd->iv[sd->n] = (struct iv){ addr, host >= 128 ? U128_MAX : addr + (((u128)1 << host) - 1) };
	sd->v[sd->n] = (struct ivset){ &sd->iv[sd->n], 1 };
	sd->n++;
}

static void side_of(struct nft *n, int family, struct ivset s, struct side *sd)
{
	const struct addr_set *ns = addr_sets_find(&n->sets, family, s);
	*sd = (struct side){ .bits = family_bits(family) };
	if (ns && n->set_inline[ns - n->sets.v]) {
		n->set_refs[ns - n->sets.v]++;
		ivset_prefixes(s, sd->bits, side_prefix, sd);
		return;
	}
	sd->v[0] = s;
	sd->n = 1;
}

static bool side_names_set(const struct nft *n, int family, const struct side *sd)
{
	return sd->n == 1 && addr_sets_find(&n->sets, family, sd->v[0]);
}

static void put_items_name(struct strbuf *sb, const struct ir_rule *r, int family)
{
	sb_puts(sb, "rule_");
	sb_put_uint(sb, r->index);
	sb_puts(sb, family == 4 ? "_v4_items" : "_v6_items");
}

/* Writes the chain that holds rule r's rules per port (or type), once
 * however many hooks' and addresses' rules jump to it. */
static void put_items_chain(struct nft *n, const struct ir_rule *r, int family)
{
	unsigned char bit = family == 4 ? 4 : 8;
	if (n->aux_done[r->index] & bit)
		return;
	n->aux_done[r->index] |= bit;
	/* put_action may write r's own chain into aux meanwhile */
	struct strbuf c = { 0 };
	sb_init(&c);
	sb_puts(&c, "\tchain ");
	put_items_name(&c, r, family);
	sb_puts(&c, " {\n");
	for (size_t k = 0; k < l4_items(r); k++) {
		struct ir_rule one = l4_item(r, k);
		sb_puts(&c, "\t\t");
		put_l4_match(n, &c, &one);
		put_action(n, &c, &one, family);
		sb_putc(&c, ' ');
		put_comment(&c, r);
		sb_putc(&c, '\n');
		n->st->emitted_rules++;
	}
	sb_puts(&c, "\t}\n\n");
	sb_puts(&n->aux, c.s);
	sb_free(&c);
}

/* A rule on its own. A short list of ports or types becomes a rule per
 * item rather than a set: the rules decide alike, one after the other,
 * and every set costs the kernel a walk of the table's sets, each time a
 * set is created and each time a rule names one. When the addresses name
 * a set, or are themselves written as a rule per prefix, the rules per
 * item go into a chain of their own that a rule per address item jumps
 * to: each set is then named once per rule, not once per port. On the
 * 100k-rule estate of bench/ this alone took the references to its sets
 * from 465,089 to 131,687 and `nft -f` from 156 s to 100 s. A packet that the chain does
 * not decide returns to the rule after the jump, as it would have gone
 * on past the rules per item. */
static void emit_rule(struct nft *n, const struct ir_rule *r, int family)
{
	struct side src, dst;
	side_of(n, family, family == 4 ? r->src4 : r->src6, &src);
	side_of(n, family, family == 4 ? r->dst4 : r->dst6, &dst);
	size_t items = l4_items(r);
	bool chain = items > 1 && (src.n * dst.n > 1 || side_names_set(n, family, &src) ||
				   side_names_set(n, family, &dst));
	for (size_t i = 0; i < src.n; i++) {
		for (size_t j = 0; j < dst.n; j++) {
			struct ir_rule a = *r;
			*(family == 4 ? &a.src4 : &a.src6) = src.v[i];
			*(family == 4 ? &a.dst4 : &a.dst6) = dst.v[j];
			if (!chain) {
				for (size_t k = 0; k < items; k++) {
					struct ir_rule one = l4_item(&a, k);
					emit_one(n, &one, family);
				}
				continue;
			}
			struct strbuf *sb = &n->body;
			sb_puts(sb, "\t\t");
			put_addr_match(n, sb, family, "saddr", src.v[i]);
			put_addr_match(n, sb, family, "daddr", dst.v[j]);
			sb_puts(sb, "jump ");
			put_items_name(sb, r, family);
			sb_putc(sb, ' ');
			put_comment(sb, r);
			sb_putc(sb, '\n');
			n->st->emitted_rules++;
			put_items_chain(n, r, family);
		}
	}
}

/* ---- groups as lookups ------------------------------------------------- */

static void group_push(struct group *g, size_t idx)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 8;
		g->rules = xrealloc(g->rules, g->cap * sizeof *g->rules);
	}
	g->rules[g->n++] = idx;
}

/* The key of a lookup over rules of one protocol in one family. */
static void put_key(struct strbuf *sb, int family, int proto)
{
	const char *f = fam_kw(family);
	sb_printf(sb, "%s saddr . %s daddr", f, f);
	if (proto != IR_PROTO_ANY && ir_has_ports(proto))
		sb_printf(sb, " . %s sport . %s dport", l4_kw(proto), l4_kw(proto));
	else if (proto != IR_PROTO_ANY && ir_has_types(proto))
		sb_printf(sb, " . %s type", l4_kw(proto));
}

static void put_element(struct strbuf *sb, int family, int proto, const struct box *b)
{
	put_addr_range(sb, family, b->d[PS_SRC]);
	sb_puts(sb, " . ");
	put_addr_range(sb, family, b->d[PS_DST]);
	if (proto != IR_PROTO_ANY && ir_has_ports(proto)) {
		sb_puts(sb, " . ");
		put_port_range(sb, b->d[PS_SPORT], "-");
		sb_puts(sb, " . ");
		put_port_range(sb, b->d[PS_DPORT], "-");
	} else if (proto != IR_PROTO_ANY && ir_has_types(proto)) {
		sb_puts(sb, " . ");
		put_port_range(sb, b->d[PS_TYPE], "-");
	}
}

/* The verdict of rule r inside a lookup: plain, or a jump to its chain. */
static void verdict_of(struct nft *n, const struct ir_rule *r, int family, struct strbuf *out)
{
	const char *v = plain_verdict(r);
	if (v) {
		sb_puts(out, v);
		if (r->action == ACT_REJECT)
			n->need_reject = true;
		return;
	}
	sb_printf(out, "jump rule_%u_v%d", r->index, family);
	put_rule_chain(n, r, family);
}

/* The type of put_key's key. */
static void put_key_type(struct strbuf *sb, int family, int proto)
{
	const char *a = family == 4 ? "ipv4_addr" : "ipv6_addr";
	sb_printf(sb, "%s . %s", a, a);
	if (proto != IR_PROTO_ANY && ir_has_ports(proto))
		sb_puts(sb, " . inet_service . inet_service");
	else if (proto != IR_PROTO_ANY && ir_has_types(proto))
		sb_puts(sb, family == 4 ? " . icmp_type" : " . icmpv6_type");
	if (proto != IR_PROTO_ANY && !l4_kw(proto))
		sb_puts(sb, " . inet_proto");
}

/* The rules g->rules[m[0..nm)] as one lookup, regions[i] the first-match
 * region of the i-th: a named set when all share a verdict, a named
 * verdict map when not (named for the reason named_list gives), and one
 * rule that looks the packet up in it. */
static void put_lookup(struct nft *n, const struct group *g, const size_t *m, size_t nm,
		       const struct boxes *regions, size_t total)
{
	const struct ir_policy *pol = n->pol;
	struct strbuf *verdicts = xcalloc(nm, sizeof *verdicts);
	bool same = true;
	for (size_t k = 0; k < nm; k++) {
		sb_init(&verdicts[k]);
		verdict_of(n, &pol->rules[g->rules[m[k]]], g->family, &verdicts[k]);
		if (strcmp(verdicts[k].s, verdicts[0].s) != 0)
			same = false;
	}
	unsigned id = ++n->nlookups;
	struct strbuf *d = &n->lookups;
	sb_printf(d, "\t%s lookup_%u {\n\t\ttype ", same ? "set" : "map", id);
	put_key_type(d, g->family, g->proto);
	sb_puts(d, same ? "\n" : " : verdict\n");
	sb_puts(d, "\t\tflags interval\n\t\telements = {");
	bool first = true;
	for (size_t k = 0; k < nm; k++) {
		const struct ir_rule *r = &pol->rules[g->rules[m[k]]];
		struct strbuf c = { 0 };
		sb_init(&c);
		put_comment(&c, r);
		for (size_t i = 0; i < regions[k].n; i++) {
			sb_puts(d, first ? "\n\t\t\t" : ",\n\t\t\t");
			first = false;
			put_element(d, g->family, g->proto, &regions[k].v[i]);
			if (g->proto != IR_PROTO_ANY && !l4_kw(g->proto))
				sb_printf(d, " . %d", g->proto);
			sb_putc(d, ' ');
			sb_puts(d, c.s);
			if (!same) {
				sb_puts(d, " : ");
				sb_puts(d, verdicts[k].s);
			}
		}
		sb_free(&c);
	}
	sb_puts(d, "\n\t\t}\n\t}\n\n");

	struct strbuf *sb = &n->body;
	sb_puts(sb, "\t\t");
	put_key(sb, g->family, g->proto);
	if (g->proto != IR_PROTO_ANY && !l4_kw(g->proto))
		sb_printf(sb, " . meta l4proto");
	if (same)
		sb_printf(sb, " @lookup_%u %s", id, verdicts[0].s);
	else
		sb_printf(sb, " vmap @lookup_%u", id);
	struct strbuf c = { 0 };
	sb_init(&c);
	sb_printf(&c, "%zu rules: ", nm);
	for (size_t k = 0; k < nm; k++) {
		const struct ir_rule *r = &pol->rules[g->rules[m[k]]];
		const char *file = r->origin.src ? r->origin.src->name : "?";
		const char *slash = strrchr(file, '/');
		sb_printf(&c, "%s%s:%u", k ? ", " : "", slash ? slash + 1 : file, r->origin.line);
	}
	sb_puts(sb, " comment \"");
	quote_text(sb, c.s, 120);
	sb_puts(sb, "\"\n");
	sb_free(&c);
	for (size_t k = 0; k < nm; k++)
		sb_free(&verdicts[k]);
	free(verdicts);
	n->st->emitted_rules++;
	n->st->set_elements += (unsigned)total;
	n->st->merged_rules += (unsigned)nm;
}

/* The rules g->rules[m[0..nm)]: one lookup when two or more decide
 * packets, else each on its own. */
static void flush_lookup(struct nft *n, const struct group *g, const size_t *m, size_t nm,
			 struct boxes *regions, size_t total)
{
	if (nm >= 2 && total > 0)
		put_lookup(n, g, m, nm, regions, total);
	else
		for (size_t k = 0; k < nm; k++)
			emit_rule(n, &n->pol->rules[g->rules[m[k]]], g->family);
	for (size_t k = 0; k < nm; k++)
		boxes_free(&regions[k]);
}

/* Whether box b of family meets rule r's product of sets. */
static bool box_meets_rule(const struct box *b, const struct ir_rule *r, int family)
{
	struct ivset src = family == 4 ? r->src4 : r->src6, dst = family == 4 ? r->dst4 : r->dst6;
	struct iv d[PS_DIMS];
	memcpy(d, b->d, sizeof d);
	if (!ivset_overlaps(src, (struct ivset){ &d[PS_SRC], 1 }) ||
	    !ivset_overlaps(dst, (struct ivset){ &d[PS_DST], 1 }))
		return false;
	if (r->proto != IR_PROTO_ANY && ir_has_ports(r->proto))
		return ivset_overlaps(r->sport, (struct ivset){ &d[PS_SPORT], 1 }) &&
		       ivset_overlaps(r->dport, (struct ivset){ &d[PS_DPORT], 1 });
	if (r->proto != IR_PROTO_ANY && ir_has_types(r->proto))
		return ivset_overlaps(r->types, (struct ivset){ &d[PS_TYPE], 1 });
	return true;
}

/* Emits a group as lookups. Each lookup takes the group's next rules for as
 * long as its elements stay under NFT_MAX_ELEMENTS and the subtraction
 * that makes them under NFT_MAX_WORK box pairs a rule; then the next
 * lookup starts. Consecutive lookups in order decide as the rules did in
 * order, so where one lookup ends changes no verdict, only how many there
 * are. A rule too large for a lookup (NFT_MERGE_MAX_BOXES) waits, to be
 * emitted on its own after the lookup: the rules after it that it shares
 * no packet with may join the lookup before it (swapping two disjoint
 * rules changes nothing); the first that shares one closes the lookup. So
 * large rules do not cut a run of small ones into many small lookups, and
 * the ruleset has fewer sets, which is what the kernel loads slowly. */
static void emit_group(struct nft *n, const struct group *g)
{
	const struct ir_policy *pol = n->pol;
	struct boxes seen = { 0 };
	struct boxes *regions = xcalloc(g->n, sizeof *regions);
	size_t *waiting = xcalloc(g->n, sizeof *waiting);
	size_t *members = xcalloc(g->n, sizeof *members);
	size_t total = 0, nwait = 0, nmem = 0;
	for (size_t k = 0; k < g->n; k++) {
		const struct ir_rule *r = &pol->rules[g->rules[k]];
		struct boxes mine = { 0 };
		if (!rule_boxes(r, g->family, &mine, NFT_MERGE_MAX_BOXES)) {
			waiting[nwait++] = k;
			continue;
		}
		bool meets = false;
		for (size_t w = 0; w < nwait && !meets; w++)
			for (size_t i = 0; i < mine.n && !meets; i++)
				meets = box_meets_rule(&mine.v[i], &pol->rules[g->rules[waiting[w]]], g->family);
		/* first match: what earlier rules of the lookup took is not ours */
		struct boxes eff = { 0 };
		bool ok = !meets && nwait <= NFT_MAX_WAITING && mine.n * seen.n <= NFT_MAX_WORK;
		for (size_t i = 0; ok && i < mine.n; i++)
			boxes_push(&eff, &mine.v[i]);
		/* a box of the lookup's that misses the hull of ours cannot
		 * take anything from it: one test instead of one per piece */
		struct box hull = mine.n ? mine.v[0] : (struct box){ 0 };
		for (size_t i = 1; i < mine.n; i++)
			for (int d = 0; d < PS_DIMS; d++) {
				if (mine.v[i].d[d].lo < hull.d[d].lo)
					hull.d[d].lo = mine.v[i].d[d].lo;
				if (mine.v[i].d[d].hi > hull.d[d].hi)
					hull.d[d].hi = mine.v[i].d[d].hi;
			}
		for (size_t i = 0; ok && i < seen.n && eff.n; i++)
			if (box_overlaps(&hull, &seen.v[i]))
				ok = boxes_subtract(&eff, &seen.v[i], NFT_MAX_ELEMENTS);
		if (!ok || total + eff.n > NFT_MAX_ELEMENTS || seen.n + mine.n > NFT_MAX_ELEMENTS ||
		    eff.n > NFT_MAX_PIECES * mine.n) {
			/* the lookup so far, the rules that waited, and this rule
			 * starts the next lookup, where it is all its own */
			flush_lookup(n, g, members, nmem, regions, total);
			for (size_t w = 0; w < nwait; w++)
				emit_rule(n, &pol->rules[g->rules[waiting[w]]], g->family);
			nwait = nmem = 0;
			boxes_free(&seen);
			seen = (struct boxes){ 0 };
			boxes_free(&eff);
			eff = (struct boxes){ 0 };
			for (size_t i = 0; i < mine.n; i++)
				boxes_push(&eff, &mine.v[i]);
			total = 0;
		}
		for (size_t i = 0; i < mine.n; i++)
			boxes_push(&seen, &mine.v[i]);
		boxes_free(&mine);
		total += eff.n;
		regions[nmem] = eff;
		members[nmem++] = k;
	}
	flush_lookup(n, g, members, nmem, regions, total);
	for (size_t w = 0; w < nwait; w++)
		emit_rule(n, &pol->rules[g->rules[waiting[w]]], g->family);
	free(regions);
	free(waiting);
	free(members);
	boxes_free(&seen);
}

/* Cuts the rules of one family into groups (see the top of the file). */
static size_t make_groups(struct nft *n, int family, struct group **out)
{
	const struct ir_policy *pol = n->pol;
	struct group *gs = NULL;
	size_t ng = 0, cap = 0;
	/* open[p] is the open group for protocol p, or -1 */
	long open[257];
	for (int i = 0; i < 257; i++)
		open[i] = -1;
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		if (!rule_in_family(r, family) || !(n->on[i] & n->hook_bit))
			continue;
		int key = r->proto == IR_PROTO_ANY ? 256 : r->proto;
		/* A rule of one protocol joins the open group of its protocol.
		 * A rule for every protocol may only join a group of such rules
		 * that the rule right before it ended (any other rule closes
		 * that group), and closes every other group. */
		bool extend = open[key] >= 0;
		if (r->proto == IR_PROTO_ANY) {
			for (int p = 0; p < 256; p++)
				open[p] = -1;
		} else {
			open[256] = -1;
		}
		if (!extend) {
			if (ng == cap) {
				cap = cap ? 2 * cap : 16;
				gs = xrealloc(gs, cap * sizeof *gs);
			}
			gs[ng] = (struct group){ .family = family, .proto = r->proto };
			open[key] = (long)ng;
			ng++;
		}
		group_push(&gs[open[key]], i);
	}
	*out = gs;
	return ng;
}

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->rules[0] != y->rules[0])
		return x->rules[0] < y->rules[0] ? -1 : 1;
	return x->family - y->family;
}

static void emit_rules(struct nft *n)
{
	struct group *g4, *g6;
	size_t n4 = make_groups(n, 4, &g4), n6 = make_groups(n, 6, &g6);
	struct group *all = xcalloc(n4 + n6 + 1, sizeof *all);
	if (n4)
		memcpy(all, g4, n4 * sizeof *all);
	if (n6)
		memcpy(all + n4, g6, n6 * sizeof *all);
	free(g4);
	free(g6);
	/* Groups of one family keep their order; the two families are
	 * interleaved by source position only for the reader's sake. */
	qsort(all, n4 + n6, sizeof *all, cmp_group);
	for (size_t i = 0; i < n4 + n6; i++) {
		struct group *g = &all[i];
		if (g->n < 2)
			emit_rule(n, &n->pol->rules[g->rules[0]], g->family);
		else
			emit_group(n, g);
		free(g->rules);
	}
	free(all);
}

/* ---- the file ---------------------------------------------------------- */

/* What every base chain decides before the rules (hooks.h): loopback,
 * the rest of marked flows, conntrack's verdicts, neighbour discovery. */
static void put_prologue(struct nft *n, struct strbuf *out, enum hook h)
{
	const struct ir_policy *pol = n->pol;
	const struct prologue_opts *po = &n->opts->prologue;
	if (po->loopback && h == HOOK_INPUT)
		sb_puts(out, "\t\tiif \"lo\" accept comment \"loopback\"\n");
	if (po->loopback && h == HOOK_OUTPUT)
		sb_puts(out, "\t\toif \"lo\" accept comment \"loopback\"\n");
	if (!pol->stateless) {
		for (int v = 0; v < 64; v++) {
			if (!n->dscp_used[v])
				continue;
			for (int f = 4; f <= 6; f += 2)
				sb_printf(out, "\t\tct direction original ct mark and 0x000000ff == 0x%08x "
					  "meta nfproto ipv%d %s dscp set %d comment \"marks the rest of "
					  "flows a rule marked\"\n", CT_MARK_FLAG | v, f, fam_kw(f), v);
		}
		sb_puts(out, "\t\tct state established,related accept comment \"replies and the rest "
			"of allowed flows\"\n\t\tct state invalid drop\n");
	}
	/* on forward the hop limit is already one less than 255 */
	if (po->ndp && h != HOOK_FORWARD)
		sb_puts(out, "\t\ticmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
			"nd-neighbor-advert } ip6 hoplimit 255 accept comment \"IPv6 neighbour discovery\"\n");
}

static void put_default(struct nft *n, struct strbuf *out)
{
	if (n->pol->dflt_log) {
		sb_puts(out, "\t\t");
		put_log(n, out, NULL);
		sb_puts(out, "comment \"default\"\n");
		n->st->emitted_rules++;
	}
	if (n->pol->dflt == ACT_REJECT) {
		sb_puts(out, "\t\tjump reject_packet comment \"default reject\"\n");
		n->st->emitted_rules++;
	}
}

/* The rules of each hook, and which hooks share a list: a hook whose
 * placed rules are another's jumps to one regular chain with both. */
struct hook_rules {
	struct strbuf body;
	int same_as;			/* an earlier hook with the same rules, or -1 */
	bool shared;			/* a later hook has the same rules */
};

static void collect_hook_rules(struct nft *n, struct hook_rules hr[HOOK__COUNT])
{
	const struct ir_policy *pol = n->pol;
	for (int h = 0; h < HOOK__COUNT; h++) {
		hr[h].same_as = -1;
		hr[h].shared = false;
		sb_init(&hr[h].body);
		if (!(n->opts->hooks & HOOK_BIT(h)))
			continue;
		for (int g = 0; g < h && hr[h].same_as < 0; g++) {
			if (!(n->opts->hooks & HOOK_BIT(g)))
				continue;
			bool same = true;
			for (size_t i = 0; i < pol->nrules && same; i++)
				same = !(n->on[i] & HOOK_BIT(h)) == !(n->on[i] & HOOK_BIT(g));
			if (same) {
				hr[h].same_as = g;
				hr[g].shared = true;
			}
		}
		if (hr[h].same_as >= 0)
			continue;
		n->hook_bit = HOOK_BIT(h);
		struct strbuf saved = n->body;
		n->body = hr[h].body;
		emit_rules(n);
		hr[h].body = n->body;
		n->body = saved;
		for (size_t i = 0; i < pol->nrules; i++)
			if (n->on[i] & HOOK_BIT(h))
				n->st->placed_rules++;
	}
}

static void shared_chain_name(const struct nft *n, const struct hook_rules hr[HOOK__COUNT], int h,
			      struct strbuf *sb)
{
	sb_puts(sb, "rules");
	for (int k = h; k < HOOK__COUNT; k++)
		if ((n->opts->hooks & HOOK_BIT(k)) && (k == h || hr[k].same_as == h))
			sb_printf(sb, "_%s", hook_name((enum hook)k));
}

/* The comment block at the top and the table's replace-as-a-whole
 * preamble ("table; delete table"), which makes one transaction. */
static void put_file_header(const struct nft *n, struct strbuf *out, const char *table)
{
	const struct ir_policy *pol = n->pol;
	sb_puts(out, "#!/usr/sbin/nft -f\n");
	sb_puts(out, "# Generated by portc from ");
	quote_text(out, n->opts->source ? n->opts->source : "?", 200);
	sb_puts(out, ", policy ");
	quote_text(out, pol->name, 100);
	sb_puts(out, ", ");
	put_hooks_header(out, n->opts->hooks);
	sb_puts(out, ".\n# Do not edit: change the policy and compile again. Load with: nft -f FILE\n");
	sb_puts(out, "# The table is replaced as a whole, in one transaction.\n");
	put_left_out(pol, out, "#\n# Left out (a packet filter cannot match them):\n", "#   ");
	sb_printf(out, "\ntable inet %s\ndelete table inet %s\n\ntable inet %s {\n", table, table, table);
}

/* The address sets that rules name, the most named first: the kernel
 * finds a set by walking the table's sets from the first, each time a
 * rule names one (a 100k-rule estate names 13,000 sets 460,000 times).
 * A set no rule names (its rules all joined lookups) is left out, and so
 * is one written as a rule per prefix (NFT_MANY_SETS). */
static void put_named_sets(struct nft *n, struct strbuf *out)
{
	struct weighted *order = xcalloc(n->sets.n + 1, sizeof *order);
	size_t k = 0;
	for (size_t i = 0; i < n->sets.n; i++) {
		if (n->set_refs[i] && n->set_inline[i])
			n->st->inline_sets++;
		else if (n->set_refs[i])
			order[k++] = (struct weighted){ n->set_refs[i], i };
	}
	sort_by_weight(order, k);	/* equals in the order they were collected */
	for (size_t i = 0; i < k; i++) {
		const struct addr_set *ns = &n->sets.v[order[i].index];
		sb_printf(out, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", ns->ident,
			  ns->family == 4 ? "ipv4_addr" : "ipv6_addr");
		if (ns->label) {
			sb_puts(out, "\t\tcomment \"");
			quote_text(out, ns->label, 100);
			sb_puts(out, "\"\n");
		}
		sb_puts(out, "\t\telements = { ");
		n->st->set_elements += ir_put_prefixes(out, ns->family, ns->set, ", ");
		sb_puts(out, " }\n\t}\n\n");
	}
	free(order);
}

/* A chain that two or more hooks share, then each hook's base chain:
 * its prologue, its rules (or the jump to the shared chain), its default. */
static void put_chains(struct nft *n, struct hook_rules hr[HOOK__COUNT], struct strbuf *out)
{
	const struct emit_opts *opts = n->opts;
	for (int h = 0; h < HOOK__COUNT; h++) {
		if (!hr[h].shared)
			continue;
		struct strbuf name = { 0 };
		sb_init(&name);
		shared_chain_name(n, hr, h, &name);
		sb_printf(out, "\tchain %s {\n%s\t}\n\n", name.s, hr[h].body.s);
		sb_free(&name);
	}
	const char *policy_kw = n->pol->dflt == ACT_ALLOW ? "accept" : "drop";
	bool first = true;
	for (int h = 0; h < HOOK__COUNT; h++) {
		if (!(opts->hooks & HOOK_BIT(h)))
			continue;
		const char *hook = hook_name((enum hook)h);
		sb_puts(out, first ? "" : "\n");
		first = false;
		sb_printf(out, "\tchain %s {\n\t\ttype filter hook %s priority ", hook, hook);
		if (opts->has_priority)
			sb_printf(out, "%d", opts->priority);
		else
			sb_puts(out, "filter");
		sb_printf(out, "; policy %s;\n", policy_kw);
		put_prologue(n, out, (enum hook)h);
		int owner = hr[h].same_as >= 0 ? hr[h].same_as : h;
		if (hr[owner].shared) {
			struct strbuf name = { 0 };
			sb_init(&name);
			shared_chain_name(n, hr, owner, &name);
			sb_printf(out, "\t\tjump %s\n", name.s);
			n->st->emitted_rules++;
			sb_free(&name);
		} else {
			sb_puts(out, hr[h].body.s);
		}
		put_default(n, out);
		sb_puts(out, "\t}\n");
	}
}

static bool nft_emit(const struct ir_policy *pol, const struct emit_opts *opts,
		     struct emit_file files[EMIT_MAX_FILES], size_t *nfiles,
		     struct emit_stats *st, struct diag *d)
{
	(void)d;
	struct nft n = { .pol = pol, .opts = opts, .st = st, .need_reject = pol->dflt == ACT_REJECT };
	sb_init(&n.body);
	sb_init(&n.aux);
	sb_init(&n.lists);
	sb_init(&n.lookups);
	n.on = rules_on_hooks(pol, opts->hooks);
	n.aux_done = xcalloc(pol->nrules + 1, 1);
	st->hooks = opts->hooks;
	/* every side of two or more prefixes is a named set, shared by all
	 * the rules that use it */
	addr_sets_collect(&n.sets, pol, 2, "net_", 60);
	n.set_refs = xcalloc(n.sets.n + 1, sizeof *n.set_refs);
	n.set_inline = xcalloc(n.sets.n + 1, sizeof *n.set_inline);
	for (size_t i = 0; n.sets.n > NFT_MANY_SETS && i < n.sets.n; i++)
		n.set_inline[i] = ivset_prefix_count(n.sets.v[i].set, family_bits(n.sets.v[i].family)) <=
				  NFT_INLINE_MAX;
	st->source_rules = pol->nsource;
	struct hook_rules hr[HOOK__COUNT];
	collect_hook_rules(&n, hr);
	st->ir_rules = (unsigned)pol->nrules;
	for (size_t i = 0; i < pol->nrules; i++)
		if (pol->rules[i].unenforceable)
			st->left_out++;

	struct strbuf *out = &files[0].text;
	files[0].suffix = "";
	files[0].comment = "#";
	*nfiles = 1;
	sb_init(out);
	struct strbuf table = { 0 };
	sb_init(&table);
	safe_ident(&table, "portc_", pol->name, 64);
	put_file_header(&n, out, table.s);
	put_named_sets(&n, out);
	if (n.need_reject)
		sb_puts(out, "\tchain reject_packet {\n"
			"\t\tmeta l4proto tcp reject with tcp reset\n"
			"\t\treject with icmpx port-unreachable\n\t}\n\n");
	/* lists before the rules that use them; lookups after the chains
	 * their verdicts jump to */
	sb_puts(out, n.lists.s);
	sb_puts(out, n.aux.s);
	sb_puts(out, n.lookups.s);
	put_chains(&n, hr, out);
	sb_puts(out, "}\n");
	for (int h = 0; h < HOOK__COUNT; h++)
		sb_free(&hr[h].body);
	sb_free(&table);
	sb_free(&n.body);
	sb_free(&n.aux);
	sb_free(&n.lists);
	sb_free(&n.lookups);
	free(n.named);
	free(n.slot);
	free(n.aux_done);
	free(n.set_refs);
	free(n.set_inline);
	free((void *)n.on);
	addr_sets_free(&n.sets);
	backend_stats_rules(st);
	return true;
}

const struct backend backend_nftables = {
	.name = "nftables",
	.summary = "one inet table for nft -f, replaced atomically",
	.emit = nft_emit,
};
