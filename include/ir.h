/* ir.h - the checked, normalized policy every backend consumes.
 *
 * A source rule becomes one IR rule per protocol it names, and per
 * direction for '<->'. Every set is normalized (sorted, merged intervals),
 * every name is resolved, every ruleset is expanded in place. The
 * reference semantics (eval.c) is plain first match over these rules. */
#ifndef PORTC_IR_H
#define PORTC_IR_H

#include <stdbool.h>
#include <stdio.h>

#include "action.h"
#include "arena.h"
#include "ivset.h"
#include "source.h"
#include "util.h"

#define IR_PROTO_ANY (-1)

struct ir_rule {
	unsigned index;			/* position in the policy, from 0 */
	unsigned source;		/* which source rule (several IR rules may share one) */
	enum action action;
	int proto;			/* IP protocol, or IR_PROTO_ANY */
	struct ivset src4, src6;	/* source addresses per family */
	struct ivset dst4, dst6;	/* destination addresses per family */
	struct ivset sport, dport;	/* TCP/UDP ports; 0-65535 when not limited */
	struct ivset types;		/* ICMP/ICMPv6 types; 0-255 when not limited */
	int dscp;			/* DSCP to set, or -1 */
	bool log;
	bool reverse;			/* the second direction of a '<->' rule */
	const char *note;		/* NULL when the rule has none */
	const char *service;		/* the service's name, when the rule names one */
	const char *listener;		/* what names the listening end: the service, or the
					 * port list of "tcp NAME" (lint's listener-collision) */
	const char *src_name;		/* the network's name, when a side is one name */
	const char *dst_name;
	struct loc origin;		/* the rule in its source file */
	struct loc via;			/* the 'use' in the policy that brought it in */
	const char *ruleset;		/* the ruleset it came from, or NULL */
	/* A rule whose side is only domain names or unresolved endpoints
	 * matches no packet; it is kept so every output can say so. */
	const char *unenforceable;
};

struct ir_policy {
	const char *name;
	struct loc loc;
	enum action dflt;
	bool dflt_log;
	bool stateless;
	bool has_host;			/* `host ADDRS;`: the machine it is loaded on */
	bool partial;			/* rules left out for parameters without values (check) */
	struct ivset host4, host6;
	struct ir_rule *rules;
	size_t nrules;
	unsigned nsource;		/* source rules, after expansion */
	/* expectations (expect.h): their regions as IR rules (origin: the
	 * expectation, via: the 'use' that brought it in, source: which
	 * expectation as written, its protocols sharing one), what each
	 * asserts; no backend reads them */
	struct ir_rule *expects;
	unsigned char *expect_kind;	/* enum expect_kind, per expectation rule */
	size_t nexpects;
};

struct ir_unit {
	struct ir_policy *policies;
	size_t n;
};

static inline bool ir_has_ports(int proto) { return proto == 6 || proto == 17; }
static inline bool ir_has_types(int proto) { return proto == 1 || proto == 58; }
/* Families the rule can match: bit 0 IPv4, bit 1 IPv6. */
unsigned ir_rule_families(const struct ir_rule *r);

const struct ir_policy *ir_find_policy(const struct ir_unit *u, const char *name);
/* --dump=ir */
/* --dump=ir. Without locations, two spellings of one policy (fmt's and the
 * original) dump the same: the fuzz target compares them so. */
void ir_dump_policy(const struct ir_policy *p, FILE *fp, bool locations);
void ir_dump(const struct ir_unit *u, FILE *fp, bool locations);
/* "192.0.2.0/24, 2001:db8::/32" (prefixes), or "any" */
void ir_format_addrs(struct ivset v4, struct ivset v6, struct strbuf *sb);
void ir_format_ranges(struct ivset s, struct strbuf *sb);
/* The fewest prefixes covering s, joined by sep; returns how many. */
unsigned ir_put_prefixes(struct strbuf *sb, int family, struct ivset s, const char *sep);

#endif
