/* jsonout.h - strings for JSON and SARIF that always go out.
 *
 * jansson refuses a string that is not UTF-8 (json_string returns NULL,
 * and a json_pack with it fails whole), so a file name in another
 * encoding would silently drop the field, or the whole finding. Every
 * string of ours that can hold outside text goes through these. */
#ifndef PORTC_JSONOUT_H
#define PORTC_JSONOUT_H

#include <jansson.h>

#include "diag.h"

/* The string as JSON; a byte that is not part of valid UTF-8 is written as
 * the four characters \xNN (so "caf\xe9.pol" stays readable and distinct).
 * Never NULL. */
json_t *json_text(const char *s);

/* A path as a URI reference for SARIF's artifactLocation.uri (RFC 3986):
 * unreserved characters and '/' kept, every other byte percent-encoded
 * (a space as %20, a non-ASCII byte as %E9). */
json_t *json_uri(const char *path);

/* Diagnostics as JSON objects: a record's name ("error" or the -W name),
 * level, message, location ({file, line, column, end_line, end_column}
 * or null), notes, witness and suppression, as docs/cli.md gives them. */
const char *diag_level_text(enum diag_level l);
const char *diag_rule_name(const struct diag_record *r);
json_t *loc_json(struct loc l);
/* An IR rule as query and diff give it: {number, file, line, column, note,
 * ruleset (when it came from one)}. */
struct ir_rule;
json_t *rule_json(const struct ir_rule *r);
/* A SARIF location: file and region, with a message and an id when given
 * (msg NULL, id -1: neither). */
/* diff_json.c: one change of a diff, as portc diff --format=json writes it. */
struct diff_change;
json_t *diff_change_json(const struct diff_change *ch);
json_t *sarif_location(struct loc l, const char *msg, int id);
json_t *witness_json(const struct diag_record *r);
json_t *finding_json(const struct diag_record *r);

#endif
