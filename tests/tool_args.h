/* tool_args.h - the options the test tools (tests/kernel/diffgen.c,
 * tests/table/tablecheck.c) share: they compile a policy as portc does,
 * so they take portc's -I, -D, -p and -W, and a seed and a count. */
#ifndef PORTC_TOOL_ARGS_H
#define PORTC_TOOL_ARGS_H

#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* xorshift64: a fixed, seedable stream, the same on every machine */
static unsigned long long rng_state = 88172645463325252ull;

static inline unsigned long long rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static inline u128 rnd128(void)
{
	return ((u128)rnd() << 64) | rnd();
}

/* A value in [lo, hi], uniformly enough for a test. */
static inline u128 rnd_in(u128 lo, u128 hi)
{
	if (hi <= lo)
		return lo;
	u128 span = hi - lo;
	if (span == U128_MAX)
		return rnd128();
	return lo + rnd128() % (span + 1);
}

struct tool_args {
	struct cli_opts o;
	const char *file;
	unsigned long long seed;	/* 0 when not given */
	unsigned long count;
};

static inline void tool_args_init(struct tool_args *a, unsigned long count)
{
	memset(a, 0, sizeof *a);
	memset(a->o.diag.enabled, -1, sizeof a->o.diag.enabled);
	a->count = count;
}

/* Takes argv[*i] (and its value) when it is a shared option or the FILE;
 * returns 0 when taken, 1 when it is not a shared option, 2 on a bad -D. */
static inline int tool_arg(struct tool_args *a, int argc, char **argv, int *i)
{
	const char *s = argv[*i];
	bool val = *i + 1 < argc;
	if (strcmp(s, "-I") == 0 && val) {
		a->o.incdirs[a->o.nincdirs++] = argv[++*i];
	} else if (strcmp(s, "-D") == 0 && val) {
		char *eq = strchr(argv[++*i], '=');
		if (!eq)
			return 2;
		*eq = '\0';
		a->o.defines[a->o.ndefines].name = argv[*i];
		a->o.defines[a->o.ndefines++].value = eq + 1;
	} else if (strcmp(s, "-p") == 0 && val) {
		a->o.policy = argv[++*i];
	} else if (strcmp(s, "--seed") == 0 && val) {
		a->seed = strtoull(argv[++*i], NULL, 10);
		rng_state ^= a->seed * 0x9E3779B97F4A7C15ull;
	} else if (strcmp(s, "--count") == 0 && val) {
		a->count = strtoul(argv[++*i], NULL, 10);
	} else if (strncmp(s, "-W", 2) == 0) {
		diag_parse_option(&a->o.diag, s);
	} else if (s[0] != '-') {
		a->file = s;
	} else {
		return 1;
	}
	return 0;
}

#endif
