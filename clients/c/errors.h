/*
 * errors: the library's error strings, and the one way internal layers record what failed.
 *
 * Every layer fills the caller's struct veille_error (see veille.h) with errors_set() so that a
 * person reading veille_last_error() learns which file, url or reply was at fault, while the
 * return value stays a plain VEILLE_E* code for programs.
 */
#ifndef VEILLE_ERRORS_H
#define VEILLE_ERRORS_H

#include "veille.h"

/*
 * Resets e (code 0, no retry) and formats its message, truncated to fit. Returns err, so a
 * failure reads `return errors_set(e, VEILLE_EIO, "%s: %s", path, strerror(errno));`.
 * e may be NULL (then only err is returned).
 */
int errors_set(struct veille_error *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Resets e to "no error". e may be NULL. */
void errors_clear(struct veille_error *e);

#endif
