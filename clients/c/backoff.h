/*
 * backoff: how long to wait before reconnecting (docs/sync.md, "Reconnect"): exponential
 * backoff with full jitter. Each wait is drawn uniformly in [0, bound); the bound starts at
 * BACKOFF_FIRST_MS, doubles after each draw up to BACKOFF_CAP_MS, and goes back to the start
 * after a success. Full jitter spreads the reconnections of many devices after a server
 * restart instead of having them all knock at the same instants.
 *
 * Pure: the random draw is the caller's (uniform(upper) returns a value in [0, upper)).
 */
#ifndef VEILLE_BACKOFF_H
#define VEILLE_BACKOFF_H

#include <stdint.h>

#define BACKOFF_FIRST_MS 500u
#define BACKOFF_CAP_MS 30000u

struct backoff {
	uint32_t bound_ms;
};

void backoff_reset(struct backoff *b);

/* The next wait, in [0, bound); then doubles the bound (capped). */
uint32_t backoff_next(struct backoff *b, uint32_t (*uniform)(uint32_t upper));

#endif
