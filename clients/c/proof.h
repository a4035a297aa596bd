/*
 * proof: what the device signs to prove it holds its key (docs/protocol.md, "Auth").
 *
 * Design: the exact byte strings live here and nowhere else, as pure functions of their inputs
 * (no I/O, no state), so they can be checked against the server's verification in isolation.
 *   enrol: Ed25519("veille.v1/enrol" || public_key(32) || normalised pairing code)
 *   auth:  Ed25519("veille.v1/auth" || nonce(32) || server_id(16) || device_id(16))
 * The context strings are sent without their NUL.
 */
#ifndef VEILLE_PROOF_H
#define VEILLE_PROOF_H

#include <stddef.h>
#include <stdint.h>

#define PROOF_PUBLIC_KEY 32
#define PROOF_SECRET_KEY 64
#define PROOF_SIGNATURE 64
#define PROOF_NONCE 32
#define PROOF_ID 16
#define PROOF_CODE_MAX 32 /* bytes of Enrol.pairing_code */

/*
 * Normalises a pairing code as printed ("abcd-efgh ijkl") into out: '-' and spaces removed,
 * upper case, Crockford's I and L read as 1, O as 0.
 * Returns 0, or -1 if the result is empty, longer than PROOF_CODE_MAX, or holds a byte that is
 * not a letter or digit (out is then unspecified). out must hold PROOF_CODE_MAX + 1 bytes.
 */
int proof_normalise_code(const char *code, char out[PROOF_CODE_MAX + 1]);

/*
 * Signs the enrolment proof of public_key for the normalised code with secret_key.
 * Returns 0, or -1 if libsodium fails.
 */
int proof_enrol(const uint8_t secret_key[PROOF_SECRET_KEY],
		const uint8_t public_key[PROOF_PUBLIC_KEY], const char *normalised_code,
		uint8_t signature[PROOF_SIGNATURE]);

/* Signs the authentication proof of a challenge. Returns 0, or -1 if libsodium fails. */
int proof_auth(const uint8_t secret_key[PROOF_SECRET_KEY], const uint8_t nonce[PROOF_NONCE],
	       const uint8_t server_id[PROOF_ID], const uint8_t device_id[PROOF_ID],
	       uint8_t signature[PROOF_SIGNATURE]);

#endif
