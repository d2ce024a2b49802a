/* cli.h - the command line: shared options, the driver, the commands. */
#ifndef PORTC_CLI_H
#define PORTC_CLI_H

#include <stdbool.h>

#include "backend.h"
#include "diag.h"
#include "unit.h"

/* Exit codes, for every command. */
enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

struct cli_opts {
	struct diag_opts diag;
	const char *incdirs[64];
	size_t nincdirs;
	struct define defines[256];
	size_t ndefines;
	const char *policy;		/* -p */
	const char *output;		/* -o */
	const char *target;		/* -t */
	const char *format;		/* --format */
	const char *dump;		/* --dump */
	const char *hook;		/* --hook */
	const char *table;		/* --table */
	const char *icmp_type;		/* --icmp-type */
	bool check_only;		/* fmt --check */
	bool diff;			/* fmt --diff */
	bool write;			/* fmt -w */
	bool stats;			/* compile --stats */
	bool no_ndp;			/* compile, query --no-ndp */
	bool no_loopback;		/* compile, query --no-loopback */
	bool loopback;			/* query --loopback */
	const char *priority;		/* compile --priority */
	const char *state;		/* query --state */
	const char *hop_limit;		/* query --hop-limit */
	bool all;			/* query --all */
	bool brute_force;		/* lint --brute-force: the pairwise oracle */
	const char *fail_on;		/* diff --fail-on */
	const char *git;		/* diff --git REV */
	const char *side_defines[2][64];	/* diff --old-D, --new-D: NAME=VALUE */
	size_t nside_defines[2];
	const char *confirm_timeout;	/* apply --confirm-timeout */
	bool dry_run;			/* apply --dry-run */
	bool confirm;			/* apply --confirm */
	const char *shown_dir, *shown_as;	/* unit_opts' (diff --git) */
	bool collect_diags;		/* the command prints diagnostics itself */
	int argc;			/* operands after the options */
	char **argv;
};

/* Which options a command takes, as getopt letters and long names. */
struct cli_spec {
	const char *name;
	int (*run)(struct cli_opts *o);
	const char *synopsis;
	const char *summary;
	const char *help;		/* option lines */
	unsigned opts;			/* CLI_OPT_* */
	int min_args, max_args;		/* operands; max -1: unbounded */
};

enum {
	CLI_OPT_INCLUDE = 1 << 0,	/* -I DIR, -D NAME=VALUE */
	CLI_OPT_WARN = 1 << 1,		/* -W..., --color */
	CLI_OPT_POLICY = 1 << 2,	/* -p */
	CLI_OPT_OUTPUT = 1 << 3,	/* -o */
	CLI_OPT_FORMAT = 1 << 4,	/* --format */
	CLI_OPT_DUMP = 1 << 5,		/* --dump */
	CLI_OPT_FMT = 1 << 6,		/* --check, -w */
	CLI_OPT_TARGET = 1 << 7,	/* -t, --hook, --stats, --priority, --no-ndp, --no-loopback */
	CLI_OPT_QUERY = 1 << 8,		/* --icmp-type, --table */
	CLI_OPT_LINT = 1 << 9,		/* --stats, --brute-force */
	CLI_OPT_DIFF = 1 << 10,		/* --fail-on */
	CLI_OPT_APPLY = 1 << 11,	/* --confirm-timeout, --dry-run, --confirm */
	CLI_OPT_DEPLOY = 1 << 12,	/* -t takes the targets that load: nftables, iptables */
};

extern const struct cli_spec cli_commands[];
extern const size_t cli_ncommands;

/* Adds "NAME=VALUE" (given as flag) to o's -D values; false, having said
 * why, when it is malformed or gives a name a second value. */
bool cli_add_define(struct cli_opts *o, const char *arg, const char *flag);
/* Parses options for spec; returns EXIT_OK or EXIT_USAGE (after saying why). */
int cli_parse(const struct cli_spec *spec, int argc, char **argv, struct cli_opts *o);
void cli_usage(const struct cli_spec *spec, FILE *fp);
void cli_diag_init(struct diag *d, const struct cli_opts *o);

/* driver.c: load, check and lower one root file, printing diagnostics as
 * each phase ends and stopping at the first phase with errors. Returns
 * EXIT_OK, EXIT_ERRORS or EXIT_USAGE (unreadable root file). */
int driver_run(struct unit *u, struct diag *d, const struct cli_opts *o, const char *path,
	       bool require_params);
/* The policy named by -p, or the only one; says why when there is none. */
const struct ir_policy *driver_policy(const struct unit *u, const struct cli_opts *o);
/* What the one-policy commands share: set up d from o, run the driver on
 * path, pick the policy. NULL, with *rc EXIT_ERRORS or EXIT_USAGE, when
 * there is none to work on; the caller frees u and d either way. */
const struct ir_policy *driver_compile(struct unit *u, struct diag *d, const struct cli_opts *o,
				       const char *path, int *rc);

/* cmd_compile.c: the policy of o->argv[0] through be, with o's target
 * options, into memory (for apply and verify). EXIT_OK, or the exit code
 * after the diagnostics are printed; free *out either way. */
struct compile_result {
	struct emit_file files[EMIT_MAX_FILES];
	size_t n;
	struct emit_stats stats;
	char *policy;			/* the policy's name */
};
int compile_run(struct cli_opts *o, const struct backend *be, struct compile_result *out);
void compile_result_free(struct compile_result *c);

int cmd_check(struct cli_opts *o);
int cmd_fmt(struct cli_opts *o);
int cmd_query(struct cli_opts *o);
int cmd_compile(struct cli_opts *o);
int cmd_doc(struct cli_opts *o);
int cmd_lint(struct cli_opts *o);
int cmd_diff(struct cli_opts *o);
int cmd_verify(struct cli_opts *o);
int cmd_apply(struct cli_opts *o);

#endif
