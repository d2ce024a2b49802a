/* outfile.h - writing what the user named, and nothing else.
 *
 * A regular file (or a symlink to one) is replaced atomically: written to a
 * temporary file in the directory of the real file, fsynced, given the old
 * file's mode and owner, renamed over it, and the directory fsynced. The
 * symlink stays a symlink. Anything else (a device such as /dev/null, a
 * FIFO, /dev/stdout, a path under /proc) is written in place, never
 * replaced. "-" or NULL is stdout. Temporary files are removed on SIGINT,
 * SIGTERM and SIGHUP.
 *
 * A set of files (the iptables backend's .ipset, .v4, .v6) is committed
 * together: every file is written in full first; then, holding an
 * exclusive lock on the directory (so concurrent portc runs writing there
 * commit one after the other, never interleaved), each is renamed into
 * place, and if a rename fails the ones already done are put back from
 * hard-linked backups. Either the whole new set is there or the whole old
 * one. See docs/cli.md, "Output files". */
#ifndef PORTC_OUTFILE_H
#define PORTC_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define OUTSET_MAX 4

struct outfile {
	FILE *fp;
	char *path;		/* as named; NULL for stdout */
	char *real;		/* the file replaced (symlinks followed) */
	char *tmp;		/* temporary name while open; NULL when in place */
	int tmp_slot;		/* its entry in the signal cleanup list */
};

int outfile_open(struct outfile *of, const char *path);	/* 0 or errno */
int outfile_commit(struct outfile *of);			/* 0 or errno */
void outfile_abort(struct outfile *of);

/* Writes a whole buffer to path as above. 0 or errno. */
int write_file_atomic(const char *path, const char *data, size_t len);

/* Commits n opened outfiles as one set, as above. On an error every file
 * is as it was and *failed (if not NULL) is the index of the one at fault. */
int outfile_commit_set(struct outfile *of, size_t n, size_t *failed);

#endif
