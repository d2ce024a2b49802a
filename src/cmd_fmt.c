/* cmd_fmt.c - portc fmt: print, check or rewrite files in the canonical
 * layout. Only the syntax matters here: imports are not followed, names
 * are not resolved, so a file is formatted even when its imports are not
 * on this machine. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "fmt.h"
#include "outfile.h"
#include "parse.h"

extern char **environ;

#define MAX_FILE_SIZE ((size_t)64 << 20)

/* Writes len bytes to a fresh temporary file; its name in name. */
static int temp_with(char name[], const char *text, size_t len)
{
	int fd = mkstemp(name);
	if (fd < 0)
		return errno;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0) {
			int e = errno;
			close(fd);
			unlink(name);
			return e;
		}
		done += (size_t)w;
	}
	close(fd);
	return 0;
}

/* --diff: the change as `diff -u` shows it (diffutils is on every Debian
 * system: writing a diff algorithm of our own would buy nothing), headed
 * "a/PATH" and "b/PATH" as git's are, so `git apply` takes it. */
static int show_diff(const char *path, const char *text, size_t len, const char *out)
{
	char before[] = "/tmp/portc-fmt.XXXXXX", after[] = "/tmp/portc-fmt.XXXXXX";
	int e = temp_with(before, text, len);
	if (e)
		return e;
	e = temp_with(after, out, strlen(out));
	if (e) {
		unlink(before);
		return e;
	}
	char *la = xmalloc(strlen(path) + 3), *lb = xmalloc(strlen(path) + 3);
	sprintf(la, "a/%s", path);
	sprintf(lb, "b/%s", path);
	fflush(stdout);
	char *argv[] = { "diff", "-u", "--label", la, "--label", lb, before, after, NULL };
	pid_t pid;
	int st = 0;
	e = posix_spawnp(&pid, "diff", NULL, NULL, argv, environ);
	if (e == 0 && waitpid(pid, &st, 0) < 0)
		e = errno;
	/* diff exits 1 when the files differ, which they do */
	if (e == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 1))
		e = EIO;
	if (e)
		diag_plain("cannot run 'diff -u' for --diff: %s", strerror(e));
	unlink(before);
	unlink(after);
	free(la);
	free(lb);
	return e;
}

static int fmt_one(const char *path, struct cli_opts *o, struct diag *d)
{
	char *text;
	size_t len;
	bool in = strcmp(path, "-") == 0;	/* standard input */
	if (in && o->write) {
		diag_plain("fmt -w cannot rewrite standard input; without -w the result is printed");
		return EXIT_USAGE;
	}
	int e = read_file(in ? "/dev/stdin" : path, MAX_FILE_SIZE, &text, &len);
	if (e) {
		diag_plain("cannot read '%s': %s", in ? "standard input" : path,
			   e == EFBIG ? "file too large" : strerror(e));
		return EXIT_USAGE;
	}
	if (in)
		path = "<stdin>";
	struct arena *a = arena_new();
	struct source *src = source_new(a, path, NULL, text, len);
	struct ast_file *file = parse_source(a, d, src);
	diag_flush(d, stderr);
	int r = EXIT_OK;
	if (diag_failed(d)) {
		r = EXIT_ERRORS;
	} else {
		char *out = fmt_file(file);
		bool same = strlen(out) == len && memcmp(out, text, len) == 0;
		if (o->diff) {
			if (!same) {
				e = show_diff(path, text, len, out);
				r = e ? EXIT_USAGE : EXIT_ERRORS;
			}
		} else if (o->check_only) {
			if (!same) {
				printf("%s\n", path);
				r = EXIT_ERRORS;
			}
		} else if (o->write) {
			if (!same) {
				e = write_file_atomic(path, out, strlen(out));
				if (e) {
					diag_plain("cannot write '%s': %s", path, strerror(e));
					r = EXIT_USAGE;
				}
			}
		} else {
			fputs(out, stdout);
		}
		free(out);
	}
	arena_free(a);
	free(text);
	return r;
}

int cmd_fmt(struct cli_opts *o)
{
	if ((o->check_only || o->diff) && o->write) {
		diag_plain("--%s and --write exclude each other", o->diff ? "diff" : "check");
		return EXIT_USAGE;
	}
	int worst = EXIT_OK;
	for (int i = 0; i < o->argc; i++) {
		struct diag d;
		cli_diag_init(&d, o);
		int r = fmt_one(o->argv[i], o, &d);
		diag_free(&d);
		if (r > worst)
			worst = r;
	}
	return worst;
}
