/* eval.c - first-match evaluation of one packet, and the packet syntax
 * the command line and witnesses use. */
#include "eval.h"

#include "portc/match.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "names.h"

bool ir_rule_matches(const struct ir_rule *r, const struct packet *p)
{
	if (r->unenforceable)
		return false;
	if (r->proto != IR_PROTO_ANY && r->proto != p->proto)
		return false;
	if (p->family == 4) {
		if (!ivset_contains(r->src4, p->src) || !ivset_contains(r->dst4, p->dst))
			return false;
	} else {
		if (!ivset_contains(r->src6, p->src) || !ivset_contains(r->dst6, p->dst))
			return false;
	}
	if (r->proto != IR_PROTO_ANY && ir_has_ports(r->proto)) {
		if (!ivset_contains(r->sport, p->sport) || !ivset_contains(r->dport, p->dport))
			return false;
	}
	if (r->proto != IR_PROTO_ANY && ir_has_types(r->proto)) {
		if (!ivset_contains(r->types, p->type))
			return false;
	}
	return true;
}

void packet_to_tuple(const struct packet *p, struct portc_tuple *k)
{
	memset(k, 0, sizeof *k);
	k->family = (uint8_t)p->family;
	k->proto = (uint8_t)p->proto;
	k->sport = p->sport;
	k->dport = p->dport;
	k->icmp_type = p->type;
	int n = p->family == 4 ? 4 : 16;
	for (int i = 0; i < n; i++) {
		k->src[i] = (uint8_t)(p->src >> (8 * (n - 1 - i)));
		k->dst[i] = (uint8_t)(p->dst >> (8 * (n - 1 - i)));
	}
}

struct verdict eval_packet(const struct ir_policy *pol, const struct packet *p)
{
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct ir_rule *r = &pol->rules[i];
		if (ir_rule_matches(r, p))
			return (struct verdict){ r->action, r, r->action == ACT_ALLOW ? r->dscp : -1, r->log, NULL };
	}
	return (struct verdict){ pol->dflt, NULL, -1, pol->dflt_log, NULL };
}

static int parse_port(const char *s)
{
	if (!*s || strlen(s) > 5)
		return -1;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v <= 65535 ? (int)v : -1;
}

const char *packet_parse_endpoint(const char *text, int *family, u128 *addr, int *port)
{
	char buf[128];
	if (strlen(text) >= sizeof buf)
		return "address too long";
	strcpy(buf, text);
	*port = -1;
	char *host = buf;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close)
			return "missing ']' after an IPv6 address";
		*close = '\0';
		host = buf + 1;
		if (close[1] == ':') {
			*port = parse_port(close + 2);
			if (*port < 0)
				return "port must be a number 0..65535";
		} else if (close[1]) {
			return "expected ':PORT' after ']'";
		}
	} else {
		char *colon = strchr(buf, ':');
		if (colon && !strchr(colon + 1, ':')) {
			/* exactly one colon: IPv4 with a port */
			*colon = '\0';
			*port = parse_port(colon + 1);
			if (*port < 0)
				return "port must be a number 0..65535";
		}
	}
	const char *why = addr_parse_host(host, family, addr);
	if (why) {
		/* one command line, one endpoint reported: a static buffer will do */
		static _Thread_local char msg[192];
		snprintf(msg, sizeof msg, "%s%s", why,
			 buf[0] == '[' ? "" : " (IPv6 with a port is written [2001:db8::1]:443)");
		return msg;
	}
	return NULL;
}

int packet_parse_proto(const char *text)
{
	int p = proto_by_name(text);
	if (p >= 0)
		return p;
	char *end;
	long v = strtol(text, &end, 10);
	if (*text && !*end && v >= 0 && v <= 255)
		return (int)v;
	return -1;
}

void packet_format(const struct packet *p, struct strbuf *sb)
{
	char a[64], b[64];
	addr_format(p->family, p->src, a, sizeof a);
	addr_format(p->family, p->dst, b, sizeof b);
	const char *pn = proto_name(p->proto);
	if (pn)
		sb_puts(sb, pn);
	else
		sb_printf(sb, "proto %d", p->proto);
	if (ir_has_ports(p->proto)) {
		if (p->family == 6)
			sb_printf(sb, " [%s]:%u -> [%s]:%u", a, p->sport, b, p->dport);
		else
			sb_printf(sb, " %s:%u -> %s:%u", a, p->sport, b, p->dport);
	} else {
		sb_printf(sb, " %s -> %s", a, b);
		if (ir_has_types(p->proto)) {
			const char *tn = icmp_type_name(p->family, p->type);
			if (tn)
				sb_printf(sb, " type %s", tn);
			else
				sb_printf(sb, " type %u", p->type);
		}
	}
}
