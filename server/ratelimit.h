/* ratelimit: counts failed authentication and enrolment attempts per key (a device id or a
 * client address) in a fixed window, and blocks a key that reaches the maximum until its
 * window ends.
 *
 * The table has a fixed number of slots, so an attacker cycling through addresses or device
 * ids cannot grow memory: when a probe finds no free slot, the oldest entry in it is reused
 * (which can only forget failures of a key that has been quiet longest). */
#ifndef VEILLE_RATELIMIT_H
#define VEILLE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* max_failures per window_ms. NULL on out of memory. */
struct ratelimit *ratelimit_new(unsigned max_failures, uint64_t window_ms);
void ratelimit_free(struct ratelimit *rl);

/* 0 if key may try now; otherwise the milliseconds until it may. now_ms is monotonic. */
uint64_t ratelimit_check(struct ratelimit *rl, const void *key, size_t klen, uint64_t now_ms);

/* Records a failure of key. */
void ratelimit_fail(struct ratelimit *rl, const void *key, size_t klen, uint64_t now_ms);

/* Forgets key's failures (after a success). */
void ratelimit_reset(struct ratelimit *rl, const void *key, size_t klen);

#endif
