/* test_arena.c - the compilation's allocator: every object zeroed and
 * aligned however it was obtained (malloc'd blocks, mapped blocks past the
 * first megabytes, blocks of their own for large objects), arrays that grow
 * in place keep their contents, and nothing handed out overlaps. */
#include "helpers.h"

#include <stdint.h>

#include "arena.h"

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Sizes from a fixed sequence that covers small, medium and the "large
 * object" path (over a quarter of a 64 KiB block), in a mixed order. */
static size_t size_at(size_t i)
{
	static const size_t sizes[] = { 1, 7, 16, 24, 100, 4096, 17000, 40000, 3, 70000, 260000, 9 };
	return sizes[(i * 7) % (sizeof sizes / sizeof *sizes)];
}

static void test_objects_zeroed_aligned_disjoint(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	enum { N = 3000 };	/* about 98 MB in all: well past the mapped threshold */
	unsigned char *obj[N];
	size_t len[N];
	for (size_t i = 0; i < N; i++) {
		len[i] = size_at(i);
		obj[i] = arena_alloc(a, len[i]);
		assert_true(((uintptr_t)obj[i] & 15) == 0);
		assert_true(all_zero(obj[i], len[i]));
		memset(obj[i], (int)(i % 251) + 1, len[i]);
	}
	/* had two objects overlapped, the later fill would show in the earlier */
	for (size_t i = 0; i < N; i++)
		for (size_t k = 0; k < len[i]; k += 997)
			assert_int_equal(obj[i][k], (int)(i % 251) + 1);
	assert_true(arena_used(a) >= 90u << 20);
	arena_free(a);
}

static void test_realloc_keeps_contents(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	/* two arrays growing by turns: only one of them is ever the newest
	 * object, so one grows in place and the other is copied */
	ARR(uint32_t) x = { 0 };
	ARR(uint64_t) y = { 0 };
	for (uint32_t i = 0; i < 2000000; i++) {
		ARR_PUSH(a, x, i * 3u);
		if (i % 3 == 0)
			ARR_PUSH(a, y, (uint64_t)i << 20);
	}
	for (uint32_t i = 0; i < 2000000; i++)
		assert_int_equal(x.v[i], i * 3u);
	for (size_t i = 0; i < y.n; i++)
		assert_true(y.v[i] == (uint64_t)(i * 3) << 20);
	/* the part a realloc adds is zero, in place or copied */
	unsigned char *p = arena_alloc(a, 40);
	memset(p, 0xab, 40);
	p = arena_realloc(a, p, 40, 5000);
	assert_true(all_zero(p + 40, 5000 - 40));
	assert_int_equal(p[39], 0xab);
	unsigned char *q = arena_alloc(a, 8);
	p = arena_realloc(a, p, 5000, 9000);	/* no longer the newest: copied */
	assert_true(p + 9000 <= q || q + 8 <= p);
	assert_int_equal(p[0], 0xab);
	assert_true(all_zero(p + 40, 9000 - 40));
	/* shrinking gives the same object back */
	assert_ptr_equal(arena_realloc(a, p, 9000, 100), p);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects_zeroed_aligned_disjoint),
		cmocka_unit_test(test_realloc_keeps_contents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
