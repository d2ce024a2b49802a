/* portc/match.h - libportc: load a compiled portc table and classify packets.
 *
 * A table is what `portc compile -t table POLICY -o OUT.ptab` writes: one
 * policy's rules, first match wins, as a decision tree over the packet's
 * protocol, addresses, ports and ICMP type (docs/table-format.md). Loading
 * checks the table whole (version, bounds, checksum, the tree's shape): a
 * corrupt or hostile file gets an error, never a crash. Lookups then read
 * only: no allocation, no locks, any number of threads on one table.
 *
 *     struct portc_table *t;
 *     char err[128];
 *     if (portc_table_open("site.ptab", &t, err, sizeof err) != 0)
 *         die(err);
 *     struct portc_tuple k = { .family = 4, .proto = 17, .sport = 40000, .dport = 5060 };
 *     memcpy(k.src, "\xc0\x00\x02\x01", 4);   // 192.0.2.1, network order
 *     memcpy(k.dst, "\xc0\x00\x02\x02", 4);
 *     struct portc_result r;
 *     portc_classify(t, &k, &r);               // r.action, r.dscp, r.rule
 *     portc_table_free(t);
 */
#ifndef PORTC_MATCH_H
#define PORTC_MATCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct portc_table;

/* One packet's header fields. Addresses in network byte order: an IPv4
 * address in the first 4 bytes of src and dst. Ports are ignored for
 * protocols without ports, icmp_type for protocols other than ICMP and
 * ICMPv6, as the policy language defines. */
struct portc_tuple {
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* IP protocol number */
	uint8_t icmp_type;
	uint8_t reserved;
	uint16_t sport, dport;	/* host byte order */
	uint8_t src[16];
	uint8_t dst[16];
};

enum portc_action { PORTC_ALLOW = 0, PORTC_DENY = 1, PORTC_REJECT = 2 };

#define PORTC_DEFAULT_RULE UINT32_MAX

struct portc_result {
	uint32_t rule;		/* the rule's index in the table, or PORTC_DEFAULT_RULE */
	uint32_t line;		/* the line of its text, maybe in an imported file
				 * (the table holds no file names); 0 for the default */
	uint8_t action;		/* enum portc_action */
	int8_t dscp;		/* the DSCP mark of an allow, or -1 */
	uint16_t reserved;
};

/* Loads a table from a file or from memory (the bytes are copied; buf may
 * be freed after). On error returns -1, *out is NULL and err holds why. */
int portc_table_open(const char *path, struct portc_table **out, char *err, size_t errlen);
int portc_table_load(const void *buf, size_t len, struct portc_table **out, char *err,
		     size_t errlen);
void portc_table_free(struct portc_table *t);

/* Number of rules, and the default action. */
uint32_t portc_table_rules(const struct portc_table *t);
/* The number portc gives the rule (portc doc's "#", log prefixes, --dump=ir,
 * query): its position among the policy's rules as written, rulesets
 * expanded, from 1. A rule of the table (result.rule) is one protocol and
 * direction of it, so several may share a number. 0 for the default or an
 * index past the table. */
uint32_t portc_rule_number(const struct portc_table *t, uint32_t rule);
enum portc_action portc_table_default(const struct portc_table *t);
/* Bytes a loaded table holds: the file's, and the loader's copies of the
 * IPv4 trees and boxes laid out for lookups. */
size_t portc_table_memory(const struct portc_table *t);

/* Classifies one packet; returns 0, or -1 for a tuple of no family. */
int portc_classify(const struct portc_table *t, const struct portc_tuple *k,
		   struct portc_result *r);
/* Classifies n packets; a tuple of no family gets the default. */
void portc_classify_batch(const struct portc_table *t, const struct portc_tuple *k, size_t n,
			  struct portc_result *r);

#ifdef __cplusplus
}
#endif

#endif
