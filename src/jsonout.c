/* jsonout.c - JSON strings that never fail (see jsonout.h). */
#include "jsonout.h"

#include <stdio.h>
#include <string.h>

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
		size_t rest = n - i;
		size_t l = (unsigned char)s[i] < 0x80 ? 1 : utf8_seq_len(s + i, rest);
		if (l == 0) {
			sb_printf(&sb, "\\x%02x", (unsigned char)s[i]);
			i++;
		} else {
			for (size_t k = 0; k < l; k++)
				sb_putc(&sb, s[i + k]);
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
