/*
 * Integration: hostile and malformed input against a real veilled, over raw WebSocket
 * connections (clients/c/conn.h) or through libveille with out-of-limit fields.
 *
 * One server serves the whole group, so it must survive every test; after each one a
 * well-behaved client on another connection (device W: connect, push one, pull it back) checks
 * that it still serves, and the group teardown checks that it still exits 0 on SIGTERM (under
 * asan: no leak from any of it). Device R is enrolled for raw sessions only; W is only ever
 * driven by libveille, so the two never share op counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define TEAM "maraude-75-a"
#define MAX_FRAME (1u << 20) /* veilled's default --max-frame */
#define ERR(x) VEILLE__V1__ERROR_CODE__ERROR_CODE_##x
#define APPLIED VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED

struct fixture {
	struct hx_env *e;
	struct hx_device w; /* well-behaved, libveille */
	struct hx_device r; /* raw sessions */
	uint64_t w_cursor;
	uint64_t r_counter; /* last op counter R used */
};

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, TEAM, "Maraude 75 A", "equipe_mobile", "75") ||
	    hx_server_start(f->e, (char *)NULL) ||
	    hx_new_device(f->e, TEAM, "Wanda Bienveillante", &f->w) ||
	    hx_new_device(f->e, TEAM, "Raoul Brut", &f->r))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	hx_device_close(&f->w);
	hx_device_close(&f->r);
	rc = hx_env_free(f->e); /* after all of the above, still a clean exit 0 */
	free(f);
	return rc;
}

/* A well-behaved client on a new connection: authenticates, pushes one, pulls it back. */
static void assert_still_serving(struct fixture *f)
{
	struct hx_batch *b = hx_batch_new(1, NULL, "well-behaved client");
	struct hx_changes cs;

	assert_non_null(b);
	assert_int_equal(veille_connect(f->w.c, -1), 0);
	assert_int_equal(hx_push(&f->w, b), 0);
	assert_int_equal(b->res[0].status, APPLIED);
	memset(&cs, 0, sizeof cs);
	assert_int_equal(hx_pull_all(f->w.c, f->w_cursor, 0, &cs), 0);
	assert_non_null(hx_changes_find(&cs, b->muts[0].record_id, 1));
	f->w_cursor = cs.cursor;
	hx_changes_free(&cs);
	hx_batch_free(b);
}

static void expect_error(Veille__V1__Envelope *reply, uint64_t request_id, int code)
{
	assert_non_null(reply);
	assert_int_equal(hx_error_code(reply), code);
	assert_int_equal(reply->request_id, request_id);
	wire_free(reply);
}

/* Pull on a raw connection; expects a PullResult. */
static void raw_pull_ok(struct conn *c, uint64_t request_id)
{
	Veille__V1__Envelope env, *reply;
	Veille__V1__PullRequest pull;

	hx_make_pull(&env, &pull, request_id);
	reply = hx_raw_call(c, &env, HX_TIMEOUT_MS);
	assert_non_null(reply);
	assert_int_equal(reply->body_case, VEILLE__V1__ENVELOPE__BODY_PULL_RESULT);
	assert_int_equal(reply->request_id, request_id);
	wire_free(reply);
}

/* A PushRequest of b's mutations as request_id, with R's next op counters. */
static void raw_push(struct fixture *f, struct conn *c, struct hx_batch *b, uint64_t request_id)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PushRequest push = VEILLE__V1__PUSH_REQUEST__INIT;

	for (size_t i = 0; i < b->n; i++)
		b->muts[i].m.op_counter = f->r_counter + 1 + i;
	push.n_mutations = b->n;
	push.mutations = b->ptrs;
	env.request_id = request_id;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_PUSH;
	env.push = &push;
	assert_int_equal(hx_raw_send(c, &env), 0);
}

/* Sends raw bytes as one binary message. */
static void send_bytes(struct conn *c, const void *data, size_t len)
{
	assert_int_equal(conn_send(c, data, len, CONN_BINARY), 0);
}

/*
 * One binary frame of max_frame + 1 (1,048,577) zero bytes: close 1009, through the close
 * handshake (the server discards the rest of the frame before closing, so no reset loses the
 * close frame). Ten rounds, each on a new connection.
 */
static void test_oversize_single_frame(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = calloc(1, MAX_FRAME + 1);

	assert_non_null(buf);
	for (int round = 0; round < 10; round++) {
		struct conn *c = hx_raw_open(f->e);
		int code;

		assert_non_null(c);
		send_bytes(c, buf, MAX_FRAME + 1);
		code = hx_raw_wait_close(c, HX_TIMEOUT_MS);
		conn_close(c);
		assert_int_equal(code, 1009);
	}
	free(buf);
	assert_still_serving(f);
}

/*
 * Boundary: one binary frame of exactly max_frame (1,048,576) zero bytes passes the size cap
 * and is refused as what it is, not an Envelope (a zero tag): Error MALFORMED, close 1002.
 */
static void test_frame_of_exactly_max(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = calloc(1, MAX_FRAME);
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(buf);
	assert_non_null(c);
	send_bytes(c, buf, MAX_FRAME);
	expect_error(hx_raw_recv(c, HX_TIMEOUT_MS), 0, ERR(MALFORMED));
	assert_int_equal(hx_raw_wait_close(c, HX_TIMEOUT_MS), 1002);
	conn_close(c);
	free(buf);
	assert_still_serving(f);
}

/*
 * One binary message in 17 fragments of 64 KiB of zero bytes (1,114,112 in all, the 17th
 * passing the 1 MiB cap): close 1009, through the close handshake. Ten times, since the close
 * frame used to be lost to a reset (1006) now and then.
 */
static void test_oversize_fragments(void **state)
{
	struct fixture *f = *state;
	const size_t frag = 64 * 1024, n_frags = 17;
	uint8_t *buf = calloc(1, frag);

	assert_non_null(buf);
	for (int round = 0; round < 10; round++) {
		struct conn *c = hx_raw_open(f->e);
		int code;

		assert_non_null(c);
		for (size_t i = 0; i < n_frags; i++) {
			int flags = (i ? CONN_CONTINUATION : 0) | (i + 1 < n_frags ? CONN_NO_FIN : 0);

			/* The server may close before the last fragments are queued. */
			if (conn_send(c, buf, frag, flags) != 0)
				break;
		}
		code = hx_raw_wait_close(c, HX_TIMEOUT_MS);
		conn_close(c);
		assert_int_equal(code, 1009);
	}
	free(buf);
	assert_still_serving(f);
}

/*
 * Bytes that are not an Envelope, each on its own connection: Error MALFORMED with
 * request_id 0, then close 1002.
 *   a) 0f 01 02: field 1 with wire type 7, which does not exist;
 *   b) 52 7f 01 02 03: field 10 (hello), length-delimited, announcing 127 bytes, 3 present.
 */
static void test_not_an_envelope(void **state)
{
	static const uint8_t bad_wire_type[] = { 0x0f, 0x01, 0x02 };
	static const uint8_t truncated[] = { 0x52, 0x7f, 0x01, 0x02, 0x03 };
	const struct {
		const uint8_t *data;
		size_t len;
	} inputs[] = { { bad_wire_type, sizeof bad_wire_type }, { truncated, sizeof truncated } };
	struct fixture *f = *state;

	for (size_t i = 0; i < 2; i++) {
		struct conn *c = hx_raw_open(f->e);

		assert_non_null(c);
		send_bytes(c, inputs[i].data, inputs[i].len);
		expect_error(hx_raw_recv(c, HX_TIMEOUT_MS), 0, ERR(MALFORMED));
		assert_int_equal(hx_raw_wait_close(c, HX_TIMEOUT_MS), 1002);
		conn_close(c);
	}
	assert_still_serving(f);
}

/* A text frame holding {"hello":1}: close 1003. */
static void test_text_frame(void **state)
{
	static const char text[] = "{\"hello\":1}";
	struct fixture *f = *state;
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(c);
	assert_int_equal(conn_send(c, text, sizeof text - 1, CONN_TEXT), 0);
	assert_int_equal(hx_raw_wait_close(c, HX_TIMEOUT_MS), 1003);
	conn_close(c);
	assert_still_serving(f);
}

/*
 * Hand-encoded Envelopes with no body this server knows, on one connection:
 *   08 07 9a 06 02 68 69: request_id 7, then field 99 (tag 99<<3|2 = varint 9a 06), length 2,
 *                         "hi" -> Error UNKNOWN_BODY, request_id 7;
 *   08 08:                request_id 8 and no body at all -> Error UNKNOWN_BODY, request_id 8.
 * The connection stays open and usable: it authenticates as R and pulls.
 */
static void test_unknown_body(void **state)
{
	static const uint8_t field99[] = { 0x08, 0x07, 0x9a, 0x06, 0x02, 0x68, 0x69 };
	static const uint8_t no_body[] = { 0x08, 0x08 };
	struct fixture *f = *state;
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(c);
	send_bytes(c, field99, sizeof field99);
	expect_error(hx_raw_recv(c, HX_TIMEOUT_MS), 7, ERR(UNKNOWN_BODY));
	send_bytes(c, no_body, sizeof no_body);
	expect_error(hx_raw_recv(c, HX_TIMEOUT_MS), 8, ERR(UNKNOWN_BODY));
	assert_int_equal(conn_close_code(c), 0);
	assert_int_equal(hx_raw_auth(c, &f->r), 0);
	raw_pull_ok(c, 9);
	conn_close(c);
	assert_still_serving(f);
}

/*
 * Before any Hello: a PullRequest (request_id 3) and a PushRequest of one valid encounter
 * (request_id 4): NOT_AUTHENTICATED each, connection kept; it then authenticates and pulls.
 */
static void test_requests_before_auth(void **state)
{
	struct fixture *f = *state;
	Veille__V1__Envelope env;
	Veille__V1__PullRequest pull;
	struct hx_batch *b = hx_batch_new(1, NULL, "too early");
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(c);
	assert_non_null(b);
	hx_make_pull(&env, &pull, 3);
	expect_error(hx_raw_call(c, &env, HX_TIMEOUT_MS), 3, ERR(NOT_AUTHENTICATED));
	raw_push(f, c, b, 4);
	expect_error(hx_raw_recv(c, HX_TIMEOUT_MS), 4, ERR(NOT_AUTHENTICATED));
	assert_int_equal(conn_close_code(c), 0);
	assert_int_equal(hx_raw_auth(c, &f->r), 0);
	raw_pull_ok(c, 5);
	conn_close(c);
	hx_batch_free(b);
	assert_still_serving(f);
}

/* Pushes one mutation through W's library session; returns the veille_push code. */
static int w_push(struct fixture *f, struct hx_mut *x, struct veille_op_result *r)
{
	Veille__V1__Mutation *m = &x->m;

	return veille_push(f->w.c, &m, 1, r);
}

/*
 * Through libveille: a note of 4097 bytes ('n' x 4097) gets LIMIT_EXCEEDED (the whole request
 * refused, the connection kept); on the same connection a note of exactly 4096 bytes is
 * applied.
 */
static void test_note_too_long(void **state)
{
	struct fixture *f = *state;
	char *note = malloc(4098);
	struct veille_op_result r;
	struct hx_mut x;

	assert_non_null(note);
	memset(note, 'n', 4097);
	note[4097] = '\0';
	assert_int_equal(veille_connect(f->w.c, -1), 0);
	assert_int_equal(hx_mut_init(&x, NULL, note), 0);
	assert_int_equal(w_push(f, &x, &r), VEILLE_ESERVER);
	assert_int_equal(veille_last_error(f->w.c)->code, ERR(LIMIT_EXCEEDED));
	hx_mut_free(&x);

	note[4096] = '\0';
	assert_int_equal(hx_mut_init(&x, NULL, note), 0);
	assert_int_equal(w_push(f, &x, &r), 0);
	assert_int_equal(r.status, APPLIED);
	hx_mut_free(&x);
	free(note);
	assert_still_serving(f);
}

/*
 * On a raw session authenticated as R (libveille refuses more than 1000 locally): a push of
 * 1001 valid encounters gets LIMIT_EXCEEDED and applies nothing; the connection is kept, and
 * a push of 1000 with the same op counters is then applied in full.
 */
static void test_1001_mutations(void **state)
{
	struct fixture *f = *state;
	struct hx_batch *b = hx_batch_new(1001, NULL, "one of many");
	Veille__V1__Envelope *reply;
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, &f->r), 0);
	raw_push(f, c, b, 10);
	reply = hx_raw_recv(c, HX_TIMEOUT_MS);
	assert_int_equal(hx_error_code(reply), ERR(LIMIT_EXCEEDED));
	wire_free(reply);
	assert_int_equal(conn_close_code(c), 0);

	b->n = 1000;
	raw_push(f, c, b, 11);
	reply = hx_raw_recv(c, HX_TIMEOUT_MS);
	assert_non_null(reply);
	assert_int_equal(reply->body_case, VEILLE__V1__ENVELOPE__BODY_PUSH_RESULT);
	assert_int_equal(reply->request_id, 11);
	assert_int_equal(reply->push_result->n_results, 1000);
	for (size_t i = 0; i < 1000; i++) {
		assert_int_equal(reply->push_result->results[i]->status, APPLIED);
		assert_int_equal(reply->push_result->results[i]->op_counter, f->r_counter + 1 + i);
	}
	f->r_counter += 1000;
	wire_free(reply);
	b->n = 1001;
	hx_batch_free(b);
	conn_close(c);
	assert_still_serving(f);
}

/*
 * The protocol says every reply to a request carries its request_id back; only messages the
 * server sends on its own (about an undecodable frame) carry 0. A push of 1001 mutations
 * (decodable, request_id 42) is refused with LIMIT_EXCEEDED: that reply should carry 42.
 */
static void test_limit_error_echoes_request_id(void **state)
{
	struct fixture *f = *state;
	struct hx_batch *b = hx_batch_new(1001, NULL, "echo");
	Veille__V1__Envelope *reply;
	struct conn *c = hx_raw_open(f->e);
	uint64_t got;

	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, &f->r), 0);
	raw_push(f, c, b, 42);
	reply = hx_raw_recv(c, HX_TIMEOUT_MS);
	assert_int_equal(hx_error_code(reply), ERR(LIMIT_EXCEEDED));
	got = reply->request_id;
	wire_free(reply);
	hx_batch_free(b);
	conn_close(c);
	assert_still_serving(f);
	assert_int_equal(got, 42);
}

/* Through libveille: 17 needs (NEED_FOOD x 17) get LIMIT_EXCEEDED, and 17 services too; 16
 * needs are applied. */
static void test_too_many_needs(void **state)
{
	struct fixture *f = *state;
	Veille__V1__Service services[17];
	struct veille_op_result r;
	struct hx_mut x;

	assert_int_equal(veille_connect(f->w.c, -1), 0);
	assert_int_equal(hx_mut_init(&x, NULL, "needs"), 0);
	for (size_t i = 0; i < 17; i++)
		x.needs[i] = VEILLE__V1__NEED__NEED_FOOD;
	x.e.needs = x.needs;
	x.e.n_needs = 17;
	assert_int_equal(w_push(f, &x, &r), VEILLE_ESERVER);
	assert_int_equal(veille_last_error(f->w.c)->code, ERR(LIMIT_EXCEEDED));
	hx_mut_free(&x);

	assert_int_equal(hx_mut_init(&x, NULL, "services"), 0);
	for (size_t i = 0; i < 17; i++)
		services[i] = VEILLE__V1__SERVICE__SERVICE_HOT_DRINK;
	x.e.services = services;
	x.e.n_services = 17;
	assert_int_equal(w_push(f, &x, &r), VEILLE_ESERVER);
	assert_int_equal(veille_last_error(f->w.c)->code, ERR(LIMIT_EXCEEDED));
	hx_mut_free(&x);

	assert_int_equal(hx_mut_init(&x, NULL, "16 needs"), 0);
	for (size_t i = 0; i < 16; i++)
		x.needs[i] = VEILLE__V1__NEED__NEED_FOOD;
	x.e.needs = x.needs;
	x.e.n_needs = 16;
	assert_int_equal(w_push(f, &x, &r), 0);
	assert_int_equal(r.status, APPLIED);
	hx_mut_free(&x);
	assert_still_serving(f);
}

/*
 * Through libveille, notes that are not UTF-8, each INVALID_ARGUMENT:
 *   "caf\xc3(": a lead byte followed by a non-continuation byte;
 *   "\xc0\xaf": an overlong encoding of '/';
 *   "\xed\xa0\x80": a UTF-16 surrogate (U+D800).
 */
static void test_invalid_utf8_note(void **state)
{
	static const char *const notes[] = { "caf\xc3(", "\xc0\xaf", "\xed\xa0\x80" };
	struct fixture *f = *state;
	struct veille_op_result r;
	struct hx_mut x;

	assert_int_equal(veille_connect(f->w.c, -1), 0);
	for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
		assert_int_equal(hx_mut_init(&x, NULL, notes[i]), 0);
		assert_int_equal(w_push(f, &x, &r), VEILLE_ESERVER);
		assert_int_equal(veille_last_error(f->w.c)->code, ERR(INVALID_ARGUMENT));
		hx_mut_free(&x);
	}
	assert_still_serving(f);
}

/*
 * WebSocket handshakes the server must refuse (conn_open fails), five rounds each:
 *   path /other with subprotocol veille.v1; path / with veille.v1; path /sync with no
 *   subprotocol; path /sync with subprotocol "chat".
 * The server keeps serving (a crash on refused handshakes was fixed: this guards it).
 */
static void test_handshake_refused(void **state)
{
	struct fixture *f = *state;
	const struct {
		const char *path, *subprotocol;
	} cases[] = { { "/other", "veille.v1" }, { "/", "veille.v1" }, { "/sync", NULL },
		      { "/sync", "chat" } };
	char url[128];

	for (int round = 0; round < 5; round++) {
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			struct conn *c = NULL;
			int rc;

			snprintf(url, sizeof url, "%s%s", f->e->url, cases[i].path);
			rc = conn_open(&c, url, cases[i].subprotocol, HX_TIMEOUT_MS);
			if (rc == 0)
				conn_close(c);
			assert_int_equal(rc, VEILLE_ECONN);
			assert_null(c);
		}
	}
	assert_still_serving(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oversize_single_frame),
		cmocka_unit_test(test_frame_of_exactly_max),
		cmocka_unit_test(test_oversize_fragments),
		cmocka_unit_test(test_not_an_envelope),
		cmocka_unit_test(test_text_frame),
		cmocka_unit_test(test_unknown_body),
		cmocka_unit_test(test_requests_before_auth),
		cmocka_unit_test(test_note_too_long),
		cmocka_unit_test(test_1001_mutations),
		cmocka_unit_test(test_limit_error_echoes_request_id),
		cmocka_unit_test(test_too_many_needs),
		cmocka_unit_test(test_invalid_utf8_note),
		cmocka_unit_test(test_handshake_refused),
	};

	return cmocka_run_group_tests_name("integration_bad_input", tests, group_setup,
					   group_teardown);
}
