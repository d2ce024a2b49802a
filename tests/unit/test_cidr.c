/* test_cidr.c - address parsing (libcidr plus our strictness), prefix
 * arithmetic and the interval-set algebra. */
#include <arpa/inet.h>
#include <stdio.h>

#include "helpers.h"
#include "addr.h"
#include "ivset.h"

static u128 v4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return ((u128)a << 24) | ((u128)b << 16) | ((u128)c << 8) | d;
}

static void test_parse_ipv4(void **state)
{
	(void)state;
	struct prefix p;
	bool explicit_len;
	assert_null(addr_parse("192.0.2.0/24", &p, &explicit_len));
	assert_int_equal(p.family, 4);
	assert_int_equal(p.len, 24);
	assert_true(p.net == v4(192, 0, 2, 0));
	assert_true(explicit_len);
	assert_false(prefix_has_host_bits(&p));
	assert_true(prefix_last(&p) == v4(192, 0, 2, 255));

	assert_null(addr_parse("192.0.2.7", &p, &explicit_len));
	assert_int_equal(p.len, 32);
	assert_false(explicit_len);

	assert_null(addr_parse("0.0.0.0/0", &p, NULL));
	assert_true(prefix_last(&p) == V4_MAX);
}

static void test_host_bits(void **state)
{
	(void)state;
	struct prefix p;
	assert_null(addr_parse("52.26.82.54/24", &p, NULL));
	assert_true(prefix_has_host_bits(&p));
	assert_true(p.addr == v4(52, 26, 82, 54));
	assert_true(p.net == v4(52, 26, 82, 0));
	char buf[64];
	assert_string_equal(prefix_format(4, p.net, p.len, false, buf, sizeof buf), "52.26.82.0/24");
}

static void test_reject_ambiguous_ipv4(void **state)
{
	(void)state;
	struct prefix p;
	/* libcidr accepts all of these; a firewall reader must not */
	assert_non_null(addr_parse("10.1", &p, NULL));
	assert_non_null(addr_parse("10", &p, NULL));
	assert_non_null(addr_parse("010.0.0.1", &p, NULL));
	assert_non_null(addr_parse("192.0.2.0/255.255.255.0", &p, NULL));
	assert_non_null(addr_parse("192.0.2.256", &p, NULL));
	assert_non_null(addr_parse("192.0.2.0/33", &p, NULL));
	assert_non_null(addr_parse("192.0.2.0/08", &p, NULL));
	assert_non_null(addr_parse("192.0.2.0/", &p, NULL));
	assert_non_null(addr_parse("1.2.3.4.5", &p, NULL));
}

static void test_parse_ipv6(void **state)
{
	(void)state;
	struct prefix p;
	assert_null(addr_parse("2001:db8::/32", &p, NULL));
	assert_int_equal(p.family, 6);
	assert_int_equal(p.len, 32);
	assert_true(p.net == ((u128)0x20010db8 << 96));
	assert_null(addr_parse("::/0", &p, NULL));
	assert_true(prefix_last(&p) == U128_MAX);
	assert_null(addr_parse("2001:db8::1/64", &p, NULL));
	assert_true(prefix_has_host_bits(&p));
	assert_non_null(addr_parse("2001:db8:::1", &p, NULL));
	assert_non_null(addr_parse("2001:db8::/129", &p, NULL));
	char buf[64];
	assert_string_equal(addr_format(6, p.addr, buf, sizeof buf), "2001:db8::1");
}

/* The hand-written IPv4 formatter against inet_ntop: every octet value in
 * every position, every prefix length, the bare-host form, and a buffer
 * too small (cut and terminated, as snprintf would). */
static void test_format_ipv4(void **state)
{
	(void)state;
	char buf[64], want[64];
	for (int pos = 0; pos < 4; pos++)
		for (unsigned v = 0; v < 256; v++) {
			u128 a = (u128)v << (8 * pos) | (pos ? 7 : 0);
			struct in_addr in = { .s_addr = htonl((uint32_t)a) };
			assert_non_null(inet_ntop(AF_INET, &in, want, sizeof want));
			assert_string_equal(addr_format(4, a, buf, sizeof buf), want);
		}
	for (int len = 0; len <= 32; len++) {
		snprintf(want, sizeof want, "255.255.255.255/%d", len);
		assert_string_equal(prefix_format(4, V4_MAX, len, false, buf, sizeof buf), want);
	}
	assert_string_equal(prefix_format(4, v4(192, 0, 2, 1), 32, true, buf, sizeof buf), "192.0.2.1");
	assert_string_equal(prefix_format(4, 0, 0, true, buf, sizeof buf), "0.0.0.0/0");
	assert_string_equal(prefix_format(6, (u128)0x20010db8 << 96, 32, false, buf, sizeof buf),
			    "2001:db8::/32");
	assert_string_equal(prefix_format(4, v4(198, 18, 100, 200), 24, false, buf, 8), "198.18.");
	assert_string_equal(addr_format(4, v4(198, 18, 100, 200), buf, 4), "198");
}

/* RFC 4291 section 2.2: what libcidr takes and rewrites (nine groups keep
 * the last eight, a second '::', a lone trailing ':') must be refused, and
 * every legal spelling must mean exactly the address inet_pton reads. */
static void test_reject_malformed_ipv6(void **state)
{
	(void)state;
	static const char *bad[] = {
		"2001:db8:0:0:0:0:0:0:1", "1:2:3:4:5:6:7:8:9", "1::2::3", "1:2:3:4:5:6:7:8::",
		"::1:2:3:4:5:6:7:8", "2001:db8:::1", "2001:db8::::::::::::::::::::::::1",
		":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:", "2001:db8::1:/64", "2001:db8::12345",
		"1:2:3:4:5:6:7", "::192.0.2.1:1", "1:2:3:4:5:6:7:192.0.2.1", "::ffff:192.0.2",
		"::ffff:192.0.02.1", "2001:db8::1..2", "2001:db8::/129", "2001:db8::/032", ":", ":::",
		"2001:db8::g", "1:2:3:4:5:6:7:8/", "::/-1",
	};
	struct prefix p;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *why = addr_parse(bad[i], &p, NULL);
		if (!why)
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void test_parse_ipv6_forms(void **state)
{
	(void)state;
	static const struct { const char *text; u128 hi, lo; int len; } good[] = {
		{ "2001:db8:0:0:0:0:0:1", 0x20010db800000000ULL, 1, 128 },
		{ "2001:0db8:0000::0001", 0x20010db800000000ULL, 1, 128 },
		{ "1:2:3:4:5:6:7::", 0x0001000200030004ULL, 0x0005000600070000ULL, 128 },
		{ "::2:3:4:5:6:7:8", 0x0000000200030004ULL, 0x0005000600070008ULL, 128 },
		{ "::", 0, 0, 128 },
		{ "::/0", 0, 0, 0 },
		{ "::ffff:192.0.2.1", 0, 0x0000ffffc0000201ULL, 128 },
		{ "1:2:3:4:5:6:192.0.2.1", 0x0001000200030004ULL, 0x00050006c0000201ULL, 128 },
		{ "2001:DB8::/32", 0x20010db800000000ULL, 0, 32 },
	};
	struct prefix p;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		const char *why = addr_parse(good[i].text, &p, NULL);
		if (why)
			fail_msg("refused '%s': %s", good[i].text, why);
		assert_int_equal(p.family, 6);
		assert_int_equal(p.len, good[i].len);
		assert_true(p.addr == ((good[i].hi << 64) | good[i].lo));
	}
	int fam;
	u128 a;
	assert_null(addr_parse_host("2001:db8::1", &fam, &a));
	assert_non_null(addr_parse_host("2001:db8::/32", &fam, &a));
	assert_non_null(addr_parse_host("2001:db8:0:0:0:0:0:0:1", &fam, &a));
}

static struct ivset set(struct arena *a, const u128 *pairs, size_t n)
{
	struct iv v[16];
	for (size_t i = 0; i < n; i++)
		v[i] = (struct iv){ pairs[2 * i], pairs[2 * i + 1] };
	return ivset_normalize(a, v, n);
}

static void test_ivset_normalize_merges(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	u128 p[] = { 10, 20, 21, 30, 5, 12, 40, 50, 45, 46 };
	struct ivset s = set(a, p, 5);
	assert_int_equal(s.n, 2);
	assert_true(s.v[0].lo == 5 && s.v[0].hi == 30);	/* adjacent 20/21 merge */
	assert_true(s.v[1].lo == 40 && s.v[1].hi == 50);
	assert_true(ivset_count(s) == 26 + 11);
	arena_free(a);
}

static void test_ivset_algebra(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	u128 px[] = { 0, 100 }, py[] = { 10, 19, 50, 60, 95, 200 };
	struct ivset x = set(a, px, 1), y = set(a, py, 3);
	struct ivset d = ivset_diff(a, x, y);
	assert_int_equal(d.n, 3);
	assert_true(d.v[0].lo == 0 && d.v[0].hi == 9);
	assert_true(d.v[1].lo == 20 && d.v[1].hi == 49);
	assert_true(d.v[2].lo == 61 && d.v[2].hi == 94);
	struct ivset i = ivset_intersect(a, x, y);
	assert_int_equal(i.n, 3);
	assert_true(i.v[2].lo == 95 && i.v[2].hi == 100);
	struct ivset u = ivset_union(a, d, i);
	assert_true(ivset_equal(u, x));
	assert_true(ivset_subset(d, x));
	assert_false(ivset_subset(y, x));
	assert_true(ivset_overlaps(x, y));
	assert_false(ivset_overlaps(d, i));
	assert_true(ivset_contains(d, 0) && ivset_contains(d, 94) && !ivset_contains(d, 95));
	/* the full 128-bit range is representable and survives subtraction */
	struct ivset all = ivset_range(a, 0, U128_MAX);
	struct ivset hole = ivset_diff(a, all, ivset_range(a, U128_MAX, U128_MAX));
	assert_int_equal(hole.n, 1);
	assert_true(hole.v[0].hi == U128_MAX - 1);
	arena_free(a);
}

/* ivset_seek and ivset_overlaps, which gallop, against their definitions
 * by linear scan: sets of 0 to 300 intervals, sparse against dense, start
 * indexes across the set and probes at and around intervals' ends. */
static void test_ivset_seek_overlaps(void **state)
{
	(void)state;
	uint64_t seed = 7;
	struct iv buf[2][300];
	for (int round = 0; round < 200; round++) {
		struct ivset s[2];
		for (int k = 0; k < 2; k++) {
			size_t n = (size_t)((seed = seed * 6364136223846793005u + 1442695040888963407u) >> 33) %
				   (round % 2 ? 300 : 8);
			u128 at = 0;
			unsigned gap = k ? 40 : 3000;	/* one dense, one sparse */
			for (size_t i = 0; i < n; i++) {
				seed = seed * 6364136223846793005u + 1442695040888963407u;
				at += 1 + (seed >> 40) % gap;
				buf[k][i].lo = at;
				at += (seed >> 20) % 5;
				buf[k][i].hi = at;
				at += 1;	/* disjoint, not adjacent to the next */
			}
			s[k] = (struct ivset){ buf[k], n };
		}
		for (size_t from = 0; from <= s[0].n; from += 1 + s[0].n / 32)
			for (size_t i = 0; i < s[0].n; i += 1 + s[0].n / 16)
				for (int d = -1; d <= 1; d++) {
					u128 v = (d < 0 ? s[0].v[i].lo - 1 : d ? s[0].v[i].hi + 1 : s[0].v[i].hi);
					size_t want = from;
					while (want < s[0].n && s[0].v[want].hi < v)
						want++;
					assert_int_equal(ivset_seek(s[0], from, v), want);
				}
		bool meet = false;
		for (size_t i = 0; i < s[0].n && !meet; i++)
			for (size_t j = 0; j < s[1].n && !meet; j++)
				meet = s[0].v[i].lo <= s[1].v[j].hi && s[1].v[j].lo <= s[0].v[i].hi;
		assert_int_equal(ivset_overlaps(s[0], s[1]), meet);
		assert_int_equal(ivset_overlaps(s[1], s[0]), meet);
	}
}

struct collected {
	char out[16][64];
	size_t n;
	int family;
};

static void collect(u128 addr, int len, void *ctx)
{
	struct collected *c = ctx;
	prefix_format(c->family, addr, len, false, c->out[c->n++], 64);
}

static void test_ivset_to_prefixes(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	/* 10.0.0.0/8 minus 10.99.0.0/16 and 10.0.0.0/24 covers exactly the
	 * prefixes a firewall would need */
	struct ivset s = ivset_diff(a, ivset_range(a, v4(10, 0, 0, 0), v4(10, 255, 255, 255)),
				    ivset_range(a, v4(10, 99, 0, 0), v4(10, 99, 255, 255)));
	assert_int_equal(ivset_prefix_count(s, 32), 8);	/* 10.0/10, 10.64/11, 10.96/15, 10.98/16, 10.100/14, ... */
	struct collected c = { .family = 4 };
	struct ivset r = ivset_range(a, v4(192, 0, 2, 1), v4(192, 0, 2, 6));
	ivset_prefixes(r, 32, collect, &c);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.out[0], "192.0.2.1/32");
	assert_string_equal(c.out[1], "192.0.2.2/31");
	assert_string_equal(c.out[2], "192.0.2.4/31");
	assert_string_equal(c.out[3], "192.0.2.6/32");
	struct collected all = { .family = 6 };
	ivset_prefixes(ivset_range(a, 0, U128_MAX), 128, collect, &all);
	assert_int_equal(all.n, 1);
	assert_string_equal(all.out[0], "::/0");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_host_bits),
		cmocka_unit_test(test_format_ipv4),
		cmocka_unit_test(test_reject_ambiguous_ipv4),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_reject_malformed_ipv6),
		cmocka_unit_test(test_parse_ipv6_forms),
		cmocka_unit_test(test_ivset_normalize_merges),
		cmocka_unit_test(test_ivset_algebra),
		cmocka_unit_test(test_ivset_seek_overlaps),
		cmocka_unit_test(test_ivset_to_prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
