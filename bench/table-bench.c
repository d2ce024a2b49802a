/* table-bench.c - portc's matching table against a linear first-match scan
 * and DPDK's rte_acl, over one ClassBench filter set.
 *
 *   table-bench LABEL FILTERS POLICY [TRACE] [--packets N]
 *
 * FILTERS is a ClassBench set; POLICY the same set as a portc policy
 * (bench/classbench2pol.py), so rule i of one is rule i of the other.
 * Packets: TRACE (ClassBench's trace format) where one is bundled, then,
 * to make N, packets made the way ClassBench makes them (a point inside a
 * random rule) alternating with packets at or just past a random rule's
 * edges. One run builds the three classifiers and measures build time,
 * size, and lookups per second on one thread and on two, then checks that
 * they agree: portc, rte_acl and portc's reference evaluator (eval_packet)
 * on every packet, the linear scan (slow at 100k rules) on as many as its
 * time budget allows. The evaluator, a plain scan of the IR, takes minutes
 * at 100k rules; BENCH_EVAL_BUDGET=N caps its rule checks as the linear
 * scan's are capped, for a quick run. Any disagreement fails the run.
 * Prints one line of figures (see bench/table-bench.py, which makes the
 * table). */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include "cli.h"
#include "eval.h"
#include "portc/match.h"
#include "table.h"

struct cb_rule {
	uint32_t src, smask, dst, dmask;	/* host order, prefix as a mask */
	uint16_t splo, sphi, dplo, dphi;
	uint8_t proto, pmask;
	int slen, dlen;
};

/* rte_acl's input: one buffer per packet, fields in network order */
struct acl_key {
	uint8_t proto;
	uint8_t pad[3];
	uint32_t src, dst;
	uint16_t sport, dport;
};

struct pkt {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static unsigned long long rs = 0x9E3779B97F4A7C15ull;

static unsigned long long rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static size_t read_filters(const char *path, struct cb_rule **out)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		perror(path);
		exit(2);
	}
	size_t n = 0, cap = 1024;
	struct cb_rule *v = malloc(cap * sizeof *v);
	unsigned a[4], b[4], sl, dl, splo, sphi, dplo, dphi, pr, pm;
	while (fscanf(fp, " @%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x %*s", &a[0], &a[1],
		      &a[2], &a[3], &sl, &b[0], &b[1], &b[2], &b[3], &dl, &splo, &sphi, &dplo, &dphi,
		      &pr, &pm) == 16) {
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		struct cb_rule *r = &v[n++];
		r->slen = (int)sl;
		r->dlen = (int)dl;
		r->smask = sl ? ~0u << (32 - sl) : 0;
		r->dmask = dl ? ~0u << (32 - dl) : 0;
		r->src = (a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]) & r->smask;
		r->dst = (b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) & r->dmask;
		r->splo = (uint16_t)splo, r->sphi = (uint16_t)sphi;
		r->dplo = (uint16_t)dplo, r->dphi = (uint16_t)dphi;
		r->proto = (uint8_t)pr, r->pmask = (uint8_t)pm;
	}
	fclose(fp);
	*out = v;
	return n;
}

/* One of a range's ends, or just outside one, or a point inside it. */
static uint32_t near_end(uint32_t lo, uint32_t hi, uint32_t max)
{
	switch (rnd() % 5) {
	case 0:
		return lo;
	case 1:
		return hi;
	case 2:
		return lo ? lo - 1 : lo;
	case 3:
		return hi < max ? hi + 1 : hi;
	default:
		return lo + (uint32_t)(rnd() % ((uint64_t)hi - lo + 1));
	}
}

/* Packets to time (check false): the trace, repeated to make n, as
 * ClassBench is measured; without a trace, points inside random rules, the
 * way ClassBench makes its traces. Packets to check (check true): the
 * trace once, then points inside random rules alternating with points at
 * or just past a random rule's edges, where an off-by-one would show. */
static void make_packets(const char *trace, const struct cb_rule *r, size_t nr, struct pkt *p,
			 size_t n, bool check)
{
	size_t got = 0;
	FILE *fp = trace ? fopen(trace, "r") : NULL;
	if (fp) {
		unsigned long s, d, sp, dp, pr;
		while (got < n && fscanf(fp, "%lu %lu %lu %lu %lu %*s %*s", &s, &d, &sp, &dp, &pr) == 5)
			p[got++] = (struct pkt){ (uint32_t)s, (uint32_t)d, (uint16_t)sp, (uint16_t)dp,
						 (uint8_t)pr };
		fclose(fp);
		for (size_t i = got; got && !check && i < n; i++)
			p[i] = p[i % got];
		if (got && !check)
			return;
	}
	static const uint8_t protos[] = { 6, 17, 1, 47 };
	for (size_t i = got; i < n; i++) {
		const struct cb_rule *x = &r[rnd() % nr];
		uint8_t pr = x->pmask ? x->proto : protos[rnd() % 4];
		if (check && i % 2) {
			p[i] = (struct pkt){ near_end(x->src, x->src | ~x->smask, UINT32_MAX),
					     near_end(x->dst, x->dst | ~x->dmask, UINT32_MAX),
					     (uint16_t)near_end(x->splo, x->sphi, 65535),
					     (uint16_t)near_end(x->dplo, x->dphi, 65535),
					     rnd() % 8 ? pr : protos[rnd() % 4] };
			continue;
		}
		uint32_t s = x->src | ((uint32_t)rnd() & ~x->smask);
		uint32_t d = x->dst | ((uint32_t)rnd() & ~x->dmask);
		uint16_t sp = (uint16_t)(x->splo + rnd() % ((unsigned)x->sphi - x->splo + 1));
		uint16_t dp = (uint16_t)(x->dplo + rnd() % ((unsigned)x->dphi - x->dplo + 1));
		p[i] = (struct pkt){ s, d, sp, dp, pr };
	}
}

/* ---- the three classifiers ------------------------------------------------ */

static uint32_t linear(const struct cb_rule *r, size_t n, const struct pkt *p)
{
	for (size_t i = 0; i < n; i++) {
		const struct cb_rule *x = &r[i];
		if ((p->src & x->smask) == x->src && (p->dst & x->dmask) == x->dst &&
		    (p->proto & x->pmask) == (x->proto & x->pmask) && p->sport >= x->splo &&
		    p->sport <= x->sphi && p->dport >= x->dplo && p->dport <= x->dphi)
			return (uint32_t)i;
	}
	return UINT32_MAX;
}

struct job {
	int kind;			/* 0 portc, 1 linear, 2 rte_acl, 3 eval_packet */
	const struct ir_policy *pol;
	const struct portc_table *t;
	const struct portc_tuple *tuples;
	struct rte_acl_ctx *acl;
	const struct acl_key *keys;
	const struct cb_rule *rules;
	size_t nrules;
	const struct pkt *pkts;
	size_t from, to;
	uint32_t *out;			/* rule per packet, UINT32_MAX for none */
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	enum { BATCH = 64 };
	if (j->kind == 0) {
		struct portc_result res[BATCH];
		for (size_t i = j->from; i < j->to; i += BATCH) {
			size_t n = j->to - i < BATCH ? j->to - i : BATCH;
			portc_classify_batch(j->t, j->tuples + i, n, res);
			for (size_t k = 0; k < n; k++)
				j->out[i + k] = res[k].rule == PORTC_DEFAULT_RULE ? UINT32_MAX : res[k].rule;
		}
	} else if (j->kind == 1) {
		for (size_t i = j->from; i < j->to; i++)
			j->out[i] = linear(j->rules, j->nrules, &j->pkts[i]);
	} else if (j->kind == 3) {
		for (size_t i = j->from; i < j->to; i++) {
			const struct pkt *q = &j->pkts[i];
			struct packet p = { .family = 4, .proto = q->proto, .src = q->src, .dst = q->dst };
			if (ir_has_ports(p.proto)) {
				p.sport = q->sport;
				p.dport = q->dport;
			}
			struct verdict v = eval_packet(j->pol, &p);
			j->out[i] = v.rule ? (uint32_t)(v.rule - j->pol->rules) : UINT32_MAX;
		}
	} else {
		const uint8_t *data[BATCH];
		uint32_t res[BATCH];
		for (size_t i = j->from; i < j->to; i += BATCH) {
			size_t n = j->to - i < BATCH ? j->to - i : BATCH;
			for (size_t k = 0; k < n; k++)
				data[k] = (const uint8_t *)&j->keys[i + k];
			rte_acl_classify(j->acl, data, res, (uint32_t)n, 1);
			for (size_t k = 0; k < n; k++)
				j->out[i + k] = res[k] ? res[k] - 1 : UINT32_MAX;
		}
	}
	return NULL;
}

/* Rounds of all three classifiers. Each round times every window once,
 * so a window's passes lie a round (one to two seconds) apart: nine
 * instants over the run, where three rounds of three passes in a row gave
 * three; the slow spells of this machine last seconds (bench/README.md). */
enum { ROUNDS = 9 };

static double min_of(double a, double b)
{
	return a < b ? a : b;
}

/* Seconds to classify packets [0, n) once on `threads` threads. */
static double pass(struct job proto, size_t n, int threads)
{
	pthread_t th[2];
	struct job jobs[2];
	double t0 = now();
	for (int k = 0; k < threads; k++) {
		jobs[k] = proto;
		jobs[k].from = n * (size_t)k / (size_t)threads;
		jobs[k].to = n * (size_t)(k + 1) / (size_t)threads;
		pthread_create(&th[k], NULL, run_job, &jobs[k]);
	}
	for (int k = 0; k < threads; k++)
		pthread_join(th[k], NULL);
	return now() - t0;
}

/* The fastest of a few passes over packets [0, n) on two threads: a pass
 * of a fast classifier takes tens of milliseconds, where a late thread
 * start or a frequency change shows; passes are repeated for at least
 * half a second (at most 5), and the slow ones run once. */
static double timed_two(struct job proto, size_t n)
{
	double best = pass(proto, n, 2), total = best;
	for (int k = 1; k < 5 && total < 0.5; k++) {
		double t = pass(proto, n, 2);
		total += t;
		best = t < best ? t : best;
	}
	return best;
}

/* One thread's time over packets [0, n), in windows of about 20 ms
 * each: every round classifies each window once, and the fastest pass
 * of each window over all rounds counts. A shared machine has slow
 * spells of seconds, and the fastest of many short passes finds its quiet
 * moments where the fastest of a few long ones cannot: with whole passes
 * (portc's 28 ms at 10k rules, the linear scan's 600 ms) the ratio of the
 * two moved by a quarter either way from run to run (bench/README.md).
 * With passes of one length for every classifier, each is timed as
 * quietly as the others. A window is never shorter than 20 ms of the
 * classifier, so a fast one streams through as many packets as in a
 * whole pass and finds no more of its table in cache. */
struct windows {
	struct job job;
	size_t n, size, count;
	double *best;		/* per window, seconds */
};

static void windows_init(struct windows *w, struct job job, size_t n)
{
	double t = pass(job, n, 1);		/* how fast, roughly; the caches warmed */
	double size = 0.02 * (double)n / (t > 1e-9 ? t : 1e-9);
	w->job = job;
	w->n = n;
	w->size = size < 1 ? 1 : size > (double)n ? n : (size_t)size;
	w->count = (n + w->size - 1) / w->size;
	w->best = malloc(w->count * sizeof *w->best);
	for (size_t k = 0; k < w->count; k++)
		w->best[k] = 1e300;
}

static void windows_round(struct windows *w)
{
	for (size_t k = 0; k < w->count; k++) {
		struct job j = w->job;
		j.from = k * w->size;
		j.to = j.from + w->size < w->n ? j.from + w->size : w->n;
		double t0 = now();
		run_job(&j);
		w->best[k] = min_of(w->best[k], now() - t0);
	}
}

static double windows_secs(const struct windows *w)
{
	double sum = 0;
	for (size_t k = 0; k < w->count; k++)
		sum += w->best[k];
	return sum;
}

static struct rte_acl_ctx *build_acl(const struct cb_rule *r, size_t n, double *secs, size_t *bytes)
{
	RTE_ACL_RULE_DEF(acl5, 5);
	struct rte_acl_config cfg = { .num_categories = 1, .num_fields = 5 };
	cfg.defs[0] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_BITMASK, 1, 0, 0,
						  offsetof(struct acl_key, proto) };
	cfg.defs[1] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_MASK, 4, 1, 1,
						  offsetof(struct acl_key, src) };
	cfg.defs[2] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_MASK, 4, 2, 2,
						  offsetof(struct acl_key, dst) };
	cfg.defs[3] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_RANGE, 2, 3, 3,
						  offsetof(struct acl_key, sport) };
	cfg.defs[4] = (struct rte_acl_field_def){ RTE_ACL_FIELD_TYPE_RANGE, 2, 4, 3,
						  offsetof(struct acl_key, dport) };
	struct rte_malloc_socket_stats before, after;
	rte_malloc_get_socket_stats(0, &before);
	double t0 = now();
	struct rte_acl_param prm = { "bench", 0, RTE_ACL_RULE_SZ(5), (uint32_t)n };
	struct rte_acl_ctx *ctx = rte_acl_create(&prm);
	if (!ctx) {
		fprintf(stderr, "table-bench: rte_acl_create failed\n");
		exit(1);
	}
	struct acl5 *rules = calloc(n, sizeof *rules);
	for (size_t i = 0; i < n; i++) {
		/* first match: the earlier rule, the higher priority */
		rules[i].data = (struct rte_acl_rule_data){ 1, (int32_t)(n - i), (uint32_t)(i + 1) };
		rules[i].field[0].value.u8 = r[i].proto;
		rules[i].field[0].mask_range.u8 = r[i].pmask;
		rules[i].field[1].value.u32 = r[i].src;
		rules[i].field[1].mask_range.u32 = (uint32_t)r[i].slen;
		rules[i].field[2].value.u32 = r[i].dst;
		rules[i].field[2].mask_range.u32 = (uint32_t)r[i].dlen;
		rules[i].field[3].value.u16 = r[i].splo;
		rules[i].field[3].mask_range.u16 = r[i].sphi;
		rules[i].field[4].value.u16 = r[i].dplo;
		rules[i].field[4].mask_range.u16 = r[i].dphi;
	}
	if (rte_acl_add_rules(ctx, (const struct rte_acl_rule *)rules, (uint32_t)n) != 0 ||
	    rte_acl_build(ctx, &cfg) != 0) {
		fprintf(stderr, "table-bench: rte_acl could not build the set\n");
		exit(1);
	}
	*secs = now() - t0;
	rte_malloc_get_socket_stats(0, &after);
	*bytes = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
	free(rules);
	return ctx;
}

int main(int argc, char **argv)
{
	size_t npkts = 1000000;
	bool check = true;		/* --time-only: a repeat, for the timing alone */
	const char *pos[4] = { 0 };
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
			npkts = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--time-only") == 0)
			check = false;
		else if (npos < 4)
			pos[npos++] = argv[i];
	}
	if (npos < 3) {
		fprintf(stderr, "usage: table-bench LABEL FILTERS POLICY [TRACE] [--packets N] "
			"[--time-only]\n");
		return 2;
	}
	const char *label = pos[0], *filters = pos[1], *policy = pos[2], *trace = pos[3];

	/* EAL without hugepages or devices: rte_acl only needs its allocator */
	char *eal[] = { "table-bench", "--no-huge", "--no-pci", "--no-shconf", "-l", "0", "-m", "2048",
			"--log-level=error", NULL };
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "table-bench: rte_eal_init failed\n");
		return 1;
	}

	/* EAL pinned this thread to core 0 (-l 0); the threads of the
	 * two-core runs inherit what this thread has, so give it every core */
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int k = 0; k < CPU_SETSIZE; k++)
		CPU_SET(k, &all);
	pthread_setaffinity_np(pthread_self(), sizeof all, &all);

	struct cb_rule *rules;
	size_t nrules = read_filters(filters, &rules);

	/* portc: compile the policy, build and load its table */
	struct cli_opts o;
	memset(&o, 0, sizeof o);
	memset(o.diag.enabled, -1, sizeof o.diag.enabled);
	struct diag d;
	struct unit u;
	int rc;
	const struct ir_policy *pol = driver_compile(&u, &d, &o, policy, &rc);
	if (!pol || pol->nrules != nrules) {
		fprintf(stderr, "table-bench: %s does not hold the %zu rules of %s\n", policy, nrules,
			filters);
		return 1;
	}
	struct strbuf bin = { 0 };
	sb_init(&bin);
	struct table_stats ts;
	double t0 = now();
	if (!table_build(pol, &bin, &ts, &d)) {
		diag_flush(&d, stderr);
		return 1;
	}
	double portc_build = now() - t0;
	struct portc_table *t;
	char err[256];
	if (portc_table_load(bin.s, bin.len, &t, err, sizeof err) != 0) {
		fprintf(stderr, "table-bench: %s\n", err);
		return 1;
	}

	double acl_build;
	size_t acl_bytes;
	struct rte_acl_ctx *acl = build_acl(rules, nrules, &acl_build, &acl_bytes);

	/* the packets to time (0), and the packets to check (1; not for
	 * --time-only) */
	struct pkt *pk[2] = { 0 };
	struct portc_tuple *tu[2] = { 0 };
	struct acl_key *keys[2] = { 0 };
	for (int set = 0; set < (check ? 2 : 1); set++) {
		pk[set] = calloc(npkts, sizeof *pk[set]);
		make_packets(trace, rules, nrules, pk[set], npkts, set);
		tu[set] = calloc(npkts, sizeof *tu[set]);
		keys[set] = rte_zmalloc("keys", npkts * sizeof *keys[set], 64);
		for (size_t i = 0; i < npkts; i++) {
			const struct pkt *x = &pk[set][i];
			tu[set][i] = (struct portc_tuple){ .family = 4, .proto = x->proto,
							   .sport = x->sport, .dport = x->dport };
			uint32_t s = __builtin_bswap32(x->src), dd = __builtin_bswap32(x->dst);
			memcpy(tu[set][i].src, &s, 4);
			memcpy(tu[set][i].dst, &dd, 4);
			keys[set][i] = (struct acl_key){ .proto = x->proto, .src = s, .dst = dd,
							 .sport = __builtin_bswap16(x->sport),
							 .dport = __builtin_bswap16(x->dport) };
		}
	}

	/* out[set][classifier]: 0 portc, 1 linear, 2 rte_acl, 3 evaluator */
	uint32_t *out[2][4];
	for (int set = 0; set < 2; set++)
		for (int k = 0; k < 4; k++)
			out[set][k] = calloc(npkts, sizeof *out[set][k]);
	struct job base[2];
	for (int set = 0; set < 2; set++)
		base[set] = (struct job){ .pol = pol, .t = t, .tuples = tu[set], .acl = acl,
					  .keys = keys[set], .rules = rules, .nrules = nrules,
					  .pkts = pk[set] };
	/* the linear scan gets a budget of about 2e9 rule checks */
	size_t nlin = npkts;
	if (nlin > 2000000000ull / (nrules + 1))
		nlin = 2000000000ull / (nrules + 1);

	struct job jp = base[0], jl = base[0], ja = base[0];
	jp.kind = 0, jp.out = out[0][0];
	jl.kind = 1, jl.out = out[0][1];
	ja.kind = 2, ja.out = out[0][2];
	/* Rounds of all three, the best of each kept: on a shared machine a
	 * noisy neighbour's burst then slows one round, not one classifier. */
	struct windows wp, wl, wa;
	windows_init(&wp, jp, npkts);
	windows_init(&wl, jl, nlin);
	windows_init(&wa, ja, npkts);
	double p2 = 1e300, l2 = 1e300, a2 = 1e300;
	for (int round = 0; round < ROUNDS; round++) {
		windows_round(&wp), p2 = min_of(p2, timed_two(jp, npkts));
		windows_round(&wl), l2 = min_of(l2, timed_two(jl, nlin));
		windows_round(&wa), a2 = min_of(a2, timed_two(ja, npkts));
	}
	double p1 = windows_secs(&wp), l1 = windows_secs(&wl), a1 = windows_secs(&wa);
	free(wp.best), free(wl.best), free(wa.best);

	/* the check: portc, rte_acl and the reference evaluator on every packet
	 * of the check set (BENCH_EVAL_BUDGET caps the evaluator's rule checks,
	 * for a quick run), on both cores */
	size_t neval = npkts;
	const char *budget = getenv("BENCH_EVAL_BUDGET");
	if (budget && *budget && neval > strtoull(budget, NULL, 10) / (nrules + 1))
		neval = strtoull(budget, NULL, 10) / (nrules + 1);
	if (!check)
		neval = 0;
	for (int k = 0; check && k < 4; k++) {
		if (k == 1)
			continue;
		struct job j = base[1];
		j.kind = k, j.out = out[1][k];
		pass(j, k == 3 ? neval : npkts, 2);
	}

	size_t bad = 0;
	static const char *const setname[] = { "timed", "checked" };
	for (int set = 0; set < (check ? 2 : 1); set++) {
		uint32_t *const *o = out[set];
		size_t nl = set ? 0 : nlin, ne = set ? neval : 0;
		for (size_t i = 0; i < npkts; i++) {
			bool wrong = o[0][i] != o[2][i] || (i < nl && o[0][i] != o[1][i]) ||
				     (i < ne && o[0][i] != o[3][i]);
			if (wrong && bad++ < 5)
				fprintf(stderr, "table-bench: %s %s packet %zu: portc rule %d, rte_acl %d, "
					"linear %d, evaluator %d\n", label, setname[set], i, (int)o[0][i],
					(int)o[2][i], i < nl ? (int)o[1][i] : -2, i < ne ? (int)o[3][i] : -2);
		}
	}
	/* LABEL RULES PACKETS LINEAR_PACKETS | portc: build_s bytes mlps1 mlps2 |
	 * linear: mlps1 mlps2 | rte_acl: build_s bytes mlps1 mlps2 | MISMATCHES
	 * EVALUATED */
	printf("%s %zu %zu %zu %.4f %zu %.3f %.3f %.4f %.4f %.4f %zu %.3f %.3f %zu %zu\n", label,
	       nrules, npkts, nlin, portc_build, bin.len, npkts / p1 / 1e6, npkts / p2 / 1e6,
	       nlin / l1 / 1e6, nlin / l2 / 1e6, acl_build, acl_bytes, npkts / a1 / 1e6,
	       npkts / a2 / 1e6, bad, neval);
	rte_acl_free(acl);
	portc_table_free(t);
	rte_eal_cleanup();
	return bad ? 1 : 0;
}
