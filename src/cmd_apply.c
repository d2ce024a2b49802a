/* cmd_apply.c - portc apply: load a policy's table, roll it back unless
 * confirmed.
 *
 * In order: the ruleset is checked by nft (-c); the running table is
 * listed and written out as a file that puts it back (checked by nft
 * too), so that a rollback is one atomic `nft -f` like the load; the plan
 * is printed (what the new table decides differently from the running
 * one, with a witness each, or what it creates); the new table is loaded
 * in one transaction; then portc waits for a confirmation: 'y' on the
 * terminal, or SIGUSR1 from `portc apply --confirm` in another shell
 * (found through a pending file naming this process). Without one in
 * time, or on 'n', SIGINT, SIGTERM or SIGHUP (the SSH session went
 * away), the snapshot is loaded back. Only portc's table is touched:
 * Docker's, firewalld's and everyone else's stay as they are.
 *
 * Exit: 0 loaded and kept, 1 not loaded (nft refused it), 2 errors
 * (usage, not root, the policy does not compile), 3 rolled back. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "cli.h"
#include "deploy.h"
#include "eval.h"
#include "proc.h"

#define EXIT_ROLLED_BACK 3
#define MAX_TIMEOUT 86400

/* Where apply keeps its snapshot and pending file: root's, under /run
 * (gone at reboot, as the ruleset is). PORTC_RUN_DIR moves it (tests). */
static const char *run_dir(void)
{
	const char *d = getenv("PORTC_RUN_DIR");
	return d && *d ? d : "/run/portc";
}

/* Names are per network namespace: two namespaces (containers, the
 * tests' hosts) may each load a table of the same name. */
static void state_path(char *buf, size_t len, const char *table, const char *what)
{
	struct stat st;
	unsigned long ns = stat("/proc/self/ns/net", &st) == 0 ? (unsigned long)st.st_ino : 0;
	snprintf(buf, len, "%s/%s.%lu.%s", run_dir(), table, ns, what);
}

static int nft_file(const char *flag, const char *path, char **err)
{
	char *argv[] = { "nft", (char *)flag, "-f", (char *)path, NULL };
	char *const argv_load[] = { "nft", "-f", (char *)path, NULL };
	struct proc_opts po = { .err = err };
	return proc_run(flag ? argv : argv_load, &po);
}

static bool write_all(const char *path, const char *a, const char *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	size_t na = strlen(a), nb = b ? strlen(b) : 0;
	bool ok = write(fd, a, na) == (ssize_t)na && (!nb || write(fd, b, nb) == (ssize_t)nb);
	ok = fsync(fd) == 0 && ok;
	return close(fd) == 0 && ok;
}

/* ---- the plan ---------------------------------------------------------------- */

static void summary(const struct nft_side *want)
{
	size_t elems = 0;
	for (size_t i = 0; i < want->t.nsets; i++)
		elems += want->t.sets[i].nelems;
	printf("plan: create table inet %s: %zu chains, %zu rules, %zu sets and maps with %zu elements\n",
	       want->t.name, want->t.nchains, want->t.nrules, want->t.nsets, elems);
	for (size_t i = 0; i < want->t.nchains; i++) {
		const struct nft_chain *c = &want->t.chains[i];
		if (c->hook)
			printf("    base chain %s: hook %s priority %ld, policy %s\n", c->name, c->hook, c->prio,
			       c->policy ? c->policy : "accept");
	}
}

/* What loading want does to the packets have decides, per hook. */
static void plan(const struct nft_side *have, const struct nft_side *want)
{
	if (!have->present) {
		summary(want);
		return;
	}
	if (have->l.failed || want->l.failed) {
		printf("plan: replace table inet %s (not compared by meaning: %s)\n", want->t.name,
		       have->l.failed ? have->l.failed : want->l.failed);
		summary(want);
		return;
	}
	struct strbuf sb = { 0 };
	sb_init(&sb);
	size_t total = 0;
	for (int h = 0; h < HOOK__COUNT; h++) {
		bool k = have->l.hooks & HOOK_BIT(h), w = want->l.hooks & HOOK_BIT(h);
		if (!k && !w)
			continue;
		if (k != w) {
			printf("plan: hook %s: base chain %s\n", hook_name((enum hook)h), w ? "added" : "removed");
			total++;
			continue;
		}
		struct diff_result r;
		if (!diff_policies(&have->l.pol[h], &want->l.pol[h], &r)) {
			printf("plan: hook %s: the change is too large to cut into regions\n", hook_name((enum hook)h));
			total++;
			continue;
		}
		for (size_t i = 0; i < r.n; i++) {
			const struct diff_change *ch = &r.v[i];
			sb_reset(&sb);
			diff_put_decision(&sb, ch->old_dec);
			sb_puts(&sb, " -> ");
			diff_put_decision(&sb, ch->new_dec);
			printf("plan: hook %s: %s: %s\n", hook_name((enum hook)h), diff_kind_name(ch->kind), sb.s);
			sb_reset(&sb);
			sb_put_visible(&sb, ch->old_rule && ch->old_rule->note ? ch->old_rule->note : "?");
			printf("    now: %s\n", sb.s);
			sb_reset(&sb);
			sb_put_visible(&sb, ch->new_rule && ch->new_rule->note ? ch->new_rule->note : "?");
			printf("    new: %s\n", sb.s);
			diff_print_region(&sb, ch);
		}
		total += r.n;
		diff_free(&r);
	}
	if (!total)
		printf("plan: table inet %s decides every packet as the running one does\n", want->t.name);
	sb_free(&sb);
}

/* ---- waiting ------------------------------------------------------------------- */

enum answer { KEEP, ROLL_BACK };

/* Waits up to timeout seconds for SIGUSR1 or 'y' on the terminal. */
static enum answer wait_confirm(int sfd, unsigned timeout, const char *table, const char **why)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios saved, raw;
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		tty = false;
	}
	fprintf(stderr,
		"portc apply: table inet %s loaded. Keep it? %s'portc apply --confirm %s' from another shell "
		"confirms; without an answer within %u s the previous table comes back.\n",
		table, tty ? "[y/n] here, or " : "", table, timeout);
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout;
	enum answer a = ROLL_BACK;
	*why = "no confirmation in time";
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (long)(end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			break;
		struct pollfd p[2] = { { sfd, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
		int n = poll(p, tty ? 2 : 1, (int)(ms > INT_MAX ? INT_MAX : ms));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = "waiting failed";
			break;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
				if (si.ssi_signo == SIGUSR1) {
					a = KEEP;
					*why = "confirmed by portc apply --confirm";
				} else {
					*why = strsignal((int)si.ssi_signo);
				}
				break;
			}
		}
		if (tty && (p[1].revents & (POLLIN | POLLHUP))) {
			char c;
			ssize_t r = read(STDIN_FILENO, &c, 1);
			if (r <= 0) {
				tty = false;	/* the terminal went away: wait for a signal */
				continue;
			}
			if (c == 'y' || c == 'Y') {
				a = KEEP;
				*why = "confirmed on the terminal";
				break;
			}
			if (c == 'n' || c == 'N') {
				*why = "refused on the terminal";
				break;
			}
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return a;
}

/* ---- --confirm ------------------------------------------------------------------ */

static bool is_waiting_apply(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* argv[0] ends in portc, and apply is one of the arguments */
	const char *base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strncmp(base, "portc", 5) != 0)
		return false;
	for (const char *s = buf + strlen(buf) + 1; s < buf + n; s += strlen(s) + 1)
		if (strcmp(s, "apply") == 0)
			return true;
	return false;
}

static int confirm(struct cli_opts *o)
{
	if (o->argc > 1 || o->dry_run || o->confirm_timeout) {
		diag_plain("portc apply --confirm takes at most a table's name, and no other option");
		return EXIT_USAGE;
	}
	const char *table = o->argc ? o->argv[0] : NULL;
	if (table && (strchr(table, '/') || table[0] == '.')) {
		diag_plain("'%s' is not a table's name", table);
		return EXIT_USAGE;
	}
	char path[PATH_MAX];
	if (!table) {
		diag_plain("portc apply --confirm needs the table's name (the waiting apply printed it)");
		return EXIT_USAGE;
	}
	state_path(path, sizeof path, table, "pending");
	char *text = NULL;
	size_t len;
	if (read_file(path, 64, &text, &len) != 0) {
		diag_plain("no portc apply of table inet %s is waiting for a confirmation in this network "
			   "namespace", table);
		return EXIT_ERRORS;
	}
	char *end;
	long pid = strtol(text, &end, 10);
	bool ok = pid > 0 && (*end == '\n' || !*end) && is_waiting_apply((pid_t)pid);
	free(text);
	if (!ok || kill((pid_t)pid, SIGUSR1) != 0) {
		diag_plain("the apply that was waiting for table inet %s is gone", table);
		unlink(path);
		return EXIT_ERRORS;
	}
	/* the waiting apply removes the file once it keeps the table */
	for (int i = 0; i < 100 && access(path, F_OK) == 0; i++)
		usleep(50000);
	printf("portc apply: table inet %s confirmed\n", table);
	return EXIT_OK;
}

/* ---- apply ------------------------------------------------------------------------ */

static int snapshot(const struct nft_side *have, const char *table, const char *path)
{
	char *listing = NULL, *err = NULL;
	struct strbuf head = { 0 };
	sb_init(&head);
	/* the same two lines portc's own files start with: create the table
	 * if it is gone, then replace it whole */
	sb_printf(&head, "table inet %s\ndelete table inet %s\n", table, table);
	if (have->present) {
		char *const argv[] = { "nft", "list", "table", "inet", (char *)table, NULL };
		struct proc_opts po = { .out = &listing, .err = &err };
		if (proc_run(argv, &po) != 0) {
			diag_plain("cannot list table inet %s for the snapshot: %s", table, err ? err : "");
			free(listing);
			free(err);
			sb_free(&head);
			return EXIT_USAGE;
		}
	}
	bool ok = write_all(path, head.s, listing);
	free(listing);
	free(err);
	sb_free(&head);
	if (!ok) {
		diag_plain("cannot write the snapshot '%s': %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	err = NULL;
	if (nft_file("-c", path, &err) != 0) {
		diag_plain("the running table inet %s does not load back as nft lists it, so it cannot be "
			   "rolled back to; nothing was changed:\n%s", table, err ? err : "");
		free(err);
		return EXIT_ERRORS;
	}
	free(err);
	return EXIT_OK;
}

static int apply(struct cli_opts *o, unsigned timeout)
{
	struct ruleset rs;
	if (ruleset_get(o, &rs) != EXIT_OK) {
		ruleset_free(&rs);
		return EXIT_USAGE;
	}
	char file[PATH_MAX], snap[PATH_MAX], pending[PATH_MAX], lockp[PATH_MAX], prev[PATH_MAX];
	struct nft_side have = { 0 }, want = { 0 };
	int r = EXIT_USAGE, lock = -1;
	char *err = NULL;
	bool temp = false;
	if (!ruleset_temp(&rs, file, sizeof file))
		goto out;
	temp = true;
	if (nft_file("-c", file, &err) != 0) {
		diag_plain("nft refuses the ruleset of %s; nothing was loaded:\n%s", rs.shown, err ? err : "");
		r = EXIT_ERRORS;
		goto out;
	}
	if (mkdir(run_dir(), 0700) != 0 && errno != EEXIST) {
		diag_plain("cannot make '%s': %s", run_dir(), strerror(errno));
		goto out;
	}
	state_path(lockp, sizeof lockp, rs.table, "lock");
	state_path(snap, sizeof snap, rs.table, "rollback.nft");
	state_path(prev, sizeof prev, rs.table, "previous.nft");
	state_path(pending, sizeof pending, rs.table, "pending");
	lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
		diag_plain("another portc apply of table inet %s is running in this network namespace",
			   rs.table);
		goto out;
	}
	if (side_running(rs.table, &have) != EXIT_OK)
		goto out;
	if ((r = side_fresh(file, rs.table, &want)) != EXIT_OK)
		goto out;
	plan(&have, &want);
	fflush(stdout);
	if (o->dry_run) {
		r = EXIT_OK;
		goto out;
	}
	if ((r = snapshot(&have, rs.table, snap)) != EXIT_OK)
		goto out;
	/* the signals that confirm or cancel are read from a signalfd, so
	 * they are blocked before anyone can know of the wait */
	sigset_t sigs, old;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	free(err);
	err = NULL;
	if (nft_file(NULL, file, &err) != 0) {
		diag_plain("nft did not load the ruleset; the running table is as it was:\n%s", err ? err : "");
		r = EXIT_ERRORS;
		goto unblock;
	}
	if (timeout == 0) {
		printf("portc apply: table inet %s loaded\n", rs.table);
		rename(snap, prev);
		r = EXIT_OK;
		goto unblock;
	}
	char pid[32];
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (sfd < 0 || !write_all(pending, pid, NULL)) {
		diag_plain("cannot wait for a confirmation (%s); rolling back", strerror(errno));
		timeout = 0;
	}
	const char *why = "it could not wait";
	enum answer a = timeout ? wait_confirm(sfd, timeout, rs.table, &why) : ROLL_BACK;
	unlink(pending);
	if (a == KEEP) {
		printf("portc apply: table inet %s kept (%s)\n", rs.table, why);
		rename(snap, prev);
		r = EXIT_OK;
		goto unblock;
	}
	free(err);
	err = NULL;
	if (nft_file(NULL, snap, &err) != 0) {
		diag_plain("ROLLBACK FAILED (%s): the new table inet %s is still loaded; restore the previous one "
			   "with: nft -f %s\n%s", why, rs.table, snap, err ? err : "");
		r = EXIT_USAGE;
		goto unblock;
	}
	printf("portc apply: %s: table inet %s rolled back to what it was%s\n", why, rs.table,
	       have.present ? "" : " (none: it was removed)");
	unlink(snap);
	r = EXIT_ROLLED_BACK;
unblock:
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	if (temp)
		unlink(file);
	if (lock >= 0)
		close(lock);
	free(err);
	side_free(&have);
	side_free(&want);
	ruleset_free(&rs);
	return r;
}

int cmd_apply(struct cli_opts *o)
{
	if (!deploy_can_run("apply"))
		return EXIT_USAGE;
	if (o->confirm)
		return confirm(o);
	if (o->argc != 1) {
		diag_plain("portc apply needs one policy or ruleset file (try 'portc help apply')");
		return EXIT_USAGE;
	}
	unsigned timeout = 30;
	if (o->confirm_timeout) {
		char *end;
		errno = 0;
		long v = strtol(o->confirm_timeout, &end, 10);
		if (!*o->confirm_timeout || *end || errno || v < 0 || v > MAX_TIMEOUT) {
			diag_plain("--confirm-timeout takes whole seconds from 0 to %d", MAX_TIMEOUT);
			return EXIT_USAGE;
		}
		timeout = (unsigned)v;
	}
	return apply(o, timeout);
}
