/*
 * proof: the signed byte strings of enrolment and authentication (see proof.h).
 * The message is assembled in a stack buffer of known size: every part has a fixed bound.
 */
#include "proof.h"

#include <ctype.h>
#include <string.h>

#include <sodium.h>

static const char ENROL_CONTEXT[] = "veille.v1/enrol";
static const char AUTH_CONTEXT[] = "veille.v1/auth";

int proof_normalise_code(const char *code, char out[PROOF_CODE_MAX + 1])
{
	size_t n = 0;

	for (; *code; code++) {
		int ch = toupper((unsigned char)*code);

		if (ch == '-' || ch == ' ')
			continue;
		if (!isascii(ch) || !isalnum(ch) || n == PROOF_CODE_MAX)
			return -1;
		if (ch == 'I' || ch == 'L')
			ch = '1';
		else if (ch == 'O')
			ch = '0';
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return n ? 0 : -1;
}

int proof_enrol(const uint8_t secret_key[PROOF_SECRET_KEY],
		const uint8_t public_key[PROOF_PUBLIC_KEY], const char *normalised_code,
		uint8_t signature[PROOF_SIGNATURE])
{
	uint8_t msg[sizeof ENROL_CONTEXT - 1 + PROOF_PUBLIC_KEY + PROOF_CODE_MAX];
	size_t code_len = strlen(normalised_code), n = 0;

	if (code_len > PROOF_CODE_MAX)
		return -1;
	memcpy(msg, ENROL_CONTEXT, sizeof ENROL_CONTEXT - 1);
	n += sizeof ENROL_CONTEXT - 1;
	memcpy(msg + n, public_key, PROOF_PUBLIC_KEY);
	n += PROOF_PUBLIC_KEY;
	memcpy(msg + n, normalised_code, code_len);
	n += code_len;
	return crypto_sign_detached(signature, NULL, msg, n, secret_key) == 0 ? 0 : -1;
}

int proof_auth(const uint8_t secret_key[PROOF_SECRET_KEY], const uint8_t nonce[PROOF_NONCE],
	       const uint8_t server_id[PROOF_ID], const uint8_t device_id[PROOF_ID],
	       uint8_t signature[PROOF_SIGNATURE])
{
	uint8_t msg[sizeof AUTH_CONTEXT - 1 + PROOF_NONCE + 2 * PROOF_ID];
	size_t n = 0;

	memcpy(msg, AUTH_CONTEXT, sizeof AUTH_CONTEXT - 1);
	n += sizeof AUTH_CONTEXT - 1;
	memcpy(msg + n, nonce, PROOF_NONCE);
	n += PROOF_NONCE;
	memcpy(msg + n, server_id, PROOF_ID);
	n += PROOF_ID;
	memcpy(msg + n, device_id, PROOF_ID);
	n += PROOF_ID;
	return crypto_sign_detached(signature, NULL, msg, n, secret_key) == 0 ? 0 : -1;
}
