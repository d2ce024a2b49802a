/* cmd_doc.c - portc doc: a policy as the port utilization table people know
 * from vendor documents (Markdown or HTML), or as a Graphviz flow diagram.
 *
 * One row per rule of the policy as written (rulesets expanded): what a
 * firewall team reviews. The rows come from the IR, so they show what the
 * policy means, not how it was spelled. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"
#include "outfile.h"

/* The rules of one source rule: its IR rules, consecutive in the IR. */
struct row {
	const struct ir_rule *first;
	size_t n;
};

static void protocols(const struct row *rw, struct strbuf *sb)
{
	for (size_t i = 0; i < rw->n; i++) {
		const struct ir_rule *r = &rw->first[i];
		if (r->reverse)
			continue;
		if (sb->len)
			sb_puts(sb, "; ");
		if (r->proto == IR_PROTO_ANY) {
			sb_puts(sb, "any protocol");
			continue;
		}
		const char *pn = proto_name(r->proto);
		if (pn) {
			for (const char *p = pn; *p; p++)
				sb_putc(sb, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
		} else {
			sb_printf(sb, "protocol %d", r->proto);
		}
		if (ir_has_ports(r->proto) && !ivset_is_range(r->dport, 0, 65535)) {
			sb_putc(sb, ' ');
			ir_format_ranges(r->dport, sb);
		} else if (ir_has_types(r->proto) && !ivset_is_range(r->types, 0, 255)) {
			sb_puts(sb, " type ");
			for (size_t k = 0; k < r->types.n; k++)
				for (u128 t = r->types.v[k].lo; t <= r->types.v[k].hi; t++) {
					const char *tn = icmp_type_name(r->proto == 58 ? 6 : 4, (int)t);
					if (tn)
						sb_printf(sb, "%s%s", (k || t > r->types.v[k].lo) ? "," : "", tn);
					else
						sb_printf(sb, "%s%u", (k || t > r->types.v[k].lo) ? "," : "", (unsigned)t);
				}
		}
	}
}

static void source_ports(const struct row *rw, struct strbuf *sb)
{
	for (size_t i = 0; i < rw->n; i++) {
		const struct ir_rule *r = &rw->first[i];
		if (ir_has_ports(r->proto) && !ivset_is_range(r->sport, 0, 65535)) {
			ir_format_ranges(r->sport, sb);
			return;
		}
	}
	sb_puts(sb, "any");
}

/* A side: its network's name and, when short, its prefixes. */
static void side(const struct row *rw, bool dst, struct strbuf *sb)
{
	const struct ir_rule *r = rw->first;
	const char *name = dst ? r->dst_name : r->src_name;
	struct ivset v4 = { 0 }, v6 = { 0 };
	for (size_t i = 0; i < rw->n; i++) {
		const struct ir_rule *x = &rw->first[i];
		if (x->reverse)
			continue;
		/* every IR rule of a row has the same sides; take the widest */
		struct ivset a4 = dst ? x->dst4 : x->src4, a6 = dst ? x->dst6 : x->src6;
		if (a4.n > v4.n)
			v4 = a4;
		if (a6.n > v6.n)
			v6 = a6;
	}
	if (r->unenforceable && !v4.n && !v6.n) {
		sb_printf(sb, "%s%s(not enforceable)", name ? name : "", name ? " " : "");
		return;
	}
	struct strbuf addrs = { 0 };
	sb_init(&addrs);
	ir_format_addrs(v4, v6, &addrs);
	size_t count = ivset_prefix_count(v4, 32) + ivset_prefix_count(v6, 128);
	if (name && count > 3)
		sb_printf(sb, "%s (%zu prefixes)", name, count);
	else if (name)
		sb_printf(sb, "%s: %s", name, addrs.s);
	else
		sb_puts(sb, addrs.s);
	sb_free(&addrs);
}

static void service_label(const struct row *rw, struct strbuf *sb)
{
	const struct ir_rule *r = rw->first;
	if (r->service) {
		sb_puts(sb, r->service);
		return;
	}
	if (!r->note) {
		sb_puts(sb, r->ruleset ? r->ruleset : "");
		return;
	}
	/* The note's lead: up to its first colon, or a full stop that ends a
	 * sentence (not the one of "TLS 1.2" or "e.g."). A lead of more than
	 * 60 characters is cut at a space, never inside a word or a UTF-8
	 * character, and ends in "...". */
	const char *s = r->note;
	size_t n = 0;
	while (s[n] && s[n] != ':' && !(s[n] == '.' && (s[n + 1] == ' ' || s[n + 1] == '\0')))
		n++;
	size_t chars = 0, cut = 0, last_space = 0;
	for (size_t i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue;	/* a continuation byte: the same character */
		if (chars == 57)
			cut = i;
		if (s[i] == ' ' && chars <= 57)
			last_space = i;
		chars++;
	}
	if (chars <= 60) {
		sb_putn(sb, s, n);
		return;
	}
	sb_putn(sb, s, last_space > 20 ? last_space : cut);
	sb_puts(sb, "...");
}

/* A rule's file as committed documents should show it, the same on every
 * machine: a stdlib file as "stdlib/vendor/x.pol" wherever the stdlib is
 * installed, another file as it was named. */
static void put_origin_file(struct strbuf *sb, const struct source *src)
{
	if (!src) {
		sb_putc(sb, '?');
		return;
	}
	static char *std;
	static bool looked;
	if (!looked) {
		looked = true;
		const char *dir = load_stdlib_dir();
		std = dir ? realpath(dir, NULL) : NULL;
	}
	size_t n = std ? strlen(std) : 0;
	if (std && src->realpath && strncmp(src->realpath, std, n) == 0 && src->realpath[n] == '/')
		sb_printf(sb, "stdlib/%s", src->realpath + n + 1);
	else
		sb_puts(sb, src->name);
}

static size_t rows_of(const struct ir_policy *pol, struct row **out)
{
	struct row *rows = xcalloc(pol->nrules + 1, sizeof *rows);
	size_t n = 0;
	for (size_t i = 0; i < pol->nrules; i++) {
		if (n && rows[n - 1].first->source == pol->rules[i].source) {
			rows[n - 1].n++;
			continue;
		}
		rows[n].first = &pol->rules[i];
		rows[n].n = 1;
		n++;
	}
	*out = rows;
	return n;
}

/* The cells of one row, in column order. */
enum { C_NO, C_ACTION, C_SERVICE, C_PROTO, C_SRC, C_SPORT, C_DST, C_DIR, C_DSCP, C_NOTE, C_ORIGIN, NCOLS };
static const char *const col_names[NCOLS] = {
	"#", "Action", "Service", "Protocol and ports", "Source", "Source ports", "Destination",
	"Direction", "DSCP", "Note", "Origin",
};

static void cells(const struct row *rw, size_t idx, struct strbuf c[NCOLS])
{
	const struct ir_rule *r = rw->first;
	for (int i = 0; i < NCOLS; i++)
		sb_init(&c[i]);
	/* the rule's number, as logs, --dump=ir and query give it */
	(void)idx;
	sb_printf(&c[C_NO], "%u", r->source + 1);
	sb_puts(&c[C_ACTION], action_name(r->action));
	if (r->log)
		sb_puts(&c[C_ACTION], ", log");
	service_label(rw, &c[C_SERVICE]);
	protocols(rw, &c[C_PROTO]);
	side(rw, false, &c[C_SRC]);
	source_ports(rw, &c[C_SPORT]);
	side(rw, true, &c[C_DST]);
	bool both = false;
	for (size_t i = 0; i < rw->n; i++)
		both |= rw->first[i].reverse;
	sb_puts(&c[C_DIR], both ? "both ways" : "source to destination");
	if (r->dscp >= 0 && r->action == ACT_ALLOW) {
		const char *dn = dscp_name(r->dscp);
		sb_printf(&c[C_DSCP], "%s%s%d%s", dn ? dn : "", dn ? " (" : "", r->dscp, dn ? ")" : "");
	}
	if (r->note)
		sb_puts(&c[C_NOTE], r->note);
	if (r->unenforceable)
		sb_printf(&c[C_NOTE], "%sNot enforceable: %s.", r->note ? " " : "", r->unenforceable);
	put_origin_file(&c[C_ORIGIN], r->origin.src);
	sb_printf(&c[C_ORIGIN], ":%u", r->origin.line);
	if (r->ruleset)
		sb_printf(&c[C_ORIGIN], " (ruleset %s)", r->ruleset);
}

/* Each writer below shows hidden characters (bidi controls and the like,
 * util.h) as <U+XXXX> first, then escapes for its format. */
static void md_cell(struct strbuf *out, const char *text)
{
	struct strbuf v = { 0 };
	sb_init(&v);
	sb_put_visible(&v, text);
	const char *s = v.s;
	for (; *s; s++) {
		if (*s == '|')
			sb_puts(out, "\\|");
		else if (*s == '\n' || *s == '\r' || *s == '\t')
			sb_putc(out, ' ');
		else if (strchr("\\`*_[]<>", *s))
			sb_printf(out, "\\%c", *s);
		else
			sb_putc(out, *s);
	}
	sb_free(&v);
}

static void html_text(struct strbuf *out, const char *text)
{
	struct strbuf v = { 0 };
	sb_init(&v);
	sb_put_visible(&v, text);
	const char *s = v.s;
	for (; *s; s++) {
		switch (*s) {
		case '&': sb_puts(out, "&amp;"); break;
		case '<': sb_puts(out, "&lt;"); break;
		case '>': sb_puts(out, "&gt;"); break;
		case '"': sb_puts(out, "&quot;"); break;
		case '\'': sb_puts(out, "&#39;"); break;
		default: sb_putc(out, *s);
		}
	}
	sb_free(&v);
}

static void dot_text(struct strbuf *out, const char *text, size_t max)
{
	struct strbuf v = { 0 };
	sb_init(&v);
	sb_put_visible(&v, text);
	const char *s = v.s;
	size_t n = 0;
	/* cut at max bytes, but never inside a character */
	for (; *s && (n < max || ((unsigned char)*s & 0xC0) == 0x80); s++, n++) {
		if (*s == '"' || *s == '\\')
			sb_printf(out, "\\%c", *s);
		else if (*s == '\n' || *s == '\r' || *s == '\t')
			sb_putc(out, ' ');
		else
			sb_putc(out, *s);
	}
	sb_free(&v);
}

static void header_text(const struct ir_policy *pol, const char *file, const struct cli_opts *o,
			struct strbuf *sb)
{
	sb_printf(sb, "Policy %s, from %s", pol->name, file);
	for (size_t i = 0; i < o->ndefines; i++)
		sb_printf(sb, "%s-D %s=%s", i ? " " : ", with ", o->defines[i].name, o->defines[i].value);
	sb_printf(sb, ". First match wins; anything else: %s%s.", action_name(pol->dflt),
		  pol->dflt_log ? " (logged)" : "");
	/* one text for every format: the HTML page used to leave this out */
	sb_puts(sb, pol->stateless ? " Stateless: every packet is matched on its own."
				   : " Replies and the rest of an allowed flow pass.");
}

static void render_md(const struct ir_policy *pol, const char *file, const struct cli_opts *o,
		      struct strbuf *out)
{
	struct strbuf h = { 0 };
	sb_init(&h);
	header_text(pol, file, o, &h);
	sb_printf(out, "# Port utilization: %s\n\n", pol->name);
	md_cell(out, h.s);
	sb_puts(out, "\n\n");
	sb_free(&h);
	sb_puts(out, "<!-- generated by portc doc; do not edit -->\n\n|");
	for (int i = 0; i < NCOLS; i++)
		sb_printf(out, " %s |", col_names[i]);
	sb_puts(out, "\n|");
	for (int i = 0; i < NCOLS; i++)
		sb_puts(out, " --- |");
	sb_putc(out, '\n');
	struct row *rows;
	size_t n = rows_of(pol, &rows);
	for (size_t i = 0; i < n; i++) {
		struct strbuf c[NCOLS];
		cells(&rows[i], i, c);
		sb_putc(out, '|');
		for (int k = 0; k < NCOLS; k++) {
			sb_putc(out, ' ');
			md_cell(out, c[k].s);
			sb_puts(out, " |");
			sb_free(&c[k]);
		}
		sb_putc(out, '\n');
	}
	free(rows);
}

static void render_html(const struct ir_policy *pol, const char *file, const struct cli_opts *o,
			struct strbuf *out)
{
	struct strbuf h = { 0 };
	sb_init(&h);
	header_text(pol, file, o, &h);
	sb_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Port utilization: ");
	html_text(out, pol->name);
	sb_puts(out, "</title>\n<style>\nbody { font-family: sans-serif; margin: 2em; }\n"
		"table { border-collapse: collapse; font-size: 90%; }\n"
		"th, td { border: 1px solid #999; padding: 4px 6px; vertical-align: top; text-align: left; }\n"
		"th { background: #eee; }\ntr.deny td, tr.reject td { background: #fdecea; }\n"
		"tr.unenforceable td { color: #777; font-style: italic; }\n</style>\n</head>\n<body>\n<h1>Port utilization: ");
	html_text(out, pol->name);
	sb_puts(out, "</h1>\n<p>");
	html_text(out, h.s);
	sb_puts(out, "</p>\n<table>\n<tr>");
	sb_free(&h);
	for (int i = 0; i < NCOLS; i++)
		sb_printf(out, "<th>%s</th>", col_names[i]);
	sb_puts(out, "</tr>\n");
	struct row *rows;
	size_t n = rows_of(pol, &rows);
	for (size_t i = 0; i < n; i++) {
		struct strbuf c[NCOLS];
		cells(&rows[i], i, c);
		sb_printf(out, "<tr class=\"%s\">", rows[i].first->unenforceable ? "unenforceable"
						     : action_name(rows[i].first->action));
		for (int k = 0; k < NCOLS; k++) {
			sb_puts(out, "<td>");
			html_text(out, c[k].s);
			sb_puts(out, "</td>");
			sb_free(&c[k]);
		}
		sb_puts(out, "</tr>\n");
	}
	free(rows);
	sb_puts(out, "</table>\n</body>\n</html>\n");
}

/* Endpoints are nodes (one per network name or address list), rules are
 * edges labelled with their protocols and ports. */
/* A side's node in the graph: its name (or its addresses) as the id, and
 * as the label the name over the addresses. A side that is a whole family
 * (what `any` gives a rule of one family, "any4" in the IR) is "any". */
struct dot_node {
	char *id, *label;
};

static const char *dot_node(struct dot_node **nodes, size_t *n, const char *name, const char *cell)
{
	struct strbuf id = { 0 }, label = { 0 };
	sb_init(&id);
	sb_init(&label);
	bool any = !name && (strcmp(cell, "any4") == 0 || strcmp(cell, "any6") == 0 ||
			     strcmp(cell, "any") == 0);
	if (any) {
		sb_puts(&id, "any");
		sb_puts(&label, "any");
	} else if (name) {
		sb_puts(&id, name);
		/* cell is "name: addresses" or "name (N prefixes)" */
		size_t nl = strlen(name);
		const char *rest = strncmp(cell, name, nl) == 0 ? cell + nl : cell;
		while (*rest == ':' || *rest == ' ')
			rest++;
		sb_puts(&label, name);
		if (*rest) {
			sb_puts(&label, "\n");
			sb_puts(&label, rest);
		}
	} else {
		sb_puts(&id, cell);
		sb_puts(&label, cell);
	}
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*nodes)[i].id, id.s) == 0) {
			sb_free(&id);
			sb_free(&label);
			return (*nodes)[i].id;
		}
	}
	*nodes = xrealloc(*nodes, (*n + 1) * sizeof **nodes);
	(*nodes)[*n] = (struct dot_node){ sb_detach(&id), sb_detach(&label) };
	sb_free(&label);
	return (*nodes)[(*n)++].id;
}

static void render_dot(const struct ir_policy *pol, const char *file, struct strbuf *out)
{
	(void)file;
	sb_puts(out, "digraph \"");
	dot_text(out, pol->name, 100);
	sb_puts(out, "\" {\n\trankdir=LR;\n\tnode [shape=box, style=rounded, fontname=\"sans\"];\n"
		"\tedge [fontname=\"sans\", fontsize=10];\n");
	struct row *rows;
	size_t n = rows_of(pol, &rows);
	struct dot_node *nodes = NULL;
	size_t nnodes = 0;
	struct strbuf edges = { 0 };
	sb_init(&edges);
	for (size_t i = 0; i < n; i++) {
		struct strbuf c[NCOLS];
		cells(&rows[i], i, c);
		const struct ir_rule *r = rows[i].first;
		const char *color = r->action == ACT_ALLOW ? "darkgreen" : r->action == ACT_DENY ? "red" : "orange";
		const char *from = dot_node(&nodes, &nnodes, r->src_name, c[C_SRC].s);
		const char *to = dot_node(&nodes, &nnodes, r->dst_name, c[C_DST].s);
		sb_puts(&edges, "\t\"");
		dot_text(&edges, from, 60);
		sb_puts(&edges, "\" -> \"");
		dot_text(&edges, to, 60);
		sb_printf(&edges, "\" [color=%s, fontcolor=%s%s%s, label=\"#%s ", color, color,
			  r->unenforceable ? ", style=dashed" : "",
			  c[C_DIR].s[0] == 'b' ? ", dir=both" : "", c[C_NO].s);
		dot_text(&edges, c[C_PROTO].s, 60);
		if (c[C_DSCP].len) {
			sb_puts(&edges, "\\n");
			dot_text(&edges, c[C_DSCP].s, 20);
		}
		sb_puts(&edges, "\"];\n");
		for (int k = 0; k < NCOLS; k++)
			sb_free(&c[k]);
	}
	free(rows);
	/* the nodes, each once, with its addresses; then the edges */
	for (size_t i = 0; i < nnodes; i++) {
		sb_puts(out, "\t\"");
		dot_text(out, nodes[i].id, 60);
		sb_puts(out, "\" [label=\"");
		/* the label's line break is dot's "\n": split, and escape each line */
		for (char *line = nodes[i].label, *nl; line; line = nl) {
			nl = strchr(line, '\n');
			if (nl)
				*nl++ = '\0';
			dot_text(out, line, 200);
			if (nl)
				sb_puts(out, "\\n");
		}
		sb_puts(out, "\"];\n");
		free(nodes[i].id);
		free(nodes[i].label);
	}
	free(nodes);
	sb_puts(out, edges.s);
	sb_free(&edges);
	/* what first match leaves to the default, as the table's header says */
	sb_printf(out, "\t\"(default)\" [shape=note, label=\"anything else: %s%s\"];\n}\n",
		  action_name(pol->dflt), pol->dflt_log ? " (logged)" : "");
}

int cmd_doc(struct cli_opts *o)
{
	const char *fmt = o->format ? o->format : "md";
	if (strcmp(fmt, "md") != 0 && strcmp(fmt, "html") != 0 && strcmp(fmt, "dot") != 0) {
		diag_plain("--format takes md, html or dot");
		return EXIT_USAGE;
	}
	struct diag d;
	struct unit u;
	int r;
	const struct ir_policy *pol = driver_compile(&u, &d, o, o->argv[0], &r);
	if (pol) {
		struct strbuf out = { 0 };
		sb_init(&out);
		if (strcmp(fmt, "md") == 0)
			render_md(pol, o->argv[0], o, &out);
		else if (strcmp(fmt, "html") == 0)
			render_html(pol, o->argv[0], o, &out);
		else
			render_dot(pol, o->argv[0], &out);
		int e = o->output ? write_file_atomic(o->output, out.s, out.len)
				  : (fputs(out.s, stdout) < 0 ? EIO : 0);
		if (e) {
			diag_plain("cannot write '%s': %s", o->output ? o->output : "stdout", strerror(e));
			r = EXIT_USAGE;
		}
		sb_free(&out);
	}
	unit_free(&u);
	diag_free(&d);
	return r;
}
