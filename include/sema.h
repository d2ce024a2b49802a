/* sema.h - symbols, semantic values and the expression evaluator that
 * check.c (with diagnostics) and lower.c (silently, with ruleset arguments
 * bound) share: the symbol table (symtab.c), name resolution (resolve.c),
 * and the evaluation of networks (value_net.c), ports and services
 * (value_svc.c) and QoS marks and values of any kind (value.c). */
#ifndef PORTC_SEMA_H
#define PORTC_SEMA_H

#include <stdbool.h>

#include "ast.h"
#include "diag.h"
#include "ivset.h"

/* A set of addresses, plus the endpoints a packet filter cannot match
 * (domain names, unresolved placeholders), which are carried so that every
 * output can say what was left out instead of dropping it silently. */
struct netval {
	struct ivset v4, v6;
	struct node **symbolic;		/* N_NET_DOMAIN / N_NET_UNRESOLVED nodes */
	size_t nsymbolic;
	bool unknown;			/* depends on a parameter without a value */
};

/* One protocol of a service, with its destination ports (TCP, UDP) or
 * message types (ICMP, ICMPv6). */
struct svc_entry {
	int proto;			/* IP protocol number */
	struct ivset ports;		/* TCP/UDP: destination ports */
	struct ivset types;		/* ICMP/ICMPv6: types */
	struct loc loc;			/* first item that named it */
};

struct svcval {
	struct svc_entry *v;		/* at most one entry per protocol, sorted */
	size_t n;
	bool unknown;
};

struct value {
	enum value_kind vk;
	bool unknown;
	struct netval net;		/* VK_NETWORK, VK_HOST */
	struct ivset ports;		/* VK_PORTS */
	struct svcval svc;		/* VK_SERVICE */
	int dscp;			/* VK_QOS */
	const char *name;		/* the definition it came from, if any */
};

enum sym_kind { SYM_DEF, SYM_PARAM, SYM_FORMAL, SYM_RULESET, SYM_POLICY };

struct symbol {
	const char *name;
	enum sym_kind kind;
	enum value_kind vk;		/* SYM_DEF, SYM_PARAM, SYM_FORMAL */
	struct node *node;		/* the defining node */
	struct loc loc;			/* where the name is defined */
	unsigned formal_index;		/* SYM_FORMAL: position in the ruleset */
	struct node *owner;		/* SYM_FORMAL: its ruleset */
	struct node *override;		/* SYM_PARAM: the parsed -D value */
	int state;			/* evaluation: 0 new, 1 running, 2 done */
	unsigned depth;			/* nesting depth of the definition */
	struct value val;		/* SYM_DEF / SYM_PARAM, once evaluated */
	bool used;
};

struct symtab {
	struct symbol **slots;
	size_t cap, n;
	struct symbol **order;		/* in definition order */
	size_t norder, order_cap;
};

void symtab_init(struct arena *a, struct symtab *t);
struct symbol *symtab_get(const struct symtab *t, const char *name);
/* Returns NULL when added, or the symbol already holding the name. */
struct symbol *symtab_add(struct arena *a, struct symtab *t, struct symbol *s);

/* Values bound to a ruleset's parameters during lowering. NULL env: the
 * parameters are unknown (checking a ruleset on its own). */
struct env {
	const struct value *args;
	size_t n;
};

struct sema {
	struct arena *arena;
	struct diag *diag;
	struct symtab *syms;
	bool report;			/* false: lowering, errors were reported by check */
	const struct node_list *formals; /* scope: the ruleset being checked */
	unsigned depth;			/* definitions being evaluated, innermost last */
	unsigned max_depth;		/* deepest definition the current one uses */
	unsigned nesting_reported;	/* "nested too deeply" is said once */
};

const char *sym_kind_desc(const struct symbol *s);

/* Expression evaluation. Each returns a value; when s->report is set it
 * also reports what is wrong, once per node. */
struct netval sema_net(struct sema *s, struct node *n, const struct env *env);
struct ivset sema_ports(struct sema *s, struct node *list, const struct env *env);
struct svcval sema_services(struct sema *s, struct node *list, const struct env *env);
int sema_dscp(struct sema *s, struct node *n, const struct env *env);	/* -1 on error */
/* Any value by kind (a -D value, a default, a ruleset argument). */
struct value sema_value(struct sema *s, enum value_kind vk, struct node *n, const struct env *env);
/* The value of a definition or parameter, evaluated once. */
const struct value *sema_symbol(struct sema *s, struct symbol *sym);

/* Resolves a ruleset or policy name for 'use' and -p. */
struct symbol *sema_lookup_block(struct sema *s, struct node *ref_node, const char *name,
				 struct loc loc, enum sym_kind want);

bool netval_empty(const struct netval *v);	/* no address and nothing symbolic */

/* Between the evaluator's files. */
extern struct symbol sema_unresolved;	/* a name that failed to resolve: reported once */
/* The symbol a name refers to in s's scope (a ruleset's formals first). */
struct symbol *sema_find(struct sema *s, const char *name);
/* A known name close to name, of the kinds wanted (or a block), or NULL. */
const char *sema_suggest(struct sema *s, const char *name, const enum value_kind *want, size_t nwant,
			 int block_kind);
void sema_note_defined(struct sema *s, const struct symbol *sym);
/* Resolves a name that must be one of the value kinds in want. */
struct symbol *sema_resolve(struct sema *s, struct node *ref, const enum value_kind *want, size_t nwant,
			    const char *what);
/* The value bound to a formal during lowering; NULL without one. */
const struct value *sema_formal_value(const struct symbol *sym, const struct env *env);
/* A single port number or range, checked (what names it in messages). */
bool sema_port_range(struct sema *s, struct node *n, const char *what, uint64_t max, struct iv *out);
/* A single number in 0..max (a protocol, a DSCP value); -1 when it is out
 * of bounds or a range (not_range says so), each reported. */
int sema_one_number(struct sema *s, struct node *n, const char *what, uint64_t max,
		    const char *not_range);

/* Services of many parts (a list, a rule's options) are collected here and
 * joined once per protocol: folding them in one at a time is quadratic.
 * Heap memory until svcacc_finish. */
struct svcacc {
	struct svcacc_entry *v;
	size_t n, cap;
	bool unknown;
};
void svcacc_add_entry(struct svcacc *acc, const struct svc_entry *e);
void svcacc_add(struct svcacc *acc, const struct svcval *v);
struct svcval svcacc_finish(struct arena *a, struct svcacc *acc);

#endif
