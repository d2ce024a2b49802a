/* load.c - reading files and following imports.
 *
 * An import is looked up in the importing file's directory, then in each
 * -I directory, then in each $PORTC_PATH entry, then in the stdlib. Every
 * file is loaded once (by canonical path); an import cycle is an error.
 * Files are kept imports-first, so a definition in a library comes before
 * one in the file that imports it. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "unit.h"

#ifndef PORTC_STDLIB_DIR
#define PORTC_STDLIB_DIR "/usr/local/share/portc/stdlib"
#endif

/* No policy comes near this; it keeps a stray huge file from eating memory. */
#define MAX_FILE_SIZE ((size_t)64 << 20)
/* Imports deeper than this are a cycle we failed to see or a generated
 * monster; either way, stop. */
#define MAX_IMPORT_DEPTH 64

void unit_init(struct unit *u, struct diag *d, const struct unit_opts *opts)
{
	memset(u, 0, sizeof *u);
	u->arena = arena_new();
	u->diag = d;
	if (opts)
		u->opts = *opts;
	symtab_init(u->arena, &u->syms);
	symtab_init(u->arena, &u->policies);
}

void unit_free(struct unit *u)
{
	arena_free(u->arena);
	u->arena = NULL;
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *exe_relative(const char *rel)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	size_t len = strlen(exe) + strlen(rel) + 2;
	char *p = xmalloc(len);
	snprintf(p, len, "%s/%s", exe, rel);
	char *real = realpath(p, NULL);
	free(p);
	if (real && !is_dir(real)) {
		free(real);
		real = NULL;
	}
	return real;
}

const char *load_stdlib_dir(void)
{
	static char *dir;
	static bool done;
	if (done)
		return dir;
	done = true;
	/* A relocated install (prefix/bin/portc next to prefix/share), the
	 * configured install directory, then a build tree (build/portc next to
	 * stdlib/). */
	dir = exe_relative("../share/portc/stdlib");
	if (!dir && is_dir(PORTC_STDLIB_DIR))
		dir = xstrdup(PORTC_STDLIB_DIR);
	if (!dir)
		dir = exe_relative("../stdlib");
	/* shown in diagnostics and notes: relative to here when it is below */
	char cwd[PATH_MAX];
	size_t n;
	if (dir && getcwd(cwd, sizeof cwd) && (n = strlen(cwd)) > 1 &&
	    strncmp(dir, cwd, n) == 0 && dir[n] == '/')
		memmove(dir, dir + n + 1, strlen(dir + n + 1) + 1);
	return dir;
}

size_t load_search_path(const struct unit *u, const char ***dirs)
{
	size_t cap = u->opts.nincdirs + 16, n = 0;
	const char **v = arena_calloc(u->arena, cap, sizeof *v);
	for (size_t i = 0; i < u->opts.nincdirs; i++)
		v[n++] = u->opts.incdirs[i];
	const char *env = getenv("PORTC_PATH");
	if (env && *env) {
		char *copy = arena_strdup(u->arena, env);
		for (char *tok = strtok(copy, ":"); tok; tok = strtok(NULL, ":")) {
			if (!*tok)
				continue;
			if (n == cap) {
				v = arena_realloc(u->arena, v, cap * sizeof *v, 2 * cap * sizeof *v);
				cap *= 2;
			}
			v[n++] = tok;
		}
	}
	const char *std = load_stdlib_dir();
	if (std) {
		if (n == cap) {
			v = arena_realloc(u->arena, v, cap * sizeof *v, (cap + 1) * sizeof *v);
			cap++;
		}
		v[n++] = std;
	}
	*dirs = v;
	return n;
}

struct loader {
	struct unit *u;
	const char **dirs;
	size_t ndirs;
	const char *stack[MAX_IMPORT_DEPTH + 1];	/* realpaths being loaded */
	const char *names[MAX_IMPORT_DEPTH + 1];	/* and their names as shown */
	struct node *via[MAX_IMPORT_DEPTH + 1];	/* the import that led to each */
	size_t depth;
	struct source **loaded;
	size_t nloaded, cap;
};

static struct source *find_loaded(struct loader *l, const char *real)
{
	for (size_t i = 0; i < l->nloaded; i++)
		if (strcmp(l->loaded[i]->realpath, real) == 0)
			return l->loaded[i];
	return NULL;
}

static void add_file(struct unit *u, struct ast_file *f)
{
	if (u->nfiles == u->files_cap) {
		size_t nc = u->files_cap ? u->files_cap * 2 : 8;
		u->files = arena_realloc(u->arena, u->files, u->files_cap * sizeof *u->files,
					 nc * sizeof *u->files);
		u->files_cap = nc;
	}
	u->files[u->nfiles++] = f;
}

static char *join(struct arena *a, const char *dir, const char *rel)
{
	if (!dir || !*dir)
		return arena_strdup(a, rel);
	return arena_printf(a, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", rel);
}

static char *dir_of(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return arena_strdup(a, ".");
	if (slash == path)
		return arena_strdup(a, "/");
	return arena_strndup(a, path, (size_t)(slash - path));
}

static bool load_file(struct loader *l, const char *path, struct node *via);

/* Finds the file an import names: the importer's directory first, then
 * the search path (unless the import is explicitly relative or absolute). */
static bool resolve_import(struct loader *l, struct node *imp, const char *importer,
			   const char **found)
{
	struct unit *u = l->u;
	const char *rel = imp->u.import.path;
	if (rel[0] == '\0') {
		diag_error(u->diag, imp->loc, "empty import path");
		return false;
	}
	bool has_ext = str_has_suffix(rel, ".pol");
	const char *name = has_ext ? rel : arena_printf(u->arena, "%s.pol", rel);
	const char **bases = arena_calloc(u->arena, l->ndirs + 1, sizeof *bases);
	size_t nb = 0;
	if (rel[0] == '/') {
		bases[nb++] = "";
	} else {
		bases[nb++] = dir_of(u->arena, importer);
		if (strncmp(rel, "./", 2) != 0 && strncmp(rel, "../", 3) != 0)
			for (size_t i = 0; i < l->ndirs; i++)
				bases[nb++] = l->dirs[i];
	}
	struct strbuf tried = { 0 };
	sb_init(&tried);
	bool ok = false;
	for (size_t i = 0; i < nb; i++) {
		const char *cand = join(u->arena, bases[i], name);
		const char *bare = join(u->arena, bases[i], rel);
		if (is_dir(cand) || (!has_ext && is_dir(bare) && access(cand, F_OK) != 0)) {
			diag_error(u->diag, imp->loc, "cannot import '%s': it is a directory",
				   is_dir(cand) ? cand : bare);
			sb_free(&tried);
			return false;
		}
		if (access(cand, F_OK) == 0) {
			*found = cand;
			ok = true;
			break;
		}
		sb_printf(&tried, "%s%s", i ? ", " : "", cand);
	}
	if (!ok) {
		diag_error(u->diag, imp->loc, "cannot find import \"%s\"", rel);
		diag_note(u->diag, imp->loc, "searched: %s", tried.s);
		if (!load_stdlib_dir())
			diag_note(u->diag, imp->loc, "no stdlib directory was found; pass -I DIR or set PORTC_PATH");
	}
	sb_free(&tried);
	return ok;
}

/* The name path is shown by (unit_opts.shown_dir). */
static const char *shown_name(struct unit *u, const char *path)
{
	const char *dir = u->opts.shown_dir;
	size_t n = dir ? strlen(dir) : 0;
	if (!n || strncmp(path, dir, n) != 0 || path[n] != '/')
		return path;
	struct strbuf sb = { 0 };
	sb_init(&sb);
	sb_printf(&sb, "%s%s", u->opts.shown_as, path + n + 1);
	const char *name = arena_strdup(u->arena, sb.s);
	sb_free(&sb);
	return name;
}

/* The path a file shown as name was opened by: shown_name undone, so
 * that its imports are found beside it. */
static const char *opened_path(struct unit *u, const char *name)
{
	const char *as = u->opts.shown_as;
	size_t n = as ? strlen(as) : 0;
	if (!u->opts.shown_dir || !n || strncmp(name, as, n) != 0)
		return name;
	return arena_printf(u->arena, "%s/%s", u->opts.shown_dir, name + n);
}

static bool load_imports(struct loader *l, struct ast_file *f)
{
	bool ok = true;
	for (size_t i = 0; i < f->items.n; i++) {
		struct node *imp = f->items.v[i];
		if (imp->kind != N_IMPORT)
			continue;
		const char *path;
		if (!resolve_import(l, imp, opened_path(l->u, f->src->name), &path)) {
			ok = false;
			continue;
		}
		if (!load_file(l, path, imp))
			ok = false;
	}
	return ok;
}

static bool load_file(struct loader *l, const char *path, struct node *via)
{
	struct unit *u = l->u;
	char *real = realpath(path, NULL);
	if (!real) {
		int e = errno;
		if (via)
			diag_error(u->diag, via->loc, "cannot read '%s': %s", path, strerror(e));
		else {
			diag_plain("cannot read '%s': %s", path, strerror(e));
			u->root_unreadable = true;
		}
		return false;
	}
	const char *realp = arena_strdup(u->arena, real);
	free(real);
	for (size_t i = 0; i < l->depth; i++) {
		if (strcmp(l->stack[i], realp) == 0) {
			struct strbuf chain = { 0 };
			sb_init(&chain);
			for (size_t j = i; j < l->depth; j++)
				sb_printf(&chain, "%s -> ", l->names[j]);
			sb_puts(&chain, path);
			diag_error(u->diag, via->loc, "import cycle: %s", chain.s);
			sb_free(&chain);
			for (size_t j = i + 1; j < l->depth; j++)
				diag_note(u->diag, l->via[j]->loc, "'%s' is imported here",
					  l->via[j]->u.import.path);
			return false;
		}
	}
	struct source *done = find_loaded(l, realp);
	if (done) {
		if (via)
			via->u.import.target = done;
		return true;
	}
	if (l->depth >= MAX_IMPORT_DEPTH) {
		diag_error(u->diag, via->loc, "imports nested too deeply (more than %d levels)",
			   MAX_IMPORT_DEPTH);
		return false;
	}
	char *text;
	size_t len;
	int e = read_file(path, MAX_FILE_SIZE, &text, &len);
	if (e) {
		const char *why = e == EFBIG ? "file too large" : strerror(e);
		if (e == EISDIR)
			why = "it is a directory";
		if (via) {
			diag_error(u->diag, via->loc, "cannot import '%s': %s", path, why);
		} else {
			diag_plain("cannot read '%s': %s", path, why);
			u->root_unreadable = true;
		}
		return false;
	}
	struct source *src = source_new(u->arena, shown_name(u, path), realp, text, len);
	free(text);
	if (via)
		via->u.import.target = src;
	if (l->nloaded == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		l->loaded = xrealloc(l->loaded, nc * sizeof *l->loaded);
		l->cap = nc;
	}
	l->loaded[l->nloaded++] = src;
	struct ast_file *f = parse_source(u->arena, u->diag, src);
	l->stack[l->depth] = realp;
	l->names[l->depth] = src->name;
	l->via[l->depth] = via;
	l->depth++;
	bool ok = load_imports(l, f);
	l->depth--;
	add_file(u, f);
	return ok;
}

bool load_text(struct unit *u, const char *name, const char *text, size_t len)
{
	struct loader l = { .u = u };
	l.ndirs = load_search_path(u, &l.dirs);
	size_t errors = u->diag->errors;
	struct source *src = source_new(u->arena, name, name, text, len);
	struct ast_file *f = parse_source(u->arena, u->diag, src);
	l.stack[0] = name;
	l.names[0] = name;
	l.depth = 1;
	load_imports(&l, f);
	add_file(u, f);
	free(l.loaded);
	return u->diag->errors == errors;
}

bool load_unit(struct unit *u, const char *path)
{
	/* "-": the policy on standard input, named <stdin> in diagnostics;
	 * its imports are found from the working directory */
	if (strcmp(path, "-") == 0) {
		char *text;
		size_t len;
		int e = read_file("/dev/stdin", MAX_FILE_SIZE, &text, &len);
		if (e) {
			diag_plain("cannot read standard input: %s", e == EFBIG ? "too large" : strerror(e));
			u->root_unreadable = true;
			return false;
		}
		bool ok = load_text(u, "<stdin>", text, len);
		free(text);
		return ok;
	}
	struct loader l = { .u = u };
	l.ndirs = load_search_path(u, &l.dirs);
	size_t errors = u->diag->errors;
	load_file(&l, path, NULL);
	free(l.loaded);
	return u->diag->errors == errors && !u->root_unreadable;
}
