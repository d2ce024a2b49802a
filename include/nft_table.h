/* nft_table.h - one nftables table as the kernel lists it.
 *
 * Read from `nft -j -n list table FAMILY NAME` (numeric: protocols, ICMP
 * types, DSCP marks and conntrack states as numbers, so nothing depends
 * on nft's name tables), into chains, rules and sets with a canonical
 * text each, so that two listings compare by content: handles, which
 * differ between two loads of the same file, are left out. portc verify
 * and portc apply read the running table and the one a compiled file
 * makes (loaded into a network namespace of its own) this way. */
#ifndef PORTC_NFT_TABLE_H
#define PORTC_NFT_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct nft_rule {
	const char *chain;
	long handle;
	json_t *expr;			/* the document's */
	const char *comment;		/* NULL when none */
	char *key;			/* canonical: expression and comment */
	size_t expr_len;		/* the expression's part of key */
	char *text;			/* as `nft list` writes it, when known */
	size_t pos;			/* in the listing */
};

struct nft_chain {
	const char *name;
	const char *hook;		/* NULL: a regular chain */
	const char *type, *policy;	/* a base chain's */
	long prio;
	char *key;			/* canonical: name, type, hook, priority, policy */
	size_t first, n;		/* its rules: rules[first .. first + n) */
};

struct nft_set {
	const char *name;
	bool map;
	json_t *obj;			/* the document's */
	char *key;			/* canonical: name, type, flags */
	char **elems;			/* canonical text of each element, sorted */
	json_t **elem_json;		/* the same elements, in the same order */
	size_t nelems;
};

/* An entry of a name index: a chain's or set's name and its place. */
struct nft_name {
	const char *name;
	size_t at;
};

struct nft_table {
	json_t *doc;
	const char *rule_id;		/* what a rule's handle is: "handle", "rule" (its number in an iptables chain) */
	const char *family, *name;
	struct nft_chain *chains;
	size_t nchains;
	struct nft_rule *rules;
	size_t nrules;
	struct nft_set *sets;
	size_t nsets;
	/* chains and named sets by name, for nft_table_chain and _set: a
	 * table of 10,000 rules has thousands of chains and sets, and the
	 * lift and the comparison look one up per reference */
	struct nft_name *chain_by_name, *set_by_name;
	size_t nset_names;
	struct arena *strs;		/* the names and comments, kept past doc */
};

/* Parses a listing; false, with *why (free it), when it is not one table's
 * listing in nft's JSON schema. */
bool nft_table_parse(const char *json, struct nft_table *t, char **why);
/* Sets each rule's text from `nft -a list table` (each rule line ends in
 * "# handle N"). */
void nft_table_add_text(struct nft_table *t, const char *listing);
void nft_table_free(struct nft_table *t);
/* Lets the JSON document go (it is most of a table's memory: 270 MB for a
 * 19 MB listing); after it, rules' expr, sets' obj and elem_json are NULL
 * and a rule's expression or an element is read back from its canonical
 * text with the two below. Names, comments and keys stay. */
void nft_table_drop_doc(struct nft_table *t);
/* A rule's expression list, an element of a set, as JSON (a new
 * reference: json_decref it), from the document or its canonical text. */
json_t *nft_rule_expr(const struct nft_rule *r);
json_t *nft_set_elem(const struct nft_set *s, size_t i);

const struct nft_chain *nft_table_chain(const struct nft_table *t, const char *name);
const struct nft_set *nft_table_set(const struct nft_table *t, const char *name);

/* nft's text of an expression value: "192.0.2.0/24", "1024-65535",
 * "{ 80, 443 }", "a . b", "@name"; verdicts as "accept", "jump c". */
void nft_value_text(struct strbuf *sb, const json_t *v);

/* `nft -j -n list table FAMILY NAME` (and -a for the text; not listed
 * when text is NULL), in this network namespace or (fresh) in one of its
 * own after loading file.
 * Returns the program's exit status (or -1) with its output and error in
 * *json / *err; err may be NULL. */
int nft_list_table(const char *family, const char *name, bool text, char **out, char **err);
int nft_list_fresh(const char *file, const char *family, const char *name, char **json, char **text,
		   char **err);

#endif
