/* arena: a protobuf-c allocator that hands out memory from a few large blocks and frees them
 * all at once, under a byte budget.
 *
 * Design: decoding a message with protobuf-c's default allocator costs one malloc and one free
 * per field (a pulled page of 1,000 records is tens of thousands); from an arena it is a
 * pointer bump, and the whole message goes with arena_free. The budget bounds what one decode
 * may take, since a message small on the wire can unpack into much more memory: past it an
 * allocation fails (protobuf-c then fails the unpack) and arena_exhausted says why. The
 * allocator's free is a no-op. Used by veilled's codec and libveille's wire, so it is its own
 * library (veille_arena). Not thread-safe: one arena per decode. */
#ifndef VEILLE_ARENA_H
#define VEILLE_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct arena;

/* A new, empty arena that will hand out at most budget bytes in all, or NULL (no memory). */
struct arena *arena_new(size_t budget);

/* Frees the arena and everything allocated from it. NULL is a no-op. */
void arena_free(struct arena *a);

/* A protobuf-c allocator drawing from a (its free does nothing). */
ProtobufCAllocator arena_allocator(struct arena *a);

/* Whether an allocation failed because the budget was spent (not for lack of memory). */
int arena_exhausted(const struct arena *a);

/* The first block the arena handed out, or NULL: protobuf-c allocates the top message first,
 * so after an unpack it is the message, and a caller can find its arena from it (see
 * arena_set_owner). */
void *arena_first(const struct arena *a);

/* Stores a pointer in the word just before the arena's first block, reserved for it: with
 * arena_owner, the message alone leads back to whatever owns it (the arena itself, say). */
void arena_set_owner(struct arena *a, void *owner);

/* The pointer arena_set_owner stored before first, a block that arena_first returned. */
void *arena_owner(const void *first);

#endif
