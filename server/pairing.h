/* pairing: one-time pairing codes that let a professional's new device enrol.
 *
 * A code is 60 random bits written as 12 Crockford base32 characters, XXXX-XXXX-XXXX: short
 * enough to type on a phone with gloves, long enough that online guessing (rate-limited per
 * address) is hopeless within its lifetime. Only a keyed hash of the normalised code is stored. */
#ifndef VEILLE_PAIRING_H
#define VEILLE_PAIRING_H

#include <stddef.h>

#define PAIRING_CHARS 12
#define PAIRING_TEXT_BYTES (PAIRING_CHARS + 2 + 1) /* with two dashes and NUL */

/* Writes a fresh random code, formatted with dashes, into out. */
void pairing_generate(char out[PAIRING_TEXT_BYTES]);

/* Normalises a typed code: drops dashes and spaces, upper-cases, reads I/L as 1 and O as 0.
 * Returns 0 and writes PAIRING_CHARS + NUL into out, or -1 if it is not a well-formed code. */
int pairing_normalise(const char *in, char out[PAIRING_CHARS + 1]);

#endif
