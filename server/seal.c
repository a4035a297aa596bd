/* seal: see seal.h. A thin, fixed choice over libsodium's AEAD so the rest of the code
 * cannot pick a weaker construction or forget the associated data. */
#include "seal.h"

#include <sodium.h>

int seal_seal(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *ad, size_t adlen,
	      const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	randombytes_buf(out, SEAL_NONCE_BYTES);
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
