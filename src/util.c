/* util.c - fatal errors, checked allocation, strings, file I/O. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Noreturn void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("portc: fatal: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

_Noreturn void bug_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "portc: internal error at %s:%d: ", file, line);
	vfprintf(stderr, fmt, ap);
	fputs("\nplease report this as a bug in portc\n", stderr);
	va_end(ap);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die("out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);
	memcpy(p, s, n);
	return p;
}

void sb_init(struct strbuf *sb)
{
	sb->cap = 64;
	sb->len = 0;
	sb->s = xmalloc(sb->cap);
	sb->s[0] = '\0';
}

void sb_put_uint(struct strbuf *sb, unsigned long long v)
{
	char t[24], *p = t + sizeof t;
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10));
	sb_putn(sb, p, (size_t)(t + sizeof t - p));
}

static int heavier_first(const void *pa, const void *pb)
{
	const struct weighted *a = pa, *b = pb;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

void sort_by_weight(struct weighted *v, size_t n)
{
	qsort(v, n, sizeof *v, heavier_first);
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->s[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

static void sb_reserve(struct strbuf *sb, size_t extra)
{
	if (!sb->s)
		sb_init(sb);
	if (sb->len + extra + 1 <= sb->cap)
		return;
	while (sb->len + extra + 1 > sb->cap)
		sb->cap *= 2;
	sb->s = xrealloc(sb->s, sb->cap);
}

void sb_putn(struct strbuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void sb_putc(struct strbuf *sb, char c)
{
	sb_putn(sb, &c, 1);
}

void sb_puts(struct strbuf *sb, const char *s)
{
	sb_putn(sb, s, strlen(s));
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	/* Formats into the free space first: only a text that does not fit
	 * is formatted twice. */
	if (!sb->s)
		sb_init(sb);
	va_list ap2;
	va_copy(ap2, ap);
	size_t room = sb->cap - sb->len;
	int n = vsnprintf(sb->s + sb->len, room, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		die("sb_printf: bad format");
	if ((size_t)n >= room) {
		sb_reserve(sb, (size_t)n);
		vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	}
	sb->len += (size_t)n;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *sb_detach(struct strbuf *sb)
{
	if (!sb->s)
		sb_init(sb);
	char *s = sb->s;
	sb->s = NULL;
	sb->len = sb->cap = 0;
	return s;
}

int read_file(const char *path, size_t max_size, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return e;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return EISDIR;
	}
	/* Read until EOF rather than trusting st_size: pipes and /proc files
	 * report 0, and a file may grow while we read it. */
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	size_t n = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max_size) {
				free(buf);
				close(fd);
				return EFBIG;
			}
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max_size) {
		free(buf);
		return EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

unsigned edit_distance(const char *a, const char *b, unsigned cap)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 64 || m > 64)
		return cap + 1;
	unsigned prev[65], cur[65];
	for (size_t j = 0; j <= m; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		cur[0] = (unsigned)i;
		unsigned best = cur[0];
		for (size_t j = 1; j <= m; j++) {
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned v = prev[j - 1] + cost;
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
		memcpy(prev, cur, (m + 1) * sizeof prev[0]);
	}
	return prev[m] > cap ? cap + 1 : prev[m];
}

size_t utf8_seq_len(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	size_t len;
	uint32_t cp;
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n, size_t *bad)
{
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			if (bad)
				*bad = i;
			return false;
		}
		i += l;
	}
	return true;
}

uint32_t utf8_decode(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	if (len <= 1)
		return s[0];
	uint32_t cp = s[0] & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3F);
	return cp;
}

/* What a reader cannot see but a terminal or browser acts on: bidi
 * controls (Trojan Source: text shown in another order than it is read),
 * zero-width and invisible characters, line and paragraph separators, C1
 * controls, and the tag characters that smuggle text past a reader. */
bool codepoint_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) ||		/* C1 controls, NEL among them */
	       cp == 0xAD ||				/* soft hyphen */
	       cp == 0x34F || cp == 0x61C || cp == 0x180E ||
	       (cp >= 0x200B && cp <= 0x200F) ||	/* zero-width, LRM, RLM */
	       (cp >= 0x2028 && cp <= 0x202E) ||	/* separators, embeddings, overrides */
	       (cp >= 0x2060 && cp <= 0x2064) ||	/* word joiner, invisible operators */
	       (cp >= 0x2066 && cp <= 0x2069) ||	/* isolates */
	       cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
	       (cp >= 0xE0000 && cp <= 0xE007F);	/* tags */
}

void sb_put_visible(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len(s + i, n - i);
		if (l == 0) {
			sb_putc(sb, '?');
			i++;
			continue;
		}
		uint32_t cp = utf8_decode(s + i, l);
		if (l > 1 && codepoint_hidden(cp))
			sb_printf(sb, "<U+%04X>", (unsigned)cp);
		else
			sb_putn(sb, s + i, l);
		i += l;
	}
}
