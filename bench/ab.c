/* ab.c - two or more builds of libportc, timed against each other in one
 * process.
 *
 *   ab [--rounds N] [--chunk N] [--call N] [--ipv6 1] TRACE TABLE LIB[@TABLE]...
 *
 * Loads each LIB (a libportc.so, by dlopen, each with its own symbols),
 * opens TABLE with it (or the table after its @), and classifies the
 * packets of TRACE (ClassBench's trace format; repeated to 1,000,000)
 * with portc_classify_batch: ROUNDS rounds (default 300), each timing
 * every library in turn on the same CHUNK packets (default 100,000),
 * either in one call or in calls of CALL packets as table-bench makes
 * them. For each library it prints the fastest pass in millions of
 * lookups a second, the sum of the rule ids it answered (equal sums: the
 * same answers, most likely), and the median and quartiles, over the
 * rounds, of the first library's time over its own: its speed against
 * the first, measured minutes apart from nothing. --ipv6 1 sends the trace
 * as IPv6 packets, each address A.B.C.D as 2001:db8:AABB:CCDD::, ICMP as
 * ICMPv6, for a table of `classbench2pol.py --ipv6`.
 *
 * Why: on a shared virtual machine the speed moves by a quarter within
 * minutes, so two runs of make bench-table cannot tell a 5% change from
 * the weather; passes of the two libraries side by side can. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portc/match.h"

typedef int (*open_fn)(const char *, struct portc_table **, char *, size_t);
typedef void (*batch_fn)(const struct portc_table *, const struct portc_tuple *, size_t,
			 struct portc_result *);

enum { MAXLIB = 8, PACKETS = 1000000 };

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* TRACE's packets into k[0 .. cap), repeated as needed. */
static void read_trace(const char *path, struct portc_tuple *k, size_t cap, bool ipv6)
{
	static const uint8_t doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };	/* 2001:db8::/32 */
	FILE *fp = fopen(path, "r");
	if (!fp) {
		perror(path);
		exit(2);
	}
	size_t n = 0;
	unsigned long s, d, sp, dp, pr;
	while (n < cap && fscanf(fp, "%lu %lu %lu %lu %lu %*s %*s", &s, &d, &sp, &dp, &pr) == 5) {
		struct portc_tuple *p = &k[n++];
		*p = (struct portc_tuple){ .family = 4, .proto = (uint8_t)pr, .sport = (uint16_t)sp,
					   .dport = (uint16_t)dp };
		int at = 0;
		if (ipv6) {
			p->family = 6;
			p->proto = pr == 1 ? 58 : p->proto;
			memcpy(p->src, doc, 4);
			memcpy(p->dst, doc, 4);
			at = 4;
		}
		for (int b = 0; b < 4; b++) {
			p->src[at + b] = (uint8_t)(s >> (24 - 8 * b));
			p->dst[at + b] = (uint8_t)(d >> (24 - 8 * b));
		}
	}
	fclose(fp);
	if (!n) {
		fprintf(stderr, "ab: %s: no packets\n", path);
		exit(2);
	}
	for (size_t i = n; i < cap; i++)
		k[i] = k[i % n];
}

/* Packets [from, from + n) through one library, timed. */
static double pass(batch_fn f, const struct portc_table *t, const struct portc_tuple *k,
		   size_t from, size_t n, size_t call, struct portc_result *r)
{
	double t0 = now();
	if (!call) {
		f(t, k + from, n, r + from);
	} else {
		for (size_t i = from; i < from + n; i += call)
			f(t, k + i, from + n - i < call ? from + n - i : call, r + i);
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	size_t rounds = 300, chunk = 100000, call = 0;
	bool ipv6 = false;
	int i = 1;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		size_t v = strtoul(argv[i + 1], NULL, 10);
		if (strcmp(argv[i], "--rounds") == 0 && v)
			rounds = v;
		else if (strcmp(argv[i], "--chunk") == 0 && v && v <= PACKETS)
			chunk = v;
		else if (strcmp(argv[i], "--call") == 0)
			call = v;
		else if (strcmp(argv[i], "--ipv6") == 0)
			ipv6 = v != 0;
		else
			i = argc;
	}
	int nlib = argc - i - 2;
	if (nlib < 1 || nlib > MAXLIB) {
		fprintf(stderr, "usage: ab [--rounds N] [--chunk N] [--call N] [--ipv6 1] TRACE "
			"TABLE LIB[@TABLE]... (up to %d)\n", MAXLIB);
		return 2;
	}
	const char *trace = argv[i], *table = argv[i + 1];
	char **libs = &argv[i + 2];

	struct portc_tuple *k = calloc(PACKETS, sizeof *k);
	struct portc_result *r = calloc(PACKETS, sizeof *r);
	double *secs = calloc(rounds * (size_t)nlib, sizeof *secs), *ratio = calloc(rounds, sizeof *ratio);
	if (!k || !r || !secs || !ratio) {
		fprintf(stderr, "ab: out of memory\n");
		return 1;
	}
	read_trace(trace, k, PACKETS, ipv6);

	batch_fn fn[MAXLIB];
	struct portc_table *t[MAXLIB];
	unsigned long long sum[MAXLIB];
	for (int l = 0; l < nlib; l++) {
		char path[4096], err[256];
		snprintf(path, sizeof path, "%s", libs[l]);
		char *at = strchr(path, '@');
		const char *tab = table;
		if (at) {
			*at = 0;
			tab = at + 1;
		}
		/* RTLD_LOCAL: each library's portc_* stay its own */
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "ab: %s\n", dlerror());
			return 1;
		}
		open_fn op = (open_fn)(uintptr_t)dlsym(h, "portc_table_open");
		fn[l] = (batch_fn)(uintptr_t)dlsym(h, "portc_classify_batch");
		if (!op || !fn[l] || op(tab, &t[l], err, sizeof err) != 0) {
			fprintf(stderr, "ab: %s: %s\n", path, op && fn[l] ? err : "not libportc");
			return 1;
		}
		/* one pass over everything: the answers' sum, and warm caches */
		fn[l](t[l], k, PACKETS, r);
		sum[l] = 0;
		for (size_t j = 0; j < PACKETS; j++)
			sum[l] += r[j].rule;
	}
	for (size_t round = 0; round < rounds; round++) {
		/* a different stretch of the packets each round */
		size_t from = chunk == PACKETS ? 0 : round * chunk % (PACKETS - chunk);
		for (int l = 0; l < nlib; l++)
			secs[round * (size_t)nlib + (size_t)l] = pass(fn[l], t[l], k, from, chunk, call, r);
	}
	char how[64] = "one call";
	if (call)
		snprintf(how, sizeof how, "calls of %zu", call);
	printf("%zu rounds of %zu %s packets in %s; speed against %s: median (quartiles) of the "
	       "rounds\n", rounds, chunk, ipv6 ? "IPv6" : "IPv4", how, libs[0]);
	for (int l = 0; l < nlib; l++) {
		double best = 1e300;
		for (size_t q = 0; q < rounds; q++) {
			double s = secs[q * (size_t)nlib + (size_t)l];
			best = s < best ? s : best;
			ratio[q] = secs[q * (size_t)nlib] / s;
		}
		qsort(ratio, rounds, sizeof *ratio, by_value);
		printf("%-40s %8.2f Mlps  rules %llu  x%.3f (%.3f-%.3f)\n", libs[l], (double)chunk / best / 1e6,
		       sum[l], ratio[rounds / 2], ratio[rounds / 4], ratio[3 * rounds / 4]);
	}
	return 0;
}
