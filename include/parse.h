/* parse.h - entry points into the flex/bison front end (grammar/). */
#ifndef PORTC_PARSE_H
#define PORTC_PARSE_H

#include <stdbool.h>

#include "ast.h"
#include "diag.h"

/* At most this many syntax errors are reported per file; a file that bad
 * has one real mistake and a cascade. */
#define PARSE_MAX_ERRORS 20
/* Deeper nesting of { } than this is refused: no real policy comes near it,
 * and it bounds every recursive walk over the tree. */
#define PARSE_MAX_DEPTH 64
/* Longest identifier, number or address; strings may be longer. */
#define PARSE_MAX_TOKEN 1024
#define PARSE_MAX_STRING 65536

enum parse_start { PARSE_FILE, PARSE_NETWORK, PARSE_PORTS, PARSE_SERVICE, PARSE_QOS };

/* State shared by the scanner and the parser for one source. */
struct parse_ctx {
	struct arena *arena;
	struct diag *diag;
	struct source *src;
	enum parse_start start;
	bool start_sent;
	/* scanner position (1-based line, character column) */
	uint32_t line, col;
	struct loc prev;	/* last token returned (the parser's lookahead) */
	struct loc before_last;	/* the token before it: where a missing ';' goes */
	struct loc braces[PARSE_MAX_DEPTH + 1];	/* open '{' and '(' */
	unsigned depth;
	unsigned nerrors;
	bool stop;		/* error cap or nesting limit hit: feed EOF */
	size_t junk_end;	/* end offset of the last stray byte reported */
	bool skip_line;		/* the rest of the line is a mistaken comment ("//") */
	bool after_group_error;	/* the last syntax error was a group's missing comma */
	uint32_t group_error_line;	/* ... on this line */
	size_t offset;		/* bytes consumed so far */
	/* results */
	struct ast_file *file;
	struct node *value;
};

/* Parses a whole file. Returns the tree (possibly partial) and reports
 * syntax errors into diag; check diag for failure. */
struct ast_file *parse_source(struct arena *a, struct diag *d, struct source *src);
/* Parses the text of a -D value as a value of kind vk. NULL on error. */
struct node *parse_value(struct arena *a, struct diag *d, struct source *src, enum value_kind vk);

/* The scanner alone, for tests: up to max tokens (bison token numbers
 * from parser.h), their locations and texts. Returns the count. */
size_t parse_tokens(struct arena *a, struct diag *d, struct source *src, int *tokens,
		    struct loc *locs, const char **texts, size_t max);

/* Internal: shared between grammar/lexer.l and grammar/parser.y. */
void parse_error_at(struct parse_ctx *ctx, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
