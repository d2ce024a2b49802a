/* addr.h - IP addresses and prefixes: parsing (through libcidr), the
 * host-bits check, and printing. */
#ifndef PORTC_ADDR_H
#define PORTC_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "ivset.h"
#include "util.h"

struct prefix {
	int family;	/* 4 or 6 */
	int len;	/* 0..32 or 0..128 */
	u128 addr;	/* as written (host bits may be set) */
	u128 net;	/* the network: addr with host bits cleared (libcidr) */
};

/* Parses "192.0.2.0/24", "192.0.2.1", "2001:db8::/32". Returns NULL on
 * success, or a sentence saying what is wrong. Forms libcidr would accept
 * but a firewall reader would misread are refused: short IPv4 ("10.1"),
 * leading zeros ("010.0.0.1", octal to some tools), netmasks after '/'. */
const char *addr_parse(const char *text, struct prefix *out, bool *explicit_len);

static inline int family_bits(int family) { return family == 6 ? 128 : 32; }
bool prefix_has_host_bits(const struct prefix *p);
/* Last address covered. */
u128 prefix_last(const struct prefix *p);

/* Writes an address ("192.0.2.1", "2001:db8::1") into buf (>= 46 bytes). */
const char *addr_format(int family, u128 addr, char *buf, size_t size);
/* Writes "192.0.2.0/24"; a full-length prefix is written as a plain address
 * only when bare_host is set. buf >= 50 bytes. */
const char *prefix_format(int family, u128 addr, int len, bool bare_host, char *buf, size_t size);

/* Parses a plain address for the command line (no prefix), as strictly as
 * addr_parse. Returns NULL, or what is wrong. */
const char *addr_parse_host(const char *text, int *family, u128 *addr);

#endif
