/* diffcheck.c - portc diff against brute force.
 *
 *   diffcheck OLD NEW
 *
 * Both policies decide alike between any two consecutive boundaries of
 * their sets, so the packets built from every boundary of every dimension
 * (each set's ends, one past them, and the ends of the space) stand for
 * every packet there is. For each of them, in both families, the reference
 * evaluator decides on both sides, and the difference diff_policies
 * computed must hold the packet exactly when the decisions differ, in the
 * change of the two rules that decide it. Exit 0 when all agree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diff.h"

struct points {
	u128 *v;
	size_t n, cap;
};

static void add(struct points *p, u128 v)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->v = xrealloc(p->v, p->cap * sizeof *p->v);
	}
	p->v[p->n++] = v;
}

static void add_set(struct points *p, struct ivset s, u128 max)
{
	for (size_t i = 0; i < s.n; i++) {
		add(p, s.v[i].lo);
		add(p, s.v[i].hi);
		if (s.v[i].lo > 0)
			add(p, s.v[i].lo - 1);
		if (s.v[i].hi < max)
			add(p, s.v[i].hi + 1);
	}
}

static int cmp(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;
	return x < y ? -1 : x > y;
}

static void uniq(struct points *p)
{
	qsort(p->v, p->n, sizeof *p->v, cmp);
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++)
		if (k == 0 || p->v[k - 1] != p->v[i])
			p->v[k++] = p->v[i];
	p->n = k;
}

static void collect(const struct ir_policy *pol, int f, struct points pt[PS_DIMS])
{
	u128 amax = f == 4 ? V4_MAX : U128_MAX;
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		add_set(&pt[PS_SRC], f == 4 ? r->src4 : r->src6, amax);
		add_set(&pt[PS_DST], f == 4 ? r->dst4 : r->dst6, amax);
		add_set(&pt[PS_SPORT], r->sport, 65535);
		add_set(&pt[PS_DPORT], r->dport, 65535);
		add_set(&pt[PS_TYPE], r->types, 255);
		if (r->proto != IR_PROTO_ANY) {
			struct iv one = { (u128)r->proto, (u128)r->proto };
			add_set(&pt[PS_PROTO], (struct ivset){ &one, 1 }, 255);
		}
	}
}

/* The change holding p, or NULL. */
static const struct diff_change *find(const struct diff_result *r, const struct packet *p)
{
	struct box b;
	box_of_packet(p, &b);
	const struct diff_change *hit = NULL;
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].family != p->family)
			continue;
		for (size_t k = 0; k < r->v[i].n; k++)
			if (prod_has_point(&r->v[i].p[k], &b)) {
				if (hit) {
					fprintf(stderr, "diffcheck: a packet is in two changes\n");
					exit(1);
				}
				hit = &r->v[i];
			}
	}
	return hit;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: diffcheck OLD NEW\n");
		return 2;
	}
	struct cli_opts o;
	memset(&o, 0, sizeof o);
	memset(o.diag.enabled, -1, sizeof o.diag.enabled);
	struct diag d1, d2;
	struct unit u1, u2;
	int rc;
	const struct ir_policy *a = driver_compile(&u1, &d1, &o, argv[1], &rc);
	const struct ir_policy *b = driver_compile(&u2, &d2, &o, argv[2], &rc);
	if (!a || !b)
		return 2;
	struct diff_result r;
	if (!diff_policies(a, b, &r)) {
		fprintf(stderr, "diffcheck: the diff gave up (too large)\n");
		return 1;
	}
	unsigned long checked = 0, differ = 0, bad = 0;
	for (int f = 4; f <= 6; f += 2) {
		struct points pt[PS_DIMS] = { { 0 } };
		u128 amax = f == 4 ? V4_MAX : U128_MAX;
		add(&pt[PS_SRC], 0);
		add(&pt[PS_SRC], amax);
		add(&pt[PS_DST], 0);
		add(&pt[PS_DST], amax);
		add(&pt[PS_SPORT], 0);
		add(&pt[PS_DPORT], 0);
		add(&pt[PS_TYPE], 0);
		int protos[] = { 0, 1, 6, 17, 47, 58, 255 };
		for (size_t i = 0; i < sizeof protos / sizeof *protos; i++)
			add(&pt[PS_PROTO], (u128)protos[i]);
		collect(a, f, pt);
		collect(b, f, pt);
		for (int k = 0; k < PS_DIMS; k++)
			uniq(&pt[k]);
		struct packet p;
		memset(&p, 0, sizeof p);
		p.family = f;
		for (size_t i0 = 0; i0 < pt[PS_PROTO].n; i0++) {
			p.proto = (int)pt[PS_PROTO].v[i0];
			bool ports = ir_has_ports(p.proto), types = ir_has_types(p.proto);
			size_t nsp = ports ? pt[PS_SPORT].n : 1, ndp = ports ? pt[PS_DPORT].n : 1;
			size_t nty = types ? pt[PS_TYPE].n : 1;
			for (size_t i1 = 0; i1 < pt[PS_SRC].n; i1++)
				for (size_t i2 = 0; i2 < pt[PS_DST].n; i2++)
					for (size_t i3 = 0; i3 < nsp; i3++)
						for (size_t i4 = 0; i4 < ndp; i4++)
							for (size_t i5 = 0; i5 < nty; i5++) {
								p.src = pt[PS_SRC].v[i1];
								p.dst = pt[PS_DST].v[i2];
								p.sport = ports ? (uint16_t)pt[PS_SPORT].v[i3] : 0;
								p.dport = ports ? (uint16_t)pt[PS_DPORT].v[i4] : 0;
								p.type = types ? (uint8_t)pt[PS_TYPE].v[i5] : 0;
								struct verdict vo = eval_packet(a, &p), vn = eval_packet(b, &p);
								struct decision x = decision_of(a, vo.rule), y = decision_of(b, vn.rule);
								bool want = !decision_equal(x, y);
								const struct diff_change *c = find(&r, &p);
								checked++;
								differ += want;
								bool ok = want ? c && c->old_rule == vo.rule && c->new_rule == vn.rule : !c;
								if (!ok && bad++ < 10) {
									struct strbuf sb = { 0 };
									sb_init(&sb);
									packet_format(&p, &sb);
									fprintf(stderr, "diffcheck: %s: decisions %s, diff says %s\n", sb.s,
										want ? "differ" : "agree", c ? "a change" : "nothing");
									sb_free(&sb);
								}
							}
		}
		for (int k = 0; k < PS_DIMS; k++)
			free(pt[k].v);
	}
	printf("diffcheck: %s %s: %zu changes, %lu packets, %lu decided differently, %lu wrong\n",
	       argv[1], argv[2], r.n, checked, differ, bad);
	diff_free(&r);
	unit_free(&u1);
	unit_free(&u2);
	diag_free(&d1);
	diag_free(&d2);
	return bad ? 1 : 0;
}
