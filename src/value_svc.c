/* value_svc.c - ports and services evaluated (sema.h): port lists and
 * ranges checked, services joined once per protocol (svcacc), ICMP types by
 * name or number. */
#include "sema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "names.h"

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

/* A single port number or range, checked. */
bool sema_port_range(struct sema *s, struct node *n, const char *what, uint64_t max,
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

int sema_one_number(struct sema *s, struct node *n, const char *what, uint64_t max,
		    const char *not_range)
{
	struct iv iv;
	if (!sema_port_range(s, n, what, max, &iv))
		return -1;
	if (iv.lo != iv.hi) {
		if (s->report)
			diag_error(s->diag, n->loc, "%s", not_range);
		return -1;
	}
	return (int)iv.lo;
}

static struct ivset ports_ref(struct sema *s, struct node *n, const struct env *env)
{
	static const enum value_kind want[] = { VK_PORTS };
	struct symbol *sym = sema_resolve(s, n, want, 1, "port list");
	if (!sym)
		return ivset_empty();
	if (sym->kind == SYM_FORMAL) {
		const struct value *v = sema_formal_value(sym, env);
		return v ? v->ports : ivset_empty();
	}
	return sema_symbol(s, sym)->ports;
}

static struct ivset port_item(struct sema *s, struct node *n, const struct env *env)
{
	if (n->kind == N_REF)
		return ports_ref(s, n, env);
	struct iv iv;
	if (n->kind != N_RANGE || !sema_port_range(s, n, "port", 65535, &iv))
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
	if (!sema_port_range(s, n, family == 6 ? "ICMPv6 type" : "ICMP type", 255, &iv))
		return ivset_empty();
	return ivset_range(s->arena, iv.lo, iv.hi);
}

/* A walk over one service list: the comma-continued items after
 * "tcp 80" or "icmp type echo-request" belong to that protocol. */
struct svc_walk {
	struct sema *s;
	const struct env *env;
	struct svcacc r;
	enum svc_ctx ctx;
	int cur;	/* the protocol continued items belong to */
};

/* The number of "proto NAME" or "proto N"; -1 (reported) if it is none. */
static int other_proto(struct sema *s, struct node *a)
{
	if (a->kind == N_RANGE)
		return sema_one_number(s, a, "protocol number", 255, "one protocol number, please");
	int p = proto_by_name(a->u.ref.name);
	if (p < 0 && s->report) {
		const char *hint = proto_suggest(a->u.ref.name);
		if (hint)
			diag_error(s->diag, a->loc, "unknown protocol '%s'; did you mean '%s'?",
				   a->u.ref.name, hint);
		else
			diag_error(s->diag, a->loc, "unknown protocol '%s'; "
				   "give its number (proto 47)", a->u.ref.name);
	}
	return p;
}

/* tcp, udp, icmp, icmpv6 or proto X, with its port if any. */
static void svc_proto(struct svc_walk *w, struct node *n)
{
	struct sema *s = w->s;
	struct svc_entry e = { .loc = n->loc };
	switch (n->u.svc.proto) {
	case SP_TCP:
	case SP_UDP:
		e.proto = n->u.svc.proto == SP_TCP ? 6 : 17;
		e.ports = n->u.svc.arg ? port_item(s, n->u.svc.arg, w->env)
				       : ivset_range(s->arena, 0, PORT_MAX);
		w->ctx = SC_PORTS;
		break;
	case SP_ICMP:
	case SP_ICMPV6:
		e.proto = n->u.svc.proto == SP_ICMP ? 1 : 58;
		if (n->u.svc.arg && s->report) {
			struct node *a = n->u.svc.arg;
			const char *pn = e.proto == 1 ? "icmp" : "icmpv6";
			diag_error(s->diag, a->loc, "%s has no ports; did you mean '%s type %s'?", pn, pn,
				   a->kind == N_RANGE ? a->u.range.text : a->u.ref.name);
		}
		e.types = ivset_range(s->arena, 0, 255);
		w->ctx = SC_NOPORTS;
		break;
	case SP_OTHER: {
		int p = other_proto(s, n->u.svc.arg);
		if (p < 0)
			return;
		n->u.svc.number = p;
		e.proto = p;
		w->ctx = SC_NOPORTS;
		if (p == 6 || p == 17) {
			e.ports = ivset_range(s->arena, 0, PORT_MAX);
			w->ctx = SC_PORTS;
		} else if (p == 1 || p == 58) {
			e.types = ivset_range(s->arena, 0, 255);
		}
		break;
	}
	}
	w->cur = e.proto;
	svcacc_add_entry(&w->r, &e);
}

/* A port or type range continuing the protocol before it. */
static void svc_range(struct svc_walk *w, struct node *n)
{
	struct sema *s = w->s;
	struct svc_entry e = { .loc = n->loc, .proto = w->cur };
	if (w->ctx == SC_PORTS) {
		e.ports = port_item(s, n, w->env);
		svcacc_add_entry(&w->r, &e);
	} else if (w->ctx == SC_TYPES) {
		e.types = icmp_type_item(s, n, w->cur);
		svcacc_add_entry(&w->r, &e);
	} else if (s->report) {
		if (w->ctx == SC_NOPORTS)
			diag_error(s->diag, n->loc, "%s has no ports", proto_label(w->cur));
		else
			diag_error(s->diag, n->loc, "port %s needs a protocol: write 'tcp %s' "
				   "or 'udp %s'", n->u.range.text, n->u.range.text, n->u.range.text);
	}
}

/* A name: an ICMP type continuing one, a port list continuing tcp or
 * udp, or a service (which ends any continuation). */
static void svc_ref(struct svc_walk *w, struct node *n)
{
	struct sema *s = w->s;
	const char *name = n->u.ref.name;
	struct svc_entry e = { .loc = n->loc, .proto = w->cur };
	if (w->ctx == SC_TYPES && !sema_find(s, name)) {
		e.types = icmp_type_item(s, n, w->cur);
		svcacc_add_entry(&w->r, &e);
		return;
	}
	static const enum value_kind want[] = { VK_SERVICE, VK_PORTS };
	struct symbol *sym = sema_resolve(s, n, want, 2, "service");
	if (!sym)
		return;
	if (sym->vk == VK_PORTS) {
		if (w->ctx != SC_PORTS) {
			if (s->report)
				diag_error(s->diag, n->loc, "port list '%s' needs a protocol: write "
					   "'tcp %s' or 'udp %s'", name, name, name);
			return;
		}
		e.ports = ports_ref(s, n, w->env);
		svcacc_add_entry(&w->r, &e);
		return;
	}
	w->ctx = SC_NONE;
	if (sym->kind == SYM_FORMAL) {
		const struct value *v = sema_formal_value(sym, w->env);
		if (!v) {
			w->r.unknown = true;
			return;
		}
		svcacc_add(&w->r, &v->svc);
		return;
	}
	svcacc_add(&w->r, &sema_symbol(s, sym)->svc);
}

struct svcval sema_services(struct sema *s, struct node *list, const struct env *env)
{
	struct svc_walk w = { .s = s, .env = env, .ctx = SC_NONE, .cur = -1 };
	struct node_list one = { &list, 1, 1 };
	const struct node_list *items = list->kind == N_SVC_LIST ? &list->u.list : &one;
	for (size_t i = 0; i < items->n; i++) {
		struct node *n = items->v[i];
		switch (n->kind) {
		case N_SVC_PROTO:
			svc_proto(&w, n);
			break;
		case N_SVC_ICMP_TYPE: {
			struct svc_entry e = { .loc = n->loc };
			e.proto = n->u.icmp.proto == SP_ICMP ? 1 : 58;
			e.types = icmp_type_item(s, n->u.icmp.type, e.proto);
			w.cur = e.proto;
			w.ctx = SC_TYPES;
			if (!ivset_is_empty(e.types))
				svcacc_add_entry(&w.r, &e);
			break;
		}
		case N_RANGE:
			svc_range(&w, n);
			break;
		case N_REF:
			svc_ref(&w, n);
			break;
		default:
			BUG("unexpected %s in a service list", node_kind_name(n->kind));
		}
	}
	return svcacc_finish(s->arena, &w.r);
}
