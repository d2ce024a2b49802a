/* proc.c - running another program (proc.h). fork and exec rather than
 * posix_spawn: a child that gets a network namespace of its own must
 * unshare() between the two. Standard output and standard error are
 * read together by poll(), so a program that fills one while we wait on
 * the other cannot stall. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define PROC_MAX_OUTPUT ((size_t)1 << 30)

struct sink {
	int fd;
	struct strbuf sb;
};

/* In the child, after fork: on any failure before exec it writes one byte
 * to fail_w (close-on-exec, so a successful exec writes nothing) and
 * exits; the parent tells "could not run" from any exit status that way
 * (git exits 128 on its own errors). */
static void child(char *const argv[], const struct proc_opts *o, int out_w, int err_w, int fail_w)
{
	int in = open(o->stdin_path ? o->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (in < 0 || null < 0)
		goto fail;
	if (o->new_netns && unshare(CLONE_NEWNET) != 0)
		goto fail;
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out_w >= 0 ? out_w : null, STDOUT_FILENO) < 0 ||
	    (err_w >= 0 && dup2(err_w, STDERR_FILENO) < 0))
		goto fail;
	/* apply blocks the signals it waits for; the program gets them */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
fail:
	if (write(fail_w, "x", 1) < 0)
		_exit(127);
	_exit(127);
}

static void drain(struct sink *s, size_t n)
{
	struct pollfd pf[2];
	while (1) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (s[i].fd >= 0)
				pf[k++] = (struct pollfd){ .fd = s[i].fd, .events = POLLIN };
		if (!k)
			return;
		if (poll(pf, k, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (size_t j = 0; j < k; j++) {
			if (!pf[j].revents)
				continue;
			struct sink *t = s[0].fd == pf[j].fd ? &s[0] : &s[1];
			char buf[65536];
			ssize_t r = read(t->fd, buf, sizeof buf);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(t->fd);
				t->fd = -1;
			} else if (t->sb.len + (size_t)r <= PROC_MAX_OUTPUT) {
				sb_putn(&t->sb, buf, (size_t)r);
			}
		}
	}
}

int proc_run(char *const argv[], const struct proc_opts *o)
{
	static const struct proc_opts none = { 0 };
	if (!o)
		o = &none;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, pf[2] = { -1, -1 };
	if ((o->out && pipe2(po, O_CLOEXEC) != 0) || (o->err && pipe2(pe, O_CLOEXEC) != 0) ||
	    pipe2(pf, O_CLOEXEC) != 0) {
		for (int i = 0; i < 2; i++) {
			if (po[i] >= 0)
				close(po[i]);
			if (pe[i] >= 0)
				close(pe[i]);
		}
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		child(argv, o, po[1], pe[1], pf[1]);
	close(pf[1]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[1] >= 0)
		close(pe[1]);
	struct sink s[2] = { { po[0], { 0 } }, { pe[0], { 0 } } };
	sb_init(&s[0].sb);
	sb_init(&s[1].sb);
	if (pid > 0)
		drain(s, 2);
	for (int i = 0; i < 2; i++)
		if (s[i].fd >= 0)
			close(s[i].fd);
	int status = 0, rc = -1;
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		char c;
		ssize_t k;
		while ((k = read(pf[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (k == 0 && WIFEXITED(status))
			rc = WEXITSTATUS(status);
	}
	close(pf[0]);
	if (o->out) {
		if (o->out_len)
			*o->out_len = s[0].sb.len;
		*o->out = sb_detach(&s[0].sb);
	}
	if (o->err)
		*o->err = sb_detach(&s[1].sb);
	sb_free(&s[0].sb);
	sb_free(&s[1].sb);
	return rc;
}

bool proc_have(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	struct strbuf sb = { 0 };
	sb_init(&sb);
	bool found = false;
	for (const char *p = path; !found; p++) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		sb_reset(&sb);
		sb_putn(&sb, n ? p : ".", n ? n : 1);
		sb_putc(&sb, '/');
		sb_puts(&sb, name);
		struct stat st;
		found = stat(sb.s, &st) == 0 && S_ISREG(st.st_mode) && access(sb.s, X_OK) == 0;
		if (!e)
			break;
		p = e;
	}
	sb_free(&sb);
	return found;
}
