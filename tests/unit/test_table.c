/* test_table.c - the table builder's choices that answers alone do not
 * show (tests/table checks the answers): which rules settle a packet,
 * and where an IPv6 cut takes its bits; and the loader's chunks at the
 * edges that random packets seldom reach. */
#include "helpers.h"
#include "portc/match.h"
#include "portc/table_format.h"
#include "table.h"

/* "{ A0, A1, ... }": 40 networks, network i printed by fmt from
 * step * i; a step of more than one block keeps them apart (adjacent
 * ones would merge into one box). */
static void nets(char *out, size_t cap, const char *fmt, unsigned step)
{
	size_t at = (size_t)snprintf(out, cap, "{ ");
	for (unsigned i = 0; i < 40; i++) {
		at += (size_t)snprintf(out + at, cap - at, "%s", i ? ", " : "");
		at += (size_t)snprintf(out + at, cap - at, fmt, step * i);
	}
	snprintf(out + at, cap - at, " }");
}

struct table {
	struct compiled *c;
	struct strbuf bin;
	const struct ptab_header *h;
	const struct ptab_rule *rules;
	const struct ptab_node *nodes;
};

static void build_table(struct table *t, const char *text)
{
	t->c = compile_text(text, NULL, 0, false);
	assert_int_equal(t->c->rc, 0);
	sb_init(&t->bin);
	struct diag d;
	diag_init(&d);
	assert_true(table_build(&t->c->u.ir.policies[0], &t->bin, NULL, &d));
	diag_free(&d);
	t->h = (const struct ptab_header *)t->bin.s;
	assert_int_equal(t->h->version, PTAB_VERSION);
	t->rules = (const struct ptab_rule *)(t->bin.s + t->h->off_rules);
	t->nodes = (const struct ptab_node *)(t->bin.s + t->h->off_nodes);
}

static void table_free(struct table *t)
{
	sb_free(&t->bin);
	compiled_free(t->c);
}

/* Forty narrow sources (one tree, cut on sources) and forty narrow
 * destinations (another): a rule settles a packet unless a box of an
 * earlier rule in the other tree meets one of its boxes. */
static void test_settling_rules(void **state)
{
	(void)state;
	static char src[2048], dst[2048], text[16384];
	nets(src, sizeof src, "198.18.%u.0/24", 2);
	nets(dst, sizeof dst, "198.19.%u.0/24", 2);
	snprintf(text, sizeof text,
		 "policy p {\n"
		 "    default deny;\n"
		 "    allow %s -> any tcp 22;\n"	/* 0: first: settles */
		 "    deny any -> %s tcp 22;\n"	/* 1: rule 0 meets it, from the other tree */
		 "    allow any -> %s udp 53;\n"	/* 2: no earlier rule of the other tree meets it */
		 "    allow %s -> any tcp 80;\n"	/* 3: nor this */
		 "    allow %s -> any tcp 22-23;\n"	/* 4: rule 1 meets it (rule 0 is its own tree's) */
		 "}\n",
		 src, dst, dst, src, src);
	struct table t;
	build_table(&t, text);
	assert_int_equal(t.h->nrules, 5);
	/* two IPv4 trees, no IPv6 one */
	int trees4 = 0, trees6 = 0;
	for (int k = 0; k < PTAB_TREES; k++) {
		trees4 += t.h->root[0][k] != PTAB_NO_TREE;
		trees6 += t.h->root[1][k] != PTAB_NO_TREE;
	}
	assert_int_equal(trees4, 2);
	assert_int_equal(trees6, 0);
	static const uint16_t want[] = { PTAB_SETTLES4, 0, PTAB_SETTLES4, PTAB_SETTLES4, 0 };
	for (int i = 0; i < 5; i++)
		assert_int_equal(t.rules[i].flags, want[i]);
	table_free(&t);
}

/* IPv6 rules inside 2001:db8::/32: the cut takes the bits below the /32
 * the sources share, where the /48s differ, not the top ones, the same
 * for every box (with those, the builder made no cut: one slot would
 * have held them all); the flags are the IPv6 ones. */
static void test_ipv6_cut_below_shared_prefix(void **state)
{
	(void)state;
	static char src[4096], text[8192];
	nets(src, sizeof src, "2001:db8:%x::/48", 0x600);	/* over the 16 bits after the /32 */
	snprintf(text, sizeof text,
		 "policy p {\n"
		 "    default deny;\n"
		 "    allow %s -> 2001:db8:ffff::/48 tcp 443;\n"
		 "}\n",
		 src);
	struct table t;
	build_table(&t, text);
	uint32_t root = PTAB_NO_TREE;
	for (int k = 0; k < PTAB_TREES; k++)
		if (t.h->root[1][k] != PTAB_NO_TREE)
			root = t.h->root[1][k];
	assert_int_not_equal(root, PTAB_NO_TREE);
	const struct ptab_node *n = &t.nodes[root];
	assert_int_equal(n->kind, PTAB_CUT);
	assert_int_equal(n->dim, PTAB_SRC);
	assert_int_equal(n->shift + n->bits, 96);	/* just below the /32 */
	/* the cut spreads the 40 sources, a box to a slot */
	const uint32_t *index = (const uint32_t *)(t.bin.s + t.h->off_index);
	int busy = 0;
	for (uint32_t j = 0; j < 1u << n->bits; j++) {
		const struct ptab_node *c = &t.nodes[index[n->a + j]];
		assert_int_equal(c->kind, PTAB_LEAF);
		assert_true(c->b <= 1);
		busy += c->b;
	}
	assert_int_equal(busy, 40);
	assert_int_equal(t.rules[0].flags, PTAB_SETTLES6);
	table_free(&t);
}

/* The rule libportc gives an IPv4 packet (PORTC_DEFAULT_RULE: none). */
static uint32_t rule_of(const struct portc_table *pt, uint8_t proto, uint8_t type, uint16_t dport)
{
	struct portc_tuple k = { .family = 4, .proto = proto, .icmp_type = type, .dport = dport };
	struct portc_result r;
	assert_int_equal(portc_classify(pt, &k, &r), 0);
	return r.rule;
}

/* Three rules in one leaf: a chunk with five unused lanes, whose bounds
 * are all 0, so that they hold the packet of all zeros (protocol 0,
 * 0.0.0.0 to 0.0.0.0); it must still get the default. And the protocol
 * and the ICMP type, compared as bytes, at their edges; with AVX2 and
 * without. */
static void test_chunk_edges(void **state)
{
	(void)state;
	struct table t;
	build_table(&t, "policy p {\n"
			"    default deny;\n"
			"    allow any -> any tcp 22;\n"
			"    allow any -> any udp 53;\n"
			"    allow any -> any icmp type 8;\n"
			"}\n");
	for (int avx2 = 0; avx2 < 2; avx2++) {
		setenv("PORTC_NO_AVX2", avx2 ? "0" : "1", 1);
		struct portc_table *pt;
		char err[256];
		assert_int_equal(portc_table_load(t.bin.s, t.bin.len, &pt, err, sizeof err), 0);
		assert_int_equal(rule_of(pt, 0, 0, 0), PORTC_DEFAULT_RULE);
		assert_int_equal(rule_of(pt, 6, 0, 22), 0);
		assert_int_equal(rule_of(pt, 6, 0, 23), PORTC_DEFAULT_RULE);
		assert_int_equal(rule_of(pt, 17, 0, 53), 1);
		assert_int_equal(rule_of(pt, 16, 0, 53), PORTC_DEFAULT_RULE);
		assert_int_equal(rule_of(pt, 1, 8, 0), 2);
		assert_int_equal(rule_of(pt, 1, 7, 0), PORTC_DEFAULT_RULE);
		assert_int_equal(rule_of(pt, 1, 9, 0), PORTC_DEFAULT_RULE);
		assert_int_equal(rule_of(pt, 255, 8, 22), PORTC_DEFAULT_RULE);
		portc_table_free(pt);
	}
	unsetenv("PORTC_NO_AVX2");
	table_free(&t);
}

/* A table whose one tree is a chain of n inner nodes ending in a leaf,
 * checksummed: every field valid, only its depth hostile. */
static char *chain_table(uint32_t n, size_t *len)
{
	size_t off_rules = sizeof(struct ptab_header);
	size_t off_entries = off_rules + sizeof(struct ptab_rule);
	size_t off_nodes = off_entries + sizeof(struct ptab_entry);
	size_t off_leaf = off_nodes + (size_t)(n + 1) * sizeof(struct ptab_node);
	size_t off_index = off_leaf + 8;
	*len = off_index;
	char *buf = calloc(1, *len);
	struct ptab_header *h = (struct ptab_header *)buf;
	memcpy(h->magic, PTAB_MAGIC, 8);
	h->version = PTAB_VERSION;
	h->header_size = sizeof *h;
	h->file_size = *len;
	h->nrules = 1;
	h->nentries = 1;
	h->nnodes = n + 1;
	h->nleaf = 1;
	h->first6 = 1;
	h->default_action = 1;
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < PTAB_TREES; k++)
			h->root[f][k] = PTAB_NO_TREE;
	h->root[0][0] = 0;
	h->off_rules = off_rules;
	h->off_entries = off_entries;
	h->off_nodes = off_nodes;
	h->off_leaf = off_leaf;
	h->off_index = off_index;
	struct ptab_rule *r = (struct ptab_rule *)(buf + off_rules);
	r->dscp = PTAB_NO_DSCP;
	struct ptab_entry *e = (struct ptab_entry *)(buf + off_entries);
	for (int d = 0; d < PTAB_DIMS; d++)
		e->d[d].hi[0] = e->d[d].hi[1] = UINT64_MAX;
	struct ptab_node *nodes = (struct ptab_node *)(buf + off_nodes);
	for (uint32_t i = 0; i < n; i++)
		nodes[i] = (struct ptab_node){ .kind = PTAB_INNER, .dim = PTAB_DPORT, .a = i + 1,
					       .b = i + 1, .thr = { 1000 + i, 0 } };
	nodes[n] = (struct ptab_node){ .kind = PTAB_LEAF, .a = 0, .b = 1 };
	h->crc32c = portc_crc32c(0, buf, *len);
	return buf;
}

/* The builder never makes a walk longer than PTAB_MAX_DEPTH nodes, and the
 * loader refuses one that is: a chain of 400,000 nodes used to load, and
 * then every lookup walked all of it. The deepest legal chain loads. */
static void test_loader_refuses_deep_trees(void **state)
{
	(void)state;
	size_t len;
	char err[256] = "";
	struct portc_table *t = NULL;
	char *ok = chain_table(PTAB_MAX_DEPTH - 1, &len);
	assert_int_equal(portc_table_load(ok, len, &t, err, sizeof err), 0);
	portc_table_free(t);
	free(ok);
	static const uint32_t deep[] = { PTAB_MAX_DEPTH, 1000, 400000 };
	for (size_t i = 0; i < sizeof deep / sizeof *deep; i++) {
		char *bad = chain_table(deep[i], &len);
		t = NULL;
		err[0] = '\0';
		assert_int_equal(portc_table_load(bad, len, &t, err, sizeof err), -1);
		assert_null(t);
		assert_non_null(strstr(err, "deeper than"));
		free(bad);
	}
}

/* portc_table_open reads the header first: a file that is not a table,
 * or is larger than the bound or than its header says, is refused with
 * the file named, before it is read whole. */
static void test_open_checks_size_first(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_table.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64], err[256];
	snprintf(path, sizeof path, "%s/t.ptab", dir);
	struct portc_table *t = NULL;
	size_t len;
	char *good = chain_table(3, &len);
	FILE *fp = fopen(path, "wb");
	fwrite(good, 1, len, fp);
	fclose(fp);
	assert_int_equal(portc_table_open(path, &t, err, sizeof err), 0);
	portc_table_free(t);
	/* appended to: longer than its header says */
	fp = fopen(path, "ab");
	fputs("trailing", fp);
	fclose(fp);
	assert_int_equal(portc_table_open(path, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "longer"));
	/* a header claiming more than the bound */
	struct ptab_header *h = (struct ptab_header *)good;
	h->file_size = PTAB_MAX_FILE_SIZE + 1;
	fp = fopen(path, "wb");
	fwrite(good, 1, len, fp);
	fclose(fp);
	assert_int_equal(portc_table_open(path, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "more bytes than"));
	/* not a table at all, and a directory */
	assert_int_equal(portc_table_open("/dev/zero", &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "/dev/zero"));
	assert_int_equal(portc_table_open(dir, &t, err, sizeof err), -1);
	assert_int_equal(portc_table_load(good, (size_t)PTAB_MAX_FILE_SIZE + 1, &t, err, sizeof err), -1);
	unlink(path);
	rmdir(dir);
	free(good);
}

/* portc_rule_number: a table's entries carry the number of the policy
 * rule they come from, as doc, logs and query print it. */
static void test_rule_numbers(void **state)
{
	(void)state;
	struct table t;
	build_table(&t, "policy p { default deny;\n"
			"allow 192.0.2.0/24 -> 198.18.0.0/24 tcp 53, udp 53;\n"
			"allow 192.0.2.0/24 -> 198.18.0.0/24 tcp 80;\n"
			"deny 192.0.2.0/24 -> 198.18.0.0/24 tcp 22; }\n");
	struct portc_table *pt;
	char err[128];
	assert_int_equal(portc_table_load(t.bin.s, t.bin.len, &pt, err, sizeof err), 0);
	assert_int_equal(portc_table_rules(pt), 4);	/* rule 1 is two entries */
	static const uint32_t want[] = { 1, 1, 2, 3 };
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(portc_rule_number(pt, i), want[i]);
	assert_int_equal(portc_rule_number(pt, PORTC_DEFAULT_RULE), 0);
	assert_int_equal(portc_rule_number(pt, 4), 0);
	portc_table_free(pt);
	table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settling_rules),
		cmocka_unit_test(test_ipv6_cut_below_shared_prefix),
		cmocka_unit_test(test_chunk_edges),
		cmocka_unit_test(test_loader_refuses_deep_trees),
		cmocka_unit_test(test_open_checks_size_first),
		cmocka_unit_test(test_rule_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
