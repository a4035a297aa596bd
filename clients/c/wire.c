/*
 * wire: protobuf-c encoding and the request/reply exchange (see wire.h for the design).
 */
#include "wire.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "errors.h"

int wire_encode(const Veille__V1__Envelope *env, uint8_t **out, size_t *len)
{
	size_t n = veille__v1__envelope__get_packed_size(env);
	uint8_t *buf;

	if (n > CONN_MAX_MESSAGE)
		return VEILLE_ETOOBIG;
	buf = malloc(n ? n : 1);
	if (!buf)
		return VEILLE_ENOMEM;
	*len = veille__v1__envelope__pack(env, buf);
	*out = buf;
	return 0;
}

int wire_decode(const uint8_t *data, size_t len, Veille__V1__Envelope **out)
{
	struct arena *a = arena_new(WIRE_DECODE_BUDGET);
	ProtobufCAllocator alloc;

	*out = NULL;
	if (!a)
		return VEILLE_ENOMEM;
	alloc = arena_allocator(a);
	*out = veille__v1__envelope__unpack(&alloc, len, data);
	/* protobuf-c allocates the Envelope first: wire_free finds the arena just before it. */
	if (!*out || (void *)*out != arena_first(a)) {
		*out = NULL;
		arena_free(a);
		return VEILLE_EPROTO;
	}
	arena_set_owner(a, a);
	return 0;
}

void wire_free(Veille__V1__Envelope *env)
{
	if (env)
		arena_free(arena_owner(env));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copies the server's Error into err and returns VEILLE_ESERVER. */
static int server_error(const Veille__V1__Error *e, struct veille_error *err)
{
	errors_set(err, VEILLE_ESERVER, "%s", e->message ? e->message : "");
	if (err) {
		err->code = (int)e->code;
		err->retry_after_ms = e->retry_after_ms;
	}
	return VEILLE_ESERVER;
}

static int transport_error(struct conn *c, int rc, struct veille_error *err)
{
	if (rc == VEILLE_ETIMEOUT)
		return errors_set(err, rc, "no reply from the server in time");
	if (rc == VEILLE_ENOMEM)
		return errors_set(err, rc, "out of memory");
	return errors_set(err, rc, "%s", conn_why(c));
}

/* Notes a poke; returns whether env was one. */
static int note_poke(const Veille__V1__Envelope *env, struct wire_news *news)
{
	if (env->body_case != VEILLE__V1__ENVELOPE__BODY_POKE || env->request_id != 0)
		return 0;
	if (news) {
		news->poked = 1;
		if (env->poke->seq > news->poke_seq)
			news->poke_seq = env->poke->seq;
	}
	return 1;
}

int wire_call(struct conn *c, uint64_t *next_id, Veille__V1__Envelope *req,
	      Veille__V1__Envelope__BodyCase expect, int timeout_ms,
	      Veille__V1__Envelope **reply, struct wire_news *news, struct veille_error *err)
{
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	*reply = NULL;
	if (++*next_id == 0)
		++*next_id;
	req->request_id = *next_id;
	rc = wire_encode(req, &buf, &len);
	if (rc)
		return errors_set(err, rc, "request too big to encode");
	rc = conn_send(c, buf, len, CONN_BINARY);
	free(buf);
	if (rc) {
		transport_error(c, rc, err);
		return rc;
	}
	return wire_await(c, req->request_id, expect, timeout_ms, reply, news, err);
}

int wire_await(struct conn *c, uint64_t request_id, Veille__V1__Envelope__BodyCase expect,
	       int timeout_ms, Veille__V1__Envelope **reply, struct wire_news *news,
	       struct veille_error *err)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	Veille__V1__Envelope *env = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	*reply = NULL;
	for (;;) {
		int64_t left = deadline - now_ms();

		rc = conn_recv(c, &buf, &len, left > 0 ? (int)left : 0);
		if (rc) {
			transport_error(c, rc, err);
			goto out;
		}
		rc = wire_decode(buf, len, &env);
		free(buf);
		buf = NULL;
		if (rc) {
			errors_set(err, rc, "undecodable message from the server");
			goto out;
		}
		if (env->body_case == VEILLE__V1__ENVELOPE__BODY_ERROR &&
		    (env->request_id == 0 || env->request_id == request_id)) {
			rc = server_error(env->error, err);
			goto out;
		}
		if (env->request_id == request_id)
			break;
		/* A late reply to an earlier request, or news the server sends on its own. */
		note_poke(env, news);
		wire_free(env);
		env = NULL;
	}
	if (env->body_case != expect) {
		rc = errors_set(err, VEILLE_EPROTO, "unexpected reply from the server (body %d)",
				(int)env->body_case);
		goto out;
	}
	*reply = env;
	env = NULL;
	rc = 0;
out:
	wire_free(env);
	return rc;
}

int wire_next(struct conn *c, int timeout_ms, Veille__V1__Envelope **out, struct wire_news *news,
	      struct veille_error *err)
{
	Veille__V1__Envelope *env = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = conn_recv(c, &buf, &len, timeout_ms > 0 ? timeout_ms : 0);
	if (rc)
		return rc == VEILLE_ETIMEOUT ? rc : transport_error(c, rc, err);
	rc = wire_decode(buf, len, &env);
	free(buf);
	if (rc)
		return errors_set(err, rc, "undecodable message from the server");
	if (env->body_case == VEILLE__V1__ENVELOPE__BODY_ERROR && env->request_id == 0) {
		rc = server_error(env->error, err);
		wire_free(env);
		return rc;
	}
	note_poke(env, news);
	*out = env;
	return 0;
}

int wire_wait(struct conn *c, int timeout_ms, struct wire_news *news, struct veille_error *err)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	/* Each turn takes one message off the queue, so the loop ends at the deadline. */
	for (;;) {
		int64_t left = deadline - now_ms();
		Veille__V1__Envelope *env;
		int rc = wire_next(c, left > 0 ? (int)left : 0, &env, news, err), poke;

		if (rc)
			return rc;
		poke = env->body_case == VEILLE__V1__ENVELOPE__BODY_POKE && env->request_id == 0;
		wire_free(env);
		if (poke)
			return 0;
	}
}
