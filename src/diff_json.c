/* diff_json.c - one change of a diff (diff.h) as JSON, for portc diff and
 * portc verify: both sides' decisions and rules, the regions with their
 * intervals, and a witness packet. */
#include <jansson.h>

#include "addr.h"
#include "diff.h"
#include "jsonout.h"
#include "names.h"

static json_t *side_json(const struct ir_rule *r, struct decision d)
{
	json_t *o = json_object();
	json_object_set_new(o, "verdict", json_string(action_name(d.action)));
	json_object_set_new(o, "dscp", d.dscp >= 0 ? json_integer(d.dscp) : json_null());
	json_object_set_new(o, "log", json_boolean(d.log));
	json_object_set_new(o, "rule", r ? rule_json(r) : json_null());
	return o;
}

static json_t *packet_json(const struct packet *p)
{
	char a[64], b[64];
	addr_format(p->family, p->src, a, sizeof a);
	addr_format(p->family, p->dst, b, sizeof b);
	json_t *o = json_object();
	json_object_set_new(o, "family", json_integer(p->family));
	json_object_set_new(o, "protocol", json_integer(p->proto));
	json_object_set_new(o, "source", json_string(a));
	json_object_set_new(o, "destination", json_string(b));
	bool ports = ir_has_ports(p->proto), types = ir_has_types(p->proto);
	json_object_set_new(o, "sport", ports ? json_integer(p->sport) : json_null());
	json_object_set_new(o, "dport", ports ? json_integer(p->dport) : json_null());
	json_object_set_new(o, "icmp_type", types ? json_integer(p->type) : json_null());
	struct strbuf sb = { 0 };
	sb_init(&sb);
	packet_format(p, &sb);
	json_object_set_new(o, "text", json_string(sb.s));
	sb_free(&sb);
	return o;
}

/* [[lo, hi], ...]: addresses as text, the rest as numbers */
static json_t *set_json(int family, struct ivset s, bool addr)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s.n; i++) {
		if (addr) {
			char lo[64], hi[64];
			addr_format(family, s.v[i].lo, lo, sizeof lo);
			addr_format(family, s.v[i].hi, hi, sizeof hi);
			json_array_append_new(a, json_pack("[s, s]", lo, hi));
		} else {
			json_array_append_new(a, json_pack("[I, I]", (json_int_t)s.v[i].lo, (json_int_t)s.v[i].hi));
		}
	}
	return a;
}

/* A region: its text, and each dimension's intervals, so that a program
 * can test a packet against it (the fields a protocol lacks are [0, 0]). */
static json_t *prod_json(int family, const struct prod *p)
{
	struct strbuf sb = { 0 };
	sb_init(&sb);
	cls_put_prod(&sb, family, p);
	json_t *o = json_object();
	json_object_set_new(o, "text", json_string(sb.s));
	sb_free(&sb);
	json_object_set_new(o, "protocol", set_json(family, prod_dim(p, PS_PROTO), false));
	json_object_set_new(o, "source", set_json(family, prod_dim(p, PS_SRC), true));
	json_object_set_new(o, "sport", set_json(family, prod_dim(p, PS_SPORT), false));
	json_object_set_new(o, "destination", set_json(family, prod_dim(p, PS_DST), true));
	json_object_set_new(o, "dport", set_json(family, prod_dim(p, PS_DPORT), false));
	json_object_set_new(o, "icmp_type", set_json(family, prod_dim(p, PS_TYPE), false));
	return o;
}

json_t *diff_change_json(const struct diff_change *ch)
{
	json_t *c = json_object();
	json_object_set_new(c, "kind", json_string(diff_kind_name(ch->kind)));
	json_object_set_new(c, "family", json_integer(ch->family));
	json_object_set_new(c, "old", side_json(ch->old_rule, ch->old_dec));
	json_object_set_new(c, "new", side_json(ch->new_rule, ch->new_dec));
	json_t *regions = json_array();
	for (size_t k = 0; k < ch->n; k++)
		json_array_append_new(regions, prod_json(ch->family, &ch->p[k]));
	json_object_set_new(c, "regions", regions);
	json_object_set_new(c, "witness", packet_json(&ch->witness));
	return c;
}

