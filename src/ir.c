/* ir.c - IR helpers and the --dump=ir printer. */
#include "ir.h"

#include <string.h>

#include "addr.h"
#include "names.h"

unsigned ir_rule_families(const struct ir_rule *r)
{
	return (r->src4.n && r->dst4.n ? 1u : 0u) | (r->src6.n && r->dst6.n ? 2u : 0u);
}

const struct ir_policy *ir_find_policy(const struct ir_unit *u, const char *name)
{
	for (size_t i = 0; i < u->n; i++)
		if (strcmp(u->policies[i].name, name) == 0)
			return &u->policies[i];
	return NULL;
}

struct pfx_ctx {
	struct strbuf *sb;
	int family;
	const char *sep;
	unsigned count;
};

static void put_prefix(u128 addr, int len, void *vctx)
{
	struct pfx_ctx *c = vctx;
	char buf[64];
	prefix_format(c->family, addr, len, false, buf, sizeof buf);
	if (c->count)
		sb_puts(c->sb, c->sep);
	sb_puts(c->sb, buf);
	c->count++;
}

unsigned ir_put_prefixes(struct strbuf *sb, int family, struct ivset s, const char *sep)
{
	struct pfx_ctx c = { sb, family, sep, 0 };
	ivset_prefixes(s, family_bits(family), put_prefix, &c);
	return c.count;
}

void ir_format_addrs(struct ivset v4, struct ivset v6, struct strbuf *sb)
{
	bool all4 = ivset_is_range(v4, 0, V4_MAX), all6 = ivset_is_range(v6, 0, U128_MAX);
	if (all4 && all6) {
		sb_puts(sb, "any");
		return;
	}
	bool first = true;
	if (all4) {
		sb_puts(sb, "any4");
		first = false;
	} else if (ir_put_prefixes(sb, 4, v4, ", ")) {
		first = false;
	}
	if (all6) {
		sb_printf(sb, "%sany6", first ? "" : ", ");
		first = false;
	} else if (v6.n) {
		if (!first)
			sb_puts(sb, ", ");
		ir_put_prefixes(sb, 6, v6, ", ");
		first = false;
	}
	if (first)
		sb_puts(sb, "none");
}

void ir_format_ranges(struct ivset s, struct strbuf *sb)
{
	for (size_t i = 0; i < s.n; i++) {
		if (s.v[i].lo == s.v[i].hi)
			sb_printf(sb, "%s%u", i ? "," : "", (unsigned)s.v[i].lo);
		else
			sb_printf(sb, "%s%u-%u", i ? "," : "", (unsigned)s.v[i].lo, (unsigned)s.v[i].hi);
	}
	if (s.n == 0)
		sb_puts(sb, "none");
}

static void dump_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

static void dump_loc(FILE *fp, struct loc l)
{
	fprintf(fp, "%s:%u:%u", l.src ? l.src->name : "?", l.line, l.col);
}

/* " src name={prefixes} sport 1024-65535" */
static void dump_side(struct strbuf *sb, const char *which, const char *name, struct ivset v4,
		      struct ivset v6, int proto, struct ivset ports, const char *ports_kw)
{
	sb_printf(sb, " %s ", which);
	if (name)
		sb_printf(sb, "%s=", name);
	sb_putc(sb, '{');
	ir_format_addrs(v4, v6, sb);
	sb_putc(sb, '}');
	if (ir_has_ports(proto) && !ivset_is_range(ports, 0, 65535)) {
		sb_printf(sb, " %s ", ports_kw);
		ir_format_ranges(ports, sb);
	}
}

/* One rule (or, with expect, an expectation's region) on one line. */
static void dump_rule(FILE *fp, const struct ir_rule *r, bool locations, enum expect_kind expect)
{
	struct strbuf sb = { 0 };
	sb_init(&sb);
	/* a rule's number, as every output gives it: its position among the
	 * policy's rules (rulesets expanded), from 1; expectations have none */
	if (expect)
		sb_printf(&sb, "  expect %s ", expect_kind_name(expect));
	else
		sb_printf(&sb, "  %u: %s ", r->source + 1, action_name(r->action));
	if (r->proto == IR_PROTO_ANY)
		sb_puts(&sb, "all");
	else if (proto_name(r->proto))
		sb_puts(&sb, proto_name(r->proto));
	else
		sb_printf(&sb, "proto %d", r->proto);
	dump_side(&sb, "src", r->src_name, r->src4, r->src6, r->proto, r->sport, "sport");
	dump_side(&sb, "dst", r->dst_name, r->dst4, r->dst6, r->proto, r->dport, "dport");
	if (ir_has_types(r->proto) && !ivset_is_range(r->types, 0, 255)) {
		sb_puts(&sb, " type ");
		ir_format_ranges(r->types, &sb);
	}
	if (r->dscp >= 0)
		sb_printf(&sb, " dscp %d", r->dscp);
	if (r->log)
		sb_puts(&sb, " log");
	if (r->reverse)
		sb_puts(&sb, " reverse");
	fputs(sb.s, fp);
	sb_free(&sb);
	if (r->note) {
		fputs(" note ", fp);
		dump_str(fp, r->note);
	}
	if (locations) {
		fputs(" at ", fp);
		dump_loc(fp, r->origin);
	}
	if (r->ruleset) {
		fprintf(fp, " ruleset %s", r->ruleset);
		if (locations) {
			fputs(" via ", fp);
			dump_loc(fp, r->via);
		}
	}
	if (r->unenforceable) {
		fputs(" unenforceable ", fp);
		dump_str(fp, r->unenforceable);
	}
	fputc('\n', fp);
}

void ir_dump_policy(const struct ir_policy *p, FILE *fp, bool locations)
{
	fprintf(fp, "policy %s default %s%s%s\n", p->name, action_name(p->dflt),
		p->dflt_log ? " log" : "", p->stateless ? " stateless" : "");
	if (p->has_host) {
		struct strbuf sb = { 0 };
		sb_init(&sb);
		ir_format_addrs(p->host4, p->host6, &sb);
		fprintf(fp, "  host %s\n", sb.s);
		sb_free(&sb);
	}
	for (size_t i = 0; i < p->nrules; i++)
		dump_rule(fp, &p->rules[i], locations, EXPECT_RULE);
	for (size_t i = 0; i < p->nexpects; i++)
		dump_rule(fp, &p->expects[i], locations, (enum expect_kind)p->expect_kind[i]);
}

void ir_dump(const struct ir_unit *u, FILE *fp, bool locations)
{
	for (size_t i = 0; i < u->n; i++)
		ir_dump_policy(&u->policies[i], fp, locations);
}
