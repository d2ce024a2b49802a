/* suppress.c - inline suppressions for lint findings.
 *
 *   # portc: allow(correlated, qos-conflict) the vendor requires both
 *
 * on the line of a rule or definition, or on the comment lines right above
 * it, silences those findings there; above a 'use', it silences them in
 * the rules that ruleset brings in. The reason is required: it is what
 * the JSON and SARIF outputs carry, and what a reviewer reads. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"

struct allow {
	const struct comment *c;
	char names[16][40];
	size_t nnames;
	const char *reason;
	bool ok;
};

/* Parses one comment; false when it is not a suppression at all. */
static bool parse(struct unit *u, const struct comment *c, struct allow *a)
{
	const char *p = c->text + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "portc:", 6) != 0)
		return false;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	memset(a, 0, sizeof *a);
	a->c = c;
	if (strncmp(p, "allow(", 6) != 0) {
		diag_warn(u->diag, W_BAD_SUPPRESSION, c->loc, "a portc comment must read "
			  "'# portc: allow(NAME, ...) reason'");
		return true;
	}
	p += 6;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')' || !*p)
			break;
		const char *start = p;
		while (*p && *p != ',' && *p != ')' && *p != ' ')
			p++;
		size_t n = (size_t)(p - start);
		if (a->nnames < 16 && n < sizeof a->names[0]) {
			memcpy(a->names[a->nnames], start, n);
			a->names[a->nnames][n] = '\0';
			if (warn_lookup(a->names[a->nnames]) == W_NONE) {
				diag_warn(u->diag, W_BAD_SUPPRESSION, c->loc, "no diagnostic is named '%s' "
					  "(see docs/lint.md)", a->names[a->nnames]);
				return true;
			}
			a->nnames++;
		}
	}
	if (*p != ')' || a->nnames == 0) {
		diag_warn(u->diag, W_BAD_SUPPRESSION, c->loc, "a suppression names the diagnostics "
			  "it allows: '# portc: allow(NAME, ...) reason'");
		return true;
	}
	p++;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p) {
		diag_warn(u->diag, W_BAD_SUPPRESSION, c->loc, "a suppression needs a reason after "
			  "allow(...): say why the finding is accepted");
		return true;
	}
	a->reason = p;
	a->ok = true;
	return true;
}

static bool line_is_comment(const struct source *s, uint32_t line)
{
	size_t len;
	const char *t = source_line(s, line, &len);
	size_t i = 0;
	while (i < len && (t[i] == ' ' || t[i] == '\t'))
		i++;
	return i < len && t[i] == '#';
}

/* The suppression for a finding named w at loc, if one applies. */
static const struct allow *find(const struct allow *v, size_t n, int w, struct loc loc)
{
	for (size_t i = 0; i < n; i++) {
		const struct allow *a = &v[i];
		if (!a->ok || a->c->loc.src != loc.src)
			continue;
		uint32_t line = a->c->loc.line;
		bool here = line == loc.line;
		if (!here && line < loc.line) {
			/* above it, with only comment lines between */
			here = true;
			for (uint32_t l = line + 1; l < loc.line; l++)
				if (!line_is_comment(loc.src, l))
					here = false;
		}
		if (!here)
			continue;
		for (size_t k = 0; k < a->nnames; k++)
			if (warn_lookup(a->names[k]) == w)
				return a;
	}
	return NULL;
}

void lint_suppress(struct unit *u)
{
	struct allow *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t f = 0; f < u->nfiles; f++) {
		const struct source *s = u->files[f]->src;
		for (size_t i = 0; i < s->ncomments; i++) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				v = xrealloc(v, cap * sizeof *v);
			}
			if (parse(u, &s->comments[i], &v[n]))
				n++;
		}
	}
	struct diag *d = u->diag;
	for (size_t i = 0; i < d->nrecs; i++) {
		struct diag_record *r = d->recs[i];
		if (r->warn == W_NONE || r->suppressed || !loc_valid(r->loc))
			continue;
		/* on the rule, or on the 'use' that brought a ruleset's rule in */
		const struct allow *a = find(v, n, r->warn, r->loc);
		for (size_t k = 0; !a && k < r->nnotes; k++)
			if (strncmp(r->notes[k]->msg, "in ruleset '", 12) == 0)
				a = find(v, n, r->warn, r->notes[k]->loc);
		if (!a)
			continue;
		r->suppressed = xstrdup(a->reason);
		/* a suppressed finding no longer counts */
		if (r->level == DIAG_ERROR)
			d->errors--;
		else if (r->level == DIAG_WARNING)
			d->warnings--;
	}
	free(v);
}
