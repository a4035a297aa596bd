/*
 * wire: Envelopes to bytes and back, and the request/reply exchange over a conn.
 *
 * Design: the only place protobuf-c packs or unpacks messages of the wire. Decoding allocates
 * from an arena (server/arena.h: a pointer bump per field, one free per message) under a
 * memory budget (WIRE_DECODE_BUDGET), because a message small on the wire can unpack into much
 * more memory.
 * wire_call gives each request a fresh request_id and waits for the reply carrying it: replies
 * to earlier requests (one that timed out, say) are skipped, and an Error with request_id 0 is
 * about the connection itself, so it answers the pending request too. A Poke (request_id 0)
 * arriving meanwhile is not an answer: it is noted in a struct wire_news for the caller to
 * act on once the call is over, so a poke is never lost to a pending request.
 */
#ifndef VEILLE_WIRE_H
#define VEILLE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "veille.h"
#include "veille/v1/envelope.pb-c.h"

#define WIRE_DECODE_BUDGET (64u * 1024u * 1024u) /* bytes of memory one decode may use */

/*
 * Packs env into a new buffer. out: receives it, the caller frees it with free().
 * Errors: VEILLE_ENOMEM, VEILLE_ETOOBIG (over CONN_MAX_MESSAGE).
 */
int wire_encode(const Veille__V1__Envelope *env, uint8_t **out, size_t *len);

/*
 * Unpacks len bytes into a new Envelope. out: receives it, the caller frees it with
 * wire_free(). Errors: VEILLE_EPROTO (not an Envelope, or over the decode budget).
 */
int wire_decode(const uint8_t *data, size_t len, Veille__V1__Envelope **out);

/* Frees an Envelope from wire_decode() or wire_call(). NULL is a no-op. */
void wire_free(Veille__V1__Envelope *env);

/* What the server said on its own while we waited. */
struct wire_news {
	int poked;          /* a Poke arrived since the caller last cleared this */
	uint64_t poke_seq;  /* the highest seq of those pokes */
};

/*
 * Sends req, with req->request_id set to the next value of *next_id (never 0), and waits up
 * to timeout_ms in all for its reply.
 * expect: the body the reply must carry (e.g. VEILLE__V1__ENVELOPE__BODY_CHALLENGE).
 * reply: receives the reply; the caller frees it with wire_free().
 * news: pokes received while waiting are noted there; may be NULL (they are then dropped).
 * err: receives the server's Error (VEILLE_ESERVER) or a description of the failure.
 * Errors: VEILLE_ESERVER, VEILLE_EPROTO (undecodable reply, or another body than expect),
 *   VEILLE_ENOMEM, VEILLE_ETIMEOUT, VEILLE_ETOOBIG, and conn_send/conn_recv's VEILLE_ECLOSED,
 *   VEILLE_ECONN.
 */
int wire_call(struct conn *c, uint64_t *next_id, Veille__V1__Envelope *req,
	      Veille__V1__Envelope__BodyCase expect, int timeout_ms,
	      Veille__V1__Envelope **reply, struct wire_news *news, struct veille_error *err);

/*
 * Waits up to timeout_ms for the next reply to request_id (a request answered in several
 * messages: a pull of several pages), as wire_call does after sending. Same errors.
 */
int wire_await(struct conn *c, uint64_t request_id, Veille__V1__Envelope__BodyCase expect,
	       int timeout_ms, Veille__V1__Envelope **reply, struct wire_news *news,
	       struct veille_error *err);

/*
 * The next message, whatever it is, within timeout_ms: a Poke is also noted in news; an Error
 * with request_id 0 (about the connection) is returned as VEILLE_ESERVER. out: the caller
 * frees it with wire_free(). Errors: as wire_wait.
 */
int wire_next(struct conn *c, int timeout_ms, Veille__V1__Envelope **out, struct wire_news *news,
	      struct veille_error *err);

/*
 * Waits up to timeout_ms, with no request pending, for what the server sends on its own:
 * returns 0 as soon as a Poke is noted in news, VEILLE_ETIMEOUT if none came. Late replies to
 * earlier requests are skipped.
 * Errors: VEILLE_ETIMEOUT, VEILLE_ESERVER (an Error about the connection: request_id 0),
 *   VEILLE_EPROTO (undecodable message), VEILLE_ENOMEM, VEILLE_ETOOBIG, VEILLE_ECLOSED,
 *   VEILLE_ECONN.
 */
int wire_wait(struct conn *c, int timeout_ms, struct wire_news *news, struct veille_error *err);

#endif
