/* ipt_table.c - portc's iptables chains and ipsets read into the table
 * model (ipt_table.h). */
#include "ipt_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipt_loader.h"
#include "ipt_save.h"
#include "jsonout.h"

/* ---- the table ------------------------------------------------------------------------ */

/* The nft listing being written, and what each rule's handle (its index
 * here) stands for until nft_table_parse has read it. */
struct built {
	struct listing L;
	struct xlate x[2];
	json_t *list;
	ARR(char *) keys, texts;
	ARR(long) pos;
};

static void add_rule(struct built *b, const char *chain, json_t *expr, const char *comment, char *key, char *text,
		     long pos)
{
	json_t *r = json_pack("{s:s, s:s, s:o, s:o, s:I}", "family", "iptables", "table", "portc", "chain", json_text(chain),
			      "expr", expr, "handle", (json_int_t)b->keys.n);
	if (comment)
		json_object_set_new(r, "comment", json_text(comment));
	json_array_append_new(b->list, json_pack("{s:o}", "rule", r));
	ARR_PUSH(b->L.ar, b->keys, key);
	ARR_PUSH(b->L.ar, b->texts, text);
	ARR_PUSH(b->L.ar, b->pos, pos);
}

static char *keyed(int fam, const char *table, const char *text)
{
	struct strbuf sb = { 0 };
	sb_init(&sb);
	sb_printf(&sb, "%s -t %s %s", ipt_tools[fam], table, text);
	return sb_detach(&sb);
}

static void add_set(json_t *list, const char *name, const char *type, int fam, json_t *elems)
{
	json_array_append_new(list, json_pack("{s:{s:s, s:s, s:o, s:s, s:s, s:o}}", "set", "family", "iptables",
					      "table", "portc", "name", json_text(name), "type",
					      fam ? "ipv6_addr" : "ipv4_addr", "ipset", type, "elem", elems));
}

struct sets_read {
	json_t *list;
	json_t *elems;		/* the current set's */
	char *name, *type;
	int fam;
	bool any;
};

static void set_done(struct sets_read *r)
{
	if (r->name)
		add_set(r->list, r->name, r->type, r->fam, r->elems);
	free(r->name);
	free(r->type);
	r->name = r->type = NULL;
	r->elems = NULL;
}

static bool set_line(void *ctx, const struct words *w, bool create)
{
	struct sets_read *r = ctx;
	if (create) {
		set_done(r);
		r->name = xstrdup(w->v[1]);
		r->type = xstrdup(w->v[2]);
		r->fam = 0;
		for (size_t i = 3; i + 1 < w->n; i++)
			if (!strcmp(w->v[i], "family"))
				r->fam = strcmp(w->v[i + 1], "inet6") == 0;
		r->elems = json_array();
		r->any = true;
		return true;
	}
	json_t *a = w->n == 3 ? ipt_addr_json(w->v[2], r->fam) : NULL;
	if (!a) {
		/* options (nomatch, timeout) or another kind of element: the
		 * lift cannot read it */
		struct strbuf sb = { 0 };
		sb_init(&sb);
		for (size_t i = 2; i < w->n; i++)
			sb_printf(&sb, "%s%s", i > 2 ? " " : "", w->v[i]);
		a = json_pack("{s:o}", "ipset-element", json_text(sb.s));
		sb_free(&sb);
	}
	json_array_append_new(r->elems, a);
	return true;
}

/* The policy's sets from ipset save: "create NAME TYPE family inet ...",
 * "add NAME ELEMENT [options]". */
static bool read_sets(const char *stem, const char *text, json_t *list, bool *any, char **why)
{
	struct sets_read r = { .list = list };
	bool ok = ipt_sets_each(stem, text, set_line, &r, why);
	if (ok)
		set_done(&r);
	json_decref(r.elems);
	free(r.name);
	free(r.type);
	*any |= r.any;
	return ok;
}

static void add_chain(json_t *list, const char *name, const char *hook)
{
	json_t *c = json_pack("{s:s, s:s, s:o}", "family", "iptables", "table", "portc", "name", json_text(name));
	if (hook) {
		json_object_set_new(c, "hook", json_string(hook));
		json_object_set_new(c, "type", json_string("filter"));
		json_object_set_new(c, "prio", json_integer(0));
		json_object_set_new(c, "policy", json_string("accept"));
	}
	json_array_append_new(list, json_pack("{s:o}", "chain", c));
}

/* The lines of chain (fam, table), from index first to last, as rules of
 * the model's chain name; base: one of the hooks' base chains, whose rules
 * say their tool and match their family. */
static void add_lines(struct built *b, const char *name, int fam, const char *table, const char *chain, size_t first,
		      size_t last, bool base)
{
	b->x[fam].table = table;
	for (size_t i = first; first != SIZE_MAX && i <= last && i < b->L.lines.n; i++) {
		const struct line *ln = &b->L.lines.v[i];
		if (ln->fam != fam || strcmp(ln->table, table) || strcmp(ln->chain, chain))
			continue;
		const char *comment;
		json_t *e = ipt_rule_expr(&b->x[fam], ln, &comment);
		struct strbuf text = { 0 };
		sb_init(&text);
		if (base) {
			/* the family is what this chain of the tool's holds */
			json_array_insert_new(e, 0, ipt_family_match(fam));
			sb_printf(&text, "%s ", ipt_tools[fam]);
		}
		sb_puts(&text, ln->text);
		add_rule(b, name, e, comment, keyed(fam, table, ln->text), sb_detach(&text), ln->pos);
	}
}

/* The hooks' base chains: the built-in filter chains' rules that lead to
 * the policy's, IPv4's then IPv6's; a hook has one when the policy has its
 * chain in either family or a built-in chain jumps to the policy's. */
static void add_hooks(struct built *b)
{
	static const char *const hooks[3] = { "input", "output", "forward" };
	static const char *const builtin[3] = { "INPUT", "OUTPUT", "FORWARD" };
	const struct listing *L = &b->L;
	for (int h = 0; h < 3; h++) {
		bool has = false;
		size_t first[2], last[2];
		for (int k = 0; k < 2; k++) {
			ipt_builtin_span(L, k, "filter", builtin[h], &first[k], &last[k]);
			has |= first[k] != SIZE_MAX;
			for (size_t i = 0; i < L->chains.n; i++) {
				const struct chain_decl *c = &L->chains.v[i];
				has |= c->ours && c->fam == k && !strcmp(c->table, "filter") &&
				       !strcmp(c->name + strlen(L->prefix), ipt_chain_short[h]);
			}
		}
		if (!has)
			continue;
		add_chain(b->list, hooks[h], hooks[h]);
		for (int k = 0; k < 2; k++)
			add_lines(b, hooks[h], k, "filter", builtin[h], first[k], last[k], true);
	}
}

/* mangle's built-in chains, for their jumps to the DSCP chain; the
 * policy's chains and the others they lead to. */
static void add_chains(struct built *b)
{
	static const char *const mangle[5] = { "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING" };
	for (int k = 0; k < 2; k++)
		for (int c = 0; c < 5; c++) {
			size_t first, last;
			ipt_builtin_span(&b->L, k, "mangle", mangle[c], &first, &last);
			if (first == SIZE_MAX)
				continue;
			char *name = ipt_chain_display(k, "mangle", mangle[c]);
			add_chain(b->list, name, NULL);
			add_lines(b, name, k, "mangle", mangle[c], first, last, false);
			free(name);
		}
	for (size_t i = 0; i < b->L.chains.n; i++) {
		const struct chain_decl *c = &b->L.chains.v[i];
		if (!c->ours && !c->needed)
			continue;
		char *name = ipt_chain_display(c->fam, c->table, c->name);
		add_chain(b->list, name, NULL);
		add_lines(b, name, c->fam, c->table, c->name, 0, SIZE_MAX - 1, false);
		free(name);
	}
}

/* The listing into t, each rule's key, text and number put back. */
static bool finish(struct built *b, struct nft_table *t, char **why)
{
	json_t *doc = json_pack("{s:o}", "nftables", b->list);
	b->list = NULL;
	char *s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	bool ok = s && nft_table_parse(s, t, why);
	free(s);
	if (!ok)
		return false;
	t->rule_id = "rule";
	for (size_t i = 0; i < t->nrules; i++) {
		struct nft_rule *r = &t->rules[i];
		size_t g = (size_t)r->handle;
		free(r->key);
		r->key = b->keys.v[g];
		r->text = b->texts.v[g];
		b->keys.v[g] = b->texts.v[g] = NULL;
		r->handle = b->pos.v[g];
	}
	return true;
}

bool ipt_table_build(const char *stem, const struct ipt_listing *l, struct nft_table *t, bool *present,
		     char **why)
{
	memset(t, 0, sizeof *t);
	*present = false;
	struct built b = { 0 };
	if (!ipt_listing_read(stem, l, &b.L, why))
		return false;
	b.list = json_array();
	json_array_append_new(b.list, json_pack("{s:{s:s, s:o}}", "table", "family", "iptables", "name", json_text(stem)));
	bool ok = read_sets(stem, l->sets ? l->sets : "", b.list, present, why);
	for (size_t i = 0; i < b.L.chains.n; i++)
		*present |= b.L.chains.v[i].ours;
	if (ok) {
		ipt_mark_needed(&b.L);
		ipt_xlate_init(&b.x[0], &b.L, 0);
		ipt_xlate_init(&b.x[1], &b.L, 1);
		add_hooks(&b);
		add_chains(&b);
		ok = finish(&b, t, why);
	}
	json_decref(b.list);
	for (size_t i = 0; i < b.keys.n; i++) {
		free(b.keys.v[i]);
		free(b.texts.v[i]);
	}
	ipt_lines_free(&b.L);
	return ok;
}

