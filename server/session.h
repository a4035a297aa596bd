/* session: one authenticated-or-not WebSocket connection, and the request dispatch.
 *
 * The state machine (docs/protocol.md, "Session states") decides which requests are allowed;
 * session_on_message decodes (codec), checks the state, and hands the request to its handler
 * (auth.c for hello/proof/enrol, sync.c for push/pull, places.c for places, stats.c for the
 * indicators). Replies go out through session_reply / session_error, which encode and queue
 * them on the transport. */
#ifndef VEILLE_SESSION_H
#define VEILLE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

struct server;
struct tconn;

enum session_state {
	SESSION_CONNECTED,     /* may Hello or Enrol */
	SESSION_CHALLENGED,    /* Challenge sent, AuthProof expected */
	SESSION_AUTHENTICATED, /* principal known */
	SESSION_CLOSING,       /* a close was requested; further requests are ignored */
};

struct session {
	struct session *prev, *next; /* in srv->sessions */
	struct server *srv;
	struct tconn *conn;
	char peer[64]; /* client address, for rate limits and logs */
	enum session_state state;
	uint8_t device_id[16];
	uint8_t nonce[32];
	uint64_t challenge_expires_ms; /* monotonic */
	/* Who the session acts as, once authenticated. */
	char professional_id[65];
	char structure_id[65];
	int role;
	/* A pull that asked for several pages: the next page is read while the client reads
	 * this one, or, if the output queue still holds the page before, once it has been
	 * written (transport calls session_on_drained), so a slow reader holds two pages at
	 * most. pending: a page of this session is with the commit writer (sync.c);
	 * unwritten: pages sent since the output queue was last written out. */
	struct {
		uint64_t request_id, cursor;
		uint32_t limit, pages_left;
		int pending, unwritten;
	} pull;
	/* The places subscription (places.c): the territory's deltas come to the session. */
	struct {
		int active;
		char territory[17];
		uint32_t categories; /* bit per PlaceCategory; 0: all */
	} places;
};

/* A new session for a connection from peer. NULL on out of memory. */
struct session *session_new(struct server *srv, struct tconn *conn, const char *peer);
void session_free(struct session *s);

/* Handles one complete binary message. */
void session_on_message(struct session *s, const uint8_t *data, size_t len);

/* The connection's output queue has just been written out. */
void session_on_drained(struct session *s);

/* Encodes and queues a reply; env->request_id must be set by the caller. */
void session_reply(struct session *s, const Veille__V1__Envelope *env);

/* Sends Error{code, message} answering request_id. */
void session_error(struct session *s, uint64_t request_id, int code, const char *message,
		   uint32_t retry_after_ms);

/* Sends an error, then closes the connection with close_code once it is written. */
void session_fail(struct session *s, uint64_t request_id, int code, const char *message,
		  uint32_t retry_after_ms, int close_code);

#endif
