/* source.c - line index over source text, comment lists, location helpers. */
#include "source.h"

#include <string.h>

#include "arena.h"

struct source *source_new(struct arena *a, const char *name, const char *realpath,
			  const char *text, size_t len)
{
	struct source *s = arena_alloc(a, sizeof *s);
	s->name = arena_strdup(a, name);
	s->realpath = realpath ? arena_strdup(a, realpath) : NULL;
	s->text = arena_strndup(a, text, len);
	s->len = len;
	uint32_t n = 1;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			n++;
	s->line_start = arena_calloc(a, n, sizeof *s->line_start);
	s->nlines = n;
	uint32_t k = 1;
	s->line_start[0] = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			s->line_start[k++] = (uint32_t)(i + 1);
	return s;
}

const char *source_line(const struct source *s, uint32_t line, size_t *len)
{
	if (line == 0 || line > s->nlines) {
		*len = 0;
		return "";
	}
	size_t start = s->line_start[line - 1];
	size_t end = line < s->nlines ? s->line_start[line] - 1 : s->len;
	/* NUL bytes end the printable part of a line: the terminal would
	 * otherwise show nothing useful after them. */
	const char *p = memchr(s->text + start, '\0', end - start);
	if (p)
		end = (size_t)(p - s->text);
	if (end > start && s->text[end - 1] == '\r')
		end--;
	*len = end - start;
	return s->text + start;
}

size_t source_col_offset(const char *line, size_t len, uint32_t col)
{
	size_t i = 0;
	for (uint32_t c = 1; c < col && i < len; c++) {
		i++;
		while (i < len && ((unsigned char)line[i] & 0xC0) == 0x80)
			i++;
	}
	return i;
}

void source_add_comment(struct arena *a, struct source *s, struct loc loc, const char *text)
{
	if (s->ncomments == s->comments_cap) {
		size_t nc = s->comments_cap ? s->comments_cap * 2 : 16;
		s->comments = arena_realloc(a, s->comments, s->comments_cap * sizeof *s->comments,
					    nc * sizeof *s->comments);
		s->comments_cap = nc;
	}
	s->comments[s->ncomments].loc = loc;
	s->comments[s->ncomments].text = arena_strdup(a, text);
	s->ncomments++;
}

struct loc loc_span(struct loc a, struct loc b)
{
	struct loc r = a;
	if (b.src == a.src && (b.end_line > a.end_line ||
			       (b.end_line == a.end_line && b.end_col > a.end_col))) {
		r.end_line = b.end_line;
		r.end_col = b.end_col;
	}
	return r;
}

int loc_cmp(struct loc a, struct loc b)
{
	if (a.src != b.src) {
		const char *x = a.src ? a.src->name : "", *y = b.src ? b.src->name : "";
		return strcmp(x, y);
	}
	if (a.line != b.line)
		return a.line < b.line ? -1 : 1;
	if (a.col != b.col)
		return a.col < b.col ? -1 : 1;
	return 0;
}

bool loc_within(struct loc inner, struct loc outer)
{
	if (inner.src != outer.src)
		return false;
	if (inner.line < outer.line || (inner.line == outer.line && inner.col < outer.col))
		return false;
	if (inner.end_line > outer.end_line ||
	    (inner.end_line == outer.end_line && inner.end_col > outer.end_col))
		return false;
	return true;
}
