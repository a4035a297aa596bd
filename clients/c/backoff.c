/*
 * backoff: exponential backoff with full jitter (see backoff.h).
 */
#include "backoff.h"

void backoff_reset(struct backoff *b)
{
	b->bound_ms = BACKOFF_FIRST_MS;
}

uint32_t backoff_next(struct backoff *b, uint32_t (*uniform)(uint32_t upper))
{
	uint32_t bound = b->bound_ms;
	uint32_t wait;

	if (bound < BACKOFF_FIRST_MS || bound > BACKOFF_CAP_MS)
		bound = BACKOFF_FIRST_MS; /* never initialised, or damaged: start over */
	wait = uniform(bound);
	if (wait >= bound)
		wait = bound - 1;
	b->bound_ms = bound > BACKOFF_CAP_MS / 2 ? BACKOFF_CAP_MS : bound * 2;
	return wait;
}
