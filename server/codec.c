/* codec: see codec.h. */
#include "codec.h"

#include "arena.h"
#include "calendar.h"
#include "frame.h"

#include <stdlib.h>
#include <string.h>

/* ---- validation ---- */

int codec_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned min, cp;

		if (c < 0x80) {
			/* ASCII runs, the common case, a word at a time. */
			while (i + 8 <= len) {
				uint64_t w;

				memcpy(&w, s + i, 8);
				if (w & 0x8080808080808080ull)
					break;
				i += 8;
			}
			if (i < len && s[i] < 0x80)
				i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			n = 1, min = 0x80, cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2, min = 0x800, cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

#define FAIL(c, m)                                                                           \
	do {                                                                                 \
		err->code = VEILLE_ERR(c);                                     \
		err->message = (m);                                                          \
		return -1;                                                                   \
	} while (0)

/* A string field: at most max bytes of valid UTF-8. */
static int check_str(const char *s, size_t max, const char *what, struct codec_error *err)
{
	size_t n = strlen(s);

	if (n > max)
		FAIL(LIMIT_EXCEEDED, what);
	if (!codec_utf8_valid(s, n))
		FAIL(INVALID_ARGUMENT, "string is not valid UTF-8");
	return 0;
}

/* A bytes field of exactly n bytes (or empty if allowed). */
static int check_bytes(ProtobufCBinaryData b, size_t n, const char *what,
		       struct codec_error *err)
{
	if (b.len != n)
		FAIL(INVALID_ARGUMENT, what);
	return 0;
}

static int check_encounter(const Veille__V1__Encounter *e, struct codec_error *err)
{
	if (check_str(e->person_id, CODEC_MAX_ID, "person_id too long", err) ||
	    check_str(e->team_id, CODEC_MAX_ID, "team_id too long", err) ||
	    check_str(e->author_id, CODEC_MAX_ID, "author_id too long", err) ||
	    check_str(e->note, CODEC_MAX_NOTE, "note over 4096 bytes", err) ||
	    check_str(e->health_note, CODEC_MAX_NOTE, "health_note over 4096 bytes", err))
		return -1;
	if (e->n_needs > CODEC_MAX_LIST)
		FAIL(LIMIT_EXCEEDED, "more than 16 needs");
	if (e->n_services > CODEC_MAX_LIST)
		FAIL(LIMIT_EXCEEDED, "more than 16 services");
	if (e->location && (check_str(e->location->area, CODEC_MAX_LABEL, "area too long", err) ||
			    check_str(e->location->geohash, 6, "geohash over 6 characters", err)))
		return -1;
	return 0;
}

static int check_person(const Veille__V1__Person *p, struct codec_error *err)
{
	if (p->n_fields > CODEC_MAX_LIST)
		FAIL(LIMIT_EXCEEDED, "more than 16 person fields");
	if (check_str(p->team_id, CODEC_MAX_ID, "team_id too long", err))
		return -1;
	for (size_t i = 0; i < p->n_fields; i++) {
		const Veille__V1__PersonFieldValue *f = p->fields[i];

		if (f->hlc && f->hlc->device_id.len > 16)
			FAIL(LIMIT_EXCEEDED, "hlc device_id over 16 bytes");
		if (f->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT &&
		    check_str(f->text, CODEC_MAX_NOTE, "person field text over 4096 bytes", err))
			return -1;
	}
	return 0;
}

static int check_orientation(const Veille__V1__Mutation *m, struct codec_error *err)
{
	if (m->record_case == VEILLE__V1__MUTATION__RECORD_REQUEST) {
		const Veille__V1__Request *q = m->request;

		if (check_str(q->person_id, CODEC_MAX_ID, "person_id too long", err) ||
		    check_str(q->requester_id, CODEC_MAX_ID, "requester_id too long", err) ||
		    check_str(q->author_id, CODEC_MAX_ID, "author_id too long", err) ||
		    check_str(q->languages, 256, "languages over 256 bytes", err) ||
		    check_str(q->note, CODEC_MAX_NOTE, "note over 4096 bytes", err) ||
		    check_str(q->territory, CODEC_MAX_TERRITORY, "territory too long", err) ||
		    check_str(q->requester_name, CODEC_MAX_NAME, "requester_name too long", err))
			return -1;
		if (q->n_categories > CODEC_MAX_CATEGORIES)
			FAIL(LIMIT_EXCEEDED, "more than 7 categories");
	} else if (m->record_case == VEILLE__V1__MUTATION__RECORD_PROPOSAL) {
		const Veille__V1__Proposal *p = m->proposal;

		if (check_str(p->request_id, CODEC_MAX_ID, "request_id too long", err) ||
		    check_str(p->centre_id, CODEC_MAX_ID, "centre_id too long", err) ||
		    check_str(p->siao_id, CODEC_MAX_ID, "siao_id too long", err) ||
		    check_str(p->author_id, CODEC_MAX_ID, "author_id too long", err) ||
		    check_str(p->request_team_id, CODEC_MAX_ID, "request_team_id too long", err) ||
		    check_str(p->request_team_name, CODEC_MAX_NAME, "request_team_name too long",
			      err))
			return -1;
	} else if (m->record_case == VEILLE__V1__MUTATION__RECORD_DECISION) {
		const Veille__V1__Decision *d = m->decision;

		if (check_str(d->proposal_id, CODEC_MAX_ID, "proposal_id too long", err) ||
		    check_str(d->motive_text, CODEC_MAX_NOTE, "motive_text over 4096 bytes", err) ||
		    check_str(d->person_id, CODEC_MAX_ID, "person_id too long", err) ||
		    check_str(d->extension_motive, CODEC_MAX_NOTE,
			      "extension_motive over 4096 bytes", err) ||
		    check_str(d->centre_id, CODEC_MAX_ID, "centre_id too long", err) ||
		    check_str(d->author_id, CODEC_MAX_ID, "author_id too long", err) ||
		    check_str(d->request_id, CODEC_MAX_ID, "request_id too long", err) ||
		    check_str(d->siao_id, CODEC_MAX_ID, "siao_id too long", err) ||
		    check_str(d->request_team_id, CODEC_MAX_ID, "request_team_id too long", err) ||
		    check_str(d->centre_name, CODEC_MAX_NAME, "centre_name too long", err) ||
		    check_str(d->request_team_name, CODEC_MAX_NAME, "request_team_name too long",
			      err))
			return -1;
		if (d->n_reminders > CODEC_MAX_LIST)
			FAIL(LIMIT_EXCEEDED, "more than 16 reminders");
	}
	return 0;
}

static int check_push(const Veille__V1__PushRequest *p, struct codec_error *err)
{
	if (p->n_mutations == 0)
		FAIL(INVALID_ARGUMENT, "empty push");
	if (p->n_mutations > CODEC_MAX_MUTATIONS)
		FAIL(LIMIT_EXCEEDED, "more than 1000 mutations in one push");
	for (size_t i = 0; i < p->n_mutations; i++) {
		const Veille__V1__Mutation *m = p->mutations[i];

		if (check_str(m->record_id, CODEC_MAX_ID, "record_id too long", err))
			return -1;
		if (m->record_case == VEILLE__V1__MUTATION__RECORD_ENCOUNTER &&
		    check_encounter(m->encounter, err))
			return -1;
		if (m->record_case == VEILLE__V1__MUTATION__RECORD_PERSON &&
		    check_person(m->person, err))
			return -1;
		if (check_orientation(m, err))
			return -1;
		if (m->device_id.len > 16)
			FAIL(LIMIT_EXCEEDED, "device_id over 16 bytes");
	}
	return 0;
}

static int check_counts(Veille__V1__CategoryCount *const *counts, size_t n, struct codec_error *err)
{
	uint32_t seen = 0;

	if (n > CODEC_MAX_CATEGORIES)
		FAIL(LIMIT_EXCEEDED, "more entries than place categories");
	for (size_t i = 0; i < n; i++) {
		int c = (int)counts[i]->category;

		if (c <= 0 || c > CODEC_MAX_CATEGORIES)
			FAIL(INVALID_ARGUMENT, "unknown place category");
		if (seen & (1u << c))
			FAIL(INVALID_ARGUMENT, "a place category given twice");
		seen |= 1u << c;
	}
	return 0;
}

static int check_subscribe(const Veille__V1__SubscribePlaces *sp, struct codec_error *err)
{
	if (sp->n_territories > CODEC_MAX_LIST)
		FAIL(LIMIT_EXCEEDED, "more than 16 territories");
	for (size_t i = 0; i < sp->n_territories; i++)
		if (check_str(sp->territories[i], CODEC_MAX_TERRITORY, "territory code too long", err))
			return -1;
	if (sp->n_categories > CODEC_MAX_CATEGORIES)
		FAIL(LIMIT_EXCEEDED, "more categories than there are");
	for (size_t i = 0; i < sp->n_categories; i++)
		if ((int)sp->categories[i] <= 0 || (int)sp->categories[i] > CODEC_MAX_CATEGORIES)
			FAIL(INVALID_ARGUMENT, "unknown place category");
	return 0;
}

/* Days are "YYYY-MM-DD" or empty (today); their order and span are the handler's (stats.c),
 * which knows what day it is. */
static int check_stats(const Veille__V1__StatsRequest *r, struct codec_error *err)
{
	int64_t n;

	if ((r->from_day[0] && calendar_day_number(r->from_day, &n) != 0) ||
	    (r->to_day[0] && calendar_day_number(r->to_day, &n) != 0))
		FAIL(INVALID_ARGUMENT, "a day is a date written YYYY-MM-DD, or empty for today");
	return 0;
}

static int validate(const Veille__V1__Envelope *env, struct codec_error *err)
{
	switch (env->body_case) {
	case VEILLE__V1__ENVELOPE__BODY_HELLO:
		return check_bytes(env->hello->device_id, 16, "device_id must be 16 bytes", err) ||
		       check_str(env->hello->client, CODEC_MAX_LABEL, "client name too long", err);
	case VEILLE__V1__ENVELOPE__BODY_AUTH_PROOF:
		return check_bytes(env->auth_proof->signature, 64, "signature must be 64 bytes",
				   err);
	case VEILLE__V1__ENVELOPE__BODY_ENROL:
		return check_str(env->enrol->pairing_code, CODEC_MAX_PAIRING_CODE,
				 "pairing code too long", err) ||
		       check_str(env->enrol->label, CODEC_MAX_LABEL, "label too long", err) ||
		       check_bytes(env->enrol->public_key, 32, "public_key must be 32 bytes",
				   err) ||
		       check_bytes(env->enrol->signature, 64, "signature must be 64 bytes", err);
	case VEILLE__V1__ENVELOPE__BODY_PUSH:
		return check_push(env->push, err);
	case VEILLE__V1__ENVELOPE__BODY_DECLARE_VACANCIES:
		return check_counts(env->declare_vacancies->vacancies,
				    env->declare_vacancies->n_vacancies, err);
	case VEILLE__V1__ENVELOPE__BODY_SUBSCRIBE_PLACES:
		return check_subscribe(env->subscribe_places, err);
	case VEILLE__V1__ENVELOPE__BODY_STATS_REQUEST:
		return check_stats(env->stats_request, err);
	case VEILLE__V1__ENVELOPE__BODY_PULL:
	case VEILLE__V1__ENVELOPE__BODY__NOT_SET: /* the session answers UNKNOWN_BODY */
		return 0;
	default:
		FAIL(INVALID_ARGUMENT, "server-to-client message sent as a request");
	}
}

int codec_decode(const uint8_t *data, size_t len, struct codec_msg *out, struct codec_error *err)
{
	ProtobufCAllocator alloc;

	memset(out, 0, sizeof(*out));
	err->request_id = 0;
	out->arena = arena_new(CODEC_DECODE_BUDGET);
	if (!out->arena)
		FAIL(INTERNAL, "out of memory");
	alloc = arena_allocator(out->arena);
	out->env = veille__v1__envelope__unpack(&alloc, len, data);
	if (!out->env) {
		int over = arena_exhausted(out->arena);

		codec_msg_free(out);
		if (over)
			FAIL(LIMIT_EXCEEDED, "message needs more than 8 MiB to decode");
		FAIL(MALFORMED, "not a valid veille.v1.Envelope");
	}
	if (!protobuf_c_message_check(&out->env->base)) {
		codec_msg_free(out);
		FAIL(MALFORMED, "not a valid veille.v1.Envelope");
	}
	err->request_id = out->env->request_id;
	if (validate(out->env, err) != 0) {
		codec_msg_free(out);
		return -1;
	}
	return 0;
}

void codec_msg_free(struct codec_msg *msg)
{
	arena_free(msg->arena);
	memset(msg, 0, sizeof(*msg));
}

struct frame *codec_encode(const Veille__V1__Envelope *env)
{
	size_t n = veille__v1__envelope__get_packed_size(env);
	struct frame *f = frame_new(n);

	if (f)
		veille__v1__envelope__pack(env, f->data);
	return f;
}

struct frame *codec_encode_error(uint64_t request_id, int code, const char *message,
				 uint32_t retry_after_ms)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__Error e = VEILLE__V1__ERROR__INIT;

	e.code = (Veille__V1__ErrorCode)code;
	e.message = (char *)message;
	e.retry_after_ms = retry_after_ms;
	env.request_id = request_id;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_ERROR;
	env.error = &e;
	return codec_encode(&env);
}

int codec_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	*out = malloc(n ? n : 1);
	if (!*out)
		return -1;
	*len = protobuf_c_message_pack(msg, *out);
	return 0;
}

ProtobufCMessage *codec_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
			       size_t len)
{
	return protobuf_c_message_unpack(desc, NULL, len, data);
}

void codec_stored_free(ProtobufCMessage *msg)
{
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
}

const char *codec_error_name(int code)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&veille__v1__error_code__descriptor, code);

	/* Generated names are "ERROR_CODE_X": strip the prefix. */
	return v ? v->name + strlen("ERROR_CODE_") : "UNKNOWN";
}
