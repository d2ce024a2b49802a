/* fmt.c - the canonical layout of a policy file.
 *
 * The layout is a function of the tree and the comments only, never of how
 * the input was laid out (except that one blank line between things is
 * kept), so formatting is idempotent. A construct goes on one line when it
 * fits in FMT_WIDTH columns and holds no comment; otherwise a { group } puts
 * one element per line, a list wraps, and a rule puts each option on its
 * own continuation line. Every comment comes out exactly once, in order: a
 * comment on the line where an element ends stays after it; any other
 * comment goes on its own line before the next element (for one ahead of
 * a rule's ';', the next statement). */
#include "fmt.h"

#include <stdlib.h>
#include <string.h>

#define FMT_WIDTH 100
#define INDENT 4

struct trail {
	size_t line;		/* output line number, from 0 */
	size_t code_end;	/* offset where the code ends */
};

struct fmt {
	struct strbuf out;
	struct trail *trails;	/* trailing comments, for alignment */
	size_t ntrails, trails_cap;
	const struct source *src;
	size_t ci;		/* next comment to emit */
	uint32_t last_line;	/* source line where the last emitted thing ended */
	size_t line_start;	/* offset of the current output line */
	int indent;		/* current indentation, in columns */
};

/* ---- output ------------------------------------------------------------ */

static size_t out_col(const struct fmt *f)
{
	size_t n = 0;
	for (size_t i = f->line_start; i < f->out.len; i++)
		if (((unsigned char)f->out.s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

static bool at_line_start(const struct fmt *f)
{
	return f->out.len == f->line_start;
}

static void newline(struct fmt *f)
{
	while (f->out.len > f->line_start && f->out.s[f->out.len - 1] == ' ')
		f->out.s[--f->out.len] = '\0';
	sb_putc(&f->out, '\n');
	f->line_start = f->out.len;
}

static void put(struct fmt *f, const char *s)
{
	if (at_line_start(f) && *s)
		for (int i = 0; i < f->indent; i++)
			sb_putc(&f->out, ' ');
	sb_puts(&f->out, s);
}

static size_t out_line(const struct fmt *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->line_start; i++)
		n += f->out.s[i] == '\n';
	return n;
}

/* "  # comment" after the code on the current line; remembered so that the
 * comments of consecutive lines can be aligned at the end. */
static void put_trailing(struct fmt *f, const char *text)
{
	if (f->ntrails == f->trails_cap) {
		f->trails_cap = f->trails_cap ? 2 * f->trails_cap : 32;
		f->trails = xrealloc(f->trails, f->trails_cap * sizeof *f->trails);
	}
	while (f->out.len > f->line_start && f->out.s[f->out.len - 1] == ' ')
		f->out.s[--f->out.len] = '\0';
	f->trails[f->ntrails++] = (struct trail){ out_line(f), f->out.len };
	sb_puts(&f->out, "  ");
	sb_puts(&f->out, text);
}

static void begin_line(struct fmt *f)
{
	if (!at_line_start(f))
		newline(f);
}

/* A blank line in the source before `line` survives as one blank line. */
static void blank_before(struct fmt *f, uint32_t line)
{
	if (f->last_line && line > f->last_line + 1 && f->out.len > 0) {
		begin_line(f);
		size_t n = f->out.len;
		if (!(n >= 2 && f->out.s[n - 1] == '\n' && f->out.s[n - 2] == '\n'))
			newline(f);
	}
}

/* ---- comments ---------------------------------------------------------- */

static bool before(struct loc c, uint32_t line, uint32_t col)
{
	return c.line < line || (c.line == line && c.col < col);
}

/* Own-line comments for everything before (line, col). */
static void leading(struct fmt *f, uint32_t line, uint32_t col)
{
	while (f->ci < f->src->ncomments && before(f->src->comments[f->ci].loc, line, col)) {
		const struct comment *c = &f->src->comments[f->ci++];
		/* a comment on the line where the previous thing ended trails it */
		if (!at_line_start(f) && c->loc.line == f->last_line) {
			put_trailing(f, c->text);
			newline(f);
			continue;
		}
		begin_line(f);
		blank_before(f, c->loc.line);
		put(f, c->text);
		newline(f);
		/* a comment inside the element before it (ahead of its ';')
		 * comes out after it: the blank-line count goes on from that
		 * element's end, not from the comment's line */
		if (c->loc.line > f->last_line)
			f->last_line = c->loc.line;
	}
}

/* A comment right after something that ended on `line` trails it, unless
 * another element comes between them (at or before `next`). */
static void trailing_before(struct fmt *f, uint32_t line, struct loc next)
{
	if (f->ci < f->src->ncomments && f->src->comments[f->ci].loc.line == line &&
	    (!loc_valid(next) || before(f->src->comments[f->ci].loc, next.line, next.col))) {
		put_trailing(f, f->src->comments[f->ci].text);
		f->ci++;
		newline(f);
	}
	f->last_line = line;
}

static void trailing(struct fmt *f, uint32_t line)
{
	trailing_before(f, line, (struct loc){ 0 });
}

static bool comments_within(const struct fmt *f, struct loc span)
{
	for (size_t i = f->ci; i < f->src->ncomments; i++) {
		struct loc c = f->src->comments[i].loc;
		if (!before(c, span.end_line, span.end_col))
			return false;
		if (!before(c, span.line, span.col))
			return true;
	}
	return false;
}

/* ---- flat rendering (one line, no comments) ---------------------------- */

static void flat(struct strbuf *sb, const struct node *n);

static void flat_string(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '"');
	for (; *s; s++) {
		switch (*s) {
		case '"': sb_puts(sb, "\\\""); break;
		case '\\': sb_puts(sb, "\\\\"); break;
		case '\n': sb_puts(sb, "\\n"); break;
		case '\t': sb_puts(sb, "\\t"); break;
		case '\r': sb_puts(sb, "\\r"); break;
		default: sb_putc(sb, *s);
		}
	}
	sb_putc(sb, '"');
}

static void flat_list(struct strbuf *sb, const struct node_list *l, const char *sep)
{
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			sb_puts(sb, sep);
		flat(sb, l->v[i]);
	}
}

static void flat_note(struct strbuf *sb, const struct node *n)
{
	for (size_t i = 0; i < n->u.note.npieces; i++) {
		if (i)
			sb_putc(sb, ' ');
		flat_string(sb, n->u.note.pieces[i]);
	}
}

static void flat_option(struct strbuf *sb, const struct node *o)
{
	switch (o->kind) {
	case N_OPT_SERVICE: {
		const struct node *l = o->u.opt;
		/* The keyword is needed only when the list starts with a name. */
		if (l->u.list.n && l->u.list.v[0]->kind != N_SVC_PROTO &&
		    l->u.list.v[0]->kind != N_SVC_ICMP_TYPE)
			sb_puts(sb, "service ");
		flat(sb, l);
		return;
	}
	case N_OPT_SPORT:
		sb_puts(sb, "sport ");
		flat(sb, o->u.opt);
		return;
	case N_OPT_QOS:
		sb_puts(sb, "qos ");
		flat(sb, o->u.qos.ref);
		return;
	case N_OPT_DSCP:
		flat(sb, o->u.opt);
		return;
	case N_OPT_LOG:
		sb_puts(sb, "log");
		return;
	case N_OPT_NOTE:
		flat_note(sb, o);
		return;
	default:
		BUG("bad option %s", node_kind_name(o->kind));
	}
}

/* Options in canonical order: what is matched, then what is done. */
static int option_rank(enum node_kind k)
{
	switch (k) {
	case N_OPT_SERVICE: return 0;
	case N_OPT_SPORT: return 1;
	case N_OPT_QOS: return 2;
	case N_OPT_DSCP: return 2;
	case N_OPT_LOG: return 3;
	case N_OPT_NOTE: return 4;
	default: return 5;
	}
}

/* The rule's options in canonical order (a stable sort by rank), in a heap
 * array the caller frees: a rule may have any number of options. */
static const struct node **sorted_options(const struct node *r)
{
	const struct node **out = xmalloc((r->u.rule.opts.n + 1) * sizeof *out);
	size_t n = 0, notes = 0;
	for (size_t i = 0; i < r->u.rule.opts.n; i++)
		notes += r->u.rule.opts.v[i]->kind == N_OPT_NOTE;
	/* Two notes (an error check reports) would come out side by side and
	 * read back as one note of both strings: such a rule keeps its order,
	 * in which something stood between them. */
	if (notes > 1) {
		memcpy(out, r->u.rule.opts.v, r->u.rule.opts.n * sizeof *out);
		return out;
	}
	for (int rank = 0; rank <= 5; rank++)
		for (size_t i = 0; i < r->u.rule.opts.n; i++)
			if (option_rank(r->u.rule.opts.v[i]->kind) == rank)
				out[n++] = r->u.rule.opts.v[i];
	if (n != r->u.rule.opts.n)
		BUG("an option of rank outside 0..5");
	return out;
}

/* A rule on one line, its options in canonical order. */
static void flat_rule(struct strbuf *sb, const struct node *n)
{
	if (n->u.rule.expect)
		sb_printf(sb, "expect %s ", expect_kind_name(n->u.rule.expect));
	else
		sb_printf(sb, "%s ", action_name(n->u.rule.action));
	flat(sb, n->u.rule.src);
	sb_puts(sb, n->u.rule.bidir ? " <-> " : " -> ");
	flat(sb, n->u.rule.dst);
	const struct node **opts = sorted_options(n);
	for (size_t i = 0; i < n->u.rule.opts.n; i++) {
		sb_putc(sb, ' ');
		flat_option(sb, opts[i]);
	}
	free(opts);
	sb_putc(sb, ';');
}

static void flat(struct strbuf *sb, const struct node *n)
{
	switch (n->kind) {
	case N_NET_ADDR:
		sb_puts(sb, n->u.addr.text);
		return;
	case N_NET_ANY:
		sb_puts(sb, n->u.any.families == 3 ? "any" : n->u.any.families == 1 ? "any4" : "any6");
		return;
	case N_NET_DOMAIN:
		sb_puts(sb, "domain ");
		flat_string(sb, n->u.str.text);
		return;
	case N_NET_UNRESOLVED:
		sb_puts(sb, "unresolved ");
		flat_string(sb, n->u.str.text);
		return;
	case N_NET_GROUP:
		sb_puts(sb, "{ ");
		flat_list(sb, &n->u.list, ", ");
		sb_puts(sb, " }");
		return;
	case N_NET_EXCEPT:
		flat(sb, n->u.except.base);
		sb_puts(sb, " except ");
		flat(sb, n->u.except.minus);
		return;
	case N_REF:
		sb_puts(sb, n->u.ref.name);
		return;
	case N_RANGE:	/* as written: 80, 8000-8010 */
		sb_puts(sb, n->u.range.text);
		return;
	case N_PORT_LIST:
	case N_SVC_LIST:
		flat_list(sb, &n->u.list, ", ");
		return;
	case N_SVC_PROTO:
		sb_puts(sb, svc_proto_name(n->u.svc.proto));
		if (n->u.svc.arg) {
			sb_putc(sb, ' ');
			flat(sb, n->u.svc.arg);
		}
		return;
	case N_SVC_ICMP_TYPE:
		sb_printf(sb, "%s type ", svc_proto_name(n->u.icmp.proto));
		flat(sb, n->u.icmp.type);
		return;
	case N_DSCP:
		sb_puts(sb, "dscp ");
		flat(sb, n->u.dscp.val);
		return;
	case N_ARG:
		if (n->u.arg.name)
			sb_printf(sb, "%s = ", n->u.arg.name);
		flat(sb, n->u.arg.value);
		return;
	case N_OPT_SERVICE:
	case N_OPT_SPORT:
	case N_OPT_QOS:
	case N_OPT_DSCP:
	case N_OPT_LOG:
	case N_OPT_NOTE:
		flat_option(sb, n);
		return;
	case N_RULE:
		flat_rule(sb, n);
		return;
	case N_PARAM:	/* a ruleset's formal parameter */
		sb_printf(sb, "%s: %s", n->u.def.name, value_kind_name(n->u.def.vk));
		if (n->u.def.value) {
			sb_puts(sb, " = ");
			flat(sb, n->u.def.value);
		}
		return;
	default:
		BUG("cannot print %s flat", node_kind_name(n->kind));
	}
}

/* ---- layout ------------------------------------------------------------ */

static void print_node(struct fmt *f, const struct node *n);

/* Prints n on the current line if it fits and no comment lies in span. */
static bool try_flat_within(struct fmt *f, const struct node *n, size_t tail, struct loc span)
{
	if (comments_within(f, span))
		return false;
	struct strbuf sb = { 0 };
	sb_init(&sb);
	flat(&sb, n);
	size_t col = at_line_start(f) ? (size_t)f->indent : out_col(f);
	bool fits = !strchr(sb.s, '\n') && col + strlen(sb.s) + tail <= FMT_WIDTH;
	if (fits) {
		put(f, sb.s);
		f->last_line = n->loc.end_line;
	}
	sb_free(&sb);
	return fits;
}

/* Prints n on the current line if it fits and holds no comment. */
static bool try_flat(struct fmt *f, const struct node *n, size_t tail)
{
	return try_flat_within(f, n, tail, n->loc);
}

/* { a, b } with one element per line. */
static void print_group(struct fmt *f, const struct node *g)
{
	put(f, "{");
	f->last_line = g->loc.line;
	trailing_before(f, g->loc.line, g->u.list.n ? g->u.list.v[0]->loc : (struct loc){ 0 });
	begin_line(f);
	f->indent += INDENT;
	for (size_t i = 0; i < g->u.list.n; i++) {
		const struct node *e = g->u.list.v[i];
		leading(f, e->loc.line, e->loc.col);
		begin_line(f);
		blank_before(f, e->loc.line);
		print_node(f, e);
		put(f, ",");
		trailing_before(f, e->loc.end_line, i + 1 < g->u.list.n ? g->u.list.v[i + 1]->loc
								 : (struct loc){ 0 });
		begin_line(f);
	}
	leading(f, g->loc.end_line, g->loc.end_col - 1);
	f->indent -= INDENT;
	begin_line(f);
	put(f, "}");
	f->last_line = g->loc.end_line;
}

/* a, b, c wrapped at the width, continuation lines indented once. */
static void print_wrapped(struct fmt *f, const struct node_list *l, size_t tail)
{
	int saved = f->indent;
	bool indented = false;
	for (size_t i = 0; i < l->n; i++) {
		const struct node *e = l->v[i];
		if (i > 0) {
			bool forced = f->last_line != e->loc.line && at_line_start(f);
			struct strbuf sb = { 0 };
			sb_init(&sb);
			flat(&sb, e);
			bool fits = !at_line_start(f) &&
				    out_col(f) + 1 + strlen(sb.s) + (i + 1 == l->n ? tail : 1) <= FMT_WIDTH;
			sb_free(&sb);
			if (!forced && fits && !comments_within(f, e->loc) &&
			    !(f->ci < f->src->ncomments && before(f->src->comments[f->ci].loc,
								   e->loc.line, e->loc.col))) {
				put(f, " ");
			} else {
				if (!indented) {
					f->indent += INDENT;
					indented = true;
				}
				leading(f, e->loc.line, e->loc.col);
				begin_line(f);
			}
		}
		print_node(f, e);
		if (i + 1 < l->n) {
			put(f, ",");
			trailing_before(f, e->loc.end_line, l->v[i + 1]->loc);
		}
		f->last_line = e->loc.end_line;
	}
	f->indent = saved;
}

static void print_note_pieces(struct fmt *f, const struct node *n)
{
	for (size_t i = 0; i < n->u.note.npieces; i++) {
		struct strbuf sb = { 0 };
		sb_init(&sb);
		flat_string(&sb, n->u.note.pieces[i]);
		if (i > 0) {
			if (!at_line_start(f) && out_col(f) + 1 + strlen(sb.s) + 1 <= FMT_WIDTH)
				put(f, " ");
			else
				begin_line(f);
		}
		put(f, sb.s);
		sb_free(&sb);
	}
}

static void print_option(struct fmt *f, const struct node *o, bool last)
{
	size_t tail = last ? 1 : 0;
	if (try_flat(f, o, tail))
		return;
	switch (o->kind) {
	case N_OPT_SERVICE: {
		const struct node *l = o->u.opt;
		if (l->u.list.n && l->u.list.v[0]->kind != N_SVC_PROTO &&
		    l->u.list.v[0]->kind != N_SVC_ICMP_TYPE)
			put(f, "service ");
		print_wrapped(f, &l->u.list, tail);
		return;
	}
	case N_OPT_SPORT:
		put(f, "sport ");
		print_wrapped(f, &o->u.opt->u.list, tail);
		return;
	case N_OPT_NOTE:
		print_note_pieces(f, o);
		return;
	default: {
		struct strbuf sb = { 0 };
		sb_init(&sb);
		flat_option(&sb, o);
		put(f, sb.s);
		sb_free(&sb);
	}
	}
}

static void print_rule(struct fmt *f, const struct node *r)
{
	/* A comment between the rule's last element and its ';' comes out
	 * after the rule, so it does not keep the rule from one line: were
	 * it counted, a second fmt would join what the first split. */
	struct loc body = r->loc;
	const struct node *last = r->u.rule.dst;
	for (size_t i = 0; i < r->u.rule.opts.n; i++) {
		const struct node *o = r->u.rule.opts.v[i];
		if (!before((struct loc){ .line = o->loc.end_line, .col = o->loc.end_col },
			    last->loc.end_line, last->loc.end_col))
			last = o;
	}
	body.end_line = last->loc.end_line;
	body.end_col = last->loc.end_col;
	if (try_flat_within(f, r, 0, body)) {
		f->last_line = r->loc.end_line;
		return;
	}
	if (r->u.rule.expect) {
		put(f, "expect ");
		put(f, expect_kind_name(r->u.rule.expect));
	} else {
		put(f, action_name(r->u.rule.action));
	}
	put(f, " ");
	print_node(f, r->u.rule.src);
	put(f, r->u.rule.bidir ? " <-> " : " -> ");
	print_node(f, r->u.rule.dst);
	f->last_line = r->u.rule.dst->loc.end_line;
	const struct node **opts = sorted_options(r);
	size_t k = r->u.rule.opts.n;
	f->indent += INDENT;
	for (size_t i = 0; i < k; i++) {
		const struct node *o = opts[i];
		if (f->ci < f->src->ncomments &&
		    before(f->src->comments[f->ci].loc, o->loc.line, o->loc.col) &&
		    f->src->comments[f->ci].loc.line == f->last_line)
			trailing(f, f->last_line);
		leading(f, o->loc.line, o->loc.col);
		begin_line(f);
		print_option(f, o, i + 1 == k);
		f->last_line = o->loc.end_line;
	}
	free(opts);
	put(f, ";");
	f->indent -= INDENT;
}

static void print_node(struct fmt *f, const struct node *n)
{
	switch (n->kind) {
	case N_NET_GROUP:
		if (!try_flat(f, n, 2))
			print_group(f, n);
		return;
	case N_NET_EXCEPT:
		print_node(f, n->u.except.base);
		put(f, " except ");
		print_node(f, n->u.except.minus);
		return;
	case N_PORT_LIST:
	case N_SVC_LIST:
		if (!try_flat(f, n, 1))
			print_wrapped(f, &n->u.list, 1);
		return;
	case N_RULE:
		print_rule(f, n);
		return;
	default:
		if (!try_flat(f, n, 0)) {
			struct strbuf sb = { 0 };
			sb_init(&sb);
			flat(&sb, n);
			put(f, sb.s);
			sb_free(&sb);
		}
		return;
	}
}

static void print_args(struct fmt *f, const struct node_list *l)
{
	put(f, "(");
	print_wrapped(f, l, 2);
	put(f, ")");
}

static void print_block(struct fmt *f, const struct node *b);

static void print_statement(struct fmt *f, const struct node *st)
{
	switch (st->kind) {
	case N_RULE:
		print_rule(f, st);
		break;
	case N_DEFAULT:
		put(f, "default ");
		put(f, action_name(st->u.dflt.action));
		put(f, st->u.dflt.log ? " log;" : ";");
		break;
	case N_STATELESS:
		put(f, "stateless;");
		break;
	case N_HOST:
		put(f, "host ");
		print_node(f, st->u.opt);
		put(f, ";");
		break;
	case N_USE:
		put(f, "use ");
		put(f, st->u.use.name);
		if (st->u.use.args.n)
			print_args(f, &st->u.use.args);
		put(f, ";");
		break;
	default:
		BUG("bad statement %s", node_kind_name(st->kind));
	}
}

static void print_item(struct fmt *f, const struct node *n, const struct node *next)
{
	switch (n->kind) {
	case N_IMPORT: {
		struct strbuf sb = { 0 };
		sb_init(&sb);
		sb_puts(&sb, "import ");
		flat_string(&sb, n->u.import.path);
		sb_putc(&sb, ';');
		put(f, sb.s);
		sb_free(&sb);
		break;
	}
	case N_DEF:
	case N_PARAM:
		if (n->kind == N_PARAM) {
			put(f, "param ");
			put(f, n->u.def.name);
			put(f, ": ");
			put(f, value_kind_name(n->u.def.vk));
		} else {
			put(f, value_kind_name(n->u.def.vk));
			put(f, " ");
			put(f, n->u.def.name);
		}
		if (n->u.def.value) {
			put(f, " = ");
			if (n->u.def.vk == VK_QOS) {
				struct strbuf sb = { 0 };
				sb_init(&sb);
				flat(&sb, n->u.def.value);
				put(f, sb.s);
				sb_free(&sb);
			} else {
				print_node(f, n->u.def.value);
			}
		}
		put(f, ";");
		break;
	case N_RULESET:
	case N_POLICY:
		print_block(f, n);
		break;
	default:
		BUG("bad item %s", node_kind_name(n->kind));
	}
	f->last_line = n->loc.end_line;
	trailing_before(f, n->loc.end_line, next ? next->loc : (struct loc){ 0 });
	begin_line(f);
}

static void print_block(struct fmt *f, const struct node *b)
{
	put(f, b->kind == N_POLICY ? "policy " : "ruleset ");
	put(f, b->u.block.name);
	if (b->kind == N_RULESET && b->u.block.params.n) {
		struct strbuf sb = { 0 };
		sb_init(&sb);
		sb_putc(&sb, '(');
		flat_list(&sb, &b->u.block.params, ", ");
		sb_puts(&sb, ") {");
		if (out_col(f) + strlen(sb.s) <= FMT_WIDTH) {
			put(f, sb.s);
		} else {
			put(f, "(");
			f->indent += INDENT;
			for (size_t i = 0; i < b->u.block.params.n; i++) {
				begin_line(f);
				print_node(f, b->u.block.params.v[i]);
				put(f, i + 1 < b->u.block.params.n ? "," : "");
			}
			f->indent -= INDENT;
			begin_line(f);
			put(f, ") {");
		}
		sb_free(&sb);
	} else {
		put(f, " {");
	}
	f->last_line = b->u.block.open_loc.line;
	trailing_before(f, b->u.block.open_loc.line,
			b->u.block.body.n ? b->u.block.body.v[0]->loc : (struct loc){ 0 });
	begin_line(f);
	f->indent += INDENT;
	for (size_t i = 0; i < b->u.block.body.n; i++) {
		const struct node *st = b->u.block.body.v[i];
		leading(f, st->loc.line, st->loc.col);
		begin_line(f);
		blank_before(f, st->loc.line);
		print_statement(f, st);
		f->last_line = st->loc.end_line;
		trailing_before(f, st->loc.end_line, i + 1 < b->u.block.body.n ?
				b->u.block.body.v[i + 1]->loc : (struct loc){ 0 });
		begin_line(f);
	}
	leading(f, b->loc.end_line, b->loc.end_col - 1);
	f->indent -= INDENT;
	begin_line(f);
	put(f, "}");
}

static size_t chars(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* Trailing comments on consecutive lines line up, one column after the
 * longest code among them, as in gofmt. A line whose code is much longer
 * than its neighbours' does not push them all to the right. */
static char *align_trailing(struct fmt *f)
{
	struct strbuf r = { 0 };
	sb_init(&r);
	const char *s = f->out.s;
	size_t pos = 0;
	for (size_t i = 0; i < f->ntrails;) {
		size_t j = i + 1;
		while (j < f->ntrails && f->trails[j].line == f->trails[j - 1].line + 1)
			j++;
		size_t width = 0;
		size_t *w = xmalloc((j - i) * sizeof *w);
		for (size_t k = i; k < j; k++) {
			size_t ls = f->trails[k].code_end;
			while (ls > 0 && s[ls - 1] != '\n')
				ls--;
			w[k - i] = chars(s + ls, f->trails[k].code_end - ls);
			if (w[k - i] <= 60 && w[k - i] > width)
				width = w[k - i];
		}
		for (size_t k = i; k < j; k++) {
			size_t end = f->trails[k].code_end;
			sb_putn(&r, s + pos, end - pos);
			size_t pad = w[k - i] < width ? width - w[k - i] : 0;
			for (size_t p = 0; p < pad; p++)
				sb_putc(&r, ' ');
			pos = end;
		}
		free(w);
		i = j;
	}
	sb_puts(&r, s + pos);
	return sb_detach(&r);
}

char *fmt_file(const struct ast_file *file)
{
	struct fmt f = { .src = file->src };
	sb_init(&f.out);
	for (size_t i = 0; i < file->items.n; i++) {
		const struct node *n = file->items.v[i];
		leading(&f, n->loc.line, n->loc.col);
		begin_line(&f);
		blank_before(&f, n->loc.line);
		print_item(&f, n, i + 1 < file->items.n ? file->items.v[i + 1] : NULL);
	}
	leading(&f, UINT32_MAX, 0);
	begin_line(&f);
	char *out = align_trailing(&f);
	sb_free(&f.out);
	free(f.trails);
	return out;
}
