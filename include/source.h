/* source.h - source files held in memory, and locations within them. */
#ifndef PORTC_SOURCE_H
#define PORTC_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct source;

/* A span of source text. Lines and columns are 1-based; columns count
 * characters (UTF-8 code points), which is what an editor shows. end_col
 * is the column just past the last character. */
struct loc {
	const struct source *src;
	uint32_t line, col;
	uint32_t end_line, end_col;
};

/* A '#' comment, kept for the formatter and for inline suppressions. */
struct comment {
	struct loc loc;
	const char *text;	/* from '#' to the end of the line, no newline */
};

struct source {
	const char *name;	/* as shown in diagnostics */
	const char *realpath;	/* canonical path, to load each file once; NULL for text */
	const char *text;	/* contents, NUL-terminated */
	size_t len;
	uint32_t *line_start;	/* byte offset of each line; [0] is line 1 */
	uint32_t nlines;
	struct comment *comments;
	size_t ncomments, comments_cap;
};

struct arena;
/* Wraps text (copied into the arena) as a source. */
struct source *source_new(struct arena *a, const char *name, const char *realpath,
			  const char *text, size_t len);
/* Line n (1-based) without its newline; *len receives its length. */
const char *source_line(const struct source *s, uint32_t line, size_t *len);
/* Byte offset, within its line, of a 1-based character column. */
size_t source_col_offset(const char *line, size_t len, uint32_t col);
void source_add_comment(struct arena *a, struct source *s, struct loc loc, const char *text);

/* Location that covers both a and b (a must come first). */
struct loc loc_span(struct loc a, struct loc b);
int loc_cmp(struct loc a, struct loc b);
bool loc_within(struct loc inner, struct loc outer);
static inline int loc_valid(struct loc l) { return l.src != NULL && l.line > 0; }

#endif
