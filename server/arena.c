/* arena: see arena.h. */
#include "arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>

#define CHUNK_SIZE 65536

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
	size_t budget, spent;
	void *first;
	int exhausted;
};

#define ALIGN(n) (((n) + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1))
/* Room before the first block for arena_set_owner's pointer, keeping the block aligned. */
#define OWNER_SLOT ALIGN(sizeof(void *))

struct arena *arena_new(size_t budget)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a)
		a->budget = budget;
	return a;
}

void arena_free(struct arena *a)
{
	struct chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

static void *alloc(void *ctx, size_t size)
{
	struct arena *a = ctx;
	size_t need = size ? ALIGN(size) : sizeof(max_align_t);
	size_t slot = a->first ? 0 : OWNER_SLOT;
	struct chunk *c = a->head;
	void *p;

	if (size > a->budget || need > a->budget - a->spent) {
		a->exhausted = 1;
		return NULL;
	}
	if (!c || c->cap - c->used < slot + need) {
		size_t cap = slot + need > CHUNK_SIZE ? slot + need : CHUNK_SIZE;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	c->used += slot;
	p = (char *)c->data + c->used;
	c->used += need;
	a->spent += need;
	if (!a->first)
		a->first = p;
	return p;
}

static void free_one(void *ctx, void *p)
{
	(void)ctx;
	(void)p; /* everything goes at once in arena_free */
}

ProtobufCAllocator arena_allocator(struct arena *a)
{
	ProtobufCAllocator pa = { alloc, free_one, a };

	return pa;
}

int arena_exhausted(const struct arena *a)
{
	return a->exhausted;
}

void *arena_first(const struct arena *a)
{
	return a->first;
}

void arena_set_owner(struct arena *a, void *owner)
{
	if (a->first)
		((void **)((char *)a->first - OWNER_SLOT))[0] = owner;
}

void *arena_owner(const void *first)
{
	return ((void *const *)((const char *)first - OWNER_SLOT))[0];
}
