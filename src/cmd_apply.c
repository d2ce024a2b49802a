/* cmd_apply.c - portc apply: load a policy's ruleset, roll it back
 * unless confirmed.
 *
 * In order, with the target's tools (deploy.h: nft for nftables; ipset,
 * iptables-restore and the bundle's loader for iptables): the ruleset is
 * checked; the running state of portc's part of the kernel is read and
 * written out as a snapshot that puts it back (itself checked), so that a
 * rollback is one load like the apply; the plan is printed (what the new
 * ruleset decides differently from the running one, with a witness each,
 * or what it creates); the ruleset is loaded; then portc waits for a
 * confirmation: 'y' on the terminal, or SIGUSR1 from `portc apply
 * --confirm` in another shell (found through a pending file naming this
 * process). Without one in time, or on 'n', SIGINT, SIGTERM or SIGHUP (the
 * SSH session went away), the snapshot is loaded back. Only portc's table
 * (or chains and sets) is touched: Docker's, firewalld's and everyone
 * else's stay as they are.
 *
 * Exit: 0 loaded and kept, 1 not loaded (the tool refused it), 2 errors
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

/* ---- the plan ---------------------------------------------------------------- */

static void summary(const struct ruleset *rs, const struct nft_side *want)
{
	size_t elems = 0;
	for (size_t i = 0; i < want->t.nsets; i++)
		elems += want->t.sets[i].nelems;
	printf("plan: create %s: %zu chains, %zu rules, %zu sets and maps with %zu elements\n",
	       ruleset_what(rs), want->t.nchains, want->t.nrules, want->t.nsets, elems);
	for (size_t i = 0; i < want->t.nchains; i++) {
		const struct nft_chain *c = &want->t.chains[i];
		if (c->hook && rs->dt == &deploy_nftables)
			printf("    base chain %s: hook %s priority %ld, policy %s\n", c->name, c->hook, c->prio,
			       c->policy ? c->policy : "accept");
	}
}

/* What loading want does to the packets have decides, per hook. */
static void plan(const struct ruleset *rs, const struct nft_side *have, const struct nft_side *want)
{
	if (!have->present) {
		summary(rs, want);
		return;
	}
	if (have->l.failed || want->l.failed) {
		printf("plan: replace %s (not compared by meaning: %s)\n", ruleset_what(rs),
		       have->l.failed ? have->l.failed : want->l.failed);
		summary(rs, want);
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
		printf("plan: %s: no packet is decided otherwise than now\n", ruleset_what(rs));
	sb_free(&sb);
}

/* ---- waiting ------------------------------------------------------------------- */

enum answer { KEEP, ROLL_BACK };

/* Waits up to timeout seconds for SIGUSR1 or 'y' on the terminal. */
static enum answer wait_confirm(int sfd, unsigned timeout, const struct ruleset *rs, const char **why)
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
		"portc apply: %s loaded. Keep it? %s'portc apply%s --confirm %s' from another shell "
		"confirms; without an answer within %u s the previous %s comes back.\n",
		ruleset_what(rs), tty ? "[y/n] here, or " : "", rs->dt == &deploy_nftables ? "" : " -t iptables",
		rs->table, timeout, rs->dt == &deploy_nftables ? "table" : "state");
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

static int confirm(struct cli_opts *o, const struct deploy_target *dt)
{
	if (o->argc > 1 || o->dry_run || o->confirm_timeout) {
		diag_plain("portc apply --confirm takes at most a table's name, and no other option but -t");
		return EXIT_USAGE;
	}
	const char *table = o->argc ? o->argv[0] : NULL;
	if (!table) {
		diag_plain("portc apply --confirm needs the table's name (the waiting apply printed it)");
		return EXIT_USAGE;
	}
	if (strchr(table, '/') || table[0] == '.' || strchr(table, ':')) {
		diag_plain("'%s' is not a table's name", table);
		return EXIT_USAGE;
	}
	struct ruleset rs = { .dt = dt, .table = (char *)table };
	char path[PATH_MAX], key[PATH_MAX / 2];
	snprintf(key, sizeof key, "%s%s", dt == &deploy_nftables ? "" : "iptables:", table);
	state_path(path, sizeof path, key, "pending");
	const char *what = ruleset_what(&rs);
	char *text = NULL;
	size_t len;
	if (read_file(path, 64, &text, &len) != 0) {
		diag_plain("no portc apply of %s is waiting for a confirmation in this network namespace", what);
		return EXIT_ERRORS;
	}
	char *end;
	long pid = strtol(text, &end, 10);
	bool ok = pid > 0 && (*end == '\n' || !*end) && is_waiting_apply((pid_t)pid);
	free(text);
	if (!ok || kill((pid_t)pid, SIGUSR1) != 0) {
		diag_plain("the apply that was waiting for %s is gone", what);
		unlink(path);
		return EXIT_ERRORS;
	}
	/* the waiting apply removes the file once it keeps the table */
	for (int i = 0; i < 100 && access(path, F_OK) == 0; i++)
		usleep(50000);
	printf("portc apply: %s confirmed\n", what);
	return EXIT_OK;
}

/* ---- apply ------------------------------------------------------------------------ */

/* base + each of the target's suffixes: renamed to base2's, or removed */
static void state_files(const struct deploy_target *dt, const char *base, const char *base2)
{
	for (size_t i = 0; dt->suffix[i]; i++) {
		char a[PATH_MAX + 16], b[PATH_MAX + 16];
		snprintf(a, sizeof a, "%s%s", base, dt->suffix[i]);
		snprintf(b, sizeof b, "%s%s", base2 ? base2 : "", dt->suffix[i]);
		if (base2)
			rename(a, b);
		else
			unlink(a);
	}
}

/* One apply: the ruleset and its scratch copy, both sides read, and the
 * state files under run_dir(). */
struct applying {
	const struct deploy_target *dt;
	struct ruleset rs;
	struct nft_side have, want;
	char snap[PATH_MAX], snap_main[PATH_MAX + 16], pending[PATH_MAX], prev[PATH_MAX];
	int lock;
};

/* Everything up to the plan: the ruleset checked, this table's apply
 * locked, the running table and the new one read, the plan printed. */
static int prepare(struct cli_opts *o, struct applying *ap)
{
	const struct deploy_target *dt = ap->dt;
	struct ruleset *rs = &ap->rs;
	if (ruleset_get(o, dt, rs) != EXIT_OK || !ruleset_write(rs))
		return EXIT_USAGE;
	int r = dt->check(rs);
	if (r != EXIT_OK)
		return r;
	if (mkdir(run_dir(), 0700) != 0 && errno != EEXIST) {
		diag_plain("cannot make '%s': %s", run_dir(), strerror(errno));
		return EXIT_USAGE;
	}
	char lockp[PATH_MAX];
	state_path(lockp, sizeof lockp, rs->key, "lock");
	state_path(ap->snap, sizeof ap->snap, rs->key, "rollback");
	state_path(ap->prev, sizeof ap->prev, rs->key, "previous");
	state_path(ap->pending, sizeof ap->pending, rs->key, "pending");
	snprintf(ap->snap_main, sizeof ap->snap_main, "%s%s", ap->snap, dt->suffix[dt->main]);
	ap->lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ap->lock < 0 || flock(ap->lock, LOCK_EX | LOCK_NB) != 0) {
		diag_plain("another portc apply of %s is running in this network namespace", ruleset_what(rs));
		return EXIT_USAGE;
	}
	if (dt->running(rs, &ap->have) != EXIT_OK)
		return EXIT_USAGE;
	if ((r = dt->fresh(rs, &ap->want)) != EXIT_OK)
		return r;
	plan(rs, &ap->have, &ap->want);
	fflush(stdout);
	return EXIT_OK;
}

/* The load; on a failure, the iptables state put back (nft loads in one
 * transaction; the iptables loader tests the IPv6 rules before it loads
 * the IPv4 ones, and each file is all or nothing, but the sets come
 * first). EXIT_OK, or EXIT_ERRORS having said why. */
static int load(struct applying *ap)
{
	const struct deploy_target *dt = ap->dt;
	char *err = NULL;
	int r = EXIT_OK;
	if (dt->load(ap->rs.file, &err) != 0) {
		diag_plain("the ruleset did not load; %s %s as it was:\n%s", ruleset_what(&ap->rs),
			   dt == &deploy_nftables ? "is" : "are", err ? err : "");
		if (dt != &deploy_nftables) {
			free(err);
			err = NULL;
			if (dt->load(ap->snap_main, &err) != 0)
				diag_plain("and the snapshot did not load back either; it is %s:\n%s", ap->snap_main,
					   err ? err : "");
		}
		state_files(dt, ap->snap, NULL);
		r = EXIT_ERRORS;
	}
	free(err);
	return r;
}

/* After the load: keep it (timeout 0, or confirmed), or load the snapshot
 * back. */
static int keep_or_roll_back(struct applying *ap, int sfd, unsigned timeout)
{
	const struct deploy_target *dt = ap->dt;
	const char *what = ruleset_what(&ap->rs);
	if (timeout == 0) {
		printf("portc apply: %s loaded\n", what);
		state_files(dt, ap->snap, ap->prev);
		return EXIT_OK;
	}
	char pid[32];
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (sfd < 0 || !deploy_write(ap->pending, pid, NULL)) {
		diag_plain("cannot wait for a confirmation (%s); rolling back", strerror(errno));
		timeout = 0;
	}
	const char *why = "it could not wait";
	enum answer a = timeout ? wait_confirm(sfd, timeout, &ap->rs, &why) : ROLL_BACK;
	unlink(ap->pending);
	what = ruleset_what(&ap->rs);
	if (a == KEEP) {
		printf("portc apply: %s kept (%s)\n", what, why);
		state_files(dt, ap->snap, ap->prev);
		return EXIT_OK;
	}
	char *err = NULL;
	int r = EXIT_ROLLED_BACK;
	if (dt->load(ap->snap_main, &err) != 0) {
		diag_plain("ROLLBACK FAILED (%s): the new build of %s is still loaded; restore the previous state "
			   "with: %s %s\n%s", why, what, dt == &deploy_nftables ? "nft -f" : "sh", ap->snap_main,
			   err ? err : "");
		r = EXIT_USAGE;
	} else {
		printf("portc apply: %s: %s rolled back to what %s%s\n", why, what,
		       dt == &deploy_nftables ? "it was" : "they were", ap->have.present ? "" : " (none: removed)");
		state_files(dt, ap->snap, NULL);
	}
	free(err);
	return r;
}

static int apply(struct cli_opts *o, const struct deploy_target *dt, unsigned timeout)
{
	struct applying ap = { .dt = dt, .lock = -1 };
	int r = prepare(o, &ap);
	if (r == EXIT_OK && !o->dry_run)
		r = ap.dt->snapshot(&ap.rs, &ap.have, ap.snap);
	if (r == EXIT_OK && !o->dry_run) {
		/* the signals that confirm or cancel are read from a signalfd,
		 * so they are blocked before anyone can know of the wait */
		sigset_t sigs, old;
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGUSR1);
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		sigaddset(&sigs, SIGHUP);
		sigprocmask(SIG_BLOCK, &sigs, &old);
		int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
		r = load(&ap);
		if (r == EXIT_OK)
			r = keep_or_roll_back(&ap, sfd, timeout);
		if (sfd >= 0)
			close(sfd);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	if (ap.lock >= 0)
		close(ap.lock);
	side_free(&ap.have);
	side_free(&ap.want);
	ruleset_free(&ap.rs);
	return r;
}

int cmd_apply(struct cli_opts *o)
{
	const struct deploy_target *dt = deploy_target_find(o->target);
	if (!dt || !deploy_can_run("apply", dt))
		return EXIT_USAGE;
	if (o->confirm)
		return confirm(o, dt);
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
	return apply(o, dt, timeout);
}
