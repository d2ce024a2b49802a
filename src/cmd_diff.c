/* cmd_diff.c - portc diff: what a change to a policy does to traffic
 * (diff.h), as text or JSON. Exit 0 when the two decide every packet
 * alike, 1 when they differ (in a kind --fail-on names), 2 on errors. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cli.h"
#include "diff.h"
#include "jsonout.h"
#include "names.h"

static void put_decision(struct strbuf *sb, struct decision d)
{
	sb_puts(sb, action_name(d.action));
	if (d.dscp >= 0) {
		const char *n = dscp_name(d.dscp);
		sb_printf(sb, " dscp %d", d.dscp);
		if (n)
			sb_printf(sb, " (%s)", n);
	}
	if (d.log)
		sb_puts(sb, " log");
}

static void put_rule(struct strbuf *sb, const struct ir_policy *pol, const struct ir_rule *r)
{
	if (!r) {
		sb_printf(sb, "the default of policy %s (%s:%u:%u)", pol->name, pol->loc.src->name,
			  pol->loc.line, pol->loc.col);
		return;
	}
	sb_printf(sb, "rule #%u, %s:%u:%u", r->source + 1, r->origin.src->name, r->origin.line,
		  r->origin.col);
	if (r->note) {
		sb_puts(sb, " \"");
		sb_put_visible(sb, r->note);
		sb_putc(sb, '"');
	}
}

/* Where a change is reported: the new rule that decides it, else the old
 * one, else the new policy. */
static struct loc change_loc(const struct ir_policy *pnew, const struct diff_change *ch)
{
	return ch->new_rule ? ch->new_rule->origin : ch->old_rule ? ch->old_rule->origin : pnew->loc;
}

static void print_text(const char *fold, const char *fnew, const struct ir_policy *pold,
		       const struct ir_policy *pnew, const struct diff_result *r)
{
	if (r->n == 0) {
		printf("%s and %s decide every packet alike (policy %s)\n", fold, fnew, pnew->name);
		return;
	}
	printf("%s -> %s (policy %s): %zu opened, %zu closed, %zu remarked, %zu other\n", fold, fnew,
	       pnew->name, r->count[DIFF_OPENED], r->count[DIFF_CLOSED], r->count[DIFF_REMARKED],
	       r->count[DIFF_OTHER]);
	struct strbuf sb = { 0 };
	sb_init(&sb);
	for (size_t i = 0; i < r->n; i++) {
		const struct diff_change *ch = &r->v[i];
		struct loc l = change_loc(pnew, ch);
		sb_reset(&sb);
		put_decision(&sb, ch->old_dec);
		sb_puts(&sb, " -> ");
		put_decision(&sb, ch->new_dec);
		printf("%s:%u:%u: %s: %s\n", l.src->name, l.line, l.col, diff_kind_name(ch->kind), sb.s);
		sb_reset(&sb);
		put_rule(&sb, pold, ch->old_rule);
		printf("    old: %s\n", sb.s);
		sb_reset(&sb);
		put_rule(&sb, pnew, ch->new_rule);
		printf("    new: %s\n", sb.s);
		for (size_t k = 0; k < ch->n; k++) {
			sb_reset(&sb);
			diff_put_prod(&sb, ch->family, &ch->p[k]);
			printf("    %s\n", sb.s);
		}
		sb_reset(&sb);
		packet_format(&ch->witness, &sb);
		printf("    for example: %s\n", sb.s);
	}
	sb_free(&sb);
}

static json_t *side_json(const struct ir_policy *pol, const struct ir_rule *r, struct decision d)
{
	json_t *o = json_object();
	json_object_set_new(o, "verdict", json_string(action_name(d.action)));
	json_object_set_new(o, "dscp", d.dscp >= 0 ? json_integer(d.dscp) : json_null());
	json_object_set_new(o, "log", json_boolean(d.log));
	if (r) {
		json_t *rule = json_object();
		json_object_set_new(rule, "number", json_integer(r->source + 1));
		json_object_set_new(rule, "file", json_text(r->origin.src->name));
		json_object_set_new(rule, "line", json_integer(r->origin.line));
		json_object_set_new(rule, "column", json_integer(r->origin.col));
		json_object_set_new(rule, "note", r->note ? json_text(r->note) : json_null());
		json_object_set_new(o, "rule", rule);
	} else {
		json_object_set_new(o, "rule", json_null());
	}
	(void)pol;
	return o;
}

static json_t *packet_json(const struct packet *p)
{
	char a[64], b[64];
	addr_format(p->family, p->src, a, sizeof a);
	addr_format(p->family, p->dst, b, sizeof b);
	json_t *o = json_object();
	json_object_set_new(o, "family", json_integer(p->family));
	json_object_set_new(o, "protocol", json_integer(p->proto));
	json_object_set_new(o, "source", json_string(a));
	json_object_set_new(o, "destination", json_string(b));
	bool ports = ir_has_ports(p->proto), types = ir_has_types(p->proto);
	json_object_set_new(o, "sport", ports ? json_integer(p->sport) : json_null());
	json_object_set_new(o, "dport", ports ? json_integer(p->dport) : json_null());
	json_object_set_new(o, "icmp_type", types ? json_integer(p->type) : json_null());
	struct strbuf sb = { 0 };
	sb_init(&sb);
	packet_format(p, &sb);
	json_object_set_new(o, "text", json_string(sb.s));
	sb_free(&sb);
	return o;
}

/* [[lo, hi], ...]: addresses as text, the rest as numbers */
static json_t *set_json(int family, struct ivset s, bool addr)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s.n; i++) {
		if (addr) {
			char lo[64], hi[64];
			addr_format(family, s.v[i].lo, lo, sizeof lo);
			addr_format(family, s.v[i].hi, hi, sizeof hi);
			json_array_append_new(a, json_pack("[s, s]", lo, hi));
		} else {
			json_array_append_new(a, json_pack("[I, I]", (json_int_t)s.v[i].lo, (json_int_t)s.v[i].hi));
		}
	}
	return a;
}

/* A region: its text, and each dimension's intervals, so that a program
 * can test a packet against it (the fields a protocol lacks are [0, 0]). */
static json_t *prod_json(int family, const struct prod *p)
{
	struct strbuf sb = { 0 };
	sb_init(&sb);
	diff_put_prod(&sb, family, p);
	json_t *o = json_object();
	json_object_set_new(o, "text", json_string(sb.s));
	sb_free(&sb);
	json_object_set_new(o, "protocol", set_json(family, prod_dim(p, PS_PROTO), false));
	json_object_set_new(o, "source", set_json(family, prod_dim(p, PS_SRC), true));
	json_object_set_new(o, "sport", set_json(family, prod_dim(p, PS_SPORT), false));
	json_object_set_new(o, "destination", set_json(family, prod_dim(p, PS_DST), true));
	json_object_set_new(o, "dport", set_json(family, prod_dim(p, PS_DPORT), false));
	json_object_set_new(o, "icmp_type", set_json(family, prod_dim(p, PS_TYPE), false));
	return o;
}

static int print_json(const char *fold, const char *fnew, const struct ir_policy *pold,
		      const struct ir_policy *pnew, const struct diff_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "old", json_pack("{s:o, s:o}", "file", json_text(fold), "policy",
						json_text(pold->name)));
	json_object_set_new(o, "new", json_pack("{s:o, s:o}", "file", json_text(fnew), "policy",
						json_text(pnew->name)));
	json_object_set_new(o, "equivalent", json_boolean(r->n == 0));
	json_t *sum = json_object();
	for (int k = 0; k < DIFF__COUNT; k++)
		json_object_set_new(sum, diff_kind_name((enum diff_kind)k), json_integer((json_int_t)r->count[k]));
	json_object_set_new(o, "summary", sum);
	json_t *a = json_array();
	struct strbuf sb = { 0 };
	sb_init(&sb);
	for (size_t i = 0; i < r->n; i++) {
		const struct diff_change *ch = &r->v[i];
		json_t *c = json_object();
		json_object_set_new(c, "kind", json_string(diff_kind_name(ch->kind)));
		json_object_set_new(c, "family", json_integer(ch->family));
		json_object_set_new(c, "old", side_json(pold, ch->old_rule, ch->old_dec));
		json_object_set_new(c, "new", side_json(pnew, ch->new_rule, ch->new_dec));
		json_t *regions = json_array();
		for (size_t k = 0; k < ch->n; k++)
			json_array_append_new(regions, prod_json(ch->family, &ch->p[k]));
		json_object_set_new(c, "regions", regions);
		json_object_set_new(c, "witness", packet_json(&ch->witness));
		json_array_append_new(a, c);
	}
	sb_free(&sb);
	json_object_set_new(o, "changes", a);
	int rc = json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	putchar('\n');
	json_decref(o);
	return rc == 0 ? EXIT_OK : EXIT_USAGE;
}

/* --fail-on=KINDS: a mask of diff kinds; 0 after saying why when bad. */
static unsigned parse_fail_on(const char *s)
{
	if (!s || strcmp(s, "any") == 0)
		return (1u << DIFF__COUNT) - 1;
	unsigned mask = 0;
	char *copy = xstrdup(s);
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
		int k = -1;
		for (int i = 0; i < DIFF__COUNT; i++)
			if (strcmp(tok, diff_kind_name((enum diff_kind)i)) == 0)
				k = i;
		if (strcmp(tok, "any") == 0) {
			mask = (1u << DIFF__COUNT) - 1;
			continue;
		}
		if (k < 0) {
			diag_plain("--fail-on takes a comma list of opened, closed, remarked, other or any; "
				   "got '%s'", tok);
			free(copy);
			return 0;
		}
		mask |= 1u << k;
	}
	free(copy);
	return mask;
}

int cmd_diff(struct cli_opts *o)
{
	const char *fmt = o->format ? o->format : "text";
	if (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0) {
		diag_plain("--format takes text or json");
		return EXIT_USAGE;
	}
	unsigned fail_on = parse_fail_on(o->fail_on);
	if (!fail_on)
		return EXIT_USAGE;
	const char *fold = o->argv[0], *fnew = o->argv[1];
	struct diag d_old, d_new;
	struct unit u_old, u_new;
	int rc_old = EXIT_OK, rc_new = EXIT_OK;
	const struct ir_policy *pold = driver_compile(&u_old, &d_old, o, fold, &rc_old);
	const struct ir_policy *pnew = driver_compile(&u_new, &d_new, o, fnew, &rc_new);
	int rc = EXIT_USAGE;
	if (pold && pnew) {
		struct diff_result r;
		if (!diff_policies(pold, pnew, &r)) {
			diag_plain("the difference of %s and %s is too large to compute exactly (a piece of "
				   "the work passed %d products); nothing is claimed", fold, fnew,
				   DIFF_MAX_PIECES);
		} else {
			rc = strcmp(fmt, "json") == 0 ? print_json(fold, fnew, pold, pnew, &r)
						      : (print_text(fold, fnew, pold, pnew, &r), EXIT_OK);
			if (rc == EXIT_OK && fflush(stdout) != 0)
				rc = EXIT_USAGE;
			if (rc == EXIT_OK) {
				for (int k = 0; k < DIFF__COUNT; k++)
					if ((fail_on >> k & 1) && r.count[k])
						rc = EXIT_ERRORS;
			}
		}
		diff_free(&r);
	} else {
		/* errors in either input, both reported: 2, since 1 means "they differ" */
		(void)rc_old;
		(void)rc_new;
	}
	unit_free(&u_old);
	diag_free(&d_old);
	unit_free(&u_new);
	diag_free(&d_new);
	return rc;
}
