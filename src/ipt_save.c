/* ipt_save.c - iptables-save output read into lines and chains, and whose
 * they are (ipt_save.h). */
#include "ipt_save.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

const char *const ipt_tools[2] = { "iptables", "ip6tables" };

/* ---- listing ----------------------------------------------------------------------- */

/* One program for the three listings, so that a scratch namespace holds
 * the loader's result while they are taken. The loader's path is an
 * argument ($1), never script text. */
static const char list_script[] =
	"set -e\n"
	"if [ -n \"$1\" ]; then sh \"$1\" >&2; fi\n"
	"iptables-save\nprintf '\\0'\nip6tables-save\nprintf '\\0'\nipset save\n";

int ipt_list(const char *loader, struct ipt_listing *l, char **err)
{
	memset(l, 0, sizeof *l);
	char *out = NULL;
	size_t len = 0;
	char *const argv[] = { "sh", "-c", (char *)list_script, "portc", (char *)(loader ? loader : ""), NULL };
	struct proc_opts po = { .out = &out, .out_len = &len, .err = err, .new_netns = loader != NULL };
	int rc = proc_run(argv, &po);
	if (rc != 0) {
		free(out);
		return rc;
	}
	const char *p = out, *end = out + len;
	char **dst[3] = { &l->save[0], &l->save[1], &l->sets };
	for (int i = 0; i < 3; i++) {
		const char *z = memchr(p, 0, (size_t)(end - p));
		size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
		*dst[i] = xmalloc(n + 1);
		memcpy(*dst[i], p, n);
		(*dst[i])[n] = 0;
		p = z ? z + 1 : end;
	}
	free(out);
	return 0;
}

void ipt_listing_free(struct ipt_listing *l)
{
	free(l->save[0]);
	free(l->save[1]);
	free(l->sets);
	memset(l, 0, sizeof *l);
}

/* ---- words ------------------------------------------------------------------------- */

/* A line of iptables-save or ipset save in words: a double-quoted word
 * ("a b", with \" and \\ inside) is one. */
void ipt_split(const char *s, size_t len, struct words *w)
{
	w->v = NULL;
	w->n = 0;
	size_t i = 0, cap = 0;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= len)
			break;
		struct strbuf sb = { 0 };
		sb_init(&sb);
		if (s[i] == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < len)
					i++;
				sb_putc(&sb, s[i]);
			}
			i++;
		} else {
			for (; i < len && s[i] != ' ' && s[i] != '\t'; i++)
				sb_putc(&sb, s[i]);
		}
		if (w->n == cap) {
			cap = cap ? 2 * cap : 16;
			w->v = xrealloc(w->v, cap * sizeof *w->v);
		}
		w->v[w->n++] = sb_detach(&sb);
	}
}

void ipt_words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
}

/* ---- the listing's lines ---------------------------------------------------------------- */

bool ipt_ours(const struct listing *L, const char *chain)
{
	return strncmp(chain, L->prefix, strlen(L->prefix)) == 0;
}

bool ipt_builtin(const char *table, const char *chain)
{
	if (strcmp(table, "filter") == 0)
		return !strcmp(chain, "INPUT") || !strcmp(chain, "OUTPUT") || !strcmp(chain, "FORWARD");
	return strcmp(table, "mangle") == 0 &&
	       (!strcmp(chain, "PREROUTING") || !strcmp(chain, "INPUT") || !strcmp(chain, "FORWARD") ||
		!strcmp(chain, "OUTPUT") || !strcmp(chain, "POSTROUTING"));
}

static bool read_save(struct listing *L, int fam, const char *text, char **why)
{
	const char *table = NULL;
	char last[128] = "";
	long pos = 0;
	size_t lineno = 0;
	for (const char *s = text; s && *s;) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		lineno++;
		if (len == 0 || s[0] == '#' || (len == 6 && strncmp(s, "COMMIT", 6) == 0)) {
			/* nothing */
		} else if (s[0] == '*') {
			/* portc writes to these two; the rest (nat, raw) are others' */
			table = len == 7 && !strncmp(s, "*filter", 7) ? "filter"
				: len == 7 && !strncmp(s, "*mangle", 7) ? "mangle" : "";
			last[0] = 0;
		} else if (s[0] == ':' && table) {
			size_t n = strcspn(s + 1, " ");
			char *name = arena_strndup(L->ar, s + 1, n < len - 1 ? n : len - 1);
			bool user = n + 3 <= len && s[n + 2] == '-' && (n + 3 == len || s[n + 3] == ' ');
			if (*table && user)
				ARR_PUSH(L->ar, L->chains, ((struct chain_decl){ fam, table, name, ipt_ours(L, name), false }));
		} else if (len > 3 && strncmp(s, "-A ", 3) == 0 && table) {
			size_t n = strcspn(s + 3, " ");
			if (n > len - 3)
				n = len - 3;
			if (n >= sizeof last) {
				s = e ? e + 1 : NULL;
				continue;
			}
			if (strlen(last) != n || strncmp(last, s + 3, n) != 0) {
				memcpy(last, s + 3, n);
				last[n] = 0;
				pos = 0;
			}
			pos++;	/* iptables-save writes a chain's rules together */
			if (*table) {
				struct line ln = { fam, table, arena_strdup(L->ar, last), arena_strndup(L->ar, s, len), pos,
						   { 0 } };
				ipt_split(s + 3 + n, len - 3 - n, &ln.w);
				ARR_PUSH(L->ar, L->lines, ln);
			}
		} else {
			struct strbuf sb = { 0 };
			sb_init(&sb);
			sb_printf(&sb, "%s-save wrote line %zu, which is not iptables-save's", ipt_tools[fam], lineno);
			*why = sb_detach(&sb);
			return false;
		}
		s = e ? e + 1 : NULL;
	}
	return true;
}

void ipt_lines_free(struct listing *L)
{
	for (size_t i = 0; i < L->lines.n; i++)
		ipt_words_free(&L->lines.v[i].w);
	arena_free(L->ar);
}

bool ipt_listing_read(const char *stem, const struct ipt_listing *l, struct listing *L, char **why)
{
	memset(L, 0, sizeof *L);
	L->stem = stem;
	L->ar = arena_new();
	snprintf(L->prefix, sizeof L->prefix, "PORTC-%s-", stem);
	for (int k = 0; k < 2; k++)
		if (!read_save(L, k, l->save[k] ? l->save[k] : "", why)) {
			ipt_lines_free(L);
			return false;
		}
	return true;
}

/* The chain a rule's -j or -g names, or NULL. */
const char *ipt_target(const struct line *ln, bool *go)
{
	/* a free-text value ("--comment -j") is never the target's flag */
	static const char *const text[] = { "--comment", "--string", "--hex-string", "--log-prefix", "--nflog-prefix" };
	for (size_t i = 0; i + 1 < ln->w.n; i++) {
		const char *t = ln->w.v[i];
		for (size_t k = 0; k < ARRAY_LEN(text); k++)
			if (strcmp(t, text[k]) == 0) {
				i++;
				goto next;
			}
		if (!strcmp(t, "-j") || !strcmp(t, "-g")) {
			*go = t[1] == 'g';
			return ln->w.v[i + 1];
		}
next:;
	}
	return NULL;
}

bool ipt_leads_to_ours(const struct listing *L, const struct line *ln)
{
	bool go;
	const char *t = ipt_target(ln, &go);
	return t && ipt_ours(L, t);
}

/* The rules of a built-in chain that lead to the policy's: from its first
 * to the last that jumps to one. */
void ipt_builtin_span(const struct listing *L, int fam, const char *table, const char *chain, size_t *first,
			 size_t *last)
{
	*first = *last = SIZE_MAX;
	for (size_t i = 0; i < L->lines.n; i++) {
		const struct line *ln = &L->lines.v[i];
		if (ln->fam != fam || strcmp(ln->table, table) != 0 || strcmp(ln->chain, chain) != 0)
			continue;
		if (*first == SIZE_MAX)
			*first = i;
		if (ipt_leads_to_ours(L, ln))
			*last = i;
	}
	if (*last == SIZE_MAX)
		*first = SIZE_MAX;
}

static struct chain_decl *decl_of(struct listing *L, int fam, const char *table, const char *name)
{
	for (size_t i = 0; i < L->chains.n; i++) {
		struct chain_decl *c = &L->chains.v[i];
		if (c->fam == fam && strcmp(c->table, table) == 0 && strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/* Someone else's chains that the policy's part jumps to (a chain a hand
 * inserted a jump to, in the policy's chain or ahead of it in INPUT): they
 * decide some of its packets, so they are part of what verify compares. */
void ipt_mark_needed(struct listing *L)
{
	static const char *const builtins[] = { "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING" };
	bool *span = xcalloc(L->lines.n + 1, sizeof *span);
	for (int k = 0; k < 2; k++)
		for (int tb = 0; tb < 2; tb++)
			for (size_t b = 0; b < ARRAY_LEN(builtins); b++) {
				const char *table = tb ? "mangle" : "filter";
				size_t first, last;
				if (!ipt_builtin(table, builtins[b]))
					continue;
				ipt_builtin_span(L, k, table, builtins[b], &first, &last);
				for (size_t i = first; first != SIZE_MAX && i <= last; i++)
					span[i] = true;
			}
	for (bool changed = true; changed;) {
		changed = false;
		const char *cur = NULL;
		const struct chain_decl *cd = NULL;
		for (size_t i = 0; i < L->lines.n; i++) {
			const struct line *ln = &L->lines.v[i];
			if (!cur || strcmp(cur, ln->chain) != 0) {
				cur = ln->chain;
				cd = decl_of(L, ln->fam, ln->table, ln->chain);
			}
			if (!span[i] && !(cd && (cd->ours || cd->needed)))
				continue;
			bool go;
			const char *t = ipt_target(ln, &go);
			struct chain_decl *d = t ? decl_of(L, ln->fam, ln->table, t) : NULL;
			if (d && !d->ours && !d->needed) {
				d->needed = true;
				changed = true;
			}
		}
	}
	free(span);
}


bool ipt_sets_each(const char *stem, const char *text, ipt_set_line fn, void *ctx, char **why)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "pc-%s-", stem);
	bool ours_now = false, ok = true;
	size_t lineno = 0;
	for (const char *s = text ? text : ""; ok && s && *s;) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		struct words w;
		ipt_split(s, len, &w);
		lineno++;
		bool create = w.n >= 3 && !strcmp(w.v[0], "create");
		if (create)
			ours_now = strncmp(w.v[1], prefix, strlen(prefix)) == 0;
		if ((create || (w.n >= 3 && !strcmp(w.v[0], "add"))) && ours_now) {
			ok = fn(ctx, &w, create);
		} else if (w.n && !create && strcmp(w.v[0], "add") != 0) {
			struct strbuf sb = { 0 };
			sb_init(&sb);
			sb_printf(&sb, "ipset save wrote line %zu, which is not a create or an add", lineno);
			*why = sb_detach(&sb);
			ok = false;
		}
		ipt_words_free(&w);
		s = e ? e + 1 : NULL;
	}
	return ok;
}
