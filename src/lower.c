/* lower.c - checked tree to IR: rulesets expanded with their arguments,
 * each rule split per protocol and direction, sets normalized, address
 * families reconciled. What only an instantiation can show (two sides that
 * share no family, an endpoint that is only a domain name) is reported
 * here. */
#include <string.h>

#include "unit.h"

#define MAX_USE_DEPTH 32

struct lower {
	struct unit *u;
	struct sema s;
	struct ir_policy *pol;
	ARR(struct ir_rule) rules;
	ARR(struct ir_rule) expects;	/* expectations' regions, as rules */
	ARR(unsigned char) expect_kind;
	unsigned source;		/* source rules seen so far */
	unsigned nexpect;		/* expectations seen so far */
	struct node *via;		/* the outermost 'use' being expanded */
	const char *ruleset;		/* the innermost ruleset being expanded */
	unsigned depth;
};

static const char *side_name(const struct node *n, const struct env *env)
{
	if (n->kind != N_REF || !n->u.ref.sym)
		return NULL;
	const struct symbol *sym = n->u.ref.sym;
	if (sym->kind == SYM_FORMAL)
		return env && sym->formal_index < env->n ? env->args[sym->formal_index].name : NULL;
	if (sym->kind == SYM_DEF || sym->kind == SYM_PARAM)
		return sym->name;
	return NULL;
}

static unsigned families_of(const struct netval *v)
{
	return (v->v4.n ? 1u : 0u) | (v->v6.n ? 2u : 0u);
}

static const char *family_text(unsigned f)
{
	switch (f) {
	case 1: return "IPv4 only";
	case 2: return "IPv6 only";
	case 3: return "IPv4 and IPv6";
	default: return "empty";
	}
}

/* A side whose value was given with -D: the error is in a ruleset the user
 * did not write, so point at the -D that made it so. */
static void note_define(struct lower *l, const struct node *side, const struct env *env)
{
	const char *name = side_name(side, env);
	const struct symbol *sym = name ? symtab_get(&l->u->syms, name) : NULL;
	if (sym && sym->kind == SYM_PARAM && sym->override)
		diag_note(l->u->diag, sym->override->loc, "'%s' is set here, by -D %s=%s", name, name,
			  sym->override->loc.src->text);
}

static void note_via(struct lower *l)
{
	if (l->via)
		diag_note(l->u->diag, l->via->loc, "in ruleset '%s', used here", l->via->u.use.name);
}

static const char *describe_symbolic(struct lower *l, const struct netval *v)
{
	const struct node *n = v->symbolic[0];
	const char *what = n->kind == N_NET_DOMAIN ? "a domain name" : "an unresolved endpoint";
	if (v->nsymbolic > 1)
		return arena_printf(l->u->arena, "%s \"%s\" and %zu more", what, n->u.str.text,
				    v->nsymbolic - 1);
	return arena_printf(l->u->arena, "%s \"%s\"", what, n->u.str.text);
}

/* A side that is only domain names or unresolved endpoints cannot be
 * matched by a packet filter; a side that mixes them with addresses is
 * enforced on its addresses. Both are said, never dropped in silence. */
static const char *check_symbolic(struct lower *l, struct node *rule, const char *which,
				  struct node *side, const struct netval *v)
{
	if (!v->nsymbolic)
		return NULL;
	const char *desc = describe_symbolic(l, v);
	if (v->v4.n == 0 && v->v6.n == 0) {
		if (diag_warn(l->u->diag, W_UNENFORCEABLE, rule->loc,
			      "the %s of this rule is %s, which a packet filter cannot match; "
			      "the rule is left out of compiled rulesets", which, desc)) {
			diag_note(l->u->diag, v->symbolic[0]->loc, "given here");
			note_via(l);
		}
		return arena_printf(l->u->arena, "%s is %s", which, desc);
	}
	if (diag_warn(l->u->diag, W_UNENFORCEABLE, side->loc,
		      "part of the %s of this rule is %s; only its addresses are enforced",
		      which, desc)) {
		diag_note(l->u->diag, v->symbolic[0]->loc, "given here");
		note_via(l);
	}
	return NULL;
}

static void emit(struct lower *l, struct node *r, const struct ir_rule *proto_rule,
		 const struct netval *s, const struct netval *d, bool reverse,
		 const char *sname, const char *dname, unsigned fams)
{
	struct ir_rule ir = *proto_rule;
	ir.reverse = reverse;
	ir.src_name = sname;
	ir.dst_name = dname;
	if (fams & 1) {
		ir.src4 = s->v4;
		ir.dst4 = d->v4;
	}
	if (fams & 2) {
		ir.src6 = s->v6;
		ir.dst6 = d->v6;
	}
	ir.origin = r->loc;
	ir.via = l->via ? l->via->loc : (struct loc){ 0 };
	ir.ruleset = l->ruleset;
	ARR_PUSH(l->u->arena, l->rules, ir);
}

/* One side holds both families, the other one: the half of the first that
 * the other lacks can never match (the spec: a rule matches within one
 * family). Said, since a group that names an IPv6 server beside the IPv4
 * one looks as if it were allowed. 'any' holds both families by design and
 * is not said. Off by default (-Wfamily-half, -Wall): a dual-stack site
 * talking to an IPv4-only host is the common case, and fine. */
static void note_half_dropped(struct lower *l, const struct node *r, unsigned sf, unsigned df)
{
	if (sf != 3 && df != 3)
		return;
	if (sf == df || !(sf & df))
		return;
	const struct node *mixed = sf == 3 ? r->u.rule.src : r->u.rule.dst;
	if (mixed->kind == N_NET_ANY)
		return;
	unsigned one = sf == 3 ? df : sf;
	if (diag_warn(l->u->diag, W_FAMILY_HALF, mixed->loc, "the %s addresses of the %s can never "
		      "match: the %s is %s", one == 1 ? "IPv6" : "IPv4",
		      sf == 3 ? "source" : "destination", sf == 3 ? "destination" : "source",
		      family_text(one)))
		note_via(l);
}

/* The rule's options into base (services into svcs); returns whether
 * the rule names a service at all. */
static bool rule_options(struct lower *l, struct node *r, const struct env *env,
			 struct ir_rule *base, struct svcacc *svcs)
{
	bool have_svc = false;
	for (size_t i = 0; i < r->u.rule.opts.n; i++) {
		struct node *o = r->u.rule.opts.v[i];
		switch (o->kind) {
		case N_OPT_SERVICE: {
			struct svcval one = sema_services(&l->s, o->u.opt, env);
			svcacc_add(svcs, &one);
			/* a rule with one named service keeps the name, for doc */
			const struct node *first = o->u.opt->u.list.n == 1 ? o->u.opt->u.list.v[0] : NULL;
			if (first && first->kind == N_REF && !have_svc)
				base->service = side_name(first, env);
			else
				base->service = NULL;
			/* "tcp NAME": the port list's name says which listener */
			const struct node *port_ref = first && first->kind == N_SVC_PROTO ? first->u.svc.arg
										  : NULL;
			if (!have_svc && base->service)
				base->listener = base->service;
			else if (!have_svc && port_ref && port_ref->kind == N_REF)
				base->listener = side_name(port_ref, env);
			else
				base->listener = NULL;
			have_svc = true;
			break;
		}
		case N_OPT_SPORT:
			base->sport = sema_ports(&l->s, o->u.opt, env);
			break;
		case N_OPT_QOS:
			base->dscp = sema_dscp(&l->s, o->u.qos.ref, env);
			break;
		case N_OPT_DSCP:
			base->dscp = sema_dscp(&l->s, o->u.opt, env);
			break;
		case N_OPT_LOG:
			base->log = true;
			break;
		case N_OPT_NOTE:
			base->note = o->u.note.text;
			break;
		default:
			BUG("unexpected %s in a rule", node_kind_name(o->kind));
		}
	}
	return have_svc;
}

/* A rule none of whose services met its addresses' families: an error,
 * with where each side's family came from. */
static void report_no_family(struct lower *l, struct node *r, const struct env *env,
			     unsigned sf, unsigned df, int first_proto)
{
	struct diag *dg = l->u->diag;
	if (!(sf & df)) {
		diag_error(dg, r->loc, "this rule can never match: its source is %s and its "
			   "destination %s", family_text(sf), family_text(df));
		diag_note(dg, r->u.rule.src->loc, "the source is %s", family_text(sf));
		note_define(l, r->u.rule.src, env);
		diag_note(dg, r->u.rule.dst->loc, "the destination is %s", family_text(df));
		note_define(l, r->u.rule.dst, env);
	} else {
		diag_error(dg, r->loc, "this rule can never match: its protocols are %s, "
			   "but its addresses are %s",
			   first_proto == 1 ? "IPv4 only (icmp)" : "IPv6 only (icmpv6)",
			   family_text(sf & df));
	}
	note_via(l);
}

static void lower_rule(struct lower *l, struct node *r, const struct env *env)
{
	struct arena *a = l->u->arena;
	struct diag *dg = l->u->diag;
	struct netval src = sema_net(&l->s, r->u.rule.src, env);
	struct netval dst = sema_net(&l->s, r->u.rule.dst, env);
	struct svcacc svcs = { 0 };
	struct ir_rule base = { .action = r->u.rule.action, .dscp = -1, .source = l->source++ };
	base.sport = ivset_range(a, 0, PORT_MAX);
	bool have_svc = rule_options(l, r, env, &base, &svcs);
	struct svcval svc = svcacc_finish(a, &svcs);
	/* Without every value (check with unset parameters) the rule cannot
	 * be lowered; check already said what it could. */
	if (src.unknown || dst.unknown || svc.unknown) {
		l->pol->partial = true;
		return;
	}
	const char *why = check_symbolic(l, r, "source", r->u.rule.src, &src);
	const char *why_dst = check_symbolic(l, r, "destination", r->u.rule.dst, &dst);
	if (!why)
		why = why_dst;
	if (!why && (netval_empty(&src) || netval_empty(&dst) ||
		     (!src.v4.n && !src.v6.n) || (!dst.v4.n && !dst.v6.n))) {
		if (diag_warn(dg, W_EMPTY_NETWORK, r->loc, "this rule can never match: its %s "
			      "holds no address", (!src.v4.n && !src.v6.n) ? "source" : "destination"))
			note_via(l);
		return;
	}
	if (!have_svc || svc.n == 0) {
		static struct svc_entry any = { .proto = IR_PROTO_ANY };
		if (have_svc)	/* a service that evaluated to nothing (errors) */
			return;
		svc.v = &any;
		svc.n = 1;
	}
	const char *sname = side_name(r->u.rule.src, env);
	const char *dname = side_name(r->u.rule.dst, env);
	unsigned sf = families_of(&src), df = families_of(&dst);
	note_half_dropped(l, r, sf, df);
	size_t emitted = 0;
	for (size_t i = 0; i < svc.n; i++) {
		const struct svc_entry *e = &svc.v[i];
		unsigned allowed = e->proto == 1 ? 1 : e->proto == 58 ? 2 : 3;
		unsigned fams = sf & df & allowed;
		struct ir_rule pr = base;
		pr.proto = e->proto;
		pr.dport = ir_has_ports(e->proto) ? e->ports : ivset_range(a, 0, PORT_MAX);
		if (!ir_has_ports(e->proto))
			pr.sport = ivset_range(a, 0, PORT_MAX);
		pr.types = ir_has_types(e->proto) ? e->types : ivset_range(a, 0, 255);
		pr.unenforceable = why;
		if (!fams && !why) {
			/* Said only for a protocol written in the rule itself: a
			 * named service that covers both ICMP families is fine to
			 * use between IPv4-only networks. */
			if (svc.n > 1 && (sf & df) && loc_within(e->loc, r->loc)) {
				if (diag_warn(dg, W_FAMILY_DROP, e->loc, "this part of the rule can never "
					      "match: %s is %s, but the rule's addresses are %s",
					      e->proto == 1 ? "icmp" : "icmpv6", family_text(allowed),
					      family_text(sf & df)))
					note_via(l);
			}
			continue;
		}
		emit(l, r, &pr, &src, &dst, false, sname, dname, fams);
		if (r->u.rule.bidir)
			emit(l, r, &pr, &dst, &src, true, dname, sname, fams);
		emitted++;
	}
	if (emitted == 0 && !why)
		report_no_family(l, r, env, sf, df, svc.v[0].proto);
}

static void lower_body(struct lower *l, struct node *block, const struct env *env);

static void lower_use(struct lower *l, struct node *use, const struct env *env)
{
	if (!use->u.use.sym || !use->u.use.bound)
		return;
	if (l->depth >= MAX_USE_DEPTH) {
		diag_error(l->u->diag, use->loc, "rulesets nested too deeply (more than %d levels)",
			   MAX_USE_DEPTH);
		return;
	}
	struct node *rs = use->u.use.sym->node;
	struct node_list *formals = &rs->u.block.params;
	struct value *args = arena_calloc(l->u->arena, formals->n + 1, sizeof *args);
	for (size_t k = 0; k < formals->n; k++) {
		struct node *f = formals->v[k];
		if (use->u.use.bound[k]) {
			args[k] = sema_value(&l->s, f->u.def.vk, use->u.use.bound[k], env);
		} else {
			/* defaults see the global scope only */
			const struct node_list *saved = l->s.formals;
			l->s.formals = NULL;
			args[k] = sema_value(&l->s, f->u.def.vk, f->u.def.value, NULL);
			l->s.formals = saved;
		}
	}
	struct env inner = { args, formals->n };
	struct node *saved_via = l->via;
	const char *saved_rs = l->ruleset;
	const struct node_list *saved_formals = l->s.formals;
	if (!l->via)
		l->via = use;
	l->ruleset = rs->u.block.name;
	l->s.formals = formals;
	l->depth++;
	lower_body(l, rs, &inner);
	l->depth--;
	l->s.formals = saved_formals;
	l->ruleset = saved_rs;
	l->via = saved_via;
}

/* An expectation's region is lowered as a rule would be, into a list of
 * its own: it is checked against the rules (expect.c), and is no rule. */
static void lower_expect(struct lower *l, struct node *st, const struct env *env)
{
	size_t before = l->rules.n;
	unsigned source = l->source;
	lower_rule(l, st, env);
	l->source = source;	/* rule numbers count rules only */
	for (size_t i = before; i < l->rules.n; i++) {
		l->rules.v[i].source = l->nexpect;	/* which expectation, as written */
		ARR_PUSH(l->u->arena, l->expects, l->rules.v[i]);
		ARR_PUSH(l->u->arena, l->expect_kind, st->u.rule.expect);
	}
	l->rules.n = before;
	l->nexpect++;
}

/* The host's addresses place rules on hooks (hooks.h), so they must be
 * addresses: a name a packet filter cannot match would place nothing. */
static void lower_host(struct lower *l, struct node *st)
{
	struct netval v = sema_net(&l->s, st->u.opt, NULL);
	if (v.unknown)		/* a parameter without a value: `portc check` */
		return;
	if (v.nsymbolic) {
		diag_error(l->u->diag, v.symbolic[0]->loc, "the host of a policy must be addresses, "
			   "and this is %s", describe_symbolic(l, &v));
		note_define(l, st->u.opt, NULL);
		return;
	}
	if (v.v4.n == 0 && v.v6.n == 0) {
		diag_error(l->u->diag, st->u.opt->loc, "the host of policy '%s' holds no address",
			   l->pol->name);
		note_define(l, st->u.opt, NULL);
		return;
	}
	l->pol->has_host = true;
	l->pol->host4 = v.v4;
	l->pol->host6 = v.v6;
}

static void lower_body(struct lower *l, struct node *block, const struct env *env)
{
	for (size_t i = 0; i < block->u.block.body.n; i++) {
		struct node *st = block->u.block.body.v[i];
		switch (st->kind) {
		case N_RULE:
			if (st->u.rule.expect)
				lower_expect(l, st, env);
			else
				lower_rule(l, st, env);
			break;
		case N_USE:
			lower_use(l, st, env);
			break;
		case N_DEFAULT:
			l->pol->dflt = st->u.dflt.action;
			l->pol->dflt_log = st->u.dflt.log;
			break;
		case N_STATELESS:
			l->pol->stateless = true;
			break;
		case N_HOST:
			lower_host(l, st);
			break;
		default:
			BUG("unexpected %s in a block", node_kind_name(st->kind));
		}
	}
}

static void require_params(struct unit *u)
{
	for (size_t i = 0; i < u->syms.norder; i++) {
		struct symbol *s = u->syms.order[i];
		if (s->kind != SYM_PARAM || !s->used || s->override || s->node->u.def.value)
			continue;
		diag_error(u->diag, s->loc, "parameter '%s' has no value; set it with -D %s=VALUE",
			   s->name, s->name);
	}
}

bool lower_unit(struct unit *u)
{
	size_t errors = u->diag->errors;
	if (u->opts.require_params)
		require_params(u);
	if (u->diag->errors != errors)
		return false;
	size_t npol = 0;
	npol = u->policies.norder;
	u->ir.policies = arena_calloc(u->arena, npol + 1, sizeof *u->ir.policies);
	u->ir.n = 0;
	for (size_t i = 0; i < u->policies.norder; i++) {
		struct symbol *sym = u->policies.order[i];
		struct ir_policy *p = &u->ir.policies[u->ir.n++];
		p->name = sym->name;
		p->loc = sym->node->loc;
		p->dflt = ACT_DENY;
		struct lower l = { .u = u, .pol = p };
		l.s = (struct sema){ .arena = u->arena, .diag = u->diag, .syms = &u->syms };
		lower_body(&l, sym->node, NULL);
		p->rules = l.rules.v;
		p->nrules = l.rules.n;
		p->expects = l.expects.v;
		p->expect_kind = l.expect_kind.v;
		p->nexpects = l.expects.n;
		for (size_t k = 0; k < p->nexpects; k++)
			p->expects[k].index = (unsigned)k;
		p->nsource = l.source;
		for (size_t k = 0; k < p->nrules; k++)
			p->rules[k].index = (unsigned)k;
	}
	return u->diag->errors == errors;
}
