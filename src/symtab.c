/* symtab.c - the symbol table: names of definitions, parameters,
 * rulesets and policies, in one hash table per scope, and in definition
 * order (sema.h). */
#include "sema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "names.h"

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
