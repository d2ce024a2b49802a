/* gitrev.h - a file as of a git revision, for portc diff --git.
 *
 * The whole tree of the revision is written to a temporary directory
 * (git archive), so that the file's imports are read as of the same
 * revision; the directory goes when the caller is done. */
#ifndef PORTC_GITREV_H
#define PORTC_GITREV_H

#include <stdbool.h>

struct gitrev {
	char *dir;		/* the temporary directory */
	char *tree;		/* dir/tree: the revision's tree */
	char *path;		/* the file in it */
	char *shown_as;		/* "REV:": what tree/ is shown as */
};

/* file as of rev; false, having said why, when git cannot give it. */
bool gitrev_checkout(const char *file, const char *rev, struct gitrev *out);
void gitrev_free(struct gitrev *g);

#endif
