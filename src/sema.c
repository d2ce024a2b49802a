/* sema.c - name resolution and evaluation of network, port, service and
 * QoS expressions.
 *
 * check.c runs every expression through here once with reporting on, which
 * resolves each name (the result is stored in the N_REF node) and reports
 * what is wrong. lower.c runs them again with ruleset arguments bound and
 * reporting off. */
#include "sema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "names.h"

/* Definitions referring to definitions deeper than this are refused: it
 * bounds the evaluator's recursion on hostile input. */
#define SEMA_MAX_DEPTH 200

/* Marks a name that failed to resolve, so it is reported once. */
static struct symbol unresolved_sym;

/* ---- symbol table ------------------------------------------------------ */

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void symtab_init(struct arena *a, struct symtab *t)
{
	memset(t, 0, sizeof *t);
	t->cap = 64;
	t->slots = arena_calloc(a, t->cap, sizeof *t->slots);
}

struct symbol *symtab_get(const struct symtab *t, const char *name)
{
	size_t i = hash_name(name) & (t->cap - 1);
	while (t->slots[i]) {
		if (strcmp(t->slots[i]->name, name) == 0)
			return t->slots[i];
		i = (i + 1) & (t->cap - 1);
	}
	return NULL;
}

static void symtab_insert(struct symtab *t, struct symbol *s)
{
	size_t i = hash_name(s->name) & (t->cap - 1);
	while (t->slots[i])
		i = (i + 1) & (t->cap - 1);
	t->slots[i] = s;
}

struct symbol *symtab_add(struct arena *a, struct symtab *t, struct symbol *s)
{
	struct symbol *old = symtab_get(t, s->name);
	if (old)
		return old;
	if ((t->n + 1) * 2 > t->cap) {
		struct symbol **old_slots = t->slots;
		size_t old_cap = t->cap;
		t->cap *= 2;
		t->slots = arena_calloc(a, t->cap, sizeof *t->slots);
		for (size_t i = 0; i < old_cap; i++)
			if (old_slots[i])
				symtab_insert(t, old_slots[i]);
	}
	symtab_insert(t, s);
	t->n++;
	if (t->norder == t->order_cap) {
		size_t nc = t->order_cap ? t->order_cap * 2 : 64;
		t->order = arena_realloc(a, t->order, t->order_cap * sizeof *t->order,
					 nc * sizeof *t->order);
		t->order_cap = nc;
	}
	t->order[t->norder++] = s;
	return NULL;
}

const char *sym_kind_desc(const struct symbol *s)
{
	switch (s->kind) {
	case SYM_RULESET: return "a ruleset";
	case SYM_POLICY: return "a policy";
	case SYM_DEF:
	case SYM_PARAM:
	case SYM_FORMAL:
		switch (s->vk) {
		case VK_NETWORK: return s->kind == SYM_DEF ? "a network" : "a network parameter";
		case VK_HOST: return s->kind == SYM_DEF ? "a host" : "a host parameter";
		case VK_PORTS: return s->kind == SYM_DEF ? "a port list" : "a port-list parameter";
		case VK_SERVICE: return s->kind == SYM_DEF ? "a service" : "a service parameter";
		case VK_QOS: return s->kind == SYM_DEF ? "a QoS class" : "a QoS parameter";
		case VK__COUNT: break;
		}
	}
	BUG("bad symbol");
}

/* ---- name resolution --------------------------------------------------- */

static bool kind_in(enum value_kind k, const enum value_kind *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (want[i] == k)
			return true;
	return false;
}

static struct symbol *lookup(struct sema *s, const char *name)
{
	if (s->formals) {
		for (size_t i = 0; i < s->formals->n; i++) {
			struct node *f = s->formals->v[i];
			if (strcmp(f->u.def.name, name) == 0)
				return f->u.def.sym;
		}
	}
	return symtab_get(s->syms, name);
}

static const char *suggest(struct sema *s, const char *name, const enum value_kind *want,
			   size_t nwant, int block_kind)
{
	const char *best = NULL;
	size_t len = strlen(name);
	unsigned cap = len < 4 ? 1 : len < 9 ? 2 : 3;
	unsigned best_d = cap + 1;
	for (size_t i = 0; i < s->syms->norder; i++) {
		struct symbol *c = s->syms->order[i];
		bool fits = block_kind >= 0 ? (int)c->kind == block_kind
			    : (c->kind == SYM_DEF || c->kind == SYM_PARAM) && kind_in(c->vk, want, nwant);
		if (!fits)
			continue;
		unsigned d = edit_distance(name, c->name, best_d - 1);
		if (d < best_d) {
			best_d = d;
			best = c->name;
		}
	}
	if (s->formals && block_kind < 0) {
		for (size_t i = 0; i < s->formals->n; i++) {
			struct node *f = s->formals->v[i];
			if (!kind_in(f->u.def.vk, want, nwant))
				continue;
			unsigned d = edit_distance(name, f->u.def.name, best_d - 1);
			if (d < best_d) {
				best_d = d;
				best = f->u.def.name;
			}
		}
	}
	return best;
}

static void note_defined(struct sema *s, const struct symbol *sym)
{
	diag_note(s->diag, sym->loc, "'%s' is defined here", sym->name);
}

/* Resolves a name that must be one of the value kinds in want. */
static struct symbol *resolve(struct sema *s, struct node *ref, const enum value_kind *want,
			      size_t nwant, const char *what)
{
	if (ref->u.ref.sym == &unresolved_sym)
		return NULL;
	if (ref->u.ref.sym)
		return ref->u.ref.sym;
	const char *name = ref->u.ref.name;
	struct symbol *sym = lookup(s, name);
	if (!sym) {
		if (s->report) {
			const char *hint = suggest(s, name, want, nwant, -1);
			if (hint)
				diag_error(s->diag, ref->loc, "unknown %s '%s'; did you mean '%s'?",
					   what, name, hint);
			else
				diag_error(s->diag, ref->loc, "unknown %s '%s'", what, name);
		}
		ref->u.ref.sym = &unresolved_sym;
		return NULL;
	}
	if ((sym->kind != SYM_DEF && sym->kind != SYM_PARAM && sym->kind != SYM_FORMAL) ||
	    !kind_in(sym->vk, want, nwant)) {
		if (s->report) {
			diag_error(s->diag, ref->loc, "'%s' is %s, but %s %s is expected here", name,
				   sym_kind_desc(sym), strchr("aeiou", what[0]) ? "an" : "a", what);
			note_defined(s, sym);
		}
		ref->u.ref.sym = &unresolved_sym;
		return NULL;
	}
	sym->used = true;
	ref->u.ref.sym = sym;
	return sym;
}

struct symbol *sema_lookup_block(struct sema *s, struct node *ref_node, const char *name,
				 struct loc loc, enum sym_kind want)
{
	(void)ref_node;
	struct symbol *sym = symtab_get(s->syms, name);
	const char *what = want == SYM_RULESET ? "ruleset" : "policy";
	if (!sym) {
		if (s->report) {
			const char *hint = suggest(s, name, NULL, 0, (int)want);
			if (hint)
				diag_error(s->diag, loc, "unknown %s '%s'; did you mean '%s'?", what, name, hint);
			else
				diag_error(s->diag, loc, "unknown %s '%s'", what, name);
		}
		return NULL;
	}
	if (sym->kind != want) {
		if (s->report) {
			diag_error(s->diag, loc, "'%s' is %s, not a %s", name, sym_kind_desc(sym), what);
			note_defined(s, sym);
		}
		return NULL;
	}
	sym->used = true;
	return sym;
}

/* ---- values ------------------------------------------------------------ */

/* Collects the parts of a network (a group's members) and joins them once. */
struct netacc {
	struct ivbuf v4, v6;
	struct node **symbolic;
	size_t nsymbolic, cap;
	bool unknown;
};

static void netacc_add(struct netacc *acc, const struct netval *x)
{
	ivbuf_add_set(&acc->v4, x->v4);
	ivbuf_add_set(&acc->v6, x->v6);
	acc->unknown = acc->unknown || x->unknown;
	if (x->nsymbolic && acc->nsymbolic + x->nsymbolic > acc->cap) {
		acc->cap = 2 * (acc->nsymbolic + x->nsymbolic);
		acc->symbolic = xrealloc(acc->symbolic, acc->cap * sizeof *acc->symbolic);
	}
	for (size_t i = 0; i < x->nsymbolic; i++)
		acc->symbolic[acc->nsymbolic++] = x->symbolic[i];
}

static struct netval netacc_finish(struct arena *a, struct netacc *acc)
{
	struct netval r = { 0 };
	r.v4 = ivbuf_finish(a, &acc->v4);
	r.v6 = ivbuf_finish(a, &acc->v6);
	r.unknown = acc->unknown;
	r.nsymbolic = acc->nsymbolic;
	if (r.nsymbolic) {
		r.symbolic = arena_calloc(a, r.nsymbolic, sizeof *r.symbolic);
		memcpy(r.symbolic, acc->symbolic, r.nsymbolic * sizeof *r.symbolic);
	}
	free(acc->symbolic);
	return r;
}

bool netval_empty(const struct netval *v)
{
	return !v->unknown && v->v4.n == 0 && v->v6.n == 0 && v->nsymbolic == 0;
}

/* A service list's parts, per protocol, joined once (see struct ivbuf). */
struct svcacc_entry {
	int proto;
	struct loc loc;			/* first item that named it */
	struct ivbuf ports, types;
};

void svcacc_add_entry(struct svcacc *acc, const struct svc_entry *e)
{
	struct svcacc_entry *x = NULL;
	for (size_t i = 0; i < acc->n && !x; i++)
		if (acc->v[i].proto == e->proto)
			x = &acc->v[i];
	if (!x) {
		if (acc->n == acc->cap) {
			acc->cap = acc->cap ? 2 * acc->cap : 4;
			acc->v = xrealloc(acc->v, acc->cap * sizeof *acc->v);
		}
		x = &acc->v[acc->n++];
		*x = (struct svcacc_entry){ .proto = e->proto, .loc = e->loc };
	}
	ivbuf_add_set(&x->ports, e->ports);
	ivbuf_add_set(&x->types, e->types);
}

void svcacc_add(struct svcacc *acc, const struct svcval *v)
{
	for (size_t i = 0; i < v->n; i++)
		svcacc_add_entry(acc, &v->v[i]);
	acc->unknown = acc->unknown || v->unknown;
}

static int cmp_acc_proto(const void *x, const void *y)
{
	const struct svcacc_entry *a = x, *b = y;
	return (a->proto > b->proto) - (a->proto < b->proto);
}

struct svcval svcacc_finish(struct arena *a, struct svcacc *acc)
{
	struct svcval r = { .n = acc->n, .unknown = acc->unknown };
	if (acc->n) {
		qsort(acc->v, acc->n, sizeof *acc->v, cmp_acc_proto);
		r.v = arena_calloc(a, acc->n, sizeof *r.v);
		for (size_t i = 0; i < acc->n; i++) {
			r.v[i].proto = acc->v[i].proto;
			r.v[i].loc = acc->v[i].loc;
			r.v[i].ports = ivbuf_finish(a, &acc->v[i].ports);
			r.v[i].types = ivbuf_finish(a, &acc->v[i].types);
		}
	}
	free(acc->v);
	*acc = (struct svcacc){ 0 };
	return r;
}

static const struct value *formal_value(const struct symbol *sym, const struct env *env)
{
	if (!env || sym->formal_index >= env->n)
		return NULL;
	return &env->args[sym->formal_index];
}

/* A domain as the vendor tables write them: "*.webex.com", "activate.cisco.com". */
static bool valid_domain(const char *d)
{
	size_t n = strlen(d);
	if (n == 0 || n > 253)
		return false;
	const char *p = d;
	if (p[0] == '*' && p[1] == '.')
		p += 2;
	int labels = 0;
	while (*p) {
		const char *start = p;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
			p++;
		size_t l = (size_t)(p - start);
		if (l == 0 || l > 63 || *start == '-' || p[-1] == '-')
			return false;
		labels++;
		if (*p == '.')
			p++;
		else if (*p)
			return false;
	}
	return labels >= 1 && d[n - 1] != '.';
}

static struct netval net_addr(struct sema *s, struct node *n)
{
	struct netval r = { 0 };
	struct prefix p;
	bool explicit_len = false;
	const char *why = addr_parse(n->u.addr.text, &p, &explicit_len);
	if (why) {
		if (s->report)
			diag_error(s->diag, n->loc, "invalid address '%s': %s", n->u.addr.text, why);
		return r;
	}
	n->u.addr.ok = true;
	n->u.addr.family = (uint8_t)p.family;
	n->u.addr.len = (uint8_t)p.len;
	n->u.addr.addr = p.net;
	n->u.addr.explicit_len = explicit_len;
	if (prefix_has_host_bits(&p) && s->report) {
		char fixed[64], as_host[64];
		prefix_format(p.family, p.net, p.len, false, fixed, sizeof fixed);
		addr_format(p.family, p.addr, as_host, sizeof as_host);
		if (diag_warn(s->diag, W_HOST_BITS, n->loc, "host bits set in '%s': it means the "
			      "network %s (for the single host, write %s)", n->u.addr.text, fixed, as_host))
			diag_fixit(s->diag, fixed);
	}
	struct ivset one = ivset_range(s->arena, p.net, prefix_last(&p));
	if (p.family == 4)
		r.v4 = one;
	else
		r.v6 = one;
	return r;
}

static struct netval net_symbolic(struct sema *s, struct node *n)
{
	struct netval r = { 0 };
	if (n->kind == N_NET_DOMAIN && !valid_domain(n->u.str.text)) {
		if (s->report)
			diag_error(s->diag, n->loc, "'%s' is not a domain name (write names like "
				   "\"*.example.com\" or \"host.example.com\")", n->u.str.text);
		return r;
	}
	if (n->kind == N_NET_UNRESOLVED && n->u.str.text[0] == '\0') {
		if (s->report)
			diag_error(s->diag, n->loc, "an unresolved endpoint needs a description");
		return r;
	}
	r.symbolic = arena_alloc(s->arena, sizeof *r.symbolic);
	r.symbolic[0] = n;
	r.nsymbolic = 1;
	return r;
}

struct netval sema_net(struct sema *s, struct node *n, const struct env *env)
{
	struct netval r = { 0 };
	switch (n->kind) {
	case N_NET_ADDR:
		return net_addr(s, n);
	case N_NET_ANY:
		if (n->u.any.families & 1)
			r.v4 = ivset_range(s->arena, 0, V4_MAX);
		if (n->u.any.families & 2)
			r.v6 = ivset_range(s->arena, 0, U128_MAX);
		return r;
	case N_NET_DOMAIN:
	case N_NET_UNRESOLVED:
		return net_symbolic(s, n);
	case N_NET_GROUP: {
		struct netacc acc = { 0 };
		for (size_t i = 0; i < n->u.list.n; i++) {
			struct netval part = sema_net(s, n->u.list.v[i], env);
			netacc_add(&acc, &part);
		}
		return netacc_finish(s->arena, &acc);
	}
	case N_NET_EXCEPT: {
		struct netval base = sema_net(s, n->u.except.base, env);
		struct netval minus = sema_net(s, n->u.except.minus, env);
		if (minus.nsymbolic && s->report)
			diag_error(s->diag, minus.symbolic[0]->loc,
				   "a domain name or unresolved endpoint cannot be subtracted: "
				   "it stands for no known address");
		r = base;
		r.v4 = ivset_diff(s->arena, base.v4, minus.v4);
		r.v6 = ivset_diff(s->arena, base.v6, minus.v6);
		r.unknown = base.unknown || minus.unknown;
		return r;
	}
	case N_REF: {
		static const enum value_kind want[] = { VK_NETWORK, VK_HOST };
		struct symbol *sym = resolve(s, n, want, 2, "network");
		if (!sym)
			return r;
		if (sym->kind == SYM_FORMAL) {
			const struct value *v = formal_value(sym, env);
			if (!v) {
				r.unknown = true;
				return r;
			}
			return v->net;
		}
		return sema_symbol(s, sym)->net;
	}
	case N_PORT_LIST:
	case N_RANGE:
		if (s->report)
			diag_error(s->diag, n->loc, "expected a network, not a port");
		return r;
	default:
		if (s->report)
			diag_error(s->diag, n->loc, "expected a network here");
		return r;
	}
}

/* A single port number or range, checked. */
static bool port_range(struct sema *s, struct node *n, const char *what, uint64_t max,
		       struct iv *out)
{
	uint64_t lo = n->u.range.lo, hi = n->u.range.hi;
	if (lo > max || hi > max) {
		if (s->report) {
			uint64_t bad = lo > max ? lo : hi;
			if (bad == UINT64_MAX)
				diag_error(s->diag, n->loc, "%s '%s' out of range 0..%llu", what,
					   n->u.range.text, (unsigned long long)max);
			else
				diag_error(s->diag, n->loc, "%s %llu out of range 0..%llu", what,
					   (unsigned long long)bad, (unsigned long long)max);
		}
		return false;
	}
	if (lo > hi) {
		if (s->report)
			diag_error(s->diag, n->loc, "reversed range %llu-%llu; write %llu-%llu",
				   (unsigned long long)lo, (unsigned long long)hi,
				   (unsigned long long)hi, (unsigned long long)lo);
		return false;
	}
	out->lo = lo;
	out->hi = hi;
	return true;
}

static struct ivset ports_ref(struct sema *s, struct node *n, const struct env *env)
{
	static const enum value_kind want[] = { VK_PORTS };
	struct symbol *sym = resolve(s, n, want, 1, "port list");
	if (!sym)
		return ivset_empty();
	if (sym->kind == SYM_FORMAL) {
		const struct value *v = formal_value(sym, env);
		return v ? v->ports : ivset_empty();
	}
	return sema_symbol(s, sym)->ports;
}

static struct ivset port_item(struct sema *s, struct node *n, const struct env *env)
{
	if (n->kind == N_REF)
		return ports_ref(s, n, env);
	struct iv iv;
	if (n->kind != N_RANGE || !port_range(s, n, "port", 65535, &iv))
		return ivset_empty();
	return ivset_range(s->arena, iv.lo, iv.hi);
}

struct ivset sema_ports(struct sema *s, struct node *list, const struct env *env)
{
	if (list->kind != N_PORT_LIST)
		return port_item(s, list, env);
	struct ivbuf b = { 0 };
	for (size_t i = 0; i < list->u.list.n; i++)
		ivbuf_add_set(&b, port_item(s, list->u.list.v[i], env));
	return ivbuf_finish(s->arena, &b);
}

/* What a comma-continued item in a service list belongs to. */
enum svc_ctx { SC_NONE, SC_PORTS, SC_TYPES, SC_NOPORTS };

static const char *proto_label(int p)
{
	const char *n = proto_name(p);
	return n ? n : "this protocol";
}

static struct ivset icmp_type_item(struct sema *s, struct node *n, int proto)
{
	int family = proto == 58 ? 6 : 4;
	if (n->kind == N_REF) {
		int t = icmp_type_by_name(family, n->u.ref.name);
		if (t < 0) {
			if (s->report) {
				const char *hint = icmp_type_suggest(family, n->u.ref.name);
				if (hint)
					diag_error(s->diag, n->loc, "unknown %s type '%s'; did you mean '%s'?",
						   family == 6 ? "ICMPv6" : "ICMP", n->u.ref.name, hint);
				else
					diag_error(s->diag, n->loc, "unknown %s type '%s'",
						   family == 6 ? "ICMPv6" : "ICMP", n->u.ref.name);
			}
			return ivset_empty();
		}
		return ivset_range(s->arena, (u128)t, (u128)t);
	}
	struct iv iv;
	if (!port_range(s, n, family == 6 ? "ICMPv6 type" : "ICMP type", 255, &iv))
		return ivset_empty();
	return ivset_range(s->arena, iv.lo, iv.hi);
}

struct svcval sema_services(struct sema *s, struct node *list, const struct env *env)
{
	struct svcacc r = { 0 };
	enum svc_ctx ctx = SC_NONE;
	int cur = -1;
	struct node_list one = { &list, 1, 1 };
	const struct node_list *items = list->kind == N_SVC_LIST ? &list->u.list : &one;
	for (size_t i = 0; i < items->n; i++) {
		struct node *n = items->v[i];
		struct svc_entry e = { .loc = n->loc };
		switch (n->kind) {
		case N_SVC_PROTO:
			switch (n->u.svc.proto) {
			case SP_TCP:
			case SP_UDP:
				e.proto = n->u.svc.proto == SP_TCP ? 6 : 17;
				e.ports = n->u.svc.arg ? port_item(s, n->u.svc.arg, env)
						       : ivset_range(s->arena, 0, PORT_MAX);
				ctx = SC_PORTS;
				break;
			case SP_ICMP:
			case SP_ICMPV6:
				e.proto = n->u.svc.proto == SP_ICMP ? 1 : 58;
				if (n->u.svc.arg && s->report) {
					struct node *a = n->u.svc.arg;
					const char *pn = e.proto == 1 ? "icmp" : "icmpv6";
					if (a->kind == N_RANGE)
						diag_error(s->diag, a->loc, "%s has no ports; did you mean "
							   "'%s type %s'?", pn, pn, a->u.range.text);
					else
						diag_error(s->diag, a->loc, "%s has no ports; did you mean "
							   "'%s type %s'?", pn, pn, a->u.ref.name);
				}
				e.types = ivset_range(s->arena, 0, 255);
				ctx = SC_NOPORTS;
				break;
			case SP_OTHER: {
				struct node *a = n->u.svc.arg;
				int p = -1;
				if (a->kind == N_RANGE) {
					struct iv iv;
					if (port_range(s, a, "protocol number", 255, &iv)) {
						if (iv.lo != iv.hi && s->report)
							diag_error(s->diag, a->loc, "one protocol number, please");
						else
							p = (int)iv.lo;
					}
				} else {
					p = proto_by_name(a->u.ref.name);
					if (p < 0 && s->report) {
						const char *hint = proto_suggest(a->u.ref.name);
						if (hint)
							diag_error(s->diag, a->loc, "unknown protocol '%s'; did you mean '%s'?",
								   a->u.ref.name, hint);
						else
							diag_error(s->diag, a->loc, "unknown protocol '%s'; "
								   "give its number (proto 47)", a->u.ref.name);
					}
				}
				if (p < 0)
					continue;
				n->u.svc.number = p;
				e.proto = p;
				if (p == 6 || p == 17) {
					e.ports = ivset_range(s->arena, 0, PORT_MAX);
					ctx = SC_PORTS;
				} else if (p == 1 || p == 58) {
					e.types = ivset_range(s->arena, 0, 255);
					ctx = SC_NOPORTS;
				} else {
					ctx = SC_NOPORTS;
				}
				break;
			}
			}
			cur = e.proto;
			svcacc_add_entry(&r, &e);
			continue;
		case N_SVC_ICMP_TYPE:
			e.proto = n->u.icmp.proto == SP_ICMP ? 1 : 58;
			e.types = icmp_type_item(s, n->u.icmp.type, e.proto);
			cur = e.proto;
			ctx = SC_TYPES;
			if (!ivset_is_empty(e.types))
				svcacc_add_entry(&r, &e);
			continue;
		case N_RANGE:
			if (ctx == SC_PORTS) {
				e.proto = cur;
				e.ports = port_item(s, n, env);
				svcacc_add_entry(&r, &e);
			} else if (ctx == SC_TYPES) {
				e.proto = cur;
				e.types = icmp_type_item(s, n, cur);
				svcacc_add_entry(&r, &e);
			} else if (s->report) {
				if (ctx == SC_NOPORTS)
					diag_error(s->diag, n->loc, "%s has no ports", proto_label(cur));
				else
					diag_error(s->diag, n->loc, "port %s needs a protocol: write 'tcp %s' "
						   "or 'udp %s'", n->u.range.text, n->u.range.text,
						   n->u.range.text);
			}
			continue;
		case N_REF: {
			const char *name = n->u.ref.name;
			if (ctx == SC_TYPES && !lookup(s, name)) {
				e.proto = cur;
				e.types = icmp_type_item(s, n, cur);
				svcacc_add_entry(&r, &e);
				continue;
			}
			static const enum value_kind want[] = { VK_SERVICE, VK_PORTS };
			struct symbol *sym = resolve(s, n, want, 2, "service");
			if (!sym)
				continue;
			if (sym->vk == VK_PORTS) {
				if (ctx != SC_PORTS) {
					if (s->report)
						diag_error(s->diag, n->loc, "port list '%s' needs a protocol: write "
							   "'tcp %s' or 'udp %s'", name, name, name);
					continue;
				}
				e.proto = cur;
				e.ports = ports_ref(s, n, env);
				svcacc_add_entry(&r, &e);
				continue;
			}
			struct svcval sv;
			if (sym->kind == SYM_FORMAL) {
				const struct value *v = formal_value(sym, env);
				if (!v) {
					r.unknown = true;
					ctx = SC_NONE;
					continue;
				}
				sv = v->svc;
			} else {
				sv = sema_symbol(s, sym)->svc;
			}
			svcacc_add(&r, &sv);
			ctx = SC_NONE;
			continue;
		}
		default:
			BUG("unexpected %s in a service list", node_kind_name(n->kind));
		}
	}
	return svcacc_finish(s->arena, &r);
}

static int dscp_number(struct sema *s, struct node *n)
{
	struct iv iv;
	if (!port_range(s, n, "DSCP value", 63, &iv))
		return -1;
	if (iv.lo != iv.hi) {
		if (s->report)
			diag_error(s->diag, n->loc, "a DSCP mark is one value, not a range");
		return -1;
	}
	return (int)iv.lo;
}

static int qos_ref(struct sema *s, struct node *n, const struct env *env, bool names_first)
{
	const char *name = n->u.ref.name;
	int v = dscp_by_name(name);
	if (names_first && v >= 0)
		return v;
	struct symbol *sym = lookup(s, name);
	if (sym && (sym->kind == SYM_DEF || sym->kind == SYM_PARAM || sym->kind == SYM_FORMAL) &&
	    sym->vk == VK_QOS) {
		static const enum value_kind want[] = { VK_QOS };
		resolve(s, n, want, 1, "QoS class");
		if (sym->kind == SYM_FORMAL) {
			const struct value *fv = formal_value(sym, env);
			return fv ? fv->dscp : -1;
		}
		return sema_symbol(s, sym)->dscp;
	}
	if (v >= 0)
		return v;
	if (s->report) {
		if (sym) {
			diag_error(s->diag, n->loc, "'%s' is %s, but a QoS class or DSCP name is expected here",
				   name, sym_kind_desc(sym));
			note_defined(s, sym);
			return -1;
		}
		const char *hint = dscp_suggest(name);
		if (!hint) {
			static const enum value_kind want[] = { VK_QOS };
			hint = suggest(s, name, want, 1, -1);
		}
		if (hint)
			diag_error(s->diag, n->loc, "unknown DSCP name or QoS class '%s'; did you mean '%s'?",
				   name, hint);
		else
			diag_error(s->diag, n->loc, "unknown DSCP name or QoS class '%s' (DSCP names: "
				   "ef, af11..af43, cs0..cs7, va, le; values 0..63)", name);
	}
	return -1;
}

int sema_dscp(struct sema *s, struct node *n, const struct env *env)
{
	switch (n->kind) {
	case N_DSCP:
		if (n->u.dscp.val->kind == N_RANGE)
			return n->u.dscp.value = dscp_number(s, n->u.dscp.val);
		return n->u.dscp.value = qos_ref(s, n->u.dscp.val, env, true);
	case N_RANGE:
		return dscp_number(s, n);
	case N_REF:
		return qos_ref(s, n, env, false);
	case N_PORT_LIST:
		if (n->u.list.n == 1 && n->u.list.v[0]->kind == N_RANGE)
			return dscp_number(s, n->u.list.v[0]);
		break;
	default:
		break;
	}
	if (s->report)
		diag_error(s->diag, n->loc, "expected a DSCP name or value");
	return -1;
}

struct value sema_value(struct sema *s, enum value_kind vk, struct node *n, const struct env *env)
{
	struct value v = { .vk = vk, .dscp = -1 };
	switch (vk) {
	case VK_NETWORK:
	case VK_HOST:
		v.net = sema_net(s, n, env);
		v.unknown = v.net.unknown;
		if (vk == VK_HOST && !v.unknown && s->report) {
			u128 c4 = ivset_count(v.net.v4), c6 = ivset_count(v.net.v6);
			if (v.net.nsymbolic || c4 + c6 != 1)
				diag_error(s->diag, n->loc, "a host is one address; use 'network' for "
					   "a set of addresses");
		}
		break;
	case VK_PORTS:
		if (n->kind == N_PORT_LIST || n->kind == N_RANGE || n->kind == N_REF) {
			v.ports = sema_ports(s, n, env);
		} else if (s->report) {
			diag_error(s->diag, n->loc, "expected ports (80, 8000-8100 or a port list's name)");
		}
		break;
	case VK_SERVICE:
		if (n->kind == N_SVC_LIST || n->kind == N_REF) {
			v.svc = sema_services(s, n, env);
			v.unknown = v.svc.unknown;
		} else if (s->report) {
			diag_error(s->diag, n->loc, "expected a service (tcp 443, udp 5060 or a service's name)");
		}
		break;
	case VK_QOS:
		v.dscp = sema_dscp(s, n, env);
		break;
	case VK__COUNT:
		BUG("bad value kind");
	}
	if (n->kind == N_REF && n->u.ref.sym && n->u.ref.sym != &unresolved_sym) {
		const struct symbol *sym = n->u.ref.sym;
		if (sym->kind == SYM_FORMAL) {
			const struct value *fv = formal_value(sym, env);
			v.name = fv ? fv->name : NULL;
		} else {
			v.name = n->u.ref.name;
		}
	}
	return v;
}

const struct value *sema_symbol(struct sema *s, struct symbol *sym)
{
	if (sym->state == 2) {
		if (sym->depth > s->max_depth)
			s->max_depth = sym->depth;
		return &sym->val;
	}
	if (sym->state == 1) {
		if (s->report) {
			diag_error(s->diag, sym->loc, "'%s' is defined in terms of itself", sym->name);
		}
		sym->val = (struct value){ .vk = sym->vk, .dscp = -1 };
		return &sym->val;
	}
	sym->state = 1;
	sym->val = (struct value){ .vk = sym->vk, .dscp = -1 };
	if (++s->depth > SEMA_MAX_DEPTH) {
		/* recursion guard: a definition used before the 200 it
		 * stands on are evaluated */
		if (s->report && !s->nesting_reported++)
			diag_error(s->diag, sym->loc, "definitions nested too deeply: '%s' is more "
				   "than %d levels deep", sym->name, SEMA_MAX_DEPTH);
		s->depth--;
		sym->state = 2;
		sym->depth = SEMA_MAX_DEPTH + 1;
		return &sym->val;
	}
	unsigned saved_max = s->max_depth;
	s->max_depth = 0;
	/* A definition sees the global scope only, wherever it is used from. */
	const struct node_list *saved = s->formals;
	s->formals = NULL;
	struct node *value = sym->override ? sym->override : sym->node->u.def.value;
	struct value v = { .vk = sym->vk, .dscp = -1 };
	if (value) {
		v = sema_value(s, sym->vk, value, NULL);
	} else {
		/* a parameter nobody set */
		v.unknown = v.net.unknown = v.svc.unknown = true;
	}
	v.name = sym->name;
	s->formals = saved;
	s->depth--;
	/* How deep definitions nest, however they were evaluated: a chain of
	 * 10,000 groups is refused in any order, which bounds every walk
	 * over nested definitions. */
	sym->depth = s->max_depth + 1;
	if (sym->depth == SEMA_MAX_DEPTH + 1 && s->report && !s->nesting_reported++)
		diag_error(s->diag, sym->loc, "definitions nested too deeply: '%s' is %u levels "
			   "deep (at most %d)", sym->name, sym->depth, SEMA_MAX_DEPTH);
	s->max_depth = saved_max > sym->depth ? saved_max : sym->depth;
	sym->val = v;
	sym->state = 2;
	return &sym->val;
}
