/* pspace.c - box algebra over the packet space. */
#include "pspace.h"

#include <stdlib.h>
#include <string.h>

void boxes_push(struct boxes *b, const struct box *x)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->v = xrealloc(b->v, b->cap * sizeof *b->v);
	}
	b->v[b->n++] = *x;
}

void boxes_free(struct boxes *b)
{
	free(b->v);
	memset(b, 0, sizeof *b);
}

bool box_intersect(const struct box *a, const struct box *b, struct box *out)
{
	for (int i = 0; i < PS_DIMS; i++) {
		u128 lo = a->d[i].lo > b->d[i].lo ? a->d[i].lo : b->d[i].lo;
		u128 hi = a->d[i].hi < b->d[i].hi ? a->d[i].hi : b->d[i].hi;
		if (lo > hi)
			return false;
		out->d[i].lo = lo;
		out->d[i].hi = hi;
	}
	return true;
}

bool box_overlaps(const struct box *a, const struct box *b)
{
	/* lint's innermost test: the addresses first, since they tell most
	 * boxes apart, and unrolled */
#define MISS(i) (a->d[i].hi < b->d[i].lo || b->d[i].hi < a->d[i].lo)
	return !(MISS(PS_DST) || MISS(PS_SRC) || MISS(PS_DPORT) || MISS(PS_SPORT) ||
		 MISS(PS_PROTO) || MISS(PS_TYPE));
#undef MISS
}

bool box_contains(const struct box *outer, const struct box *inner)
{
	for (int i = 0; i < PS_DIMS; i++)
		if (inner->d[i].lo < outer->d[i].lo || inner->d[i].hi > outer->d[i].hi)
			return false;
	return true;
}

static u128 packet_coord(const struct packet *p, int dim)
{
	switch (dim) {
	case PS_PROTO: return (u128)p->proto;
	case PS_SRC: return p->src;
	case PS_SPORT: return ir_has_ports(p->proto) ? p->sport : 0;
	case PS_DST: return p->dst;
	case PS_DPORT: return ir_has_ports(p->proto) ? p->dport : 0;
	case PS_TYPE: return ir_has_types(p->proto) ? p->type : 0;
	}
	BUG("bad dimension %d", dim);
}

bool box_has_point(const struct box *b, const struct packet *p)
{
	for (int i = 0; i < PS_DIMS; i++) {
		u128 c = packet_coord(p, i);
		if (c < b->d[i].lo || c > b->d[i].hi)
			return false;
	}
	return true;
}

unsigned box_bits(const struct box *b)
{
	unsigned bits = 0;
	for (int i = 0; i < PS_DIMS; i++) {
		u128 w = b->d[i].hi - b->d[i].lo;
		while (w) {
			bits++;
			w >>= 1;
		}
	}
	return bits;
}

void box_of_packet(const struct packet *p, struct box *out)
{
	for (int i = 0; i < PS_DIMS; i++)
		out->d[i].lo = out->d[i].hi = packet_coord(p, i);
}

void box_subtract(const struct box *a, const struct box *b, struct boxes *out)
{
	struct box inter;
	if (!box_intersect(a, b, &inter)) {
		boxes_push(out, a);
		return;
	}
	/* Peel a off dimension by dimension: the part below the intersection,
	 * the part above, then narrow to the intersection and go on. */
	struct box rest = *a;
	for (int i = 0; i < PS_DIMS; i++) {
		if (rest.d[i].lo < inter.d[i].lo) {
			struct box piece = rest;
			piece.d[i].hi = inter.d[i].lo - 1;
			boxes_push(out, &piece);
		}
		if (rest.d[i].hi > inter.d[i].hi) {
			struct box piece = rest;
			piece.d[i].lo = inter.d[i].hi + 1;
			boxes_push(out, &piece);
		}
		rest.d[i] = inter.d[i];
	}
}

/* The interval lists of each dimension of r in family f. */
static void dims_of(const struct ir_rule *r, int f, struct ivset dims[PS_DIMS], struct iv own[PS_DIMS])
{
	own[PS_PROTO] = r->proto == IR_PROTO_ANY ? (struct iv){ 0, 255 }
						 : (struct iv){ (u128)r->proto, (u128)r->proto };
	dims[PS_PROTO] = (struct ivset){ &own[PS_PROTO], 1 };
	dims[PS_SRC] = f == 4 ? r->src4 : r->src6;
	dims[PS_DST] = f == 4 ? r->dst4 : r->dst6;
	bool ports = r->proto != IR_PROTO_ANY && ir_has_ports(r->proto);
	bool types = r->proto != IR_PROTO_ANY && ir_has_types(r->proto);
	own[PS_SPORT] = (struct iv){ 0, 65535 };
	own[PS_DPORT] = (struct iv){ 0, 65535 };
	own[PS_TYPE] = (struct iv){ 0, 255 };
	dims[PS_SPORT] = ports ? r->sport : (struct ivset){ &own[PS_SPORT], 1 };
	dims[PS_DPORT] = ports ? r->dport : (struct ivset){ &own[PS_DPORT], 1 };
	dims[PS_TYPE] = types ? r->types : (struct ivset){ &own[PS_TYPE], 1 };
}

size_t rule_box_count(const struct ir_rule *r, int family)
{
	if (r->unenforceable)
		return 0;
	struct ivset dims[PS_DIMS];
	struct iv own[PS_DIMS];
	dims_of(r, family, dims, own);
	size_t n = 1;
	for (int i = 0; i < PS_DIMS; i++) {
		if (dims[i].n == 0)
			return 0;
		if (n > SIZE_MAX / dims[i].n)
			return SIZE_MAX;
		n *= dims[i].n;
	}
	return n;
}

bool rule_boxes(const struct ir_rule *r, int family, struct boxes *out, size_t max)
{
	size_t n = rule_box_count(r, family);
	if (n == 0)
		return true;
	if (n > max)
		return false;
	struct ivset dims[PS_DIMS];
	struct iv own[PS_DIMS];
	dims_of(r, family, dims, own);
	size_t idx[PS_DIMS] = { 0 };
	for (size_t k = 0; k < n; k++) {
		struct box b;
		for (int i = 0; i < PS_DIMS; i++)
			b.d[i] = dims[i].v[idx[i]];
		boxes_push(out, &b);
		/* odometer over the dimensions */
		for (int i = PS_DIMS - 1; i >= 0; i--) {
			if (++idx[i] < dims[i].n)
				break;
			idx[i] = 0;
		}
	}
	return true;
}

/* In place: most boxes of a set miss b, and copying them (a box is 192
 * bytes) was most of lint's time. Boxes b cuts are replaced by their
 * pieces: the first piece takes the box's slot, the others go to the end,
 * and boxes b swallows whole are compacted away at the end. */
bool boxes_subtract(struct boxes *set, const struct box *b, size_t max)
{
	/* one scan finds the boxes b cuts; only those are touched again */
	size_t small[256], *hit = small, nhit = 0, hcap = ARRAY_LEN(small);
	size_t n = set->n;
	for (size_t i = 0; i < n; i++) {
		if (!box_overlaps(&set->v[i], b))
			continue;
		if (nhit == hcap) {
			hcap *= 2;
			hit = hit == small ? memcpy(xcalloc(hcap, sizeof *hit), small, sizeof small)
					   : xrealloc(hit, hcap * sizeof *hit);
		}
		hit[nhit++] = i;
	}
	bool ok = true;
	struct box pieces[2 * PS_DIMS];
	struct boxes out = { pieces, 0, ARRAY_LEN(pieces) };
	if (n + nhit * (2 * PS_DIMS - 1) > max) {
		/* the bound is loose; count exactly before refusing */
		size_t total = n - nhit;
		for (size_t k = 0; k < nhit && total <= max; k++) {
			out.n = 0;
			box_subtract(&set->v[hit[k]], b, &out);
			total += out.n;
		}
		ok = total <= max;
	}
	bool holes = false;
	for (size_t k = 0; ok && k < nhit; k++) {
		size_t i = hit[k];
		out.n = 0;
		box_subtract(&set->v[i], b, &out);
		if (out.n == 0) {
			set->v[i].d[0].lo = 1;	/* empty: dropped below */
			set->v[i].d[0].hi = 0;
			holes = true;
			continue;
		}
		set->v[i] = pieces[0];
		for (size_t m = 1; m < out.n; m++)
			boxes_push(set, &pieces[m]);
	}
	if (holes) {
		size_t w = 0;
		for (size_t i = 0; i < set->n; i++)
			if (!(set->v[i].d[0].lo > set->v[i].d[0].hi))
				set->v[w++] = set->v[i];
		set->n = w;
	}
	if (hit != small)
		free(hit);
	return ok;
}

void box_sample(const struct box *b, int family, struct packet *p)
{
	memset(p, 0, sizeof *p);
	p->family = family;
	p->proto = (int)b->d[PS_PROTO].lo;
	p->src = b->d[PS_SRC].lo;
	p->dst = b->d[PS_DST].lo;
	p->sport = (uint16_t)b->d[PS_SPORT].lo;
	p->dport = (uint16_t)b->d[PS_DPORT].lo;
	p->type = (uint8_t)b->d[PS_TYPE].lo;
}

/* A packet in box b, chosen to read well: TCP where the protocol allows,
 * a common client port, the first address. */
void box_sample_readable(const struct box *b, int family, struct packet *p)
{
	box_sample(b, family, p);
	static const int prefer[] = { 6, 17, 1, 58 };
	for (size_t i = 0; i < ARRAY_LEN(prefer); i++) {
		if (b->d[PS_PROTO].lo <= (u128)prefer[i] && (u128)prefer[i] <= b->d[PS_PROTO].hi &&
		    !(prefer[i] == 1 && family == 6) && !(prefer[i] == 58 && family == 4)) {
			p->proto = prefer[i];
			break;
		}
	}
	if (b->d[PS_SPORT].lo <= 40000 && 40000 <= b->d[PS_SPORT].hi)
		p->sport = 40000;
	if (b->d[PS_DPORT].lo == 0 && b->d[PS_DPORT].hi == 65535)
		p->dport = 443;
	/* an address from the documentation ranges where the box allows one */
	u128 doc = family == 4 ? 0xC0000201u : (((u128)0x20010db8 << 96) | 1);
	u128 doc2 = family == 4 ? 0xC0000202u : (((u128)0x20010db8 << 96) | 2);
	if (b->d[PS_SRC].lo <= doc && doc <= b->d[PS_SRC].hi)
		p->src = doc;
	if (b->d[PS_DST].lo <= doc2 && doc2 <= b->d[PS_DST].hi)
		p->dst = doc2;
	if (!ir_has_ports(p->proto))
		p->sport = p->dport = 0;
	if (!ir_has_types(p->proto))
		p->type = 0;
}
