/* parser.y - the portc grammar (pure bison, locations, no conflicts).
 *
 * The grammar builds the raw tree and nothing else: every action is a
 * constructor call, and whether a name exists, a port is in range or an
 * address parses is decided in src/check.c. Recovery is per statement
 * ("error ';'"), so one run reports every syntax error of a file, up to
 * PARSE_MAX_ERRORS.
 *
 * Memory: every node comes from the compilation's arena, so no %destructor
 * is needed for symbols discarded during error recovery. */

%code requires {
#include "ast.h"
#include "parse.h"

#define YYLTYPE struct loc
#define YYLTYPE_IS_DECLARED 1
#define YYLLOC_DEFAULT(Cur, Rhs, N) do { \
	if (N) { \
		(Cur) = loc_span(YYRHSLOC(Rhs, 1), YYRHSLOC(Rhs, N)); \
	} else { \
		(Cur) = YYRHSLOC(Rhs, 0); \
		(Cur).line = (Cur).end_line; \
		(Cur).col = (Cur).end_col; \
	} \
} while (0)

typedef void *yyscan_t;

struct tokval {
	const char *text;
	uint64_t num;
};
}

%code provides {
int lexer_next(YYSTYPE *yylval_param, YYLTYPE *yylloc_param, yyscan_t yyscanner);
}

%code {
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int yylex(YYSTYPE *val, YYLTYPE *loc, yyscan_t scanner, struct parse_ctx *ctx);
static void yyerror(YYLTYPE *loc, yyscan_t scanner, struct parse_ctx *ctx, const char *msg);

#define A (ctx->arena)

/* The tree's constructors are ast.c's (ast_*); these name them as the
 * actions below read best, with the parser's token values taken apart. */
#define mk(ctx, k, loc) node_new((ctx)->arena, k, loc)
#define mk_range(ctx, loc, lo, hi, single) \
	ast_range((ctx)->arena, loc, (lo).num, (lo).text, (hi).num, (hi).text, single)
#define mk_ref(ctx, loc, name) ast_ref((ctx)->arena, loc, name)
#define mk_str(ctx, k, loc, s) ast_str((ctx)->arena, k, loc, s)
#define mk_list(ctx, k, loc, first) ast_list((ctx)->arena, k, loc, first)
#define list_add(ctx, list, item, loc) ast_list_add((ctx)->arena, list, item, loc)
#define mk_def(ctx, k, loc, vk, name, name_loc, value) \
	ast_def((ctx)->arena, k, loc, vk, (name).text, name_loc, value)
#define mk_svc(ctx, loc, p, arg) ast_svc((ctx)->arena, loc, p, arg)
#define mk_icmp_type(ctx, loc, p, type) ast_icmp_type((ctx)->arena, loc, p, type)
#define mk_dscp(ctx, loc, val) ast_dscp((ctx)->arena, loc, val)
#define mk_opt(ctx, k, loc, v) ast_opt((ctx)->arena, k, loc, v)
#define add_note(ctx, opts, s, loc) ast_add_note((ctx)->arena, opts, (s).text, loc)
#define mk_rule(ctx, loc, act, src, dst, bidir, arrow, opts) \
	ast_rule((ctx)->arena, loc, act, src, dst, bidir, arrow, opts)
#define mk_block(ctx, k, loc, name, name_loc, params, body) \
	ast_block((ctx)->arena, k, loc, (name).text, name_loc, params, body)
#define mk_use(ctx, loc, name, name_loc, args) ast_use((ctx)->arena, loc, (name).text, name_loc, args)
#define mk_arg(ctx, loc, name, name_loc, value) ast_arg((ctx)->arena, loc, name, name_loc, value)

static const struct node_list empty_list;

static void bad_option(struct parse_ctx *ctx, const char *word, struct loc loc)
{
	if (strcmp(word, "port") == 0 || strcmp(word, "dport") == 0 || strcmp(word, "ports") == 0)
		parse_error_at(ctx, loc, "'%s' is not a rule option; write the protocol and its "
			       "ports, as in 'tcp 443' or 'udp 5060-5080'", word);
	else if (strcmp(word, "comment") == 0 || strcmp(word, "note") == 0 ||
		 strcmp(word, "description") == 0 || strcmp(word, "remark") == 0)
		parse_error_at(ctx, loc, "'%s' is not a rule option; a rule's note is a string "
			       "on its own, as in 'allow a -> b tcp 443 \"why\";'", word);
	else
		parse_error_at(ctx, loc, "'%s' is not a rule option; to use a service by name "
			       "write 'service %s'", word, word);
}
}

%define api.pure full
%define api.token.prefix {T_}
%define parse.error custom
%locations
%expect 0
%param {yyscan_t scanner} {struct parse_ctx *ctx}

%union {
	struct tokval tok;
	struct node *node;
	struct node_list list;
	enum action act;
	enum value_kind vk;
	int flag;
}

%token END 0 "end of file"
%token <tok> ID "identifier" NUM "number" ADDR "address" STRING "string"
%token IMPORT "import" NETWORK "network" HOST "host" PORTS "ports" SERVICE "service"
%token QOS "qos" DSCP "dscp" PARAM "param" RULESET "ruleset" POLICY "policy"
%token DEFAULT "default" ALLOW "allow" DENY "deny" REJECT "reject" LOG "log"
%token STATELESS "stateless" SPORT "sport" USE "use" EXCEPT "except" EXPECT "expect"
%token ANY "any" ANY4 "any4" ANY6 "any6" DOMAIN "domain" UNRESOLVED "unresolved"
%token TCP "tcp" UDP "udp" ICMP "icmp" ICMPV6 "icmpv6" PROTO "proto" TYPE "type"
%token ARROW "->" BIARROW "<->"
%token START_FILE START_NETWORK START_PORTS START_SERVICE START_QOS

/* "tcp foo" reads foo as the protocol's ports, not as the next (mistaken)
 * rule option: a bare protocol yields to a following identifier. */
%precedence BARE_PROTO
%precedence ID
%precedence NUM

%type <node> item import def param ruleset policy stmt rule expectation
%type <node> net_expr net_term net_atom net_group net_elems
%type <node> port_list port_item svc_list svc_list_p svc_item svc_proto_item type_val dscp_val
%type <node> qos_value formal arg arg_value
%type <node> param_net param_ports param_service param_qos param_host formal_ports formal_service
%type <list> body rule_opts formals formals_opt args args_opt
%type <tok> hint_ports
%type <act> action
%type <flag> expect_verdict
%type <flag> log_opt arrow comma_opt

%%

start
	: START_FILE items
	| START_NETWORK net_elems	{ ctx->value = $2->u.list.n == 1 ? $2->u.list.v[0] : $2; }
	| START_PORTS port_list		{ ctx->value = $2; }
	| START_SERVICE svc_list	{ ctx->value = $2; }
	| START_QOS qos_value		{ ctx->value = $2; }
	| START_QOS dscp_val		{ ctx->value = mk_dscp(ctx, @2, $2); }
	;

items
	: %empty
	| items item			{ if ($2) node_list_push(A, &ctx->file->items, $2); }
	;

item
	: import
	| def
	| param
	| ruleset
	| policy
	| rule				{
		parse_error_at(ctx, $1->loc, "a rule must be inside a policy or a ruleset");
		$$ = NULL;
	}
	| expectation			{
		parse_error_at(ctx, $1->loc, "an expectation must be inside a policy or a ruleset");
		$$ = NULL;
	}
	| error ';'			{ $$ = NULL; yyerrok; }
	| error '}'			{ $$ = NULL; yyerrok; }
	;

/* import "std/services"; */
import
	: IMPORT STRING ';'		{
		$$ = mk(ctx, N_IMPORT, @$);
		$$->u.import.path = $2.text;
	}
	/* the ';' forgotten: said once, and what follows parses as it is,
	 * where error recovery would swallow the next definition too */
	| IMPORT STRING			{
		struct loc at = @2;
		at.line = at.end_line;
		at.col = at.end_col;
		at.end_col = at.col + 1;
		parse_error_at(ctx, at, "expected ';' after the import");
		$$ = mk(ctx, N_IMPORT, @$);
		$$->u.import.path = $2.text;
	}
	;

/* network NAME = net_expr;  host NAME = ADDR;  ports NAME = 80, 8000-8100;
 * service NAME = tcp 80, udp 53;  qos NAME = dscp ef; */
def
	: NETWORK ID '=' net_expr ';'	{ $$ = mk_def(ctx, N_DEF, @$, VK_NETWORK, $2, @2, $4); }
	| HOST ID '=' net_expr ';'	{ $$ = mk_def(ctx, N_DEF, @$, VK_HOST, $2, @2, $4); }
	| PORTS ID '=' port_list ';'	{ $$ = mk_def(ctx, N_DEF, @$, VK_PORTS, $2, @2, $4); }
	| SERVICE ID '=' svc_list ';'	{ $$ = mk_def(ctx, N_DEF, @$, VK_SERVICE, $2, @2, $4); }
	| QOS ID '=' qos_value ';'	{ $$ = mk_def(ctx, N_DEF, @$, VK_QOS, $2, @2, $4); }
	;

/* param NAME: KIND [= default];  set from the command line with -D NAME=VALUE */
param
	: PARAM ID ':' NETWORK param_net ';'	{ $$ = mk_def(ctx, N_PARAM, @$, VK_NETWORK, $2, @2, $5); }
	| PARAM ID ':' HOST param_host ';'	{ $$ = mk_def(ctx, N_PARAM, @$, VK_HOST, $2, @2, $5); }
	| PARAM ID ':' PORTS param_ports ';'	{ $$ = mk_def(ctx, N_PARAM, @$, VK_PORTS, $2, @2, $5); }
	| PARAM ID ':' SERVICE param_service ';' { $$ = mk_def(ctx, N_PARAM, @$, VK_SERVICE, $2, @2, $5); }
	| PARAM ID ':' QOS param_qos ';'	{ $$ = mk_def(ctx, N_PARAM, @$, VK_QOS, $2, @2, $5); }
	;

param_net	: %empty { $$ = NULL; } | '=' net_expr { $$ = $2; } ;
param_host	: %empty { $$ = NULL; } | '=' net_expr { $$ = $2; } ;
param_ports	: %empty { $$ = NULL; } | '=' port_list { $$ = $2; } ;
param_service	: %empty { $$ = NULL; } | '=' svc_list { $$ = $2; } ;
param_qos	: %empty { $$ = NULL; } | '=' qos_value { $$ = $2; } ;

/* Defaults of a ruleset's parameters hold one item, since ',' separates
 * the parameters: a longer list is given a name and referred to. */
formal_ports	: %empty { $$ = NULL; } | '=' port_item { $$ = mk_list(ctx, N_PORT_LIST, @2, $2); } ;
formal_service	: %empty { $$ = NULL; } | '=' svc_item { $$ = mk_list(ctx, N_SVC_LIST, @2, $2); } ;

qos_value
	: DSCP dscp_val			{ $$ = mk_dscp(ctx, @$, $2); }
	;

dscp_val
	: NUM				{ $$ = mk_range(ctx, @1, $1, $1, true); }
	| ID				{ $$ = mk_ref(ctx, @1, $1.text); }
	;

/* ruleset NAME(p: network, q: ports = 8000-8100) { rules } */
ruleset
	: RULESET ID '(' formals_opt ')' '{' body '}'	{ $$ = mk_block(ctx, N_RULESET, @$, $2, @2, $4, $7); $$->u.block.open_loc = @6; }
	| RULESET ID '{' body '}'			{ $$ = mk_block(ctx, N_RULESET, @$, $2, @2, empty_list, $4); $$->u.block.open_loc = @3; }
	;

formals_opt
	: %empty			{ $$ = empty_list; }
	| formals
	;

formals
	: formal			{ $$ = empty_list; node_list_push(A, &$$, $1); }
	| formals ',' formal		{ $$ = $1; node_list_push(A, &$$, $3); }
	;

formal
	: ID ':' NETWORK param_net	{ $$ = mk_def(ctx, N_PARAM, @$, VK_NETWORK, $1, @1, $4); }
	| ID ':' HOST param_host	{ $$ = mk_def(ctx, N_PARAM, @$, VK_HOST, $1, @1, $4); }
	| ID ':' PORTS formal_ports	{ $$ = mk_def(ctx, N_PARAM, @$, VK_PORTS, $1, @1, $4); }
	| ID ':' SERVICE formal_service	{ $$ = mk_def(ctx, N_PARAM, @$, VK_SERVICE, $1, @1, $4); }
	| ID ':' QOS param_qos		{ $$ = mk_def(ctx, N_PARAM, @$, VK_QOS, $1, @1, $4); }
	;

/* policy NAME { default deny; rules } */
policy
	: POLICY ID '{' body '}'	{ $$ = mk_block(ctx, N_POLICY, @$, $2, @2, empty_list, $4); $$->u.block.open_loc = @3; }
	;

body
	: %empty			{ $$ = empty_list; }
	| body stmt			{ $$ = $1; if ($2) node_list_push(A, &$$, $2); }
	;

stmt
	: rule
	| expectation
	| DEFAULT action log_opt ';'	{
		$$ = mk(ctx, N_DEFAULT, @$);
		$$->u.dflt.action = $2;
		$$->u.dflt.log = $3;
	}
	| USE ID ';'			{ $$ = mk_use(ctx, @$, $2, @2, empty_list); }
	| USE ID '(' args_opt ')' ';'	{ $$ = mk_use(ctx, @$, $2, @2, $4); }
	| STATELESS ';'			{ $$ = mk(ctx, N_STATELESS, @$); }
	| HOST net_expr ';'		{ $$ = mk(ctx, N_HOST, @$); $$->u.opt = $2; }
	| error ';'			{ $$ = NULL; yyerrok; }
	;

log_opt
	: %empty			{ $$ = 0; }
	| LOG				{ $$ = 1; }
	;

/* allow SRC -> DST [service ...] [tcp 80, ...] [sport ...] [qos Q] [log] ["note"]; */
rule
	: action net_expr arrow net_expr rule_opts ';'	{
		$$ = mk_rule(ctx, @$, $1, $2, $4, $3, @3, $5);
	}
	;

/* expect allow SRC -> DST [service ...] [dscp D] [log] ["note"];
 * checked over its whole region by portc check, compiled to nothing */
expectation
	: EXPECT expect_verdict net_expr arrow net_expr rule_opts ';'	{
		$$ = mk_rule(ctx, @$, $2 == EXPECT_ALLOW ? ACT_ALLOW : $2 == EXPECT_REJECT ? ACT_REJECT
								 : ACT_DENY, $3, $5, $4, @4, $6);
		$$->u.rule.expect = (unsigned char)$2;
	}
	;

expect_verdict
	: ALLOW				{ $$ = EXPECT_ALLOW; }
	| DENY				{ $$ = EXPECT_DENY; }
	| REJECT			{ $$ = EXPECT_REJECT; }
	| ID				{
		$$ = EXPECT_NONE;
		if (strcmp($1.text, "none") != 0)
			parse_error_at(ctx, @1, "an expectation is 'expect allow', 'expect deny', "
				       "'expect reject' or 'expect none', not '%s'", $1.text);
	}
	;

action
	: ALLOW				{ $$ = ACT_ALLOW; }
	| DENY				{ $$ = ACT_DENY; }
	| REJECT			{ $$ = ACT_REJECT; }
	;

arrow
	: ARROW				{ $$ = 0; }
	| BIARROW			{ $$ = 1; }
	;

rule_opts
	: %empty			{ $$ = empty_list; }
	| rule_opts SERVICE svc_list	{ $$ = $1; node_list_push(A, &$$, mk_opt(ctx, N_OPT_SERVICE, loc_span(@2, @3), $3)); }
	| rule_opts svc_list_p		{ $$ = $1; node_list_push(A, &$$, mk_opt(ctx, N_OPT_SERVICE, @2, $2)); }
	| rule_opts SPORT port_list	{ $$ = $1; node_list_push(A, &$$, mk_opt(ctx, N_OPT_SPORT, loc_span(@2, @3), $3)); }
	| rule_opts QOS dscp_val	{
		$$ = $1;
		struct node *o = mk(ctx, N_OPT_QOS, loc_span(@2, @3));
		o->u.qos.ref = $3;
		node_list_push(A, &$$, o);
	}
	| rule_opts DSCP dscp_val	{ $$ = $1; node_list_push(A, &$$, mk_opt(ctx, N_OPT_DSCP, loc_span(@2, @3), mk_dscp(ctx, loc_span(@2, @3), $3))); }
	| rule_opts LOG			{ $$ = $1; node_list_push(A, &$$, mk(ctx, N_OPT_LOG, @2)); }
	| rule_opts STRING		{ $$ = $1; add_note(ctx, &$$, $2, @2); }
	| rule_opts ID			{ $$ = $1; bad_option(ctx, $2.text, @2); }
	| rule_opts ID hint_ports	{ $$ = $1; bad_option(ctx, $2.text, @2); }
	| rule_opts hint_ports		{
		$$ = $1;
		parse_error_at(ctx, @2, "ports need a protocol: write 'tcp %s' or 'udp %s'",
			       $2.text, $2.text);
	}
	;

/* Ports after a word that is not an option ("port 80"): swallowed, so the
 * one mistake is reported once. */
hint_ports
	: NUM				{ $$ = $1; }
	| NUM '-' NUM			{ $$ = $1; $$.text = arena_printf(A, "%s-%s", $1.text, $3.text); }
	| hint_ports ',' port_item	{ $$ = $1; }
	;

/* A network: an address or prefix, a name, any/any4/any6, a domain name or
 * an unresolved placeholder, a { group }, and "except" to subtract. */
net_expr
	: net_term
	| net_term EXCEPT net_term	{
		$$ = mk(ctx, N_NET_EXCEPT, @$);
		$$->u.except.base = $1;
		$$->u.except.minus = $3;
	}
	;

net_term
	: net_atom
	| net_group
	;

net_group
	: '{' net_elems comma_opt '}'	{ $$ = $2; $$->loc = @$; }
	;

net_elems
	: net_expr			{ $$ = mk_list(ctx, N_NET_GROUP, @$, $1); }
	| net_elems ',' net_expr	{ $$ = list_add(ctx, $1, $3, @$); }
	;

comma_opt
	: %empty			{ $$ = 0; }
	| ','				{ $$ = 1; }
	;

net_atom
	: ADDR				{ $$ = mk(ctx, N_NET_ADDR, @1); $$->u.addr.text = $1.text; }
	| ID				{ $$ = mk_ref(ctx, @1, $1.text); }
	| ANY				{ $$ = mk(ctx, N_NET_ANY, @1); $$->u.any.families = 3; }
	| ANY4				{ $$ = mk(ctx, N_NET_ANY, @1); $$->u.any.families = 1; }
	| ANY6				{ $$ = mk(ctx, N_NET_ANY, @1); $$->u.any.families = 2; }
	| DOMAIN STRING			{ $$ = mk_str(ctx, N_NET_DOMAIN, @$, $2.text); }
	| UNRESOLVED STRING		{ $$ = mk_str(ctx, N_NET_UNRESOLVED, @$, $2.text); }
	;

/* 80, 443, 8000-8100, ephemeral */
port_list
	: port_item			{ $$ = mk_list(ctx, N_PORT_LIST, @$, $1); }
	| port_list ',' port_item	{ $$ = list_add(ctx, $1, $3, @$); }
	;

port_item
	: NUM				{ $$ = mk_range(ctx, @$, $1, $1, true); }
	| NUM '-' NUM			{ $$ = mk_range(ctx, @$, $1, $3, false); }
	| ID				{ $$ = mk_ref(ctx, @1, $1.text); }
	;

/* tcp 80, 8080, udp 53, icmp type echo-request, proto gre, sip
 * A port after a comma continues the protocol before it. */
svc_list
	: svc_item			{ $$ = mk_list(ctx, N_SVC_LIST, @$, $1); }
	| svc_list ',' svc_item		{ $$ = list_add(ctx, $1, $3, @$); }
	;

/* A service list written without the 'service' keyword starts with a protocol. */
svc_list_p
	: svc_proto_item		{ $$ = mk_list(ctx, N_SVC_LIST, @$, $1); }
	| svc_list_p ',' svc_item	{ $$ = list_add(ctx, $1, $3, @$); }
	;

svc_item
	: svc_proto_item
	| port_item
	;

svc_proto_item
	: TCP				{ $$ = mk_svc(ctx, @$, SP_TCP, NULL); } %prec BARE_PROTO
	| TCP port_item			{ $$ = mk_svc(ctx, @$, SP_TCP, $2); }
	| UDP				{ $$ = mk_svc(ctx, @$, SP_UDP, NULL); } %prec BARE_PROTO
	| UDP port_item			{ $$ = mk_svc(ctx, @$, SP_UDP, $2); }
	| ICMP				{ $$ = mk_svc(ctx, @$, SP_ICMP, NULL); } %prec BARE_PROTO
	| ICMP port_item		{ $$ = mk_svc(ctx, @$, SP_ICMP, $2); }
	| ICMP TYPE type_val		{ $$ = mk_icmp_type(ctx, @$, SP_ICMP, $3); }
	| ICMPV6			{ $$ = mk_svc(ctx, @$, SP_ICMPV6, NULL); } %prec BARE_PROTO
	| ICMPV6 port_item		{ $$ = mk_svc(ctx, @$, SP_ICMPV6, $2); }
	| ICMPV6 TYPE type_val		{ $$ = mk_icmp_type(ctx, @$, SP_ICMPV6, $3); }
	| PROTO NUM			{ $$ = mk_svc(ctx, @$, SP_OTHER, mk_range(ctx, @2, $2, $2, true)); }
	| PROTO ID			{ $$ = mk_svc(ctx, @$, SP_OTHER, mk_ref(ctx, @2, $2.text)); }
	;

type_val
	: NUM				{ $$ = mk_range(ctx, @1, $1, $1, true); }
	| ID				{ $$ = mk_ref(ctx, @1, $1.text); }
	;

/* use NAME(a, b, name = c); */
args_opt
	: %empty			{ $$ = empty_list; }
	| args
	;

args
	: arg				{ $$ = empty_list; node_list_push(A, &$$, $1); }
	| args ',' arg			{ $$ = $1; node_list_push(A, &$$, $3); }
	;

arg
	: arg_value			{ $$ = mk_arg(ctx, @$, NULL, @$, $1); }
	| ID '=' arg_value		{ $$ = mk_arg(ctx, @$, $1.text, @1, $3); }
	;

arg_value
	: net_expr
	| NUM				{ $$ = mk_list(ctx, N_PORT_LIST, @$, mk_range(ctx, @$, $1, $1, true)); }
	| NUM '-' NUM			{ $$ = mk_list(ctx, N_PORT_LIST, @$, mk_range(ctx, @$, $1, $3, false)); }
	| DSCP dscp_val			{ $$ = mk_dscp(ctx, @$, $2); }
	;

%%

static int yylex(YYSTYPE *val, YYLTYPE *loc, yyscan_t scanner, struct parse_ctx *ctx)
{
	static const int start_tokens[] = {
		[PARSE_FILE] = T_START_FILE, [PARSE_NETWORK] = T_START_NETWORK,
		[PARSE_PORTS] = T_START_PORTS, [PARSE_SERVICE] = T_START_SERVICE,
		[PARSE_QOS] = T_START_QOS,
	};
	if (!ctx->start_sent) {
		ctx->start_sent = true;
		*loc = (struct loc){ ctx->src, 1, 1, 1, 1 };
		return start_tokens[ctx->start];
	}
	if (ctx->stop) {
		*loc = ctx->prev;
		return T_END;
	}
	int t = lexer_next(val, loc, scanner);
	if (ctx->stop)
		t = T_END;
	ctx->before_last = ctx->prev;
	if (t != T_END)
		ctx->prev = *loc;
	else
		*loc = (struct loc){ ctx->src, ctx->line, ctx->col, ctx->line, ctx->col };
	return t;
}

static void yyerror(YYLTYPE *loc, yyscan_t scanner, struct parse_ctx *ctx, const char *msg)
{
	(void)scanner;
	/* Only "memory exhausted" arrives here; syntax errors go through
	 * yyreport_syntax_error. */
	parse_error_at(ctx, *loc, "%s", msg);
}

static void append_token_name(struct strbuf *sb, yysymbol_kind_t k)
{
	const char *name = yysymbol_name(k);
	if (k == YYSYMBOL_YYEOF)
		name = "end of file";
	if (name[0] == '"' || name[0] == '\'')
		sb_printf(sb, "'%.*s'", (int)strlen(name) - 2, name + 1);
	else
		sb_puts(sb, name);
}

/* The action a word from another tool means: iptables' ACCEPT and DROP,
 * Cisco's permit, pf's pass and block, a typo or the wrong case. */
static const char *action_for(const char *w)
{
	static const struct { const char *word, *action; } words[] = {
		{ "permit", "allow" }, { "accept", "allow" }, { "pass", "allow" },
		{ "drop", "deny" }, { "block", "deny" }, { "refuse", "reject" },
	};
	char low[16];
	size_t n = strlen(w);
	if (n >= sizeof low)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] - 'A' + 'a' : w[i]);
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strcmp(low, words[i].word) == 0)
			return words[i].action;
	static const char *const actions[] = { "allow", "deny", "reject" };
	for (size_t i = 0; i < 3; i++)
		if (edit_distance(low, actions[i], 2) <= 2 && n >= 3)
			return actions[i];
	return NULL;
}

/* A word where a rule's action belongs that is one in another tool's
 * language, or a misspelt one: said as such, with the fix. */
static bool report_action_word(struct parse_ctx *ctx, struct loc loc, const char *word)
{
	const char *fix = action_for(word);
	if (!fix)
		return false;
	parse_error_at(ctx, loc, "unknown action '%s'; did you mean '%s'? (the actions are "
		       "allow, deny and reject)", word, fix);
	if (!ctx->stop)
		diag_fixit(ctx->diag, fix);
	return true;
}

/* "1024:65535" after a protocol: iptables' range. The loc is the ':'. */
static bool report_colon_range(struct parse_ctx *ctx, struct loc colon)
{
	size_t len;
	const char *line = source_line(colon.src, colon.line, &len);
	size_t at = source_col_offset(line, len, colon.col);
	size_t lo = at, hi = at + 1;
	while (lo > 0 && line[lo - 1] >= '0' && line[lo - 1] <= '9')
		lo--;
	while (hi < len && line[hi] >= '0' && line[hi] <= '9')
		hi++;
	if (lo == at || hi == at + 1)
		return false;
	struct loc r = colon;
	r.col -= (uint32_t)(at - lo);
	r.end_col = colon.col + (uint32_t)(hi - at);
	parse_error_at(ctx, r, "'%.*s' is iptables' way of writing a port range; write '%.*s-%.*s'",
		       (int)(hi - lo), line + lo, (int)(at - lo), line + lo, (int)(hi - at - 1),
		       line + at + 1);
	if (!ctx->stop) {
		char fix[32];
		snprintf(fix, sizeof fix, "%.*s-%.*s", (int)(at - lo), line + lo, (int)(hi - at - 1),
			 line + at + 1);
		diag_fixit(ctx->diag, fix);
	}
	return true;
}

/* "expected ';' before 'allow'", in GCC's words. */
static int yyreport_syntax_error(const yypcontext_t *pc, yyscan_t scanner, struct parse_ctx *ctx)
{
	(void)scanner;
	if (ctx->stop)
		return 0;
	yysymbol_kind_t expected[YYNTOKENS];
	int n = yypcontext_expected_tokens(pc, expected, YYNTOKENS);
	yysymbol_kind_t got = yypcontext_token(pc);
	struct loc loc = *yypcontext_location(pc);
	/* Recovery from a group's missing comma ends at the group's '}', and
	 * the ';' after it is then unexpected: not a second mistake. */
	bool follow_on = ctx->after_group_error && strcmp(yysymbol_name(got), "';'") == 0 &&
			 loc.line <= ctx->group_error_line + 1;
	ctx->after_group_error = false;
	if (follow_on)
		return 0;
	bool want_action = false, want_list = false;
	for (int i = 0; i < n; i++) {
		want_action |= expected[i] == YYSYMBOL_ALLOW;
		want_list |= expected[i] == YYSYMBOL_NUM || strcmp(yysymbol_name(expected[i]), "','") == 0;
	}
	if (got == YYSYMBOL_ID && want_action && loc.line == loc.end_line) {
		size_t len;
		const char *line = source_line(loc.src, loc.line, &len);
		size_t from = source_col_offset(line, len, loc.col);
		size_t to = source_col_offset(line, len, loc.end_col);
		char word[32];
		if (to > from && to - from < sizeof word) {
			memcpy(word, line + from, to - from);
			word[to - from] = '\0';
			if (report_action_word(ctx, loc, word))
				return 0;
		}
	}
	if (strcmp(yysymbol_name(got), "':'") == 0 && (want_list || n > 0) &&
	    loc_valid(ctx->before_last) && report_colon_range(ctx, loc))
		return 0;
	bool want_arrow = false, want_comma = false, want_brace = false;
	for (int i = 0; i < n; i++) {
		want_arrow |= expected[i] == YYSYMBOL_ARROW;
		want_comma |= strcmp(yysymbol_name(expected[i]), "','") == 0;
		want_brace |= strcmp(yysymbol_name(expected[i]), "'}'") == 0;
	}
	if (want_arrow && strcmp(yysymbol_name(got), "','") == 0) {
		parse_error_at(ctx, loc, "a rule has one source and one destination; for several, "
			       "write a group, as in '{ a, b } -> c'");
		return 0;
	}
	/* inside { ... } after an entry, another entry: the comma is missing
	 * (with "comma_opt" reduced by default, '}' may be all that is
	 * expected here) */
	if (want_brace && (want_comma || n == 1) && ctx->depth > 0 &&
	    (got == YYSYMBOL_ADDR || got == YYSYMBOL_ID) && loc_valid(ctx->before_last)) {
		parse_error_at(ctx, loc, "expected ',' before this entry: the entries of a group are "
			       "separated by commas");
		ctx->after_group_error = true;
		ctx->group_error_line = loc.line;
		return 0;
	}
	bool want_semi = false, want_net = false, want_close = false;
	for (int i = 0; i < n; i++) {
		const char *name = yysymbol_name(expected[i]);
		if (strcmp(name, "';'") == 0)
			want_semi = true;
		else if (strcmp(name, "'}'") == 0)
			want_close = true;
		else if (expected[i] == YYSYMBOL_ADDR)
			want_net = true;
	}
	/* A token on a new line, where the statement could have ended: the
	 * ';' is what is missing, and it is missing at the end of the line
	 * before, which is where GCC points too. */
	bool new_line = loc_valid(ctx->before_last) && ctx->before_last.end_line < loc.line;
	struct strbuf sb = { 0 };
	sb_init(&sb);
	struct loc at = loc;
	if (want_semi && (new_line || n > 4)) {
		sb_puts(&sb, "expected ';' before ");
		if (new_line) {
			at = ctx->before_last;
			at.line = at.end_line;
			at.col = at.end_col;
			at.end_col = at.col + 1;
		}
	} else if (want_net && n > 4) {
		sb_puts(&sb, "expected a network (an address, a name, any or { ... }) before ");
	} else if (n > 0 && n <= 4) {
		sb_puts(&sb, "expected ");
		for (int i = 0; i < n; i++) {
			if (i > 0)
				sb_puts(&sb, i == n - 1 ? " or " : ", ");
			append_token_name(&sb, expected[i]);
		}
		sb_puts(&sb, " before ");
	} else {
		sb_puts(&sb, "unexpected ");
	}
	if (got == YYSYMBOL_YYEOF) {
		sb_puts(&sb, "end of file");
	} else {
		size_t len;
		const char *line = source_line(loc.src, loc.line, &len);
		size_t from = source_col_offset(line, len, loc.col);
		size_t to = loc.end_line == loc.line ? source_col_offset(line, len, loc.end_col) : len;
		if (to - from > 40)
			sb_printf(&sb, "'%.40s...'", line + from);
		else
			sb_printf(&sb, "'%.*s'", (int)(to - from), line + from);
	}
	parse_error_at(ctx, at, "%s", sb.s);
	sb_free(&sb);
	if ((want_close || got == YYSYMBOL_YYEOF) && ctx->depth > 0) {
		struct loc b = ctx->braces[ctx->depth - 1];
		size_t blen;
		const char *bl = source_line(b.src, b.line, &blen);
		size_t off = source_col_offset(bl, blen, b.col);
		diag_note(ctx->diag, b, "to match this '%c'", off < blen ? bl[off] : '{');
	}
	return 0;
}

void parse_error_at(struct parse_ctx *ctx, struct loc loc, const char *fmt, ...)
{
	if (ctx->stop)
		return;
	va_list ap;
	va_start(ap, fmt);
	struct strbuf sb = { 0 };
	sb_init(&sb);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	diag_error(ctx->diag, loc, "%s", sb.s);
	sb_free(&sb);
	if (++ctx->nerrors >= PARSE_MAX_ERRORS) {
		diag_note(ctx->diag, loc, "too many errors in %s; stopping here", ctx->src->name);
		ctx->stop = true;
	}
}

int yylex_init_extra(struct parse_ctx *extra, yyscan_t *scanner);
int yylex_destroy(yyscan_t scanner);
void *yy_scan_bytes(const char *bytes, int len, yyscan_t scanner);

/* A scanner over ctx's source, at its first line and column. */
static yyscan_t scanner_start(struct parse_ctx *ctx)
{
	yyscan_t scanner;
	if (yylex_init_extra(ctx, &scanner) != 0)
		die("cannot start the scanner");
	ctx->line = 1;
	ctx->col = 1;
	if (ctx->src->len > (size_t)INT32_MAX - 2)
		die("%s: file too large", ctx->src->name);
	yy_scan_bytes(ctx->src->text, (int)ctx->src->len, scanner);
	return scanner;
}

static bool run(struct parse_ctx *ctx)
{
	yyscan_t scanner = scanner_start(ctx);
	int r = yyparse(scanner, ctx);
	yylex_destroy(scanner);
	return r == 0 && ctx->nerrors == 0;
}

size_t parse_tokens(struct arena *a, struct diag *d, struct source *src, int *tokens,
		    struct loc *locs, const char **texts, size_t max)
{
	struct parse_ctx ctx = { .arena = a, .diag = d, .src = src, .start_sent = true };
	yyscan_t scanner = scanner_start(&ctx);
	size_t n = 0;
	while (n < max) {
		YYSTYPE val = { 0 };
		YYLTYPE loc;
		int t = yylex(&val, &loc, scanner, &ctx);
		if (t == T_END)
			break;
		tokens[n] = t;
		locs[n] = loc;
		texts[n] = (t == T_ID || t == T_NUM || t == T_ADDR || t == T_STRING) ? val.tok.text : NULL;
		n++;
	}
	yylex_destroy(scanner);
	return n;
}

struct ast_file *parse_source(struct arena *a, struct diag *d, struct source *src)
{
	struct parse_ctx ctx = { .arena = a, .diag = d, .src = src, .start = PARSE_FILE };
	ctx.file = arena_alloc(a, sizeof *ctx.file);
	ctx.file->src = src;
	run(&ctx);
	return ctx.file;
}

struct node *parse_value(struct arena *a, struct diag *d, struct source *src, enum value_kind vk)
{
	static const enum parse_start starts[] = {
		[VK_NETWORK] = PARSE_NETWORK, [VK_HOST] = PARSE_NETWORK,
		[VK_PORTS] = PARSE_PORTS, [VK_SERVICE] = PARSE_SERVICE, [VK_QOS] = PARSE_QOS,
	};
	struct parse_ctx ctx = { .arena = a, .diag = d, .src = src, .start = starts[vk] };
	if (!run(&ctx))
		return NULL;
	return ctx.value;
}
