/* session: see session.h. */
#include "session.h"

#include "auth.h"
#include "commit.h"
#include "frame.h"
#include "log.h"
#include "places.h"
#include "server.h"
#include "stats.h"
#include "sync.h"
#include "transport.h"

#include <libwebsockets.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session *session_new(struct server *srv, struct tconn *conn, const char *peer)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->srv = srv;
	s->conn = conn;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->state = SESSION_CONNECTED;
	s->next = srv->sessions;
	if (s->next)
		s->next->prev = s;
	srv->sessions = s;
	return s;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	commit_forget_session(s->srv, s);
	if (s->prev)
		s->prev->next = s->next;
	else
		s->srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	sodium_memzero(s, sizeof(*s));
	free(s);
}

/* Queues an encoded frame (NULL: encoding ran out of memory, so the session cannot answer). */
static void send_frame(struct session *s, struct frame *f)
{
	if (!f) {
		transport_close(s->conn, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		s->state = SESSION_CLOSING;
		return;
	}
	transport_send(s->conn, f);
	frame_unref(f);
}

void session_on_drained(struct session *s)
{
	s->pull.unwritten = 0;
	if (s->state == SESSION_AUTHENTICATED && s->pull.pages_left)
		sync_pull_next_page(s);
}

void session_reply(struct session *s, const Veille__V1__Envelope *env)
{
	send_frame(s, codec_encode(env));
}

void session_error(struct session *s, uint64_t request_id, int code, const char *message,
		   uint32_t retry_after_ms)
{
	log_debug("session %s: error %s: %s", s->peer, codec_error_name(code), message);
	send_frame(s, codec_encode_error(request_id, code, message, retry_after_ms));
}

void session_fail(struct session *s, uint64_t request_id, int code, const char *message,
		  uint32_t retry_after_ms, int close_code)
{
	session_error(s, request_id, code, message, retry_after_ms);
	transport_close(s->conn, close_code, codec_error_name(code));
	s->state = SESSION_CLOSING;
}

/* Requests allowed before authentication: Hello, Enrol, and AuthProof once challenged. */
static int allowed_unauthenticated(const struct session *s, int body)
{
	return body == VEILLE__V1__ENVELOPE__BODY_HELLO || body == VEILLE__V1__ENVELOPE__BODY_ENROL ||
	       (body == VEILLE__V1__ENVELOPE__BODY_AUTH_PROOF && s->state == SESSION_CHALLENGED);
}

void session_on_message(struct session *s, const uint8_t *data, size_t len)
{
	struct codec_msg msg;
	struct codec_error err;
	const Veille__V1__Envelope *env;

	if (s->state == SESSION_CLOSING)
		return;
	s->pull.pages_left = 0; /* a new request ends a page stream */
	if (codec_decode(data, len, &msg, &err) != 0) {
		/* An undecodable frame means the peer does not speak the protocol: close. Other
		 * refusals keep the connection, so a client can correct itself. */
		if (err.code == VEILLE_ERR(MALFORMED))
			session_fail(s, 0, err.code, err.message, 0, LWS_CLOSE_STATUS_PROTOCOL_ERR);
		else
			session_error(s, err.request_id, err.code, err.message, 0);
		return;
	}
	env = msg.env;
	if (env->body_case == VEILLE__V1__ENVELOPE__BODY__NOT_SET) {
		session_error(s, env->request_id, VEILLE_ERR(UNKNOWN_BODY),
			      "no body, or a body this server does not know", 0);
	} else if (s->state != SESSION_AUTHENTICATED &&
		   !allowed_unauthenticated(s, env->body_case)) {
		session_error(s, env->request_id,
			      env->body_case == VEILLE__V1__ENVELOPE__BODY_AUTH_PROOF
				      ? VEILLE_ERR(BAD_STATE)
				      : VEILLE_ERR(NOT_AUTHENTICATED),
			      env->body_case == VEILLE__V1__ENVELOPE__BODY_AUTH_PROOF
				      ? "auth proof without a pending challenge"
				      : "authenticate first (Hello, then AuthProof)",
			      0);
	} else {
		switch (env->body_case) {
		case VEILLE__V1__ENVELOPE__BODY_HELLO: auth_on_hello(s, env); break;
		case VEILLE__V1__ENVELOPE__BODY_AUTH_PROOF: auth_on_proof(s, env); break;
		case VEILLE__V1__ENVELOPE__BODY_ENROL: auth_on_enrol(s, env); break;
		case VEILLE__V1__ENVELOPE__BODY_PUSH:
			commit_enqueue(s->srv, s, &msg); /* takes msg: applied after this pass */
			break;
		case VEILLE__V1__ENVELOPE__BODY_PULL: sync_on_pull(s, env); break;
		case VEILLE__V1__ENVELOPE__BODY_DECLARE_VACANCIES: places_on_declare(s, env); break;
		case VEILLE__V1__ENVELOPE__BODY_SUBSCRIBE_PLACES: places_on_subscribe(s, env); break;
		case VEILLE__V1__ENVELOPE__BODY_STATS_REQUEST: stats_on_request(s, env); break;
		default: /* codec_decode refuses server-to-client bodies */ break;
		}
	}
	codec_msg_free(&msg);
}
