/* ivset.c - interval-set algebra. Every operation on two sets is a linear
 * merge over sorted inputs; a set of many parts is collected in an ivbuf
 * and sorted once. */
#include "ivset.h"

#include <stdlib.h>
#include <string.h>

struct ivset ivset_range(struct arena *a, u128 lo, u128 hi)
{
	struct iv *v = arena_alloc(a, sizeof *v);
	v->lo = lo;
	v->hi = hi;
	return (struct ivset){ v, 1 };
}

static int cmp_iv(const void *x, const void *y)
{
	const struct iv *a = x, *b = y;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return 0;
}

struct ivset ivset_normalize(struct arena *a, const struct iv *in, size_t n)
{
	if (n == 0)
		return ivset_empty();
	struct iv *v = arena_alloc(a, n * sizeof *v);
	memcpy(v, in, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_iv);
	size_t k = 0;
	for (size_t i = 1; i < n; i++) {
		/* merge overlapping and adjacent intervals */
		if (v[i].lo <= v[k].hi || (v[k].hi != U128_MAX && v[i].lo == v[k].hi + 1)) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else {
			v[++k] = v[i];
		}
	}
	return (struct ivset){ v, k + 1 };
}

/* Appends [lo, hi] to a sorted run of intervals, merging it into the last
 * one when they overlap or touch. */
static void push_merged(struct iv *out, size_t *k, u128 lo, u128 hi)
{
	if (*k > 0) {
		struct iv *last = &out[*k - 1];
		if (lo <= last->hi || (last->hi != U128_MAX && lo == last->hi + 1)) {
			if (hi > last->hi)
				last->hi = hi;
			return;
		}
	}
	out[(*k)++] = (struct iv){ lo, hi };
}

/* A linear merge of two normalized sets. A union of many sets is built
 * with an ivbuf instead: folding them in one at a time is quadratic. */
struct ivset ivset_union(struct arena *a, struct ivset x, struct ivset y)
{
	if (x.n == 0)
		return y;
	if (y.n == 0)
		return x;
	struct iv *out = arena_alloc(a, (x.n + y.n) * sizeof *out);
	size_t i = 0, j = 0, k = 0;
	while (i < x.n || j < y.n) {
		const struct iv *next = j == y.n || (i < x.n && x.v[i].lo <= y.v[j].lo)
					? &x.v[i++] : &y.v[j++];
		push_merged(out, &k, next->lo, next->hi);
	}
	return (struct ivset){ out, k };
}

void ivbuf_add(struct ivbuf *b, u128 lo, u128 hi)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->v = xrealloc(b->v, b->cap * sizeof *b->v);
	}
	b->v[b->n++] = (struct iv){ lo, hi };
}

void ivbuf_add_set(struct ivbuf *b, struct ivset s)
{
	for (size_t i = 0; i < s.n; i++)
		ivbuf_add(b, s.v[i].lo, s.v[i].hi);
}

struct ivset ivbuf_finish(struct arena *a, struct ivbuf *b)
{
	struct ivset r = ivset_normalize(a, b->v, b->n);
	free(b->v);
	*b = (struct ivbuf){ 0 };
	return r;
}

size_t ivset_diff_to(struct iv *out, struct ivset x, struct ivset y)
{
	size_t k = 0, j = 0;
	for (size_t i = 0; i < x.n; i++) {
		u128 lo = x.v[i].lo, hi = x.v[i].hi;
		bool alive = true;
		while (j < y.n && y.v[j].hi < lo)
			j++;
		size_t jj = j;
		while (alive && jj < y.n && y.v[jj].lo <= hi) {
			if (y.v[jj].lo > lo)
				out[k++] = (struct iv){ lo, y.v[jj].lo - 1 };
			if (y.v[jj].hi >= hi)
				alive = false;
			else
				lo = y.v[jj].hi + 1;
			jj++;
		}
		if (alive)
			out[k++] = (struct iv){ lo, hi };
	}
	return k;
}

struct ivset ivset_diff(struct arena *a, struct ivset x, struct ivset y)
{
	if (x.n == 0 || y.n == 0)
		return x;
	/* Each interval of y can split at most one interval of x in two. */
	struct iv *out = arena_alloc(a, (x.n + y.n) * sizeof *out);
	size_t k = ivset_diff_to(out, x, y);
	return (struct ivset){ k ? out : NULL, k };
}

size_t ivset_intersect_to(struct iv *out, struct ivset x, struct ivset y)
{
	size_t i = 0, j = 0, k = 0;
	while (i < x.n && j < y.n) {
		u128 lo = x.v[i].lo > y.v[j].lo ? x.v[i].lo : y.v[j].lo;
		u128 hi = x.v[i].hi < y.v[j].hi ? x.v[i].hi : y.v[j].hi;
		if (lo <= hi)
			out[k++] = (struct iv){ lo, hi };
		if (x.v[i].hi < y.v[j].hi)
			i++;
		else
			j++;
	}
	return k;
}

struct ivset ivset_intersect(struct arena *a, struct ivset x, struct ivset y)
{
	if (x.n == 0 || y.n == 0)
		return ivset_empty();
	struct iv *out = arena_alloc(a, (x.n + y.n) * sizeof *out);
	size_t k = ivset_intersect_to(out, x, y);
	return (struct ivset){ k ? out : NULL, k };
}

bool ivset_contains(struct ivset s, u128 v)
{
	size_t lo = 0, hi = s.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s.v[mid].hi < v)
			lo = mid + 1;
		else if (s.v[mid].lo > v)
			hi = mid;
		else
			return true;
	}
	return false;
}

bool ivset_subset(struct ivset x, struct ivset y)
{
	size_t j = 0;
	for (size_t i = 0; i < x.n; i++) {
		while (j < y.n && y.v[j].hi < x.v[i].lo)
			j++;
		/* y is merged, so x's interval must sit inside one of y's */
		if (j == y.n || y.v[j].lo > x.v[i].lo || y.v[j].hi < x.v[i].hi)
			return false;
	}
	return true;
}

/* Looks one step ahead, then doubles and bisects: a set checked against
 * one of a few intervals costs a logarithm of the distance, not its length. */
size_t ivset_seek(struct ivset s, size_t i, u128 lo)
{
	if (i >= s.n || s.v[i].hi >= lo)
		return i;
	size_t below = i, step = 1;	/* s.v[below].hi < lo */
	while (below + step < s.n && s.v[below + step].hi < lo) {
		below += step;
		step *= 2;
	}
	size_t l = below + 1, h = below + step < s.n ? below + step : s.n;
	while (l < h) {
		size_t m = l + (h - l) / 2;
		if (s.v[m].hi < lo)
			l = m + 1;
		else
			h = m;
	}
	return l;
}

bool ivset_overlaps(struct ivset x, struct ivset y)
{
	size_t i = 0, j = 0;
	while (i < x.n && j < y.n) {
		if (x.v[i].hi < y.v[j].lo)
			i = ivset_seek(x, i + 1, y.v[j].lo);
		else if (y.v[j].hi < x.v[i].lo)
			j = ivset_seek(y, j + 1, x.v[i].lo);
		else
			return true;
	}
	return false;
}

bool ivset_equal(struct ivset x, struct ivset y)
{
	if (x.n != y.n)
		return false;
	for (size_t i = 0; i < x.n; i++)
		if (x.v[i].lo != y.v[i].lo || x.v[i].hi != y.v[i].hi)
			return false;
	return true;
}

uint64_t ivset_hash(struct ivset s)
{
	uint64_t h = 1469598103934665603ull ^ s.n;
	for (size_t i = 0; i < s.n; i++) {
		u128 w[2] = { s.v[i].lo, s.v[i].hi };
		for (int k = 0; k < 2; k++) {
			h = (h ^ (uint64_t)w[k]) * 1099511628211ull;
			h = (h ^ (uint64_t)(w[k] >> 64)) * 1099511628211ull;
			h ^= h >> 29;
		}
	}
	return h;
}

bool ivset_is_range(struct ivset s, u128 lo, u128 hi)
{
	return s.n == 1 && s.v[0].lo == lo && s.v[0].hi == hi;
}

u128 ivset_count(struct ivset s)
{
	u128 total = 0;
	for (size_t i = 0; i < s.n; i++) {
		u128 c = s.v[i].hi - s.v[i].lo;
		if (c == U128_MAX || total > U128_MAX - c - 1)
			return U128_MAX;
		total += c + 1;
	}
	return total;
}

static int ctz128(u128 v)
{
	uint64_t low = (uint64_t)v;
	return low ? __builtin_ctzll(low) : 64 + __builtin_ctzll((uint64_t)(v >> 64));
}

/* floor(log2(v)), v > 0 */
static int log2_128(u128 v)
{
	uint64_t high = (uint64_t)(v >> 64);
	return high ? 127 - __builtin_clzll(high) : 63 - __builtin_clzll((uint64_t)v);
}

void ivset_prefixes(struct ivset s, int bits, void (*fn)(u128 addr, int len, void *ctx), void *ctx)
{
	for (size_t i = 0; i < s.n; i++) {
		u128 lo = s.v[i].lo, hi = s.v[i].hi;
		for (;;) {
			/* the largest aligned block starting at lo that fits:
			 * as many bits as lo ends in zeros, and no more than
			 * the span from lo to hi holds */
			int size = lo ? ctz128(lo) : 128;
			int fit = hi - lo == U128_MAX ? 128 : log2_128(hi - lo + 1);
			if (fit < size)
				size = fit;
			if (bits < size)
				size = bits;
			fn(lo, bits - size, ctx);
			u128 last = size >= 128 ? U128_MAX : lo + (((u128)1 << size) - 1);
			if (last >= hi)
				break;
			lo = last + 1;
		}
	}
}

static void count_one(u128 addr, int len, void *ctx)
{
	(void)addr;
	(void)len;
	(*(size_t *)ctx)++;
}

size_t ivset_prefix_count(struct ivset s, int bits)
{
	size_t n = 0;
	ivset_prefixes(s, bits, count_one, &n);
	return n;
}
