/* lift_nft.c - a running nftables table read back into the packet-space
 * model (lift.h). */
#include "lift.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "source.h"

/* What the model's packet carries beside its fields (lift.h). */
#define CTX_CT_STATE_NEW 8u	/* nft's bit for state new */
#define CTX_HOPLIMIT 255u
/* The most chain rules the lift may visit and pieces it may write before
 * it gives up: a foreign table of statements that decide nothing, one
 * after another, doubles the work with each. */
#define LIFT_MAX_STEPS 20000000u
#define LIFT_MAX_DEPTH 64

enum field { F_PROTO, F_SRC, F_DST, F_SPORT, F_DPORT, F_TYPE };

/* A product of packets: the families it holds (bit 0 IPv4, bit 1 IPv6)
 * and a set per field, addresses per family. */
struct guard {
	unsigned fam;
	struct ivset proto, src[2], dst[2], sport, dport, types;
};

/* What a match reads: a field of the model, a value of the context
 * (conntrack, the hop limit), the family, an interface, or something
 * the model does not hold. */
enum sel_kind { S_FIELD, S_CONST, S_BITS, S_FAMILY, S_IFACE, S_UNKNOWN };

struct sel {
	enum sel_kind kind;
	enum field field;
	unsigned fam;		/* the family it implies (0: none) */
	int proto;		/* the protocol it implies (-1: none) */
	u128 value;		/* S_CONST, S_BITS: the context's value */
};

struct state {
	int dscp;
	bool log;
};

/* Where the walk goes on: rule i of chain c, then up's. A frame that a
 * chain's walk made for the rule after the one it runs (resumable) says
 * with which state that walk goes on from it: packets that come back to it
 * with that state, through the end of a chain they jumped to, need not be
 * followed further, since the walk that made it follows them anyway, next
 * and in order (cut). Without this, each jump would walk the rest of its
 * chain once more, and a table of many rules that jump (portc's own, past
 * its rules per port) would take time growing with their square. */
struct frame {
	const struct nft_chain *c;
	size_t i;
	struct frame *up;
	struct state resume;
	unsigned barrier;	/* the walker's gotos when it was made */
	bool resumable;
	bool cut;		/* packets came back and were left to its walk */
};

struct walker {
	const struct nft_table *t;
	struct lift *l;
	struct arena *ar;
	ARR(struct ir_rule) out;
	unsigned decider;
	unsigned long steps;
	unsigned gotos;		/* gotos being followed: a frame made before one
				 * does not go on where the packets return */
	bool *noted;		/* per rule: already in l->skipped */
	bool handles;		/* name rules by handle in the notes */
	int depth;
};

/* ---- values --------------------------------------------------------------------- */

static u128 field_max(enum field f, int fi)
{
	switch (f) {
	case F_SRC:
	case F_DST: return fi ? U128_MAX : V4_MAX;
	case F_SPORT:
	case F_DPORT: return PORT_MAX;
	default: return 255;
	}
}

static bool scalar(const json_t *v, enum field f, int fi, u128 *out)
{
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		if (x < 0 || (u128)x > field_max(f, fi))
			return false;
		*out = (u128)x;
		return true;
	}
	if (json_is_string(v) && (f == F_SRC || f == F_DST)) {
		int fam;
		if (addr_parse_host(json_string_value(v), &fam, out))
			return false;
		return fam == (fi ? 6 : 4);
	}
	return false;
}

static bool value_set(struct walker *w, const json_t *v, enum field f, int fi, struct ivbuf *b);

static bool named_set(struct walker *w, const char *name, enum field f, int fi, struct ivbuf *b)
{
	const struct nft_set *s = nft_table_set(w->t, name);
	if (!s || s->map)
		return false;
	for (size_t i = 0; i < s->nelems; i++)
		if (!value_set(w, s->elem_json[i], f, fi, b))
			return false;
	return true;
}

/* The members of v (a number, an address, a prefix, a range, a set, a
 * named set, an element) as intervals of field f, family index fi. */
static bool value_set(struct walker *w, const json_t *v, enum field f, int fi, struct ivbuf *b)
{
	u128 lo, hi;
	json_t *x;
	if (json_is_string(v) && json_string_value(v)[0] == '@')
		return named_set(w, json_string_value(v) + 1, f, fi, b);
	if (scalar(v, f, fi, &lo)) {
		ivbuf_add(b, lo, lo);
		return true;
	}
	if ((x = json_object_get(v, "prefix"))) {
		json_t *len = json_object_get(x, "len");
		int bits = fi ? 128 : 32;
		if ((f != F_SRC && f != F_DST) || !scalar(json_object_get(x, "addr"), f, fi, &lo) ||
		    !json_is_integer(len) || json_integer_value(len) < 0 || json_integer_value(len) > bits)
			return false;
		int n = bits - (int)json_integer_value(len);
		u128 host = n >= 128 ? U128_MAX : (((u128)1 << n) - 1);
		ivbuf_add(b, lo & ~host, (lo & ~host) | host);
		return true;
	}
	if ((x = json_object_get(v, "range"))) {
		if (json_array_size(x) != 2 || !scalar(json_array_get(x, 0), f, fi, &lo) ||
		    !scalar(json_array_get(x, 1), f, fi, &hi) || lo > hi)
			return false;
		ivbuf_add(b, lo, hi);
		return true;
	}
	if ((x = json_object_get(v, "set")))
		v = x;
	if ((x = json_object_get(v, "elem")))
		return value_set(w, json_object_get(x, "val"), f, fi, b);
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!value_set(w, json_array_get(v, i), f, fi, b))
				return false;
		return true;
	}
	return false;
}

/* ---- selectors -------------------------------------------------------------------- */

static struct sel sel_field(enum field f, unsigned fam, int proto)
{
	return (struct sel){ S_FIELD, f, fam, proto, 0 };
}

static struct sel sel_const(enum sel_kind k, u128 v)
{
	return (struct sel){ k, F_PROTO, 0, -1, v };
}

static const struct sel unknown = { S_UNKNOWN, F_PROTO, 0, -1, 0 };

static struct sel payload_sel(const char *proto, const char *field)
{
	static const struct {
		const char *proto, *field;
		enum field f;
		unsigned fam;
		int ipproto;
	} map[] = {
		{ "ip", "saddr", F_SRC, 1, -1 },	{ "ip", "daddr", F_DST, 1, -1 },
		{ "ip", "protocol", F_PROTO, 1, -1 },	{ "ip6", "saddr", F_SRC, 2, -1 },
		{ "ip6", "daddr", F_DST, 2, -1 },	{ "ip6", "nexthdr", F_PROTO, 2, -1 },
		{ "tcp", "sport", F_SPORT, 0, 6 },	{ "tcp", "dport", F_DPORT, 0, 6 },
		{ "udp", "sport", F_SPORT, 0, 17 },	{ "udp", "dport", F_DPORT, 0, 17 },
		{ "icmp", "type", F_TYPE, 0, 1 },	{ "icmpv6", "type", F_TYPE, 0, 58 },
	};
	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (strcmp(proto, map[i].proto) == 0 && strcmp(field, map[i].field) == 0)
			return sel_field(map[i].f, map[i].fam, map[i].ipproto);
	if (strcmp(proto, "ip6") == 0 && strcmp(field, "hoplimit") == 0) {
		struct sel s = sel_const(S_CONST, CTX_HOPLIMIT);
		s.fam = 2;
		return s;
	}
	return unknown;
}

static struct sel parse_sel(const json_t *e)
{
	json_t *x;
	const char *key;
	if ((x = json_object_get(e, "payload"))) {
		const char *p = json_string_value(json_object_get(x, "protocol"));
		const char *f = json_string_value(json_object_get(x, "field"));
		return p && f ? payload_sel(p, f) : unknown;
	}
	if ((x = json_object_get(e, "meta")) && (key = json_string_value(json_object_get(x, "key")))) {
		if (strcmp(key, "l4proto") == 0)
			return sel_field(F_PROTO, 0, -1);
		if (strcmp(key, "nfproto") == 0 || strcmp(key, "protocol") == 0)
			return sel_const(S_FAMILY, strcmp(key, "protocol") == 0);
		if (!strcmp(key, "iif") || !strcmp(key, "oif") || !strcmp(key, "iifname") || !strcmp(key, "oifname"))
			return sel_const(S_IFACE, 0);
		if (strcmp(key, "mark") == 0)
			return sel_const(S_CONST, 0);
		return unknown;
	}
	if ((x = json_object_get(e, "ct")) && (key = json_string_value(json_object_get(x, "key"))) &&
	    !json_object_get(x, "dir")) {
		if (strcmp(key, "state") == 0)
			return sel_const(S_BITS, CTX_CT_STATE_NEW);
		if (strcmp(key, "direction") == 0 || strcmp(key, "mark") == 0)
			return sel_const(S_CONST, 0);	/* original; a new flow is unmarked */
		return unknown;
	}
	if ((x = json_object_get(e, "&")) && json_array_size(x) == 2) {
		struct sel s = parse_sel(json_array_get(x, 0));
		json_t *m = json_array_get(x, 1);
		if (s.kind != S_CONST || !json_is_integer(m))
			return unknown;
		s.value &= (u128)(unsigned long long)json_integer_value(m);
		return s;
	}
	return unknown;
}

/* ---- guards ------------------------------------------------------------------------ */

static struct guard guard_full(struct arena *a)
{
	struct guard g = { .fam = 3 };
	g.proto = ivset_range(a, 0, 255);
	g.src[0] = g.dst[0] = ivset_range(a, 0, V4_MAX);
	g.src[1] = g.dst[1] = ivset_range(a, 0, U128_MAX);
	g.sport = g.dport = ivset_range(a, 0, PORT_MAX);
	g.types = ivset_range(a, 0, 255);
	return g;
}

static bool guard_empty(struct guard *g)
{
	for (int fi = 0; fi < 2; fi++)
		if (!g->src[fi].n || !g->dst[fi].n)
			g->fam &= ~(1u << fi);
	return !g->fam || !g->proto.n || !g->sport.n || !g->dport.n || !g->types.n;
}

static bool guard_equal(const struct guard *a, const struct guard *b)
{
	if (a->fam != b->fam || !ivset_equal(a->proto, b->proto) || !ivset_equal(a->sport, b->sport) ||
	    !ivset_equal(a->dport, b->dport) || !ivset_equal(a->types, b->types))
		return false;
	for (int fi = 0; fi < 2; fi++)
		if ((a->fam >> fi & 1) && (!ivset_equal(a->src[fi], b->src[fi]) || !ivset_equal(a->dst[fi], b->dst[fi])))
			return false;
	return true;
}

static struct ivset *guard_field(struct guard *g, enum field f, int fi)
{
	switch (f) {
	case F_PROTO: return &g->proto;
	case F_SRC: return &g->src[fi];
	case F_DST: return &g->dst[fi];
	case F_SPORT: return &g->sport;
	case F_DPORT: return &g->dport;
	default: return &g->types;
	}
}

/* g narrowed to what s implies (family, protocol); false when empty. */
static bool imply(struct arena *a, struct guard *g, const struct sel *s)
{
	if (s->fam)
		g->fam &= s->fam;
	if (s->proto >= 0)
		g->proto = ivset_intersect(a, g->proto, ivset_range(a, (u128)s->proto, (u128)s->proto));
	return !guard_empty(g);
}

enum cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_GT, CMP_LE, CMP_GE, CMP_BAD };

static enum cmp parse_op(const char *op)
{
	static const char *const ops[] = { "==", "!=", "<", ">", "<=", ">=" };
	if (!op || strcmp(op, "in") == 0)
		return CMP_EQ;
	for (int i = 0; i < 6; i++)
		if (strcmp(op, ops[i]) == 0)
			return (enum cmp)i;
	return CMP_BAD;
}

/* The members op right stands for, of a field spanning [0, max]. */
static bool op_set(struct arena *a, enum cmp op, struct ivset s, u128 max, struct ivset *out)
{
	struct ivset all = ivset_range(a, 0, max);
	if (op == CMP_EQ) {
		*out = s;
	} else if (op == CMP_NE) {
		*out = ivset_diff(a, all, s);
	} else {
		if (s.n != 1 || s.v[0].lo != s.v[0].hi)
			return false;
		u128 v = s.v[0].lo;
		if (op == CMP_LT)
			*out = v ? ivset_range(a, 0, v - 1) : ivset_empty();
		else if (op == CMP_LE)
			*out = ivset_range(a, 0, v);
		else if (op == CMP_GT)
			*out = v < max ? ivset_range(a, v + 1, max) : ivset_empty();
		else
			*out = ivset_range(a, v, max);
	}
	return true;
}

/* A context value against the right side: the set it must be in. */
static bool const_holds(struct walker *w, const struct sel *s, enum cmp op, const json_t *right, bool *holds)
{
	struct ivbuf b = { 0 };
	bool ok = value_set(w, right, F_PROTO, 0, &b);
	if (s->kind == S_BITS) {
		/* conntrack's state is a bit mask: "ct state a,b" is any of them */
		u128 mask = 0;
		for (size_t i = 0; ok && i < b.n; i++) {
			if (b.v[i].lo != b.v[i].hi)
				ok = false;
			mask |= b.v[i].lo;
		}
		free(b.v);
		if (!ok || (op != CMP_EQ && op != CMP_NE))
			return false;
		*holds = ((s->value & mask) != 0) == (op == CMP_EQ);
		return true;
	}
	if (!ok) {
		/* 32-bit marks: a value past 255 */
		free(b.v);
		if (!json_is_integer(right))
			return false;
		b = (struct ivbuf){ 0 };
		ivbuf_add(&b, (u128)(unsigned long long)json_integer_value(right),
			  (u128)(unsigned long long)json_integer_value(right));
	}
	struct ivset set = ivbuf_finish(w->ar, &b), in;
	if (!op_set(w->ar, op, set, U128_MAX, &in))
		return false;
	*holds = ivset_contains(in, s->value);
	return true;
}

/* Which families "meta nfproto" or "meta protocol" right names. */
static bool family_of(const json_t *v, bool ethertype, unsigned *fam)
{
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		*fam = ethertype ? (x == 0x0800 ? 1u : x == 0x86dd ? 2u : 0u) : (x == 2 ? 1u : x == 10 ? 2u : 0u);
		return true;
	}
	const char *s = json_string_value(v);
	if (!s)
		return false;
	*fam = !strcmp(s, "ipv4") || !strcmp(s, "ip") ? 1u : !strcmp(s, "ipv6") || !strcmp(s, "ip6") ? 2u : 0u;
	return true;
}

/* g narrowed by a match on the family (meta nfproto or l3proto). */
static bool family_match(struct guard *g, const struct sel *s, enum cmp op, const json_t *right,
			 const char **why)
{
	unsigned fam = 0, f;
	const json_t *vals = json_object_get(right, "set") ? json_object_get(right, "set") : right;
	if (json_is_array(vals)) {
		for (size_t i = 0; i < json_array_size(vals); i++) {
			if (!family_of(json_array_get(vals, i), s->value != 0, &f)) {
				*why = "a family the model does not know";
				return false;
			}
			fam |= f;
		}
	} else if (!family_of(vals, s->value != 0, &fam)) {
		*why = "a family the model does not know";
		return false;
	}
	if (op == CMP_NE)
		fam = 3u & ~fam;
	else if (op != CMP_EQ) {
		*why = "a family compared by order";
		return false;
	}
	g->fam &= fam;
	return true;
}

/* Narrows g by one match; false with *why when the model cannot follow
 * it. *g's fam is 0 afterwards when no packet of it matches. */
static bool apply_match(struct walker *w, struct guard *g, const json_t *m, const char **why)
{
	const json_t *left = json_object_get(m, "left"), *right = json_object_get(m, "right");
	enum cmp op = parse_op(json_string_value(json_object_get(m, "op")));
	struct sel s = parse_sel(left);
	if (op == CMP_BAD || !right || s.kind == S_UNKNOWN) {
		*why = "a match on something the packet model does not hold";
		return false;
	}
	if (!imply(w->ar, g, &s))
		return true;
	bool holds;
	switch (s.kind) {
	case S_CONST:
	case S_BITS:
		if (!const_holds(w, &s, op, right, &holds)) {
			*why = "a comparison the model cannot evaluate";
			return false;
		}
		if (!holds)
			g->fam = 0;
		return true;
	case S_IFACE:
		/* the model's interface is one no rule names */
		if (op != CMP_EQ && op != CMP_NE) {
			*why = "an interface compared by order";
			return false;
		}
		if (op == CMP_EQ)
			g->fam = 0;
		return true;
	case S_FAMILY:
		return family_match(g, &s, op, right, why);
	default:
		break;
	}
	for (int fi = 0; fi < 2; fi++) {
		bool addr = s.field == F_SRC || s.field == F_DST;
		if (addr && !(g->fam >> fi & 1))
			continue;
		if (!addr && fi)
			break;
		struct ivbuf b = { 0 };
		if (!value_set(w, right, s.field, fi, &b)) {
			free(b.v);
			*why = "a value the model cannot read";
			return false;
		}
		struct ivset in, set = ivbuf_finish(w->ar, &b);
		if (!op_set(w->ar, op, set, field_max(s.field, fi), &in)) {
			*why = "a comparison the model cannot evaluate";
			return false;
		}
		struct ivset *f = guard_field(g, s.field, fi);
		*f = ivset_intersect(w->ar, *f, in);
	}
	guard_empty(g);
	return true;
}

/* g narrowed by a concatenation key equal to value (a map or set
 * element); false when the model cannot read it. */
static bool apply_concat(struct walker *w, struct guard *g, const json_t *key, const json_t *value)
{
	const json_t *x = json_object_get(value, "elem");
	if (x)
		value = json_object_get(x, "val");
	const json_t *keys = json_object_get(key, "concat");
	const json_t *vals = json_object_get(value, "concat");
	if (!keys) {
		json_t *m = json_pack("{s:s, s:O, s:O}", "op", "==", "left", key, "right", value);
		const char *why;
		bool ok = apply_match(w, g, m, &why);
		json_decref(m);
		return ok;
	}
	if (!vals || json_array_size(keys) != json_array_size(vals))
		return false;
	for (size_t i = 0; i < json_array_size(keys) && g->fam; i++) {
		json_t *m = json_pack("{s:s, s:O, s:O}", "op", "==", "left", json_array_get(keys, i), "right",
				      json_array_get(vals, i));
		const char *why;
		bool ok = apply_match(w, g, m, &why);
		json_decref(m);
		if (!ok)
			return false;
	}
	return true;
}

/* ---- the walk ---------------------------------------------------------------------- */

static void note_skip(struct walker *w, const struct nft_rule *r, const char *why)
{
	size_t i = (size_t)(r - w->t->rules);
	if (w->noted[i])
		return;
	w->noted[i] = true;
	struct lift *l = w->l;
	l->skipped = arena_realloc(w->ar, l->skipped, l->nskipped * sizeof *l->skipped,
				   (l->nskipped + 1) * sizeof *l->skipped);
	l->skipped[l->nskipped++] = (struct lift_skip){ r, why };
}

static const char *rule_note(struct walker *w, const struct nft_rule *r, const json_t *elem, const char *map)
{
	struct strbuf sb = { 0 };
	sb_init(&sb);
	if (!r) {
		sb_puts(&sb, "the chain's policy");
	} else if (elem) {
		sb_printf(&sb, "chain %s", r->chain);
		if (w->handles)
			sb_printf(&sb, ", %s %ld", w->t->rule_id, r->handle);
		sb_printf(&sb, ", %s %s: ", nft_table_set(w->t, map) && !nft_table_set(w->t, map)->map ? "set" : "map", map);
		nft_value_text(&sb, elem);
	} else {
		sb_printf(&sb, "chain %s", r->chain);
		if (w->handles)
			sb_printf(&sb, ", %s %ld", w->t->rule_id, r->handle);
		if (r->text)
			sb_printf(&sb, ": %s", r->text);
	}
	const char *s = arena_strdup(w->ar, sb.s);
	sb_free(&sb);
	return s;
}

/* The decided piece g as IR rules: one per protocol of it (IR rules name
 * one), the fields a protocol lacks left whole. */
static void emit(struct walker *w, const struct guard *g, struct state st, enum action act,
		 const struct nft_rule *r, const json_t *elem, const char *map)
{
	struct ir_rule base = { 0 };
	base.action = act;
	base.dscp = act == ACT_ALLOW ? st.dscp : -1;
	base.log = st.log;
	base.source = w->decider++;
	base.origin = (struct loc){ w->l->src, r ? (uint32_t)r->handle : 0, 0, 0, 0 };
	base.note = rule_note(w, r, elem, map);
	base.ruleset = r ? r->chain : NULL;
	if (g->fam & 1) {
		base.src4 = g->src[0];
		base.dst4 = g->dst[0];
	}
	if (g->fam & 2) {
		base.src6 = g->src[1];
		base.dst6 = g->dst[1];
	}
	struct ivset ports = ivset_range(w->ar, 0, PORT_MAX), types = ivset_range(w->ar, 0, 255);
	if (ivset_is_range(g->proto, 0, 255)) {
		base.proto = IR_PROTO_ANY;
		base.sport = base.dport = ports;
		base.types = types;
		base.index = (unsigned)w->out.n;
		ARR_PUSH(w->ar, w->out, base);
		w->steps++;
		return;
	}
	for (size_t i = 0; i < g->proto.n; i++)
		for (u128 p = g->proto.v[i].lo; p <= g->proto.v[i].hi; p++) {
			struct ir_rule ir = base;
			ir.proto = (int)p;
			ir.sport = ir_has_ports(ir.proto) ? g->sport : ports;
			ir.dport = ir_has_ports(ir.proto) ? g->dport : ports;
			ir.types = ir_has_types(ir.proto) ? g->types : types;
			ir.index = (unsigned)w->out.n;
			ARR_PUSH(w->ar, w->out, ir);
			w->steps++;
		}
}

static void run_chain(struct walker *w, struct frame *f, struct guard g, struct state st);

static struct frame *frame_new(struct walker *w, const struct nft_chain *c, size_t i, struct frame *up)
{
	struct frame *f = arena_alloc(w->ar, sizeof *f);
	*f = (struct frame){ .c = c, .i = i, .up = up, .barrier = w->gotos };
	return f;
}

/* Whether packets with state st that come back to frame f are left to the
 * walk that made it (see struct frame); marks f if so. */
static bool cut_at(struct walker *w, struct frame *f, struct state st)
{
	if (!f || !f->resumable || f->barrier != w->gotos || f->resume.dscp != st.dscp ||
	    f->resume.log != st.log)
		return false;
	f->cut = true;
	return true;
}

/* Where a verdict sends the packets of g: decided, or into a chain. */
static void verdict(struct walker *w, const json_t *v, const struct guard *g, struct state st,
		    struct frame *cont, const struct nft_rule *r, const json_t *elem, const char *map)
{
	json_t *x;
	const char *target;
	if (json_object_get(v, "accept")) {
		emit(w, g, st, ACT_ALLOW, r, elem, map);
	} else if (json_object_get(v, "drop")) {
		emit(w, g, st, ACT_DENY, r, elem, map);
	} else if ((x = json_object_get(v, "jump")) || (x = json_object_get(v, "goto"))) {
		target = json_string_value(json_object_get(x, "target"));
		const struct nft_chain *c = target ? nft_table_chain(w->t, target) : NULL;
		if (!c || c->hook) {
			note_skip(w, r, "a jump to a chain that is not in the table");
			return;
		}
		if (w->depth >= LIFT_MAX_DEPTH) {
			w->l->failed = "chains jump deeper than 64";
			return;
		}
		bool jump = json_object_get(v, "jump") != NULL;
		w->depth++;
		w->gotos += !jump;
		run_chain(w, frame_new(w, c, 0, jump ? cont : cont->up), *g, st);
		w->gotos -= !jump;
		w->depth--;
	} else if (json_object_get(v, "return")) {
		if (!cut_at(w, cont->up, st))
			run_chain(w, cont->up ? cont->up : frame_new(w, cont->c, cont->c->n, NULL), *g, st);
	} else {
		note_skip(w, r, "a verdict the model does not know");
	}
}

static const json_t *map_elems(struct walker *w, const json_t *data, const char **name)
{
	const char *s = json_string_value(data);
	if (s && s[0] == '@') {
		const struct nft_set *set = nft_table_set(w->t, s + 1);
		*name = s + 1;
		return set && set->map ? json_object_get(set->obj, "elem") : NULL;
	}
	*name = "(anonymous)";
	return json_object_get(data, "set");
}

/* A verdict map: each element's packets go where it says, the rest on. */
static void vmap(struct walker *w, const json_t *vm, const struct guard *g, struct state st,
		 struct frame *cont, const struct nft_rule *r)
{
	const char *name;
	const json_t *elems = map_elems(w, json_object_get(vm, "data"), &name);
	const json_t *key = json_object_get(vm, "key");
	if (!json_is_array(elems)) {
		note_skip(w, r, "a verdict map the model cannot read");
		return;
	}
	for (size_t i = 0; i < json_array_size(elems) && !w->l->failed; i++) {
		const json_t *e = json_array_get(elems, i);
		struct guard ge = *g;
		if (!json_is_array(e) || json_array_size(e) != 2 || !apply_concat(w, &ge, key, json_array_get(e, 0))) {
			note_skip(w, r, "a verdict map element the model cannot read");
			continue;
		}
		if (!guard_empty(&ge))
			verdict(w, json_array_get(e, 1), &ge, st, cont, r, e, name);
	}
}

enum ruled { R_PASS, R_DECIDED, R_SKIP };

struct via {
	const json_t *elem;	/* the set element that took the packets, or NULL */
	const char *set;
};

static enum ruled run_rule(struct walker *w, const struct nft_rule *r, size_t k, struct guard gr, struct state sr,
			   struct frame *cont, struct via via, const char **why);

/* A concatenation looked up in a set ("ip saddr . tcp dport @s", or an
 * anonymous set): each element's packets run the rest of the rule. */
static enum ruled run_lookup(struct walker *w, const struct nft_rule *r, size_t k, const json_t *m,
			     const struct guard *g, struct state st, struct frame *cont, const char **why)
{
	const json_t *left = json_object_get(m, "left"), *right = json_object_get(m, "right");
	const char *rs = json_string_value(right);
	const struct nft_set *s = rs && rs[0] == '@' ? nft_table_set(w->t, rs + 1) : NULL;
	const json_t *anon = json_object_get(right, "set");
	size_t n = s ? s->nelems : json_array_size(anon);
	*why = "a concatenation looked up in a way the model cannot read";
	if (parse_op(json_string_value(json_object_get(m, "op"))) != CMP_EQ || (rs && (!s || s->map)) ||
	    (!rs && !json_is_array(anon)))
		return R_SKIP;
	bool all = false;
	for (size_t i = 0; i < n && !w->l->failed; i++) {
		struct guard ge = *g;
		if (!apply_concat(w, &ge, left, s ? s->elem_json[i] : json_array_get(anon, i)))
			return R_SKIP;
		if (guard_empty(&ge))
			continue;
		const json_t *e = s ? s->elem_json[i] : json_array_get(anon, i);
		enum ruled res = run_rule(w, r, k + 1, ge, st, cont, (struct via){ e, s ? s->name : "(anonymous)" }, why);
		if (res == R_SKIP)
			return R_SKIP;
		all |= res == R_DECIDED && guard_equal(&ge, g);
	}
	return all ? R_DECIDED : R_PASS;
}

/* Rule r from its expression k on, over the packets of gr with state
 * sr: R_DECIDED when every packet of gr is decided by it, R_SKIP with
 * *why when the model cannot follow it (nothing is decided then: a
 * verdict is a rule's last statement, after every match). */
static enum ruled run_rule(struct walker *w, const struct nft_rule *r, size_t k, struct guard gr, struct state sr,
			   struct frame *cont, struct via via, const char **why)
{
	struct guard g0 = gr;
	struct state st = sr;
	for (; k < json_array_size(r->expr) && gr.fam; k++) {
		const json_t *e = json_array_get(r->expr, k), *x;
		if ((x = json_object_get(e, "match"))) {
			const json_t *left = json_object_get(x, "left");
			if (json_object_get(left, "concat")) {
				enum ruled res = run_lookup(w, r, k, x, &gr, sr, cont, why);
				return res == R_DECIDED && !guard_equal(&gr, &g0) ? R_PASS : res;
			}
			if (!apply_match(w, &gr, x, why))
				return R_SKIP;
		} else if (json_object_get(e, "counter")) {
			/* counts, decides nothing */
		} else if (json_object_get(e, "log")) {
			sr.log = true;
		} else if ((x = json_object_get(e, "mangle"))) {
			const json_t *key = json_object_get(x, "key"), *p = json_object_get(key, "payload");
			const char *proto = json_string_value(json_object_get(p, "protocol"));
			const char *field = json_string_value(json_object_get(p, "field"));
			if (p && proto && field && strcmp(field, "dscp") == 0 &&
			    (strcmp(proto, "ip") == 0 || strcmp(proto, "ip6") == 0) &&
			    json_is_integer(json_object_get(x, "value"))) {
				/* "ip dscp set" brings a dependency on its family */
				gr.fam &= proto[2] ? 2u : 1u;
				guard_empty(&gr);
				sr.dscp = (int)json_integer_value(json_object_get(x, "value"));
			} else if (!json_object_get(key, "ct") && !json_object_get(key, "meta")) {
				*why = "a change to the packet the model does not hold";
				return R_SKIP;
			}
			/* a conntrack or packet mark: remembered by the flow or the
			 * host, not part of this packet's decision */
		} else if ((x = json_object_get(e, "vmap"))) {
			vmap(w, x, &gr, sr, cont, r);
			return R_PASS;	/* the packets no element takes go on */
		} else if (json_object_get(e, "accept") || json_object_get(e, "drop") || json_object_get(e, "jump") ||
			   json_object_get(e, "goto") || json_object_get(e, "return")) {
			verdict(w, e, &gr, sr, cont, r, via.elem, via.set);
			return guard_equal(&gr, &g0) ? R_DECIDED : R_PASS;
		} else if (json_object_get(e, "reject")) {
			emit(w, &gr, sr, ACT_REJECT, r, via.elem, via.set);
			return guard_equal(&gr, &g0) ? R_DECIDED : R_PASS;
		} else {
			*why = "a statement the model does not know";
			return R_SKIP;
		}
	}
	if (gr.fam && (sr.dscp != st.dscp || sr.log != st.log)) {
		/* what it set holds for the rest of the way */
		run_chain(w, cont, gr, sr);
		return guard_equal(&gr, &g0) ? R_DECIDED : R_PASS;
	}
	return R_PASS;
}

/* The packets of g at rule f->i of chain f->c, with state st: every
 * piece of them decided, in first-match order. */
static void run_chain(struct walker *w, struct frame *f, struct guard g, struct state st)
{
	const struct nft_chain *c = f->c;
	size_t i = f->i;
	struct frame *up = f->up;
	for (;;) {
		for (; i < c->n && !w->l->failed; i++) {
			if (++w->steps > LIFT_MAX_STEPS) {
				w->l->failed = "the table is too large to follow (more than 20 million steps)";
				return;
			}
			const struct nft_rule *r = &w->t->rules[c->first + i];
			const char *why = NULL;
			struct frame *next = frame_new(w, c, i + 1, up);
			next->resumable = true;
			next->resume = st;
			enum ruled res = run_rule(w, r, 0, g, st, next, (struct via){ NULL, NULL }, &why);
			if (res == R_SKIP)
				note_skip(w, r, why);
			else if (res == R_DECIDED && !next->cut)
				return;	/* every packet of g is decided */
		}
		if (w->l->failed)
			return;
		if (c->hook || !up) {
			/* a base chain's end: its policy decides */
			bool accept = c->policy && strcmp(c->policy, "accept") == 0;
			emit(w, &g, st, accept ? ACT_ALLOW : ACT_DENY, NULL, NULL, NULL);
			return;
		}
		if (cut_at(w, up, st))
			return;
		c = up->c;
		i = up->i;
		up = up->up;
	}
}

void nft_lift(const struct nft_table *t, const char *shown, bool handles, struct lift *out)
{
	memset(out, 0, sizeof *out);
	out->ar = arena_new();
	out->src = source_new(out->ar, shown, NULL, "", 0);
	struct walker w = { .t = t, .l = out, .ar = out->ar, .handles = handles };
	w.noted = xcalloc(t->nrules + 1, sizeof *w.noted);
	for (int h = 0; h < HOOK__COUNT && !out->failed; h++) {
		const struct nft_chain *c = nft_table_chain(t, hook_name((enum hook)h));
		if (!c || !c->hook || strcmp(c->hook, c->name) != 0)
			continue;
		out->hooks |= HOOK_BIT(h);
		w.out.v = NULL;
		w.out.n = w.out.cap = 0;
		w.decider = 0;
		run_chain(&w, frame_new(&w, c, 0, NULL), guard_full(out->ar), (struct state){ -1, false });
		struct ir_policy *p = &out->pol[h];
		p->name = t->name;
		p->loc = (struct loc){ out->src, 0, 0, 0, 0 };
		p->dflt = c->policy && strcmp(c->policy, "accept") == 0 ? ACT_ALLOW : ACT_DENY;
		p->rules = w.out.v;
		p->nrules = w.out.n;
		p->nsource = w.decider;
	}
	free(w.noted);
}

void lift_free(struct lift *l)
{
	if (l->ar)
		arena_free(l->ar);
	memset(l, 0, sizeof *l);
}
