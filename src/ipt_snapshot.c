/* ipt_snapshot.c - the bundle that puts a policy's iptables chains and
 * ipsets back as they run now (ipt_table.h), for portc apply's rollback. */
#include "ipt_table.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "ipt_loader.h"
#include "ipt_save.h"

/* ---- the snapshot ------------------------------------------------------------------------ */

struct ipt_names {
	char **v;
	size_t n, cap;
};

static bool plain_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!n || n > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* Family k's chains of the policy, for iptables-restore --noflush: each
 * declared (which creates or flushes it) and filled; their shape, and
 * where the DSCP chain is jumped to from, into sh. */
static bool snap_chains(const struct listing *L, int k, struct strbuf *out, struct ipt_shape *sh)
{
	static const char *const tables[2] = { "mangle", "filter" };
	bool ok = true;
	for (int tb = 0; tb < 2; tb++) {
		bool any = false;
		for (size_t i = 0; i < L->chains.n; i++) {
			const struct chain_decl *c = &L->chains.v[i];
			if (!c->ours || c->fam != k || strcmp(c->table, tables[tb]) != 0)
				continue;
			if (!plain_name(c->name, 28)) {
				diag_plain("cannot snapshot chain '%s': not a name portc makes", c->name);
				ok = false;
			}
			if (!any)
				sb_printf(out, "*%s\n", tables[tb]);
			any = true;
			sb_printf(out, ":%s - [0:0]\n", c->name);
			for (int s = 0; s < IPT__COUNT; s++)
				if (!strcmp(c->name + strlen(L->prefix), ipt_chain_short[s]) && (s == IPT_DSCP) == (tb == 0))
					sh->chains[k] |= IPT_BIT(s);
		}
		for (size_t i = 0; i < L->lines.n; i++) {
			const struct line *ln = &L->lines.v[i];
			if (ln->fam != k || strcmp(ln->table, tables[tb]) != 0)
				continue;
			if (ipt_ours(L, ln->chain))
				sb_printf(out, "%s\n", ln->text);
			else if (tb == 0 && ipt_leads_to_ours(L, ln) && strstr(ln->text, "-dscp"))
				sh->dscp_from[k] |= !strcmp(ln->chain, "INPUT")	       ? IPT_DSCP_FROM_INPUT
						    : !strcmp(ln->chain, "POSTROUTING") ? IPT_DSCP_FROM_POSTROUTING
											: 0;
		}
		if (any)
			sb_puts(out, "COMMIT\n");
	}
	return ok;
}

struct sets_snap {
	struct listing *L;
	struct strbuf *out;
	struct ipt_names *names;
};

static bool snap_line(void *ctx, const struct words *w, bool create)
{
	struct sets_snap *c = ctx;
	if (!create) {
		sb_printf(c->out, "add %s_new", w->v[1]);
		for (size_t i = 2; i < w->n; i++)
			sb_printf(c->out, " %s", w->v[i]);
		sb_putc(c->out, '\n');
		return true;
	}
	if (!plain_name(w->v[1], 27)) {
		diag_plain("cannot snapshot set '%s': not a name portc makes", w->v[1]);
		return false;
	}
	char *nm = arena_strdup(c->L->ar, w->v[1]);
	ARR_PUSH(c->L->ar, *c->names, nm);
	struct strbuf opts = { 0 };
	sb_init(&opts);
	for (size_t i = 2; i < w->n; i++) {
		if (!strcmp(w->v[i], "initval") && i + 1 < w->n) {
			i++;	/* the kernel picks one for a new set */
			continue;
		}
		sb_printf(&opts, " %s", w->v[i]);
	}
	sb_printf(c->out, "create %s%s\ncreate %s_new%s\nflush %s_new\n", nm, opts.s, nm, opts.s, nm);
	sb_free(&opts);
	return true;
}

/* The policy's sets, for ipset restore: each filled under a new name and
 * swapped in, as a build's are; their names into names. */
static bool snap_sets(struct listing *L, const char *text, struct strbuf *out, struct ipt_names *names)
{
	struct sets_snap c = { L, out, names };
	char *why = NULL;
	if (!ipt_sets_each(L->stem, text, snap_line, &c, &why)) {
		if (why)
			diag_plain("cannot read the running sets for the snapshot: %s", why);
		free(why);
		return false;
	}
	for (size_t i = 0; i < names->n; i++)
		sb_printf(out, "swap %s_new %s\ndestroy %s_new\n", names->v[i], names->v[i], names->v[i]);
	return true;
}

static bool write_out(const char *path, const struct strbuf *sb)
{
	FILE *f = fopen(path, "we");
	bool w = f && fwrite(sb->s, 1, sb->len, f) == sb->len;
	w = f && fflush(f) == 0 && fsync(fileno(f)) == 0 && w;
	if (f && fclose(f) != 0)
		w = false;
	if (!w)
		diag_plain("cannot write the snapshot '%s': %s", path, strerror(errno ? errno : EIO));
	return w;
}

bool ipt_snapshot_write(const char *stem, const struct ipt_listing *l, const char *base)
{
	char *why = NULL;
	struct listing L;
	if (!ipt_listing_read(stem, l, &L, &why)) {
		diag_plain("cannot read the running rules for the snapshot: %s", why);
		free(why);
		return false;
	}
	static const char *const suffix[4] = { ".v4", ".v6", ".ipset", ".sh" };
	struct strbuf files[4];
	for (int i = 0; i < 4; i++) {
		sb_init(&files[i]);
		if (i < 3)
			sb_printf(&files[i], "# the rollback of policy %s's %s, written by portc apply\n", stem,
				  i < 2 ? "chains" : "sets");
	}
	struct ipt_shape sh = { .stem = stem };
	struct ipt_names names = { 0 };
	bool ok = snap_chains(&L, 0, &files[0], &sh);
	ok = snap_chains(&L, 1, &files[1], &sh) && ok;
	ok = ok && snap_sets(&L, l->sets ? l->sets : "", &files[2], &names);
	sh.sets = (const char *const *)names.v;
	sh.nsets = names.n;
	ipt_loader_write(&files[3], "# the rollback portc apply wrote: puts the chains and sets of a policy back as\n"
				    "# they were before it loaded another build\n", &sh);
	for (int i = 0; ok && i < 4; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s%s", base, suffix[i]);
		ok = write_out(path, &files[i]);
	}
	for (int i = 0; i < 4; i++)
		sb_free(&files[i]);
	ipt_lines_free(&L);
	return ok;
}
