/* test_checker.c - the checker's rules, one by one, on small policies. */
#include "helpers.h"
#include "names.h"

static void test_clean_policy(void **state)
{
	(void)state;
	struct compiled *c = compile_text(
		"network lan = 192.0.2.0/24;\n"
		"service web = tcp 80, 443;\n"
		"policy p { default deny; allow lan -> any service web; }\n", NULL, 0, false);
	assert_int_equal(c->rc, 0);
	assert_int_equal(c->d.nrecs, 0);
	assert_int_equal(c->u.ir.n, 1);
	assert_int_equal(c->u.ir.policies[0].nrules, 1);
	compiled_free(c);
}

static void test_duplicate_definition_has_note(void **state)
{
	(void)state;
	struct compiled *c = compile_text("network a = 192.0.2.0/24;\nports a = 80;\n", NULL, 0, false);
	assert_int_equal(c->rc, 1);
	const struct diag_record *r = find_diag(c, DIAG_ERROR, "redefinition of 'a'");
	assert_non_null(r);
	assert_int_equal(r->loc.line, 2);
	assert_int_equal(r->nnotes, 1);
	assert_int_equal(r->notes[0]->loc.line, 1);
	compiled_free(c);
}

static void test_wrong_kind(void **state)
{
	(void)state;
	struct compiled *c = compile_text(
		"service sip = udp 5060;\npolicy p { allow sip -> any; }\n", NULL, 0, false);
	assert_non_null(find_diag(c, DIAG_ERROR, "'sip' is a service, but a network is expected"));
	compiled_free(c);
}

static void test_did_you_mean(void **state)
{
	(void)state;
	struct compiled *c = compile_text(
		"network webex_calling = 23.89.0.0/16;\npolicy p { allow webex_caling -> any; }\n",
		NULL, 0, false);
	assert_non_null(find_diag(c, DIAG_ERROR, "did you mean 'webex_calling'?"));
	compiled_free(c);
	/* nothing close: no hint */
	c = compile_text("network a = 23.89.0.0/16;\npolicy p { allow zzzzzz -> any; }\n", NULL, 0, false);
	const struct diag_record *r = find_diag(c, DIAG_ERROR, "unknown network 'zzzzzz'");
	assert_non_null(r);
	assert_null(strstr(r->msg, "did you mean"));
	compiled_free(c);
}

static void test_port_ranges(void **state)
{
	(void)state;
	struct compiled *c = compile_text("ports a = 65536;\nports b = 10-9;\nports ok = 0, 65535;\n",
					  NULL, 0, false);
	assert_non_null(find_diag(c, DIAG_ERROR, "port 65536 out of range 0..65535"));
	assert_non_null(find_diag(c, DIAG_ERROR, "reversed range 10-9; write 9-10"));
	assert_int_equal(count_diags(c, DIAG_ERROR), 2);
	compiled_free(c);
}

static void test_icmp_has_no_ports(void **state)
{
	(void)state;
	struct compiled *c = compile_text("service s = icmp 8;\n", NULL, 0, false);
	assert_non_null(find_diag(c, DIAG_ERROR, "did you mean 'icmp type 8'?"));
	compiled_free(c);
}

static void test_host_bits_warning_with_fix(void **state)
{
	(void)state;
	struct compiled *c = compile_text("network a = 52.26.82.54/24;\n", NULL, 0, false);
	assert_int_equal(c->rc, 0);	/* a warning, not an error */
	const struct diag_record *r = find_diag(c, DIAG_WARNING, "host bits set");
	assert_non_null(r);
	assert_int_equal(r->warn, W_HOST_BITS);
	assert_string_equal(r->fixit, "52.26.82.0/24");
	compiled_free(c);
}

static void test_family_mismatch_is_an_error(void **state)
{
	(void)state;
	struct compiled *c = compile_text(
		"policy p { allow 192.0.2.0/24 -> 2001:db8::/32 tcp 80; }\n", NULL, 0, false);
	assert_int_equal(c->rc, 1);
	assert_non_null(find_diag(c, DIAG_ERROR, "can never match"));
	compiled_free(c);
	/* mixed groups are fine: the IPv4 halves meet */
	c = compile_text("policy p { allow { 192.0.2.0/24, 2001:db8::/32 } -> 198.51.100.0/24 tcp 80; }\n",
			 NULL, 0, false);
	assert_int_equal(c->rc, 0);
	compiled_free(c);
}

static void test_dscp_names_and_values(void **state)
{
	(void)state;
	struct compiled *c = compile_text("qos a = dscp af41;\nqos b = dscp 63;\nqos x = dscp 64;\n"
					  "qos y = dscp eff;\n", NULL, 0, false);
	assert_non_null(find_diag(c, DIAG_ERROR, "DSCP value 64 out of range 0..63"));
	assert_non_null(find_diag(c, DIAG_ERROR, "did you mean 'ef'?"));
	assert_int_equal(count_diags(c, DIAG_ERROR), 2);
	compiled_free(c);
}

static void test_dscp_table_is_the_rfcs(void **state)
{
	(void)state;
	static const struct { const char *name; int value; } rfc[] = {
		{ "cs0", 0 }, { "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 }, { "cs4", 32 },
		{ "cs5", 40 }, { "cs6", 48 }, { "cs7", 56 }, { "af11", 10 }, { "af12", 12 },
		{ "af13", 14 }, { "af21", 18 }, { "af22", 20 }, { "af23", 22 }, { "af31", 26 },
		{ "af32", 28 }, { "af33", 30 }, { "af41", 34 }, { "af42", 36 }, { "af43", 38 },
		{ "ef", 46 }, { "va", 44 }, { "le", 1 }, { "df", 0 },
	};
	for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++)
		assert_int_equal(dscp_by_name(rfc[i].name), rfc[i].value);
	assert_int_equal(dscp_by_name("EF"), -1);	/* names are lower case */
	assert_string_equal(dscp_name(0), "cs0");
}

static void test_define_types(void **state)
{
	(void)state;
	const char *good[] = { "site=198.18.0.0/16", "media=8500-8599,19560-65535", "mark=af41" };
	struct compiled *c = compile_text("param site: network;\nparam media: ports;\nparam mark: qos;\n"
					  "policy p { allow site -> any udp media qos mark; }\n",
					  good, 3, true);
	assert_int_equal(c->rc, 0);
	const struct ir_rule *r = &c->u.ir.policies[0].rules[0];
	assert_int_equal(r->dscp, 34);
	assert_int_equal(r->dport.n, 2);
	compiled_free(c);
	const char *bad[] = { "site=80" };
	c = compile_text("param site: network;\n", bad, 1, false);
	assert_non_null(find_diag(c, DIAG_ERROR, "'site' is declared as a network"));
	compiled_free(c);
	const char *unknown[] = { "sitee=192.0.2.1" };
	c = compile_text("param site: network;\n", unknown, 1, false);
	assert_non_null(find_diag(c, DIAG_ERROR, "did you mean 'site'?"));
	compiled_free(c);
}

static void test_unset_parameter(void **state)
{
	(void)state;
	const char *src = "param site: network;\npolicy p { allow site -> any tcp 80; }\n";
	struct compiled *c = compile_text(src, NULL, 0, false);
	assert_int_equal(c->rc, 0);	/* check: fine */
	compiled_free(c);
	c = compile_text(src, NULL, 0, true);	/* query, compile: needs a value */
	assert_non_null(find_diag(c, DIAG_ERROR, "parameter 'site' has no value"));
	compiled_free(c);
}

static void test_ruleset_recursion(void **state)
{
	(void)state;
	struct compiled *c = compile_text("ruleset a { use b; }\nruleset b { use a; }\n"
					  "policy p { use a; }\n", NULL, 0, false);
	assert_non_null(find_diag(c, DIAG_ERROR, "uses itself"));
	compiled_free(c);
}

static void test_definition_cycle(void **state)
{
	(void)state;
	struct compiled *c = compile_text("network a = { b };\nnetwork b = { a };\n", NULL, 0, false);
	assert_non_null(find_diag(c, DIAG_ERROR, "defined in terms of itself"));
	compiled_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_policy),
		cmocka_unit_test(test_duplicate_definition_has_note),
		cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_port_ranges),
		cmocka_unit_test(test_icmp_has_no_ports),
		cmocka_unit_test(test_host_bits_warning_with_fix),
		cmocka_unit_test(test_family_mismatch_is_an_error),
		cmocka_unit_test(test_dscp_names_and_values),
		cmocka_unit_test(test_dscp_table_is_the_rfcs),
		cmocka_unit_test(test_define_types),
		cmocka_unit_test(test_unset_parameter),
		cmocka_unit_test(test_ruleset_recursion),
		cmocka_unit_test(test_definition_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
