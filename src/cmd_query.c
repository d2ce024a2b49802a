/* cmd_query.c - portc query: which rule a packet hits, by the reference
 * evaluator, as text or JSON. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval.h"
#include "hooks.h"
#include "jsonout.h"
#include "names.h"
#include "portc/match.h"

static int parse_packet(struct cli_opts *o, struct packet *p)
{
	char **arg = o->argv + o->argc - 3;	/* PROTO SRC DST, after FILE if any */
	const char *proto = arg[0], *src = arg[1], *dst = arg[2];
	memset(p, 0, sizeof *p);
	p->proto = packet_parse_proto(proto);
	if (p->proto < 0) {
		diag_plain("unknown protocol '%s' (tcp, udp, icmp, icmpv6, a name or 0..255)", proto);
		return EXIT_USAGE;
	}
	int sf, df, sport, dport;
	const char *why = packet_parse_endpoint(src, &sf, &p->src, &sport);
	if (why) {
		diag_plain("source '%s': %s", src, why);
		return EXIT_USAGE;
	}
	why = packet_parse_endpoint(dst, &df, &p->dst, &dport);
	if (why) {
		diag_plain("destination '%s': %s", dst, why);
		return EXIT_USAGE;
	}
	if (sf != df) {
		diag_plain("source and destination are of different address families");
		return EXIT_USAGE;
	}
	p->family = sf;
	if (p->proto == 1 && sf == 6) {
		diag_plain("icmp is IPv4; use icmpv6 for IPv6 addresses");
		return EXIT_USAGE;
	}
	if (p->proto == 58 && sf == 4) {
		diag_plain("icmpv6 is IPv6; use icmp for IPv4 addresses");
		return EXIT_USAGE;
	}
	if (ir_has_ports(p->proto)) {
		if (sport < 0 || dport < 0) {
			diag_plain("%s needs source and destination ports, as in %s %s:40000 %s:443",
				   proto, proto, sf == 6 ? "[2001:db8::1]" : "192.0.2.1",
				   sf == 6 ? "[2001:db8::2]" : "192.0.2.2");
			return EXIT_USAGE;
		}
		p->sport = (uint16_t)sport;
		p->dport = (uint16_t)dport;
	} else if (sport >= 0 || dport >= 0) {
		diag_plain("protocol '%s' has no ports", proto);
		return EXIT_USAGE;
	}
	if (o->icmp_type) {
		if (!ir_has_types(p->proto)) {
			diag_plain("--icmp-type applies to icmp and icmpv6 only");
			return EXIT_USAGE;
		}
		int t = icmp_type_by_name(p->family, o->icmp_type);
		if (t < 0) {
			int v = packet_parse_proto(o->icmp_type);	/* any 0..255 number */
			if (v < 0 || proto_by_name(o->icmp_type) >= 0) {
				const char *hint = icmp_type_suggest(p->family, o->icmp_type);
				const char *kind = p->family == 6 ? "ICMPv6" : "ICMP";
				if (hint)
					diag_plain("unknown %s type '%s'; did you mean '%s'?", kind,
						   o->icmp_type, hint);
				else
					diag_plain("unknown %s type '%s' (a name such as echo-request, or "
						   "a number 0..255)", kind, o->icmp_type);
				return EXIT_USAGE;
			}
			t = v;
		}
		p->type = (uint8_t)t;
	} else if (ir_has_types(p->proto)) {
		p->type = p->family == 6 ? 128 : 8;	/* echo-request */
	}
	return EXIT_OK;
}

static void print_matches(const struct ir_policy *pol, const struct packet *p)
{
	printf("matches:");
	bool any = false;
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		if (!ir_rule_matches(r, p))
			continue;
		printf("%s#%u %s:%u:%u %s", any ? ", " : " ", r->source + 1, r->origin.src->name,
		       r->origin.line, r->origin.col, action_name(r->action));
		any = true;
	}
	printf("%s\n", any ? "" : " none");
}

static json_t *matches_json(const struct ir_policy *pol, const struct packet *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		if (!ir_rule_matches(r, p))
			continue;
		json_array_append_new(a, json_pack("{s:i, s:o, s:i, s:i, s:s, s:o}", "number",
						   (json_int_t)r->source + 1, "file", json_text(r->origin.src->name),
						   "line", (json_int_t)r->origin.line, "column",
						   (json_int_t)r->origin.col, "verdict", action_name(r->action),
						   "dscp", r->action == ACT_ALLOW && r->dscp >= 0 ?
						   json_integer(r->dscp) : json_null()));
	}
	return a;
}

static const char *prologue_why(const char *name)
{
	if (strcmp(name, "loopback") == 0)
		return "the loopback interface is accepted";
	if (strcmp(name, "established") == 0 || strcmp(name, "related") == 0)
		return "replies and the rest of allowed flows are accepted";
	if (strcmp(name, "invalid") == 0)
		return "packets conntrack finds invalid are dropped";
	return "IPv6 neighbour discovery (hop limit 255) is accepted";
}

static void print_text(const struct ir_policy *pol, const struct verdict *v, const struct packet *p,
		       enum hook h)
{
	struct strbuf sb = { 0 };
	sb_init(&sb);
	packet_format(p, &sb);
	printf("packet:  %s\n", sb.s);
	sb_free(&sb);
	printf("verdict: %s\n", action_name(v->action));
	printf("hook:    %s\n", hook_name(h));
	if (v->prologue) {
		printf("rule:    none: the ruleset's prologue decides, before the rules (%s: %s)\n",
		       v->prologue, prologue_why(v->prologue));
	} else if (v->rule) {
		const struct ir_rule *r = v->rule;
		printf("rule:    #%u, %s:%u:%u", r->source + 1, r->origin.src->name, r->origin.line,
		       r->origin.col);
		if (r->ruleset)
			printf(" (ruleset %s, used at %s:%u:%u)", r->ruleset, r->via.src->name,
			       r->via.line, r->via.col);
		putchar('\n');
		if (r->note) {
			/* a terminal acts on bidi controls: show them, as rulesets do */
			struct strbuf shown = { 0 };
			sb_init(&shown);
			sb_put_visible(&shown, r->note);
			printf("note:    %s\n", shown.s);
			sb_free(&shown);
		}
	} else {
		printf("rule:    default of policy %s (%s:%u:%u)\n", pol->name, pol->loc.src->name,
		       pol->loc.line, pol->loc.col);
	}
	if (v->dscp >= 0) {
		const char *n = dscp_name(v->dscp);
		printf("dscp:    %d%s%s%s\n", v->dscp, n ? " (" : "", n ? n : "", n ? ")" : "");
	}
	if (v->log)
		printf("log:     yes\n");
	printf("policy:  %s\n", pol->name);
}

static int print_json(const struct ir_policy *pol, const struct verdict *v, const struct packet *p,
		      bool all, enum hook h)
{
	json_t *o = json_object();
	json_object_set_new(o, "verdict", json_string(action_name(v->action)));
	json_object_set_new(o, "hook", json_string(hook_name(h)));
	json_object_set_new(o, "prologue", v->prologue ? json_string(v->prologue) : json_null());
	json_object_set_new(o, "rule", v->rule ? rule_json(v->rule) : json_null());
	json_object_set_new(o, "dscp", v->dscp >= 0 ? json_integer(v->dscp) : json_null());
	json_object_set_new(o, "log", json_boolean(v->log));
	json_object_set_new(o, "policy", json_text(pol->name));
	struct strbuf sb = { 0 };
	sb_init(&sb);
	packet_format(p, &sb);
	json_object_set_new(o, "packet", json_string(sb.s));
	sb_free(&sb);
	if (all) {
		json_object_set_new(o, "matches", matches_json(pol, p));
		json_object_set_new(o, "default", json_string(action_name(pol->dflt)));
	}
	int r = json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	putchar('\n');
	return r == 0 ? EXIT_OK : EXIT_USAGE;
}

/* The answer of a compiled table: the table knows rule indices and lines,
 * not files or notes (docs/table-format.md). */
static int query_table(struct cli_opts *o, const struct packet *p, bool json)
{
	struct portc_table *t;
	char err[512];
	if (portc_table_open(o->table, &t, err, sizeof err) != 0) {
		diag_plain("%s", err);
		return EXIT_USAGE;
	}
	struct portc_tuple k;
	packet_to_tuple(p, &k);
	struct portc_result res;
	portc_classify(t, &k, &res);
	uint32_t number = portc_rule_number(t, res.rule);
	portc_table_free(t);
	struct strbuf sb = { 0 };
	sb_init(&sb);
	packet_format(p, &sb);
	const char *verdict = action_name((enum action)res.action);
	bool dflt = res.rule == PORTC_DEFAULT_RULE;
	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "verdict", verdict, "packet", sb.s,
				      "rule", dflt ? json_null() : json_integer(number), "index",
				      dflt ? json_null() : json_integer(res.rule), "line",
				      dflt ? json_null() : json_integer(res.line), "dscp",
				      res.dscp >= 0 ? json_integer(res.dscp) : json_null(), "table", json_text(o->table));
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else {
		printf("packet:  %s\n", sb.s);
		printf("verdict: %s\n", verdict);
		if (dflt)
			printf("rule:    default of the table\n");
		else
			printf("rule:    #%u, line %u (the table's rule %u)\n", number, res.line, res.rule);
		if (res.dscp >= 0) {
			const char *nm = dscp_name(res.dscp);
			printf("dscp:    %d%s%s%s\n", res.dscp, nm ? " (" : "", nm ? nm : "", nm ? ")" : "");
		}
		printf("table:   %s\n", o->table);
	}
	sb_free(&sb);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
}

/* The options that go together, and the operand count. */
static int check_query_options(const struct cli_opts *o, const char *fmt)
{
	if (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0) {
		diag_plain("--format takes text or json");
		return EXIT_USAGE;
	}
	if (o->argc != (o->table ? 3 : 4)) {
		diag_plain(o->table ? "with --table, 'portc query' takes PROTO SRC DST"
				    : "'portc query' takes FILE PROTO SRC DST");
		return EXIT_USAGE;
	}
	if (o->table && o->all) {
		diag_plain("--all needs the policy, not a table");
		return EXIT_USAGE;
	}
	if (o->table && (o->hook || o->state || o->loopback || o->hop_limit || o->no_ndp ||
			 o->no_loopback)) {
		diag_plain("a matching table has no hooks and no prologue: --hook, --state, "
			   "--loopback, --hop-limit, --no-ndp and --no-loopback need the policy");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* What the policy's prologue looks at beside the header: --hook (into
 * *hooks, 0 for the packet's own), --state and --hop-limit. */
static int packet_context(const struct cli_opts *o, struct packet *pkt, unsigned *hooks)
{
	*hooks = 0;
	if (o->hook) {
		const char *why = hooks_parse(o->hook, hooks);
		if (why || (*hooks & (*hooks - 1))) {
			diag_plain("query's --hook takes one hook: input, output or forward");
			return EXIT_USAGE;
		}
	}
	static const char *const states[] = { "new", "established", "related", "invalid" };
	if (o->state) {
		int st = -1;
		for (int i = 0; i < 4; i++)
			if (strcmp(o->state, states[i]) == 0)
				st = i;
		if (st < 0) {
			diag_plain("--state takes new, established, related or invalid");
			return EXIT_USAGE;
		}
		pkt->state = (enum flow_state)st;
	}
	bool nd = pkt->family == 6 && pkt->proto == 58 && pkt->type >= 133 && pkt->type <= 136;
	pkt->hoplimit = nd ? 255 : 64;
	if (o->hop_limit) {
		char *end;
		long v = strtol(o->hop_limit, &end, 10);
		if (!*o->hop_limit || *end || v < 0 || v > 255) {
			diag_plain("--hop-limit takes 0 to 255");
			return EXIT_USAGE;
		}
		pkt->hoplimit = (uint8_t)v;
	}
	return EXIT_OK;
}

int cmd_query(struct cli_opts *o)
{
	const char *fmt = o->format ? o->format : "text";
	int r = check_query_options(o, fmt);
	if (r != EXIT_OK)
		return r;
	struct packet pkt;
	r = parse_packet(o, &pkt);
	if (r != EXIT_OK)
		return r;
	if (o->table)
		return query_table(o, &pkt, strcmp(fmt, "json") == 0);
	unsigned hooks;
	r = packet_context(o, &pkt, &hooks);
	if (r != EXIT_OK)
		return r;
	struct diag d;
	struct unit u;
	const struct ir_policy *pol = driver_compile(&u, &d, o, o->argv[0], &r);
	if (pol) {
		pkt.loopback = o->loopback || packet_on_loopback(pol, &pkt);
		enum hook h = HOOK_INPUT;
		if (hooks)
			h = (enum hook)__builtin_ctz(hooks);
		else if (!pkt.loopback)
			h = packet_hook(pol, &pkt);
		struct prologue_opts po = { .loopback = !o->no_loopback, .ndp = !o->no_ndp };
		struct verdict v = eval_on_hook(pol, &po, h, &pkt);
		if (strcmp(fmt, "json") == 0) {
			r = print_json(pol, &v, &pkt, o->all, h);
		} else {
			print_text(pol, &v, &pkt, h);
			if (o->all)
				print_matches(pol, &pkt);
		}
	}
	unit_free(&u);
	diag_free(&d);
	return r;
}
