/* ast.c - node constructors and the --dump=ast printer. */
#include "ast.h"

#include <inttypes.h>
#include <stdio.h>

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
