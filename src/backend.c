/* backend.c - the backend registry, and the helpers every backend uses to
 * write names, notes and ranges safely. */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"

static const struct backend *const backends[] = {
#define B(id) &backend_##id,
#include "backends.def"
#undef B
};

const struct backend *backend_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(backends); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const char *backend_names(void)
{
	static char buf[128];
	if (!buf[0]) {
		for (size_t i = 0; i < ARRAY_LEN(backends); i++) {
			if (i)
				strcat(buf, ", ");
			strcat(buf, backends[i]->name);
		}
	}
	return buf;
}

void backend_help(FILE *fp)
{
	fputs("  -t TARGET          one of:\n", fp);
	for (size_t i = 0; i < ARRAY_LEN(backends); i++)
		fprintf(fp, "                       %-10s %s\n", backends[i]->name, backends[i]->summary);
}

void backend_stat(struct emit_stats *st, const char *name, unsigned long long value)
{
	if (st->nnamed == ARRAY_LEN(st->named))
		BUG("more than %zu named figures", ARRAY_LEN(st->named));
	st->named[st->nnamed].name = name;
	st->named[st->nnamed].value = value;
	st->nnamed++;
}

void backend_stats_rules(struct emit_stats *st)
{
	backend_stat(st, "input_rules", st->source_rules);
	backend_stat(st, "expanded_rules", st->ir_rules);
	backend_stat(st, "emitted_rules", st->emitted_rules);
	backend_stat(st, "set_elements", st->set_elements);
	backend_stat(st, "merged_rules", st->merged_rules);
	backend_stat(st, "left_out", st->left_out);
	backend_stat(st, "placed_rules", st->placed_rules);
	backend_stat(st, "inline_sets", st->inline_sets);
	/* the share is of the rules in chains: a rule placed on two hooks
	 * that do not share a chain counts twice, an unenforceable one not */
	double share = st->placed_rules ? 100.0 * st->merged_rules / st->placed_rules : 0.0;
	sb_printf(&st->text, "%u input rules, %u after expansion, %u emitted rules, %u set elements, "
		  "%u of %u placed rules (%.0f%%) merged into lookups", st->source_rules, st->ir_rules,
		  st->emitted_rules, st->set_elements, st->merged_rules, st->placed_rules, share);
	if (st->left_out)
		sb_printf(&st->text, ", %u left out (unenforceable)", st->left_out);
	if (st->inline_sets)
		sb_printf(&st->text, ", %u small address sets written as a rule per prefix",
			  st->inline_sets);
	sb_puts(&st->text, "; ");
	put_hooks_header(&st->text, st->hooks);
}

unsigned char *rules_on_hooks(const struct ir_policy *pol, unsigned hooks)
{
	unsigned char *on = xcalloc(pol->nrules + 1, 1);
	for (size_t i = 0; i < pol->nrules; i++)
		on[i] = (unsigned char)(ir_rule_hooks(pol, &pol->rules[i]) & hooks);
	return on;
}

void put_hooks_header(struct strbuf *sb, unsigned hooks)
{
	sb_puts(sb, (hooks & (hooks - 1)) ? "hooks " : "hook ");
	hooks_text(hooks, sb);
}

void quote_text(struct strbuf *sb, const char *text, size_t max)
{
	size_t start = sb->len;
	for (const char *p = text; *p;) {
		/* a run of printable ASCII that needs no replacing goes in whole */
		const char *q = p;
		while (*q >= 0x20 && *q < 0x7f && *q != '"' && *q != '\\')
			q++;
		if (q > p) {
			size_t run = (size_t)(q - p), left = max - (sb->len - start);
			sb_putn(sb, p, run < left ? run : left);
			if (run >= left)
				break;
			p = q;
			continue;
		}
		unsigned char c = (unsigned char)*p;
		size_t l = c < 0x80 ? 1 : utf8_seq_len(p, strlen(p));
		if (l == 0)
			l = 1;
		if (sb->len - start + l > max)
			break;
		/* Neither nft nor iptables-restore can escape a quote inside a
		 * quoted string, and a newline would end the statement: every
		 * character that could end the string or the line is replaced. */
		uint32_t cp = l > 1 ? utf8_decode(p, l) : c;
		if (l > 1 && codepoint_hidden(cp)) {
			/* a reviewer reading the ruleset must see what it says */
			char mark[16];
			int m = snprintf(mark, sizeof mark, "<U+%04X>", (unsigned)cp);
			if (sb->len - start + (size_t)m > max)
				break;
			sb_puts(sb, mark);
		} else if (c == '"')
			sb_putc(sb, '\'');
		else if (c == '\\')
			sb_putc(sb, '/');
		else if (c < 0x20 || c == 0x7f)
			sb_putc(sb, ' ');
		else if (c >= 0x80 && utf8_seq_len(p, strlen(p)) == 0)
			sb_putc(sb, '?');
		else
			sb_putn(sb, p, l);
		p += l;
	}
}

void rule_origin_text(const struct ir_rule *r, struct strbuf *sb)
{
	const char *file = r->origin.src ? r->origin.src->name : "?";
	const char *slash = strrchr(file, '/');
	sb_puts(sb, slash ? slash + 1 : file);
	sb_putc(sb, ':');
	sb_put_uint(sb, r->origin.line);
	if (r->note) {
		sb_puts(sb, ": ");
		sb_puts(sb, r->note);
	}
}

void put_rule_comment(struct strbuf *sb, const struct ir_rule *r, const char *lead, size_t max)
{
	struct strbuf t = { 0 };
	sb_init(&t);
	rule_origin_text(r, &t);
	sb_puts(sb, lead);
	sb_puts(sb, " \"");
	quote_text(sb, t.s, max);
	sb_putc(sb, '"');
	sb_free(&t);
}

void left_out_text(const struct ir_rule *r, struct strbuf *sb)
{
	const char *file = r->origin.src ? r->origin.src->name : "?";
	const char *slash = strrchr(file, '/');
	struct strbuf t = { 0 };
	sb_init(&t);
	sb_printf(&t, "%s:%u: %s", slash ? slash + 1 : file, r->origin.line, r->unenforceable);
	if (r->note)
		sb_printf(&t, ". %s", r->note);
	quote_text(sb, t.s, 400);
	sb_free(&t);
}

void put_left_out(const struct ir_policy *pol, struct strbuf *sb, const char *heading,
		  const char *prefix)
{
	bool any = false;
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		/* one line per source rule, not per protocol it became */
		if (!r->unenforceable || (i > 0 && pol->rules[i - 1].unenforceable &&
					  pol->rules[i - 1].source == r->source))
			continue;
		if (!any && heading)
			sb_puts(sb, heading);
		any = true;
		sb_puts(sb, prefix);
		left_out_text(r, sb);
		sb_putc(sb, '\n');
	}
}

static uint32_t fnv32(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

void safe_ident(struct strbuf *sb, const char *prefix, const char *name, size_t max)
{
	struct strbuf t = { 0 };
	sb_init(&t);
	sb_puts(&t, prefix);
	bool changed = false;
	for (const char *p = name; *p; p++) {
		char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
			sb_putc(&t, c);
		} else {
			sb_putc(&t, '_');
			changed = true;
		}
	}
	if (t.len > max || changed) {
		/* keep names distinct after shortening or replacing */
		char h[16];
		snprintf(h, sizeof h, "_%08x", fnv32(name));
		size_t keep = max > strlen(h) ? max - strlen(h) : 0;
		if (t.len > keep)
			t.len = keep;
		t.s[t.len] = '\0';
		sb_puts(&t, h);
	}
	sb_puts(sb, t.s);
	sb_free(&t);
}

void put_port_range(struct strbuf *sb, struct iv r, const char *sep)
{
	sb_put_uint(sb, (unsigned)r.lo);
	if (r.lo != r.hi) {
		sb_puts(sb, sep);
		sb_put_uint(sb, (unsigned)r.hi);
	}
}

void put_addr_range(struct strbuf *sb, int family, struct iv r)
{
	int bits = family_bits(family);
	u128 size = r.hi - r.lo;
	/* a prefix: size+1 is a power of two and lo is aligned to it */
	if (size == U128_MAX || ((size & (size + 1)) == 0 && (r.lo & size) == 0)) {
		int host = 0;
		while (host < bits && (host == 128 || ((u128)1 << host) - 1 != size))
			host++;
		if (size == U128_MAX)
			host = 128;
		char buf[64];
		prefix_format(family, r.lo, bits - host, false, buf, sizeof buf);
		sb_puts(sb, buf);
		return;
	}
	char a[64], b[64];
	addr_format(family, r.lo, a, sizeof a);
	addr_format(family, r.hi, b, sizeof b);
	sb_puts(sb, a);
	sb_putc(sb, '-');
	sb_puts(sb, b);
}

static uint64_t set_key(int family, struct ivset s)
{
	return ivset_hash(s) * 31u + (uint64_t)family;
}

/* The slot of content (family, s): where it is, or the free slot where it
 * goes. The table is kept under half full. */
static size_t *find_slot(const struct addr_sets *as, int family, struct ivset s)
{
	size_t mask = as->nslot - 1, i = (size_t)set_key(family, s) & mask;
	for (;; i = (i + 1) & mask) {
		size_t *p = &as->slot[i];
		if (!*p || (as->v[*p - 1].family == family && ivset_equal(as->v[*p - 1].set, s)))
			return p;
	}
}

static void grow_slots(struct addr_sets *as)
{
	free(as->slot);
	as->nslot = as->nslot ? 2 * as->nslot : 64;
	as->slot = xcalloc(as->nslot, sizeof *as->slot);
	for (size_t i = 0; i < as->n; i++)
		*find_slot(as, as->v[i].family, as->v[i].set) = i + 1;
}

static void add_set(struct addr_sets *as, int family, struct ivset s, const char *label,
		    size_t threshold)
{
	if (ivset_prefix_count(s, family_bits(family)) < threshold ||
	    ivset_is_range(s, 0, family == 4 ? V4_MAX : U128_MAX))
		return;
	if (2 * (as->n + 1) > as->nslot)
		grow_slots(as);
	size_t *p = find_slot(as, family, s);
	if (*p) {
		struct addr_set *a = &as->v[*p - 1];
		if (!a->label)
			a->label = label;
		a->uses++;
		return;
	}
	as->v = xrealloc(as->v, (as->n + 1) * sizeof *as->v);
	as->v[as->n++] = (struct addr_set){ .family = family, .set = s, .label = label, .uses = 1 };
	*p = as->n;
}

/* Whether an earlier set of the family carries label (labels hashed by
 * text, so naming stays linear in the sets). */
static bool label_taken(const char **seen, size_t nseen, const char *label, int family)
{
	size_t mask = nseen - 1, i = (fnv32(label) * 2u + (unsigned)(family == 6)) & mask;
	for (; seen[2 * i]; i = (i + 1) & mask)
		if ((uintptr_t)seen[2 * i + 1] == (uintptr_t)family && strcmp(seen[2 * i], label) == 0)
			return true;
	seen[2 * i] = label;
	seen[2 * i + 1] = (const char *)(uintptr_t)family;
	return false;
}

void addr_sets_collect(struct addr_sets *as, const struct ir_policy *pol, size_t threshold,
		       const char *prefix, size_t max_ident)
{
	memset(as, 0, sizeof *as);
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		if (r->unenforceable)
			continue;
		add_set(as, 4, r->src4, r->src_name, threshold);
		add_set(as, 4, r->dst4, r->dst_name, threshold);
		add_set(as, 6, r->src6, r->src_name, threshold);
		add_set(as, 6, r->dst6, r->dst_name, threshold);
	}
	/* names: the network's, else a number; a label two contents share
	 * (one name, two values across rulesets) gets the number too */
	size_t nseen = 64;
	while (nseen < 2 * as->n)
		nseen *= 2;
	const char **seen = xcalloc(2 * nseen, sizeof *seen);
	unsigned anon = 0;
	for (size_t i = 0; i < as->n; i++) {
		struct addr_set *a = &as->v[i];
		bool clash = a->label && label_taken(seen, nseen, a->label, a->family);
		struct strbuf sb = { 0 };
		sb_init(&sb);
		char num[32];
		snprintf(num, sizeof num, "addrs%u", ++anon);
		safe_ident(&sb, prefix, a->label && !clash ? a->label : num, max_ident - 3);
		sb_puts(&sb, a->family == 4 ? "_v4" : "_v6");
		snprintf(a->ident, sizeof a->ident, "%s", sb.s);
		sb_free(&sb);
	}
	free(seen);
}

const struct addr_set *addr_sets_find(const struct addr_sets *as, int family, struct ivset s)
{
	if (!as->nslot)
		return NULL;
	size_t *p = find_slot(as, family, s);
	return *p ? &as->v[*p - 1] : NULL;
}

void addr_sets_free(struct addr_sets *as)
{
	free(as->v);
	free(as->slot);
	memset(as, 0, sizeof *as);
}
