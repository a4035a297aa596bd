/*
 * Integration: enrolment, challenge-response, revocation and rate limiting against a real
 * veilled. Hostile exchanges go over a raw WebSocket connection (clients/c/conn.h) speaking
 * well-formed Envelopes, signed with the device's real key (read from its state directory) or
 * with a key the server never saw.
 *
 * Each test gets a fresh data directory and server (its extra options come as the cmocka
 * prestate), structure maraude-75-a, and device A of professional Alice, enrolled and
 * connected through libveille.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"

#define TEAM_A "maraude-75-a"
#define ERR(x) VEILLE__V1__ERROR_CODE__ERROR_CODE_##x

struct params {
	const char *args[8]; /* extra veilled options, NULL-terminated */
};

struct fixture {
	struct hx_env *e;
	struct hx_device a;
	char alice[65];
};

static const struct params defaults = { { NULL } };
static const struct params rate_limited = {
	{ "--auth-max-failures", "3", "--auth-window", "3", NULL }
};
static const struct params short_lease = { { "--device-lease-seconds", "1", NULL } };

static int setup(void **state)
{
	const struct params *p = *state ? *state : &defaults;
	struct fixture *f = calloc(1, sizeof *f);
	char code[32];

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, TEAM_A, "Maraude 75 A", "equipe_mobile", "75") ||
	    hx_server_startv(f->e, p->args) ||
	    hx_professional_add(f->e, TEAM_A, "Alice Martin", "maraudeur", "alice", 0, f->alice,
				code) ||
	    hx_enrol_connect(f->e, code, &f->a))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	hx_device_close(&f->a);
	rc = hx_env_free(f->e); /* veilled must exit 0 on SIGTERM */
	free(f);
	return rc;
}

/* Expects reply to be Error{code} answering request_id; frees it. */
static void expect_error(Veille__V1__Envelope *reply, uint64_t request_id, int code)
{
	assert_non_null(reply);
	assert_int_equal(hx_error_code(reply), code);
	assert_int_equal(reply->request_id, request_id);
	wire_free(reply);
}

static void expect_auth_ok(Veille__V1__Envelope *reply, uint64_t request_id)
{
	assert_non_null(reply);
	assert_int_equal(reply->body_case, VEILLE__V1__ENVELOPE__BODY_AUTH_OK);
	assert_int_equal(reply->request_id, request_id);
	wire_free(reply);
}

/* Pushes one encounter and pulls it back through d's library client. */
static void push_and_pull_ok(struct hx_device *d)
{
	struct hx_batch *b = hx_batch_new(1, NULL, "still works");
	struct hx_changes cs;

	assert_non_null(b);
	assert_int_equal(hx_push(d, b), 0);
	assert_int_equal(b->res[0].status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);
	memset(&cs, 0, sizeof cs);
	assert_int_equal(hx_pull_all(d->c, 0, 0, &cs), 0);
	assert_non_null(hx_changes_find(&cs, b->muts[0].record_id, 1));
	hx_changes_free(&cs);
	hx_batch_free(b);
}

/* The server's error code of the last failed libveille call on d. */
static int last_code(const struct hx_device *d)
{
	return veille_last_error(d->c)->code;
}

/*
 * Sends Enrol{code, a fresh public key, label, signature by that key over the enrolment
 * string}: a well-formed request whose only fault, if any, is the code.
 */
static Veille__V1__Envelope *raw_enrol(struct conn *c, uint64_t request_id, const char *code)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__Enrol enrol = VEILLE__V1__ENROL__INIT;
	uint8_t pk[PROOF_PUBLIC_KEY], sk[PROOF_SECRET_KEY], sig[PROOF_SIGNATURE];
	char norm[PROOF_CODE_MAX + 1];

	assert_int_equal(proof_normalise_code(code, norm), 0);
	crypto_sign_keypair(pk, sk);
	assert_int_equal(proof_enrol(sk, pk, norm, sig), 0);
	enrol.pairing_code = norm;
	enrol.public_key.data = pk;
	enrol.public_key.len = sizeof pk;
	enrol.label = "raw test client";
	enrol.signature.data = sig;
	enrol.signature.len = sizeof sig;
	env.request_id = request_id;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_ENROL;
	env.enrol = &enrol;
	return hx_raw_call(c, &env, HX_TIMEOUT_MS);
}

/*
 * Hello as device A, then an AuthProof over the right nonce, server id and device id but
 * signed by a key the server never saw: AUTH_FAILED. The challenge is used up (a second
 * AuthProof is BAD_STATE), and the connection stays usable: a new Hello and A's genuine proof
 * authenticate it.
 */
static void test_wrong_signature(void **state)
{
	struct fixture *f = *state;
	uint8_t nonce[PROOF_NONCE], sid[PROOF_ID], sig[PROOF_SIGNATURE];
	uint8_t other_pk[PROOF_PUBLIC_KEY], other_sk[PROOF_SECRET_KEY];
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(c);
	assert_int_equal(hx_raw_hello(c, 1, f->a.device_id, 1, nonce, sid), 0);
	assert_memory_equal(sid, f->a.server_id, PROOF_ID);
	crypto_sign_keypair(other_pk, other_sk);
	assert_int_equal(proof_auth(other_sk, nonce, sid, f->a.device_id, sig), 0);
	expect_error(hx_raw_proof(c, 2, sig), 2, ERR(AUTH_FAILED));

	/* The genuine signature of the consumed challenge: no challenge pending any more. */
	assert_int_equal(proof_auth(f->a.sk, nonce, sid, f->a.device_id, sig), 0);
	expect_error(hx_raw_proof(c, 3, sig), 3, ERR(BAD_STATE));

	assert_int_equal(hx_raw_hello(c, 4, f->a.device_id, 1, nonce, sid), 0);
	assert_int_equal(proof_auth(f->a.sk, nonce, sid, f->a.device_id, sig), 0);
	expect_auth_ok(hx_raw_proof(c, 5, sig), 5);
	assert_int_equal(conn_close_code(c), 0);
	conn_close(c);
}

/*
 * Two connections say Hello as A. The genuine proof for connection 1's challenge, sent on
 * connection 2: AUTH_FAILED. The same proof on connection 1 (its own challenge): AuthOk. That
 * accepted proof replayed on a third connection (after its own Hello): AUTH_FAILED.
 */
static void test_proof_of_another_connection(void **state)
{
	struct fixture *f = *state;
	uint8_t n1[PROOF_NONCE], n2[PROOF_NONCE], n3[PROOF_NONCE], sid[PROOF_ID];
	uint8_t sig1[PROOF_SIGNATURE];
	struct conn *c1 = hx_raw_open(f->e), *c2 = hx_raw_open(f->e), *c3 = hx_raw_open(f->e);

	assert_non_null(c1);
	assert_non_null(c2);
	assert_non_null(c3);
	assert_int_equal(hx_raw_hello(c1, 1, f->a.device_id, 1, n1, sid), 0);
	assert_int_equal(hx_raw_hello(c2, 1, f->a.device_id, 1, n2, sid), 0);
	assert_memory_not_equal(n1, n2, PROOF_NONCE);
	assert_int_equal(proof_auth(f->a.sk, n1, sid, f->a.device_id, sig1), 0);

	expect_error(hx_raw_proof(c2, 2, sig1), 2, ERR(AUTH_FAILED));
	expect_auth_ok(hx_raw_proof(c1, 2, sig1), 2);

	assert_int_equal(hx_raw_hello(c3, 1, f->a.device_id, 1, n3, sid), 0);
	expect_error(hx_raw_proof(c3, 2, sig1), 2, ERR(AUTH_FAILED));
	conn_close(c1);
	conn_close(c2);
	conn_close(c3);
}

/*
 * veilled restarted with --challenge-ttl 200: the Challenge says expires_in_ms 200; A's
 * genuine proof sent ~400 ms later is stale: AUTH_FAILED.
 */
static void test_stale_proof(void **state)
{
	struct fixture *f = *state;
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT, *reply;
	Veille__V1__Hello hello = VEILLE__V1__HELLO__INIT;
	uint8_t sig[PROOF_SIGNATURE];
	struct conn *c;

	assert_int_equal(hx_server_stop(f->e), 0);
	assert_int_equal(hx_server_start(f->e, "--challenge-ttl", "200", (char *)NULL), 0);
	c = hx_raw_open(f->e);
	assert_non_null(c);
	hello.protocol_version = 1;
	hello.device_id.data = f->a.device_id;
	hello.device_id.len = PROOF_ID;
	env.request_id = 1;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	reply = hx_raw_call(c, &env, HX_TIMEOUT_MS);
	assert_non_null(reply);
	assert_int_equal(reply->body_case, VEILLE__V1__ENVELOPE__BODY_CHALLENGE);
	assert_int_equal(reply->challenge->expires_in_ms, 200);
	assert_int_equal(reply->challenge->nonce.len, PROOF_NONCE);
	assert_int_equal(proof_auth(f->a.sk, reply->challenge->nonce.data, f->a.server_id,
				    f->a.device_id, sig),
			 0);
	wire_free(reply);
	hx_sleep_ms(400);
	expect_error(hx_raw_proof(c, 2, sig), 2, ERR(AUTH_FAILED));
	conn_close(c);
}

/*
 * AuthProof (64 zero bytes) as the first message of a connection: BAD_STATE. The connection
 * stays open and authenticates normally afterwards.
 */
static void test_proof_without_hello(void **state)
{
	struct fixture *f = *state;
	uint8_t zeros[PROOF_SIGNATURE] = { 0 };
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(c);
	expect_error(hx_raw_proof(c, 7, zeros), 7, ERR(BAD_STATE));
	assert_int_equal(conn_close_code(c), 0);
	assert_int_equal(hx_raw_auth(c, &f->a), 0);
	conn_close(c);
}

/* Hello{protocol_version 2}, then Hello{protocol_version 0}: UNSUPPORTED_VERSION both; a
 * Hello{1} on the same connection still gets its Challenge. */
static void test_unsupported_version(void **state)
{
	struct fixture *f = *state;
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(c);
	assert_int_equal(hx_raw_hello(c, 1, f->a.device_id, 2, NULL, NULL),
			 ERR(UNSUPPORTED_VERSION));
	assert_int_equal(hx_raw_hello(c, 2, f->a.device_id, 0, NULL, NULL),
			 ERR(UNSUPPORTED_VERSION));
	assert_int_equal(hx_raw_hello(c, 3, f->a.device_id, 1, NULL, NULL), 0);
	conn_close(c);
}

/* A pairing code printed with --pairing-ttl 1, used 1.1 s later: PAIRING_INVALID. A fresh
 * code for the same professional works. */
static void test_expired_pairing_code(void **state)
{
	struct fixture *f = *state;
	struct hx_device d;
	char code[32], pro[65];

	assert_int_equal(hx_professional_add(f->e, TEAM_A, "Dora Lenoir", "maraudeur", NULL, 1,
					     pro, code),
			 0);
	hx_sleep_ms(1100);
	assert_int_equal(hx_enrol(f->e, code, NULL, &d), VEILLE_ESERVER);
	assert_int_equal(last_code(&d), ERR(PAIRING_INVALID));
	hx_device_close(&d);

	assert_int_equal(hx_professional_pair(f->e, pro, 0, code), 0);
	assert_int_equal(hx_enrol_connect(f->e, code, &d), 0);
	hx_device_close(&d);
}

/* One code, two devices: the second enrolment gets PAIRING_INVALID. */
static void test_pairing_code_used_twice(void **state)
{
	struct fixture *f = *state;
	struct hx_device d1, d2;
	char code[32];

	assert_int_equal(hx_professional_add(f->e, TEAM_A, "Emile Roux", "maraudeur", NULL, 0,
					     NULL, code),
			 0);
	assert_int_equal(hx_enrol(f->e, code, NULL, &d1), 0);
	assert_int_equal(hx_enrol(f->e, code, NULL, &d2), VEILLE_ESERVER);
	assert_int_equal(last_code(&d2), ERR(PAIRING_INVALID));
	hx_device_close(&d1);
	hx_device_close(&d2);
}

/* Finds the row of id in veillectl list output and checks its status column. */
static void expect_listed(struct hx_env *e, const char *what, const char *id,
			  const char *status)
{
	struct hx_out out;
	char needle[128];
	const char *row;

	assert_int_equal(hx_ctl(e, &out, what, "list", (char *)NULL), 0);
	snprintf(needle, sizeof needle, "\n%s\t", id);
	row = strstr(out.out, needle);
	assert_non_null(row);
	snprintf(needle, sizeof needle, "\t%s\t", status);
	assert_non_null(strstr(row + 1, needle));
	assert_true(strstr(row + 1, needle) < strchr(row + 1, '\n'));
	hx_out_free(&out);
}

/*
 * `veillectl device revoke A` while A holds sessions: veilled closes them on its own (within
 * its once-a-second look; the wait here is bounded, not timed): two raw sessions
 * authenticated as A, sending nothing, get Error{DEVICE_REVOKED} (request id 0) and close
 * 1008. A's libveille client learns it at its next push or connection and wipes the device:
 * VEILLE_EREVOKED, then no key, no state, no local store in its directory
 * (VEILLE_ENOTENROLLED). A raw Hello + genuine proof of A gets DEVICE_REVOKED and close 1008.
 * A2, another device of the same professional, keeps working.
 */
static void test_revoked_device(void **state)
{
	struct fixture *f = *state;
	struct conn *r1 = hx_raw_open(f->e), *r2 = hx_raw_open(f->e), *r3;
	uint8_t nonce[PROOF_NONCE], sid[PROOF_ID], sig[PROOF_SIGNATURE];
	struct hx_batch *b = hx_batch_new(1, NULL, "revoked");
	struct hx_device a2;
	char code[32];

	assert_non_null(b);
	assert_int_equal(hx_professional_pair(f->e, f->alice, 0, code), 0);
	assert_int_equal(hx_enrol_connect(f->e, code, &a2), 0);
	assert_non_null(r1);
	assert_non_null(r2);
	assert_int_equal(hx_raw_auth(r1, &f->a), 0);
	assert_int_equal(hx_raw_auth(r2, &f->a), 0);

	assert_int_equal(hx_ctl(f->e, NULL, "device", "revoke", f->a.device_hex, (char *)NULL), 0);
	expect_listed(f->e, "device", f->a.device_hex, "revoked");
	expect_listed(f->e, "device", a2.device_hex, "active");

	expect_error(hx_raw_recv(r1, HX_TIMEOUT_MS), 0, ERR(DEVICE_REVOKED));
	assert_int_equal(hx_raw_wait_close(r1, HX_TIMEOUT_MS), 1008);
	expect_error(hx_raw_recv(r2, HX_TIMEOUT_MS), 0, ERR(DEVICE_REVOKED));
	assert_int_equal(hx_raw_wait_close(r2, HX_TIMEOUT_MS), 1008);

	/* A's own connection was closed the same way: its push hears the Error, or finds the
	 * connection gone and the next connection hears it. Either way the device is wiped. */
	{
		char path[PATH_MAX + 16];
		int rc = veille_push(f->a.c, b->ptrs, 1, b->res);

		if (rc != VEILLE_EREVOKED) {
			assert_true(rc == VEILLE_ECLOSED || rc == VEILLE_ECONN);
			assert_int_equal(veille_connect(f->a.c, -1), VEILLE_EREVOKED);
		}
		assert_int_equal(veille_connect(f->a.c, -1), VEILLE_ENOTENROLLED);
		snprintf(path, sizeof path, "%s/device.key", f->a.dir);
		assert_int_not_equal(access(path, F_OK), 0);
		snprintf(path, sizeof path, "%s/device.state", f->a.dir);
		assert_int_not_equal(access(path, F_OK), 0);
		snprintf(path, sizeof path, "%s/local", f->a.dir);
		assert_int_not_equal(access(path, F_OK), 0);
	}

	r3 = hx_raw_open(f->e);
	assert_non_null(r3);
	assert_int_equal(hx_raw_hello(r3, 1, f->a.device_id, 1, nonce, sid), 0);
	assert_int_equal(proof_auth(f->a.sk, nonce, sid, f->a.device_id, sig), 0);
	expect_error(hx_raw_proof(r3, 2, sig), 2, ERR(DEVICE_REVOKED));
	assert_int_equal(hx_raw_wait_close(r3, HX_TIMEOUT_MS), 1008);

	push_and_pull_ok(&a2);
	conn_close(r1);
	conn_close(r2);
	conn_close(r3);
	hx_device_close(&a2);
	hx_batch_free(b);
}

/*
 * `veillectl professional revoke alice`: all of Alice's devices are locked out (a raw session
 * of A2 authenticated before is closed by veilled with DEVICE_REVOKED and 1008; A cannot
 * connect and is wiped: VEILLE_EREVOKED), a new pairing code for Alice is PAIRING_INVALID,
 * and Bob of the same team keeps working.
 */
static void test_revoked_professional(void **state)
{
	struct fixture *f = *state;
	struct hx_device a2, a3, bob;
	struct conn *r;
	char code[32];

	assert_int_equal(hx_professional_pair(f->e, f->alice, 0, code), 0);
	assert_int_equal(hx_enrol_connect(f->e, code, &a2), 0);
	assert_int_equal(hx_new_device(f->e, TEAM_A, "Bob Durand", &bob), 0);
	r = hx_raw_open(f->e);
	assert_non_null(r);
	assert_int_equal(hx_raw_auth(r, &a2), 0);

	assert_int_equal(hx_ctl(f->e, NULL, "professional", "revoke", f->alice, (char *)NULL), 0);
	expect_listed(f->e, "professional", f->alice, "revoked");

	assert_int_equal(veille_connect(f->a.c, -1), VEILLE_EREVOKED);

	expect_error(hx_raw_recv(r, HX_TIMEOUT_MS), 0, ERR(DEVICE_REVOKED));
	assert_int_equal(hx_raw_wait_close(r, HX_TIMEOUT_MS), 1008);

	assert_int_equal(hx_professional_pair(f->e, f->alice, 0, code), 0);
	assert_int_equal(hx_enrol(f->e, code, NULL, &a3), VEILLE_ESERVER);
	assert_int_equal(last_code(&a3), ERR(PAIRING_INVALID));

	push_and_pull_ok(&bob);
	conn_close(r);
	hx_device_close(&a2);
	hx_device_close(&a3);
	hx_device_close(&bob);
}

/*
 * veilled with --auth-max-failures 3 --auth-window 3. On one connection, three Enrols with the
 * well-formed but unknown code ZZZZ-ZZZZ-ZZZZ: PAIRING_INVALID each, connection kept. The
 * fourth attempt from 127.0.0.1 gets RATE_LIMITED with 0 < retry_after_ms <= 3000 and close
 * 1008; so does, on a new connection, an Enrol with a genuine code, and a Hello of the
 * enrolled device A (the whole address is blocked). Once retry_after_ms has passed the genuine
 * code enrols.
 */
static void test_rate_limit(void **state)
{
	struct fixture *f = *state;
	Veille__V1__Envelope *reply;
	struct conn *c = hx_raw_open(f->e), *c2, *c3;
	struct hx_device d;
	uint32_t retry;
	char code[32];

	assert_non_null(c);
	assert_int_equal(hx_professional_add(f->e, TEAM_A, "Farid Benali", "maraudeur", NULL, 0,
					     NULL, code),
			 0);
	for (uint64_t i = 1; i <= 3; i++)
		expect_error(raw_enrol(c, i, "ZZZZ-ZZZZ-ZZZZ"), i, ERR(PAIRING_INVALID));
	assert_int_equal(conn_close_code(c), 0);

	reply = raw_enrol(c, 4, "ZZZZ-ZZZZ-ZZZZ");
	assert_int_equal(hx_error_code(reply), ERR(RATE_LIMITED));
	assert_int_equal(reply->request_id, 4);
	retry = reply->error->retry_after_ms;
	assert_true(retry > 0 && retry <= 3000);
	wire_free(reply);
	assert_int_equal(hx_raw_wait_close(c, HX_TIMEOUT_MS), 1008);

	c2 = hx_raw_open(f->e);
	assert_non_null(c2);
	reply = raw_enrol(c2, 1, code);
	assert_int_equal(hx_error_code(reply), ERR(RATE_LIMITED));
	assert_true(reply->error->retry_after_ms > 0);
	retry = reply->error->retry_after_ms;
	wire_free(reply);
	assert_int_equal(hx_raw_wait_close(c2, HX_TIMEOUT_MS), 1008);

	c3 = hx_raw_open(f->e);
	assert_non_null(c3);
	assert_int_equal(hx_raw_hello(c3, 1, f->a.device_id, 1, NULL, NULL), ERR(RATE_LIMITED));
	assert_int_equal(hx_raw_wait_close(c3, HX_TIMEOUT_MS), 1008);

	/* The window ends; the code was not used up by the refused attempt. */
	hx_sleep_ms(retry + 100);
	assert_int_equal(hx_enrol_connect(f->e, code, &d), 0);
	hx_device_close(&d);
	conn_close(c);
	conn_close(c2);
	conn_close(c3);
}

/*
 * veilled with --device-lease-seconds 1: device A authenticated (lease: 1 s), then closed.
 * Reopened 1.5 s later without the network, its local store is locked: queueing an op is
 * VEILLE_ELEASE and nothing is queued. A sync authenticates first (the key still
 * authenticates the device), which renews the lease and unlocks the store: the op is then
 * queued and synced.
 */
static void test_device_lease(void **state)
{
	struct fixture *f = *state;
	struct hx_mut m;
	size_t n = 99;

	assert_int_equal(hx_mut_init(&m, NULL, "après le bail"), 0);
	veille_close(f->a.c);
	f->a.c = NULL;
	hx_sleep_ms(1500);
	assert_int_equal(veille_open(&f->a.c, f->a.dir, NULL), 0);
	assert_int_equal(veille_outbox_add(f->a.c, &m.m), VEILLE_ELEASE);
	assert_int_equal(m.m.op_counter, 0);
	assert_int_equal(veille_outbox_count(f->a.c, &n), VEILLE_ELEASE);
	/* A sync authenticates first, which unlocks the store. */
	assert_int_equal(veille_sync(f->a.c, NULL), 0);
	assert_int_equal(veille_outbox_add(f->a.c, &m.m), 0);
	assert_int_equal(veille_sync(f->a.c, NULL), 0);
	assert_int_equal(veille_outbox_count(f->a.c, &n), 0);
	assert_int_equal(n, 0);
	hx_mut_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wrong_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proof_of_another_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_proof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proof_without_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_pairing_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pairing_code_used_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_professional, setup, teardown),
		cmocka_unit_test_prestate_setup_teardown(test_rate_limit, setup, teardown,
							 (void *)&rate_limited),
		cmocka_unit_test_prestate_setup_teardown(test_device_lease, setup, teardown,
							 (void *)&short_lease),
	};

	return cmocka_run_group_tests_name("integration_auth", tests, NULL, NULL);
}
