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

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "diff.h"
#include "hooks.h"
#include "lift.h"
#include "nft_table.h"

struct ruleset {
	char *text;		/* what nft -f loads */
	char *table;		/* the inet table it replaces */
	char *policy;		/* the policy's name (NULL for a file) */
	const char *shown;	/* the operand, for messages */
};

/* o->argv[0]: a policy (compiled with o's target options) or, ending in
 * ".nft", a file portc compiled. EXIT_OK, or an exit code having said why. */
int ruleset_get(struct cli_opts *o, struct ruleset *rs);
void ruleset_free(struct ruleset *rs);
/* rs->text in a new private file under $TMPDIR; false having said why. */
bool ruleset_temp(const struct ruleset *rs, char *path, size_t len);

/* Not root, or nft missing: says so for command and returns false. */
bool deploy_can_run(const char *command);

struct nft_side {
	bool present;		/* the table exists */
	struct nft_table t;
	struct lift l;
};

/* The table as this network namespace holds it. EXIT_OK (present false
 * when there is none), or EXIT_USAGE having said why. */
int side_running(const char *table, struct nft_side *s);
/* The table file makes, loaded in a scratch network namespace; nft's
 * refusal is printed whole. */
int side_fresh(const char *file, const char *table, struct nft_side *s);
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
