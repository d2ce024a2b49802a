/* jsonout.c - JSON strings that never fail (see jsonout.h). */
#include "jsonout.h"

#include <stdio.h>
#include <string.h>

#include "eval.h"
#include "ir.h"
#include "lint.h"
#include "util.h"

json_t *json_text(const char *s)
{
	if (!s)
		return json_null();
	size_t n = strlen(s), bad;
	if (utf8_valid(s, n, &bad))
		return json_stringn(s, n);
	struct strbuf sb = { 0 };
	sb_init(&sb);
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			sb_printf(&sb, "\\x%02x", (unsigned char)s[i]);
			i++;
		} else {
			sb_putn(&sb, s + i, l);
			i += l;
		}
	}
	json_t *j = json_stringn(sb.s, sb.len);
	sb_free(&sb);
	return j ? j : json_string("(unprintable)");
}

json_t *json_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb = { 0 };
	sb_init(&sb);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		unsigned char c = *p;
		bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
		if (keep) {
			sb_putc(&sb, (char)c);
		} else {
			sb_putc(&sb, '%');
			sb_putc(&sb, hex[c >> 4]);
			sb_putc(&sb, hex[c & 15]);
		}
	}
	json_t *j = json_stringn(sb.s, sb.len);
	sb_free(&sb);
	return j;
}

/* ---- diagnostics as JSON (lint --format=json, check --format=json) ------ */

const char *diag_level_text(enum diag_level l)
{
	return l == DIAG_ERROR ? "error" : l == DIAG_WARNING ? "warning" : "note";
}

json_t *loc_json(struct loc l)
{
	if (!loc_valid(l))
		return json_null();
	return json_pack("{s:o, s:i, s:i, s:i, s:i}", "file", json_text(l.src->name), "line", (json_int_t)l.line,
			 "column", (json_int_t)l.col, "end_line", (json_int_t)l.end_line,
			 "end_column", (json_int_t)l.end_col);
}

json_t *sarif_location(struct loc l, const char *msg, int id)
{
	json_t *region = json_pack("{s:i, s:i}", "startLine", (json_int_t)l.line,
				   "startColumn", (json_int_t)l.col);
	if (l.end_line >= l.line && l.end_col > 0) {
		json_object_set_new(region, "endLine", json_integer(l.end_line));
		json_object_set_new(region, "endColumn", json_integer(l.end_col));
	}
	json_t *o = json_pack("{s:{s:{s:o}, s:o}}", "physicalLocation", "artifactLocation", "uri",
			      json_uri(l.src->name), "region", region);
	if (msg)
		json_object_set_new(o, "message", json_pack("{s:o}", "text", json_text(msg)));
	if (id >= 0)
		json_object_set_new(o, "id", json_integer(id));
	return o;
}

json_t *rule_json(const struct ir_rule *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "number", json_integer(r->source + 1));
	json_object_set_new(o, "file", json_text(r->origin.src->name));
	json_object_set_new(o, "line", json_integer(r->origin.line));
	json_object_set_new(o, "column", json_integer(r->origin.col));
	json_object_set_new(o, "note", json_text(r->note));
	if (r->ruleset)
		json_object_set_new(o, "ruleset", json_text(r->ruleset));
	return o;
}

const char *diag_rule_name(const struct diag_record *r)
{
	return r->warn == W_NONE ? "error" : warn_table[r->warn].name;
}

json_t *witness_json(const struct diag_record *r)
{
	const struct witness *w = r->witness;
	struct strbuf sb = { 0 };
	sb_init(&sb);
	packet_format(&w->pkt, &sb);
	json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:b}", "packet", sb.s, "matches", loc_json(w->matches),
			      "also_matches", loc_json(w->other), "decided_by", loc_json(w->decided_by),
			      "same_without", w->same_without);
	sb_free(&sb);
	return o;
}

json_t *finding_json(const struct diag_record *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(diag_rule_name(r)));
	json_object_set_new(o, "level", json_string(diag_level_text(r->level)));
	json_object_set_new(o, "message", json_text(r->msg));
	json_object_set_new(o, "location", loc_json(r->loc));
	json_t *notes = json_array();
	for (size_t i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_pack("{s:o, s:o}", "message", json_text(r->notes[i]->msg),
						       "location", loc_json(r->notes[i]->loc)));
	json_object_set_new(o, "notes", notes);
	json_object_set_new(o, "witness", r->witness ? witness_json(r) : json_null());
	json_object_set_new(o, "fixit", json_text(r->fixit));
	json_object_set_new(o, "suppressed", r->suppressed ?
			    json_pack("{s:o}", "reason", json_text(r->suppressed)) : json_null());
	return o;
}

