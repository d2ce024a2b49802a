/* driver.c - the straight line every command runs: load, check, lower.
 * Diagnostics are printed when each phase ends; a phase with errors ends
 * the run, so nothing is emitted from a broken policy. */
#include <string.h>

#include "cli.h"

static void flush(struct diag *d, FILE *out)
{
	if (out)
		diag_flush(d, out);
}

int driver_run(struct unit *u, struct diag *d, const struct cli_opts *o, const char *path,
	       bool require_params)
{
	struct unit_opts uo = {
		.incdirs = (const char **)o->incdirs,
		.nincdirs = o->nincdirs,
		.defines = (struct define *)o->defines,
		.ndefines = o->ndefines,
		.require_params = require_params,
		.shown_dir = o->shown_dir,
		.shown_as = o->shown_as,
	};
	unit_init(u, d, &uo);
	/* with collect_diags the caller prints them (lint's JSON and SARIF) */
	FILE *out = o->collect_diags ? NULL : stderr;
	bool ok = load_unit(u, path);
	flush(d, out);
	if (u->root_unreadable)
		return EXIT_USAGE;
	if (!ok || diag_failed(d))
		return EXIT_ERRORS;
	ok = check_unit(u);
	flush(d, out);
	if (!ok || diag_failed(d))
		return EXIT_ERRORS;
	ok = lower_unit(u);
	flush(d, out);
	if (!ok || diag_failed(d))
		return EXIT_ERRORS;
	return EXIT_OK;
}

const struct ir_policy *driver_policy(const struct unit *u, const struct cli_opts *o)
{
	const char *root = u->nfiles ? u->files[u->nfiles - 1]->src->name : "";
	if (o->policy) {
		const struct ir_policy *p = ir_find_policy(&u->ir, o->policy);
		if (!p) {
			/* name what there is: the closest first, if one is close */
			const char *best = NULL;
			unsigned best_d = 3;
			struct strbuf sb = { 0 };
			sb_init(&sb);
			for (size_t i = 0; i < u->ir.n; i++) {
				const char *name = u->ir.policies[i].name;
				sb_printf(&sb, "%s%s", sb.len ? ", " : "", name);
				unsigned dist = edit_distance(o->policy, name, best_d - 1);
				if (dist < best_d) {
					best_d = dist;
					best = name;
				}
			}
			if (best)
				diag_plain("%s: no policy named '%s'; did you mean '%s'? (the policies: %s)",
					   root, o->policy, best, sb.s);
			else if (sb.len)
				diag_plain("%s: no policy named '%s'; the policies: %s", root, o->policy, sb.s);
			else
				diag_plain("%s: no policy named '%s', nor any other", root, o->policy);
			sb_free(&sb);
		}
		return p;
	}
	/* Without -p, the one policy of the root file (libraries it imports
	 * may hold example policies of their own). */
	const struct ir_policy *found = NULL;
	size_t n = 0;
	for (size_t i = 0; i < u->ir.n; i++) {
		if (u->ir.policies[i].loc.src && strcmp(u->ir.policies[i].loc.src->name, root) == 0) {
			found = &u->ir.policies[i];
			n++;
		}
	}
	if (n == 1)
		return found;
	if (n == 0) {
		diag_plain("%s: defines no policy", root);
		return NULL;
	}
	struct strbuf sb = { 0 };
	sb_init(&sb);
	for (size_t i = 0; i < u->ir.n; i++)
		if (strcmp(u->ir.policies[i].loc.src->name, root) == 0)
			sb_printf(&sb, "%s%s", sb.len ? ", " : "", u->ir.policies[i].name);
	diag_plain("%s: defines several policies (%s); choose one with -p", root, sb.s);
	sb_free(&sb);
	return NULL;
}

void cli_diag_init(struct diag *d, const struct cli_opts *o)
{
	diag_init(d);
	d->opts = o->diag;
}

const struct ir_policy *driver_compile(struct unit *u, struct diag *d, const struct cli_opts *o,
				       const char *path, int *rc)
{
	cli_diag_init(d, o);
	*rc = driver_run(u, d, o, path, true);
	if (*rc != EXIT_OK)
		return NULL;
	const struct ir_policy *pol = driver_policy(u, o);
	if (!pol)
		*rc = EXIT_USAGE;
	return pol;
}
