/* deploy_ipt.c - portc apply and verify with -t iptables (deploy.h).
 *
 * portc's part of the kernel is a policy's chains (PORTC-STEM-*, in the
 * filter and mangle tables of both families), the jumps to them from the
 * built-in chains, and its ipsets (pc-STEM-*): everything else belongs to
 * someone else (Docker, fail2ban, the distribution) and is never read into
 * a snapshot or touched by a rollback. A ruleset is checked by ipset
 * restore and iptables-restore --test / ip6tables-restore --test in a
 * scratch network namespace (its rules name its sets, which must exist
 * for the test), and read back as the kernel holds it after the bundle's
 * loader ran there (ipt_table.h). The snapshot is a bundle of the same
 * shape as the compiler's, made from the running chains and sets: its
 * loader puts them back and removes the chains and sets the new build
 * added, as loading that earlier build would. */
#include <stdlib.h>
#include <string.h>

#include "deploy.h"
#include "ipt_table.h"
#include "proc.h"

static void describe(struct strbuf *sb, const char *stem)
{
	sb_printf(sb, "the iptables chains PORTC-%s-* and ipsets pc-%s-*", stem, stem);
}

/* Sets first: the rules files name them. The paths are arguments. */
static const char check_script[] =
	"set -e\n"
	"ipset restore -exist -file \"$1\"\n"
	"iptables-restore --test --noflush \"$2\"\n"
	"ip6tables-restore --test --noflush \"$3\"\n";

static int check(const struct ruleset *rs)
{
	char p[3][PATH_MAX + 32];
	static const char *const sfx[3] = { ".ipset", ".v4", ".v6" };
	for (int i = 0; i < 3; i++)
		snprintf(p[i], sizeof p[i], "%s/ruleset%s", rs->dir, sfx[i]);
	char *const argv[] = { "sh", "-c", (char *)check_script, "portc", p[0], p[1], p[2], NULL };
	char *err = NULL;
	struct proc_opts po = { .err = &err, .new_netns = true };
	int r = EXIT_OK;
	if (proc_run(argv, &po) != 0) {
		diag_plain("ipset restore or iptables-restore --test refuses the ruleset of %s (in a scratch "
			   "network namespace); nothing was loaded:\n%s", rs->shown, err ? err : "");
		r = EXIT_ERRORS;
	}
	free(err);
	return r;
}

static int side_of(const char *stem, const struct ipt_listing *l, const char *shown, bool handles,
		   struct nft_side *s)
{
	char *why = NULL;
	bool present;
	if (!ipt_table_build(stem, l, &s->t, &present, &why)) {
		diag_plain("cannot read the %s's iptables rules: %s", shown, why);
		free(why);
		return EXIT_USAGE;
	}
	if (!present) {
		nft_table_free(&s->t);
		return EXIT_OK;
	}
	s->present = true;
	nft_lift(&s->t, shown, handles, &s->l);
	return EXIT_OK;
}

/* The listings of this namespace (loader NULL) or of a scratch one after
 * the loader ran, read for the policy; what on a failure. */
static int read_side(const struct ruleset *rs, const char *loader, const char *shown, bool handles,
		     struct nft_side *s)
{
	memset(s, 0, sizeof *s);
	struct ipt_listing l;
	char *err = NULL;
	int r;
	if (ipt_list(loader, &l, &err) != 0) {
		if (loader)
			diag_plain("the ruleset does not load (its loader, in a scratch network namespace)%s%s",
				   err && *err ? ":\n" : "", err ? err : "");
		else
			diag_plain("cannot list the running rules (iptables-save, ip6tables-save, ipset save): %s",
				   err && *err ? err : "they failed");
		r = loader ? EXIT_ERRORS : EXIT_USAGE;
	} else {
		r = side_of(rs->table, &l, shown, handles, s);
	}
	ipt_listing_free(&l);
	free(err);
	return r;
}

static int running(const struct ruleset *rs, struct nft_side *s)
{
	return read_side(rs, NULL, "kernel", true, s);
}

static int fresh(const struct ruleset *rs, struct nft_side *s)
{
	return read_side(rs, rs->file, "policy", false, s);
}

static int snapshot(const struct ruleset *rs, const struct nft_side *have, const char *base)
{
	(void)have;
	struct ipt_listing l;
	char *err = NULL;
	if (ipt_list(NULL, &l, &err) != 0) {
		diag_plain("cannot list the running rules for the snapshot: %s", err && *err ? err : "it failed");
		free(err);
		return EXIT_USAGE;
	}
	bool ok = ipt_snapshot_write(rs->table, &l, base);
	ipt_listing_free(&l);
	free(err);
	err = NULL;
	if (!ok)
		return EXIT_USAGE;
	/* tested here, not in a scratch namespace: the running chains may
	 * jump to someone else's, and their sets are the running ones */
	char v4[PATH_MAX], v6[PATH_MAX];
	snprintf(v4, sizeof v4, "%s.v4", base);
	snprintf(v6, sizeof v6, "%s.v6", base);
	char *const argv[] = { "sh", "-c", "iptables-restore --test --noflush \"$1\" && "
			       "ip6tables-restore --test --noflush \"$2\"", "portc", v4, v6, NULL };
	struct proc_opts po = { .err = &err };
	int r = EXIT_OK;
	if (proc_run(argv, &po) != 0) {
		diag_plain("the running chains of policy %s do not load back as iptables-save lists them, so "
			   "they cannot be rolled back to; nothing was changed:\n%s", rs->table, err ? err : "");
		r = EXIT_ERRORS;
	}
	free(err);
	return r;
}

static int load(const char *file, char **err)
{
	char *const argv[] = { "sh", (char *)file, NULL };
	struct proc_opts po = { .err = err };
	return proc_run(argv, &po);
}

static const char *const suffixes[] = { ".ipset", ".v4", ".v6", ".sh", NULL };
static const char *const needs[] = { "iptables-restore", "ip6tables-restore", "iptables-save", "ip6tables-save",
				     "ipset", NULL };

const struct deploy_target deploy_iptables = {
	.name = "iptables",
	.family = "iptables",
	.suffix = suffixes,
	.main = 3,
	.tools = needs,
	.packages = "iptables ipset",
	.describe = describe,
	.check = check,
	.running = running,
	.fresh = fresh,
	.snapshot = snapshot,
	.load = load,
};
