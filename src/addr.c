/* addr.c - address parsing through libcidr, with the strictness a firewall
 * needs on top. */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libcidr.h>
#include <stdio.h>
#include <stdlib.h>
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

/* RFC 4291 section 2.2, exactly: eight groups of 1-4 hex digits; one "::"
 * standing for one or more zero groups; an IPv4 dotted quad only as the
 * last 32 bits. libcidr is far more lenient (it takes nine groups and keeps
 * the last eight, several "::", a trailing lone ':'), and a run of two dozen
 * colons makes it write past its buffer, so it never sees text this has not
 * passed. */
static const char *check_v6_shape(const char *text)
{
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	int groups = 0;
	bool elided = false;
	size_t i = 0;
	if (n == 0)
		return "empty IPv6 address";
	if (text[0] == ':' && (n < 2 || text[1] != ':'))
		return "an IPv6 address cannot start with a single ':' (write '::' for leading zero groups)";
	if (text[n - 1] == ':' && (n < 2 || text[n - 2] != ':'))
		return "an IPv6 address cannot end with a single ':' (write '::' for trailing zero groups)";
	while (i < n) {
		if (text[i] == ':') {
			/* at a group boundary: a single ':' separates, '::' elides */
			if (i + 1 < n && text[i + 1] == ':') {
				if (i + 2 < n && text[i + 2] == ':')
					return "':::' in an IPv6 address (one '::' stands for any run of zero groups)";
				if (elided)
					return "more than one '::' in an IPv6 address (only one run of zero groups may be left out)";
				elided = true;
				i += 2;
				continue;
			}
			i++;
			if (i == n || text[i] == ':')
				return "empty group in an IPv6 address";
			continue;
		}
		size_t start = i;
		bool dotted = false;
		while (i < n && text[i] != ':') {
			char c = text[i];
			if (c == '.')
				dotted = true;
			else if (!isxdigit((unsigned char)c))
				return "invalid character in an IPv6 address (groups are hex digits 0-9 a-f)";
			i++;
		}
		if (dotted) {
			/* the embedded IPv4 tail: the last part, and a real dotted quad */
			if (i != n)
				return "an IPv4 part in an IPv6 address must be its last 32 bits";
			char quad[16];
			if (i - start >= sizeof quad)
				return "the IPv4 part of an IPv6 address is not a dotted quad";
			memcpy(quad, text + start, i - start);
			quad[i - start] = '\0';
			const char *why = check_v4_shape(quad);
			if (why || strchr(quad, '/'))
				return "the IPv4 part of an IPv6 address is not a valid dotted quad";
			groups += 2;
			continue;
		}
		if (i - start > 4)
			return "a group of an IPv6 address has more than 4 hex digits";
		groups++;
	}
	/* one compilation reports one address at a time, so one buffer will do */
	static _Thread_local char msg[128];
	if (groups > 8 || (elided && groups > 7)) {
		snprintf(msg, sizeof msg, "an IPv6 address has 8 groups of 16 bits, and this one has %d%s",
			 groups, elided ? " besides '::' (which stands for at least one zero group)" : "");
		return msg;
	}
	if (!elided && groups < 8) {
		snprintf(msg, sizeof msg, "an IPv6 address has 8 groups of 16 bits, and this one has "
			 "%d (write '::' where zero groups are left out)", groups);
		return msg;
	}
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
	const char *why = v6 ? check_v6_shape(text) : check_v4_shape(text);
	if (why)
		return why;
	/* The shape is right; inet_pton reads the address (the strict
	 * validator the RFC forms are defined by), and libcidr, which does the
	 * prefix arithmetic, is handed a canonical spelling of those bytes:
	 * dotted quad, or eight full groups, never the user's text. */
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	char host[INET6_ADDRSTRLEN + 1];
	if (alen >= sizeof host)
		return v6 ? "not a valid IPv6 address" : "not a valid IPv4 address";
	memcpy(host, text, alen);
	host[alen] = '\0';
	unsigned char bin[16];
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, bin) != 1)
		return v6 ? "not a valid IPv6 address" : "not a valid IPv4 address";
	unsigned plen = v6 ? 128 : 32;
	if (slash)
		plen = (unsigned)strtoul(slash + 1, NULL, 10);	/* checked above */
	/* libcidr 1.2.3 checks for a reverse-DNS suffix (".ip6.arpa",
	 * ".in-addr.arpa") by comparing the string's last bytes, and for a short
	 * string that comparison starts before the string. Give it readable
	 * padding that cannot match, so the check reads our bytes and fails. */
	char padded[16 + 64];
	memset(padded, ' ', 16);
	char *canon = padded + 16;
	if (v6)
		snprintf(canon, 64, "%x:%x:%x:%x:%x:%x:%x:%x/%u",
			 bin[0] << 8 | bin[1], bin[2] << 8 | bin[3], bin[4] << 8 | bin[5],
			 bin[6] << 8 | bin[7], bin[8] << 8 | bin[9], bin[10] << 8 | bin[11],
			 bin[12] << 8 | bin[13], bin[14] << 8 | bin[15], plen);
	else
		snprintf(canon, 64, "%u.%u.%u.%u/%u", bin[0], bin[1], bin[2], bin[3], plen);
	CIDR *c = cidr_from_str(canon);
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
	u128 from_pton = 0;
	for (int i = 0; i < (v6 ? 16 : 4); i++)
		from_pton = (from_pton << 8) | bin[i];
	if ((proto == CIDR_IPV6) != v6 || bytes_to_u128(c->addr, proto) != from_pton ||
	    (unsigned)len != plen)
		BUG("libcidr read '%s' differently from inet_pton", canon);
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

/* Decimal digits of v at p; the end. (By hand: the emitters format every
 * element of every set, and snprintf was a fifth of a compile.) */
static char *put_dec(char *p, unsigned v)
{
	char t[10];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = t[--n];
	return p;
}

/* text into buf as snprintf would: cut to size, always terminated */
static const char *copy_out(const char *text, size_t n, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	if (n >= size)
		n = size - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return buf;
}

const char *addr_format(int family, u128 addr, char *buf, size_t size)
{
	if (family == 4) {
		char t[16], *p = t;
		for (int i = 3; i >= 0; i--) {
			p = put_dec(p, (unsigned)(addr >> (8 * i)) & 0xFF);
			if (i)
				*p++ = '.';
		}
		return copy_out(t, (size_t)(p - t), buf, size);
	}
	struct in6_addr in6;
	for (int i = 15; i >= 0; i--) {
		in6.s6_addr[i] = (uint8_t)(addr & 0xFF);
		addr >>= 8;
	}
	if (!inet_ntop(AF_INET6, &in6, buf, (socklen_t)size) && size)
		buf[0] = '\0';
	return buf;
}

const char *prefix_format(int family, u128 addr, int len, bool bare_host, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN + 8];
	addr_format(family, addr, a, INET6_ADDRSTRLEN);
	size_t n = strlen(a);
	if (!bare_host || len != family_bits(family)) {
		a[n++] = '/';
		n = (size_t)(put_dec(a + n, (unsigned)len) - a);
	}
	return copy_out(a, n, buf, size);
}

const char *addr_parse_host(const char *text, int *family, u128 *addr)
{
	struct prefix p;
	bool explicit_len;
	const char *why = addr_parse(text, &p, &explicit_len);
	if (why)
		return why;
	if (explicit_len)
		return "a single address is wanted here, not a prefix";
	*family = p.family;
	*addr = p.addr;
	return NULL;
}
