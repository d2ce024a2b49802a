/* diag.c - queued diagnostics, printed GCC-style with caret lines. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

const struct warn_info warn_table[] = {
#define W(id, name, level, on, summary) { name, DIAG_##level, on, summary },
#include "warnings.def"
#undef W
};

int warn_lookup(const char *name)
{
	for (int i = 0; i < W__COUNT; i++)
		if (strcmp(warn_table[i].name, name) == 0)
			return i;
	return W_NONE;
}

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof *d);
	memset(d->opts.enabled, -1, sizeof d->opts.enabled);
}

static void free_record(struct diag_record *r)
{
	for (size_t i = 0; i < r->nnotes; i++)
		free_record(r->notes[i]);
	free(r->notes);
	free(r->msg);
	free(r->fixit);
	free(r->suppressed);
	free(r->witness);
	free(r->witness_text);
	free(r);
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->nrecs; i++)
		free_record(d->recs[i]);
	free(d->recs);
	free(d->seen);
	d->recs = NULL;
	d->seen = NULL;
	d->nrecs = d->cap = d->nseen = 0;
}

bool diag_parse_option(struct diag_opts *o, const char *arg)
{
	if (strcmp(arg, "-Werror") == 0) {
		o->werror = true;
		return true;
	}
	if (strcmp(arg, "-Wall") == 0) {
		for (int i = 0; i < W__COUNT; i++)
			if (o->enabled[i] < 0)
				o->enabled[i] = 1;
		return true;
	}
	/* -Werror=NAME, -Wno-NAME, -WNAME: enable (and maybe promote) or disable */
	const char *name = arg + 2;
	bool promote = strncmp(arg, "-Werror=", 8) == 0, off = strncmp(arg, "-Wno-", 5) == 0;
	if (promote)
		name = arg + 8;
	else if (off)
		name = arg + 5;
	else if (strncmp(arg, "-W", 2) != 0)
		return false;
	int w = warn_lookup(name);
	if (w == W_NONE)
		return false;
	o->enabled[w] = off ? 0 : 1;
	if (promote)
		o->as_error[w] = 1;
	return true;
}

bool diag_enabled(const struct diag *d, enum warn_id w)
{
	if (d->opts.enabled[w] >= 0)
		return d->opts.enabled[w] != 0;
	return warn_table[w].on;
}

static char *vformat(const char *fmt, va_list ap)
{
	struct strbuf sb = { 0 };
	sb_vprintf(&sb, fmt, ap);
	return sb_detach(&sb);
}

static bool same_record(const struct diag_record *a, const struct diag_record *b)
{
	return a->level == b->level && a->warn == b->warn && a->loc.src == b->loc.src &&
	       a->loc.line == b->loc.line && a->loc.col == b->loc.col &&
	       strcmp(a->msg, b->msg) == 0;
}

static size_t record_hash(const struct diag_record *r)
{
	size_t h = 1469598103934665603u;
	for (const char *s = r->msg; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	h ^= (uintptr_t)r->loc.src + r->loc.line * 31u + r->loc.col * 1009u;
	h ^= (size_t)r->level * 7919u + (size_t)r->warn * 104729u;
	return h * 0x9E3779B97F4A7C15u;
}

/* The slot of r in the hash: where an equal record sits, or a free one. */
static size_t *seen_slot(struct diag *d, const struct diag_record *r)
{
	size_t mask = d->nseen - 1;
	for (size_t k = record_hash(r) & mask;; k = (k + 1) & mask)
		if (d->seen[k] == 0 || same_record(d->recs[d->seen[k] - 1], r))
			return &d->seen[k];
}

static struct diag_record *add(struct diag *d, enum diag_level level, int warn,
			       struct loc loc, char *msg)
{
	struct diag_record *r = xcalloc(1, sizeof *r);
	r->level = level;
	r->warn = warn;
	r->loc = loc;
	r->msg = msg;
	/* The same fact found twice (a ruleset used twice, say) is said once;
	 * a hash, since lint on a large policy makes many records. */
	if (2 * (d->nrecs + 1) > d->nseen) {
		free(d->seen);
		d->nseen = d->nseen ? 2 * d->nseen : 64;
		d->seen = xcalloc(d->nseen, sizeof *d->seen);
		for (size_t i = 0; i < d->nrecs; i++)
			*seen_slot(d, d->recs[i]) = i + 1;
	}
	size_t *slot = seen_slot(d, r);
	if (*slot) {
		free_record(r);
		d->last_dropped = true;
		return NULL;
	}
	if (d->nrecs == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->recs = xrealloc(d->recs, d->cap * sizeof *d->recs);
	}
	d->recs[d->nrecs++] = r;
	*slot = d->nrecs;
	d->last_dropped = false;
	if (level == DIAG_ERROR)
		d->errors++;
	else if (level == DIAG_WARNING)
		d->warnings++;
	return r;
}

void diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
{
	/* Past the cap an error still fails the run, but is not shown: after
	 * twenty, the rest are mostly one mistake seen again. Promoted
	 * warnings (lint -Werror) are findings, each wanted, and not capped. */
	if (d->shown_errors >= DIAG_MAX_ERRORS) {
		if (d->shown_errors == DIAG_MAX_ERRORS) {
			d->last_dropped = false;
			diag_note(d, loc, "too many errors (%d shown); stopping here", DIAG_MAX_ERRORS);
			d->shown_errors++;
		}
		d->errors++;
		d->last_dropped = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	if (add(d, DIAG_ERROR, W_NONE, loc, msg))
		d->shown_errors++;
}

struct diag_record *diag_warn(struct diag *d, enum warn_id w, struct loc loc, const char *fmt, ...)
{
	if (!diag_enabled(d, w)) {
		d->last_dropped = true;
		return NULL;
	}
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	enum diag_level level = warn_table[w].level;
	bool promote = level == DIAG_WARNING && (d->opts.werror || d->opts.as_error[w]);
	struct diag_record *r = add(d, promote ? DIAG_ERROR : level, w, loc, msg);
	if (r)
		r->promoted = promote;
	return r;
}

void diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
{
	if (d->last_dropped || d->nrecs == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *msg = vformat(fmt, ap);
	va_end(ap);
	struct diag_record *parent = d->recs[d->nrecs - 1];
	struct diag_record *n = xcalloc(1, sizeof *n);
	n->level = DIAG_NOTE;
	n->warn = W_NONE;
	n->loc = loc;
	n->msg = msg;
	parent->notes = xrealloc(parent->notes, (parent->nnotes + 1) * sizeof *parent->notes);
	parent->notes[parent->nnotes++] = n;
}

void diag_fixit(struct diag *d, const char *replacement)
{
	if (d->last_dropped || d->nrecs == 0)
		return;
	struct diag_record *r = d->recs[d->nrecs - 1];
	free(r->fixit);
	r->fixit = xstrdup(replacement);
}

void diag_witness(struct diag *d, const struct witness *w, size_t size, const char *text)
{
	if (d->last_dropped || d->nrecs == 0)
		return;
	struct diag_record *r = d->recs[d->nrecs - 1];
	free(r->witness);
	r->witness = xmalloc(size);
	memcpy(r->witness, w, size);
	free(r->witness_text);
	r->witness_text = xstrdup(text);
}

/* GCC's colours: bold red errors, bold magenta warnings, bold cyan notes,
 * bold green carets. */
#define C_BOLD "\033[1m"
#define C_RESET "\033[m"
static const char *level_color[] = { "\033[01;36m", "\033[01;35m", "\033[01;31m" };
static const char *level_name[] = { "note", "warning", "error" };
#define C_CARET "\033[01;32m"

/* Characters of a line are echoed as they are, except control bytes, which
 * would let a policy file move the cursor or recolour the terminal. */
static void put_sanitized(FILE *fp, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || c >= 0x20 || c == 0)
			fputc(c == 0 ? ' ' : c, fp);
		else
			fputc('?', fp);
	}
}

/* The gutter of a caret or fix-it line, then blanks up to the column: the
 * line's own tabs are kept so the caret lines up however the terminal
 * expands them. */
static void pad_gutter(FILE *fp, int gw, size_t from, const char *line, size_t start, size_t to)
{
	fprintf(fp, " %*s | %s", gw, "", from ? "   " : "");
	for (size_t i = from; i < start && i < to; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c & 0xC0) == 0x80)
			continue;
		fputc(c == '\t' ? '\t' : ' ', fp);
	}
}

static void print_source_line(const struct diag *d, const struct diag_record *r, FILE *fp)
{
	const struct loc *l = &r->loc;
	if (!loc_valid(*l) || !l->src->text)
		return;
	size_t len;
	const char *line = source_line(l->src, l->line, &len);
	char gutter[16];
	int gw = snprintf(gutter, sizeof gutter, "%u", l->line);
	/* Very long lines (a 1 MB line) are cut around the caret. */
	size_t start = source_col_offset(line, len, l->col);
	size_t from = 0;
	if (start > 200)
		from = start - 80;
	size_t to = len - from > 400 ? from + 400 : len;
	fprintf(fp, " %s | %s", gutter, from ? "..." : "");
	put_sanitized(fp, line + from, to - from);
	fprintf(fp, "%s\n", to < len ? "..." : "");
	pad_gutter(fp, gw, from, line, start, to);
	uint32_t width = 1;
	if (l->end_line == l->line && l->end_col > l->col)
		width = l->end_col - l->col;
	else if (l->end_line > l->line) {
		/* Underline to the end of the first line. */
		uint32_t chars = 0;
		for (size_t i = start; i < len; i++)
			if (((unsigned char)line[i] & 0xC0) != 0x80)
				chars++;
		width = chars ? chars : 1;
	}
	if (width > 400)
		width = 400;
	if (d->opts.color)
		fputs(C_CARET, fp);
	fputc('^', fp);
	for (uint32_t i = 1; i < width; i++)
		fputc('~', fp);
	if (d->opts.color)
		fputs(C_RESET, fp);
	fputc('\n', fp);
	if (r->fixit) {
		pad_gutter(fp, gw, from, line, start, to);
		if (d->opts.color)
			fputs(C_CARET, fp);
		put_sanitized(fp, r->fixit, strlen(r->fixit));
		if (d->opts.color)
			fputs(C_RESET, fp);
		fputc('\n', fp);
	}
}

void diag_print_record(const struct diag *d, const struct diag_record *r, FILE *fp)
{
	bool color = d->opts.color;
	if (color)
		fputs(C_BOLD, fp);
	if (loc_valid(r->loc))
		fprintf(fp, "%s:%u:%u: ", r->loc.src->name, r->loc.line, r->loc.col);
	else
		fputs("portc: ", fp);
	if (color)
		fprintf(fp, "%s%s:" C_RESET " ", level_color[r->level], level_name[r->level]);
	else
		fprintf(fp, "%s: ", level_name[r->level]);
	put_sanitized(fp, r->msg, strlen(r->msg));
	if (r->warn != W_NONE) {
		const char *name = warn_table[r->warn].name;
		if (r->promoted)
			fprintf(fp, " [-Werror=%s]", name);
		else
			fprintf(fp, " [-W%s]", name);
	}
	fputc('\n', fp);
	print_source_line(d, r, fp);
	for (size_t i = 0; i < r->nnotes; i++)
		diag_print_record(d, r->notes[i], fp);
	if (r->witness_text) {
		if (loc_valid(r->loc))
			fprintf(fp, "%s:%u:%u: ", r->loc.src->name, r->loc.line, r->loc.col);
		fprintf(fp, "%snote:%s for example: %s\n", color ? level_color[DIAG_NOTE] : "",
			color ? C_RESET : "", r->witness_text);
	}
}

void diag_flush(struct diag *d, FILE *fp)
{
	for (; d->printed < d->nrecs; d->printed++)
		if (!d->recs[d->printed]->suppressed)
			diag_print_record(d, d->recs[d->printed], fp);
	fflush(fp);
}

bool diag_failed(const struct diag *d)
{
	return d->errors > 0;
}

void diag_plain(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("portc: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
