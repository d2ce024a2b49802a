/* ipt_xlate.c - an iptables rule as the nft expressions that mean the same
 * (ipt_save.h), so that the lift (lift.h) reads it as it reads nft's own:
 * -s, -d, -p, -i, -o and the tcp, udp, multiport, icmp, icmp6, conntrack,
 * state, connmark, mark, hl, comment and set matches, with their negations;
 * the ACCEPT, DROP, RETURN, REJECT, LOG, DSCP, CONNMARK and MARK targets and
 * jumps and gotos to chains. What portc never writes becomes an expression
 * the lift leaves out, naming it. */
#include "ipt_save.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "jsonout.h"

/* ---- rules as nft expressions -------------------------------------------------------- */

static json_t *match(const char *op, json_t *left, json_t *right)
{
	return json_pack("{s:{s:s, s:o, s:o}}", "match", "op", op, "left", left, "right", right);
}

static json_t *payload(const char *proto, const char *field)
{
	return json_pack("{s:{s:s, s:s}}", "payload", "protocol", proto, "field", field);
}

/* What the model cannot hold: the lift leaves the rule out, saying so. */
static json_t *unknown_match(const char *what)
{
	return match("==", json_pack("{s:o}", "iptables", json_text(what)), json_integer(0));
}

bool ipt_number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (*end || errno || v > max)
		return false;
	*out = v;
	return true;
}

/* s's text before a '/' (all of it without one) into head; what follows
 * the '/' in *tail (NULL without one). False when head cannot hold it. */
static bool split_slash(const char *s, char *head, size_t cap, const char **tail)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= cap)
		return false;
	memcpy(head, s, n);
	head[n] = 0;
	*tail = slash ? slash + 1 : NULL;
	return true;
}

/* "a", "a/len": an address or prefix of family fam, as nft writes it. */
json_t *ipt_addr_json(const char *s, int fam)
{
	char host[64];
	const char *len_text;
	if (!split_slash(s, host, sizeof host, &len_text))
		return NULL;
	int f;
	u128 a;
	if (addr_parse_host(host, &f, &a) || f != (fam ? 6 : 4))
		return NULL;
	if (!len_text)
		return json_string(host);
	unsigned long len;
	if (!ipt_number(len_text, fam ? 128 : 32, &len) || !isdigit((unsigned char)len_text[0]))
		return NULL;
	return json_pack("{s:{s:s, s:I}}", "prefix", "addr", host, "len", (json_int_t)len);
}

/* "80", "1024:65535", ":99", "8000:" */
static json_t *port_json(const char *s)
{
	unsigned long lo, hi;
	const char *c = strchr(s, ':');
	if (!c)
		return ipt_number(s, 65535, &lo) ? json_integer((json_int_t)lo) : NULL;
	char a[16];
	size_t n = (size_t)(c - s);
	if (n >= sizeof a)
		return NULL;
	memcpy(a, s, n);
	a[n] = 0;
	if (n == 0)
		lo = 0;
	else if (!ipt_number(a, 65535, &lo))
		return NULL;
	if (!c[1])
		hi = 65535;
	else if (!ipt_number(c + 1, 65535, &hi))
		return NULL;
	return lo <= hi ? json_pack("{s:[I, I]}", "range", (json_int_t)lo, (json_int_t)hi) : NULL;
}

static json_t *port_list(const char *s)
{
	json_t *a = json_array();
	char *copy = xstrdup(s), *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		json_t *v = port_json(p);
		if (!v) {
			json_decref(a);
			a = NULL;
			break;
		}
		json_array_append_new(a, v);
	}
	free(copy);
	if (a && json_array_size(a))
		return json_pack("{s:o}", "set", a);
	json_decref(a);
	return NULL;
}

static int proto_number(const char *s)
{
	static const struct { const char *name; int n; } names[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 },
		{ "sctp", 132 }, { "udplite", 136 }, { "esp", 50 }, { "ah", 51 }, { "gre", 47 },
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].n;
	unsigned long v;
	if (ipt_number(s, 255, &v))
		return (int)v;
	struct protoent *p = getprotobyname(s);
	return p ? p->p_proto : -1;
}

static json_t *ct_states(const char *s)
{
	static const struct { const char *name; int bit; } names[] = {
		{ "INVALID", 1 }, { "ESTABLISHED", 2 }, { "RELATED", 4 }, { "NEW", 8 }, { "UNTRACKED", 64 },
	};
	json_t *a = json_array();
	char *copy = xstrdup(s), *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < ARRAY_LEN(names) && strcmp(p, names[i].name) != 0)
			i++;
		if (i == ARRAY_LEN(names)) {
			json_decref(a);
			a = NULL;
			break;
		}
		json_array_append_new(a, json_integer(names[i].bit));
	}
	free(copy);
	return a;
}

/* "V/M" or "V", 32-bit numbers (M all ones when not given). */
static bool value_mask(const char *s, unsigned long *v, unsigned long *m, bool *masked)
{
	char a[24];
	const char *mask;
	if (!split_slash(s, a, sizeof a, &mask))
		return false;
	*m = 0xffffffffu;
	*masked = mask != NULL;
	return ipt_number(a, 0xffffffffu, v) && (!mask || ipt_number(mask, 0xffffffffu, m));
}

/* "--mark V[/M]": (the mark & M) == V. */
static json_t *mark_match(const char *op, const char *key_kind, const char *s)
{
	unsigned long v, m;
	bool masked;
	if (!value_mask(s, &v, &m, &masked))
		return NULL;
	json_t *left = json_pack("{s:[{s:{s:s}}, I]}", "&", key_kind, "key", "mark", (json_int_t)m);
	return match(op, left, json_integer((json_int_t)v));
}

char *ipt_chain_display(int fam, const char *table, const char *chain)
{
	struct strbuf sb = { 0 };
	sb_init(&sb);
	sb_printf(&sb, "%s%s %s", ipt_tools[fam], strcmp(table, "filter") ? " -t mangle" : "", chain);
	return sb_detach(&sb);
}

/* Whether target is a chain of the rule's table (not a target module). */
static bool is_chain(const struct listing *L, const struct line *ln, const char *target)
{
	for (size_t i = 0; i < L->chains.n; i++) {
		const struct chain_decl *c = &L->chains.v[i];
		if (c->fam == ln->fam && strcmp(c->table, ln->table) == 0 && strcmp(c->name, target) == 0)
			return true;
	}
	return false;
}

/* A rule's words as nft expressions, with its comment. */
/* Where a rule's words are read: the module of the options that follow
 * (-m NAME), the protocol (-p), the comment found. */
struct scan {
	const struct xlate *x;
	const char *ip;		/* "ip", "ip6" */
	const char *module, *proto;
	const char *comment;
};

/* The options of -m tcp, udp, multiport, icmp, icmp6, conntrack, state,
 * connmark, mark, hl, comment and set: what w[*i] (and its values, which
 * it steps over) matches, NULL for nothing. */
static json_t *module_option(struct scan *sc, char **w, size_t n, size_t *i, const char *op)
{
	const char *t = w[*i], *v = *i + 1 < n ? w[*i + 1] : NULL, *mod = sc->module;
	json_t *m = NULL;
	if (!v)
		return unknown_match(t);
	(*i)++;
	if (!strcmp(t, "--comment") && !strcmp(mod, "comment")) {
		sc->comment = v;
	} else if ((!strcmp(t, "--sport") || !strcmp(t, "--dport")) && (!strcmp(mod, "tcp") || !strcmp(mod, "udp"))) {
		json_t *p = port_json(v);
		m = p ? match(op, payload(mod, t[2] == 's' ? "sport" : "dport"), p) : unknown_match(t);
	} else if ((!strcmp(t, "--sports") || !strcmp(t, "--dports")) && !strcmp(mod, "multiport") && sc->proto &&
		   (!strcmp(sc->proto, "tcp") || !strcmp(sc->proto, "udp"))) {
		json_t *p = port_list(v);
		m = p ? match(op, payload(sc->proto, t[2] == 's' ? "sport" : "dport"), p) : unknown_match(t);
	} else if ((!strcmp(t, "--icmp-type") && !strcmp(mod, "icmp")) ||
		   (!strcmp(t, "--icmpv6-type") && !strcmp(mod, "icmp6"))) {
		unsigned long ty;
		if (strcmp(v, "any") == 0)
			m = NULL;
		else if (ipt_number(v, 255, &ty) && isdigit((unsigned char)v[0]))
			m = match(op, payload(mod[4] ? "icmpv6" : "icmp", "type"), json_integer((json_int_t)ty));
		else
			m = unknown_match("an ICMP type with a code or a name");
	} else if ((!strcmp(t, "--ctstate") && !strcmp(mod, "conntrack")) || (!strcmp(t, "--state") && !strcmp(mod, "state"))) {
		json_t *st = ct_states(v);
		m = st ? match(op, json_pack("{s:{s:s}}", "ct", "key", "state"), st) : unknown_match(t);
	} else if (!strcmp(t, "--ctdir") && !strcmp(mod, "conntrack")) {
		bool orig = !strcmp(v, "ORIGINAL"), reply = !strcmp(v, "REPLY");
		m = orig || reply ? match(op, json_pack("{s:{s:s}}", "ct", "key", "direction"), json_integer(reply))
				  : unknown_match(t);
	} else if (!strcmp(t, "--mark") && (!strcmp(mod, "connmark") || !strcmp(mod, "mark"))) {
		m = mark_match(op, mod[0] == 'c' ? "ct" : "meta", v);
		if (!m)
			m = unknown_match(t);
	} else if ((!strcmp(t, "--hl-eq") || !strcmp(t, "--hl-lt") || !strcmp(t, "--hl-gt")) && !strcmp(mod, "hl") &&
		   sc->x->fam) {
		unsigned long h;
		/* "! --hl-lt" has no one operator */
		const char *hop = t[5] == 'e' ? op : op[0] == '!' ? "?" : t[5] == 'l' ? "<" : ">";
		m = ipt_number(v, 255, &h) ? match(hop, payload("ip6", "hoplimit"), json_integer((json_int_t)h))
					   : unknown_match(t);
	} else if (!strcmp(t, "--match-set") && !strcmp(mod, "set") && *i + 1 < n &&
		   (!strcmp(w[*i + 1], "src") || !strcmp(w[*i + 1], "dst"))) {
		struct strbuf sb = { 0 };
		sb_init(&sb);
		sb_printf(&sb, "@%s", v);
		m = match(op, payload(sc->ip, w[*i + 1][0] == 's' ? "saddr" : "daddr"), json_text(sb.s));
		sb_free(&sb);
		(*i)++;	/* the flags */
	} else {
		/* an option portc never writes: its words up to the next option */
		m = unknown_match(t);
		(*i)--;
		while (*i + 1 < n && w[*i + 1][0] != '-' && strcmp(w[*i + 1], "!") != 0)
			(*i)++;
	}
	return m;
}

/* -s, -d, -p, -i, -o, -m and what follows them; NULL for nothing. */
static json_t *option(struct scan *sc, char **w, size_t n, size_t *i, const char *op)
{
	static const char *const known[] = { "tcp",	"udp",	"multiport", "icmp",	"icmp6", "conntrack",
					     "state",	"connmark", "mark",	     "hl",	"comment", "set" };
	const char *t = w[*i], *v = *i + 1 < n ? w[*i + 1] : NULL;
	if (t[0] != '-' || (t[1] == '-' && !*sc->module) || (t[1] != '-' && !v))
		return unknown_match(t);
	if (t[1] == '-')
		return module_option(sc, w, n, i, op);
	(*i)++;
	if (!strcmp(t, "-s") || !strcmp(t, "-d")) {
		json_t *a = ipt_addr_json(v, sc->x->fam);
		return a ? match(op, payload(sc->ip, t[1] == 's' ? "saddr" : "daddr"), a) : unknown_match(t);
	}
	if (!strcmp(t, "-p")) {
		int p = proto_number(v);
		sc->proto = v;
		if (strcmp(v, "all") == 0 && op[0] == '=')
			return NULL;
		return p >= 0 ? match(op, json_pack("{s:{s:s}}", "meta", "key", "l4proto"), json_integer(p))
			      : unknown_match("-p");
	}
	if (!strcmp(t, "-i") || !strcmp(t, "-o"))
		return match(op, json_pack("{s:{s:s}}", "meta", "key", t[1] == 'i' ? "iifname" : "oifname"), json_text(v));
	if (!strcmp(t, "-m")) {
		sc->module = v;
		for (size_t j = 0; j < ARRAY_LEN(known); j++)
			if (strcmp(v, known[j]) == 0)
				return NULL;
		return unknown_match(v);
	}
	(*i)--;
	return unknown_match(t);
}

/* The target: a verdict, a statement, or a jump. */
static json_t *target_expr(const struct xlate *x, const struct line *ln, const char *target, bool go)
{
	const char *ip = x->fam ? "ip6" : "ip", *arg_set = NULL, *arg_dscp = NULL;
	char **w = ln->w.v;
	for (size_t i = 0; i + 1 < ln->w.n; i++) {
		if (!strcmp(w[i], "--set-xmark") || !strcmp(w[i], "--set-mark"))
			arg_set = w[i + 1];
		if (!strcmp(w[i], "--set-dscp"))
			arg_dscp = w[i + 1];
	}
	unsigned long v;
	if (!strcmp(target, "ACCEPT"))
		return json_pack("{s:n}", "accept");
	if (!strcmp(target, "DROP"))
		return json_pack("{s:n}", "drop");
	if (!strcmp(target, "RETURN"))
		return json_pack("{s:n}", "return");
	if (!strcmp(target, "REJECT"))
		return json_pack("{s:{}}", "reject");
	if (!strcmp(target, "LOG"))
		return json_pack("{s:{}}", "log");
	if (!strcmp(target, "DSCP") && arg_dscp && ipt_number(arg_dscp, 63, &v))
		return json_pack("{s:{s:o, s:I}}", "mangle", "key", payload(ip, "dscp"), "value", (json_int_t)v);
	if ((!strcmp(target, "CONNMARK") || !strcmp(target, "MARK")) && arg_set) {
		int pk = target[0] == 'M';
		unsigned long mv = 0, mm = 0;
		bool masked;
		bool ok = value_mask(arg_set, &mv, &mm, &masked) && masked;
		if (ok && mm == 0xff && mv < 256 && x->dscp_of[pk][mv] >= 0)
			return json_pack("{s:{s:o, s:I}}", "mangle", "key", payload(ip, "dscp"), "value",
					 (json_int_t)x->dscp_of[pk][mv]);
		/* a mark nothing of the policy's turns into DSCP */
		return json_pack("{s:{s:{s:{s:s}}, s:I}}", "mangle", "key", pk ? "meta" : "ct", "key", "mark", "value",
				 (json_int_t)mv);
	}
	if (!is_chain(x->L, ln, target))	/* a target portc does not write (NFQUEUE, TPROXY, ...) */
		return json_pack("{s:{s:o}}", "iptables-target", "name", json_text(target));
	char *d = ipt_chain_display(x->fam, x->table, target);
	json_t *j = json_pack("{s:{s:o}}", go ? "goto" : "jump", "target", json_text(d));
	free(d);
	return j;
}

json_t *ipt_rule_expr(const struct xlate *x, const struct line *ln, const char **comment)
{
	json_t *e = json_array();
	struct scan sc = { x, x->fam ? "ip6" : "ip", "", NULL, NULL };
	char **w = ln->w.v;
	size_t n = ln->w.n;
	bool neg = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(w[i], "!") == 0) {
			neg = true;
			continue;
		}
		if (!strcmp(w[i], "-j") || !strcmp(w[i], "-g"))
			break;	/* the target, below (option() steps over a comment's "-j") */
		json_t *m = option(&sc, w, n, &i, neg ? "!=" : "==");
		neg = false;
		if (m)
			json_array_append_new(e, m);
	}
	*comment = sc.comment;
	bool go = false;
	const char *target = ipt_target(ln, &go);
	if (target)
		json_array_append_new(e, target_expr(x, ln, target, go));
	return e;
}

/* The DSCP chain's marks: "-m connmark --mark 0x98/0xff ... -j DSCP --set-dscp 0x18". */
static void read_dscp(struct xlate *x)
{
	for (int k = 0; k < 2; k++)
		for (int m = 0; m < 256; m++)
			x->dscp_of[k][m] = -1;
	for (size_t i = 0; i < x->L->lines.n; i++) {
		const struct line *ln = &x->L->lines.v[i];
		if (ln->fam != x->fam || strcmp(ln->table, "mangle") != 0 || !ipt_ours(x->L, ln->chain))
			continue;
		int kind = -1;
		unsigned long mark = 256, mask = 0, d = 64;
		for (size_t j = 0; j + 1 < ln->w.n; j++) {
			const char *t = ln->w.v[j], *v = ln->w.v[j + 1];
			if (!strcmp(t, "-m") && (!strcmp(v, "connmark") || !strcmp(v, "mark")))
				kind = v[0] == 'm';
			bool masked;
			if (!strcmp(t, "--mark") && (!value_mask(v, &mark, &mask, &masked) || !masked || mark > 255))
				mark = 256;
			if (!strcmp(t, "--set-dscp") && !ipt_number(v, 63, &d))
				d = 64;
			if (!strcmp(t, "!"))
				kind = -2;	/* a negated mark is no map */
		}
		if (kind >= 0 && mark < 256 && mask == 0xff && d < 64 && x->dscp_of[kind][mark] < 0)
			x->dscp_of[kind][mark] = (int)d;
	}
}


void ipt_xlate_init(struct xlate *x, const struct listing *L, int fam)
{
	memset(x, 0, sizeof *x);
	x->L = L;
	x->fam = fam;
	x->table = "filter";
	read_dscp(x);
}

json_t *ipt_family_match(int fam)
{
	return match("==", json_pack("{s:{s:s}}", "meta", "key", "nfproto"), json_string(fam ? "ipv6" : "ipv4"));
}
