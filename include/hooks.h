/* hooks.h - where in a host's packet path a ruleset runs, and what it
 * decides there before the policy's rules (the prologue).
 *
 * A compiled ruleset has a base chain per hook: input (packets to the
 * host), output (packets from it), forward (packets routed through it).
 * A policy that names its host (`host ADDRS;`) has each rule placed only
 * on the hooks where it can match; one that does not has every rule on
 * every hook it is compiled for. The prologue is the same for both
 * backends and for `portc query`, which models it, so that query and the
 * kernel agree on every packet. */
#ifndef PORTC_HOOKS_H
#define PORTC_HOOKS_H

#include <stdbool.h>

#include "eval.h"
#include "ir.h"

enum hook { HOOK_INPUT, HOOK_OUTPUT, HOOK_FORWARD, HOOK__COUNT };

#define HOOK_BIT(h) (1u << (h))
#define HOOKS_ALL (HOOK_BIT(HOOK_INPUT) | HOOK_BIT(HOOK_OUTPUT) | HOOK_BIT(HOOK_FORWARD))

const char *hook_name(enum hook h);
/* "input,output": a non-empty comma list of hook names, each once.
 * Returns NULL and sets *hooks, or says what is wrong. */
const char *hooks_parse(const char *text, unsigned *hooks);
/* "input and output", for headers and messages */
void hooks_text(unsigned hooks, struct strbuf *sb);

/* The hooks where rule r can match a packet (HOOKS_ALL without a host):
 * input when its destination reaches the host, output when its source
 * does, forward when neither side lies wholly on the host. */
unsigned ir_rule_hooks(const struct ir_policy *p, const struct ir_rule *r);
/* The hooks a compile without --hook emits: input without a host; with
 * one, input and output, and forward when some rule can match there. */
unsigned ir_policy_default_hooks(const struct ir_policy *p);

/* What a compiled ruleset does before the rules. */
struct prologue_opts {
	bool loopback;			/* accept on lo (input, output) */
	bool ndp;			/* accept IPv6 neighbour discovery (input, output) */
};

/* The name of the prologue entry that decides packet p on hook h, or NULL
 * when the rules decide. Sets *action to its verdict. */
const char *prologue_decides(const struct ir_policy *pol, const struct prologue_opts *po,
			     enum hook h, const struct packet *p, enum action *action);

/* First match as the chain of hook h runs it: the prologue, then the
 * rules placed on h, then the default. */
struct verdict eval_on_hook(const struct ir_policy *pol, const struct prologue_opts *po, enum hook h,
			    const struct packet *p);
/* Whether p is on the loopback interface, when not told: its destination
 * is a loopback address, or its source is its destination. */
bool packet_on_loopback(const struct ir_policy *pol, const struct packet *p);
/* The hook p meets on the policy's host: input when it is to the host,
 * output when it is from it, forward when neither; input without a host. */
enum hook packet_hook(const struct ir_policy *pol, const struct packet *p);

struct diag;
/* Warns (-Wwrong-hook) about every rule that none of hooks can see. */
void warn_unplaced_rules(struct diag *d, const struct ir_policy *p, unsigned hooks);

#endif
