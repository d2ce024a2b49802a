/* fuzz_front.c - libFuzzer target for the whole front end.
 *
 * Any input: parse, check and lower it, and never crash, hang or read out
 * of bounds. An input that parses is also formatted twice, and the two
 * layouts must agree (fmt is a fixed point) and must parse again. An input
 * that checks must check after fmt too, to the same IR (locations aside):
 * fmt may move text, never change what it means. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "parse.h"
#include "unit.h"

static char *fmt_text(const char *text, size_t len, bool *ok)
{
	struct arena *a = arena_new();
	struct diag d;
	diag_init(&d);
	struct source *src = source_new(a, "fuzz.pol", NULL, text, len);
	struct ast_file *f = parse_source(a, &d, src);
	char *out = NULL;
	*ok = !diag_failed(&d);
	if (*ok)
		out = fmt_file(f);
	diag_free(&d);
	arena_free(a);
	return out;
}

/* The IR of a text that checks and lowers cleanly, dumped without
 * locations; NULL when it has errors. */
static char *ir_text(const char *text, size_t len)
{
	struct diag d;
	diag_init(&d);
	struct unit u;
	struct unit_opts opts = { 0 };
	unit_init(&u, &d, &opts);
	char *out = NULL;
	if (load_text(&u, "fuzz.pol", text, len) && check_unit(&u) && lower_unit(&u) &&
	    !diag_failed(&d)) {
		size_t n;
		FILE *fp = open_memstream(&out, &n);
		ir_dump(&u.ir, fp, false);
		fclose(fp);
	}
	unit_free(&u);
	diag_free(&d);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	char *ir = ir_text((const char *)data, size);

	bool ok;
	char *once = fmt_text((const char *)data, size, &ok);
	if (once) {
		bool ok2;
		char *twice = fmt_text(once, strlen(once), &ok2);
		if (!ok2 || !twice || strcmp(once, twice) != 0) {
			fprintf(stderr, "fmt is not a fixed point:\n--- once\n%s\n--- twice\n%s\n",
				once, twice ? twice : "(did not parse)");
			abort();
		}
		free(twice);
	}
	if (ir) {
		char *ir2 = once ? ir_text(once, strlen(once)) : NULL;
		if (!ir2 || strcmp(ir, ir2) != 0) {
			fprintf(stderr, "fmt changed the meaning:\n--- input\n%.*s\n--- fmt\n%s\n"
				"--- IR before\n%s--- IR after\n%s", (int)size, (const char *)data,
				once ? once : "(fmt failed)", ir, ir2 ? ir2 : "(does not check)\n");
			abort();
		}
		free(ir2);
	}
	free(ir);
	free(once);
	return 0;
}
