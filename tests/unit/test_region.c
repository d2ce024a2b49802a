/* test_region.c - lint's product algebra and its index, against a
 * point-by-point model: every dimension holds 0..3, so a region is checked
 * at each of the 4^6 points of the world, and a product is any choice of
 * a non-empty subset per dimension (gaps included, as groups have). */
#include "helpers.h"
#include "lint_index.h"
#include "region.h"

#define SIDE 4
#define POINTS 4096

/* A random non-empty subset of 0..side-1 per dimension, each member v
 * standing for [v * scale, v * scale + width], as interval sets. */
static struct prod rand_scaled(struct arena *a, unsigned *seed, unsigned side, unsigned scale,
			       unsigned width)
{
	struct prod p = { .multi = 0 };
	for (int d = 0; d < PS_DIMS; d++) {
		unsigned bits = 0;
		while (bits == 0)
			bits = (unsigned)rand_r(seed) % (1u << side);
		struct ivbuf b = { 0 };
		for (unsigned v = 0; v < side; v++)
			if (bits & (1u << v))
				ivbuf_add(&b, v * scale, v * scale + width);
		prod_set_dim(&p, d, ivbuf_finish(a, &b));
	}
	return p;
}

static struct prod rand_prod(struct arena *a, unsigned *seed)
{
	return rand_scaled(a, seed, SIDE, 1, 0);
}

static void point_of(unsigned code, struct box *pt)
{
	for (int d = 0; d < PS_DIMS; d++)
		pt->d[d].lo = pt->d[d].hi = (code >> (2 * d)) & 3;
}

static bool in_prod(const struct prod *p, unsigned code)
{
	struct box pt;
	point_of(code, &pt);
	return prod_has_point(p, &pt);
}

static int count_in(const struct region *r, unsigned code)
{
	int n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += in_prod(&r->v[i], code);
	return n;
}

static void test_meets_within_intersect(void **state)
{
	(void)state;
	unsigned seed = 11;
	struct arena *a = arena_new();
	for (int trial = 0; trial < 400; trial++) {
		struct prod x = rand_prod(a, &seed), y = rand_prod(a, &seed), z;
		bool meet = false, within = true;
		for (unsigned c = 0; c < POINTS; c++) {
			meet |= in_prod(&x, c) && in_prod(&y, c);
			within &= !in_prod(&x, c) || in_prod(&y, c);
		}
		assert_int_equal(prod_overlaps(&x, &y), meet);
		assert_int_equal(prod_within(&x, &y), within);
		assert_int_equal(prod_intersect(a, &x, &y, &z), meet);
		if (meet)
			for (unsigned c = 0; c < POINTS; c++)
				assert_int_equal(in_prod(&z, c), in_prod(&x, c) && in_prod(&y, c));
		/* sampled points are points of the product */
		for (int k = 0; k < 4; k++) {
			uint64_t r[2 * PS_DIMS];
			for (int i = 0; i < 2 * PS_DIMS; i++)
				r[i] = ((uint64_t)rand_r(&seed) << 32) | (unsigned)rand_r(&seed);
			struct box pt;
			prod_point(&x, k, r, &pt);
			assert_true(prod_has_point(&x, &pt));
		}
	}
	arena_free(a);
}

/* Subtraction leaves exactly the model's points, each in one product. */
static void test_subtract_matches_model(void **state)
{
	(void)state;
	unsigned seed = 5;
	struct arena *a = arena_new();
	for (int trial = 0; trial < 300; trial++) {
		struct region r = { 0 };
		struct prod first = rand_prod(a, &seed), cuts[6];
		region_push(&r, &first);
		int ncuts = 1 + trial % 6;
		for (int k = 0; k < ncuts; k++) {
			cuts[k] = rand_prod(a, &seed);
			assert_true(region_subtract(&r, &cuts[k], 100000));
		}
		for (unsigned c = 0; c < POINTS; c++) {
			bool want = in_prod(&first, c);
			for (int k = 0; k < ncuts; k++)
				want = want && !in_prod(&cuts[k], c);
			assert_int_equal(count_in(&r, c), want ? 1 : 0);
		}
		region_free(&r);
	}
	arena_free(a);
}

/* Over the cap, the region is left as it was. */
static void test_subtract_cap(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	unsigned seed = 3;
	for (int trial = 0; trial < 100; trial++) {
		struct region r = { 0 };
		struct prod x = rand_prod(a, &seed), y = rand_prod(a, &seed);
		region_push(&r, &x);
		if (!prod_overlaps(&x, &y) || prod_within(&x, &y)) {
			region_free(&r);
			continue;
		}
		struct region copy = { 0 };
		region_copy(&copy, &r);
		/* x minus y is at least one piece; a cap of 0 refuses it */
		assert_false(region_subtract(&r, &y, 0));
		assert_int_equal(r.n, copy.n);
		assert_memory_equal(r.v, copy.v, r.n * sizeof *r.v);
		region_free(&r);
		region_free(&copy);
	}
	arena_free(a);
}

/* The index against a scan: every rule that meets q, the lowest of some
 * actions, and the two queries analyze_live combines into the first rule
 * within q and the first across it. The rules' sets are spread out (each
 * member v is [3v, 3v + 1]) and the queries' are not, so that queries
 * start, end and lie between the bounds the index ranks. */
#define NRULES 40

static bool rule_meets(const struct rindex_rule *r, const struct prod *q)
{
	for (size_t k = 0; k < r->n; k++)
		if (prod_overlaps(&r->p[k], q))
			return true;
	return false;
}

static bool rule_in(const struct rindex_rule *r, const struct prod *q)
{
	for (size_t k = 0; k < r->n; k++)
		if (!prod_within(&r->p[k], q))
			return false;
	return r->n > 0;
}

/* NRULES rules of 0 to 3 products each, with random actions. */
static void rand_rules(struct arena *a, unsigned *seed, struct rindex_rule *rules,
		       struct prod (*store)[3])
{
	for (int i = 0; i < NRULES; i++) {
		size_t n = (size_t)rand_r(seed) % 4;	/* some rules have none */
		for (size_t k = 0; k < n; k++)
			store[i][k] = rand_scaled(a, seed, 4, 3, 1);
		bool multi = n > 1 || (n == 1 && !prod_is_box(&store[i][0]));
		rules[i] = (struct rindex_rule){ store[i], n, (unsigned)rand_r(seed) % 3, multi };
	}
}

struct seen {
	bool hit[NRULES];
};

static bool note_hit(unsigned rule, void *ctx)
{
	((struct seen *)ctx)->hit[rule] = true;
	return true;
}

static void test_index_matches_scan(void **state)
{
	(void)state;
	unsigned seed = 17;
	for (int trial = 0; trial < 60; trial++) {
		struct arena *a = arena_new();
		struct rindex_rule rules[NRULES];
		struct prod store[NRULES][3];
		rand_rules(a, &seed, rules, store);
		struct rindex *ix = rindex_build(rules, NRULES);
		for (int t = 0; t < 30; t++) {
			struct prod q = rand_scaled(a, &seed, 12, 1, 0);
			unsigned lo = (unsigned)rand_r(&seed) % NRULES, hi = lo + (unsigned)rand_r(&seed) % (NRULES - lo + 1);
			struct seen s = { { false } };
			rindex_meets(ix, &q, lo, hi, note_hit, &s);
			for (unsigned i = 0; i < NRULES; i++)
				assert_int_equal(s.hit[i], i >= lo && i < hi && rule_meets(&rules[i], &q));
			unsigned kinds = 1 + (unsigned)rand_r(&seed) % 7;
			unsigned want = hi;
			for (unsigned i = lo; i < hi && want == hi; i++)
				if ((kinds & (1u << rules[i].action)) && rule_meets(&rules[i], &q))
					want = i;
			assert_int_equal(rindex_first_meets(ix, &q, kinds, lo, hi), want);
			/* analyze_live's loop, without its shortcut for boxes */
			unsigned gen = hi, corr = rindex_first_across(ix, &q, kinds, hi);
			for (unsigned from = 0;;) {
				unsigned j = rindex_first_within(ix, &q, kinds, from, hi);
				if (j == hi)
					break;
				assert_true(rule_meets(&rules[j], &q));
				if (rule_in(&rules[j], &q)) {
					if (gen == hi)
						gen = j;
				} else if (j < corr) {
					corr = j;
				}
				from = j + 1;
			}
			unsigned want_gen = hi, want_corr = hi;
			for (unsigned i = 0; i < hi; i++) {
				if (!(kinds & (1u << rules[i].action)) || !rule_meets(&rules[i], &q))
					continue;
				if (rule_in(&rules[i], &q)) {
					if (want_gen == hi)
						want_gen = i;
				} else if (want_corr == hi) {
					want_corr = i;
				}
			}
			assert_int_equal(gen, want_gen);
			assert_int_equal(corr, want_corr);
		}
		rindex_free(ix);
		arena_free(a);
	}
}

/* The self-join: every pair of rules that meet is among its pairs. */
struct pairset {
	bool hit[NRULES][NRULES];
};

static bool note_pair(unsigned a, unsigned b, void *ctx)
{
	assert_true(a < b && b < NRULES);
	((struct pairset *)ctx)->hit[a][b] = true;
	return true;
}

static void test_pairs_cover_meets(void **state)
{
	(void)state;
	unsigned seed = 23;
	for (int trial = 0; trial < 60; trial++) {
		struct arena *a = arena_new();
		struct rindex_rule rules[NRULES];
		struct prod store[NRULES][3];
		rand_rules(a, &seed, rules, store);
		struct rindex *ix = rindex_build(rules, NRULES);
		static struct pairset ps;
		memset(&ps, 0, sizeof ps);
		rindex_pairs(ix, note_pair, &ps);
		for (unsigned i = 0; i < NRULES; i++)
			for (unsigned j = i + 1; j < NRULES; j++) {
				bool meet = false;
				for (size_t x = 0; x < rules[i].n && !meet; x++)
					meet = rule_meets(&rules[j], &rules[i].p[x]);
				if (meet)
					assert_true(ps.hit[i][j]);
			}
		rindex_free(ix);
		arena_free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meets_within_intersect),
		cmocka_unit_test(test_subtract_matches_model),
		cmocka_unit_test(test_subtract_cap),
		cmocka_unit_test(test_index_matches_scan),
		cmocka_unit_test(test_pairs_cover_meets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
