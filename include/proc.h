/* proc.h - running another program (git, tar, nft, iptables-restore).
 *
 * Always by argument vector, never through a shell, so that a revision,
 * a path or a table name never becomes shell text. */
#ifndef PORTC_PROC_H
#define PORTC_PROC_H

#include <stdbool.h>
#include <stddef.h>

struct proc_opts {
	const char *stdin_path;	/* its standard input from this file (else /dev/null) */
	char **out;		/* its standard output, NUL-terminated (else /dev/null) */
	size_t *out_len;
	char **err;		/* its standard error (else ours) */
	bool new_netns;		/* run it in a network namespace of its own, empty */
};

/* Runs argv[0] (searched in PATH). Returns its exit status, or -1 when it
 * could not run (or was killed); output caught is capped at 1 GiB. */
int proc_run(char *const argv[], const struct proc_opts *o);
/* Whether a program of that name is in PATH. */
bool proc_have(const char *name);

#endif
