/* liftcheck.c - the lift of a table (lift.h) against the reference.
 *
 *   liftcheck LISTING.json HOOK < PACKETS
 *   liftcheck --iptables STEM SAVE4 SAVE6 SETS HOOK < PACKETS
 *
 * LISTING.json is `nft -j -n list table inet NAME` of a table portc
 * compiled and a kernel loaded; or, for the iptables backend, what
 * iptables-save, ip6tables-save and ipset save list after the bundle of
 * policy STEM was loaded (ipt_table.h); PACKETS are diffgen's lines for the same
 * policy and hook, each with the verdict and DSCP mark the reference
 * semantics give it (eval_on_hook: prologue and rules). Each packet is
 * decided by plain first match over the lifted chain of HOOK; every
 * difference is printed, and the exit status is 1 when there is one.
 *
 * The lift models the first packet of a new flow with hop limit 255 (what
 * neighbour discovery is sent with), so a neighbour discovery packet that
 * reaches the hook with another hop limit is left out, and counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "eval.h"
#include "hooks.h"
#include "ipt_table.h"
#include "lift.h"
#include "nft_table.h"

static char *slurp(const char *path)
{
	char *s;
	size_t len;
	if (read_file(path, 1u << 30, &s, &len) != 0) {
		fprintf(stderr, "liftcheck: cannot read %s\n", path);
		exit(2);
	}
	return s;
}

int main(int argc, char **argv)
{
	bool ipt = argc == 7 && strcmp(argv[1], "--iptables") == 0;
	if (argc != 3 && !ipt) {
		fprintf(stderr, "usage: liftcheck LISTING.json HOOK < PACKETS\n"
				"       liftcheck --iptables STEM SAVE4 SAVE6 SETS HOOK < PACKETS\n");
		return 2;
	}
	const char *stem = ipt ? argv[2] : NULL;
	if (ipt)
		argv[2] = argv[6];	/* the hook, where the nft form has it */
	unsigned hooks;
	if (hooks_parse(argv[2], &hooks) || __builtin_popcount(hooks) != 1) {
		fprintf(stderr, "liftcheck: '%s' is not one hook\n", argv[2]);
		return 2;
	}
	int hook = __builtin_ctz(hooks);
	char *json = NULL;
	struct nft_table t;
	char *why;
	if (ipt) {
		struct ipt_listing il = { { slurp(argv[3]), slurp(argv[4]) }, slurp(argv[5]) };
		bool present;
		bool ok = ipt_table_build(stem, &il, &t, &present, &why);
		ipt_listing_free(&il);
		if (!ok || !present) {
			fprintf(stderr, "liftcheck: the iptables listing: %s\n", ok ? "nothing of the policy's" : why);
			return 2;
		}
	} else {
		json = slurp(argv[1]);
		if (!nft_table_parse(json, &t, &why)) {
			fprintf(stderr, "liftcheck: %s: %s\n", argv[1], why);
			return 2;
		}
	}
	struct lift l;
	nft_lift(&t, "kernel", true, &l);
	if (l.failed || !(l.hooks & HOOK_BIT(hook))) {
		fprintf(stderr, "liftcheck: no lift of hook %s: %s\n", argv[2], l.failed ? l.failed : "no base chain");
		return 1;
	}
	for (size_t i = 0; i < l.nskipped; i++)
		fprintf(stderr, "liftcheck: left out: chain %s, handle %ld: %s (%s)\n", l.skipped[i].rule->chain,
			l.skipped[i].rule->handle, l.skipped[i].rule->text ? l.skipped[i].rule->text : "",
			l.skipped[i].why);
	char line[512];
	unsigned long n = 0, skipped = 0, wrong = 0;
	while (fgets(line, sizeof line, stdin)) {
		unsigned long id;
		int fam, proto, dscp;
		unsigned sport, dport, type, hl;
		char src[64], dst[64], verdict[16];
		if (sscanf(line, "%lu %d %d %63s %63s %u %u %u %15s %d %u", &id, &fam, &proto, src, dst, &sport,
			   &dport, &type, verdict, &dscp, &hl) != 11) {
			fprintf(stderr, "liftcheck: bad packet line: %s", line);
			return 2;
		}
		struct packet p = { .family = fam, .proto = proto, .sport = (uint16_t)sport,
				    .dport = (uint16_t)dport, .type = (uint8_t)type };
		int f1, f2;
		if (addr_parse_host(src, &f1, &p.src) || addr_parse_host(dst, &f2, &p.dst)) {
			fprintf(stderr, "liftcheck: bad address in: %s", line);
			return 2;
		}
		unsigned at_hook = hook == HOOK_FORWARD ? hl - 1 : hl;
		if (fam == 6 && proto == 58 && type >= 133 && type <= 136 && at_hook != 255) {
			skipped++;
			continue;
		}
		n++;
		struct verdict v = eval_packet(&l.pol[hook], &p);
		int got_dscp = v.action == ACT_ALLOW ? v.dscp : -1;
		if (strcmp(action_name(v.action), verdict) != 0 || got_dscp != dscp) {
			if (++wrong <= 10) {
				struct strbuf sb = { 0 };
				sb_init(&sb);
				packet_format(&p, &sb);
				printf("lift: packet %lu (%s): reference %s dscp %d, lift %s dscp %d (%s)\n", id, sb.s,
				       verdict, dscp, action_name(v.action), got_dscp,
				       v.rule && v.rule->note ? v.rule->note : "the chain's policy");
				sb_free(&sb);
			}
		}
	}
	printf("lift: %lu packets, %lu left out (neighbour discovery off hop limit 255), %lu differ\n", n,
	       skipped, wrong);
	lift_free(&l);
	nft_table_free(&t);
	free(json);
	return wrong ? 1 : 0;
}
