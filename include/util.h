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

/* Output that appears under its name only when complete: written to a
 * temporary file in the same directory and renamed over the target on
 * commit. A failed compile never leaves a partial file. path "-" or NULL
 * means stdout. */
struct outfile {
	FILE *fp;
	char *path;	/* final name, NULL for stdout */
	char *tmp;	/* temporary name while open */
};
int outfile_open(struct outfile *of, const char *path);
int outfile_commit(struct outfile *of);	/* 0 or errno */
void outfile_abort(struct outfile *of);

/* Writes a whole buffer atomically (temp + rename). 0 or errno. */
int write_file_atomic(const char *path, const char *data, size_t len);

bool str_has_suffix(const char *s, const char *suffix);
/* Edit distance, capped: returns cap+1 once the distance exceeds cap. */
unsigned edit_distance(const char *a, const char *b, unsigned cap);

/* Checks UTF-8 (no overlongs, no surrogates, at most U+10FFFF). On failure
 * *bad is the offset of the first bad byte. */
bool utf8_valid(const char *s, size_t n, size_t *bad);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
size_t utf8_seq_len(const char *s, size_t n);

#endif
