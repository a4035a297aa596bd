/* test_codec: decoding untrusted frames safely, and the limits of docs/protocol.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "frame.h"

/* ---- helpers ---- */

/* Packs env into a malloc'd buffer (caller frees). */
static uint8_t *pack_env(const Veille__V1__Envelope *env, size_t *len)
{
	uint8_t *buf = malloc(veille__v1__envelope__get_packed_size(env) + 1);

	assert_non_null(buf);
	*len = veille__v1__envelope__pack(env, buf);
	return buf;
}

/* Packs and decodes env; returns codec_decode's result, with *msg to free on 0. */
static int round_trip(const Veille__V1__Envelope *env, struct codec_msg *msg,
		      struct codec_error *err)
{
	size_t len;
	uint8_t *buf = pack_env(env, &len);
	int rc;

	err->code = -1;
	err->message = NULL;
	rc = codec_decode(buf, len, msg, err);
	free(buf);
	return rc;
}

/* Expects decoding env to fail with code. */
static void expect_refused(const Veille__V1__Envelope *env, int code)
{
	struct codec_msg msg;
	struct codec_error err;

	assert_int_equal(round_trip(env, &msg, &err), -1);
	assert_int_equal(err.code, code);
	assert_non_null(err.message);
	assert_null(msg.env);
	assert_null(msg.arena);
}

/* Expects decoding env to succeed; frees the result. */
static void expect_accepted(const Veille__V1__Envelope *env)
{
	struct codec_msg msg;
	struct codec_error err;

	assert_int_equal(round_trip(env, &msg, &err), 0);
	assert_non_null(msg.env);
	assert_int_equal(msg.env->body_case, env->body_case);
	codec_msg_free(&msg);
}

static size_t put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static const uint8_t DEVICE_ID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* An Envelope holding a Hello with a device id of idlen bytes. */
static void make_hello(Veille__V1__Envelope *env, Veille__V1__Hello *h, size_t idlen)
{
	static uint8_t id[32];

	memset(id, 0xab, sizeof(id));
	memcpy(id, DEVICE_ID, sizeof(DEVICE_ID));
	veille__v1__envelope__init(env);
	veille__v1__hello__init(h);
	h->protocol_version = 1;
	h->device_id.data = id;
	h->device_id.len = idlen;
	h->client = "veille-test/1.0";
	env->request_id = 7;
	env->body_case = VEILLE__V1__ENVELOPE__BODY_HELLO;
	env->hello = h;
}

/* A push of n mutations, all pointing at m. */
struct push {
	Veille__V1__Envelope env;
	Veille__V1__PushRequest req;
	Veille__V1__Mutation m;
	Veille__V1__Encounter enc;
	Veille__V1__Mutation **list;
};

static void make_push(struct push *p, size_t n)
{
	veille__v1__envelope__init(&p->env);
	veille__v1__push_request__init(&p->req);
	veille__v1__mutation__init(&p->m);
	veille__v1__encounter__init(&p->enc);
	p->enc.person_id = "0123456789abcdef0123456789abcdef";
	p->enc.occurred_at_ms = 1700000000000;
	p->enc.note = "rencontre";
	p->m.op_counter = 1;
	p->m.record_id = "fedcba9876543210fedcba9876543210";
	p->m.record_case = VEILLE__V1__MUTATION__RECORD_ENCOUNTER;
	p->m.encounter = &p->enc;
	p->list = calloc(n ? n : 1, sizeof(*p->list));
	assert_non_null(p->list);
	for (size_t i = 0; i < n; i++)
		p->list[i] = &p->m;
	p->req.n_mutations = n;
	p->req.mutations = p->list;
	p->env.request_id = 9;
	p->env.body_case = VEILLE__V1__ENVELOPE__BODY_PUSH;
	p->env.push = &p->req;
}

static void free_push(struct push *p)
{
	free(p->list);
}

/* ---- valid and malformed frames ---- */

static void test_decode_valid_hello(void **state)
{
	Veille__V1__Envelope env;
	Veille__V1__Hello h;
	struct codec_msg msg;
	struct codec_error err;

	(void)state;
	make_hello(&env, &h, 16);
	assert_int_equal(round_trip(&env, &msg, &err), 0);
	assert_int_equal(msg.env->request_id, 7);
	assert_int_equal(msg.env->body_case, VEILLE__V1__ENVELOPE__BODY_HELLO);
	assert_int_equal(msg.env->hello->protocol_version, 1);
	assert_int_equal(msg.env->hello->device_id.len, 16);
	assert_memory_equal(msg.env->hello->device_id.data, DEVICE_ID, 16);
	assert_string_equal(msg.env->hello->client, "veille-test/1.0");
	codec_msg_free(&msg);
	assert_null(msg.env);
	codec_msg_free(&msg); /* safe on a zeroed msg */
}

static void test_decode_empty_frame_has_no_body(void **state)
{
	struct codec_msg msg;
	struct codec_error err;

	(void)state;
	/* Zero bytes are a valid, empty Envelope: the session answers UNKNOWN_BODY. */
	assert_int_equal(codec_decode((const uint8_t *)"", 0, &msg, &err), 0);
	assert_int_equal(msg.env->body_case, VEILLE__V1__ENVELOPE__BODY__NOT_SET);
	codec_msg_free(&msg);
}

static void test_decode_garbage_is_malformed(void **state)
{
	/* Bad inputs: bytes that are not a protobuf Envelope. */
	static const uint8_t overlong_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t wire_type_7[] = {0x0f, 0x00};
	static const uint8_t field_zero[] = {0x00, 0x01};
	static const uint8_t length_past_end[] = {0x52, 0x7f, 0x01};
	static const uint8_t all_ff[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	/* A Hello (field 10) sent with varint wire type instead of length-delimited. */
	static const uint8_t wrong_wire_type[] = {0x50, 0x01};
	const struct {
		const uint8_t *p;
		size_t n;
	} cases[] = {
		{overlong_varint, sizeof(overlong_varint)}, {wire_type_7, sizeof(wire_type_7)},
		{field_zero, sizeof(field_zero)},           {length_past_end, sizeof(length_past_end)},
		{all_ff, sizeof(all_ff)},                   {wrong_wire_type, sizeof(wrong_wire_type)},
	};
	struct codec_msg msg;
	struct codec_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.code = -1;
		assert_int_equal(codec_decode(cases[i].p, cases[i].n, &msg, &err), -1);
		assert_int_equal(err.code, VEILLE_ERR(MALFORMED));
		assert_null(msg.env);
	}
}

static void test_decode_truncated_is_malformed(void **state)
{
	Veille__V1__Envelope env;
	Veille__V1__Hello h;
	struct codec_msg msg;
	struct codec_error err;
	uint8_t *buf;
	size_t len;

	(void)state;
	make_hello(&env, &h, 16);
	buf = pack_env(&env, &len);
	/* The frame is request_id (2 bytes), then the Hello's tag, length and body. Bad input:
	 * every prefix that cuts into the Hello (3 .. len-1 bytes), and the lone first tag. */
	for (size_t n = 3; n < len; n++) {
		err.code = -1;
		assert_int_equal(codec_decode(buf, n, &msg, &err), -1);
		assert_int_equal(err.code, VEILLE_ERR(MALFORMED));
	}
	assert_int_equal(codec_decode(buf, 1, &msg, &err), -1);
	assert_int_equal(err.code, VEILLE_ERR(MALFORMED));
	free(buf);
}

/* ---- limits ---- */

static void test_push_1001_mutations_is_limit_exceeded(void **state)
{
	struct push p;

	(void)state;
	/* Bad input: one mutation over CODEC_MAX_MUTATIONS. */
	make_push(&p, CODEC_MAX_MUTATIONS + 1);
	expect_refused(&p.env, VEILLE_ERR(LIMIT_EXCEEDED));
	free_push(&p);
}

static void test_push_1000_mutations_accepted(void **state)
{
	struct push p;
	struct codec_msg msg;
	struct codec_error err;

	(void)state;
	make_push(&p, CODEC_MAX_MUTATIONS);
	assert_int_equal(round_trip(&p.env, &msg, &err), 0);
	assert_int_equal(msg.env->push->n_mutations, CODEC_MAX_MUTATIONS);
	assert_string_equal(msg.env->push->mutations[999]->encounter->note, "rencontre");
	codec_msg_free(&msg);
	free_push(&p);
}

static void test_empty_push_is_invalid(void **state)
{
	struct push p;

	(void)state;
	/* Bad input: a PushRequest with no mutation. */
	make_push(&p, 0);
	expect_refused(&p.env, VEILLE_ERR(INVALID_ARGUMENT));
	free_push(&p);
}

static void test_note_limit(void **state)
{
	struct push p;
	char *note = malloc(CODEC_MAX_NOTE + 2);

	(void)state;
	assert_non_null(note);
	make_push(&p, 1);
	memset(note, 'a', CODEC_MAX_NOTE);
	note[CODEC_MAX_NOTE] = '\0';
	p.enc.note = note;
	expect_accepted(&p.env);
	/* Bad input: a note of 4097 bytes. */
	note[CODEC_MAX_NOTE] = 'a';
	note[CODEC_MAX_NOTE + 1] = '\0';
	expect_refused(&p.env, VEILLE_ERR(LIMIT_EXCEEDED));
	/* 4096 bytes of multi-byte UTF-8 (2048 x "é") are fine too. */
	for (size_t i = 0; i < CODEC_MAX_NOTE; i += 2) {
		note[i] = (char)0xc3;
		note[i + 1] = (char)0xa9;
	}
	note[CODEC_MAX_NOTE] = '\0';
	expect_accepted(&p.env);
	free(note);
	free_push(&p);
}

static void test_needs_and_services_limit(void **state)
{
	struct push p;
	Veille__V1__Need needs[CODEC_MAX_LIST + 1];
	Veille__V1__Service services[CODEC_MAX_LIST + 1];

	(void)state;
	for (size_t i = 0; i <= CODEC_MAX_LIST; i++) {
		needs[i] = VEILLE__V1__NEED__NEED_FOOD;
		services[i] = VEILLE__V1__SERVICE__SERVICE_TALK;
	}
	make_push(&p, 1);
	p.enc.needs = needs;
	p.enc.n_needs = CODEC_MAX_LIST;
	p.enc.services = services;
	p.enc.n_services = CODEC_MAX_LIST;
	expect_accepted(&p.env);
	/* Bad input: 17 needs. */
	p.enc.n_needs = CODEC_MAX_LIST + 1;
	expect_refused(&p.env, VEILLE_ERR(LIMIT_EXCEEDED));
	/* Bad input: 17 services. */
	p.enc.n_needs = 1;
	p.enc.n_services = CODEC_MAX_LIST + 1;
	expect_refused(&p.env, VEILLE_ERR(LIMIT_EXCEEDED));
	free_push(&p);
}

static void test_other_string_limits(void **state)
{
	struct push p;
	Veille__V1__Location loc = VEILLE__V1__LOCATION__INIT;
	char longid[CODEC_MAX_ID + 2];

	(void)state;
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	make_push(&p, 1);
	loc.area = "Paris 13e";
	loc.geohash = "u09tun";
	p.enc.location = &loc;
	expect_accepted(&p.env);
	/* Bad input: a geohash of 7 characters. */
	loc.geohash = "u09tunq";
	expect_refused(&p.env, VEILLE_ERR(LIMIT_EXCEEDED));
	loc.geohash = "u09tun";
	/* Bad input: a record_id of 65 bytes. */
	p.m.record_id = longid;
	expect_refused(&p.env, VEILLE_ERR(LIMIT_EXCEEDED));
	free_push(&p);
}

static void test_invalid_utf8_note_is_invalid_argument(void **state)
{
	struct push p;

	(void)state;
	make_push(&p, 1);
	/* Bad input: a note holding a lone continuation byte 0x80. */
	p.enc.note = "caf\x80 chaud";
	expect_refused(&p.env, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: a note holding an overlong encoding of '/' (C0 AF). */
	p.enc.note = "a\xc0\xaf";
	expect_refused(&p.env, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: a Latin-1 'é' (E9) where UTF-8 is required. */
	p.enc.note = "caf\xe9";
	expect_refused(&p.env, VEILLE_ERR(INVALID_ARGUMENT));
	free_push(&p);
}

static void test_hello_device_id_length(void **state)
{
	Veille__V1__Envelope env;
	Veille__V1__Hello h;

	(void)state;
	/* Bad input: a device_id of 15 bytes. */
	make_hello(&env, &h, 15);
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: a device_id of 17 bytes. */
	make_hello(&env, &h, 17);
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: a client name of 65 bytes. */
	make_hello(&env, &h, 16);
	h.client = "0123456789012345678901234567890123456789012345678901234567890123X";
	expect_refused(&env, VEILLE_ERR(LIMIT_EXCEEDED));
}

static void test_enrol_and_proof_lengths(void **state)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__Enrol en = VEILLE__V1__ENROL__INIT;
	Veille__V1__AuthProof pr = VEILLE__V1__AUTH_PROOF__INIT;
	uint8_t key[32] = {0}, sig[64] = {0};

	(void)state;
	en.pairing_code = "ABCD-EFGH-JKMN";
	en.label = "telephone maraude";
	en.public_key.data = key;
	en.public_key.len = 32;
	en.signature.data = sig;
	en.signature.len = 64;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_ENROL;
	env.enrol = &en;
	expect_accepted(&env);
	/* Bad input: an Enrol public key of 31 bytes. */
	en.public_key.len = 31;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	en.public_key.len = 32;
	/* Bad input: an Enrol signature of 63 bytes. */
	en.signature.len = 63;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));

	env.body_case = VEILLE__V1__ENVELOPE__BODY_AUTH_PROOF;
	env.auth_proof = &pr;
	pr.signature.data = sig;
	pr.signature.len = 64;
	expect_accepted(&env);
	/* Bad input: an AuthProof with an empty signature. */
	pr.signature.len = 0;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
}

/* Frame = Envelope.push (field 20) of n mutations each encoded as the 2 bytes "0a 00" (an
 * empty Mutation): 2 bytes on the wire, a whole Mutation struct plus a pointer in memory. */
static uint8_t *mutation_bomb(size_t n, size_t *len)
{
	uint8_t *buf = malloc(2 * n + 16);
	size_t o = 0;

	assert_non_null(buf);
	buf[o++] = 0xa2; /* field 20, length-delimited */
	buf[o++] = 0x01;
	o += put_varint(buf + o, 2 * n);
	for (size_t i = 0; i < n; i++) {
		buf[o++] = 0x0a; /* PushRequest.mutations */
		buf[o++] = 0x00;
	}
	*len = o;
	return buf;
}

static void test_decode_bomb_of_empty_mutations(void **state)
{
	struct codec_msg msg;
	struct codec_error err;
	size_t len;
	/* Bad input: ~1 MiB of empty Mutation submessages (524288 of them). */
	uint8_t *buf = mutation_bomb(512u * 1024, &len);

	(void)state;
	err.code = -1;
	assert_int_equal(codec_decode(buf, len, &msg, &err), -1);
	assert_int_equal(err.code, VEILLE_ERR(LIMIT_EXCEEDED));
	assert_null(msg.env);
	free(buf);
}

static void test_decode_bomb_of_unknown_fields(void **state)
{
	struct codec_msg msg;
	struct codec_error err;
	const size_t n = 350u * 1024;
	uint8_t *buf = malloc(3 * n);
	size_t o = 0;

	(void)state;
	assert_non_null(buf);
	/* Bad input: ~1 MiB of unknown varint fields (field 99 = 0), 3 bytes each on the wire,
	 * each kept by protobuf-c as an unknown-field record. */
	for (size_t i = 0; i < n; i++) {
		buf[o++] = 0x98;
		buf[o++] = 0x06;
		buf[o++] = 0x00;
	}
	err.code = -1;
	assert_int_equal(codec_decode(buf, o, &msg, &err), -1);
	assert_int_equal(err.code, VEILLE_ERR(LIMIT_EXCEEDED));
	assert_null(msg.env);
	free(buf);
}

static void test_decode_packed_needs_bomb(void **state)
{
	struct codec_msg msg;
	struct codec_error err;
	const size_t n = 1u << 20;
	uint8_t *buf = malloc(n + 64), enc[32];
	size_t o = 0, e = 0, mlen, plen;

	(void)state;
	assert_non_null(buf);
	/* Bad input: an Encounter whose packed `needs` (field 6) holds 1 Mi zero bytes, i.e.
	 * 1 Mi enum values (4 MiB in memory) where at most 16 are allowed. */
	enc[e++] = 0x32; /* Encounter.needs, packed */
	e += put_varint(enc + e, n);
	mlen = 1 + put_varint(buf, e + n) + e + n;          /* Mutation.encounter (field 10) */
	plen = 1 + put_varint(buf, mlen) + mlen;            /* PushRequest.mutations */
	buf[o++] = 0xa2;                                    /* Envelope.push */
	buf[o++] = 0x01;
	o += put_varint(buf + o, plen);
	buf[o++] = 0x0a;
	o += put_varint(buf + o, mlen);
	buf[o++] = 0x52;
	o += put_varint(buf + o, e + n);
	memcpy(buf + o, enc, e);
	o += e;
	memset(buf + o, 0, n);
	o += n;
	err.code = -1;
	assert_int_equal(codec_decode(buf, o, &msg, &err), -1);
	assert_int_equal(err.code, VEILLE_ERR(LIMIT_EXCEEDED));
	free(buf);
}

static void test_unknown_oneof_field_decodes_without_body(void **state)
{
	/* Envelope{request_id = 5, field 99 (length-delimited) = "hi"}: 99 << 3 | 2 = 794 =
	 * varint 9a 06. A newer client's body this server does not know. */
	static const uint8_t frame[] = {0x08, 0x05, 0x9a, 0x06, 0x02, 'h', 'i'};
	struct codec_msg msg;
	struct codec_error err;

	(void)state;
	assert_int_equal(codec_decode(frame, sizeof(frame), &msg, &err), 0);
	assert_int_equal(msg.env->request_id, 5);
	assert_int_equal(msg.env->body_case, VEILLE__V1__ENVELOPE__BODY__NOT_SET);
	codec_msg_free(&msg);
}

static void test_server_body_as_request_is_invalid(void **state)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__Challenge ch = VEILLE__V1__CHALLENGE__INIT;
	Veille__V1__AuthOk ok = VEILLE__V1__AUTH_OK__INIT;
	Veille__V1__EnrolOk eok = VEILLE__V1__ENROL_OK__INIT;
	Veille__V1__Error er = VEILLE__V1__ERROR__INIT;
	Veille__V1__PushResult pr = VEILLE__V1__PUSH_RESULT__INIT;
	Veille__V1__PullResult pl = VEILLE__V1__PULL_RESULT__INIT;
	uint8_t nonce[32] = {0};

	(void)state;
	ch.nonce.data = nonce;
	ch.nonce.len = 32;
	/* Bad input: each server-to-client body sent by a client. */
	env.body_case = VEILLE__V1__ENVELOPE__BODY_CHALLENGE;
	env.challenge = &ch;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	env.body_case = VEILLE__V1__ENVELOPE__BODY_AUTH_OK;
	env.auth_ok = &ok;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	env.body_case = VEILLE__V1__ENVELOPE__BODY_ENROL_OK;
	env.enrol_ok = &eok;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	env.body_case = VEILLE__V1__ENVELOPE__BODY_ERROR;
	env.error = &er;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	env.body_case = VEILLE__V1__ENVELOPE__BODY_PUSH_RESULT;
	env.push_result = &pr;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	env.body_case = VEILLE__V1__ENVELOPE__BODY_PULL_RESULT;
	env.pull_result = &pl;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
}

static void test_stats_request_days(void **state)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__StatsRequest sr = VEILLE__V1__STATS_REQUEST__INIT;
	Veille__V1__StatsResult res = VEILLE__V1__STATS_RESULT__INIT;

	(void)state;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_STATS_REQUEST;
	env.stats_request = &sr;
	expect_accepted(&env); /* empty days: today */
	sr.from_day = "2026-02-28";
	sr.to_day = "2026-03-30";
	expect_accepted(&env); /* order and span are the handler's */
	/* Bad input: days not written YYYY-MM-DD, or not dates. */
	sr.to_day = "2026-02-30";
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	sr.to_day = "aujourd'hui";
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	sr.to_day = "";
	sr.from_day = "2026-3-1";
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	sr.from_day = "\xff\xfe";
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: the answer sent as a request. */
	env.body_case = VEILLE__V1__ENVELOPE__BODY_STATS_RESULT;
	env.stats_result = &res;
	expect_refused(&env, VEILLE_ERR(INVALID_ARGUMENT));
}

/* ---- encode ---- */

static void test_encode_decode_round_trip(void **state)
{
	struct push p;
	struct frame *f;
	struct codec_msg msg;
	struct codec_error err;
	Veille__V1__Need needs[2] = {VEILLE__V1__NEED__NEED_SHELTER, VEILLE__V1__NEED__NEED_FOOD};
	const Veille__V1__Encounter *e;

	(void)state;
	make_push(&p, 2);
	p.enc.needs = needs;
	p.enc.n_needs = 2;
	p.enc.note = "duvet donné, orientation 115";
	f = codec_encode(&p.env);
	assert_non_null(f);
	assert_int_equal(f->refs, 1);
	assert_int_equal(f->len, veille__v1__envelope__get_packed_size(&p.env));
	assert_int_equal(codec_decode(f->data, f->len, &msg, &err), 0);
	assert_int_equal(msg.env->request_id, 9);
	assert_int_equal(msg.env->push->n_mutations, 2);
	assert_int_equal(msg.env->push->mutations[1]->op_counter, 1);
	assert_string_equal(msg.env->push->mutations[1]->record_id, p.m.record_id);
	e = msg.env->push->mutations[1]->encounter;
	assert_string_equal(e->person_id, p.enc.person_id);
	assert_int_equal(e->occurred_at_ms, p.enc.occurred_at_ms);
	assert_int_equal(e->n_needs, 2);
	assert_int_equal(e->needs[1], VEILLE__V1__NEED__NEED_FOOD);
	assert_string_equal(e->note, "duvet donné, orientation 115");
	codec_msg_free(&msg);
	frame_unref(f);
	free_push(&p);
}

static void test_encode_error(void **state)
{
	struct frame *f = codec_encode_error(77, VEILLE_ERR(RATE_LIMITED), "slow down", 1500);
	Veille__V1__Envelope *env;

	(void)state;
	assert_non_null(f);
	/* Error is a server-to-client body, so read it back with protobuf-c directly. */
	env = veille__v1__envelope__unpack(NULL, f->len, f->data);
	assert_non_null(env);
	assert_int_equal(env->request_id, 77);
	assert_int_equal(env->body_case, VEILLE__V1__ENVELOPE__BODY_ERROR);
	assert_int_equal(env->error->code, VEILLE_ERR(RATE_LIMITED));
	assert_string_equal(env->error->message, "slow down");
	assert_int_equal(env->error->retry_after_ms, 1500);
	veille__v1__envelope__free_unpacked(env, NULL);
	frame_unref(f);
}

static void test_stored_pack_unpack(void **state)
{
	Veille__Store__V1__Structure s = VEILLE__STORE__V1__STRUCTURE__INIT;
	Veille__Store__V1__Structure *back;
	uint8_t *buf;
	size_t len;

	(void)state;
	s.id = "maraude-13";
	s.name = "Maraude Paris 13";
	s.kind = VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_EQUIPE_MOBILE;
	s.territory = "75";
	assert_int_equal(codec_pack(&s.base, &buf, &len), 0);
	back = (Veille__Store__V1__Structure *)codec_unpack(
		&veille__store__v1__structure__descriptor, buf, len);
	assert_non_null(back);
	assert_string_equal(back->name, "Maraude Paris 13");
	assert_int_equal(back->kind, s.kind);
	codec_stored_free(&back->base);
	/* Bad input: the packed bytes cut by one (inside the last field, territory). */
	assert_null(codec_unpack(&veille__store__v1__structure__descriptor, buf, len - 1));
	free(buf);
	codec_stored_free(NULL);
}

static void test_error_name(void **state)
{
	(void)state;
	assert_string_equal(codec_error_name(VEILLE_ERR(MALFORMED)), "MALFORMED");
	assert_string_equal(codec_error_name(VEILLE_ERR(LIMIT_EXCEEDED)), "LIMIT_EXCEEDED");
	assert_string_equal(codec_error_name(VEILLE_ERR(UNAVAILABLE)), "UNAVAILABLE");
	assert_string_equal(codec_error_name(VEILLE_ERR(UNSPECIFIED)), "UNSPECIFIED");
	assert_string_equal(codec_error_name(999), "UNKNOWN");
	assert_string_equal(codec_error_name(-1), "UNKNOWN");
}

/* ---- UTF-8 ---- */

#define U(s) codec_utf8_valid(s, sizeof(s) - 1)

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(U(""));
	assert_true(U("plain ASCII"));
	assert_true(U("\xc3\xa9"));             /* é, 2 bytes */
	assert_true(U("\xe2\x82\xac"));         /* €, 3 bytes */
	assert_true(U("\xf0\x9f\x98\x80"));     /* U+1F600, 4 bytes */
	assert_true(U("\xf4\x8f\xbf\xbf"));     /* U+10FFFF, the largest code point */
	assert_true(U("\xc2\x80"));             /* U+0080, smallest 2-byte */
	assert_true(U("\xe0\xa0\x80"));         /* U+0800, smallest 3-byte */
	assert_true(U("\xf0\x90\x80\x80"));     /* U+10000, smallest 4-byte */
	assert_true(U("\xed\x9f\xbf"));         /* U+D7FF, just below the surrogates */
	assert_true(U("\xee\x80\x80"));         /* U+E000, just above them */
	assert_true(U("\xef\xbf\xbf"));         /* U+FFFF */
	/* The length is honoured: a NUL inside is a character, bytes past len are not read. */
	assert_true(codec_utf8_valid("a\0b", 3));
	assert_true(codec_utf8_valid("ab\xff", 2));
}

static void test_utf8_invalid(void **state)
{
	(void)state;
	/* Bad inputs, one per line. */
	assert_false(U("\xc0\x80"));             /* overlong NUL */
	assert_false(U("\xc1\xbf"));             /* overlong 2-byte */
	assert_false(U("\xe0\x80\xaf"));         /* overlong '/' in 3 bytes */
	assert_false(U("\xe0\x9f\xbf"));         /* overlong U+07FF */
	assert_false(U("\xf0\x80\x80\xaf"));     /* overlong '/' in 4 bytes */
	assert_false(U("\xf0\x8f\xbf\xbf"));     /* overlong U+FFFF */
	assert_false(U("\xed\xa0\x80"));         /* U+D800, high surrogate */
	assert_false(U("\xed\xbf\xbf"));         /* U+DFFF, low surrogate */
	assert_false(U("\xed\xa0\xbd\xed\xb8\x80")); /* CESU-8 surrogate pair */
	assert_false(U("\xf4\x90\x80\x80"));     /* U+110000, over the maximum */
	assert_false(U("\xf5\x80\x80\x80"));     /* lead byte F5 */
	assert_false(U("\xf8\x88\x80\x80\x80")); /* 5-byte form */
	assert_false(U("\xfc\x84\x80\x80\x80\x80")); /* 6-byte form */
	assert_false(U("\xfe"));                 /* never valid */
	assert_false(U("\xff"));
	assert_false(U("\x80"));                 /* lone continuation */
	assert_false(U("a\xbf"));
	assert_false(U("\xc3"));                 /* truncated 2-byte */
	assert_false(U("\xe2\x82"));             /* truncated 3-byte */
	assert_false(U("\xf0\x9f\x98"));         /* truncated 4-byte */
	assert_false(U("\xe2\x82x"));            /* non-continuation inside */
	assert_false(U("\xc3("));
	assert_false(codec_utf8_valid("\xc3\xa9", 1)); /* cut by len */
	assert_false(codec_utf8_valid("ok\xf0\x9f\x98\x80", 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid_hello),
		cmocka_unit_test(test_decode_empty_frame_has_no_body),
		cmocka_unit_test(test_decode_garbage_is_malformed),
		cmocka_unit_test(test_decode_truncated_is_malformed),
		cmocka_unit_test(test_push_1001_mutations_is_limit_exceeded),
		cmocka_unit_test(test_push_1000_mutations_accepted),
		cmocka_unit_test(test_empty_push_is_invalid),
		cmocka_unit_test(test_note_limit),
		cmocka_unit_test(test_needs_and_services_limit),
		cmocka_unit_test(test_other_string_limits),
		cmocka_unit_test(test_invalid_utf8_note_is_invalid_argument),
		cmocka_unit_test(test_hello_device_id_length),
		cmocka_unit_test(test_enrol_and_proof_lengths),
		cmocka_unit_test(test_decode_bomb_of_empty_mutations),
		cmocka_unit_test(test_decode_bomb_of_unknown_fields),
		cmocka_unit_test(test_decode_packed_needs_bomb),
		cmocka_unit_test(test_unknown_oneof_field_decodes_without_body),
		cmocka_unit_test(test_server_body_as_request_is_invalid),
		cmocka_unit_test(test_encode_decode_round_trip),
		cmocka_unit_test(test_stats_request_days),
		cmocka_unit_test(test_encode_error),
		cmocka_unit_test(test_stored_pack_unpack),
		cmocka_unit_test(test_error_name),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
