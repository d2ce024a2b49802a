/* test_lexer.c - tokens, their texts and their locations. */
#include "helpers.h"
#include "parse.h"
#include "parser.h"

struct lexed {
	struct arena *a;
	struct diag d;
	int tok[64];
	struct loc loc[64];
	const char *text[64];
	size_t n;
};

static void lex(struct lexed *l, const char *input)
{
	l->a = arena_new();
	diag_init(&l->d);
	struct source *src = source_new(l->a, "t.pol", NULL, input, strlen(input));
	l->n = parse_tokens(l->a, &l->d, src, l->tok, l->loc, l->text, 64);
}

static void unlex(struct lexed *l)
{
	diag_free(&l->d);
	arena_free(l->a);
}

static void test_definition_tokens(void **state)
{
	(void)state;
	struct lexed l;
	lex(&l, "network lan = 10.0.0.0/8;");
	assert_int_equal(l.n, 5);
	assert_int_equal(l.tok[0], T_NETWORK);
	assert_int_equal(l.tok[1], T_ID);
	assert_string_equal(l.text[1], "lan");
	assert_int_equal(l.tok[2], '=');
	assert_int_equal(l.tok[3], T_ADDR);
	assert_string_equal(l.text[3], "10.0.0.0/8");
	assert_int_equal(l.tok[4], ';');
	/* columns are 1-based, end is one past the last character */
	assert_int_equal(l.loc[3].line, 1);
	assert_int_equal(l.loc[3].col, 15);
	assert_int_equal(l.loc[3].end_col, 25);
	assert_int_equal(l.d.errors, 0);
	unlex(&l);
}

static void test_ranges_and_arrows(void **state)
{
	(void)state;
	struct lexed l;
	lex(&l, "a->b <-> 8000-65535 echo-request");
	int want[] = { T_ID, T_ARROW, T_ID, T_BIARROW, T_NUM, '-', T_NUM, T_ID };
	assert_int_equal(l.n, 8);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(l.tok[i], want[i]);
	assert_string_equal(l.text[7], "echo-request");
	unlex(&l);
}

static void test_ipv6_forms(void **state)
{
	(void)state;
	struct lexed l;
	lex(&l, ":: ::1 2001:db8::/32 fe80::1:2 ::ffff:192.0.2.1");
	assert_int_equal(l.n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(l.tok[i], T_ADDR);
	assert_string_equal(l.text[2], "2001:db8::/32");
	assert_string_equal(l.text[4], "::ffff:192.0.2.1");
	unlex(&l);
}

static void test_param_colon_is_not_ipv6(void **state)
{
	(void)state;
	struct lexed l;
	lex(&l, "param site: network;");
	int want[] = { T_PARAM, T_ID, ':', T_NETWORK, ';' };
	assert_int_equal(l.n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(l.tok[i], want[i]);
	unlex(&l);
}

static void test_string_escapes(void **state)
{
	(void)state;
	struct lexed l;
	lex(&l, "\"a \\\"quoted\\\" \\\\ note\\n\"");
	assert_int_equal(l.n, 1);
	assert_int_equal(l.tok[0], T_STRING);
	assert_string_equal(l.text[0], "a \"quoted\" \\ note\n");
	assert_int_equal(l.d.errors, 0);
	unlex(&l);
}

static void test_utf8_columns(void **state)
{
	(void)state;
	struct lexed l;
	/* "é" and "注" are one column each, however many bytes they take */
	lex(&l, "\"é注\" x\n  y");
	assert_int_equal(l.n, 3);
	assert_int_equal(l.loc[0].col, 1);
	assert_int_equal(l.loc[0].end_col, 5);
	assert_int_equal(l.loc[1].col, 6);
	assert_int_equal(l.loc[2].line, 2);
	assert_int_equal(l.loc[2].col, 3);
	unlex(&l);
}

static void test_comments_are_kept_not_tokens(void **state)
{
	(void)state;
	struct lexed l;
	lex(&l, "a # one\n# two\nb");
	assert_int_equal(l.n, 2);
	struct source *src = (struct source *)l.loc[0].src;
	assert_int_equal(src->ncomments, 2);
	assert_string_equal(src->comments[0].text, "# one");
	assert_int_equal(src->comments[1].loc.line, 2);
	unlex(&l);
}

static void test_stray_bytes_reported_once_per_run(void **state)
{
	(void)state;
	struct lexed l;
	lex(&l, "a $$$$ b \x01 c");
	assert_int_equal(l.n, 3);
	assert_int_equal(l.d.errors, 2);
	assert_non_null(strstr(l.d.recs[0]->msg, "stray '$'"));
	assert_int_equal(l.d.recs[0]->loc.col, 3);
	assert_non_null(strstr(l.d.recs[1]->msg, "control character 0x01"));
	unlex(&l);
}

static void test_number_overflow_is_kept(void **state)
{
	(void)state;
	struct lexed l;
	lex(&l, "99999999999999999999999");
	assert_int_equal(l.n, 1);
	assert_int_equal(l.tok[0], T_NUM);
	assert_string_equal(l.text[0], "99999999999999999999999");
	unlex(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_definition_tokens),
		cmocka_unit_test(test_ranges_and_arrows),
		cmocka_unit_test(test_ipv6_forms),
		cmocka_unit_test(test_param_colon_is_not_ipv6),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_utf8_columns),
		cmocka_unit_test(test_comments_are_kept_not_tokens),
		cmocka_unit_test(test_stray_bytes_reported_once_per_run),
		cmocka_unit_test(test_number_overflow_is_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
