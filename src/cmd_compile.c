/* cmd_compile.c - portc compile: one policy through one backend.
 *
 * Output goes to stdout, or to OUT (plus the backend's suffixes), committed
 * as one set (outfile.h): a failed compile leaves every file as it was, and
 * never half of one or half of a set. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"
#include "jsonout.h"
#include "outfile.h"

static int write_outputs(const char *out, struct emit_file *files, size_t n, bool binary)
{
	if (!out || strcmp(out, "-") == 0) {
		if (binary && isatty(STDOUT_FILENO)) {
			diag_plain("not writing a binary table to a terminal: give -o OUT");
			return EXIT_USAGE;
		}
		for (size_t i = 0; i < n; i++) {
			if (n > 1)
				printf("%s ==> %s <==\n", files[i].comment, files[i].suffix);
			fwrite(files[i].text.s, 1, files[i].text.len, stdout);
		}
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
	}
	struct outfile of[EMIT_MAX_FILES];
	size_t opened = 0;
	int e = 0;
	for (size_t i = 0; i < n && !e; i++) {
		size_t len = strlen(out) + strlen(files[i].suffix) + 1;
		char *path = xmalloc(len);
		snprintf(path, len, "%s%s", out, files[i].suffix);
		e = outfile_open(&of[i], path);
		if (e)
			diag_plain("cannot write '%s': %s", path, strerror(e));
		else
			opened++;
		free(path);
		if (!e && fwrite(files[i].text.s, 1, files[i].text.len, of[i].fp) != files[i].text.len) {
			e = errno ? errno : EIO;
			diag_plain("cannot write '%s%s': %s", out, files[i].suffix, strerror(e));
		}
	}
	if (e) {
		for (size_t i = 0; i < opened; i++)
			outfile_abort(&of[i]);
		return EXIT_USAGE;
	}
	size_t bad;
	e = outfile_commit_set(of, n, &bad);
	if (e) {
		diag_plain("cannot write '%s%s': %s%s", out, files[bad].suffix, strerror(e),
			   n > 1 ? " (no file of the set was changed)" : "");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* --stats: a sentence on stderr, or (--format=json) one JSON object of the
 * named figures, also on stderr, so that stdout stays the ruleset. */
static void print_stats(const char *policy, const struct backend *be,
			const struct emit_stats *st, const char *format)
{
	if (!format || strcmp(format, "json") != 0) {
		fprintf(stderr, "policy %s (%s): %s\n", policy, be->name, st->text.s);
		return;
	}
	json_t *o = json_pack("{s:o, s:s}", "policy", json_text(policy), "target", be->name);
	for (size_t i = 0; i < st->nnamed; i++)
		json_object_set_new(o, st->named[i].name, json_integer((json_int_t)st->named[i].value));
	if (st->hooks) {
		json_t *h = json_array();
		for (int k = 0; k < HOOK__COUNT; k++)
			if (st->hooks & HOOK_BIT(k))
				json_array_append_new(h, json_string(hook_name((enum hook)k)));
		json_object_set_new(o, "hooks", h);
	}
	json_dumpf(o, stderr, JSON_COMPACT);
	fputc('\n', stderr);
	json_decref(o);
}

int compile_run(struct cli_opts *o, const struct backend *be, struct compile_result *out)
{
	memset(out, 0, sizeof *out);
	sb_init(&out->stats.text);
	struct emit_opts eo = { .source = o->argv[0],
				.prologue = { .ndp = !o->no_ndp, .loopback = !o->no_loopback } };
	if (o->hook) {
		const char *why = hooks_parse(o->hook, &eo.hooks);
		if (why) {
			diag_plain("%s", why);
			return EXIT_USAGE;
		}
	}
	if (o->priority) {
		char *end;
		errno = 0;
		long v = strtol(o->priority, &end, 10);
		if (!*o->priority || *end || errno || v < -10000 || v > 10000) {
			diag_plain("--priority takes a whole number from -10000 to 10000 (nft's filter "
				   "priority is 0)");
			return EXIT_USAGE;
		}
		eo.has_priority = true;
		eo.priority = (int)v;
	}
	struct diag d;
	struct unit u;
	int r;
	const struct ir_policy *pol = driver_compile(&u, &d, o, o->argv[0], &r);
	if (pol) {
		if (!eo.hooks)
			eo.hooks = ir_policy_default_hooks(pol);
		warn_unplaced_rules(&d, pol, eo.hooks);
		diag_flush(&d, stderr);
		if (diag_failed(&d))
			r = EXIT_ERRORS;
		else if (!be->emit(pol, &eo, out->files, &out->n, &out->stats, &d)) {
			diag_flush(&d, stderr);
			r = EXIT_ERRORS;
		} else {
			out->policy = xstrdup(pol->name);
		}
	}
	unit_free(&u);
	diag_free(&d);
	return r;
}

void compile_result_free(struct compile_result *c)
{
	sb_free(&c->stats.text);
	for (size_t i = 0; i < c->n; i++)
		sb_free(&c->files[i].text);
	free(c->policy);
	memset(c, 0, sizeof *c);
}

int cmd_compile(struct cli_opts *o)
{
	if (!o->target) {
		diag_plain("compile needs a target: -t %s", backend_names());
		return EXIT_USAGE;
	}
	if (o->format && (strcmp(o->format, "json") != 0 && strcmp(o->format, "text") != 0)) {
		diag_plain("--format (of --stats) takes text or json");
		return EXIT_USAGE;
	}
	const struct backend *be = backend_find(o->target);
	if (!be) {
		diag_plain("unknown target '%s'; the targets are: %s", o->target, backend_names());
		return EXIT_USAGE;
	}
	struct compile_result c;
	int r = compile_run(o, be, &c);
	if (r == EXIT_OK) {
		r = write_outputs(o->output, c.files, c.n, be->binary);
		if (r == EXIT_OK && o->stats)
			print_stats(c.policy, be, &c.stats, o->format);
	}
	compile_result_free(&c);
	return r;
}
