/* auth: enrolment and challenge-response authentication of devices (docs/protocol.md, "Auth").
 *
 * The verification functions are pure (no I/O) and unit-tested; the handlers apply the
 * session state machine, the rate limits and the directory. */
#ifndef VEILLE_AUTH_H
#define VEILLE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

struct session;
struct store_txn;

#define AUTH_CONTEXT "veille.v1/auth"
#define ENROL_CONTEXT "veille.v1/enrol"

/* 0 if sig is the device's signature of AUTH_CONTEXT || nonce || server_id || device_id. */
int auth_proof_verify(const uint8_t public_key[32], const uint8_t nonce[32],
		      const uint8_t server_id[16], const uint8_t device_id[16],
		      const uint8_t sig[64]);

/* 0 if sig is public_key's signature of ENROL_CONTEXT || public_key || normalised code. */
int auth_enrol_verify(const uint8_t public_key[32], const char *normalised_code,
		      const uint8_t sig[64]);

/* Handlers: reply (or fail) on the session. */
void auth_on_hello(struct session *s, const Veille__V1__Envelope *env);
void auth_on_proof(struct session *s, const Veille__V1__Envelope *env);
void auth_on_enrol(struct session *s, const Veille__V1__Envelope *env);

/* 1 if the device and its professional exist and are not revoked, 0 if not, or a negative
 * STORE_* code on a storage failure. */
int auth_device_active(struct store_txn *t, const uint8_t device_id[16]);

/* Checks, within a request, that the session's device and professional are still active.
 * Returns 0, or -1 after failing the session with DEVICE_REVOKED (close 1008). */
int auth_still_active(struct session *s, uint64_t request_id, struct store_txn *t);

/* Called after each pass of the event loop (at least once a second): at most once a second,
 * if a device or professional was revoked since the last look (veillectl, another process,
 * raises DIRECTORY_REVOCATIONS), closes every live session of a revoked one with
 * Error{DEVICE_REVOKED} (request id 0) and close code 1008. */
struct server;
void auth_tick(struct server *srv);

#endif
