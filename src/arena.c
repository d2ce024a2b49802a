/* arena.c - bump allocation in chained blocks. */
#include "arena.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"

#define BLOCK_SIZE (64 * 1024)
#define ALIGN 16

/* Past MAP_AFTER bytes an arena takes its blocks straight from mmap, MAP_SIZE
 * at a time, 2 MiB aligned and advised as huge pages. A compilation of 10k
 * rules fills 60 MB; in 4 KiB pages that was 16,000 page faults and a
 * memset of each object, a fifth of the compile's time. Mapped memory is
 * zero already, so objects in it are not cleared again. Under ASan blocks
 * stay malloc's, so that its red zones still bound each block. */
#define MAP_AFTER (4u << 20)
#define MAP_SIZE (4u << 20)
#define HUGE_ALIGN (2u << 20)
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_MMAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_MMAP 0
#endif
#endif
#ifndef ARENA_MMAP
#define ARENA_MMAP 1
#endif

struct block {
	struct block *next;
	size_t used, size;
	size_t map_len;		/* the length of its own mapping, or 0 (malloc'd) */
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

static void free_block(struct block *b)
{
	if (b->map_len)
		munmap(b, b->map_len);
	else
		free(b);
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	struct block *b = a->head;
	while (b) {
		struct block *next = b->next;
		free_block(b);
		b = next;
	}
	free(a);
}

/* A zeroed block from its own mapping, or NULL where mmap is not used. */
static struct block *map_block(size_t size)
{
#if ARENA_MMAP
	size_t want = sizeof(struct block) + size;
	size_t len = (want + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN + HUGE_ALIGN;
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	/* Trim to a 2 MiB aligned start so that the kernel can back it with
	 * huge pages; the slack at either end goes back. */
	unsigned char *start = (unsigned char *)(((uintptr_t)m + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
	size_t keep = (want + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
	if (start > m)
		munmap(m, (size_t)(start - m));
	if (start + keep < m + len)
		munmap(start + keep, (size_t)(m + len - (start + keep)));
#ifdef MADV_HUGEPAGE
	madvise(start, keep, MADV_HUGEPAGE);
#endif
	struct block *b = (struct block *)start;
	b->next = NULL;
	b->used = 0;
	b->size = keep - sizeof(struct block);
	b->map_len = keep;
	return b;
#else
	(void)size;
	return NULL;
#endif
}

static struct block *new_block(struct arena *a, size_t size)
{
	if (a->total >= MAP_AFTER) {
		struct block *b = map_block(size < MAP_SIZE ? MAP_SIZE - sizeof(struct block) : size);
		if (b)
			return b;
	}
	struct block *b = malloc(sizeof *b + size);
	if (!b)
		die("out of memory");
	b->next = NULL;
	b->used = 0;
	b->size = size;
	b->map_len = 0;
	return b;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (size == 0)
		size = ALIGN;
	struct block *b = a->head;
	if (!b || b->size - b->used < size) {
		if (size > BLOCK_SIZE / 4 && !(b && b->map_len && size < b->size / 4)) {
			/* Large objects get a block of their own behind the current
			 * head, so the head's free space is not thrown away. */
			struct block *big = new_block(a, size);
			big->used = size;
			if (b) {
				big->next = b->next;
				b->next = big;
			} else {
				a->head = big;
			}
			a->total += size;
			if (!big->map_len)
				memset(big->data, 0, size);
			return big->data;
		}
		/* (an object of up to a quarter of a mapped block comes here too:
		 * should the next mapping fail, malloc's block must still hold it) */
		b = new_block(a, size > BLOCK_SIZE ? size : BLOCK_SIZE);
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += size;
	a->total += size;
	if (!b->map_len)
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
	/* The newest object of the head block grows where it is: arrays built
	 * by doubling would otherwise leave every smaller copy behind. */
	struct block *b = a->head;
	size_t o = (old_size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	size_t n = (new_size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (old && o && b && o <= b->used && (unsigned char *)old == b->data + b->used - o &&
	    n - o <= b->size - b->used) {
		if (!b->map_len)
			memset(b->data + b->used, 0, n - o);
		b->used += n - o;
		a->total += n - o;
		return old;
	}
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
