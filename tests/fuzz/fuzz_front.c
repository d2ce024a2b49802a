/* fuzz_front.c - libFuzzer target for the whole front end.
 *
 * Any input: parse, check and lower it, and never crash, hang or read out
 * of bounds. An input that parses is also formatted twice, and the two
 * layouts must agree (fmt is a fixed point) and must parse again. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	struct diag d;
	diag_init(&d);
	struct unit u;
	struct unit_opts opts = { 0 };
	unit_init(&u, &d, &opts);
	if (load_text(&u, "fuzz.pol", (const char *)data, size) && check_unit(&u))
		lower_unit(&u);
	unit_free(&u);
	diag_free(&d);

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
	free(once);
	return 0;
}
