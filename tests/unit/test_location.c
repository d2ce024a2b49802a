/* test_location.c - line index, columns, spans, and the caret printer. */
#include "helpers.h"

static void test_line_lookup(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *text = "first\nsecond\r\n\nlast";
	struct source *s = source_new(a, "t", NULL, text, strlen(text));
	assert_int_equal(s->nlines, 4);
	size_t len;
	const char *l = source_line(s, 2, &len);
	assert_int_equal(len, 6);	/* the \r is not part of the line */
	assert_memory_equal(l, "second", 6);
	l = source_line(s, 3, &len);
	assert_int_equal(len, 0);
	l = source_line(s, 4, &len);
	assert_memory_equal(l, "last", 4);
	source_line(s, 5, &len);	/* past the end: empty, not a crash */
	assert_int_equal(len, 0);
	arena_free(a);
}

static void test_column_offsets_count_characters(void **state)
{
	(void)state;
	const char *line = "ab\xc3\xa9" "cd";	/* a b é c d */
	assert_int_equal(source_col_offset(line, 6, 1), 0);
	assert_int_equal(source_col_offset(line, 6, 3), 2);
	assert_int_equal(source_col_offset(line, 6, 4), 4);	/* after the two-byte é */
	assert_int_equal(source_col_offset(line, 6, 99), 6);	/* clamped */
}

static void test_span_and_order(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct source *s = source_new(a, "t", NULL, "x", 1);
	struct loc x = { s, 2, 5, 2, 9 }, y = { s, 4, 1, 4, 3 };
	struct loc sp = loc_span(x, y);
	assert_int_equal(sp.line, 2);
	assert_int_equal(sp.col, 5);
	assert_int_equal(sp.end_line, 4);
	assert_int_equal(sp.end_col, 3);
	assert_true(loc_cmp(x, y) < 0);
	assert_true(loc_cmp(y, x) > 0);
	assert_int_equal(loc_cmp(x, x), 0);
	arena_free(a);
}

static void test_caret_line(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	const char *text = "\tports p = 99999;\n";
	struct source *s = source_new(a, "p.pol", NULL, text, strlen(text));
	struct diag d;
	diag_init(&d);
	diag_error(&d, (struct loc){ s, 1, 12, 1, 17 }, "port %d out of range", 99999);
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	diag_flush(&d, fp);
	fclose(fp);
	/* the tab before the text is echoed so the caret lines up under it */
	assert_string_equal(buf,
		"p.pol:1:12: error: port 99999 out of range\n"
		" 1 | \tports p = 99999;\n"
		"   | \t          ^~~~~\n");
	free(buf);
	diag_free(&d);
	arena_free(a);
}

static void test_warning_options(void **state)
{
	(void)state;
	struct diag d;
	diag_init(&d);
	assert_true(diag_parse_option(&d.opts, "-Wno-host-bits"));
	assert_false(diag_enabled(&d, W_HOST_BITS));
	assert_null(diag_warn(&d, W_HOST_BITS, (struct loc){ 0 }, "x"));
	assert_int_equal(d.nrecs, 0);
	assert_true(diag_parse_option(&d.opts, "-Werror=unenforceable"));
	assert_non_null(diag_warn(&d, W_UNENFORCEABLE, (struct loc){ 0 }, "y"));
	assert_int_equal(d.errors, 1);	/* promoted */
	assert_false(diag_parse_option(&d.opts, "-Wno-such-thing"));
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_lookup),
		cmocka_unit_test(test_column_offsets_count_characters),
		cmocka_unit_test(test_span_and_order),
		cmocka_unit_test(test_caret_line),
		cmocka_unit_test(test_warning_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
