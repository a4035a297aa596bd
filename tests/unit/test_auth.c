/* test_auth: the pure signature checks of enrolment and challenge-response authentication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "auth.h"

#define CTX_AUTH_LEN (sizeof(AUTH_CONTEXT) - 1)
#define CTX_ENROL_LEN (sizeof(ENROL_CONTEXT) - 1)

struct keys {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t pk2[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk2[crypto_sign_SECRETKEYBYTES];
	uint8_t nonce[32], server_id[16], device_id[16];
};

static int setup(void **state)
{
	static struct keys k;

	crypto_sign_keypair(k.pk, k.sk);
	crypto_sign_keypair(k.pk2, k.sk2);
	randombytes_buf(k.nonce, sizeof(k.nonce));
	randombytes_buf(k.server_id, sizeof(k.server_id));
	randombytes_buf(k.device_id, sizeof(k.device_id));
	*state = &k;
	return 0;
}

/* The device's proof, computed independently of auth.c from docs/protocol.md:
 * Ed25519(AUTH_CONTEXT || nonce || server_id || device_id). */
static void sign_proof(const uint8_t *sk, const uint8_t nonce[32], const uint8_t server_id[16],
		       const uint8_t device_id[16], uint8_t sig[64])
{
	uint8_t m[CTX_AUTH_LEN + 64];

	memcpy(m, AUTH_CONTEXT, CTX_AUTH_LEN);
	memcpy(m + CTX_AUTH_LEN, nonce, 32);
	memcpy(m + CTX_AUTH_LEN + 32, server_id, 16);
	memcpy(m + CTX_AUTH_LEN + 48, device_id, 16);
	crypto_sign_detached(sig, NULL, m, sizeof(m), sk);
}

/* Ed25519(ENROL_CONTEXT || public_key || normalised code). */
static void sign_enrol(const uint8_t *sk, const uint8_t pk[32], const char *code, uint8_t sig[64])
{
	uint8_t m[CTX_ENROL_LEN + 32 + 64];
	size_t n = strlen(code);

	memcpy(m, ENROL_CONTEXT, CTX_ENROL_LEN);
	memcpy(m + CTX_ENROL_LEN, pk, 32);
	memcpy(m + CTX_ENROL_LEN + 32, code, n);
	crypto_sign_detached(sig, NULL, m, CTX_ENROL_LEN + 32 + n, sk);
}

static void test_proof_valid(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64];

	sign_proof(k->sk, k->nonce, k->server_id, k->device_id, sig);
	assert_int_equal(auth_proof_verify(k->pk, k->nonce, k->server_id, k->device_id, sig), 0);
}

static void test_proof_other_nonce_rejected(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64], nonce[32];

	memcpy(nonce, k->nonce, 32);
	nonce[31] ^= 1;
	/* Bad input: a signature over another nonce (a replayed proof). */
	sign_proof(k->sk, nonce, k->server_id, k->device_id, sig);
	assert_int_equal(auth_proof_verify(k->pk, k->nonce, k->server_id, k->device_id, sig), -1);
}

static void test_proof_other_server_rejected(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64], server[16];

	memcpy(server, k->server_id, 16);
	server[0] ^= 1;
	/* Bad input: a signature made for another server (relayed challenge). */
	sign_proof(k->sk, k->nonce, server, k->device_id, sig);
	assert_int_equal(auth_proof_verify(k->pk, k->nonce, k->server_id, k->device_id, sig), -1);
}

static void test_proof_other_device_rejected(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64], device[16];

	memcpy(device, k->device_id, 16);
	device[15] ^= 0x80;
	/* Bad input: a signature naming another device id. */
	sign_proof(k->sk, k->nonce, k->server_id, device, sig);
	assert_int_equal(auth_proof_verify(k->pk, k->nonce, k->server_id, k->device_id, sig), -1);
}

static void test_proof_other_key_rejected(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64];

	/* Bad input: the right message signed by another device's key. */
	sign_proof(k->sk2, k->nonce, k->server_id, k->device_id, sig);
	assert_int_equal(auth_proof_verify(k->pk, k->nonce, k->server_id, k->device_id, sig), -1);
	assert_int_equal(auth_proof_verify(k->pk2, k->nonce, k->server_id, k->device_id, sig), 0);
}

static void test_proof_flipped_bit_rejected(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64];

	sign_proof(k->sk, k->nonce, k->server_id, k->device_id, sig);
	/* Bad input: the valid signature with one bit flipped, at every bit position. */
	for (size_t bit = 0; bit < 64 * 8; bit++) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(
			auth_proof_verify(k->pk, k->nonce, k->server_id, k->device_id, sig), -1);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* Bad input: an all-zero signature. */
	memset(sig, 0, sizeof(sig));
	assert_int_equal(auth_proof_verify(k->pk, k->nonce, k->server_id, k->device_id, sig), -1);
}

static void test_proof_without_context_rejected(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64], m[64];

	/* Bad input: a signature over nonce || server_id || device_id without the context
	 * (domain separation: a signature made for something else must not pass). */
	memcpy(m, k->nonce, 32);
	memcpy(m + 32, k->server_id, 16);
	memcpy(m + 48, k->device_id, 16);
	crypto_sign_detached(sig, NULL, m, sizeof(m), k->sk);
	assert_int_equal(auth_proof_verify(k->pk, k->nonce, k->server_id, k->device_id, sig), -1);
}

static void test_enrol_valid(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64];

	sign_enrol(k->sk, k->pk, "ABCD1234WXYZ", sig);
	assert_int_equal(auth_enrol_verify(k->pk, "ABCD1234WXYZ", sig), 0);
}

static void test_enrol_other_code_rejected(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64];

	sign_enrol(k->sk, k->pk, "ABCD1234WXYZ", sig);
	/* Bad input: a signature over one code presented with another. */
	assert_int_equal(auth_enrol_verify(k->pk, "ABCD1234WXY0", sig), -1);
	/* Bad input: the same code, not normalised (with dashes): wrong length. */
	assert_int_equal(auth_enrol_verify(k->pk, "ABCD-1234-WXYZ", sig), -1);
	/* Bad input: empty code. */
	assert_int_equal(auth_enrol_verify(k->pk, "", sig), -1);
}

static void test_enrol_other_key_rejected(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64];

	/* Bad input: signed by key 2 over key 1's public key (no proof of possession). */
	sign_enrol(k->sk2, k->pk, "ABCD1234WXYZ", sig);
	assert_int_equal(auth_enrol_verify(k->pk, "ABCD1234WXYZ", sig), -1);
	/* Bad input: signed by key 2 over key 2's public key, presented with key 1. */
	sign_enrol(k->sk2, k->pk2, "ABCD1234WXYZ", sig);
	assert_int_equal(auth_enrol_verify(k->pk, "ABCD1234WXYZ", sig), -1);
	assert_int_equal(auth_enrol_verify(k->pk2, "ABCD1234WXYZ", sig), 0);
}

static void test_enrol_flipped_bit_rejected(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64];

	sign_enrol(k->sk, k->pk, "ABCD1234WXYZ", sig);
	/* Bad input: the valid signature with one bit flipped, at every bit position. */
	for (size_t bit = 0; bit < 64 * 8; bit++) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(auth_enrol_verify(k->pk, "ABCD1234WXYZ", sig), -1);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

static void test_enrol_and_proof_not_interchangeable(void **state)
{
	struct keys *k = *state;
	uint8_t sig[64], m[CTX_ENROL_LEN + 32 + 12];

	/* Bad input: a signature over AUTH_CONTEXT || pk || code (the auth context used for an
	 * enrolment). */
	memcpy(m, AUTH_CONTEXT, CTX_AUTH_LEN);
	memcpy(m + CTX_AUTH_LEN, k->pk, 32);
	memcpy(m + CTX_AUTH_LEN + 32, "ABCD1234WXYZ", 12);
	crypto_sign_detached(sig, NULL, m, CTX_AUTH_LEN + 44, k->sk);
	assert_int_equal(auth_enrol_verify(k->pk, "ABCD1234WXYZ", sig), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proof_valid),
		cmocka_unit_test(test_proof_other_nonce_rejected),
		cmocka_unit_test(test_proof_other_server_rejected),
		cmocka_unit_test(test_proof_other_device_rejected),
		cmocka_unit_test(test_proof_other_key_rejected),
		cmocka_unit_test(test_proof_flipped_bit_rejected),
		cmocka_unit_test(test_proof_without_context_rejected),
		cmocka_unit_test(test_enrol_valid),
		cmocka_unit_test(test_enrol_other_code_rejected),
		cmocka_unit_test(test_enrol_other_key_rejected),
		cmocka_unit_test(test_enrol_flipped_bit_rejected),
		cmocka_unit_test(test_enrol_and_proof_not_interchangeable),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}
