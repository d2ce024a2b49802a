/* cmd_verify.c - portc verify: the kernel's running table against the
 * policy, by content and by meaning (deploy.h). Exit 0 when they agree,
 * 1 with the drift, 2 on errors. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "deploy.h"
#include "jsonout.h"

int cmd_verify(struct cli_opts *o)
{
	bool json = o->format && strcmp(o->format, "json") == 0;
	if (o->format && !json && strcmp(o->format, "text") != 0) {
		diag_plain("--format takes text or json");
		return EXIT_USAGE;
	}
	const struct deploy_target *dt = deploy_target_find(o->target);
	if (!dt || !deploy_can_run("verify", dt))
		return EXIT_USAGE;
	struct ruleset rs;
	if (ruleset_get(o, dt, &rs) != EXIT_OK) {
		ruleset_free(&rs);
		return EXIT_USAGE;
	}
	struct nft_side want = { 0 }, have = { 0 };
	int r = EXIT_USAGE;
	if (!ruleset_write(&rs))
		goto out;
	struct drift d;
	for (rs.no_texts = true;; rs.no_texts = false) {
		if (dt->fresh(&rs, &want) != EXIT_OK || dt->running(&rs, &have) != EXIT_OK)
			goto out;
		drift_compute(&want, &have, &d);
		if (drift_none(&d) || !rs.no_texts)
			break;
		/* drift: look again, with the rules' text to show it by */
		drift_free(&d);
		side_free(&want);
		side_free(&have);
	}
	r = drift_none(&d) ? EXIT_OK : EXIT_ERRORS;
	if (json) {
		json_t *j = drift_json(&d, &have);
		json_object_set_new(j, "table", json_pack("{s:s, s:o}", "family", dt->family, "name", json_text(rs.table)));
		json_object_set_new(j, "file", json_text(rs.shown));
		json_object_set_new(j, "policy", rs.policy ? json_text(rs.policy) : json_null());
		if (json_dumpf(j, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) != 0)
			r = EXIT_USAGE;
		putchar('\n');
		json_decref(j);
	} else {
		struct strbuf title = { 0 };
		sb_init(&title);
		sb_printf(&title, "%s against %s", ruleset_what(&rs), rs.shown);
		if (rs.policy)
			sb_printf(&title, " (policy %s)", rs.policy);
		drift_print(&d, &have, title.s);
		sb_free(&title);
	}
	drift_free(&d);
out:
	side_free(&want);
	side_free(&have);
	ruleset_free(&rs);
	return r;
}
