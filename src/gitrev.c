/* gitrev.c - a file as of a git revision (gitrev.h). git and tar run as
 * programs (proc.h), the revision after --end-of-options (one that
 * starts with '-' is never read as an option). */
#define _XOPEN_SOURCE 700
#include "gitrev.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "proc.h"
#include "util.h"

/* Runs argv; its standard output into *out (when out is not NULL), without
 * the final newline. Returns its exit status, or -1 when it could not run.
 * Its standard error goes to ours. */
static int run(char *const argv[], char **out)
{
	struct proc_opts po = { .out = out };
	int rc = proc_run(argv, &po);
	if (out) {
		size_t len = strlen(*out);
		while (len && (*out)[len - 1] == '\n')
			(*out)[--len] = '\0';
	}
	return rc;
}

static char *joined(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = xmalloc(n);
	snprintf(s, n, "%s/%s", a, b);
	return s;
}

bool gitrev_checkout(const char *file, const char *rev, struct gitrev *out)
{
	memset(out, 0, sizeof *out);
	char *real = realpath(file, NULL);
	if (!real) {
		diag_plain("cannot read '%s': %s", file, strerror(errno));
		return false;
	}
	char *dir = xstrdup(real);
	*strrchr(dir, '/') = '\0';
	char *top = NULL;
	char *const toplevel[] = { "git", "-C", dir[0] ? dir : "/", "rev-parse", "--show-toplevel", NULL };
	int rc = run(toplevel, &top);
	free(dir);
	size_t n = top ? strlen(top) : 0;
	if (rc != 0 || !n || strncmp(real, top, n) != 0 || real[n] != '/') {
		diag_plain(rc < 0 ? "--git: cannot run git" : "--git: '%s' is not in a git work tree", file);
		free(real);
		free(top);
		return false;
	}
	const char *rel = real + n + 1;
	const char *tmp = getenv("TMPDIR");
	char *templ = joined(tmp && *tmp ? tmp : "/tmp", "portc-diff-XXXXXX");
	if (!mkdtemp(templ)) {
		diag_plain("--git: cannot make a temporary directory: %s", strerror(errno));
		free(templ);
		free(real);
		free(top);
		return false;
	}
	/* by its real path: imports are found from their importer's, and
	 * the names shown are cut from this one */
	out->dir = realpath(templ, NULL);
	if (!out->dir)
		out->dir = xstrdup(templ);
	free(templ);
	out->tree = joined(out->dir, "tree");
	char *tar = joined(out->dir, "tree.tar");
	bool ok = mkdir(out->tree, 0700) == 0;
	char *const archive[] = { "git", "-C", top, "archive", "--format=tar", "-o", tar, "--end-of-options",
				  (char *)rev, NULL };
	char *const untar[] = { "tar", "-x", "-f", tar, "-C", out->tree, NULL };
	if (ok && run(archive, NULL) != 0) {
		diag_plain("--git: git archive could not give the tree of '%s'", rev);
		ok = false;
	}
	if (ok && run(untar, NULL) != 0) {
		diag_plain("--git: cannot unpack the tree of '%s'", rev);
		ok = false;
	}
	unlink(tar);
	free(tar);
	if (ok) {
		out->path = joined(out->tree, rel);
		if (access(out->path, R_OK) != 0) {
			diag_plain("--git: '%s' is not in revision '%s'", rel, rev);
			ok = false;
		}
		size_t m = strlen(rev) + 2;
		out->shown_as = xmalloc(m);
		snprintf(out->shown_as, m, "%s:", rev);
	}
	free(real);
	free(top);
	if (!ok)
		gitrev_free(out);
	return ok;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void gitrev_free(struct gitrev *g)
{
	if (g->dir)
		nftw(g->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(g->dir);
	free(g->tree);
	free(g->path);
	free(g->shown_as);
	memset(g, 0, sizeof *g);
}
