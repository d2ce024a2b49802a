/* cmd_lint.c - portc lint: the findings of lint.c and lint_hygiene.c, as
 * GCC-style text, as JSON, or as SARIF 2.1.0 for code scanning.
 *
 * JSON and SARIF carry every diagnostic of the run (check's too), with the
 * related places, the witness packet of each rule-level finding, and the
 * inline suppressions with their reasons. Both are built with jansson. */
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "hooks.h"
#include "jsonout.h"
#include "lint.h"

#ifndef PORTC_VERSION
#define PORTC_VERSION "0.0-dev"
#endif

/* ---- SARIF ---------------------------------------------------------------- */

static json_t *sarif_rules(void)
{
	json_t *rules = json_array();
	json_array_append_new(rules, json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "id", "error", "name",
					       "error", "shortDescription", "text",
					       "an error in the policy (syntax, names, values)",
					       "defaultConfiguration", "level", "error"));
	for (int w = 0; w < W__COUNT; w++) {
		char uri[128];
		snprintf(uri, sizeof uri, "docs/lint.md#%s", warn_table[w].name);
		json_array_append_new(rules, json_pack("{s:s, s:s, s:{s:s}, s:s, s:{s:s}}", "id",
						       warn_table[w].name, "name", warn_table[w].name,
						       "shortDescription", "text", warn_table[w].summary,
						       "helpUri", uri, "defaultConfiguration", "level",
						       diag_level_text(warn_table[w].level)));
	}
	return rules;
}

static json_t *sarif_result(const struct diag_record *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "ruleId", json_string(diag_rule_name(r)));
	json_object_set_new(o, "ruleIndex", json_integer(r->warn == W_NONE ? 0 : r->warn + 1));
	json_object_set_new(o, "level", json_string(diag_level_text(r->level)));
	struct strbuf m = { 0 };
	sb_init(&m);
	sb_puts(&m, r->msg);
	if (r->witness_text)
		sb_printf(&m, " For example: %s.", r->witness_text);
	json_object_set_new(o, "message", json_pack("{s:o}", "text", json_text(m.s)));
	sb_free(&m);
	json_t *locs = json_array();
	if (loc_valid(r->loc))
		json_array_append_new(locs, sarif_location(r->loc, NULL, -1));
	json_object_set_new(o, "locations", locs);
	json_t *rel = json_array();
	for (size_t i = 0; i < r->nnotes; i++)
		if (loc_valid(r->notes[i]->loc))
			json_array_append_new(rel, sarif_location(r->notes[i]->loc, r->notes[i]->msg,
								  (int)i));
	if (json_array_size(rel))
		json_object_set_new(o, "relatedLocations", rel);
	else
		json_decref(rel);
	if (r->suppressed)
		json_object_set_new(o, "suppressions", json_pack("[{s:s, s:o}]", "kind", "inSource",
								 "justification", json_text(r->suppressed)));
	if (r->witness)
		json_object_set_new(o, "properties", json_pack("{s:o}", "witness", witness_json(r)));
	return o;
}

/* ---- the command ------------------------------------------------------------- */

static int lint_file(struct cli_opts *o, const char *path, json_t *all, struct lint_stats *st,
		     bool text)
{
	struct diag d;
	cli_diag_init(&d, o);
	struct unit u;
	int r = driver_run(&u, &d, o, path, true);
	if (r == EXIT_OK) {
		struct lint_opts lo = { .brute_force = o->brute_force };
		lint_hygiene(&u);
		const char *root = u.files[u.nfiles - 1]->src->name;
		bool found = false;
		for (size_t i = 0; i < u.ir.n; i++) {
			const struct ir_policy *pol = &u.ir.policies[i];
			if (o->policy ? strcmp(pol->name, o->policy) != 0
				      : strcmp(pol->loc.src->name, root) != 0)
				continue;
			found = true;
			lint_policy(&u, pol, &lo, st);
			/* the hooks as compile would emit them, unless told */
			unsigned hooks = ir_policy_default_hooks(pol);
			const char *why = o->hook ? hooks_parse(o->hook, &hooks) : NULL;
			if (why) {
				diag_plain("%s", why);
				r = EXIT_USAGE;
			}
			warn_unplaced_rules(&d, pol, hooks);
		}
		if (o->policy && !found) {
			diag_plain("%s: no policy named '%s'", root, o->policy);
			r = EXIT_USAGE;
		}
		lint_suppress(&u);
		if (r == EXIT_OK && diag_failed(&d))
			r = EXIT_ERRORS;
	}
	if (text) {
		diag_flush(&d, stderr);
	} else {
		/* the records die with d: convert them now */
		for (size_t i = 0; i < d.nrecs; i++)
			json_array_append_new(all, json_pack("{s:o, s:o}", "finding", finding_json(d.recs[i]),
							     "sarif", sarif_result(d.recs[i])));
	}
	unit_free(&u);
	diag_free(&d);
	return r;
}

int cmd_lint(struct cli_opts *o)
{
	const char *fmt = o->format ? o->format : "text";
	bool text = strcmp(fmt, "text") == 0;
	if (!text && strcmp(fmt, "json") != 0 && strcmp(fmt, "sarif") != 0) {
		diag_plain("--format takes text, json or sarif");
		return EXIT_USAGE;
	}
	/* a large policy's findings are many small writes: buffer them,
	 * unbuffered stderr made write(2) a tenth of lint's time */
	static char errbuf[1 << 16];
	setvbuf(stderr, errbuf, _IOFBF, sizeof errbuf);
	o->collect_diags = !text;
	if (!text)
		o->diag.color = false;
	json_t *all = json_array();
	struct lint_stats st = { 0 };
	int worst = EXIT_OK;
	for (int i = 0; i < o->argc; i++) {
		int r = lint_file(o, o->argv[i], all, &st, text);
		if (r > worst)
			worst = r;
	}
	if (o->stats)
		fprintf(stderr, "lint: %zu rules, %zu rule pairs listed, %zu undecided\n", st.rules,
			st.pairs, st.undecided);
	if (!text) {
		json_t *doc;
		size_t n = json_array_size(all);
		if (strcmp(fmt, "json") == 0) {
			json_t *findings = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append(findings, json_object_get(json_array_get(all, i), "finding"));
			doc = json_pack("{s:s, s:i, s:o, s:{s:I, s:I, s:I}}", "tool", "portc lint",
					"version", 1, "findings", findings, "stats", "rules",
					(json_int_t)st.rules, "pairs", (json_int_t)st.pairs, "undecided",
					(json_int_t)st.undecided);
		} else {
			json_t *results = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append(results, json_object_get(json_array_get(all, i), "sarif"));
			doc = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}",
					"$schema", "https://json.schemastore.org/sarif-2.1.0.json",
					"version", "2.1.0", "runs", "tool", "driver", "name", "portc",
					"version", PORTC_VERSION, "informationUri",
					"https://github.com/portc/portc/blob/main/docs/lint.md",
					"rules", sarif_rules(), "results", results);
		}
		if (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0)
			worst = EXIT_USAGE;
		putchar('\n');
		json_decref(doc);
	}
	json_decref(all);
	fflush(stderr);
	return worst;
}
