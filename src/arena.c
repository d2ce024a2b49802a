/* arena.c - bump allocation in chained blocks. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define BLOCK_SIZE (64 * 1024)
#define ALIGN 16

struct block {
	struct block *next;
	size_t used, size;
	_Alignas(ALIGN) unsigned char data[];
};

struct arena {
	struct block *head;
	size_t total;
};

struct arena *arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	struct block *b = a->head;
	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
	free(a);
}

static struct block *new_block(size_t size)
{
	struct block *b = malloc(sizeof *b + size);
	if (!b)
		die("out of memory");
	b->next = NULL;
	b->used = 0;
	b->size = size;
	return b;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (size == 0)
		size = ALIGN;
	struct block *b = a->head;
	if (!b || b->size - b->used < size) {
		if (size > BLOCK_SIZE / 4) {
			/* Large objects get a block of their own behind the current
			 * head, so the head's free space is not thrown away. */
			struct block *big = new_block(size);
			big->used = size;
			if (b) {
				big->next = b->next;
				b->next = big;
			} else {
				a->head = big;
			}
			a->total += size;
			memset(big->data, 0, size);
			return big->data;
		}
		b = new_block(BLOCK_SIZE);
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	a->total += size;
	memset(p, 0, size);
	return p;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		die("out of memory");
	return arena_alloc(a, n * size);
}

void *arena_realloc(struct arena *a, void *old, size_t old_size, size_t new_size)
{
	if (new_size <= old_size)
		return old;
	void *p = arena_alloc(a, new_size);
	if (old && old_size)
		memcpy(p, old, old_size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("arena_printf: bad format");
	char *p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_used(const struct arena *a)
{
	return a->total;
}
