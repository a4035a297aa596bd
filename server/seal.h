/* seal: authenticated encryption of values at rest (XChaCha20-Poly1305, libsodium).
 *
 * A sealed blob is nonce (24 random bytes) || ciphertext || tag (16 bytes). The associated
 * data is built by the caller (the store binds database, key, key reference and version into
 * it), so a blob moved to another key or database, or edited by one bit, fails to open instead
 * of decrypting to something else. Random 24-byte nonces are safe for any number of values. */
#ifndef VEILLE_SEAL_H
#define VEILLE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_BYTES 32
#define SEAL_NONCE_BYTES 24
#define SEAL_TAG_BYTES 16
#define SEAL_OVERHEAD (SEAL_NONCE_BYTES + SEAL_TAG_BYTES)

enum seal_err {
	SEAL_OK = 0,
	SEAL_ESHORT = 1,  /* blob shorter than the overhead */
	SEAL_EFORGED = 2, /* tag does not verify: wrong key, wrong AD or altered bytes */
};

/* Seals ptlen bytes of pt into out, which must hold ptlen + SEAL_OVERHEAD bytes.
 * Returns SEAL_OK (it cannot fail with a valid key). */
int seal_seal(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *ad, size_t adlen,
	      const uint8_t *pt, size_t ptlen, uint8_t *out);

/* Opens a blob of ctlen bytes into out, which must hold ctlen - SEAL_OVERHEAD bytes.
 * Returns SEAL_OK, SEAL_ESHORT or SEAL_EFORGED; on error out holds nothing usable. */
int seal_open(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *ad, size_t adlen,
	      const uint8_t *ct, size_t ctlen, uint8_t *out);

const char *seal_strerror(int err);

#endif
