/* fmt.h - the canonical layout (portc fmt). */
#ifndef PORTC_FMT_H
#define PORTC_FMT_H

#include "ast.h"

/* The file in canonical layout, comments kept; free() the result. Only
 * for a file that parsed without errors. */
char *fmt_file(const struct ast_file *file);

#endif
