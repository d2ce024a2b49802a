/* test_pspace.c - the box algebra lint and the nftables backend share:
 * subtraction in place against a point-by-point model, the cap, sizes. */
#include "helpers.h"
#include "pspace.h"

/* A small world: every dimension 0..3, so a box set can be checked at
 * every one of its 4^6 points. */
#define SIDE 4

static struct box rand_box(unsigned *seed)
{
	struct box b;
	for (int d = 0; d < PS_DIMS; d++) {
		unsigned x = (unsigned)rand_r(seed) % SIDE, y = (unsigned)rand_r(seed) % SIDE;
		b.d[d].lo = x < y ? x : y;
		b.d[d].hi = x < y ? y : x;
	}
	return b;
}

static bool in_box(const struct box *b, const unsigned pt[PS_DIMS])
{
	for (int d = 0; d < PS_DIMS; d++)
		if (pt[d] < b->d[d].lo || pt[d] > b->d[d].hi)
			return false;
	return true;
}

/* How many boxes of s hold pt: 0 or 1 for a set of disjoint boxes. */
static int count_in(const struct boxes *s, const unsigned pt[PS_DIMS])
{
	int n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += in_box(&s->v[i], pt);
	return n;
}

static void test_subtract_matches_model(void **state)
{
	(void)state;
	unsigned seed = 7;
	for (int trial = 0; trial < 200; trial++) {
		struct boxes set = { 0 };
		struct box first = rand_box(&seed);
		boxes_push(&set, &first);
		/* the model: set = first minus every cut so far */
		struct box cuts[6];
		int ncuts = 1 + trial % 5;
		for (int k = 0; k < ncuts; k++) {
			cuts[k] = rand_box(&seed);
			assert_true(boxes_subtract(&set, &cuts[k], 100000));
		}
		unsigned pt[PS_DIMS];
		for (unsigned code = 0; code < 4096; code++) {
			for (int d = 0; d < PS_DIMS; d++)
				pt[d] = (code >> (2 * d)) & 3;
			bool want = in_box(&first, pt);
			for (int k = 0; k < ncuts; k++)
				want = want && !in_box(&cuts[k], pt);
			/* in exactly one box where the model has the point, else none */
			assert_int_equal(count_in(&set, pt), want ? 1 : 0);
		}
		for (size_t i = 0; i < set.n; i++)
			assert_false(box_empty(&set.v[i]));
		boxes_free(&set);
	}
}

static void test_subtract_cap_leaves_set_unchanged(void **state)
{
	(void)state;
	struct box whole, middle;
	for (int d = 0; d < PS_DIMS; d++) {
		whole.d[d] = (struct iv){ 0, 9 };
		middle.d[d] = (struct iv){ 4, 5 };
	}
	struct boxes set = { 0 };
	boxes_push(&set, &whole);
	/* a hole in the middle of every dimension cuts 12 pieces */
	assert_false(boxes_subtract(&set, &middle, 11));
	assert_int_equal(set.n, 1);
	assert_memory_equal(&set.v[0], &whole, sizeof whole);
	assert_true(boxes_subtract(&set, &middle, 12));
	assert_int_equal(set.n, 12);
	/* a box that misses changes nothing and costs nothing */
	struct box far = whole;
	far.d[PS_DST] = (struct iv){ 100, 200 };
	assert_true(boxes_subtract(&set, &far, 12));
	assert_int_equal(set.n, 12);
	/* taking the whole leaves nothing */
	assert_true(boxes_subtract(&set, &whole, 12));
	assert_int_equal(set.n, 0);
	boxes_free(&set);
}

static void test_sizes_and_points(void **state)
{
	(void)state;
	struct box b;
	for (int d = 0; d < PS_DIMS; d++)
		b.d[d] = (struct iv){ 5, 5 };
	assert_int_equal(box_bits(&b), 0);
	b.d[PS_DPORT] = (struct iv){ 0, 65535 };
	b.d[PS_SRC] = (struct iv){ 0, 255 };
	assert_int_equal(box_bits(&b), 24);

	struct packet p = { .family = 4, .proto = 17, .src = 0xC6120001u, .dst = 0xC6120002u,
			    .sport = 40000, .dport = 5060 };
	struct box q;
	box_of_packet(&p, &q);
	assert_true(box_has_point(&q, &p));
	assert_true(q.d[PS_DPORT].lo == 5060 && q.d[PS_DPORT].hi == 5060);
	/* a protocol without ports has them at 0, as the evaluator sees it */
	p.proto = 47;
	box_of_packet(&p, &q);
	assert_true(q.d[PS_SPORT].lo == 0 && q.d[PS_DPORT].hi == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subtract_matches_model),
		cmocka_unit_test(test_subtract_cap_leaves_set_unchanged),
		cmocka_unit_test(test_sizes_and_points),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
