/* outfile.c - output files: atomic replacement of regular files, in-place
 * writes to everything else, sets committed together (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* ---- temporary names removed on a signal --------------------------------- */

#define CLEANUP_SLOTS 32
static char *volatile cleanup[CLEANUP_SLOTS];
static bool handlers_installed;

static void on_signal(int sig)
{
	/* unlink and raise are async-signal-safe; the names were complete
	 * strings before they were published here */
	for (int i = 0; i < CLEANUP_SLOTS; i++)
		if (cleanup[i])
			unlink(cleanup[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	if (handlers_installed)
		return;
	handlers_installed = true;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;	/* nohup and friends: keep ignoring it */
		struct sigaction sa = { 0 };
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

static int remember(char *name)
{
	install_handlers();
	for (int i = 0; i < CLEANUP_SLOTS; i++) {
		if (!cleanup[i]) {
			cleanup[i] = name;
			return i;
		}
	}
	return -1;	/* more outputs at once than slots: not removed on a signal */
}

static void forget(int slot)
{
	if (slot >= 0)
		cleanup[slot] = NULL;
}

/* ---- where a path leads ---------------------------------------------------- */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	size_t n = (size_t)(slash - path);
	char *d = xmalloc(n + 1);
	memcpy(d, path, n);
	d[n] = '\0';
	return d;
}

/* "/proc/self/fd/1", "/dev/fd/1": a descriptor this process already has
 * (where /dev/stdout leads). Returns it, or -1. */
static int fd_link(const char *p)
{
	const char *rest = NULL;
	if (strncmp(p, "/proc/self/fd/", 14) == 0)
		rest = p + 14;
	else if (strncmp(p, "/dev/fd/", 8) == 0)
		rest = p + 8;
	if (!rest || !*rest || strlen(rest) > 6)
		return -1;
	for (const char *c = rest; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	return atoi(rest);
}

/* Follows the symlinks of the last component (directories are the
 * kernel's business: a rename in the same directory works through them).
 * *fd is set when the chain reaches a descriptor link (/dev/stdout ->
 * /proc/self/fd/1 -> a pipe, a terminal, or the file the shell opened):
 * that is written through the descriptor, never renamed over. Returns the
 * final name, which may not exist yet, or NULL with errno set. */
static char *follow(const char *path, int *fd)
{
	char *cur = xstrdup(path);
	*fd = fd_link(cur);
	for (int hops = 0; hops < 40; hops++) {
		struct stat st;
		if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
			return cur;
		char link[4096];
		ssize_t n = readlink(cur, link, sizeof link - 1);
		if (n < 0) {
			int e = errno;
			free(cur);
			errno = e;
			return NULL;
		}
		link[n] = '\0';
		char *next;
		if (link[0] == '/') {
			next = xstrdup(link);
		} else {
			char *d = dir_of(cur);
			size_t len = strlen(d) + 1 + (size_t)n + 1;
			next = xmalloc(len);
			snprintf(next, len, "%s/%s", d, link);
			free(d);
		}
		free(cur);
		cur = next;
		if (*fd < 0)
			*fd = fd_link(cur);
		if (*fd >= 0)
			return cur;
	}
	free(cur);
	errno = ELOOP;
	return NULL;
}

/* ---- one file -------------------------------------------------------------- */

static void clear(struct outfile *of)
{
	free(of->path);
	free(of->real);
	free(of->tmp);
	memset(of, 0, sizeof *of);
	of->tmp_slot = -1;
}

static int open_in_place(struct outfile *of, int through)
{
	/* A device or FIFO is written as it is (truncating one is
	 * meaningless); a descriptor link is written through a copy of the
	 * descriptor, so `>>` appends and an offset is kept. */
	int fd = through >= 0 ? fcntl(through, F_DUPFD_CLOEXEC, 3)
			      : open(of->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno;
	of->fp = fdopen(fd, "w");
	if (!of->fp) {
		int e = errno;
		close(fd);
		return e;
	}
	return 0;
}

static int open_replacement(struct outfile *of, const struct stat *old)
{
	size_t n = strlen(of->real) + 16;
	of->tmp = xmalloc(n);
	snprintf(of->tmp, n, "%s.tmp.XXXXXX", of->real);
	int fd = mkostemp(of->tmp, O_CLOEXEC);
	if (fd < 0)
		return errno;
	of->tmp_slot = remember(of->tmp);
	int e = 0;
	if (old) {
		/* the replacement is the same file to everyone who used it:
		 * same permissions, same owner (or the write is refused) */
		uid_t uid = old->st_uid == geteuid() ? (uid_t)-1 : old->st_uid;
		gid_t gid = old->st_gid == getegid() ? (gid_t)-1 : old->st_gid;
		if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) != 0)
			e = errno;
		if (!e && fchmod(fd, old->st_mode & 07777) != 0)
			e = errno;
	} else {
		/* mkstemp makes the file 0600; a ruleset is not a secret and
		 * tools that load it may run as another user */
		mode_t mask = umask(0);
		umask(mask);
		if (fchmod(fd, 0666 & ~mask) != 0)
			e = errno;
	}
	if (!e) {
		of->fp = fdopen(fd, "w");
		if (!of->fp)
			e = errno;
	}
	if (e) {
		close(fd);
		unlink(of->tmp);
		forget(of->tmp_slot);
		return e;
	}
	return 0;
}

int outfile_open(struct outfile *of, const char *path)
{
	memset(of, 0, sizeof *of);
	of->tmp_slot = -1;
	if (!path || strcmp(path, "-") == 0) {
		of->fp = stdout;
		return 0;
	}
	of->path = xstrdup(path);
	int through;
	of->real = follow(path, &through);
	if (!of->real) {
		int e = errno;
		clear(of);
		return e;
	}
	struct stat st;
	bool exists = through >= 0 ? fstat(through, &st) == 0 : stat(of->real, &st) == 0;
	int e;
	if (through >= 0 && !exists)
		e = EBADF;
	else if (exists && S_ISDIR(st.st_mode))
		e = EISDIR;
	else if (through >= 0 || (exists && !S_ISREG(st.st_mode)))
		e = open_in_place(of, through);
	else
		e = open_replacement(of, exists ? &st : NULL);
	if (e)
		clear(of);
	return e;
}

/* Flushes and fsyncs the temporary file and closes it. */
static int finish_tmp(struct outfile *of)
{
	int e = 0;
	if (fflush(of->fp) != 0 || ferror(of->fp))
		e = errno ? errno : EIO;
	if (!e && of->tmp && fsync(fileno(of->fp)) != 0)
		e = errno;
	if (fclose(of->fp) != 0 && !e)
		e = errno;
	of->fp = NULL;
	return e;
}

int outfile_commit(struct outfile *of)
{
	return outfile_commit_set(of, 1, NULL);
}

void outfile_abort(struct outfile *of)
{
	if (!of->path)
		return;
	if (of->fp)
		fclose(of->fp);
	if (of->tmp) {
		unlink(of->tmp);
		forget(of->tmp_slot);
	}
	clear(of);
}

int write_file_atomic(const char *path, const char *data, size_t len)
{
	struct outfile of;
	int e = outfile_open(&of, path);
	if (e)
		return e;
	if (len && fwrite(data, 1, len, of.fp) != len) {
		e = errno ? errno : EIO;
		outfile_abort(&of);
		return e;
	}
	return outfile_commit(&of);
}

/* ---- a set of files -------------------------------------------------------- */

/* The directory a file is renamed into, opened, and locked exclusively if
 * it can be (the lock orders portc runs writing there; it does not guard
 * data, so a directory that cannot be locked is still used). After the
 * renames the same descriptor is fsynced. -1 if it cannot be opened. */
static int open_dir_locked(const char *file)
{
	char *d = dir_of(file);
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(d);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	return fd;
}

/* Flushes stdout or finishes each temporary file; the first error, with
 * its file's index in *bad. */
static int finish_all(struct outfile *of, size_t n, size_t *bad)
{
	int e = 0;
	for (size_t i = 0; i < n; i++) {
		int fe;
		if (!of[i].path)	/* stdout */
			fe = fflush(stdout) != 0 || ferror(stdout) ? (errno ? errno : EIO) : 0;
		else
			fe = finish_tmp(&of[i]);
		if (fe && !e) {
			e = fe;
			*bad = i;
		}
	}
	return e;
}

/* One lock per distinct directory, in the order given: every portc run
 * names its set's files in the same order, so no deadlock. */
static size_t lock_dirs(const struct outfile *of, size_t n, int dirs[OUTSET_MAX])
{
	size_t ndirs = 0;
	for (size_t i = 0; i < n; i++) {
		if (!of[i].tmp)
			continue;
		bool seen = false;
		char *d = dir_of(of[i].real);
		for (size_t k = 0; k < i && !seen; k++) {
			if (of[k].tmp) {
				char *dk = dir_of(of[k].real);
				seen = strcmp(d, dk) == 0;
				free(dk);
			}
		}
		free(d);
		if (!seen)
			dirs[ndirs++] = open_dir_locked(of[i].real);
	}
	return ndirs;
}

/* The old files stay reachable under a second name (TMP.old) until the
 * whole new set is in place; a file of one is renamed over directly. */
static int keep_backups(const struct outfile *of, size_t n, char *backup[OUTSET_MAX],
			int backup_slot[OUTSET_MAX], size_t *bad)
{
	for (size_t i = 0; i < n; i++) {
		backup_slot[i] = -1;
		if (!of[i].tmp || n == 1)
			continue;
		size_t len = strlen(of[i].tmp) + 5;
		backup[i] = xmalloc(len);
		snprintf(backup[i], len, "%s.old", of[i].tmp);
		if (link(of[i].real, backup[i]) == 0) {
			backup_slot[i] = remember(backup[i]);
			continue;
		}
		free(backup[i]);
		backup[i] = NULL;
		if (errno != ENOENT) {
			*bad = i;
			return errno;
		}
	}
	return 0;
}

/* Renames every temporary file into place; on a failure, puts back what
 * was replaced and removes what was new. *renamed counts the files done. */
static int rename_all(struct outfile *of, size_t n, char *const backup[OUTSET_MAX],
		      size_t *renamed, size_t *bad)
{
	int e = 0;
	for (*renamed = 0; *renamed < n; (*renamed)++) {
		struct outfile *f = &of[*renamed];
		if (f->tmp && rename(f->tmp, f->real) != 0) {
			e = errno;
			*bad = *renamed;
			break;
		}
	}
	if (!e)
		return 0;
	for (size_t i = 0; i < *renamed; i++) {
		if (!of[i].tmp)
			continue;
		if (backup[i])
			rename(backup[i], of[i].real);
		else
			unlink(of[i].real);
	}
	return e;
}

int outfile_commit_set(struct outfile *of, size_t n, size_t *failed)
{
	size_t bad = 0;
	if (n > OUTSET_MAX)
		BUG("outfile_commit_set: %zu files", n);
	int e = finish_all(of, n, &bad);
	/* PORTC_TEST_COMMIT_DELAY_MS: a pause with every temporary file
	 * written and nothing renamed, so tests/run-outfiles.sh can signal,
	 * race or break a commit at its most delicate moment */
	const char *delay = getenv("PORTC_TEST_COMMIT_DELAY_MS");
	if (delay && !e)
		usleep((useconds_t)strtoul(delay, NULL, 10) * 1000u);
	int dirs[OUTSET_MAX];
	size_t ndirs = 0;
	char *backup[OUTSET_MAX] = { 0 };
	int backup_slot[OUTSET_MAX];
	size_t renamed = 0;
	if (!e) {
		ndirs = lock_dirs(of, n, dirs);
		e = keep_backups(of, n, backup, backup_slot, &bad);
	}
	if (!e)
		e = rename_all(of, n, backup, &renamed, &bad);
	if (!e)
		for (size_t i = 0; i < ndirs; i++)
			if (dirs[i] >= 0)
				fsync(dirs[i]);	/* best effort: some file systems refuse it */
	for (size_t i = 0; i < n; i++) {
		if (backup[i]) {
			unlink(backup[i]);
			forget(backup_slot[i]);
			free(backup[i]);
		}
		if (of[i].tmp) {
			if (e && i >= renamed)
				unlink(of[i].tmp);
			forget(of[i].tmp_slot);
		}
		if (of[i].path)
			clear(&of[i]);
	}
	for (size_t i = 0; i < ndirs; i++)
		if (dirs[i] >= 0)
			close(dirs[i]);
	if (failed)
		*failed = bad;
	return e;
}
