/* arena.h - one bump allocator per compilation.
 *
 * Every AST node, string, value and IR record of a compilation lives in one
 * arena and is released with it: a failed parse or check leaks nothing and
 * no phase has to free what another built.
 */
#ifndef PORTC_ARENA_H
#define PORTC_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a);

/* Zeroed, aligned for any object; aborts on out-of-memory (a compiler has
 * nothing sensible to do without memory). */
void *arena_alloc(struct arena *a, size_t size);
void *arena_calloc(struct arena *a, size_t n, size_t size);
/* Grows an object obtained from this arena, the added part zeroed: in place
 * when it is the newest object of its block and there is room, else as a
 * copy (the old object is left where it was). */
void *arena_realloc(struct arena *a, void *old, size_t old_size, size_t new_size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Bytes handed out so far (for --stats and memory benchmarks). */
size_t arena_used(const struct arena *a);

/* A growable array in an arena: ARR(int) xs = {0}; ARR_PUSH(a, xs, 3); */
#define ARR(T) struct { T *v; size_t n, cap; }
#define ARR_PUSH(arena, arr, item) do { \
	if ((arr).n == (arr).cap) { \
		size_t nc_ = (arr).cap ? (arr).cap * 2 : 8; \
		(arr).v = arena_realloc((arena), (arr).v, \
			(arr).cap * sizeof *(arr).v, nc_ * sizeof *(arr).v); \
		(arr).cap = nc_; \
	} \
	(arr).v[(arr).n++] = (item); \
} while (0)

#endif
