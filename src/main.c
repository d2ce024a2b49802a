/* main.c - command dispatch and option parsing. Each command lives in its
 * own cmd_*.c; this file only finds it and parses its options. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"

#ifndef PORTC_VERSION
#define PORTC_VERSION "0.0-dev"
#endif

#define H_INCLUDE \
	"  -I DIR             search DIR for imports (before $PORTC_PATH and the stdlib)\n" \
	"  -D NAME=VALUE      set the parameter NAME (declared with 'param')\n"
#define H_WARN \
	"  -Werror            treat warnings as errors\n" \
	"  -Werror=NAME       treat the warning NAME as an error\n" \
	"  -WNAME, -Wno-NAME  enable or disable the diagnostic NAME (see docs/lint.md)\n" \
	"  --color=WHEN       colour diagnostics: auto (default), always, never\n"

const struct cli_spec cli_commands[] = {
	{ "compile", cmd_compile, "compile -t TARGET [options] FILE [-o OUT]",
	  "compile a policy to a deployable ruleset",
	  H_INCLUDE H_WARN
	  "  -p POLICY          the policy to compile (needed when a file has several)\n"
	  "  --hook=HOOKS       input, output, forward, or a comma list (input,output): a\n"
	  "                     base chain each (default: input; with a 'host', the hooks\n"
	  "                     its rules are placed on)\n"
	  "  -o OUT             write OUT (OUT.v4, OUT.v6, OUT.ipset for iptables) instead\n"
	  "                     of stdout, atomically; a device or /dev/stdout in place\n"
	  "  --stats            print rule and set counts, and how many rules became lookups\n"
	  "  --format=text|json the --stats figures as a sentence (default) or JSON\n"
	  "  --no-ndp           do not accept IPv6 neighbour discovery (hop limit 255)\n"
	  "  --no-loopback      do not accept the loopback interface on input and output\n"
	  "  --priority=N       the nftables base chains' priority (default: filter, 0)\n",
	  CLI_OPT_INCLUDE | CLI_OPT_WARN | CLI_OPT_POLICY | CLI_OPT_OUTPUT | CLI_OPT_TARGET |
	  CLI_OPT_FORMAT, 1, 1 },
	{ "check", cmd_check, "check [options] FILE...",
	  "check policies: syntax, names, types, values",
	  H_INCLUDE H_WARN
	  "  --format=text|json the diagnostics as GCC-style text (default) or one JSON\n"
	  "                     document, as lint's\n"
	  "  --dump=ast|ir      print the syntax tree or the lowered IR of each file\n",
	  CLI_OPT_INCLUDE | CLI_OPT_WARN | CLI_OPT_DUMP | CLI_OPT_FORMAT, 1, -1 },
	{ "fmt", cmd_fmt, "fmt [--check | --diff | -w] FILE...",
	  "print policies in the canonical layout",
	  "  --check            print nothing; exit 1 if a file is not formatted\n"
	  "  --diff             print what fmt would change, as a unified diff; exit 1 if\n"
	  "                     anything would\n"
	  "  -w, --write        rewrite the files in place\n",
	  CLI_OPT_FMT, 1, -1 },
	{ "doc", cmd_doc, "doc [options] FILE [--format=md|html|dot] [-o OUT]",
	  "render a policy as a port utilization table or a flow diagram",
	  H_INCLUDE H_WARN
	  "  -p POLICY          the policy to render (needed when a file has several)\n"
	  "  --format=FORMAT    md (a Markdown table, default), html, or dot (Graphviz)\n"
	  "  -o OUT             write OUT (atomically) instead of stdout\n",
	  CLI_OPT_INCLUDE | CLI_OPT_WARN | CLI_OPT_POLICY | CLI_OPT_FORMAT | CLI_OPT_OUTPUT, 1, 1 },
	{ "lint", cmd_lint, "lint [options] FILE...",
	  "find conflicting, shadowed and redundant rules, and address and port slips",
	  H_INCLUDE H_WARN
	  "  -p POLICY          lint this policy (default: every policy of each FILE)\n"
	  "  --format=FORMAT    text (default), json, or sarif (SARIF 2.1.0, for code scanning)\n"
	  "  --hook=HOOKS       the hooks the ruleset will have: warn about rules none of\n"
	  "                     them can see (-Wwrong-hook; default as compile's)\n"
	  "  --stats            print how many rules, rule pairs listed and undecided rules\n"
	  "  --brute-force      compare every pair of rules, never sample (the slow oracle\n"
	  "                     the fast engine is tested against; same findings)\n",
	  CLI_OPT_INCLUDE | CLI_OPT_WARN | CLI_OPT_POLICY | CLI_OPT_FORMAT | CLI_OPT_LINT, 1, -1 },
	{ "diff", cmd_diff, "diff [options] OLD NEW\n       portc diff [options] --git=REV FILE",
	  "what a change does to traffic: every packet two policies decide differently,\n"
	  "exactly (exit 0 alike, 1 different, 2 errors)",
	  H_INCLUDE H_WARN
	  "  -p POLICY          the policy to compare (needed when a file has several)\n"
	  "  --format=FORMAT    text (default), json, markdown (a pull request comment) or\n"
	  "                     sarif (SARIF 2.1.0, located on the new rules)\n"
	  "  --fail-on=KINDS    exit 1 only for these kinds of change, a comma list of\n"
	  "                     opened, closed, remarked, other (default: any)\n"
	  "  --git=REV          OLD is FILE as of git revision REV (its tree, imports and\n"
	  "                     all), NEW is FILE as it is\n"
	  "  --old-D NAME=VALUE, --new-D NAME=VALUE  a parameter for one side only\n",
	  CLI_OPT_INCLUDE | CLI_OPT_WARN | CLI_OPT_POLICY | CLI_OPT_FORMAT | CLI_OPT_DIFF, 1, 2 },
	{ "query", cmd_query, "query [options] FILE PROTO SRC[:PORT] DST[:PORT]\n"
	  "       portc query [options] --table TABLE.ptab PROTO SRC[:PORT] DST[:PORT]",
	  "evaluate one packet against a policy (the reference semantics), or look it up\n"
	  "in a compiled matching table",
	  H_INCLUDE H_WARN
	  "  -p POLICY          the policy to ask (needed when a file has several)\n"
	  "  --format=text|json print the answer as text (default) or one JSON object\n"
	  "  --icmp-type=TYPE   the ICMP/ICMPv6 type (name or number; default echo-request)\n"
	  "  --all              also list every other rule the packet matches, in order\n"
	  "  --hook=HOOK        the hook the packet meets: input, output or forward\n"
	  "                     (default: compile's; with a 'host', where the packet goes)\n"
	  "  --state=STATE      conntrack's state of the packet: new (default), established,\n"
	  "                     related or invalid\n"
	  "  --loopback         the packet is on the loopback interface (default: when its\n"
	  "                     destination is 127.0.0.0/8 or ::1, or is its source)\n"
	  "  --hop-limit=N      its IPv6 hop limit (default 255 for neighbour discovery, else 64)\n"
	  "  --no-ndp, --no-loopback  as the ruleset was compiled\n"
	  "  --table=TABLE      answer from TABLE (portc compile -t table), through libportc\n",
	  CLI_OPT_INCLUDE | CLI_OPT_WARN | CLI_OPT_POLICY | CLI_OPT_FORMAT | CLI_OPT_QUERY, 3, 4 },
	{ "verify", cmd_verify, "verify [-t nftables|iptables] [options] FILE",
	  "compare the kernel's running table with the policy, by content and by meaning\n"
	  "(exit 0 agree, 1 drift, 2 errors; needs root)",
	  H_INCLUDE H_WARN
	  "  FILE               a policy (compiled here, with the options below), or a\n"
	  "                     FILE.nft or (-t iptables) the OUT.sh of a bundle portc compiled\n"
	  "  -p POLICY          the policy (needed when a file has several)\n"
	  "  --format=text|json the drift as text (default) or one JSON object\n"
	  "  --hook, --priority, --no-ndp, --no-loopback  as the ruleset was compiled\n",
	  CLI_OPT_INCLUDE | CLI_OPT_WARN | CLI_OPT_POLICY | CLI_OPT_TARGET | CLI_OPT_DEPLOY | CLI_OPT_FORMAT, 1, 1 },
	{ "apply", cmd_apply, "apply [-t nftables|iptables] [options] FILE [--confirm-timeout=SECONDS] [--dry-run]\n"
	  "       portc apply [-t nftables|iptables] --confirm TABLE",
	  "load a policy's ruleset atomically and roll it back unless confirmed in time\n"
	  "(exit 0 kept, 1 not loaded, 2 errors, 3 rolled back; needs root)",
	  H_INCLUDE H_WARN
	  "  FILE               a policy (compiled here, with the options below), or a\n"
	  "                     FILE.nft or (-t iptables) the OUT.sh of a bundle portc compiled\n"
	  "  -p POLICY          the policy (needed when a file has several)\n"
	  "  --hook, --priority, --no-ndp, --no-loopback  as for compile\n"
	  "  --confirm-timeout=SECONDS  how long to wait for a confirmation before the\n"
	  "                     previous table is restored (default 30; 0: keep at once)\n"
	  "  --dry-run          check the ruleset and show the plan; load nothing\n"
	  "  --confirm          confirm the apply waiting for TABLE (-t iptables: the\n"
	  "                     policy's stem), from another shell\n",
	  CLI_OPT_INCLUDE | CLI_OPT_WARN | CLI_OPT_POLICY | CLI_OPT_TARGET | CLI_OPT_DEPLOY | CLI_OPT_APPLY, 0, 1 },
};
const size_t cli_ncommands = ARRAY_LEN(cli_commands);

void cli_usage(const struct cli_spec *spec, FILE *fp)
{
	fprintf(fp, "usage: portc %s\n\n%s.\n\n", spec->synopsis, spec->summary);
	if ((spec->help && *spec->help) || (spec->opts & CLI_OPT_TARGET))
		fputs("options:\n", fp);
	/* the targets come from the backend registry, so they cannot drift;
	 * apply and verify load rulesets, so they take the two that are */
	if ((spec->opts & CLI_OPT_TARGET) && (spec->opts & CLI_OPT_DEPLOY))
		fputs("  -t TARGET          nftables (default: portc's inet table) or iptables (its\n"
		      "                     chains PORTC-STEM-* and ipsets pc-STEM-*)\n", fp);
	else if (spec->opts & CLI_OPT_TARGET)
		backend_help(fp);
	if (spec->help && *spec->help)
		fputs(spec->help, fp);
}

static void usage_all(FILE *fp)
{
	fputs("usage: portc COMMAND [options] ...\n\n"
	      "portc compiles port policies: it checks them, evaluates packets against them\n"
	      "and emits firewall rulesets.\n\ncommands:\n", fp);
	for (size_t i = 0; i < cli_ncommands; i++) {
		/* a summary of two lines keeps its second under the first */
		fprintf(fp, "  %-9s ", cli_commands[i].name);
		for (const char *s = cli_commands[i].summary; *s; s++) {
			fputc(*s, fp);
			if (*s == '\n')
				fputs("            ", fp);
		}
		fputc('\n', fp);
	}
	fputs("  help      show help for a command\n\n"
	      "portc --version prints the version. Exit status: 0 clean, 1 errors in the input\n"
	      "(or warnings under -Werror), 2 usage or I/O errors.\n", fp);
}

static const struct cli_spec *find_command(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}

static void no_command(const char *name)
{
	const char *best = NULL;
	unsigned best_d = 3;
	for (size_t i = 0; i < cli_ncommands; i++) {
		unsigned d = edit_distance(name, cli_commands[i].name, best_d - 1);
		if (d < best_d) {
			best_d = d;
			best = cli_commands[i].name;
		}
	}
	if (best)
		diag_plain("no command '%s'; did you mean '%s'? (see 'portc help')", name, best);
	else
		diag_plain("no command '%s'; see 'portc help'", name);
}

enum {
	OPT_COLOR = 256, OPT_FORMAT, OPT_DUMP, OPT_CHECK, OPT_DIFF, OPT_HOOK, OPT_STATS,
	OPT_TABLE, OPT_ICMP_TYPE, OPT_NO_NDP, OPT_BRUTE, OPT_ALL,
	OPT_NO_LOOPBACK, OPT_LOOPBACK, OPT_PRIORITY, OPT_STATE, OPT_HOP_LIMIT, OPT_FAIL_ON, OPT_GIT, OPT_OLD_D, OPT_NEW_D,
	OPT_CONFIRM_TIMEOUT, OPT_DRY_RUN, OPT_CONFIRM,
};

bool cli_add_define(struct cli_opts *o, const char *arg, const char *flag)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		diag_plain("%s needs NAME=VALUE, got '%s'", flag, arg);
		return false;
	}
	if (o->ndefines == ARRAY_LEN(o->defines)) {
		diag_plain("too many -D options");
		return false;
	}
	char *name = xmalloc((size_t)(eq - arg) + 1);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	/* a second value would silently win over the first: say so instead
	 * (the same value twice is harmless) */
	for (size_t i = 0; i < o->ndefines; i++) {
		if (strcmp(o->defines[i].name, name) == 0 && strcmp(o->defines[i].value, eq + 1) != 0) {
			diag_plain("%s %s given twice, as '%s' and as '%s'; give it once", flag, name,
				   o->defines[i].value, eq + 1);
			free(name);
			return false;
		}
	}
	o->defines[o->ndefines].name = name;
	o->defines[o->ndefines].value = eq + 1;
	o->ndefines++;
	return true;
}

/* Every option: its long name (NULL for -I, -D, -W), whether it takes a
 * value, and the CLI_OPT_ bits of the commands that take it (any will do). */
static const struct opt_def {
	const char *name;
	int has_arg;
	int val;
	unsigned need;
} opt_defs[] = {
	{ NULL, required_argument, 'I', CLI_OPT_INCLUDE },
	{ NULL, required_argument, 'D', CLI_OPT_INCLUDE },
	{ NULL, required_argument, 'W', CLI_OPT_WARN },
	{ "color", required_argument, OPT_COLOR, CLI_OPT_WARN },
	{ "format", required_argument, OPT_FORMAT, CLI_OPT_FORMAT },
	{ "dump", required_argument, OPT_DUMP, CLI_OPT_DUMP },
	{ "check", no_argument, OPT_CHECK, CLI_OPT_FMT },
	{ "diff", no_argument, OPT_DIFF, CLI_OPT_FMT },
	{ "write", no_argument, 'w', CLI_OPT_FMT },
	{ "hook", required_argument, OPT_HOOK, CLI_OPT_TARGET | CLI_OPT_LINT | CLI_OPT_QUERY },
	{ "stats", no_argument, OPT_STATS, CLI_OPT_TARGET | CLI_OPT_LINT },
	{ "table", required_argument, OPT_TABLE, CLI_OPT_QUERY },
	{ "all", no_argument, OPT_ALL, CLI_OPT_QUERY },
	{ "icmp-type", required_argument, OPT_ICMP_TYPE, CLI_OPT_QUERY },
	{ "no-ndp", no_argument, OPT_NO_NDP, CLI_OPT_TARGET | CLI_OPT_QUERY },
	{ "no-loopback", no_argument, OPT_NO_LOOPBACK, CLI_OPT_TARGET | CLI_OPT_QUERY },
	{ "loopback", no_argument, OPT_LOOPBACK, CLI_OPT_QUERY },
	{ "priority", required_argument, OPT_PRIORITY, CLI_OPT_TARGET },
	{ "state", required_argument, OPT_STATE, CLI_OPT_QUERY },
	{ "hop-limit", required_argument, OPT_HOP_LIMIT, CLI_OPT_QUERY },
	{ "brute-force", no_argument, OPT_BRUTE, CLI_OPT_LINT },
	{ "fail-on", required_argument, OPT_FAIL_ON, CLI_OPT_DIFF },
	{ "git", required_argument, OPT_GIT, CLI_OPT_DIFF },
	{ "old-D", required_argument, OPT_OLD_D, CLI_OPT_DIFF },
	{ "new-D", required_argument, OPT_NEW_D, CLI_OPT_DIFF },
	{ "confirm-timeout", required_argument, OPT_CONFIRM_TIMEOUT, CLI_OPT_APPLY },
	{ "dry-run", no_argument, OPT_DRY_RUN, CLI_OPT_APPLY },
	{ "confirm", no_argument, OPT_CONFIRM, CLI_OPT_APPLY },
	{ "output", required_argument, 'o', CLI_OPT_OUTPUT },
	{ "target", required_argument, 't', CLI_OPT_TARGET },
	{ "policy", required_argument, 'p', CLI_OPT_POLICY },
	{ "help", no_argument, 'h', ~0u },
};

static const struct opt_def *opt_def_of(int c)
{
	for (size_t i = 0; i < ARRAY_LEN(opt_defs); i++)
		if (opt_defs[i].val == c)
			return &opt_defs[i];
	return NULL;
}

/* The long options of opt_defs, in getopt_long's shape. */
static const struct option *long_options(void)
{
	static struct option lo[ARRAY_LEN(opt_defs) + 1];
	size_t n = 0;
	if (lo[0].name)
		return lo;
	for (size_t i = 0; i < ARRAY_LEN(opt_defs); i++)
		if (opt_defs[i].name)
			lo[n++] = (struct option){ opt_defs[i].name, opt_defs[i].has_arg, NULL,
						   opt_defs[i].val };
	return lo;
}

/* The short options of opt_defs, in getopt's shape (':' first: a missing
 * value is told apart from an unknown option). */
static const char *short_options(void)
{
	static char so[2 * ARRAY_LEN(opt_defs) + 2];
	size_t n = 0;
	if (so[0])
		return so;
	so[n++] = ':';
	for (size_t i = 0; i < ARRAY_LEN(opt_defs); i++)
		if (opt_defs[i].val < 256) {
			so[n++] = (char)opt_defs[i].val;
			if (opt_defs[i].has_arg == required_argument)
				so[n++] = ':';
		}
	return so;
}

/* Options that do more than store their value. */
static bool store_special(struct cli_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'I':
		if (o->nincdirs == ARRAY_LEN(o->incdirs)) {
			diag_plain("too many -I options");
			return false;
		}
		o->incdirs[o->nincdirs++] = arg;
		return true;
	case 'D':
		return cli_add_define(o, arg, "-D");
	case 'W': {
		char buf[128];
		snprintf(buf, sizeof buf, "-W%s", arg);
		if (!diag_parse_option(&o->diag, buf)) {
			diag_plain("unknown diagnostic option '%s' (see docs/lint.md)", buf);
			return false;
		}
		return true;
	}
	case OPT_COLOR:
		if (strcmp(arg, "always") == 0)
			o->diag.color = true;
		else if (strcmp(arg, "never") == 0)
			o->diag.color = false;
		else if (strcmp(arg, "auto") != 0) {
			diag_plain("--color takes auto, always or never");
			return false;
		}
		return true;
	default: {	/* OPT_OLD_D, OPT_NEW_D */
		int side = c == OPT_NEW_D;
		if (o->nside_defines[side] == ARRAY_LEN(o->side_defines[side])) {
			diag_plain("too many --old-D or --new-D options");
			return false;
		}
		o->side_defines[side][o->nside_defines[side]++] = arg;
		return true;
	}
	}
}

/* Stores option c's value (or true, for a flag) in its field. */
static bool store_option(struct cli_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'p': o->policy = arg; break;
	case 'o': o->output = arg; break;
	case 't': o->target = arg; break;
	case OPT_HOOK: o->hook = arg; break;
	case OPT_STATS: o->stats = true; break;
	case OPT_NO_NDP: o->no_ndp = true; break;
	case OPT_NO_LOOPBACK: o->no_loopback = true; break;
	case OPT_LOOPBACK: o->loopback = true; break;
	case OPT_PRIORITY: o->priority = arg; break;
	case OPT_STATE: o->state = arg; break;
	case OPT_HOP_LIMIT: o->hop_limit = arg; break;
	case OPT_BRUTE: o->brute_force = true; break;
	case OPT_FAIL_ON: o->fail_on = arg; break;
	case OPT_GIT: o->git = arg; break;
	case OPT_CONFIRM_TIMEOUT: o->confirm_timeout = arg; break;
	case OPT_DRY_RUN: o->dry_run = true; break;
	case OPT_CONFIRM: o->confirm = true; break;
	case OPT_FORMAT: o->format = arg; break;
	case OPT_DUMP: o->dump = arg; break;
	case OPT_CHECK: o->check_only = true; break;
	case OPT_DIFF: o->diff = true; break;
	case 'w': o->write = true; break;
	case OPT_TABLE: o->table = arg; break;
	case OPT_ALL: o->all = true; break;
	case OPT_ICMP_TYPE: o->icmp_type = arg; break;
	default: return store_special(o, c, arg);
	}
	return true;
}

int cli_parse(const struct cli_spec *spec, int argc, char **argv, struct cli_opts *o)
{
	memset(o, 0, sizeof *o);
	memset(o->diag.enabled, -1, sizeof o->diag.enabled);
	const char *no_color = getenv("NO_COLOR");
	o->diag.color = isatty(STDERR_FILENO) && !(no_color && *no_color);
	/* Operands may come before options (portc query FILE -p X ...), but
	 * PROTO/SRC/DST never start with '-', so GNU permutation is safe. */
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, short_options(), long_options(), NULL)) != -1) {
		const struct opt_def *def = opt_def_of(c);
		if (c == ':') {
			diag_plain("option '%s' needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		}
		if (!def) {
			diag_plain("unknown option '%s' for 'portc %s'", argv[optind - 1], spec->name);
			fprintf(stderr, "try 'portc help %s'\n", spec->name);
			return EXIT_USAGE;
		}
		if (c == 'h') {
			cli_usage(spec, stdout);
			exit(EXIT_OK);
		}
		if (!(spec->opts & def->need)) {
			diag_plain("'portc %s' does not take option '%s'", spec->name, argv[optind - 1]);
			fprintf(stderr, "try 'portc help %s'\n", spec->name);
			return EXIT_USAGE;
		}
		if (!store_option(o, c, optarg))
			return EXIT_USAGE;
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	if (o->argc < spec->min_args || (spec->max_args >= 0 && o->argc > spec->max_args)) {
		if (o->argc < spec->min_args)
			diag_plain("'portc %s' needs more operands", spec->name);
		else
			diag_plain("'portc %s' takes at most %d operands", spec->name, spec->max_args);
		fprintf(stderr, "usage: portc %s\n", spec->synopsis);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static void free_defines(struct cli_opts *o)
{
	for (size_t i = 0; i < o->ndefines; i++)
		free((char *)o->defines[i].name);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("portc %s\n", PORTC_VERSION);
		return EXIT_OK;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage_all(stdout);
		return EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc < 3) {
			usage_all(stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[2], "help") == 0) {
			fputs("usage: portc help [COMMAND]\n\nshow the commands, or the options of "
			      "COMMAND.\n", stdout);
			return EXIT_OK;
		}
		const struct cli_spec *spec = find_command(argv[2]);
		if (!spec) {
			no_command(argv[2]);
			return EXIT_USAGE;
		}
		cli_usage(spec, stdout);
		return EXIT_OK;
	}
	const struct cli_spec *spec = find_command(cmd);
	if (!spec) {
		no_command(cmd);
		return EXIT_USAGE;
	}
	struct cli_opts o;
	int r = cli_parse(spec, argc - 1, argv + 1, &o);
	if (r == EXIT_OK)
		r = spec->run(&o);
	free_defines(&o);
	return r;
}
