/* test_seal: the AEAD wrapper authenticates every byte of the blob and its associated data. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "seal.h"

static const uint8_t AD[] = "veille.store.v1records\0key-A";
static const uint8_t PT[] = "rencontre rue de Rivoli, besoin de duvet";

static void fresh_key(uint8_t key[SEAL_KEY_BYTES])
{
	randombytes_buf(key, SEAL_KEY_BYTES);
}

static void test_round_trip(void **state)
{
	uint8_t key[SEAL_KEY_BYTES], ct[sizeof(PT) + SEAL_OVERHEAD], out[sizeof(PT)];

	(void)state;
	fresh_key(key);
	assert_int_equal(seal_seal(key, AD, sizeof(AD), PT, sizeof(PT), ct), SEAL_OK);
	assert_int_equal(seal_open(key, AD, sizeof(AD), ct, sizeof(ct), out), SEAL_OK);
	assert_memory_equal(out, PT, sizeof(PT));
	/* The plaintext does not appear in the blob. */
	assert_null(memmem(ct, sizeof(ct), "Rivoli", 6));
}

static void test_empty_plaintext(void **state)
{
	uint8_t key[SEAL_KEY_BYTES], ct[SEAL_OVERHEAD], out[1];

	(void)state;
	fresh_key(key);
	assert_int_equal(seal_seal(key, AD, sizeof(AD), NULL, 0, ct), SEAL_OK);
	assert_int_equal(seal_open(key, AD, sizeof(AD), ct, sizeof(ct), out), SEAL_OK);
	/* Bad input: the empty blob's tag with one bit flipped. */
	ct[SEAL_OVERHEAD - 1] ^= 1;
	assert_int_equal(seal_open(key, AD, sizeof(AD), ct, sizeof(ct), out), SEAL_EFORGED);
}

static void test_tamper_every_byte_is_forged(void **state)
{
	uint8_t key[SEAL_KEY_BYTES], ct[sizeof(PT) + SEAL_OVERHEAD], out[sizeof(PT)];

	(void)state;
	fresh_key(key);
	seal_seal(key, AD, sizeof(AD), PT, sizeof(PT), ct);
	/* Bad input: the blob with byte i flipped, for every i (nonce, ciphertext and tag). */
	for (size_t i = 0; i < sizeof(ct); i++) {
		ct[i] ^= 0x01;
		assert_int_equal(seal_open(key, AD, sizeof(AD), ct, sizeof(ct), out), SEAL_EFORGED);
		ct[i] ^= 0x01;
	}
	assert_int_equal(seal_open(key, AD, sizeof(AD), ct, sizeof(ct), out), SEAL_OK);
}

static void test_wrong_key_is_forged(void **state)
{
	uint8_t key[SEAL_KEY_BYTES], other[SEAL_KEY_BYTES];
	uint8_t ct[sizeof(PT) + SEAL_OVERHEAD], out[sizeof(PT)];

	(void)state;
	fresh_key(key);
	memcpy(other, key, sizeof(other));
	other[0] ^= 0x80;
	seal_seal(key, AD, sizeof(AD), PT, sizeof(PT), ct);
	/* Bad input: a key differing from the sealing key in one bit. */
	assert_int_equal(seal_open(other, AD, sizeof(AD), ct, sizeof(ct), out), SEAL_EFORGED);
}

static void test_different_ad_is_forged(void **state)
{
	uint8_t key[SEAL_KEY_BYTES], ad[sizeof(AD)];
	uint8_t ct[sizeof(PT) + SEAL_OVERHEAD], ct_b[sizeof(PT) + SEAL_OVERHEAD];
	uint8_t out[sizeof(PT)];
	static const uint8_t AD_B[] = "veille.store.v1records\0key-B";

	(void)state;
	fresh_key(key);
	seal_seal(key, AD, sizeof(AD), PT, sizeof(PT), ct);
	/* Bad input: the AD with one byte changed, at each position. */
	memcpy(ad, AD, sizeof(ad));
	for (size_t i = 0; i < sizeof(ad); i++) {
		ad[i] ^= 0x20;
		assert_int_equal(seal_open(key, ad, sizeof(ad), ct, sizeof(ct), out), SEAL_EFORGED);
		ad[i] ^= 0x20;
	}
	/* Bad input: the AD one byte shorter (a prefix of the real one). */
	assert_int_equal(seal_open(key, AD, sizeof(AD) - 1, ct, sizeof(ct), out), SEAL_EFORGED);
	/* Bad input: two values sealed under the same key, opened with each other's AD (a
	 * value swapped between keys). */
	seal_seal(key, AD_B, sizeof(AD_B), PT, sizeof(PT), ct_b);
	assert_int_equal(seal_open(key, AD_B, sizeof(AD_B), ct, sizeof(ct), out), SEAL_EFORGED);
	assert_int_equal(seal_open(key, AD, sizeof(AD), ct_b, sizeof(ct_b), out), SEAL_EFORGED);
	/* Bad input: no AD at all. */
	assert_int_equal(seal_open(key, NULL, 0, ct, sizeof(ct), out), SEAL_EFORGED);
}

static void test_short_blob(void **state)
{
	uint8_t key[SEAL_KEY_BYTES], ct[SEAL_OVERHEAD + 4], out[4];

	(void)state;
	fresh_key(key);
	seal_seal(key, AD, sizeof(AD), PT, 4, ct);
	/* Bad input: blobs of 0 .. SEAL_OVERHEAD - 1 bytes, shorter than nonce + tag. */
	for (size_t n = 0; n < SEAL_OVERHEAD; n++)
		assert_int_equal(seal_open(key, AD, sizeof(AD), ct, n, out), SEAL_ESHORT);
	/* Bad input: the real blob cut by one byte: long enough, but the tag no longer matches. */
	assert_int_equal(seal_open(key, AD, sizeof(AD), ct, sizeof(ct) - 1, out), SEAL_EFORGED);
}

static void test_random_nonce(void **state)
{
	uint8_t key[SEAL_KEY_BYTES], a[sizeof(PT) + SEAL_OVERHEAD], b[sizeof(PT) + SEAL_OVERHEAD];

	(void)state;
	fresh_key(key);
	seal_seal(key, AD, sizeof(AD), PT, sizeof(PT), a);
	seal_seal(key, AD, sizeof(AD), PT, sizeof(PT), b);
	assert_memory_not_equal(a, b, SEAL_NONCE_BYTES);
	assert_memory_not_equal(a + SEAL_NONCE_BYTES, b + SEAL_NONCE_BYTES,
				sizeof(a) - SEAL_NONCE_BYTES);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(seal_strerror(SEAL_OK), "ok");
	assert_non_null(strstr(seal_strerror(SEAL_EFORGED), "authenticate"));
	assert_non_null(strstr(seal_strerror(SEAL_ESHORT), "truncated"));
	assert_string_equal(seal_strerror(99), "unknown seal error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_plaintext),
		cmocka_unit_test(test_tamper_every_byte_is_forged),
		cmocka_unit_test(test_wrong_key_is_forged),
		cmocka_unit_test(test_different_ad_is_forged),
		cmocka_unit_test(test_short_blob),
		cmocka_unit_test(test_random_nonce),
		cmocka_unit_test(test_strerror),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
