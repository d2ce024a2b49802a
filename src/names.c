/* names.c - lookups in the built-in name tables. */
#include "names.h"

#include <stddef.h>
#include <string.h>

#include "action.h"
#include "util.h"

struct name_value {
	const char *name;
	int value;
};

static const struct name_value dscp_tab[] = {
#define D(n, v) { n, v },
#include "dscp.def"
#undef D
};

static const struct name_value icmp4_tab[] = {
#define I4(n, v) { n, v },
#define I6(n, v)
#include "icmp.def"
#undef I4
#undef I6
};

static const struct name_value icmp6_tab[] = {
#define I4(n, v)
#define I6(n, v) { n, v },
#include "icmp.def"
#undef I4
#undef I6
};

static const struct name_value proto_tab[] = {
#define P(n, v) { n, v },
#include "protocols.def"
#undef P
};

static int lookup(const struct name_value *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

static const char *rlookup(const struct name_value *t, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == value)
			return t[i].name;
	return NULL;
}

static const char *suggest(const struct name_value *t, size_t n, const char *name)
{
	const char *best = NULL;
	unsigned best_d = 3;
	for (size_t i = 0; i < n; i++) {
		unsigned d = edit_distance(name, t[i].name, best_d);
		if (d < best_d) {
			best_d = d;
			best = t[i].name;
		}
	}
	return best;
}

int dscp_by_name(const char *name)
{
	return lookup(dscp_tab, ARRAY_LEN(dscp_tab), name);
}

const char *dscp_name(int value)
{
	/* "df" and "cs0" are both 0; cs0 comes first in the table and is
	 * what the vendor tables say. */
	return rlookup(dscp_tab, ARRAY_LEN(dscp_tab), value);
}

const char *dscp_suggest(const char *name)
{
	return suggest(dscp_tab, ARRAY_LEN(dscp_tab), name);
}

int icmp_type_by_name(int family, const char *name)
{
	return family == 6 ? lookup(icmp6_tab, ARRAY_LEN(icmp6_tab), name)
			   : lookup(icmp4_tab, ARRAY_LEN(icmp4_tab), name);
}

const char *icmp_type_name(int family, int type)
{
	return family == 6 ? rlookup(icmp6_tab, ARRAY_LEN(icmp6_tab), type)
			   : rlookup(icmp4_tab, ARRAY_LEN(icmp4_tab), type);
}

const char *icmp_type_suggest(int family, const char *name)
{
	return family == 6 ? suggest(icmp6_tab, ARRAY_LEN(icmp6_tab), name)
			   : suggest(icmp4_tab, ARRAY_LEN(icmp4_tab), name);
}

int proto_by_name(const char *name)
{
	return lookup(proto_tab, ARRAY_LEN(proto_tab), name);
}

const char *proto_name(int number)
{
	return rlookup(proto_tab, ARRAY_LEN(proto_tab), number);
}

const char *proto_suggest(const char *name)
{
	return suggest(proto_tab, ARRAY_LEN(proto_tab), name);
}

const char *action_name(enum action a)
{
	switch (a) {
	case ACT_ALLOW: return "allow";
	case ACT_DENY: return "deny";
	case ACT_REJECT: return "reject";
	}
	BUG("bad action %d", (int)a);
}

const char *expect_kind_name(enum expect_kind k)
{
	static const char *const names[] = { "rule", "allow", "deny", "reject", "none" };
	if ((unsigned)k >= ARRAY_LEN(names))
		BUG("bad expectation %d", (int)k);
	return names[k];
}
