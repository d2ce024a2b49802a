/* backend.h - code generators over the checked IR.
 *
 * A backend is one entry in the registry (backend.c), a table of function
 * pointers chosen by `portc compile -t NAME`. Backends see the IR only,
 * never the syntax tree. Everything a backend writes that came from policy
 * text (names, notes, file names) goes through the quoting helpers below,
 * so no policy can end a comment or add a statement. */
#ifndef PORTC_BACKEND_H
#define PORTC_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "hooks.h"
#include "ir.h"
#include "util.h"

/* The low byte of the conntrack mark (iptables: the connmark) that both
 * ruleset backends give a flow a rule marks: 0x80 | DSCP, so the rest of
 * the flow gets the same mark. One value, so the two agree. */
#define CT_MARK_FLAG 0x80

struct emit_opts {
	unsigned hooks;			/* HOOK_BIT()s: a base chain each, at least one */
	const char *source;		/* the root file, named in the header */
	struct prologue_opts prologue;	/* loopback, neighbour discovery (hooks.h) */
	bool has_priority;		/* --priority: nft base chains' priority */
	int priority;
};

/* What --stats reports. The counts are the ruleset backends' (a matching
 * table fills the first two); each backend writes its own sentence into
 * text (backend_stats_rules for the ruleset ones), which `compile --stats`
 * prints after "policy NAME (TARGET): ". */
struct emit_stats {
	unsigned source_rules;		/* rules in the policy, rulesets expanded */
	unsigned ir_rules;		/* after splitting per protocol and direction */
	unsigned emitted_rules;		/* rule statements in the output */
	unsigned set_elements;		/* elements of named and anonymous sets and maps */
	unsigned merged_rules;		/* IR rules that went into a shared lookup */
	unsigned left_out;		/* unenforceable rules, emitted as comments */
	unsigned inline_sets;		/* address sets written as a rule per prefix */
	unsigned placed_rules;		/* IR rules in the hooks' chains, a rule once per chain */
	unsigned hooks;			/* the hooks emitted */
	struct strbuf text;		/* the backend's --stats sentence (sb_init'ed by the caller) */
	/* the same figures by name, for --stats --format=json (backend_stat) */
	struct { const char *name; unsigned long long value; } named[12];
	size_t nnamed;
};

/* Adds a named figure to --stats --format=json. */
void backend_stat(struct emit_stats *st, const char *name, unsigned long long value);

/* The --stats sentence of a ruleset backend, from the counts. */
void backend_stats_rules(struct emit_stats *st);

/* One output file of a backend. With -o OUT it is written to OUT followed
 * by its suffix; on stdout, files are separated by a comment line. */
struct emit_file {
	const char *suffix;		/* "" for the main file */
	const char *comment;		/* how the format comments a line ("#") */
	struct strbuf text;
};

#define EMIT_MAX_FILES 4

struct backend {
	const char *name;
	const char *summary;		/* a line of `portc help compile` */
	bool binary;			/* bytes, not text: never to a terminal */
	/* Fills files[0..*nfiles). Returns false (with a diagnostic) when the
	 * policy cannot be expressed in this target. */
	bool (*emit)(const struct ir_policy *pol, const struct emit_opts *opts,
		     struct emit_file files[EMIT_MAX_FILES], size_t *nfiles,
		     struct emit_stats *stats, struct diag *d);
};

const struct backend *backend_find(const char *name);
/* "nftables, iptables, ..." */
const char *backend_names(void);
/* The targets with their summaries, as option help lines. */
void backend_help(FILE *fp);

#define B(id) extern const struct backend backend_##id;
#include "backends.def"
#undef B

/* Per IR rule, the hooks of opts->hooks it is placed on (hooks.h). The
 * caller frees the array. */
unsigned char *rules_on_hooks(const struct ir_policy *pol, unsigned hooks);
/* "hooks input and output" in a header line */
void put_hooks_header(struct strbuf *sb, unsigned hooks);

/* ---- shared helpers for backends ---------------------------------------- */

/* The address sets of a policy worth a name: every rule side of a family
 * with at least `threshold` prefixes, one entry per distinct content, named
 * after the first network that holds it (or numbered). */
struct addr_set {
	int family;
	struct ivset set;
	const char *label;		/* the network's name, or NULL */
	char ident[64];			/* the name in the output */
	unsigned uses;
};

struct addr_sets {
	struct addr_set *v;
	size_t n;
	size_t *slot, nslot;		/* hash of v by content (index + 1; 0 free) */
};

void addr_sets_collect(struct addr_sets *as, const struct ir_policy *pol, size_t threshold,
		       const char *prefix, size_t max_ident);
const struct addr_set *addr_sets_find(const struct addr_sets *as, int family, struct ivset s);
void addr_sets_free(struct addr_sets *as);

/* Text safe inside a double-quoted string of nft or iptables-restore:
 * quotes, backslashes and control characters (newlines included) become
 * harmless look-alikes; cut to at most max bytes on a character boundary. */
void quote_text(struct strbuf *sb, const char *text, size_t max);
/* "file:line" of a rule's origin, and its note, for a comment. */
void rule_origin_text(const struct ir_rule *r, struct strbuf *sb);
/* LEAD "origin: note", quoted, at most max bytes of text. */
void put_rule_comment(struct strbuf *sb, const struct ir_rule *r, const char *lead, size_t max);
/* "file:line: why it cannot be enforced. note", quoted, for a comment line. */
void left_out_text(const struct ir_rule *r, struct strbuf *sb);
/* A comment line (prefix, then the text) per unenforceable rule, after
 * heading when there is any. */
void put_left_out(const struct ir_policy *pol, struct strbuf *sb, const char *heading,
		  const char *prefix);
/* An identifier safe as an nft/ipset/iptables name: [a-z0-9_], never
 * starting with a digit, at most max bytes (shortened with a hash). */
void safe_ident(struct strbuf *sb, const char *prefix, const char *name, size_t max);
/* Appends a range as "lo" or "lo-hi" (sep between the bounds). */
void put_port_range(struct strbuf *sb, struct iv r, const char *sep);
/* Appends an address interval as a prefix when it is one, else "a-b". */
void put_addr_range(struct strbuf *sb, int family, struct iv r);

#endif
