/* deploy_nft.c - portc apply and verify with -t nftables (deploy.h).
 *
 * portc's table is one inet table: nft -c checks a ruleset, nft -j lists
 * the running table and the one a ruleset makes (in a scratch network
 * namespace), and the snapshot is the running table as nft lists it, after
 * "table inet NAME; delete table inet NAME", so that loading it replaces
 * whatever table of that name is there in one transaction, as a load of
 * portc's own file does. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deploy.h"
#include "proc.h"

static int side_parse(struct nft_side *s, char *json, char *text, const char *shown, bool handles)
{
	char *why = NULL;
	if (!nft_table_parse(json, &s->t, &why)) {
		diag_plain("cannot read nft's listing of the %s table: %s", shown, why);
		free(why);
		return EXIT_USAGE;
	}
	s->present = true;
	if (text)
		nft_table_add_text(&s->t, text);
	nft_lift(&s->t, shown, handles, &s->l);
	/* the lift is made: the document is not needed again, and at 100,000
	 * rules it is gigabytes, held while nft lists the other side */
	nft_table_drop_doc(&s->t);
	return EXIT_OK;
}

static int side_running(const char *table, bool texts, struct nft_side *s)
{
	memset(s, 0, sizeof *s);
	char *json = NULL, *text = NULL, *err = NULL;
	int rc = nft_list_table("inet", table, false, &json, &err);
	int r = EXIT_OK;
	if (rc != 0) {
		/* nft says "No such file or directory" for a table that is not there */
		if (rc < 0 || !err || !strstr(err, "No such file or directory")) {
			diag_plain("nft cannot list table inet %s: %s", table, err && *err ? err : "it failed");
			r = EXIT_USAGE;
		}
	} else if (texts && (rc = nft_list_table("inet", table, true, &text, NULL)) != 0) {
		diag_plain("nft cannot list table inet %s with handles", table);
		r = EXIT_USAGE;
	} else {
		r = side_parse(s, json, text, "kernel", true);
	}
	free(json);
	free(text);
	free(err);
	return r;
}

static int side_fresh(const char *file, const char *table, bool texts, struct nft_side *s)
{
	memset(s, 0, sizeof *s);
	char *json = NULL, *text = NULL, *err = NULL;
	int rc = nft_list_fresh(file, "inet", table, &json, texts ? &text : NULL, &err);
	int r;
	if (rc != 0) {
		diag_plain("nft does not load the ruleset (in a scratch network namespace)%s%s",
			   err && *err ? ":\n" : "", err ? err : "");
		r = EXIT_ERRORS;
	} else {
		r = side_parse(s, json, text, "policy", false);
	}
	free(json);
	free(text);
	free(err);
	return r;
}

/* ---- the target --------------------------------------------------------------------- */

static int nft_file(const char *flag, const char *path, char **err)
{
	char *argv[] = { "nft", (char *)flag, "-f", (char *)path, NULL };
	char *const argv_load[] = { "nft", "-f", (char *)path, NULL };
	struct proc_opts po = { .err = err };
	return proc_run(flag ? argv : argv_load, &po);
}

static void describe(struct strbuf *sb, const char *table)
{
	sb_printf(sb, "table inet %s", table);
}

static int check(const struct ruleset *rs)
{
	char *err = NULL;
	int r = EXIT_OK;
	if (nft_file("-c", rs->file, &err) != 0) {
		diag_plain("nft refuses the ruleset of %s; nothing was loaded:\n%s", rs->shown, err ? err : "");
		r = EXIT_ERRORS;
	}
	free(err);
	return r;
}

static int running(const struct ruleset *rs, struct nft_side *s)
{
	return side_running(rs->table, !rs->no_texts, s);
}

static int fresh(const struct ruleset *rs, struct nft_side *s)
{
	return side_fresh(rs->file, rs->table, !rs->no_texts, s);
}

static int snapshot(const struct ruleset *rs, const struct nft_side *have, const char *base)
{
	const char *table = rs->table;
	char *listing = NULL, *err = NULL, path[PATH_MAX];
	snprintf(path, sizeof path, "%s.nft", base);
	struct strbuf head = { 0 };
	sb_init(&head);
	/* the same two lines portc's own files start with: create the table
	 * if it is gone, then replace it whole */
	sb_printf(&head, "table inet %s\ndelete table inet %s\n", table, table);
	if (have->present) {
		char *const argv[] = { "nft", "list", "table", "inet", (char *)table, NULL };
		struct proc_opts po = { .out = &listing, .err = &err };
		if (proc_run(argv, &po) != 0) {
			diag_plain("cannot list table inet %s for the snapshot: %s", table, err ? err : "");
			free(listing);
			free(err);
			sb_free(&head);
			return EXIT_USAGE;
		}
	}
	bool ok = deploy_write(path, head.s, listing);
	free(listing);
	free(err);
	sb_free(&head);
	if (!ok) {
		diag_plain("cannot write the snapshot '%s': %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	err = NULL;
	if (nft_file("-c", path, &err) != 0) {
		diag_plain("the running table inet %s does not load back as nft lists it, so it cannot be "
			   "rolled back to; nothing was changed:\n%s", table, err ? err : "");
		free(err);
		return EXIT_ERRORS;
	}
	free(err);
	return EXIT_OK;
}

static int load(const char *file, char **err)
{
	return nft_file(NULL, file, err);
}

static const char *const suffixes[] = { ".nft", NULL };
static const char *const needs[] = { "nft", NULL };

const struct deploy_target deploy_nftables = {
	.name = "nftables",
	.family = "inet",
	.suffix = suffixes,
	.main = 0,
	.tools = needs,
	.packages = "nftables",
	.describe = describe,
	.check = check,
	.running = running,
	.fresh = fresh,
	.snapshot = snapshot,
	.load = load,
};
