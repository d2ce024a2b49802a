/* ast.h - the raw syntax tree, as the parser builds it.
 *
 * The grammar decides only shape; meaning (what a name refers to, whether a
 * port is in range, whether an address parses) is decided in check.c, which
 * writes its findings into the "resolved" fields below. Every node carries
 * its location. */
#ifndef PORTC_AST_H
#define PORTC_AST_H

/* The backends and libportc work on the checked IR, never the tree: the
 * build compiles them with PORTC_NO_AST (Makefile, BACKEND_SRCS). */
#ifdef PORTC_NO_AST
#error "ast.h in a file that must not see the syntax tree: a backend reads ir.h"
#endif

#include <stdbool.h>
#include <stdint.h>

#include "action.h"
#include "arena.h"
#include "source.h"
#include "util.h"

enum node_kind {
	/* top-level items */
	N_IMPORT,
	N_DEF,		/* network/host/ports/service/qos NAME = value; */
	N_PARAM,	/* param NAME: kind [= value]; also a ruleset's formal parameter */
	N_RULESET,
	N_POLICY,
	/* statements in a policy or ruleset body */
	N_RULE,
	N_DEFAULT,
	N_USE,
	N_STATELESS,
	N_HOST,		/* host ADDRS; the addresses of the machine a policy protects */
	/* rule options */
	N_OPT_SERVICE,
	N_OPT_SPORT,
	N_OPT_QOS,
	N_OPT_DSCP,
	N_OPT_LOG,
	N_OPT_NOTE,
	/* network expressions */
	N_NET_ADDR,	/* 192.0.2.0/24, 2001:db8::1 */
	N_NET_ANY,	/* any, any4, any6 */
	N_NET_DOMAIN,	/* domain "*.webex.com" */
	N_NET_UNRESOLVED, /* unresolved "host-defined DNS server" */
	N_NET_GROUP,	/* { a, b, ... } */
	N_NET_EXCEPT,	/* a except b */
	/* shared leaves */
	N_REF,		/* a name, of whatever kind check finds */
	N_RANGE,	/* 80 or 8000-8100: ports, ICMP types, DSCP values */
	/* lists */
	N_PORT_LIST,
	N_SVC_LIST,
	/* service items */
	N_SVC_PROTO,	/* tcp [PORT], udp [PORT], icmp, icmpv6, proto N */
	N_SVC_ICMP_TYPE, /* icmp type T, icmpv6 type T */
	/* values */
	N_DSCP,		/* dscp ef | dscp 46 */
	N_ARG,		/* [name =] value, in use NAME(...) */
};

/* What a definition or parameter holds. */
enum value_kind {
	VK_NETWORK,
	VK_HOST,
	VK_PORTS,
	VK_SERVICE,
	VK_QOS,
	VK__COUNT
};
const char *value_kind_name(enum value_kind k);


/* Protocols a service item names. */
enum svc_proto { SP_TCP, SP_UDP, SP_ICMP, SP_ICMPV6, SP_OTHER };

struct symbol;

struct node_list {
	struct node **v;
	size_t n, cap;
};

struct node {
	enum node_kind kind;
	struct loc loc;
	union {
		struct {
			const char *path;
			struct source *target;	/* set by the loader */
		} import;
		struct {	/* N_DEF and N_PARAM */
			enum value_kind vk;
			const char *name;
			struct loc name_loc;
			struct node *value;	/* NULL: a parameter without default */
			struct symbol *sym;	/* set by check */
		} def;
		struct {	/* N_RULESET and N_POLICY */
			const char *name;
			struct loc name_loc;
			struct node_list params;	/* N_PARAM, rulesets only */
			struct loc open_loc;		/* the '{' of the body */
			struct node_list body;
			struct symbol *sym;
		} block;
		struct {		/* N_RULE: a rule, or an expectation */
			enum action action;
			bool bidir;		/* <-> */
			unsigned char expect;	/* enum expect_kind; EXPECT_RULE for a rule */
			struct node *src, *dst;
			struct loc arrow_loc;
			struct node_list opts;
		} rule;
		struct {
			enum action action;
			bool log;
		} dflt;
		struct {
			const char *name;
			struct loc name_loc;
			struct node_list args;	/* N_ARG */
			struct symbol *sym;	/* set by check */
			/* set by check: per parameter of the ruleset, the argument's
			 * value node, or NULL where the default applies */
			struct node **bound;
		} use;
		struct node *opt;	/* N_OPT_SERVICE/SPORT/DSCP: the list or value; N_HOST: its addresses */
		struct {		/* N_OPT_QOS */
			struct node *ref;
		} qos;
		struct {		/* N_OPT_NOTE: adjacent strings, joined */
			const char **pieces;
			size_t npieces;
			const char *text;
		} note;
		struct {
			const char *text;
			/* set by check */
			bool ok;
			uint8_t family;		/* 4 or 6 */
			uint8_t len;		/* prefix length */
			bool explicit_len;	/* written with /len */
			u128 addr;		/* network address, host bits cleared */
		} addr;
		struct {
			uint8_t families;	/* bit 0: IPv4, bit 1: IPv6 */
		} any;
		struct {
			const char *text;
		} str;			/* N_NET_DOMAIN, N_NET_UNRESOLVED */
		struct node_list list;	/* N_NET_GROUP, N_PORT_LIST, N_SVC_LIST */
		struct {
			struct node *base, *minus;
		} except;
		struct {
			const char *name;
			struct symbol *sym;	/* set by check */
		} ref;
		struct {
			uint64_t lo, hi;	/* UINT64_MAX: too large to read */
			bool single;
			const char *text;
		} range;
		struct {
			enum svc_proto proto;
			struct node *arg;	/* port item for tcp/udp; N_RANGE or N_REF for proto N */
			int number;		/* set by check for SP_OTHER */
		} svc;
		struct {
			enum svc_proto proto;	/* SP_ICMP or SP_ICMPV6 */
			struct node *type;	/* N_RANGE or N_REF */
		} icmp;
		struct {
			struct node *val;	/* N_RANGE or N_REF */
			int value;		/* set by check */
		} dscp;
		struct {
			const char *name;	/* NULL: positional */
			struct loc name_loc;
			struct node *value;
		} arg;
	} u;
};

struct ast_file {
	struct source *src;
	struct node_list items;
};

struct node *node_new(struct arena *a, enum node_kind kind, struct loc loc);
void node_list_push(struct arena *a, struct node_list *l, struct node *n);

/* The parser's constructors: each node with its fields. A range's text is
 * "lo" (single) or "lo-hi"; adjacent note strings join into one note, as
 * in C (ast_add_note). */
struct node *ast_range(struct arena *a, struct loc loc, uint64_t lo, const char *lo_text, uint64_t hi,
		       const char *hi_text, bool single);
struct node *ast_ref(struct arena *a, struct loc loc, const char *name);
struct node *ast_str(struct arena *a, enum node_kind k, struct loc loc, const char *s);
struct node *ast_list(struct arena *a, enum node_kind k, struct loc loc, struct node *first);
struct node *ast_list_add(struct arena *a, struct node *list, struct node *item, struct loc loc);
struct node *ast_def(struct arena *a, enum node_kind k, struct loc loc, enum value_kind vk, const char *name,
		     struct loc name_loc, struct node *value);
struct node *ast_svc(struct arena *a, struct loc loc, enum svc_proto p, struct node *arg);
struct node *ast_icmp_type(struct arena *a, struct loc loc, enum svc_proto p, struct node *type);
struct node *ast_dscp(struct arena *a, struct loc loc, struct node *val);
struct node *ast_opt(struct arena *a, enum node_kind k, struct loc loc, struct node *v);
void ast_add_note(struct arena *a, struct node_list *opts, const char *s, struct loc loc);
struct node *ast_rule(struct arena *a, struct loc loc, enum action act, struct node *src, struct node *dst,
		      bool bidir, struct loc arrow, struct node_list opts);
struct node *ast_block(struct arena *a, enum node_kind k, struct loc loc, const char *name, struct loc name_loc,
		       struct node_list params, struct node_list body);
struct node *ast_use(struct arena *a, struct loc loc, const char *name, struct loc name_loc,
		     struct node_list args);
struct node *ast_arg(struct arena *a, struct loc loc, const char *name, struct loc name_loc, struct node *value);
const char *node_kind_name(enum node_kind k);
/* The keyword of a service protocol: tcp, udp, icmp, icmpv6, proto. */
const char *svc_proto_name(enum svc_proto p);

/* --dump=ast */
void ast_dump(const struct ast_file *f, FILE *fp);

#endif
