/* ipt_save.h - iptables-save output as the iptables reader sees it: the
 * lines of the filter and mangle tables, their user-defined chains, whose
 * they are (ipt_save.c), and each rule as the nft expressions that mean the
 * same (ipt_xlate.c). Internal to ipt_table.c and ipt_snapshot.c; the
 * interface is ipt_table.h. */
#ifndef PORTC_IPT_SAVE_H
#define PORTC_IPT_SAVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "ipt_table.h"

/* "iptables", "ip6tables": a family's tool, by index (0 IPv4, 1 IPv6) */
extern const char *const ipt_tools[2];

struct words {
	char **v;
	size_t n;
};

struct line {
	int fam;
	const char *table;	/* "filter", "mangle" */
	char *chain;
	char *text;		/* "-A CHAIN ..." as iptables-save wrote it */
	long pos;		/* in its chain, from 1 */
	struct words w;		/* the words after "-A CHAIN" */
};

struct chain_decl {
	int fam;
	const char *table;
	char *name;
	bool ours;
	bool needed;		/* someone else's, which the policy's part jumps to */
};

struct listing {
	const char *stem;
	char prefix[64];	/* "PORTC-STEM-" */
	ARR(struct line) lines;	/* of the filter and mangle tables */
	ARR(struct chain_decl) chains;	/* their user-defined chains */
	struct arena *ar;
};

struct xlate {
	const struct listing *L;
	int fam;
	const char *table;
	/* what the policy's DSCP chain sets for a connection mark (0) or a
	 * packet mark (1): mark -> DSCP, -1 none */
	int dscp_of[2][256];
};

/* A line of iptables-save or ipset save in words: a double-quoted word
 * ("a b", with \" and \\ inside) is one. */
void ipt_split(const char *s, size_t len, struct words *w);
void ipt_words_free(struct words *w);

/* The listings of l read for policy stem; false with *why (free it) when
 * one is not iptables-save's. */
bool ipt_listing_read(const char *stem, const struct ipt_listing *l, struct listing *L, char **why);
void ipt_lines_free(struct listing *L);

/* Whether chain is the policy's (PORTC-STEM-...). */
bool ipt_ours(const struct listing *L, const char *chain);
/* Whether chain is a built-in chain of table (filter, mangle). */
bool ipt_builtin(const char *table, const char *chain);
/* The chain or target a rule's -j or -g names (*go: -g), or NULL. */
const char *ipt_target(const struct line *ln, bool *go);
bool ipt_leads_to_ours(const struct listing *L, const struct line *ln);
/* The lines of a built-in chain that lead to the policy's: from its first
 * to the last that jumps to one (SIZE_MAX, SIZE_MAX: none does). */
void ipt_builtin_span(const struct listing *L, int fam, const char *table, const char *chain, size_t *first,
		      size_t *last);
/* Marks the chains of others that the policy's part jumps to. */
void ipt_mark_needed(struct listing *L);

/* Calls fn for each line of ipset save's text that creates a set of the
 * policy's (pc-STEM-...) or adds to one, with its words; fn's false stops
 * it. False, with *why set when a line is neither, or with fn's false. */
typedef bool (*ipt_set_line)(void *ctx, const struct words *w, bool create);
bool ipt_sets_each(const char *stem, const char *text, ipt_set_line fn, void *ctx, char **why);

/* ipt_xlate.c */
/* A number in C's notation (0x..), at most max; false when it is not one. */
bool ipt_number(const char *s, unsigned long max, unsigned long *out);
/* "a" or "a/len" of family fam (0 IPv4, 1 IPv6) as nft's JSON writes it,
 * validated strictly; NULL when it is not one. */
json_t *ipt_addr_json(const char *s, int fam);
/* "iptables PORTC-x-in", "ip6tables -t mangle PORTC-x-dscp" (allocated). */
char *ipt_chain_display(int fam, const char *table, const char *chain);
/* x for family fam of L, with the marks the policy's DSCP chain turns
 * into DSCP marks. */
void ipt_xlate_init(struct xlate *x, const struct listing *L, int fam);
/* "meta nfproto ipv4" (ipv6): what a tool's chain holds. */
json_t *ipt_family_match(int fam);
/* A rule's words as nft expressions, with its comment (NULL when none). */
json_t *ipt_rule_expr(const struct xlate *x, const struct line *ln, const char **comment);

#endif
