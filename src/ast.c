/* ast.c - node constructors and the --dump=ast printer. */
#include "ast.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct node *node_new(struct arena *a, enum node_kind kind, struct loc loc)
{
	struct node *n = arena_alloc(a, sizeof *n);
	n->kind = kind;
	n->loc = loc;
	return n;
}

void node_list_push(struct arena *a, struct node_list *l, struct node *n)
{
	ARR_PUSH(a, *l, n);
}

/* ---- constructors, for the parser ---------------------------------------- */

struct node *ast_range(struct arena *a, struct loc loc, uint64_t lo, const char *lo_text, uint64_t hi,
		       const char *hi_text, bool single)
{
	struct node *n = node_new(a, N_RANGE, loc);
	n->u.range.lo = lo;
	n->u.range.hi = single ? lo : hi;
	n->u.range.single = single;
	n->u.range.text = single ? lo_text : arena_printf(a, "%s-%s", lo_text, hi_text);
	return n;
}

struct node *ast_ref(struct arena *a, struct loc loc, const char *name)
{
	struct node *n = node_new(a, N_REF, loc);
	n->u.ref.name = name;
	return n;
}

struct node *ast_str(struct arena *a, enum node_kind k, struct loc loc, const char *s)
{
	struct node *n = node_new(a, k, loc);
	n->u.str.text = s;
	return n;
}

struct node *ast_list(struct arena *a, enum node_kind k, struct loc loc, struct node *first)
{
	struct node *n = node_new(a, k, loc);
	node_list_push(a, &n->u.list, first);
	return n;
}

struct node *ast_list_add(struct arena *a, struct node *list, struct node *item, struct loc loc)
{
	node_list_push(a, &list->u.list, item);
	list->loc = loc;
	return list;
}

struct node *ast_def(struct arena *a, enum node_kind k, struct loc loc, enum value_kind vk, const char *name,
		     struct loc name_loc, struct node *value)
{
	struct node *n = node_new(a, k, loc);
	n->u.def.vk = vk;
	n->u.def.name = name;
	n->u.def.name_loc = name_loc;
	n->u.def.value = value;
	return n;
}

struct node *ast_svc(struct arena *a, struct loc loc, enum svc_proto p, struct node *arg)
{
	struct node *n = node_new(a, N_SVC_PROTO, loc);
	n->u.svc.proto = p;
	n->u.svc.arg = arg;
	return n;
}

struct node *ast_icmp_type(struct arena *a, struct loc loc, enum svc_proto p, struct node *type)
{
	struct node *n = node_new(a, N_SVC_ICMP_TYPE, loc);
	n->u.icmp.proto = p;
	n->u.icmp.type = type;
	return n;
}

struct node *ast_dscp(struct arena *a, struct loc loc, struct node *val)
{
	struct node *n = node_new(a, N_DSCP, loc);
	n->u.dscp.val = val;
	return n;
}

struct node *ast_opt(struct arena *a, enum node_kind k, struct loc loc, struct node *v)
{
	struct node *n = node_new(a, k, loc);
	n->u.opt = v;
	return n;
}

void ast_add_note(struct arena *a, struct node_list *opts, const char *s, struct loc loc)
{
	struct node *last = opts->n ? opts->v[opts->n - 1] : NULL;
	if (!last || last->kind != N_OPT_NOTE) {
		last = node_new(a, N_OPT_NOTE, loc);
		node_list_push(a, opts, last);
	} else {
		last->loc = loc_span(last->loc, loc);
	}
	size_t n = last->u.note.npieces;
	const char **p = arena_alloc(a, (n + 1) * sizeof *p);
	if (n)
		memcpy(p, last->u.note.pieces, n * sizeof *p);
	p[n] = s;
	last->u.note.pieces = p;
	last->u.note.npieces = n + 1;
	last->u.note.text = n ? arena_printf(a, "%s%s", last->u.note.text, s) : s;
}

struct node *ast_rule(struct arena *a, struct loc loc, enum action act, struct node *src, struct node *dst,
		      bool bidir, struct loc arrow, struct node_list opts)
{
	struct node *n = node_new(a, N_RULE, loc);
	n->u.rule.action = act;
	n->u.rule.src = src;
	n->u.rule.dst = dst;
	n->u.rule.bidir = bidir;
	n->u.rule.arrow_loc = arrow;
	n->u.rule.opts = opts;
	return n;
}

struct node *ast_block(struct arena *a, enum node_kind k, struct loc loc, const char *name, struct loc name_loc,
		       struct node_list params, struct node_list body)
{
	struct node *n = node_new(a, k, loc);
	n->u.block.name = name;
	n->u.block.name_loc = name_loc;
	n->u.block.params = params;
	n->u.block.body = body;
	return n;
}

struct node *ast_use(struct arena *a, struct loc loc, const char *name, struct loc name_loc,
		     struct node_list args)
{
	struct node *n = node_new(a, N_USE, loc);
	n->u.use.name = name;
	n->u.use.name_loc = name_loc;
	n->u.use.args = args;
	return n;
}

struct node *ast_arg(struct arena *a, struct loc loc, const char *name, struct loc name_loc, struct node *value)
{
	struct node *n = node_new(a, N_ARG, loc);
	n->u.arg.name = name;
	n->u.arg.name_loc = name_loc;
	n->u.arg.value = value;
	return n;
}

const char *value_kind_name(enum value_kind k)
{
	switch (k) {
	case VK_NETWORK: return "network";
	case VK_HOST: return "host";
	case VK_PORTS: return "ports";
	case VK_SERVICE: return "service";
	case VK_QOS: return "qos";
	case VK__COUNT: break;
	}
	BUG("bad value kind %d", (int)k);
}

const char *node_kind_name(enum node_kind k)
{
	switch (k) {
	case N_IMPORT: return "import";
	case N_DEF: return "def";
	case N_PARAM: return "param";
	case N_RULESET: return "ruleset";
	case N_POLICY: return "policy";
	case N_RULE: return "rule";
	case N_DEFAULT: return "default";
	case N_USE: return "use";
	case N_STATELESS: return "stateless";
	case N_HOST: return "host";
	case N_OPT_SERVICE: return "service";
	case N_OPT_SPORT: return "sport";
	case N_OPT_QOS: return "qos";
	case N_OPT_DSCP: return "dscp";
	case N_OPT_LOG: return "log";
	case N_OPT_NOTE: return "note";
	case N_NET_ADDR: return "addr";
	case N_NET_ANY: return "any";
	case N_NET_DOMAIN: return "domain";
	case N_NET_UNRESOLVED: return "unresolved";
	case N_NET_GROUP: return "group";
	case N_NET_EXCEPT: return "except";
	case N_REF: return "ref";
	case N_RANGE: return "range";
	case N_PORT_LIST: return "ports";
	case N_SVC_LIST: return "services";
	case N_SVC_PROTO: return "proto";
	case N_SVC_ICMP_TYPE: return "icmp-type";
	case N_DSCP: return "dscp-value";
	case N_ARG: return "arg";
	}
	BUG("bad node kind %d", (int)k);
}

const char *svc_proto_name(enum svc_proto p)
{
	switch (p) {
	case SP_TCP: return "tcp";
	case SP_UDP: return "udp";
	case SP_ICMP: return "icmp";
	case SP_ICMPV6: return "icmpv6";
	case SP_OTHER: return "proto";
	}
	BUG("bad protocol %d", (int)p);
}

static void dump_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static void dump(const struct node *n, int depth, FILE *fp);

static void dump_list(const struct node_list *l, int depth, FILE *fp)
{
	for (size_t i = 0; i < l->n; i++)
		dump(l->v[i], depth, fp);
}

/* One piece on purpose: one case per node kind and no default, so
 * -Wswitch names the case a new kind needs; each case is a few lines. */
static void dump(const struct node *n, int depth, FILE *fp)
{
	if (!n)
		return;
	fprintf(fp, "%*s%s @%u:%u-%u:%u", depth * 2, "", node_kind_name(n->kind),
		n->loc.line, n->loc.col, n->loc.end_line, n->loc.end_col);
	switch (n->kind) {
	case N_IMPORT:
		fputc(' ', fp);
		dump_str(fp, n->u.import.path);
		fputc('\n', fp);
		return;
	case N_DEF:
	case N_PARAM:
		fprintf(fp, " %s %s\n", value_kind_name(n->u.def.vk), n->u.def.name);
		dump(n->u.def.value, depth + 1, fp);
		return;
	case N_RULESET:
	case N_POLICY:
		fprintf(fp, " %s\n", n->u.block.name);
		dump_list(&n->u.block.params, depth + 1, fp);
		dump_list(&n->u.block.body, depth + 1, fp);
		return;
	case N_RULE:
		if (n->u.rule.expect)
			fprintf(fp, " expect %s", expect_kind_name(n->u.rule.expect));
		fprintf(fp, " %s %s\n", action_name(n->u.rule.action), n->u.rule.bidir ? "<->" : "->");
		dump(n->u.rule.src, depth + 1, fp);
		dump(n->u.rule.dst, depth + 1, fp);
		dump_list(&n->u.rule.opts, depth + 1, fp);
		return;
	case N_DEFAULT:
		fprintf(fp, " %s%s\n", action_name(n->u.dflt.action), n->u.dflt.log ? " log" : "");
		return;
	case N_USE:
		fprintf(fp, " %s\n", n->u.use.name);
		dump_list(&n->u.use.args, depth + 1, fp);
		return;
	case N_STATELESS:
	case N_OPT_LOG:
		fputc('\n', fp);
		return;
	case N_OPT_SERVICE:
	case N_OPT_SPORT:
	case N_OPT_DSCP:
	case N_HOST:
		fputc('\n', fp);
		dump(n->u.opt, depth + 1, fp);
		return;
	case N_OPT_QOS:
		fputc('\n', fp);
		dump(n->u.qos.ref, depth + 1, fp);
		return;
	case N_OPT_NOTE:
		fputc(' ', fp);
		dump_str(fp, n->u.note.text);
		fputc('\n', fp);
		return;
	case N_NET_ADDR:
		fprintf(fp, " %s\n", n->u.addr.text);
		return;
	case N_NET_ANY:
		fprintf(fp, " %s\n", n->u.any.families == 3 ? "any" : n->u.any.families == 1 ? "any4" : "any6");
		return;
	case N_NET_DOMAIN:
	case N_NET_UNRESOLVED:
		fputc(' ', fp);
		dump_str(fp, n->u.str.text);
		fputc('\n', fp);
		return;
	case N_NET_GROUP:
	case N_PORT_LIST:
	case N_SVC_LIST:
		fputc('\n', fp);
		dump_list(&n->u.list, depth + 1, fp);
		return;
	case N_NET_EXCEPT:
		fputc('\n', fp);
		dump(n->u.except.base, depth + 1, fp);
		dump(n->u.except.minus, depth + 1, fp);
		return;
	case N_REF:
		fprintf(fp, " %s\n", n->u.ref.name);
		return;
	case N_RANGE:
		fprintf(fp, " %s\n", n->u.range.text);
		return;
	case N_SVC_PROTO:
		fprintf(fp, " %s\n", svc_proto_name(n->u.svc.proto));
		dump(n->u.svc.arg, depth + 1, fp);
		return;
	case N_SVC_ICMP_TYPE:
		fprintf(fp, " %s\n", svc_proto_name(n->u.icmp.proto));
		dump(n->u.icmp.type, depth + 1, fp);
		return;
	case N_DSCP:
		fputc('\n', fp);
		dump(n->u.dscp.val, depth + 1, fp);
		return;
	case N_ARG:
		fprintf(fp, "%s%s\n", n->u.arg.name ? " " : "", n->u.arg.name ? n->u.arg.name : "");
		dump(n->u.arg.value, depth + 1, fp);
		return;
	}
	BUG("bad node kind %d", (int)n->kind);
}

void ast_dump(const struct ast_file *f, FILE *fp)
{
	fprintf(fp, "file %s\n", f->src->name);
	dump_list(&f->items, 1, fp);
}
