/* clock: wall time (what is stored and shown) and monotonic time (what measures delays). */
#ifndef VEILLE_CLOCK_H
#define VEILLE_CLOCK_H

#include <stdint.h>

uint64_t clock_now_ms(void);  /* Unix time in milliseconds */
uint64_t clock_mono_ms(void); /* monotonic milliseconds, for timeouts and rate windows */

#endif
