/* pairing: see pairing.h. */
#include "pairing.h"

#include <sodium.h>
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford base32 */

void pairing_generate(char out[PAIRING_TEXT_BYTES])
{
	uint8_t r[PAIRING_CHARS];
	size_t o = 0;

	randombytes_buf(r, sizeof(r));
	for (size_t i = 0; i < PAIRING_CHARS; i++) {
		if (i == 4 || i == 8)
			out[o++] = '-';
		out[o++] = alphabet[r[i] & 31];
	}
	out[o] = '\0';
	sodium_memzero(r, sizeof(r));
}

int pairing_normalise(const char *in, char out[PAIRING_CHARS + 1])
{
	size_t n = 0;

	for (; *in; in++) {
		char c = *in;

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == 'I' || c == 'L')
			c = '1';
		else if (c == 'O')
			c = '0';
		if (!strchr(alphabet, c) || c == '\0' || n == PAIRING_CHARS)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == PAIRING_CHARS ? 0 : -1;
}
