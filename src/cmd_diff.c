/* cmd_diff.c - portc diff: what a change to a policy does to traffic
 * (diff.h), as text or JSON. Exit 0 when the two decide every packet
 * alike, 1 when they differ (in a kind --fail-on names), 2 on errors. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cli.h"
#include "diff.h"
#include "gitrev.h"
#include "jsonout.h"
#include "names.h"

#ifndef PORTC_VERSION
#define PORTC_VERSION "0.0-dev"
#endif

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
		diff_put_decision(&sb, ch->old_dec);
		sb_puts(&sb, " -> ");
		diff_put_decision(&sb, ch->new_dec);
		printf("%s:%u:%u: %s: %s\n", l.src->name, l.line, l.col, diff_kind_name(ch->kind), sb.s);
		sb_reset(&sb);
		put_rule(&sb, pold, ch->old_rule);
		printf("    old: %s\n", sb.s);
		sb_reset(&sb);
		put_rule(&sb, pnew, ch->new_rule);
		printf("    new: %s\n", sb.s);
		diff_print_region(&sb, ch);
	}
	sb_free(&sb);
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
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(a, diff_change_json(&r->v[i]));
	json_object_set_new(o, "changes", a);
	int rc = json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	putchar('\n');
	json_decref(o);
	return rc == 0 ? EXIT_OK : EXIT_USAGE;
}

/* ---- Markdown, for a pull request's comment ------------------------------------ */

/* Policy text in a table cell: never markup. Markdown punctuation is
 * escaped, '|' would end the cell, '<' and '&' start HTML, and a line
 * break would end the row; invisible and bidi characters are shown as
 * escapes (sb_put_visible), as everywhere else portc prints notes. */
static void md_text(struct strbuf *sb, const char *s)
{
	struct strbuf v = { 0 };
	sb_init(&v);
	sb_put_visible(&v, s);
	for (const char *p = v.s; *p; p++) {
		switch (*p) {
		case '<': sb_puts(sb, "&lt;"); break;
		case '>': sb_puts(sb, "&gt;"); break;
		case '&': sb_puts(sb, "&amp;"); break;
		case '|': sb_puts(sb, "\\|"); break;
		case '\n': case '\r': sb_putc(sb, ' '); break;
		case '\\': case '`': case '*': case '_': case '[': case ']': case '~':
		case ':': case '.': case '@':	/* no autolinks: http://, www., mail@ */
			sb_putc(sb, '\\');
			sb_putc(sb, *p);
			break;
		default: sb_putc(sb, *p);
		}
	}
	sb_free(&v);
}

/* Text of ours (regions, packets, decisions: digits, addresses, names) as
 * code; it holds no backtick. */
static void md_code(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '`');
	sb_puts(sb, s);
	sb_putc(sb, '`');
}

static void md_rule(struct strbuf *sb, const struct ir_rule *r, struct decision d)
{
	struct strbuf t = { 0 };
	sb_init(&t);
	diff_put_decision(&t, d);
	md_code(sb, t.s);
	sb_free(&t);
	if (!r) {
		sb_puts(sb, " by the default");
		return;
	}
	sb_printf(sb, " by rule #%u (", r->source + 1);
	md_text(sb, r->origin.src->name);
	sb_printf(sb, ":%u)", r->origin.line);
	if (r->note) {
		sb_puts(sb, " \"");
		md_text(sb, r->note);
		sb_putc(sb, '"');
	}
}

static const char *const md_heading[DIFF__COUNT] = {
	"Opened: newly allowed", "Closed: no longer allowed", "Remarked: another DSCP mark",
	"Other: deny against reject, or the log",
};

static void print_markdown(const char *fold, const char *fnew, const struct ir_policy *pnew,
			   const struct diff_result *r)
{
	struct strbuf sb = { 0 }, t = { 0 };
	sb_init(&sb);
	sb_init(&t);
	sb_puts(&sb, "### portc diff: ");
	md_text(&sb, fold);
	sb_puts(&sb, " → ");
	md_text(&sb, fnew);
	sb_puts(&sb, " (policy ");
	md_text(&sb, pnew->name);
	sb_puts(&sb, ")\n\n");
	if (r->n == 0) {
		sb_puts(&sb, "No change: the two decide every packet alike.\n");
	} else {
		sb_printf(&sb, "**%zu opened**, %zu closed, %zu remarked, %zu other.\n",
			  r->count[DIFF_OPENED], r->count[DIFF_CLOSED], r->count[DIFF_REMARKED],
			  r->count[DIFF_OTHER]);
		for (int k = 0; k < DIFF__COUNT; k++) {
			if (!r->count[k])
				continue;
			sb_printf(&sb, "\n#### %s (%zu)\n\n| packets | before | after | for example |\n"
				  "| --- | --- | --- | --- |\n", md_heading[k], r->count[k]);
			for (size_t i = 0; i < r->n; i++) {
				const struct diff_change *ch = &r->v[i];
				if ((int)ch->kind != k)
					continue;
				sb_puts(&sb, "| ");
				for (size_t m = 0; m < ch->n; m++) {
					sb_reset(&t);
					cls_put_prod(&t, ch->family, &ch->p[m]);
					if (m)
						sb_puts(&sb, "<br>");
					md_code(&sb, t.s);
				}
				sb_puts(&sb, " | ");
				md_rule(&sb, ch->old_rule, ch->old_dec);
				sb_puts(&sb, " | ");
				md_rule(&sb, ch->new_rule, ch->new_dec);
				sb_puts(&sb, " | ");
				sb_reset(&t);
				packet_format(&ch->witness, &t);
				md_code(&sb, t.s);
				sb_puts(&sb, " |\n");
			}
		}
	}
	fputs(sb.s, stdout);
	sb_free(&sb);
	sb_free(&t);
}

/* ---- SARIF, for code scanning: each change located on the new rule that
 * makes it (on the new policy when its default does) ---------------------------- */

static const char *const sarif_summary[DIFF__COUNT] = {
	"packets the change newly allows", "packets the change no longer allows",
	"allowed packets the change marks with another DSCP",
	"packets the change decides otherwise (deny against reject, or the log)",
};

static int print_sarif(const struct ir_policy *pold, const struct ir_policy *pnew,
		       const struct diff_result *r)
{
	json_t *rules = json_array();
	for (int k = 0; k < DIFF__COUNT; k++) {
		char id[32], uri[64];
		snprintf(id, sizeof id, "diff-%s", diff_kind_name((enum diff_kind)k));
		snprintf(uri, sizeof uri, "docs/cli.md#portc-diff");
		json_array_append_new(rules, json_pack("{s:s, s:s, s:{s:s}, s:s, s:{s:s}}", "id", id, "name", id,
						       "shortDescription", "text", sarif_summary[k], "helpUri", uri,
						       "defaultConfiguration", "level",
						       k <= DIFF_CLOSED ? "warning" : "note"));
	}
	json_t *results = json_array();
	struct strbuf m = { 0 }, t = { 0 };
	sb_init(&m);
	sb_init(&t);
	for (size_t i = 0; i < r->n; i++) {
		const struct diff_change *ch = &r->v[i];
		sb_reset(&m);
		sb_printf(&m, "%s: ", diff_kind_name(ch->kind));
		diff_put_decision(&m, ch->old_dec);
		sb_puts(&m, " -> ");
		diff_put_decision(&m, ch->new_dec);
		sb_puts(&m, " for ");
		cls_put_prod(&m, ch->family, &ch->p[0]);
		if (ch->n > 1)
			sb_printf(&m, " and %zu more region%s", ch->n - 1, ch->n > 2 ? "s" : "");
		sb_reset(&t);
		packet_format(&ch->witness, &t);
		sb_printf(&m, ". For example: %s.", t.s);
		char id[32];
		snprintf(id, sizeof id, "diff-%s", diff_kind_name(ch->kind));
		json_t *o = json_pack("{s:s, s:i, s:s, s:{s:o}}", "ruleId", id, "ruleIndex", (json_int_t)ch->kind,
				      "level", ch->kind <= DIFF_CLOSED ? "warning" : "note", "message", "text",
				      json_text(m.s));
		json_object_set_new(o, "locations", json_pack("[o]", sarif_location(change_loc(pnew, ch), NULL, -1)));
		if (ch->old_rule) {
			sb_reset(&t);
			sb_puts(&t, "before, decided by ");
			put_rule(&t, pold, ch->old_rule);
			json_object_set_new(o, "relatedLocations",
					    json_pack("[o]", sarif_location(ch->old_rule->origin, t.s, 0)));
		}
		json_object_set_new(o, "properties", diff_change_json(ch));
		json_array_append_new(results, o);
	}
	sb_free(&m);
	sb_free(&t);
	json_t *doc = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}", "$schema",
				"https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs", "tool",
				"driver", "name", "portc", "version", PORTC_VERSION, "informationUri",
				"https://github.com/portc/portc/blob/main/docs/cli.md", "rules", rules, "results",
				results);
	int rc = json_dumpf(doc, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(doc);
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

static int diff_sides(const struct cli_opts *o, struct cli_opts *oo_in, struct cli_opts *on,
		      int format, unsigned fail_on);

int cmd_diff(struct cli_opts *o)
{
	const char *fmt = o->format ? o->format : "text";
	static const char *const formats[] = { "text", "json", "markdown", "sarif" };
	int format = -1;
	for (int i = 0; i < 4; i++)
		if (strcmp(fmt, formats[i]) == 0)
			format = i;
	if (format < 0) {
		diag_plain("--format takes text, json, markdown or sarif");
		return EXIT_USAGE;
	}
	unsigned fail_on = parse_fail_on(o->fail_on);
	if (!fail_on)
		return EXIT_USAGE;
	/* each side: -D, and its own --old-D or --new-D */
	struct cli_opts oo = *o, on = *o;
	for (size_t i = 0; i < o->nside_defines[0]; i++)
		if (!cli_add_define(&oo, o->side_defines[0][i], "--old-D"))
			return EXIT_USAGE;
	for (size_t i = 0; i < o->nside_defines[1]; i++)
		if (!cli_add_define(&on, o->side_defines[1][i], "--new-D")) {
			for (size_t k = o->ndefines; k < oo.ndefines; k++)
				free((char *)oo.defines[k].name);
			return EXIT_USAGE;
		}
	int rc = diff_sides(o, &oo, &on, format, fail_on);
	for (size_t k = o->ndefines; k < oo.ndefines; k++)
		free((char *)oo.defines[k].name);
	for (size_t k = o->ndefines; k < on.ndefines; k++)
		free((char *)on.defines[k].name);
	return rc;
}

static int diff_sides(const struct cli_opts *o, struct cli_opts *oo_in, struct cli_opts *on,
		      int format, unsigned fail_on)
{
	/* with --git, OLD is FILE in a checkout of REV, shown as REV:PATH */
	struct gitrev g = { 0 };
	struct cli_opts oo = *oo_in;
	char *shown_old = NULL;
	const char *fold, *fnew;
	if (o->git) {
		if (o->argc != 1) {
			diag_plain("with --git=REV, 'portc diff' takes one FILE");
			return EXIT_USAGE;
		}
		if (!gitrev_checkout(o->argv[0], o->git, &g))
			return EXIT_USAGE;
		oo.shown_dir = g.tree;
		oo.shown_as = g.shown_as;
		size_t n = strlen(g.shown_as) + strlen(g.path) + 1;
		shown_old = xmalloc(n);
		snprintf(shown_old, n, "%s%s", g.shown_as, g.path + strlen(g.tree) + 1);
		fold = g.path;
		fnew = o->argv[0];
	} else {
		if (o->argc != 2) {
			diag_plain("'portc diff' takes OLD and NEW, or --git=REV and FILE");
			return EXIT_USAGE;
		}
		fold = o->argv[0];
		fnew = o->argv[1];
	}
	struct diag d_old, d_new;
	struct unit u_old, u_new;
	int rc_old = EXIT_OK, rc_new = EXIT_OK;
	const struct ir_policy *pold = driver_compile(&u_old, &d_old, &oo, fold, &rc_old);
	if (shown_old)
		fold = shown_old;
	const struct ir_policy *pnew = driver_compile(&u_new, &d_new, on, fnew, &rc_new);
	int rc = EXIT_USAGE;
	if (pold && pnew) {
		struct diff_result r;
		if (!diff_policies(pold, pnew, &r)) {
			diag_plain("the difference of %s and %s is too large to compute exactly (a piece of "
				   "the work passed %d products); nothing is claimed", fold, fnew,
				   CLS_MAX_PIECES);
		} else {
			rc = EXIT_OK;
			if (format == 0)
				print_text(fold, fnew, pold, pnew, &r);
			else if (format == 1)
				rc = print_json(fold, fnew, pold, pnew, &r);
			else if (format == 2)
				print_markdown(fold, fnew, pnew, &r);
			else
				rc = print_sarif(pold, pnew, &r);
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
	free(shown_old);
	gitrev_free(&g);
	return rc;
}
