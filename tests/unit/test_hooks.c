/* test_hooks.c - hooks: the --hook list, rule placement by a policy's
 * host, the default hooks, and the prologue query models. */
#include "helpers.h"
#include "hooks.h"

static void test_parse(void **state)
{
	(void)state;
	unsigned h = 0;
	assert_null(hooks_parse("input", &h));
	assert_int_equal(h, HOOK_BIT(HOOK_INPUT));
	assert_null(hooks_parse("forward,input", &h));
	assert_int_equal(h, HOOK_BIT(HOOK_INPUT) | HOOK_BIT(HOOK_FORWARD));
	assert_null(hooks_parse("input,output,forward", &h));
	assert_int_equal(h, HOOKS_ALL);
	assert_non_null(hooks_parse("", &h));
	assert_non_null(hooks_parse("input,", &h));
	assert_non_null(hooks_parse("input,input", &h));
	assert_non_null(hooks_parse("inputs", &h));
	assert_non_null(hooks_parse("INPUT", &h));
	assert_non_null(hooks_parse("in", &h));
	struct strbuf sb = { 0 };
	sb_init(&sb);
	hooks_text(HOOKS_ALL, &sb);
	assert_string_equal(sb.s, "input, output and forward");
	sb_free(&sb);
}

static const char *host_policy =
	"network lan = 198.18.0.0/24;\n"
	"network me = { 198.18.0.1, 2001:db8::1 };\n"
	"policy p {\n"
	"    default deny;\n"
	"    host me;\n"
	"    allow lan -> me tcp 22;\n"			/* 0: input (and output: lan holds me) */
	"    allow 198.18.9.0/24 -> me tcp 22;\n"		/* 1: input */
	"    allow me -> 198.18.5.0/24 udp 123;\n"		/* 2: output */
	"    allow 198.18.9.0/24 -> 198.18.5.0/24 tcp 443;\n"	/* 3: forward */
	"    allow any -> any tcp 80;\n"			/* 4: all */
	"    allow any6 -> 2001:db8:5::/48 udp 53;\n"	/* 5: output, forward */
	"}\n";

static void test_placement(void **state)
{
	(void)state;
	struct compiled *c = compile_text(host_policy, NULL, 0, true);
	assert_int_equal(c->rc, 0);
	const struct ir_policy *pol = &c->u.ir.policies[0];
	assert_true(pol->has_host);
	const unsigned in = HOOK_BIT(HOOK_INPUT), out = HOOK_BIT(HOOK_OUTPUT), fwd = HOOK_BIT(HOOK_FORWARD);
	assert_int_equal(pol->nrules, 6);
	assert_int_equal(ir_rule_hooks(pol, &pol->rules[0]), in | out);
	assert_int_equal(ir_rule_hooks(pol, &pol->rules[1]), in);
	assert_int_equal(ir_rule_hooks(pol, &pol->rules[2]), out);
	assert_int_equal(ir_rule_hooks(pol, &pol->rules[3]), fwd);
	assert_int_equal(ir_rule_hooks(pol, &pol->rules[4]), HOOKS_ALL);
	assert_int_equal(ir_rule_hooks(pol, &pol->rules[5]), out | fwd);
	assert_int_equal(ir_policy_default_hooks(pol), HOOKS_ALL);

	/* the hook a packet meets there */
	struct packet p = pkt("tcp", "198.18.9.9:40000", "198.18.0.1:22");
	assert_int_equal(packet_hook(pol, &p), HOOK_INPUT);
	p = pkt("tcp", "198.18.0.1:40000", "198.18.5.1:22");
	assert_int_equal(packet_hook(pol, &p), HOOK_OUTPUT);
	p = pkt("tcp", "198.18.9.9:40000", "198.18.5.1:22");
	assert_int_equal(packet_hook(pol, &p), HOOK_FORWARD);

	/* a rule not placed on a hook is not evaluated there */
	struct prologue_opts po = { .loopback = true, .ndp = true };
	p = pkt("tcp", "198.18.9.9:40000", "198.18.0.1:22");
	struct verdict v = eval_on_hook(pol, &po, HOOK_INPUT, &p);
	assert_int_equal(v.action, ACT_ALLOW);
	assert_int_equal(v.rule->index, 1);
	v = eval_on_hook(pol, &po, HOOK_FORWARD, &p);
	assert_int_equal(v.action, ACT_DENY);
	assert_null(v.rule);
	compiled_free(c);
}

static void test_without_host(void **state)
{
	(void)state;
	struct compiled *c = compile_text("policy p { allow 198.18.0.1 -> 198.18.0.2 tcp 22; }\n", NULL, 0, true);
	assert_int_equal(c->rc, 0);
	const struct ir_policy *pol = &c->u.ir.policies[0];
	assert_false(pol->has_host);
	assert_int_equal(ir_rule_hooks(pol, &pol->rules[0]), HOOKS_ALL);
	assert_int_equal(ir_policy_default_hooks(pol), HOOK_BIT(HOOK_INPUT));
	struct packet p = pkt("tcp", "198.18.0.1:1", "198.18.0.2:22");
	assert_int_equal(packet_hook(pol, &p), HOOK_INPUT);
	compiled_free(c);
}

static void test_prologue(void **state)
{
	(void)state;
	struct compiled *c = compile_text("policy p { default deny; allow any -> any icmpv6; }\n", NULL, 0, true);
	assert_int_equal(c->rc, 0);
	const struct ir_policy *pol = &c->u.ir.policies[0];
	struct prologue_opts po = { .loopback = true, .ndp = true };
	enum action a;

	struct packet p = pkt("tcp", "127.0.0.1:1", "127.0.0.1:2");
	assert_true(packet_on_loopback(pol, &p));
	p.loopback = true;
	assert_string_equal(prologue_decides(pol, &po, HOOK_INPUT, &p, &a), "loopback");
	assert_int_equal(a, ACT_ALLOW);
	assert_string_equal(prologue_decides(pol, &po, HOOK_OUTPUT, &p, &a), "loopback");
	assert_null(prologue_decides(pol, &po, HOOK_FORWARD, &p, &a));
	po.loopback = false;
	assert_null(prologue_decides(pol, &po, HOOK_INPUT, &p, &a));
	po.loopback = true;

	p = pkt("tcp", "198.18.0.1:1", "198.18.0.2:2");
	assert_false(packet_on_loopback(pol, &p));
	p = pkt("tcp", "198.18.0.1:1", "198.18.0.1:2");
	assert_true(packet_on_loopback(pol, &p));
	p = pkt("tcp", "[2001:db8::1]:1", "[::1]:2");
	assert_true(packet_on_loopback(pol, &p));

	p = pkt("tcp", "198.18.0.9:1", "198.18.0.2:2");
	p.state = STATE_ESTABLISHED;
	assert_string_equal(prologue_decides(pol, &po, HOOK_FORWARD, &p, &a), "established");
	p.state = STATE_INVALID;
	assert_string_equal(prologue_decides(pol, &po, HOOK_INPUT, &p, &a), "invalid");
	assert_int_equal(a, ACT_DENY);

	/* neighbour discovery: hop limit 255, on input and output only */
	p = pkt("icmpv6", "2001:db8::9", "2001:db8::1");
	p.type = 135;
	p.hoplimit = 255;
	assert_string_equal(prologue_decides(pol, &po, HOOK_INPUT, &p, &a), "neighbour-discovery");
	assert_null(prologue_decides(pol, &po, HOOK_FORWARD, &p, &a));
	p.hoplimit = 254;
	assert_null(prologue_decides(pol, &po, HOOK_INPUT, &p, &a));
	p.hoplimit = 255;
	p.type = 137;	/* redirect: not in the prologue */
	assert_null(prologue_decides(pol, &po, HOOK_INPUT, &p, &a));
	po.ndp = false;
	p.type = 136;
	assert_null(prologue_decides(pol, &po, HOOK_INPUT, &p, &a));
	compiled_free(c);

	/* stateless: conntrack decides nothing */
	c = compile_text("policy p { stateless; allow any -> any tcp; }\n", NULL, 0, true);
	pol = &c->u.ir.policies[0];
	p = pkt("tcp", "198.18.0.9:1", "198.18.0.2:2");
	p.state = STATE_INVALID;
	assert_null(prologue_decides(pol, &po, HOOK_INPUT, &p, &a));
	compiled_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_without_host),
		cmocka_unit_test(test_prologue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
