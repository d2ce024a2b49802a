/* value_net.c - networks evaluated (sema.h): addresses and prefixes
 * checked, groups joined once, exceptions taken out, domain names and
 * unresolved endpoints carried beside the addresses. */
#include "sema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "names.h"

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
		struct symbol *sym = sema_resolve(s, n, want, 2, "network");
		if (!sym)
			return r;
		if (sym->kind == SYM_FORMAL) {
			const struct value *v = sema_formal_value(sym, env);
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
