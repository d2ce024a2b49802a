/* deploy.h - what portc apply and portc verify share.
 *
 * The ruleset an operand stands for (a policy, compiled here, or a file
 * portc compiled before), portc's table as a kernel holds it (this
 * network namespace's, or a scratch one's after loading the ruleset),
 * and the drift between two such tables: by content (chains, rules, set
 * elements one side has and the other lacks, named by handle and text)
 * and by meaning (the packets the two decide differently, per hook, with
 * a witness each: the diff engine over the lift of both, lift.h). */
#ifndef PORTC_DEPLOY_H
#define PORTC_DEPLOY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "cli.h"
#include "diff.h"
#include "hooks.h"
#include "lift.h"
#include "nft_table.h"

struct deploy_target;

/* A ruleset as portc wrote it, and its scratch copy on disk. */
struct ruleset {
	const struct deploy_target *dt;
	char *text[EMIT_MAX_FILES];	/* dt->suffix[i]'s file */
	char *table;		/* the nftables table; the iptables policy's stem */
	char *key;		/* what apply's state files and --confirm name it by */
	char *policy;		/* the policy's name (NULL for a file) */
	const char *shown;	/* the operand, for messages */
	char dir[PATH_MAX];	/* the scratch copy's directory ("" before ruleset_write) */
	char file[PATH_MAX];	/* its main file: what nft -f or sh loads */
	/* nftables: list no rule text (nft -a list) beside the JSON. The text
	 * only words drift, and listing it costs nft as much as the JSON
	 * (seconds at 10,000 rules), so verify's first look goes without and
	 * only a look that finds drift is made again with it. */
	bool no_texts;
};

struct nft_side {
	bool present;		/* the table (for iptables: a chain or set of the policy's) exists */
	struct nft_table t;
	struct lift l;
};

/* What apply and verify do differently per target: a table of functions
 * (deploy_nft.c, deploy_ipt.c). */
struct deploy_target {
	const char *name;		/* as -t takes it */
	const char *family;		/* the table's family in JSON output: "inet", "iptables" */
	const char *const *suffix;	/* the files of a ruleset, NULL-terminated; [0] ... */
	size_t main;			/* ... [main] is the one that loads it */
	const char *const *tools;	/* the programs it runs, NULL-terminated */
	const char *packages;		/* Debian's, for them */
	/* "table inet NAME", "the iptables chains and sets of policy NAME" */
	void (*describe)(struct strbuf *sb, const char *table);
	/* EXIT_OK, or EXIT_ERRORS having said why the kernel's tool refuses it */
	int (*check)(const struct ruleset *rs);
	/* The table as this network namespace holds it: EXIT_OK (present
	 * false when there is none), or EXIT_USAGE having said why. */
	int (*running)(const struct ruleset *rs, struct nft_side *s);
	/* The table rs->file makes, loaded in a scratch network namespace;
	 * the tool's refusal is printed whole (EXIT_ERRORS). */
	int (*fresh)(const struct ruleset *rs, struct nft_side *s);
	/* Writes base + suffix[...] that put the running table back (have:
	 * it as running() read it); checks that they load. EXIT_OK, or an
	 * exit code having said why. */
	int (*snapshot)(const struct ruleset *rs, const struct nft_side *have, const char *base);
	/* Loads a ruleset's main file (or a snapshot's): the tool's exit
	 * status, its error output in *err. */
	int (*load)(const char *file, char **err);
};

extern const struct deploy_target deploy_nftables, deploy_iptables;

/* -t's target (nftables when not given); NULL having said why. */
const struct deploy_target *deploy_target_find(const char *name);

/* o->argv[0]: a policy (compiled with o's target options) or a file portc
 * compiled (a .nft file; an iptables bundle's .sh, .v4, .v6 or .ipset).
 * EXIT_OK, or an exit code having said why. */
int ruleset_get(struct cli_opts *o, const struct deploy_target *dt, struct ruleset *rs);
/* Removes the scratch copy, if any. */
void ruleset_free(struct ruleset *rs);
/* The scratch copy in a new private directory under $TMPDIR; false
 * having said why. */
bool ruleset_write(struct ruleset *rs);
/* "table inet NAME" and the like, for messages (static storage, reused). */
const char *ruleset_what(const struct ruleset *rs);

/* a then b (NULL: nothing) into path, private (0600), synced. */
bool deploy_write(const char *path, const char *a, const char *b);

/* Not root, or a tool missing: says so for command and returns false. */
bool deploy_can_run(const char *command, const struct deploy_target *dt);

void side_free(struct nft_side *s);

enum drift_kind {
	DR_TABLE_MISSING,	/* the kernel has no such table */
	DR_CHAIN_EXTRA, DR_CHAIN_MISSING, DR_CHAIN_CHANGED,
	DR_RULE_EXTRA, DR_RULE_MISSING, DR_RULE_ORDER,
	DR_SET_EXTRA, DR_SET_MISSING, DR_SET_CHANGED,
	DR_ELEM_EXTRA, DR_ELEM_MISSING,
	DR__COUNT
};

struct drift_item {
	enum drift_kind kind;
	const char *where;	/* the chain or set */
	long handle;		/* the kernel's rule, else -1 */
	char *text;
};

struct drift {
	struct drift_item *v;
	size_t n;
	struct diff_result sem[HOOK__COUNT];
	unsigned hooks;		/* HOOK_BIT()s compared by meaning */
	size_t changes;		/* in all of sem */
	const char *no_meaning;	/* set: why there is no comparison by meaning */
	struct ir_policy open[HOOK__COUNT];	/* a hook with no base chain */
};

/* want (the policy's table) against have (the kernel's). */
void drift_compute(const struct nft_side *want, const struct nft_side *have, struct drift *d);
bool drift_none(const struct drift *d);
void drift_free(struct drift *d);

/* The drift as text on stdout: title names both sides. */
void drift_print(const struct drift *d, const struct nft_side *have, const char *title);
/* The drift as one JSON object (jansson's json_t). */
struct json_t;
struct json_t *drift_json(const struct drift *d, const struct nft_side *have);

#endif
