/* unit.h - one compilation: a root file, what it imports, the symbols, the
 * IR. The driver (driver.c) runs the phases over it in a straight line:
 * load -> check -> lower -> (evaluate | emit). */
#ifndef PORTC_UNIT_H
#define PORTC_UNIT_H

#include <stdbool.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "ir.h"
#include "sema.h"

struct define {
	const char *name;
	const char *value;
};

struct unit_opts {
	const char **incdirs;		/* -I, in order */
	size_t nincdirs;
	struct define *defines;		/* -D, in order; a name at most once (main.c) */
	size_t ndefines;
	bool require_params;		/* a parameter without value is an error */
	/* files under shown_dir are named shown_as + the rest of their path in
	 * diagnostics and outputs (diff --git: a tree checked out in a
	 * temporary directory, shown as "REV:path") */
	const char *shown_dir, *shown_as;
};

struct unit {
	struct arena *arena;
	struct diag *diag;
	struct unit_opts opts;
	struct ast_file **files;	/* imports before importers */
	size_t nfiles, files_cap;
	struct symtab syms;		/* everything but policies */
	struct symtab policies;		/* policies: a namespace of their own */
	struct ir_unit ir;
	bool root_unreadable;		/* the file named on the command line (exit 2) */
};

void unit_init(struct unit *u, struct diag *d, const struct unit_opts *opts);
void unit_free(struct unit *u);

/* load.c: reads and parses the root file and everything it imports. */
bool load_unit(struct unit *u, const char *path);
/* The same for a root held in memory (fuzzing, tests). */
bool load_text(struct unit *u, const char *name, const char *text, size_t len);
/* The directories imports are searched in after the importer's own. */
size_t load_search_path(const struct unit *u, const char ***dirs);
/* The installed or in-tree stdlib directory, or NULL. */
const char *load_stdlib_dir(void);

/* check.c: names, kinds, values, -D. */
bool check_unit(struct unit *u);
/* lower.c: every policy to IR. */
bool lower_unit(struct unit *u);

#endif
