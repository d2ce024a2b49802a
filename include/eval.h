/* eval.h - the reference semantics: plain first match over the IR.
 *
 * Every backend, every compiled table and every lint witness is checked
 * against this function. It is deliberately the simplest correct thing. */
#ifndef PORTC_EVAL_H
#define PORTC_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ir.h"

/* What conntrack makes of a packet; the rules see only new ones, the
 * prologue decides the rest (hooks.h). */
enum flow_state { STATE_NEW, STATE_ESTABLISHED, STATE_RELATED, STATE_INVALID };

struct packet {
	int family;		/* 4 or 6 */
	int proto;		/* IP protocol number */
	u128 src, dst;
	uint16_t sport, dport;	/* TCP/UDP */
	uint8_t type;		/* ICMP/ICMPv6 */
	/* for the prologue only (prologue_decides); the rules ignore them */
	uint8_t hoplimit;	/* IPv6 hop limit (or IPv4 TTL) as it reaches the hook */
	bool loopback;		/* on the loopback interface */
	enum flow_state state;
};

struct verdict {
	enum action action;
	const struct ir_rule *rule;	/* NULL: the default decided */
	int dscp;			/* -1: not marked */
	bool log;
	const char *prologue;		/* set: the ruleset decided before the rules (hooks.h) */
};

bool ir_rule_matches(const struct ir_rule *r, const struct packet *p);
struct verdict eval_packet(const struct ir_policy *pol, const struct packet *p);

struct portc_tuple;
/* p as libportc's tuple (addresses in network byte order), for asking a
 * compiled table what the evaluator was asked. */
void packet_to_tuple(const struct packet *p, struct portc_tuple *k);

/* Parses "192.0.2.1", "192.0.2.1:443", "[2001:db8::1]:443", "2001:db8::1".
 * *port is -1 when none was given. Returns NULL or an error message. */
const char *packet_parse_endpoint(const char *text, int *family, u128 *addr, int *port);
/* Parses "tcp", "udp", "icmp", "icmpv6", a protocol name or a number. */
int packet_parse_proto(const char *text);
/* "tcp 192.0.2.1:40000 -> 198.51.100.1:443" */
void packet_format(const struct packet *p, struct strbuf *sb);

#endif
