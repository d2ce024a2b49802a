/* addr.c - address parsing through libcidr, with the strictness a firewall
 * needs on top. */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libcidr.h>
#include <stdio.h>
#include <string.h>

/* The part after '/': a plain decimal length, at most max. */
static const char *check_len(const char *p, unsigned max, const char *too_long)
{
	if (!isdigit((unsigned char)*p))
		return "missing prefix length after '/'";
	if (p[0] == '0' && isdigit((unsigned char)p[1]))
		return "leading zero in prefix length";
	unsigned len = 0;
	while (isdigit((unsigned char)*p)) {
		len = len * 10 + (unsigned)(*p - '0');
		if (len > 999)
			break;
		p++;
	}
	if (*p)
		return "a prefix length is a number (netmasks are not accepted)";
	return len > max ? too_long : NULL;
}

/* Only dotted quads with plain decimal octets count as IPv4: libcidr (like
 * inet_aton) also takes "10.1" and octal "010.0.0.1", which nobody writing a
 * firewall policy means. */
static const char *check_v4_shape(const char *text)
{
	const char *p = text;
	for (int octet = 0; octet < 4; octet++) {
		if (octet > 0) {
			if (*p != '.')
				return "an IPv4 address has four dotted parts";
			p++;
		}
		if (!isdigit((unsigned char)*p))
			return "an IPv4 address has four dotted parts";
		const char *start = p;
		unsigned v = 0;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (unsigned)(*p - '0');
			if (v > 999)
				break;
			p++;
		}
		if (p - start > 1 && *start == '0')
			return "leading zero in an IPv4 address (some tools read it as octal)";
		if (v > 255)
			return "IPv4 address part out of range 0..255";
	}
	if (*p == '.')
		return "an IPv4 address has four dotted parts";
	if (*p == '/') {
		const char *why = check_len(p + 1, 32, "IPv4 prefix length out of range 0..32");
		if (why)
			return why;
	} else if (*p) {
		return "an IPv4 address has four dotted parts";
	}
	return NULL;
}

static const char *check_v6_len(const char *text)
{
	const char *slash = strchr(text, '/');
	return slash ? check_len(slash + 1, 128, "IPv6 prefix length out of range 0..128") : NULL;
}

static u128 bytes_to_u128(const uint8_t *bytes, int proto)
{
	u128 a = 0;
	/* libcidr keeps IPv4 in the last four of its sixteen bytes */
	for (int i = proto == CIDR_IPV4 ? 12 : 0; i < 16; i++)
		a = (a << 8) | bytes[i];
	return a;
}

const char *addr_parse(const char *text, struct prefix *out, bool *explicit_len)
{
	bool v6 = strchr(text, ':') != NULL;
	const char *why = v6 ? check_v6_len(text) : check_v4_shape(text);
	if (why)
		return why;
	size_t tlen = strlen(text);
	if (tlen > 64)
		return "not an IP address";
	/* libcidr 1.2.3 checks for a reverse-DNS suffix (".ip6.arpa",
	 * ".in-addr.arpa") by comparing the string's last bytes, and for a short
	 * string that comparison starts before the string. Give it readable
	 * padding that cannot match, so the check reads our bytes and fails. */
	char padded[16 + 65];
	memset(padded, ' ', 16);
	memcpy(padded + 16, text, tlen + 1);
	CIDR *c = cidr_from_str(padded + 16);
	if (!c)
		return v6 ? "not a valid IPv6 address" : "not a valid IPv4 address";
	int proto = cidr_get_proto(c);
	int len = cidr_get_pflen(c);
	CIDR *net = cidr_addr_network(c);
	if (!net || len < 0 || (proto != CIDR_IPV4 && proto != CIDR_IPV6)) {
		cidr_free(net);
		cidr_free(c);
		return "not an IP address";
	}
	out->family = proto == CIDR_IPV4 ? 4 : 6;
	out->len = len;
	out->addr = bytes_to_u128(c->addr, proto);
	out->net = bytes_to_u128(net->addr, proto);
	cidr_free(net);
	cidr_free(c);
	if (explicit_len)
		*explicit_len = strchr(text, '/') != NULL;
	return NULL;
}

bool prefix_has_host_bits(const struct prefix *p)
{
	return p->addr != p->net;
}

u128 prefix_last(const struct prefix *p)
{
	int host = family_bits(p->family) - p->len;
	if (host <= 0)
		return p->net;
	if (host >= 128)
		return U128_MAX;
	return p->net | (((u128)1 << host) - 1);
}

const char *addr_format(int family, u128 addr, char *buf, size_t size)
{
	if (family == 4) {
		struct in_addr in;
		in.s_addr = htonl((uint32_t)addr);
		inet_ntop(AF_INET, &in, buf, (socklen_t)size);
	} else {
		struct in6_addr in6;
		for (int i = 15; i >= 0; i--) {
			in6.s6_addr[i] = (uint8_t)(addr & 0xFF);
			addr >>= 8;
		}
		inet_ntop(AF_INET6, &in6, buf, (socklen_t)size);
	}
	return buf;
}

const char *prefix_format(int family, u128 addr, int len, bool bare_host, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	addr_format(family, addr, a, sizeof a);
	if (bare_host && len == family_bits(family))
		snprintf(buf, size, "%s", a);
	else
		snprintf(buf, size, "%s/%d", a, len);
	return buf;
}

bool addr_parse_host(const char *text, int *family, u128 *addr)
{
	struct prefix p;
	bool explicit_len;
	if (addr_parse(text, &p, &explicit_len) || explicit_len)
		return false;
	*family = p.family;
	*addr = p.addr;
	return true;
}
