/* diag.h - diagnostics in the GCC format.
 *
 *   file:line:col: error|warning|note: message [-Wname]
 *    12 |     allow lan -> webex tcp 99999;
 *       |                            ^~~~~
 *
 * Records are queued and printed once per phase, in the order they were
 * raised; a note belongs to the record raised before it. */
#ifndef PORTC_DIAG_H
#define PORTC_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "source.h"

enum diag_level { DIAG_NOTE, DIAG_WARNING, DIAG_ERROR };

enum warn_id {
#define W(id, name, level, on, summary) W_##id,
#include "warnings.def"
#undef W
	W__COUNT,
	W_NONE = -1
};

struct warn_info {
	const char *name;
	enum diag_level level;	/* level when enabled */
	bool on;		/* enabled by default */
	const char *summary;
};
extern const struct warn_info warn_table[];
/* Looks a name up ("host-bits"); W_NONE when unknown. Lint adds its own
 * names through the same table. */
int warn_lookup(const char *name);

struct witness;		/* lint.h */

struct diag_record {
	enum diag_level level;
	int warn;		/* enum warn_id, or W_NONE */
	struct loc loc;
	char *msg;
	char *fixit;		/* replacement text for loc, or NULL */
	struct diag_record **notes;
	size_t nnotes;
	bool promoted;		/* a warning turned error by -Werror */
	char *suppressed;	/* reason of an inline suppression, or NULL */
	struct witness *witness; /* lint: a packet that shows the finding, or NULL */
	char *witness_text;	/* the packet, written out */
};

struct diag_opts {
	bool werror;
	bool color;
	signed char enabled[W__COUNT];	/* -1 default, 0 off, 1 on */
	signed char as_error[W__COUNT];	/* -Werror=NAME */
};

struct diag {
	struct diag_opts opts;
	struct diag_record **recs;
	size_t nrecs, cap;
	size_t *seen, nseen;	/* hash of recs (index + 1; 0 free), for dropping repeats */
	size_t printed;		/* records before this index are out */
	size_t errors, warnings;
	size_t shown_errors;	/* diag_error records kept, up to DIAG_MAX_ERRORS */
	bool last_dropped;	/* notes after a dropped record are dropped too */
};

/* Errors shown per compilation; past it they count, unprinted, with one
 * note saying so. The parser stops at its own PARSE_MAX_ERRORS a file. */
#define DIAG_MAX_ERRORS 20

void diag_init(struct diag *d);
void diag_free(struct diag *d);
/* Parses -Werror, -Werror=NAME, -WNAME, -Wno-NAME, -Wall. Returns false for an
 * unknown name (the caller reports a usage error). */
bool diag_parse_option(struct diag_opts *o, const char *arg);
bool diag_enabled(const struct diag *d, enum warn_id w);

void diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Returns the record, or NULL when the warning is disabled. */
struct diag_record *diag_warn(struct diag *d, enum warn_id w, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Attaches a replacement for the last record's location. */
void diag_fixit(struct diag *d, const char *replacement);

/* Attaches a copy of a witness (and its text) to the last record. */
void diag_witness(struct diag *d, const struct witness *w, size_t size, const char *text);

/* Prints records not yet printed. */
void diag_flush(struct diag *d, FILE *fp);
void diag_print_record(const struct diag *d, const struct diag_record *r, FILE *fp);
bool diag_failed(const struct diag *d);	/* errors, or warnings under -Werror */

/* A usage or I/O problem with no place in a file: "portc: error: ..." */
void diag_plain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
