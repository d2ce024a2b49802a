/* cmd_fmt.c - portc fmt: print, check or rewrite files in the canonical
 * layout. Only the syntax matters here: imports are not followed, names
 * are not resolved, so a file is formatted even when its imports are not
 * on this machine. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fmt.h"
#include "outfile.h"
#include "parse.h"

#define MAX_FILE_SIZE ((size_t)64 << 20)

static int fmt_one(const char *path, struct cli_opts *o, struct diag *d)
{
	char *text;
	size_t len;
	int e = read_file(path, MAX_FILE_SIZE, &text, &len);
	if (e) {
		diag_plain("cannot read '%s': %s", path, e == EFBIG ? "file too large" : strerror(e));
		return EXIT_USAGE;
	}
	struct arena *a = arena_new();
	struct source *src = source_new(a, path, NULL, text, len);
	struct ast_file *file = parse_source(a, d, src);
	diag_flush(d, stderr);
	int r = EXIT_OK;
	if (diag_failed(d)) {
		r = EXIT_ERRORS;
	} else {
		char *out = fmt_file(file);
		bool same = strlen(out) == len && memcmp(out, text, len) == 0;
		if (o->check_only) {
			if (!same) {
				printf("%s\n", path);
				r = EXIT_ERRORS;
			}
		} else if (o->write) {
			if (!same) {
				e = write_file_atomic(path, out, strlen(out));
				if (e) {
					diag_plain("cannot write '%s': %s", path, strerror(e));
					r = EXIT_USAGE;
				}
			}
		} else {
			fputs(out, stdout);
		}
		free(out);
	}
	arena_free(a);
	free(text);
	return r;
}

int cmd_fmt(struct cli_opts *o)
{
	if (o->check_only && o->write) {
		diag_plain("--check and --write exclude each other");
		return EXIT_USAGE;
	}
	int worst = EXIT_OK;
	for (int i = 0; i < o->argc; i++) {
		struct diag d;
		cli_diag_init(&d, o);
		int r = fmt_one(o->argv[i], o, &d);
		diag_free(&d);
		if (r > worst)
			worst = r;
	}
	return worst;
}
