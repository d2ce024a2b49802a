/* value.c - the evaluator's entry points (sema.h): QoS marks, a value of
 * any kind (a -D value, a default, a ruleset argument), and a definition's
 * or parameter's value, evaluated once and with its depth bounded.
 *
 * check.c runs every expression through the evaluator once with reporting
 * on, which resolves each name (the result is stored in the N_REF node) and
 * reports what is wrong. lower.c runs them again with ruleset arguments
 * bound and reporting off. */
#include "sema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "names.h"

/* Definitions referring to definitions deeper than this are refused: it
 * bounds the evaluator's recursion on hostile input. */
#define SEMA_MAX_DEPTH 200

static int dscp_number(struct sema *s, struct node *n)
{
	return sema_one_number(s, n, "DSCP value", 63, "a DSCP mark is one value, not a range");
}

static int qos_ref(struct sema *s, struct node *n, const struct env *env, bool names_first)
{
	const char *name = n->u.ref.name;
	int v = dscp_by_name(name);
	if (names_first && v >= 0)
		return v;
	struct symbol *sym = sema_find(s, name);
	if (sym && (sym->kind == SYM_DEF || sym->kind == SYM_PARAM || sym->kind == SYM_FORMAL) &&
	    sym->vk == VK_QOS) {
		static const enum value_kind want[] = { VK_QOS };
		sema_resolve(s, n, want, 1, "QoS class");
		if (sym->kind == SYM_FORMAL) {
			const struct value *fv = sema_formal_value(sym, env);
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
			sema_note_defined(s, sym);
			return -1;
		}
		const char *hint = dscp_suggest(name);
		if (!hint) {
			static const enum value_kind want[] = { VK_QOS };
			hint = sema_suggest(s, name, want, 1, -1);
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
	if (n->kind == N_REF && n->u.ref.sym && n->u.ref.sym != &sema_unresolved) {
		const struct symbol *sym = n->u.ref.sym;
		if (sym->kind == SYM_FORMAL) {
			const struct value *fv = sema_formal_value(sym, env);
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
