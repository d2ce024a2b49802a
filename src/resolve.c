/* resolve.c - name resolution for the evaluator (sema.h): a name in
 * scope (a ruleset's formals, then the file's), of the kinds wanted, with a
 * suggestion for a name that is not; and the values bound to a ruleset's
 * formals during lowering. */
#include "sema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "names.h"

/* Marks a name that failed to resolve, so it is reported once. */
struct symbol sema_unresolved;

static bool kind_in(enum value_kind k, const enum value_kind *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (want[i] == k)
			return true;
	return false;
}

struct symbol *sema_find(struct sema *s, const char *name)
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

const char *sema_suggest(struct sema *s, const char *name, const enum value_kind *want,
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

void sema_note_defined(struct sema *s, const struct symbol *sym)
{
	diag_note(s->diag, sym->loc, "'%s' is defined here", sym->name);
}

/* Resolves a name that must be one of the value kinds in want. */
struct symbol *sema_resolve(struct sema *s, struct node *ref, const enum value_kind *want,
			      size_t nwant, const char *what)
{
	if (ref->u.ref.sym == &sema_unresolved)
		return NULL;
	if (ref->u.ref.sym)
		return ref->u.ref.sym;
	const char *name = ref->u.ref.name;
	struct symbol *sym = sema_find(s, name);
	if (!sym) {
		if (s->report) {
			const char *hint = sema_suggest(s, name, want, nwant, -1);
			if (hint)
				diag_error(s->diag, ref->loc, "unknown %s '%s'; did you mean '%s'?",
					   what, name, hint);
			else
				diag_error(s->diag, ref->loc, "unknown %s '%s'", what, name);
		}
		ref->u.ref.sym = &sema_unresolved;
		return NULL;
	}
	if ((sym->kind != SYM_DEF && sym->kind != SYM_PARAM && sym->kind != SYM_FORMAL) ||
	    !kind_in(sym->vk, want, nwant)) {
		if (s->report) {
			diag_error(s->diag, ref->loc, "'%s' is %s, but %s %s is expected here", name,
				   sym_kind_desc(sym), strchr("aeiou", what[0]) ? "an" : "a", what);
			sema_note_defined(s, sym);
		}
		ref->u.ref.sym = &sema_unresolved;
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
			const char *hint = sema_suggest(s, name, NULL, 0, (int)want);
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
			sema_note_defined(s, sym);
		}
		return NULL;
	}
	sym->used = true;
	return sym;
}

const struct value *sema_formal_value(const struct symbol *sym, const struct env *env)
{
	if (!env || sym->formal_index >= env->n)
		return NULL;
	return &env->args[sym->formal_index];
}
