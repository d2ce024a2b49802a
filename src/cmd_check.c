/* cmd_check.c - portc check: run the front end over each file; its
 * diagnostics as GCC-style text, or (--format=json) as one JSON document
 * built as lint's is (jsonout.h). */
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "expect.h"
#include "jsonout.h"

int cmd_check(struct cli_opts *o)
{
	if (o->dump && strcmp(o->dump, "ast") != 0 && strcmp(o->dump, "ir") != 0) {
		diag_plain("--dump takes ast or ir");
		return EXIT_USAGE;
	}
	const char *fmt = o->format ? o->format : "text";
	bool json = strcmp(fmt, "json") == 0;
	if (!json && strcmp(fmt, "text") != 0) {
		diag_plain("--format takes text or json");
		return EXIT_USAGE;
	}
	if (json && o->dump) {
		diag_plain("--dump and --format=json exclude each other");
		return EXIT_USAGE;
	}
	o->collect_diags = json;
	if (json)
		o->diag.color = false;
	json_t *all = json_array();
	bool want_ir = o->dump && strcmp(o->dump, "ir") == 0;
	int worst = EXIT_OK;
	/* Each file is its own compilation: two files may well define the
	 * same names. */
	for (int i = 0; i < o->argc; i++) {
		struct diag d;
		cli_diag_init(&d, o);
		struct unit u;
		int r = driver_run(&u, &d, o, o->argv[i], want_ir);
		/* expectations, over their whole regions, where every rule is
		 * there to decide them (not with parameters left unset) */
		if (r == EXIT_OK) {
			size_t failed = 0;
			for (size_t k = 0; k < u.ir.n; k++)
				if (!u.ir.policies[k].partial)
					failed += expect_check_policy(&u.ir.policies[k], &d);
			if (!o->collect_diags)
				diag_flush(&d, stderr);
			if (failed)
				r = EXIT_ERRORS;
		}
		if (r == EXIT_OK && o->dump) {
			if (want_ir)
				ir_dump(&u.ir, stdout, true);
			else
				ast_dump(u.files[u.nfiles - 1], stdout);
		}
		/* the records die with d: convert them now */
		for (size_t k = 0; json && k < d.nrecs; k++)
			json_array_append_new(all, finding_json(d.recs[k]));
		unit_free(&u);
		diag_free(&d);
		if (r > worst)
			worst = r;
	}
	if (json) {
		json_t *doc = json_pack("{s:s, s:i, s:o, s:s}", "tool", "portc check", "version", 1,
					"diagnostics", all, "result", worst == EXIT_OK ? "ok" :
					worst == EXIT_ERRORS ? "errors" : "usage");
		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) != 0)
			worst = EXIT_USAGE;
		putchar('\n');
		json_decref(doc);
	} else {
		json_decref(all);
	}
	return worst;
}
