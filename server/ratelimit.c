/* ratelimit: see ratelimit.h. */
#include "ratelimit.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096 /* power of two */
#define PROBE 8

struct entry {
	uint8_t key[16]; /* hash of the caller's key */
	uint64_t window_start, last_ms;
	unsigned failures;
	int used;
};

struct ratelimit {
	unsigned max_failures;
	uint64_t window_ms;
	uint8_t salt[crypto_shorthash_KEYBYTES];
	struct entry slots[SLOTS];
};

struct ratelimit *ratelimit_new(unsigned max_failures, uint64_t window_ms)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return NULL;
	rl->max_failures = max_failures ? max_failures : 1;
	rl->window_ms = window_ms;
	randombytes_buf(rl->salt, sizeof(rl->salt)); /* slot choice is not predictable */
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	free(rl);
}

/* The slot holding key, or (if create) a free or the oldest slot of its probe run. */
static struct entry *find(struct ratelimit *rl, const void *key, size_t klen, int create)
{
	uint8_t h[16];
	uint64_t idx;
	struct entry *oldest = NULL;

	crypto_generichash(h, sizeof(h), key, klen, rl->salt, sizeof(rl->salt));
	memcpy(&idx, h, sizeof(idx));
	for (int i = 0; i < PROBE; i++) {
		struct entry *e = &rl->slots[(idx + (uint64_t)i) & (SLOTS - 1)];

		if (e->used && memcmp(e->key, h, sizeof(h)) == 0)
			return e;
		if (!oldest || !e->used || (oldest->used && e->last_ms < oldest->last_ms))
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->key, h, sizeof(h));
	oldest->used = 1;
	return oldest;
}

uint64_t ratelimit_check(struct ratelimit *rl, const void *key, size_t klen, uint64_t now_ms)
{
	struct entry *e = find(rl, key, klen, 0);
	uint64_t end;

	if (!e || e->failures < rl->max_failures)
		return 0;
	end = e->window_start + rl->window_ms;
	return now_ms < end ? end - now_ms : 0;
}

void ratelimit_fail(struct ratelimit *rl, const void *key, size_t klen, uint64_t now_ms)
{
	struct entry *e = find(rl, key, klen, 1);

	if (e->failures == 0 || now_ms >= e->window_start + rl->window_ms) {
		e->window_start = now_ms;
		e->failures = 0;
	}
	e->failures++;
	e->last_ms = now_ms;
}

void ratelimit_reset(struct ratelimit *rl, const void *key, size_t klen)
{
	struct entry *e = find(rl, key, klen, 0);

	if (e)
		memset(e, 0, sizeof(*e));
}
