/* tablecheck.c - the matching table against the reference evaluator, and
 * the table loader against corrupt input.
 *
 *   tablecheck [-I DIR] [-D NAME=VALUE]... [-p POLICY] [--count N] [--seed N] FILE
 *       Compiles FILE like portc, builds its table, loads it through
 *       libportc (from memory, as a program would), and classifies N packets
 *       (default 1,000,000) both ways: every edge of every box of every rule
 *       (each bound and the values just outside it, per field), then random
 *       packets, half inside a random rule's box, half anywhere, in both
 *       families and every protocol the policy names plus a few it does not.
 *       Each packet is classified by portc_classify and, 64 at a time (runs
 *       of IPv4, of IPv6, and of both), by portc_classify_batch.
 *       Prints the first mismatch and exits 1 if the rule, action or DSCP
 *       differs; prints "N packets, 0 mismatches" otherwise.
 *
 *   tablecheck --mutate N [--seed N] FILE
 *       Builds FILE's table, then loads N corrupted copies: bytes flipped,
 *       fields set to extremes, the file cut short; half of them with the
 *       checksum fixed up so that the structural checks, not the checksum,
 *       must catch them. A copy the loader accepts is classified against
 *       random packets. Under ASan and UBSan (make check SANITIZE=1) any
 *       out-of-bounds read or undefined behaviour fails the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../tool_args.h"
#include "eval.h"
#include "portc/match.h"
#include "portc/table_format.h"
#include "pspace.h"
#include "table.h"

uint32_t portc_crc32c(uint32_t crc, const void *buf, size_t len);

/* A packet at point x of the packet space, with the fields its protocol
 * lacks at 0, as the evaluator reads them. */
static struct packet at(int family, const u128 x[PS_DIMS])
{
	struct packet p = { .family = family, .proto = (int)x[PS_PROTO], .src = x[PS_SRC],
			    .dst = x[PS_DST] };
	if (ir_has_ports(p.proto)) {
		p.sport = (uint16_t)x[PS_SPORT];
		p.dport = (uint16_t)x[PS_DPORT];
	}
	if (ir_has_types(p.proto))
		p.type = (uint8_t)x[PS_TYPE];
	return p;
}

static const u128 dim_max[2][PS_DIMS] = {
	{ 255, 0xFFFFFFFFu, 65535, 0xFFFFFFFFu, 65535, 255 },
	{ 255, ~(u128)0, 65535, ~(u128)0, 65535, 255 },
};

static unsigned long checked, mismatches;

/* Packets wait here to be classified in one portc_classify_batch call,
 * as a program with a stream of them would, as well as one by one with
 * portc_classify: the batch call takes runs of IPv4 packets its own way
 * (docs/table-format.md), which single calls never reach. */
enum { PENDING = 64 };
static struct {
	struct packet p[PENDING];
	struct verdict v[PENDING];
	struct portc_tuple k[PENDING];
	size_t n;
} pending;

static void check_one(const struct ir_policy *pol, const struct packet *p,
		      const struct verdict *v, const struct portc_result *r, const char *how)
{
	uint32_t want = v->rule ? (uint32_t)(v->rule - pol->rules) : PORTC_DEFAULT_RULE;
	if (r->rule == want && r->action == (uint8_t)v->action && r->dscp == v->dscp)
		return;
	if (mismatches++ < 5) {
		struct strbuf sb = { 0 };
		sb_init(&sb);
		packet_format(p, &sb);
		fprintf(stderr, "tablecheck: %s: table (%s) says rule %u (%s, dscp %d), evaluator "
			"rule %u (%s, dscp %d)\n", sb.s, how, r->rule,
			action_name((enum action)r->action), r->dscp, want, action_name(v->action),
			v->dscp);
		sb_free(&sb);
	}
}

static void flush(const struct ir_policy *pol, const struct portc_table *t)
{
	struct portc_result rb[PENDING];
	portc_classify_batch(t, pending.k, pending.n, rb);
	for (size_t i = 0; i < pending.n; i++) {
		struct portc_result r1;
		portc_classify(t, &pending.k[i], &r1);
		check_one(pol, &pending.p[i], &pending.v[i], &r1, "single");
		check_one(pol, &pending.p[i], &pending.v[i], &rb[i], "batch");
		checked++;
	}
	pending.n = 0;
}

static void compare(const struct ir_policy *pol, const struct portc_table *t,
		    const struct packet *p)
{
	size_t i = pending.n++;
	pending.p[i] = *p;
	pending.v[i] = eval_packet(pol, p);
	packet_to_tuple(p, &pending.k[i]);
	if (pending.n == PENDING)
		flush(pol, t);
}

/* Every bound of every box, and the values just past it, field by field,
 * with the other fields inside the box. */
static void edges(const struct ir_policy *pol, const struct portc_table *t, unsigned long *left)
{
	for (size_t i = 0; i < pol->nrules && *left; i++)
		for (int f = 0; f < 2; f++) {
			struct boxes bx = { 0 };
			if (!rule_boxes(&pol->rules[i], f ? 6 : 4, &bx, 64))
				continue;
			for (size_t k = 0; k < bx.n && *left; k++)
				for (int d = 0; d < PS_DIMS; d++)
					for (int w = 0; w < 4 && *left; w++) {
						const struct box *b = &bx.v[k];
						u128 x[PS_DIMS];
						for (int e = 0; e < PS_DIMS; e++)
							x[e] = rnd_in(b->d[e].lo, b->d[e].hi);
						u128 lo = b->d[d].lo, hi = b->d[d].hi;
						if (w == 0)
							x[d] = lo;
						else if (w == 1)
							x[d] = hi;
						else if (w == 2 && lo > 0)
							x[d] = lo - 1;
						else if (w == 3 && hi < dim_max[f][d])
							x[d] = hi + 1;
						struct packet p = at(f ? 6 : 4, x);
						compare(pol, t, &p);
						(*left)--;
					}
			boxes_free(&bx);
		}
}

static void randoms(const struct ir_policy *pol, const struct portc_table *t, unsigned long n)
{
	static const int extra[] = { 6, 17, 1, 58, 47, 50, 132 };
	for (unsigned long i = 0; i < n; i++) {
		/* runs of IPv4 packets, of IPv6 ones and of both, a batch call
		 * each */
		unsigned run = (unsigned)(i / PENDING % 3);
		int f = run == 2 ? (int)(rnd() & 1) : (int)run;
		u128 x[PS_DIMS];
		const struct ir_rule *r = pol->nrules ? &pol->rules[rnd() % pol->nrules] : NULL;
		struct boxes bx = { 0 };
		if (r && (rnd() & 1) && rule_boxes(r, f ? 6 : 4, &bx, 64) && bx.n) {
			const struct box *b = &bx.v[rnd() % bx.n];
			for (int d = 0; d < PS_DIMS; d++)
				x[d] = rnd_in(b->d[d].lo, b->d[d].hi);
		} else {
			for (int d = 0; d < PS_DIMS; d++)
				x[d] = rnd_in(0, dim_max[f][d]);
			x[PS_PROTO] = (u128)extra[rnd() % ARRAY_LEN(extra)];
		}
		boxes_free(&bx);
		struct packet p = at(f ? 6 : 4, x);
		compare(pol, t, &p);
	}
}

/* ---- --mutate ------------------------------------------------------------- */

static int mutate(const struct strbuf *bin, unsigned long iters)
{
	unsigned long accepted = 0;
	size_t hs = sizeof(struct ptab_header);
	for (unsigned long it = 0; it < iters; it++) {
		size_t len = bin->len;
		unsigned char *m = xmalloc(len);
		memcpy(m, bin->s, len);
		unsigned kind = (unsigned)(rnd() % 4);
		unsigned hits = 1 + (unsigned)(rnd() % 4);
		for (unsigned h = 0; h < hits; h++) {
			/* aim at the header and the node section half of the time */
			size_t at_ = (rnd() & 1) ? rnd() % (hs + 64 < len ? hs + 64 : len) : rnd() % len;
			if (kind == 0)
				m[at_] ^= (unsigned char)(1u << (rnd() % 8));
			else if (kind == 1 && at_ + 4 <= len)
				memset(m + at_, (rnd() & 1) ? 0xFF : 0x00, 4);
			else if (kind == 2)
				m[at_] = (unsigned char)rnd();
		}
		if (kind == 3)
			len = rnd() % len;
		if (rnd() & 1 && len >= hs) {
			/* fix the checksum so that the structure is what gets tested */
			struct ptab_header h;
			memcpy(&h, m, sizeof h);
			h.crc32c = 0;
			memcpy(m, &h, sizeof h);
			h.crc32c = portc_crc32c(0, m, len);
			memcpy(m, &h, sizeof h);
		}
		struct portc_table *t;
		char err[256];
		if (portc_table_load(m, len, &t, err, sizeof err) == 0) {
			accepted++;
			for (int i = 0; i < 200; i++) {
				struct portc_tuple k = { .family = (uint8_t)((rnd() & 1) ? 4 : 6),
							 .proto = (uint8_t)rnd(), .icmp_type = (uint8_t)rnd(),
							 .sport = (uint16_t)rnd(), .dport = (uint16_t)rnd() };
				for (int b = 0; b < 16; b++) {
					k.src[b] = (uint8_t)rnd();
					k.dst[b] = (uint8_t)rnd();
				}
				struct portc_result r;
				portc_classify(t, &k, &r);
			}
			portc_table_free(t);
		} else if (!err[0]) {
			fprintf(stderr, "tablecheck: the loader refused a table without saying why\n");
			free(m);
			return 1;
		}
		free(m);
	}
	printf("tablecheck: %lu corrupted tables loaded, %lu accepted (and queried), no crash\n",
	       iters, accepted);
	return 0;
}

int main(int argc, char **argv)
{
	struct tool_args a;
	tool_args_init(&a, 1000000);
	unsigned long mutations = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mutate") == 0 && i + 1 < argc)
			mutations = strtoul(argv[++i], NULL, 10);
		else if (tool_arg(&a, argc, argv, &i) != 0)
			a.file = NULL, i = argc;
	}
	unsigned long count = a.count;
	const char *file = a.file;
	if (!file) {
		fprintf(stderr, "usage: tablecheck [-I DIR] [-D N=V]... [-p POLICY] [--count N] "
			"[--seed N] [--mutate N] FILE\n");
		return 2;
	}
	struct diag d;
	struct unit u;
	int rc;
	const struct ir_policy *pol = driver_compile(&u, &d, &a.o, a.file, &rc);
	if (!pol)
		return 1;
	struct strbuf bin = { 0 };
	sb_init(&bin);
	struct table_stats ts;
	if (!table_build(pol, &bin, &ts, &d)) {
		diag_flush(&d, stderr);
		return 1;
	}
	if (mutations) {
		rc = mutate(&bin, mutations);
	} else {
		struct portc_table *t;
		char err[256];
		if (portc_table_load(bin.s, bin.len, &t, err, sizeof err) != 0) {
			fprintf(stderr, "tablecheck: %s: the table does not load: %s\n", file, err);
			return 1;
		}
		/* up to half on edges, the rest at random */
		unsigned long left = count / 2;
		edges(pol, t, &left);
		randoms(pol, t, count - (count / 2 - left));
		flush(pol, t);
		/* the loaded table holds the file and the copies made of it */
		size_t memory = portc_table_memory(t);
		printf("tablecheck: %s: %zu rules, %zu boxes, %zu nodes, %zu bytes (%zu loaded): "
		       "%lu packets, %lu mismatches\n", file, ts.rules, ts.entries, ts.nodes, ts.bytes,
		       memory, checked, mismatches);
		if (memory <= ts.bytes)
			fprintf(stderr, "tablecheck: %s: portc_table_memory says %zu bytes, not more "
				"than the file's %zu\n", file, memory, ts.bytes);
		portc_table_free(t);
		rc = mismatches || memory <= ts.bytes ? 1 : 0;
	}
	sb_free(&bin);
	unit_free(&u);
	diag_free(&d);
	return rc;
}
