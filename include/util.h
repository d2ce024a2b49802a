/* util.h - small helpers every module uses: fatal errors, checked malloc,
 * growable strings, whole-file reads and atomic (temp + rename) writes. */
#ifndef PORTC_UTIL_H
#define PORTC_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* 128-bit unsigned: one type holds an IPv4 or an IPv6 address, so the set
 * algebra is written once for both families. */
typedef unsigned __int128 u128;

#define ARRAY_LEN(x) (sizeof(x) / sizeof((x)[0]))

_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An internal invariant broke: a bug in portc, never a user error. */
#define BUG(...) bug_at(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void bug_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* A growable, always NUL-terminated string on the heap. */
struct strbuf {
	char *s;
	size_t len, cap;
};
void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_put_uint(struct strbuf *sb, unsigned long long v);	/* decimal, without printf */

/* Items ranked by a weight: sort_by_weight puts the heaviest first, and
 * items of one weight in the order of their index. */
struct weighted {
	u128 weight;
	size_t index;
};
void sort_by_weight(struct weighted *v, size_t n);
void sb_reset(struct strbuf *sb);	/* empty again, keeping the memory */
void sb_putc(struct strbuf *sb, char c);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putn(struct strbuf *sb, const char *s, size_t n);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/* Hands the buffer to the caller (free() it) and resets sb. */
char *sb_detach(struct strbuf *sb);

/* Reads a whole regular file. Returns 0, or an errno value (EISDIR for a
 * directory, EFBIG past max_size). *out is NUL-terminated; *len excludes it. */
int read_file(const char *path, size_t max_size, char **out, size_t *len);

bool str_has_suffix(const char *s, const char *suffix);
/* Edit distance, capped: returns cap+1 once the distance exceeds cap. */
unsigned edit_distance(const char *a, const char *b, unsigned cap);

/* Checks UTF-8 (no overlongs, no surrogates, at most U+10FFFF). On failure
 * *bad is the offset of the first bad byte. */
bool utf8_valid(const char *s, size_t n, size_t *bad);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
size_t utf8_seq_len(const char *s, size_t n);
/* The code point of a valid sequence of len bytes (utf8_seq_len's). */
uint32_t utf8_decode(const char *s, size_t len);
/* Bidi controls, zero-width and other invisible characters, U+2028/2029,
 * C1 controls, tag characters: never written into a ruleset or document
 * as they are (docs/cli.md, "Text in outputs"). */
bool codepoint_hidden(uint32_t cp);
/* s with every hidden code point as "<U+202E>" and every byte that is not
 * UTF-8 as '?': what a reviewer sees is what the text holds. */
void sb_put_visible(struct strbuf *sb, const char *s);

#endif
