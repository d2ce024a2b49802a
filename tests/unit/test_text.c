/* test_text.c - text that leaves portc: hidden characters made visible in
 * rulesets and documents, JSON strings that survive any bytes, SARIF URIs
 * percent-encoded, and the ivbuf that builds large sets in one sort. */
#include "helpers.h"

#include <jansson.h>

#include "backend.h"
#include "ivset.h"
#include "jsonout.h"

static char *visible(const char *s)
{
	struct strbuf sb = { 0 };
	sb_init(&sb);
	sb_put_visible(&sb, s);
	return sb_detach(&sb);
}

static void test_hidden_characters(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } cases[] = {
		{ "a\xe2\x80\xae" "b", "a<U+202E>b" },		/* RLO */
		{ "\xe2\x81\xa6x\xe2\x81\xa9", "<U+2066>x<U+2069>" },	/* isolates */
		{ "\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d", "<U+200B><U+200C><U+200D>" },
		{ "\xef\xbb\xbf", "<U+FEFF>" },
		{ "\xc2\x85\xc2\x9f", "<U+0085><U+009F>" },		/* C1 */
		{ "\xe2\x80\xa8\xe2\x80\xa9", "<U+2028><U+2029>" },
		{ "\xf3\xa0\x81\x81", "<U+E0041>" },			/* a tag character */
		{ "\xd8\x9c", "<U+061C>" },				/* Arabic letter mark */
		{ "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xc2\xa0", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xc2\xa0" },
		{ "bad \xff byte", "bad ? byte" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *v = visible(cases[i].in);
		assert_string_equal(v, cases[i].out);
		free(v);
	}
	/* quote_text, what nft and iptables comments are made of */
	struct strbuf sb = { 0 };
	sb_init(&sb);
	quote_text(&sb, "say \"x\"\n\xe2\x80\xae" "drop", 100);
	assert_string_equal(sb.s, "say 'x' <U+202E>drop");
	sb.len = 0;
	sb.s[0] = '\0';
	quote_text(&sb, "ab\xe2\x80\xae", 4);	/* the mark does not fit: cut before it */
	assert_string_equal(sb.s, "ab");
	sb_free(&sb);
}

static void test_json_strings(void **state)
{
	(void)state;
	json_t *j = json_text("caf\xe9.pol");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "caf\\xe9.pol");
	json_decref(j);
	j = json_text("caf\xc3\xa9.pol");
	assert_string_equal(json_string_value(j), "caf\xc3\xa9.pol");
	json_decref(j);
	j = json_text(NULL);
	assert_true(json_is_null(j));
	json_decref(j);
	j = json_uri("dir/my file#1 \xe9.pol");
	assert_string_equal(json_string_value(j), "dir/my%20file%231%20%E9.pol");
	json_decref(j);
}

/* A set of many parts in one sort equals the union of its parts. */
static void test_ivbuf(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct ivbuf b = { 0 };
	struct ivset u = ivset_empty();
	unsigned x = 12345;
	for (int i = 0; i < 2000; i++) {
		x = x * 1103515245u + 12345u;
		u128 lo = x % 100000, hi = lo + x % 7;
		ivbuf_add(&b, lo, hi);
		u = ivset_union(a, u, ivset_range(a, lo, hi));
	}
	ivbuf_add(&b, U128_MAX - 1, U128_MAX);
	u = ivset_union(a, u, ivset_range(a, U128_MAX - 1, U128_MAX));
	struct ivset s = ivbuf_finish(a, &b);
	assert_true(ivset_equal(s, u));
	assert_null(b.v);
	for (size_t i = 1; i < s.n; i++)
		assert_true(s.v[i].lo > s.v[i - 1].hi + 1);	/* disjoint, not adjacent */
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hidden_characters),
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_ivbuf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
