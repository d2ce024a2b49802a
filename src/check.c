/* check.c - the checker: every name defined once, every reference to the
 * right kind of thing, every value well-formed, -D values of the declared
 * type, rulesets called with the right arguments and never recursively.
 *
 * Values are evaluated through the evaluator (sema.h) with reporting on;
 * what it resolves is recorded in the tree for lower.c. */
#include <string.h>

#include "names.h"
#include "parse.h"
#include "unit.h"

/* ---- definitions ------------------------------------------------------- */

static void redefinition(struct unit *u, struct loc loc, const char *name, const struct symbol *old)
{
	diag_error(u->diag, loc, "redefinition of '%s'", name);
	diag_note(u->diag, old->loc, "previous definition of '%s' was here", name);
}

static struct symbol *new_symbol(struct unit *u, const char *name, enum sym_kind kind,
				 struct node *n, struct loc loc)
{
	struct symbol *s = arena_alloc(u->arena, sizeof *s);
	s->name = name;
	s->kind = kind;
	s->node = n;
	s->loc = loc;
	return s;
}

static void define_formals(struct unit *u, struct node *rs)
{
	struct node_list *ps = &rs->u.block.params;
	for (size_t i = 0; i < ps->n; i++) {
		struct node *p = ps->v[i];
		struct symbol *s = new_symbol(u, p->u.def.name, SYM_FORMAL, p, p->u.def.name_loc);
		s->vk = p->u.def.vk;
		s->formal_index = (unsigned)i;
		s->owner = rs;
		p->u.def.sym = s;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(ps->v[j]->u.def.name, p->u.def.name) == 0) {
				diag_error(u->diag, p->u.def.name_loc, "parameter '%s' is declared twice",
					   p->u.def.name);
				diag_note(u->diag, ps->v[j]->u.def.name_loc, "first declared here");
			}
		}
	}
}

static void define_all(struct unit *u)
{
	for (size_t f = 0; f < u->nfiles; f++) {
		struct node_list *items = &u->files[f]->items;
		for (size_t i = 0; i < items->n; i++) {
			struct node *n = items->v[i];
			struct symbol *s;
			switch (n->kind) {
			case N_IMPORT:
				continue;
			case N_DEF:
			case N_PARAM:
				s = new_symbol(u, n->u.def.name, n->kind == N_DEF ? SYM_DEF : SYM_PARAM,
					       n, n->u.def.name_loc);
				s->vk = n->u.def.vk;
				n->u.def.sym = s;
				break;
			case N_RULESET:
			case N_POLICY:
				s = new_symbol(u, n->u.block.name,
					       n->kind == N_RULESET ? SYM_RULESET : SYM_POLICY,
					       n, n->u.block.name_loc);
				n->u.block.sym = s;
				if (n->kind == N_RULESET)
					define_formals(u, n);
				break;
			default:
				BUG("unexpected %s at top level", node_kind_name(n->kind));
			}
			/* Policy names are only ever named by -p: they have a
			 * namespace of their own, so a policy can share its name
			 * with the network it protects. */
			struct symtab *table = s->kind == SYM_POLICY ? &u->policies : &u->syms;
			struct symbol *old = symtab_add(u->arena, table, s);
			if (old)
				redefinition(u, s->loc, s->name, old);
		}
	}
}

/* ---- -D NAME=VALUE ----------------------------------------------------- */

static const char *kind_article(enum value_kind vk)
{
	return vk == VK_HOST ? "a host" : vk == VK_PORTS ? "a port list" :
	       vk == VK_SERVICE ? "a service" : vk == VK_QOS ? "a QoS class" : "a network";
}

static void apply_defines(struct unit *u, struct sema *s)
{
	for (size_t i = 0; i < u->opts.ndefines; i++) {
		const struct define *d = &u->opts.defines[i];
		struct symbol *sym = symtab_get(&u->syms, d->name);
		if (!sym) {
			const char *best = NULL;
			unsigned best_d = 3;
			for (size_t k = 0; k < u->syms.norder; k++) {
				struct symbol *c = u->syms.order[k];
				if (c->kind != SYM_PARAM)
					continue;
				unsigned dist = edit_distance(d->name, c->name, best_d - 1);
				if (dist < best_d) {
					best_d = dist;
					best = c->name;
				}
			}
			if (best)
				diag_error(u->diag, (struct loc){ 0 }, "-D %s: no parameter named '%s'; "
					   "did you mean '%s'?", d->name, d->name, best);
			else
				diag_error(u->diag, (struct loc){ 0 }, "-D %s: no parameter named '%s'",
					   d->name, d->name);
			continue;
		}
		if (sym->kind != SYM_PARAM) {
			diag_error(u->diag, (struct loc){ 0 }, "-D %s: '%s' is %s, not a parameter; only "
				   "'param' declarations can be set from the command line",
				   d->name, d->name, sym_kind_desc(sym));
			diag_note(u->diag, sym->loc, "'%s' is defined here", d->name);
			continue;
		}
		const char *label = arena_printf(u->arena, "<-D %s>", d->name);
		struct source *src = source_new(u->arena, label, NULL, d->value, strlen(d->value));
		size_t before = u->diag->errors;
		struct node *v = parse_value(u->arena, u->diag, src, sym->vk);
		if (!v || u->diag->errors != before) {
			diag_error(u->diag, (struct loc){ 0 }, "-D %s=%s: '%s' is declared as %s, and "
				   "'%s' is not one", d->name, d->value, d->name, kind_article(sym->vk),
				   d->value);
			diag_note(u->diag, sym->loc, "'%s' is declared here", d->name);
			continue;
		}
		/* Check the value now, so its errors point at the -D text. */
		sema_value(s, sym->vk, v, NULL);
		sym->override = v;
	}
}

/* ---- rules ------------------------------------------------------------- */

static void duplicate_option(struct unit *u, struct node *opt, struct node *first, const char *what)
{
	diag_error(u->diag, opt->loc, "duplicate %s in this rule", what);
	diag_note(u->diag, first->loc, "first given here");
}

static void check_rule(struct unit *u, struct sema *s, struct node *r)
{
	sema_net(s, r->u.rule.src, NULL);
	sema_net(s, r->u.rule.dst, NULL);
	struct node *sport = NULL, *mark = NULL, *log = NULL, *note = NULL, *svc_opt = NULL;
	struct svcacc svcs = { 0 };
	for (size_t i = 0; i < r->u.rule.opts.n; i++) {
		struct node *o = r->u.rule.opts.v[i];
		switch (o->kind) {
		case N_OPT_SERVICE: {
			struct svcval one = sema_services(s, o->u.opt, NULL);
			svcacc_add(&svcs, &one);
			if (!svc_opt)
				svc_opt = o;
			break;
		}
		case N_OPT_SPORT:
			if (sport)
				duplicate_option(u, o, sport, "'sport'");
			else
				sport = o;
			sema_ports(s, o->u.opt, NULL);
			break;
		case N_OPT_QOS:
		case N_OPT_DSCP:
			if (mark)
				duplicate_option(u, o, mark, "QoS mark");
			else
				mark = o;
			sema_dscp(s, o->kind == N_OPT_QOS ? o->u.qos.ref : o->u.opt, NULL);
			break;
		case N_OPT_LOG:
			if (log)
				duplicate_option(u, o, log, "'log'");
			else
				log = o;
			break;
		case N_OPT_NOTE:
			if (note)
				duplicate_option(u, o, note, "note");
			else
				note = o;
			break;
		default:
			BUG("unexpected %s in a rule", node_kind_name(o->kind));
		}
	}
	struct svcval svc = svcacc_finish(u->arena, &svcs);
	unsigned char ex = r->u.rule.expect;
	if (mark && ex && ex != EXPECT_ALLOW)
		diag_error(u->diag, mark->loc, "a DSCP mark is set on allowed packets only: 'expect %s' "
			   "cannot name one", expect_kind_name(ex));
	if (log && ex == EXPECT_NONE)
		diag_error(u->diag, log->loc, "'expect none' allows deny and reject alike, so it cannot "
			   "say whether they log: write 'expect deny ... log' or 'expect reject ... log'");
	if (sport) {
		if (!svc_opt && !svc.unknown) {
			diag_error(u->diag, sport->loc, "'sport' needs a protocol with ports: "
				   "add 'tcp' or 'udp' to the rule");
		} else {
			for (size_t i = 0; i < svc.n; i++) {
				if (!ir_has_ports(svc.v[i].proto)) {
					const char *pn = proto_name(svc.v[i].proto);
					if (pn)
						diag_error(u->diag, sport->loc, "'sport' applies to tcp and udp "
							   "only, but this rule also matches %s", pn);
					else
						diag_error(u->diag, sport->loc, "'sport' applies to tcp and udp "
							   "only, but this rule also matches protocol %d",
							   svc.v[i].proto);
					diag_note(u->diag, svc.v[i].loc, "the protocol comes from here");
					break;
				}
			}
		}
	}
}

/* Matches the arguments of 'use' to the ruleset's parameters; stores the
 * result in the node for lowering. */
static void check_use(struct unit *u, struct sema *s, struct node *use)
{
	struct symbol *rs = sema_lookup_block(s, use, use->u.use.name, use->u.use.name_loc, SYM_RULESET);
	if (!rs)
		return;
	use->u.use.sym = rs;
	struct node_list *formals = &rs->node->u.block.params;
	struct node **bound = arena_calloc(u->arena, formals->n + 1, sizeof *bound);
	struct node **given = arena_calloc(u->arena, formals->n + 1, sizeof *given);
	bool named_seen = false, ok = true;
	for (size_t i = 0; i < use->u.use.args.n; i++) {
		struct node *a = use->u.use.args.v[i];
		size_t k;
		if (a->u.arg.name) {
			named_seen = true;
			for (k = 0; k < formals->n; k++)
				if (strcmp(formals->v[k]->u.def.name, a->u.arg.name) == 0)
					break;
			if (k == formals->n) {
				diag_error(u->diag, a->u.arg.name_loc, "ruleset '%s' has no parameter '%s'",
					   rs->name, a->u.arg.name);
				diag_note(u->diag, rs->loc, "'%s' is defined here", rs->name);
				ok = false;
				continue;
			}
		} else {
			if (named_seen) {
				diag_error(u->diag, a->loc, "a positional argument cannot follow a named one");
				ok = false;
				continue;
			}
			k = i;
			if (k >= formals->n) {
				diag_error(u->diag, a->loc, "too many arguments: ruleset '%s' takes %zu",
					   rs->name, formals->n);
				diag_note(u->diag, rs->loc, "'%s' is defined here", rs->name);
				ok = false;
				break;
			}
		}
		if (given[k]) {
			diag_error(u->diag, a->loc, "parameter '%s' is given twice",
				   formals->v[k]->u.def.name);
			diag_note(u->diag, given[k]->loc, "first given here");
			ok = false;
			continue;
		}
		given[k] = a;
		bound[k] = a->u.arg.value;
		sema_value(s, formals->v[k]->u.def.vk, a->u.arg.value, NULL);
	}
	/* every missing argument in one error: a user learns them all at
	 * once, not one compile at a time */
	size_t missing = 0;
	for (size_t k = 0; k < formals->n && ok; k++)
		missing += !bound[k] && !formals->v[k]->u.def.value;
	if (missing) {
		struct strbuf names = { 0 };
		sb_init(&names);
		size_t seen = 0;
		for (size_t k = 0; k < formals->n; k++) {
			if (bound[k] || formals->v[k]->u.def.value)
				continue;
			seen++;
			sb_printf(&names, "%s'%s'", seen == 1 ? "" : seen == missing ? " and " : ", ",
				  formals->v[k]->u.def.name);
		}
		diag_error(u->diag, use->loc, "missing argument%s for parameter%s %s of ruleset '%s'",
			   missing > 1 ? "s" : "", missing > 1 ? "s" : "", names.s, rs->name);
		sb_free(&names);
		for (size_t k = 0; k < formals->n; k++)
			if (!bound[k] && !formals->v[k]->u.def.value)
				diag_note(u->diag, formals->v[k]->u.def.name_loc, "'%s' is declared here, "
					  "as %s", formals->v[k]->u.def.name,
					  kind_article(formals->v[k]->u.def.vk));
		ok = false;
	}
	if (ok)
		use->u.use.bound = bound;
}

static void check_body(struct unit *u, struct sema *s, struct node *block)
{
	bool is_policy = block->kind == N_POLICY;
	struct node *dflt = NULL, *stateless = NULL, *host = NULL;
	for (size_t i = 0; i < block->u.block.body.n; i++) {
		struct node *st = block->u.block.body.v[i];
		switch (st->kind) {
		case N_RULE:
			check_rule(u, s, st);
			break;
		case N_USE:
			check_use(u, s, st);
			break;
		case N_DEFAULT:
			if (!is_policy) {
				diag_error(u->diag, st->loc, "a ruleset has no default action; put 'default' "
					   "in the policy that uses it");
			} else if (dflt) {
				diag_error(u->diag, st->loc, "a second default action in policy '%s'",
					   block->u.block.name);
				diag_note(u->diag, dflt->loc, "the first is here");
			} else {
				dflt = st;
			}
			break;
		case N_STATELESS:
			if (!is_policy)
				diag_error(u->diag, st->loc, "'stateless' belongs to a policy, not a ruleset");
			else if (stateless)
				diag_error(u->diag, st->loc, "'stateless' is given twice");
			stateless = st;
			break;
		case N_HOST:
			if (!is_policy) {
				diag_error(u->diag, st->loc, "'host' belongs to a policy, not a ruleset: it "
					   "names the machine the policy's ruleset is loaded on");
			} else if (host) {
				diag_error(u->diag, st->loc, "a second 'host' in policy '%s'; list every "
					   "address of the host in one", block->u.block.name);
				diag_note(u->diag, host->loc, "the first is here");
			} else {
				host = st;
			}
			sema_net(s, st->u.opt, NULL);
			break;
		default:
			BUG("unexpected %s in a block", node_kind_name(st->kind));
		}
	}
}

/* ---- ruleset recursion ------------------------------------------------- */

static bool uses_reach(struct unit *u, struct node *from, struct node *target, unsigned depth,
		       struct node **path, unsigned *plen)
{
	if (depth > 64)
		return false;
	for (size_t i = 0; i < from->u.block.body.n; i++) {
		struct node *st = from->u.block.body.v[i];
		if (st->kind != N_USE || !st->u.use.sym)
			continue;
		struct node *callee = st->u.use.sym->node;
		path[depth] = st;
		if (callee == target || uses_reach(u, callee, target, depth + 1, path, plen)) {
			if (*plen == 0)
				*plen = depth + 1;
			return true;
		}
	}
	return false;
}

static void check_recursion(struct unit *u)
{
	for (size_t i = 0; i < u->syms.norder; i++) {
		struct symbol *s = u->syms.order[i];
		if (s->kind != SYM_RULESET)
			continue;
		struct node *path[70];
		unsigned plen = 0;
		if (uses_reach(u, s->node, s->node, 0, path, &plen)) {
			diag_error(u->diag, path[0]->loc, "ruleset '%s' uses itself", s->name);
			for (unsigned k = 1; k < plen; k++)
				diag_note(u->diag, path[k]->loc, "through this use of '%s'",
					  path[k]->u.use.name);
			/* cut the cycle so lowering terminates */
			path[0]->u.use.sym = NULL;
			path[0]->u.use.bound = NULL;
		}
	}
}

static void warn_unused(struct unit *u)
{
	for (size_t i = 0; i < u->syms.norder; i++) {
		struct symbol *s = u->syms.order[i];
		/* Libraries define far more than one policy uses: only the root
		 * file's own definitions are reported. */
		if (s->used || s->kind == SYM_POLICY || s->loc.src != u->files[u->nfiles - 1]->src)
			continue;
		diag_warn(u->diag, W_UNUSED_PARAM, s->loc, "'%s' is defined but never used", s->name);
	}
}

bool check_unit(struct unit *u)
{
	size_t errors = u->diag->errors;
	struct sema s = { .arena = u->arena, .diag = u->diag, .syms = &u->syms, .report = true };
	define_all(u);
	apply_defines(u, &s);
	for (size_t f = 0; f < u->nfiles; f++) {
		struct node_list *items = &u->files[f]->items;
		for (size_t i = 0; i < items->n; i++) {
			struct node *n = items->v[i];
			switch (n->kind) {
			case N_IMPORT:
				break;
			case N_DEF:
			case N_PARAM:
				sema_symbol(&s, n->u.def.sym);
				/* an overridden default is still checked */
				if (n->u.def.sym->override && n->u.def.value)
					sema_value(&s, n->u.def.vk, n->u.def.value, NULL);
				break;
			case N_RULESET:
				for (size_t k = 0; k < n->u.block.params.n; k++) {
					struct node *p = n->u.block.params.v[k];
					if (p->u.def.value)
						sema_value(&s, p->u.def.vk, p->u.def.value, NULL);
				}
				s.formals = &n->u.block.params;
				check_body(u, &s, n);
				s.formals = NULL;
				break;
			case N_POLICY:
				check_body(u, &s, n);
				break;
			default:
				BUG("unexpected %s at top level", node_kind_name(n->kind));
			}
		}
	}
	check_recursion(u);
	if (u->nfiles)
		warn_unused(u);
	return u->diag->errors == errors;
}
