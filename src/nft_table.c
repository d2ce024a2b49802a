/* nft_table.c - one nftables table as the kernel lists it (nft_table.h). */
#include "nft_table.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "proc.h"

static char *canon(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	return s ? s : xstrdup("?");
}

static const char *str_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A string the table keeps: a copy in its own arena, so that it outlives
 * the document (nft_table_drop_doc). */
static const char *kept(struct nft_table *t, const json_t *o, const char *key)
{
	const char *v = str_of(o, key);
	return v ? arena_strdup(t->strs, v) : NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_set(struct nft_table *t, json_t *o, bool map)
{
	struct nft_set *s = &t->sets[t->nsets++];
	memset(s, 0, sizeof *s);
	s->name = kept(t, o, "name");
	s->map = map;
	s->obj = o;
	json_t *k = json_deep_copy(o);
	json_object_del(k, "handle");
	json_object_del(k, "elem");
	json_object_del(k, "table");
	json_object_del(k, "family");
	s->key = canon(k);
	json_decref(k);
	json_t *el = json_object_get(o, "elem");
	size_t n = json_is_array(el) ? json_array_size(el) : 0;
	s->elems = xcalloc(n + 1, sizeof *s->elems);
	s->elem_json = xcalloc(n + 1, sizeof *s->elem_json);
	/* sorted by text, the JSON kept beside each */
	struct { char *k; json_t *j; } *tmp = xcalloc(n + 1, sizeof *tmp);
	for (size_t i = 0; i < n; i++) {
		tmp[i].j = json_array_get(el, i);
		tmp[i].k = canon(tmp[i].j);
	}
	qsort(tmp, n, sizeof *tmp, cmp_str);
	for (size_t i = 0; i < n; i++) {
		s->elems[i] = tmp[i].k;
		s->elem_json[i] = tmp[i].j;
	}
	s->nelems = n;
	free(tmp);
}

static bool add_chain(struct nft_table *t, json_t *o)
{
	struct nft_chain *c = &t->chains[t->nchains++];
	memset(c, 0, sizeof *c);
	c->name = kept(t, o, "name");
	c->hook = kept(t, o, "hook");
	c->type = kept(t, o, "type");
	c->policy = kept(t, o, "policy");
	json_t *p = json_object_get(o, "prio");
	c->prio = json_is_integer(p) ? (long)json_integer_value(p) : 0;
	json_t *k = json_deep_copy(o);
	json_object_del(k, "handle");
	json_object_del(k, "table");
	json_object_del(k, "family");
	c->key = canon(k);
	json_decref(k);
	return c->name != NULL;
}

static int cmp_rule_chain(const void *a, const void *b)
{
	const struct nft_rule *x = a, *y = b;
	int c = strcmp(x->chain, y->chain);
	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* The first rule, in chain order, of the chain name (nrules if none). */
static size_t first_rule_of(const struct nft_table *t, const char *name)
{
	size_t lo = 0, hi = t->nrules;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (strcmp(t->rules[m].chain, name) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* By name, then by place in the listing. */
static int cmp_name(const void *a, const void *b)
{
	const struct nft_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* The place (at) of the first entry named name in index v of n, or SIZE_MAX. */
static size_t find_name(const struct nft_name *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (strcmp(v[m].name, name) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return lo < n && strcmp(v[lo].name, name) == 0 ? v[lo].at : SIZE_MAX;
}

/* The name indexes. Of chains or sets listed twice under one name (the
 * kernel allows neither) the lookups find the first listed, as a linear
 * search would. */
static void index_names(struct nft_table *t)
{
	t->chain_by_name = xcalloc(t->nchains + 1, sizeof *t->chain_by_name);
	for (size_t i = 0; i < t->nchains; i++)
		t->chain_by_name[i] = (struct nft_name){ t->chains[i].name, i };
	qsort(t->chain_by_name, t->nchains, sizeof *t->chain_by_name, cmp_name);
	t->set_by_name = xcalloc(t->nsets + 1, sizeof *t->set_by_name);
	for (size_t i = 0; i < t->nsets; i++)
		if (t->sets[i].name)
			t->set_by_name[t->nset_names++] = (struct nft_name){ t->sets[i].name, i };
	qsort(t->set_by_name, t->nset_names, sizeof *t->set_by_name, cmp_name);
}

bool nft_table_parse(const char *json, struct nft_table *t, char **why)
{
	memset(t, 0, sizeof *t);
	t->strs = arena_new();
	json_error_t e;
	t->doc = json_loads(json, JSON_DECODE_ANY, &e);
	json_t *list = json_object_get(t->doc, "nftables");
	if (!json_is_array(list)) {
		*why = xstrdup(t->doc ? "not nft's JSON listing (no \"nftables\" array)" : e.text);
		nft_table_free(t);
		return false;
	}
	size_t n = json_array_size(list);
	t->chains = xcalloc(n + 1, sizeof *t->chains);
	t->rules = xcalloc(n + 1, sizeof *t->rules);
	t->sets = xcalloc(n + 1, sizeof *t->sets);
	size_t tables = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(list, i);
		json_t *o;
		if ((o = json_object_get(item, "table"))) {
			t->family = kept(t, o, "family");
			t->name = kept(t, o, "name");
			tables++;
		} else if ((o = json_object_get(item, "chain"))) {
			if (!add_chain(t, o)) {
				*why = xstrdup("a chain without a name");
				nft_table_free(t);
				return false;
			}
		} else if ((o = json_object_get(item, "set"))) {
			add_set(t, o, false);
		} else if ((o = json_object_get(item, "map"))) {
			add_set(t, o, true);
		} else if ((o = json_object_get(item, "rule"))) {
			struct nft_rule *r = &t->rules[t->nrules];
			r->chain = kept(t, o, "chain");
			json_t *h = json_object_get(o, "handle");
			r->handle = json_is_integer(h) ? (long)json_integer_value(h) : -1;
			r->expr = json_object_get(o, "expr");
			r->comment = kept(t, o, "comment");
			if (!r->chain || !json_is_array(r->expr)) {
				*why = xstrdup("a rule without a chain or an expression list");
				nft_table_free(t);
				return false;
			}
			char *k = canon(r->expr);
			r->expr_len = strlen(k);
			size_t len = strlen(k) + (r->comment ? strlen(r->comment) : 0) + 16;
			r->key = xmalloc(len);
			snprintf(r->key, len, "%s comment %s", k, r->comment ? r->comment : "");
			free(k);
			t->nrules++;
		}
		/* metainfo, and objects portc never makes (counters, quotas,
		 * flowtables): left to the chains and rules that use them */
	}
	if (tables != 1 || !t->family || !t->name) {
		*why = xstrdup(tables ? "the listing holds more than one table" : "the listing holds no table");
		nft_table_free(t);
		return false;
	}
	t->rule_id = "handle";
	/* rules grouped by chain, each chain's in the listing's order */
	for (size_t i = 0; i < t->nrules; i++)
		t->rules[i].pos = i;
	qsort(t->rules, t->nrules, sizeof *t->rules, cmp_rule_chain);
	for (size_t c = 0; c < t->nchains; c++) {
		struct nft_chain *ch = &t->chains[c];
		ch->first = first_rule_of(t, ch->name);
		size_t i = ch->first;
		while (i < t->nrules && strcmp(t->rules[i].chain, ch->name) == 0)
			i++;
		ch->n = i - ch->first;
	}
	index_names(t);
	return true;
}

static int cmp_handle(const void *a, const void *b)
{
	const struct nft_rule *x = *(struct nft_rule *const *)a, *y = *(struct nft_rule *const *)b;
	return (x->handle > y->handle) - (x->handle < y->handle);
}

void nft_table_add_text(struct nft_table *t, const char *listing)
{
	struct nft_rule **by = xcalloc(t->nrules + 1, sizeof *by);
	for (size_t i = 0; i < t->nrules; i++)
		by[i] = &t->rules[i];
	qsort(by, t->nrules, sizeof *by, cmp_handle);
	for (const char *line = listing; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *h = memmem(line, len, " # handle ", 10);
		if (h && h > line && h[-1] != '{') {
			struct nft_rule key = { .handle = strtol(h + 10, NULL, 10) }, *kp = &key;
			struct nft_rule **r = bsearch(&kp, by, t->nrules, sizeof *by, cmp_handle);
			const char *s = line;
			while (s < h && (*s == '\t' || *s == ' '))
				s++;
			if (r && !(*r)->text) {
				(*r)->text = xmalloc((size_t)(h - s) + 1);
				memcpy((*r)->text, s, (size_t)(h - s));
				(*r)->text[h - s] = 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	free(by);
}

void nft_table_free(struct nft_table *t)
{
	for (size_t i = 0; i < t->nrules; i++) {
		free(t->rules[i].key);
		free(t->rules[i].text);
	}
	for (size_t i = 0; i < t->nchains; i++)
		free(t->chains[i].key);
	for (size_t i = 0; i < t->nsets; i++) {
		for (size_t k = 0; k < t->sets[i].nelems; k++)
			free(t->sets[i].elems[k]);
		free(t->sets[i].elems);
		free(t->sets[i].elem_json);
		free(t->sets[i].key);
	}
	free(t->rules);
	free(t->chains);
	free(t->sets);
	free(t->chain_by_name);
	free(t->set_by_name);
	arena_free(t->strs);
	json_decref(t->doc);
	memset(t, 0, sizeof *t);
}

void nft_table_drop_doc(struct nft_table *t)
{
	for (size_t i = 0; i < t->nrules; i++)
		t->rules[i].expr = NULL;
	for (size_t i = 0; i < t->nsets; i++) {
		t->sets[i].obj = NULL;
		free(t->sets[i].elem_json);
		t->sets[i].elem_json = NULL;
	}
	json_decref(t->doc);
	t->doc = NULL;
}

json_t *nft_rule_expr(const struct nft_rule *r)
{
	return r->expr ? json_incref(r->expr) : json_loadb(r->key, r->expr_len, JSON_DECODE_ANY, NULL);
}

json_t *nft_set_elem(const struct nft_set *s, size_t i)
{
	return s->elem_json ? json_incref(s->elem_json[i]) : json_loads(s->elems[i], JSON_DECODE_ANY, NULL);
}

const struct nft_chain *nft_table_chain(const struct nft_table *t, const char *name)
{
	size_t at = find_name(t->chain_by_name, t->nchains, name);
	return at != SIZE_MAX ? &t->chains[at] : NULL;
}

const struct nft_set *nft_table_set(const struct nft_table *t, const char *name)
{
	size_t at = find_name(t->set_by_name, t->nset_names, name);
	return at != SIZE_MAX ? &t->sets[at] : NULL;
}

/* ---- text ------------------------------------------------------------------ */

static void put_verdict(struct strbuf *sb, const json_t *v)
{
	const char *k;
	json_t *arg;
	json_object_foreach((json_t *)v, k, arg) {
		sb_puts(sb, k);
		const char *target = json_is_object(arg) ? str_of(arg, "target") : NULL;
		if (target) {
			sb_putc(sb, ' ');
			sb_puts(sb, target);
		}
		return;
	}
}

static bool is_verdict(const json_t *v)
{
	static const char *const names[] = { "accept", "drop", "jump", "goto", "return", "continue", "queue" };
	if (!json_is_object(v) || json_object_size(v) != 1)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (json_object_get(v, names[i]))
			return true;
	return false;
}

void nft_value_text(struct strbuf *sb, const json_t *v)
{
	json_t *x;
	if (json_is_integer(v)) {
		sb_printf(sb, "%lld", (long long)json_integer_value(v));
	} else if (json_is_string(v)) {
		sb_put_visible(sb, json_string_value(v));
	} else if (json_is_array(v) && json_array_size(v) == 2 && is_verdict(json_array_get(v, 1))) {
		nft_value_text(sb, json_array_get(v, 0));	/* a map element */
		sb_puts(sb, " : ");
		put_verdict(sb, json_array_get(v, 1));
	} else if (json_is_array(v)) {
		sb_puts(sb, "{ ");
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				sb_puts(sb, ", ");
			nft_value_text(sb, json_array_get(v, i));
		}
		sb_puts(sb, " }");
	} else if (is_verdict(v)) {
		put_verdict(sb, v);
	} else if ((x = json_object_get(v, "prefix"))) {
		nft_value_text(sb, json_object_get(x, "addr"));
		sb_printf(sb, "/%lld", (long long)json_integer_value(json_object_get(x, "len")));
	} else if ((x = json_object_get(v, "range")) && json_array_size(x) == 2) {
		nft_value_text(sb, json_array_get(x, 0));
		sb_putc(sb, '-');
		nft_value_text(sb, json_array_get(x, 1));
	} else if ((x = json_object_get(v, "set"))) {
		if (json_is_array(x)) {
			nft_value_text(sb, x);
		} else {
			sb_puts(sb, "{ ");
			nft_value_text(sb, x);
			sb_puts(sb, " }");
		}
	} else if ((x = json_object_get(v, "concat")) && json_is_array(x)) {
		for (size_t i = 0; i < json_array_size(x); i++) {
			if (i)
				sb_puts(sb, " . ");
			nft_value_text(sb, json_array_get(x, i));
		}
	} else if ((x = json_object_get(v, "elem"))) {
		nft_value_text(sb, json_object_get(x, "val"));
		const char *c = str_of(x, "comment");
		if (c) {
			sb_puts(sb, " comment \"");
			sb_put_visible(sb, c);
			sb_putc(sb, '"');
		}
	} else {
		char *s = canon(v);
		sb_put_visible(sb, s);
		free(s);
	}
}

/* ---- listing ---------------------------------------------------------------- */

int nft_list_table(const char *family, const char *name, bool text, char **out, char **err)
{
	char *const json_argv[] = { "nft", "-j", "-n", "list", "table", (char *)family, (char *)name, NULL };
	char *const text_argv[] = { "nft", "-a", "list", "table", (char *)family, (char *)name, NULL };
	struct proc_opts po = { .out = out, .err = err };
	return proc_run(text ? text_argv : json_argv, &po);
}

/* Writes n bytes, then the length as a trailer the reader finds first:
 * [len][bytes], over a pipe to the parent. */
static void put_frame(int fd, const char *s)
{
	uint64_t n = s ? strlen(s) : 0;
	if (write(fd, &n, sizeof n) != (ssize_t)sizeof n)
		_exit(124);
	for (uint64_t off = 0; off < n;) {
		ssize_t w = write(fd, s + off, (size_t)(n - off));
		if (w <= 0)
			_exit(124);
		off += (uint64_t)w;
	}
}

static char *get_frame(int fd, bool *ok)
{
	uint64_t n = 0;
	size_t got = 0;
	while (got < sizeof n) {
		ssize_t r = read(fd, (char *)&n + got, sizeof n - got);
		if (r <= 0) {
			*ok = false;
			return xstrdup("");
		}
		got += (size_t)r;
	}
	if (n > ((uint64_t)1 << 31)) {
		*ok = false;
		return xstrdup("");
	}
	char *s = xmalloc((size_t)n + 1);
	for (uint64_t off = 0; off < n;) {
		ssize_t r = read(fd, s + off, (size_t)(n - off));
		if (r <= 0) {
			*ok = false;
			n = off;
			break;
		}
		off += (uint64_t)r;
	}
	s[n] = '\0';
	return s;
}

/* In a child with a network namespace of its own (so nothing it loads
 * touches the host's rules): load file, list the table twice. nft runs as
 * three programs in that one namespace, which a single `nft -f` with a
 * list command cannot replace: it lists from its cache, before commit. */
int nft_list_fresh(const char *file, const char *family, const char *name, char **json, char **text,
		   char **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (unshare(CLONE_NEWNET) != 0) {
			put_frame(p[1], "");
			put_frame(p[1], "");
			put_frame(p[1], "cannot make a network namespace (needs root)");
			_exit(3);
		}
		char *const load[] = { "nft", "-f", (char *)file, NULL };
		char *o1 = NULL, *o2 = NULL, *e = NULL;
		struct proc_opts po = { .err = &e };
		int rc = proc_run(load, &po);
		if (rc == 0)
			rc = nft_list_table(family, name, false, &o1, NULL);
		if (rc == 0 && text)
			rc = nft_list_table(family, name, true, &o2, NULL);
		put_frame(p[1], o1);
		put_frame(p[1], o2);
		put_frame(p[1], e);
		_exit(rc < 0 ? 4 : rc);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	bool ok = true;
	*json = get_frame(p[0], &ok);
	char *t = get_frame(p[0], &ok);
	if (text)
		*text = t;
	else
		free(t);
	char *e = get_frame(p[0], &ok);
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (err)
		*err = e;
	else
		free(e);
	if (!ok || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}
