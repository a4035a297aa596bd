/* seal: see seal.h. A thin, fixed choice over libsodium's AEAD so the rest of the code
 * cannot pick a weaker construction or forget the associated data.
 *
 * Nonces come from a per-thread pool of random bytes refilled 4 KiB at a time: libsodium's
 * randombytes_buf is one getrandom() system call per call, which showed in the profile at one
 * call per sealed value. The pool is still the kernel's CSPRNG output, each byte used once;
 * a forked child empties its copy (pthread_atfork), so parent and child never share nonces. */
#include "seal.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define POOL_BYTES 4096

static _Thread_local uint8_t pool[POOL_BYTES];
static _Thread_local size_t pool_left;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_pool(void)
{
	pool_left = 0;
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_pool);
}

static void next_nonce(uint8_t nonce[SEAL_NONCE_BYTES])
{
	pthread_once(&atfork_once, register_atfork);
	if (pool_left < SEAL_NONCE_BYTES) {
		randombytes_buf(pool, sizeof(pool));
		pool_left = sizeof(pool);
	}
	memcpy(nonce, pool + sizeof(pool) - pool_left, SEAL_NONCE_BYTES);
	sodium_memzero(pool + sizeof(pool) - pool_left, SEAL_NONCE_BYTES);
	pool_left -= SEAL_NONCE_BYTES;
}

int seal_seal(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *ad, size_t adlen,
	      const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	next_nonce(out);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + SEAL_NONCE_BYTES, NULL, pt, ptlen, ad,
						   adlen, NULL, out, key);
	return SEAL_OK;
}

int seal_open(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *ad, size_t adlen,
	      const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	if (ctlen < SEAL_OVERHEAD)
		return SEAL_ESHORT;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, ct + SEAL_NONCE_BYTES,
						       ctlen - SEAL_NONCE_BYTES, ad, adlen, ct,
						       key) != 0)
		return SEAL_EFORGED;
	return SEAL_OK;
}

const char *seal_strerror(int err)
{
	switch (err) {
	case SEAL_OK: return "ok";
	case SEAL_ESHORT: return "sealed value truncated";
	case SEAL_EFORGED: return "sealed value does not authenticate (altered, moved or wrong key)";
	}
	return "unknown seal error";
}
