/* test_eval.c - the reference evaluator: first match, edges of ranges
 * and prefixes, families, ICMP types, the default. */
#include "helpers.h"
#include "addr.h"
#include "eval.h"

static const char *policy_text =
	"network corp = 10.0.0.0/8 except 10.99.0.0/16;\n"
	"network v6 = 2001:db8::/32;\n"
	"policy p {\n"
	"    default reject;\n"
	"    deny corp -> any tcp 23;\n"						/* line 5 */
	"    allow { corp, v6 } -> any tcp 8000-8099 sport 1024-65535 dscp ef \"media\";\n"
	"    allow any -> any icmp type echo-request, icmpv6 type echo-request;\n"
	"    allow 192.0.2.10 <-> 192.0.2.11 tcp 5222;\n"
	"    allow any -> any tcp;\n"					/* line 9 */
	"}\n";

static void test_first_match_and_edges(void **state)
{
	(void)state;
	struct compiled *c = compile_text(policy_text, NULL, 0, true);
	assert_int_equal(c->rc, 0);
	const struct ir_policy *pol = &c->u.ir.policies[0];
	struct packet p;
	struct verdict v;

	p = pkt("tcp", "10.1.1.1:40000", "192.0.2.1:23");
	v = eval_packet(pol, &p);
	assert_int_equal(v.action, ACT_DENY);
	assert_int_equal(v.rule->origin.line, 5);

	/* range edges: 8000 and 8099 in, 7999 and 8100 out (to the catch-all) */
	p = pkt("tcp", "10.1.1.1:1024", "192.0.2.1:8000");
	v = eval_packet(pol, &p);
	assert_int_equal(v.rule->origin.line, 6);
	assert_int_equal(v.dscp, 46);
	assert_string_equal(v.rule->note, "media");
	p.dport = 8099;
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 6);
	p.dport = 8100;
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 9);
	p.dport = 7999;
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 9);
	/* source port edge */
	p.dport = 8000;
	p.sport = 1023;
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 9);

	/* prefix edges of the exclusion */
	p = pkt("tcp", "10.98.255.255:2000", "192.0.2.1:8050");
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 6);
	p = pkt("tcp", "10.99.0.0:2000", "192.0.2.1:8050");
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 9);
	p = pkt("tcp", "10.100.0.0:2000", "192.0.2.1:8050");
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 6);

	/* IPv6 */
	p = pkt("tcp", "[2001:db8::1]:2000", "[2001:db8::2]:8001");
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 6);
	p = pkt("udp", "[2001:db8::1]:2000", "[2001:db8::2]:8001");
	v = eval_packet(pol, &p);
	assert_null(v.rule);
	assert_int_equal(v.action, ACT_REJECT);
	assert_int_equal(v.dscp, -1);
	compiled_free(c);
}

static void test_icmp_types_and_both_ways(void **state)
{
	(void)state;
	struct compiled *c = compile_text(policy_text, NULL, 0, true);
	const struct ir_policy *pol = &c->u.ir.policies[0];
	struct packet p = pkt("icmp", "192.0.2.1", "192.0.2.2");
	p.type = 8;
	assert_int_equal(eval_packet(pol, &p).action, ACT_ALLOW);
	p.type = 0;
	assert_int_equal(eval_packet(pol, &p).action, ACT_REJECT);
	p = pkt("icmpv6", "2001:db8::1", "2001:db8::2");
	p.type = 128;
	assert_int_equal(eval_packet(pol, &p).action, ACT_ALLOW);
	p.type = 8;	/* type 8 is not echo-request in ICMPv6 */
	assert_int_equal(eval_packet(pol, &p).action, ACT_REJECT);

	/* <-> works both ways, with the destination port kept */
	p = pkt("tcp", "192.0.2.11:40000", "192.0.2.10:5222");
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 8);
	p = pkt("tcp", "192.0.2.10:40000", "192.0.2.11:5222");
	assert_int_equal(eval_packet(pol, &p).rule->origin.line, 8);
	compiled_free(c);
}

static void test_endpoint_syntax(void **state)
{
	(void)state;
	int f, port;
	u128 a;
	assert_null(packet_parse_endpoint("[2001:db8::1]:443", &f, &a, &port));
	assert_int_equal(f, 6);
	assert_int_equal(port, 443);
	assert_null(packet_parse_endpoint("2001:db8::1", &f, &a, &port));
	assert_int_equal(port, -1);
	assert_null(packet_parse_endpoint("192.0.2.1:0", &f, &a, &port));
	assert_int_equal(port, 0);
	assert_non_null(packet_parse_endpoint("192.0.2.1:65536", &f, &a, &port));
	assert_non_null(packet_parse_endpoint("[2001:db8::1", &f, &a, &port));
	assert_non_null(packet_parse_endpoint("example.com:80", &f, &a, &port));
	assert_int_equal(packet_parse_proto("udp"), 17);
	assert_int_equal(packet_parse_proto("47"), 47);
	assert_int_equal(packet_parse_proto("256"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_match_and_edges),
		cmocka_unit_test(test_icmp_types_and_both_ways),
		cmocka_unit_test(test_endpoint_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
