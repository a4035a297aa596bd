/* records: see records.h. */
#include "records.h"

#include "circle.h"
#include "effects.h"
#include "keyring.h"
#include "orient.h"
#include "policy.h"
#include "stats.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_BYTES (8 + STORE_ID_BYTES + RECORDS_AUDIENCE_BYTES + 8) /* ver|person|aud|seq */
#define REF_BYTES (STORE_ID_BYTES + 8)
#define FEED_BYTES (REF_BYTES + 8) /* record id | version | seq of the version */
#define OP_BYTES (REF_BYTES + 2)
#define RECORDS_EKIND 200 /* load_person: the record is of another kind (bad input) */
#define FUTURE_SLACK_MS (24ull * 3600 * 1000) /* device clocks drift; a day is plausible */

int records_parse_id(const char *hex, uint8_t out[STORE_ID_BYTES])
{
	if (strlen(hex) != 2 * STORE_ID_BYTES)
		return -1;
	for (size_t i = 0; i < 2 * STORE_ID_BYTES; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return -1;
	return sodium_hex2bin(out, STORE_ID_BYTES, hex, 2 * STORE_ID_BYTES, NULL, NULL, NULL) == 0
		       ? 0
		       : -1;
}

int records_person_named(const Veille__Store__V1__RecordVersion *rv, uint8_t pid[STORE_ID_BYTES])
{
	const char *hex;

	switch (rv->record_case) {
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER: hex = rv->encounter->person_id; break;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON: hex = rv->record_id; break;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST: hex = rv->request->person_id; break;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION: hex = rv->decision->person_id; break;
	default: return 0;
	}
	return hex && records_parse_id(hex, pid) == 0;
}

void records_audience(struct store_txn *t, const char *structure_id,
		      uint8_t out[RECORDS_AUDIENCE_BYTES])
{
	keyring_blind_index(store_txn_keyring(t), structure_id, strlen(structure_id), out,
			    RECORDS_AUDIENCE_BYTES);
}

int records_reject(struct records_result *res, int code, const char *reason)
{
	res->status = VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED;
	res->code = code;
	res->reason = reason;
	return STORE_OK;
}

static int geohash_valid(const char *g)
{
	for (; *g; g++)
		if (!strchr("0123456789bcdefghjkmnpqrstuvwxyz", *g))
			return 0;
	return 1;
}

/* ---- encounters ---- */

/* Domain checks on an encounter; NULL if acceptable, else the reason (and *code). */
static const char *check_encounter(const Veille__V1__Encounter *e, const struct records_actor *a,
				   uint64_t now_ms, int *code)
{
	uint8_t pid[STORE_ID_BYTES];

	*code = VEILLE_ERR(INVALID_ARGUMENT);
	if (records_parse_id(e->person_id, pid) != 0)
		return "person_id must be 32 lowercase hex characters";
	if (e->team_id[0] && strcmp(e->team_id, a->structure_id) != 0) {
		*code = VEILLE_ERR(FORBIDDEN);
		return "team_id is not the author's structure";
	}
	if (e->author_id[0] && strcmp(e->author_id, a->professional_id) != 0) {
		*code = VEILLE_ERR(FORBIDDEN);
		return "author_id is not the authenticated professional";
	}
	if (e->occurred_at_ms <= 0 || (uint64_t)e->occurred_at_ms > now_ms + FUTURE_SLACK_MS)
		return "occurred_at_ms is not a plausible time";
	for (size_t i = 0; i < e->n_needs; i++)
		if (!protobuf_c_enum_descriptor_get_value(&veille__v1__need__descriptor,
							  e->needs[i]) ||
		    e->needs[i] == 0)
			return "unknown need";
	for (size_t i = 0; i < e->n_services; i++)
		if (!protobuf_c_enum_descriptor_get_value(&veille__v1__service__descriptor,
							  e->services[i]) ||
		    e->services[i] == 0)
			return "unknown service";
	if (e->location && !geohash_valid(e->location->geohash))
		return "geohash has characters outside the geohash alphabet";
	return NULL;
}

/* ---- persons: per-field last writer wins on the Hlc ---- */

/* The value kind each field takes: 't'ext, 'n'umber, 'f'lag. */
static char field_kind(int field)
{
	switch (field) {
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_GIVEN_NAME:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_FAMILY_NAME:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_SITUATION:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_LANGUAGES: return 't';
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_BIRTH_YEAR:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_ADULTS:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_CHILDREN: return 'n';
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_REDUCED_MOBILITY:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_ANIMAL:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_OBJECTS_TO_SHARING: return 'f';
	}
	return 0;
}

int records_hlc_cmp(const Veille__V1__Hlc *x, const Veille__V1__Hlc *y)
{
	size_t n;
	int c;

	if (x->wall_ms != y->wall_ms)
		return x->wall_ms < y->wall_ms ? -1 : 1;
	if (x->counter != y->counter)
		return x->counter < y->counter ? -1 : 1;
	n = x->device_id.len < y->device_id.len ? x->device_id.len : y->device_id.len;
	c = n ? memcmp(x->device_id.data, y->device_id.data, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return (x->device_id.len > y->device_id.len) - (x->device_id.len < y->device_id.len);
}

static const char *check_person(const Veille__V1__Person *p, const struct records_actor *a,
				uint64_t now_ms, int *code)
{
	unsigned seen = 0;

	*code = VEILLE_ERR(INVALID_ARGUMENT);
	if (p->team_id[0] && strcmp(p->team_id, a->structure_id) != 0) {
		*code = VEILLE_ERR(FORBIDDEN);
		return "team_id is not the author's structure";
	}
	if (p->n_fields == 0)
		return "a person mutation changes at least one field";
	for (size_t i = 0; i < p->n_fields; i++) {
		const Veille__V1__PersonFieldValue *f = p->fields[i];
		char kind = field_kind(f->field);

		if (!kind)
			return "unknown person field";
		if (seen & (1u << f->field))
			return "a field appears twice";
		seen |= 1u << f->field;
		if (!f->hlc || f->hlc->wall_ms == 0)
			return "every field needs its hlc stamp";
		if (f->hlc->device_id.len != 16 || memcmp(f->hlc->device_id.data, a->device_id, 16)) {
			*code = VEILLE_ERR(FORBIDDEN);
			return "hlc device_id is not the pushing device";
		}
		if (f->hlc->wall_ms > now_ms + FUTURE_SLACK_MS)
			return "hlc wall_ms is more than a day ahead";
		if (f->cleared)
			continue;
		if ((kind == 't' && f->value_case != VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT) ||
		    (kind == 'n' && f->value_case != VEILLE__V1__PERSON_FIELD_VALUE__VALUE_NUMBER) ||
		    (kind == 'f' && f->value_case != VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG))
			return "value of the wrong kind for this field";
		if (kind == 't' && f->field != VEILLE__V1__PERSON_FIELD__PERSON_FIELD_SITUATION &&
		    strlen(f->text) > 256)
			return "text over 256 bytes";
		if (kind == 'n' && (f->number < 0 || f->number > 2200))
			return "number out of range";
	}
	return NULL;
}

/* Merges incoming fields into current (either may be NULL) into out->fields, pointing at
 * the winning values (borrowed from both). Returns the number of fields incoming won. */
static size_t merge_person(const Veille__V1__Person *current, const Veille__V1__Person *incoming,
			   Veille__V1__PersonFieldValue **out, size_t *n_out)
{
	size_t n = 0, won = 0;

	if (current)
		for (size_t i = 0; i < current->n_fields && n < CODEC_MAX_LIST; i++)
			out[n++] = current->fields[i];
	for (size_t i = 0; i < incoming->n_fields; i++) {
		Veille__V1__PersonFieldValue *f = incoming->fields[i];
		size_t k;

		for (k = 0; k < n && out[k]->field != f->field; k++)
			;
		if (k == n && n < CODEC_MAX_LIST) {
			out[n++] = f;
			won++;
		} else if (k < n && records_hlc_cmp(f->hlc, out[k]->hlc) > 0) {
			out[k] = f;
			won++;
		}
	}
	*n_out = n;
	return won;
}

/* ---- writing ---- */

static int feed_put(struct store_txn *t, const uint8_t audience[RECORDS_AUDIENCE_BYTES],
		    uint64_t feed_seq, const uint8_t rid[STORE_ID_BYTES], uint64_t version,
		    uint64_t seq)
{
	uint8_t fkey[RECORDS_AUDIENCE_BYTES + 8], ref[FEED_BYTES];

	memcpy(fkey, audience, RECORDS_AUDIENCE_BYTES);
	store_be64_put(fkey + RECORDS_AUDIENCE_BYTES, feed_seq);
	memcpy(ref, rid, STORE_ID_BYTES);
	store_be64_put(ref + STORE_ID_BYTES, version);
	store_be64_put(ref + REF_BYTES, seq);
	return store_put_plain(t, STORE_DB_FEED, fkey, sizeof(fkey), ref, sizeof(ref), 0);
}

/* One more audience of a version being written (records_write): skipped if it is the
 * author's or one of the first `served` of also. */
struct share_new {
	struct store_txn *t;
	const struct records_actor *a;
	const uint8_t *rid;
	uint64_t version, seq;
	const char *const *also;
	size_t served;
};

static int share_new(const char *structure_id, void *arg)
{
	struct share_new *sh = arg;
	uint8_t aud[RECORDS_AUDIENCE_BYTES];
	int rc;

	if (!structure_id[0] || strcmp(structure_id, sh->a->structure_id) == 0)
		return STORE_OK;
	for (size_t k = 0; k < sh->served; k++)
		if (strcmp(sh->also[k], structure_id) == 0)
			return STORE_OK;
	records_audience(sh->t, structure_id, aud);
	if ((rc = feed_put(sh->t, aud, sh->seq, sh->rid, sh->version, sh->seq)) == STORE_OK)
		effects_feed(sh->a->fx, structure_id);
	return rc;
}

/* Writes a new version (common fields of rv set here) and the head and feed entries. Versions
 * are keyed by their sequence number, which only grows: each is appended at the right edge of
 * the records tree, so a commit rewrites few pages whatever the record ids are. */
int records_write(struct store_txn *t, const struct records_actor *a, const char *record_id,
		  const Veille__V1__Mutation *m, const uint8_t pid[STORE_ID_BYTES],
		  uint64_t version, uint64_t now_ms, Veille__Store__V1__RecordVersion *rv,
		  const char *const *also, size_t n)
{
	uint8_t key[8], head[HEAD_BYTES], rid[STORE_ID_BYTES], index[2 * STORE_ID_BYTES];
	struct share_new share = {t, a, rid, version, 0, also, 0};
	uint8_t *buf = NULL;
	size_t len;
	uint64_t seq;
	int rc;

	if (records_parse_id(record_id, rid) != 0)
		return STORE_EIO;
	rc = store_next_counter(t, "seq", &seq);
	if (rc != STORE_OK)
		return rc;
	share.seq = seq;
	memcpy(index, pid, STORE_ID_BYTES);
	memcpy(index + STORE_ID_BYTES, rid, STORE_ID_BYTES);
	rv->record_id = (char *)record_id;
	rv->version = version;
	rv->seq = seq;
	rv->op_device_id.data = (uint8_t *)a->device_id;
	rv->op_device_id.len = 16;
	rv->op_counter = m ? m->op_counter : 0;
	rv->stored_at_ms = now_ms;
	if (codec_pack(&rv->base, &buf, &len) != 0)
		return STORE_ENOMEM;
	store_be64_put(key, seq);
	rc = store_put(t, STORE_DB_RECORDS, key, sizeof(key), pid, version, buf, len,
		       STORE_APPEND);
	sodium_memzero(buf, len);
	free(buf);
	if (rc != STORE_OK)
		return rc;
	store_be64_put(head, version);
	memcpy(head + 8, pid, STORE_ID_BYTES);
	memcpy(head + 8 + STORE_ID_BYTES, a->audience, RECORDS_AUDIENCE_BYTES);
	store_be64_put(head + 8 + STORE_ID_BYTES + RECORDS_AUDIENCE_BYTES, seq);
	store_be64_put(key, now_ms); /* the person's last contact, for retention (records_expired) */
	if ((rc = store_put_plain(t, STORE_DB_HEADS, rid, STORE_ID_BYTES, head, sizeof(head), 0)) ||
	    (rc = feed_put(t, a->audience, seq, rid, version, seq)) ||
	    (rc = store_put_plain(t, STORE_DB_LAST_CONTACT, pid, STORE_ID_BYTES, key, 8, 0)))
		return rc;
	if (version == 1 && (rc = store_put_plain(t, STORE_DB_PERSON_RECORDS, index,
						  sizeof(index), "", 0, 0)) != STORE_OK)
		return rc;
	effects_feed(a->fx, a->structure_id);
	for (share.served = 0; share.served < n; share.served++)
		if ((rc = share_new(also[share.served], &share)) != STORE_OK)
			return rc;
	/* The centres the person is staying at get what is written about them meanwhile. */
	return circle_admitted_audiences(t, pid, rv, now_ms, share_new, &share);
}

int records_withdraw(struct store_txn *t, const struct records_actor *a,
		     const uint8_t rid[STORE_ID_BYTES], const char *structure_id)
{
	/* A feed entry whose version is 0 stores nothing: it says "no longer yours". */
	return records_share(t, a, rid, 0, 0, structure_id);
}

int records_share(struct store_txn *t, const struct records_actor *a,
		  const uint8_t rid[STORE_ID_BYTES], uint64_t version, uint64_t seq,
		  const char *structure_id)
{
	uint8_t aud[RECORDS_AUDIENCE_BYTES];
	uint64_t feed_seq;
	int rc = store_next_counter(t, "seq", &feed_seq);

	if (rc != STORE_OK)
		return rc;
	records_audience(t, structure_id, aud);
	rc = feed_put(t, aud, feed_seq, rid, version, seq);
	if (rc == STORE_OK)
		effects_feed(a->fx, structure_id);
	return rc;
}

/* Remembers an op's outcome, so that a resent op gets the same answer, and raises the device's
 * highest counter. Value: record id (16) | version (8) | status (1) | code (1). */
static int record_op(struct store_txn *t, const struct records_actor *a,
		     const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
		     const struct records_result *res)
{
	uint8_t okey[24], val[OP_BYTES];
	int rc;

	memcpy(okey, a->device_id, 16);
	store_be64_put(okey + 16, m->op_counter);
	memcpy(val, rid, STORE_ID_BYTES);
	store_be64_put(val + STORE_ID_BYTES, res->version);
	val[REF_BYTES] = (uint8_t)res->status;
	val[REF_BYTES + 1] = (uint8_t)res->code;
	rc = store_put_plain(t, STORE_DB_OPS, okey, sizeof(okey), val, sizeof(val), 0);
	if (rc == STORE_OK)
		rc = store_put_plain(t, STORE_DB_DEVICE_OPS, a->device_id, 16, okey + 16, 8, 0);
	return rc;
}

int records_head(struct store_txn *t, const struct records_actor *a,
		 const uint8_t rid[STORE_ID_BYTES], struct records_head *out)
{
	const uint8_t *h;
	const void *val;
	size_t vlen;
	int rc = store_get_plain(t, STORE_DB_HEADS, rid, STORE_ID_BYTES, &val, &vlen);

	memset(out, 0, sizeof(*out));
	out->owned = 1;
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK || vlen != HEAD_BYTES)
		return rc == STORE_OK ? STORE_EFORGED : rc;
	h = val;
	out->version = store_be64_get(h);
	memcpy(out->person_id, h + 8, STORE_ID_BYTES);
	out->owned = memcmp(h + 8 + STORE_ID_BYTES, a->audience, RECORDS_AUDIENCE_BYTES) == 0;
	out->seq = store_be64_get(h + 8 + STORE_ID_BYTES + RECORDS_AUDIENCE_BYTES);
	return STORE_OK;
}

static int apply_encounter(struct store_txn *t, const struct records_actor *a,
			   const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
			   uint64_t now_ms, struct records_result *res)
{
	Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__V1__Encounter enc = *m->encounter;
	uint8_t pid[STORE_ID_BYTES];
	struct records_head h;
	uint64_t current;
	const char *why;
	int rc, code;

	why = check_encounter(m->encounter, a, now_ms, &code);
	if (!why && !policy_may_write(a->role, m, NULL, &why)) /* a maraudeur's health note */
		code = VEILLE_ERR(FORBIDDEN);
	if (why)
		return records_reject(res, code, why);
	records_parse_id(m->encounter->person_id, pid);
	rc = records_head(t, a, rid, &h);
	if (rc != STORE_OK)
		return rc;
	current = h.version;
	if (!h.owned)
		return records_reject(res, VEILLE_ERR(FORBIDDEN), "record belongs to another structure");
	if (current && memcmp(h.person_id, pid, STORE_ID_BYTES) != 0)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), "a correction cannot change person_id");
	if (m->base_version != current) {
		res->status = VEILLE__V1__OP_STATUS__OP_STATUS_CONFLICT;
		res->version = current;
		return STORE_OK;
	}
	if (current) { /* a correction: of an encounter, not of a record of another kind */
		Veille__Store__V1__RecordVersion *cur;
		int kind;

		if ((rc = records_load(t, h.seq, &cur)) != STORE_OK)
			return rc;
		kind = cur->record_case;
		codec_stored_free(&cur->base);
		if (kind != VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER)
			return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
					      "record_id names a record of another kind");
	}
	enc.team_id = (char *)a->structure_id;
	enc.author_id = (char *)a->professional_id;
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER;
	rv.encounter = &enc;
	rc = records_write(t, a, m->record_id, m, pid, current + 1, now_ms, &rv, NULL, 0);
	if (rc == STORE_OK)
		rc = circle_met(t, pid, a->structure_id, now_ms);
	if (rc == STORE_OK && current == 0 && a->territory && a->territory[0])
		rc = stats_add(t, a->territory, now_ms, "encounters", a->structure_id, 1);
	if (rc != STORE_OK)
		return rc;
	res->status = VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED;
	res->version = current + 1;
	return STORE_OK;
}

int records_load(struct store_txn *t, uint64_t seq, Veille__Store__V1__RecordVersion **out)
{
	uint8_t key[8];
	struct store_buf b = {0};
	int rc;

	*out = NULL;
	store_be64_put(key, seq);
	rc = store_get(t, STORE_DB_RECORDS, key, sizeof(key), &b);
	if (rc == STORE_OK) {
		*out = (Veille__Store__V1__RecordVersion *)codec_unpack(
			&veille__store__v1__record_version__descriptor, b.data, b.len);
		if (!*out)
			rc = STORE_EFORGED;
	}
	store_buf_free(&b);
	return rc;
}

/* Reads the merged profile of the version stored at seq (caller frees *out). */
static int load_person(struct store_txn *t, uint64_t seq, Veille__Store__V1__RecordVersion **out)
{
	int rc = records_load(t, seq, out);

	if (rc == STORE_OK && (*out)->record_case != VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON) {
		codec_stored_free(&(*out)->base);
		*out = NULL;
		rc = RECORDS_EKIND;
	}
	return rc;
}

/* Whether the profile records the person's objection to sharing. */
static int objects_to_sharing(const Veille__V1__Person *p)
{
	for (size_t i = 0; i < p->n_fields; i++)
		if (p->fields[i]->field == VEILLE__V1__PERSON_FIELD__PERSON_FIELD_OBJECTS_TO_SHARING)
			return !p->fields[i]->cleared && p->fields[i]->flag;
	return 0;
}

static int apply_person(struct store_txn *t, const struct records_actor *a,
			const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
			uint64_t now_ms, struct records_result *res)
{
	Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__Store__V1__RecordVersion *cur = NULL;
	Veille__V1__Person merged = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue *fields[CODEC_MAX_LIST];
	struct records_head h;
	uint64_t current;
	const char *why;
	size_t won;
	int rc, code;

	why = check_person(m->person, a, now_ms, &code);
	if (!why && !policy_may_write(a->role, m, NULL, &why)) /* a value of a HEALTH field */
		code = VEILLE_ERR(FORBIDDEN);
	if (why)
		return records_reject(res, code, why);
	rc = records_head(t, a, rid, &h);
	if (rc != STORE_OK)
		return rc;
	current = h.version;
	if (!h.owned)
		return records_reject(res, VEILLE_ERR(FORBIDDEN), "record belongs to another structure");
	if (current && (rc = load_person(t, h.seq, &cur)) != STORE_OK)
		return rc == RECORDS_EKIND ? records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
							    "record_id names a record of another kind")
					   : rc;
	won = merge_person(cur ? cur->person : NULL, m->person, fields, &merged.n_fields);
	res->status = VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED;
	res->version = current;
	if (won == 0)
		goto out; /* every field lost to a newer stamp: nothing to write */
	merged.fields = fields;
	merged.team_id = cur ? cur->person->team_id : (char *)a->structure_id;
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON;
	rv.person = &merged;
	/* The objection first: the new version goes only where it allows. */
	if ((rc = circle_set_objection(t, a, rid, objects_to_sharing(&merged), now_ms)) != STORE_OK ||
	    (rc = records_write(t, a, m->record_id, m, rid, current + 1, now_ms, &rv, NULL, 0)) !=
		    STORE_OK ||
	    (rc = circle_met(t, rid, a->structure_id, now_ms)) != STORE_OK)
		goto out;
	res->version = current + 1;
out:
	if (cur)
		codec_stored_free(&cur->base);
	return rc;
}

int records_apply(struct store_txn *t, const struct records_actor *actor,
		  const Veille__V1__Mutation *m, uint64_t now_ms, struct records_result *res)
{
	uint8_t okey[24], rid[STORE_ID_BYTES] = {0}, aud[RECORDS_AUDIENCE_BYTES];
	struct records_actor with_audience = *actor;
	const struct records_actor *a = &with_audience;
	const void *val;
	size_t vlen;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!with_audience.audience) {
		records_audience(t, actor->structure_id, aud);
		with_audience.audience = aud;
	}
	memcpy(okey, a->device_id, 16);
	store_be64_put(okey + 16, m->op_counter);
	rc = store_get_plain(t, STORE_DB_OPS, okey, sizeof(okey), &val, &vlen);
	if (rc == STORE_OK && vlen == OP_BYTES) {
		/* A resent op: the first answer again, never a second application. */
		const uint8_t *v = val;

		res->version = store_be64_get(v + STORE_ID_BYTES);
		res->status = v[REF_BYTES];
		res->code = v[REF_BYTES + 1];
		if (res->status == VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED)
			res->status = VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE;
		else if (res->status == VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED)
			res->reason = "refused when first received";
		return STORE_OK;
	}
	if (rc != STORE_ENOTFOUND)
		return rc == STORE_OK ? STORE_EFORGED : rc;
	if (m->op_counter == 0)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), "op_counter must start at 1");
	rc = store_get_plain(t, STORE_DB_DEVICE_OPS, a->device_id, 16, &val, &vlen);
	if (rc == STORE_OK && vlen == 8 && store_be64_get(val) >= m->op_counter)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
			      "op_counter went backwards (device state lost: enrol again)");
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return rc;

	if (m->device_id.len && (m->device_id.len != 16 || memcmp(m->device_id.data, a->device_id, 16)))
		rc = records_reject(res, VEILLE_ERR(FORBIDDEN), "device_id is not the pushing device");
	else if (records_parse_id(m->record_id, rid) != 0)
		rc = records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
			    "record_id must be 32 lowercase hex characters");
	else if (m->record_case == VEILLE__V1__MUTATION__RECORD_ENCOUNTER)
		rc = apply_encounter(t, a, m, rid, now_ms, res);
	else if (m->record_case == VEILLE__V1__MUTATION__RECORD_PERSON)
		rc = apply_person(t, a, m, rid, now_ms, res);
	else if (m->record_case == VEILLE__V1__MUTATION__RECORD_REQUEST ||
		 m->record_case == VEILLE__V1__MUTATION__RECORD_PROPOSAL ||
		 m->record_case == VEILLE__V1__MUTATION__RECORD_DECISION)
		rc = orient_apply(t, a, m, rid, now_ms, res);
	else
		rc = records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), "unknown record kind");
	/* Every kind: a record about an erased person is refused here, whichever step met the
	 * erasure (each op's checks come before its first write, so nothing of it was kept). */
	if (rc == STORE_ESHREDDED)
		rc = records_reject(res, VEILLE_ERR(FORBIDDEN), "the person's data was erased");
	if (rc != STORE_OK)
		return rc;
	return record_op(t, a, m, rid, res);
}

struct expire_ctx {
	uint64_t before_ms;
	size_t max, n;
	uint8_t (*ids)[STORE_ID_BYTES];
};

static int expired_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct expire_ctx *x = arg;

	if (klen != STORE_ID_BYTES || vlen != 8)
		return -STORE_EFORGED;
	if (store_be64_get(val) < x->before_ms)
		memcpy(x->ids[x->n++], key, STORE_ID_BYTES);
	return x->n == x->max;
}

int records_erase(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES])
{
	int rc = store_shred_person(t, pid);

	if (rc == STORE_OK)
		rc = circle_forget(t, pid);
	if (rc == STORE_OK) {
		rc = store_del(t, STORE_DB_LAST_CONTACT, pid, STORE_ID_BYTES);
		rc = rc == STORE_ENOTFOUND ? STORE_OK : rc;
	}
	return rc;
}

int records_expire(struct store_txn *t, uint64_t before_ms, size_t max, size_t *erased,
		   records_erased_fn fn, void *arg)
{
	struct expire_ctx x = {before_ms, max, 0, calloc(max ? max : 1, STORE_ID_BYTES)};
	int rc;

	*erased = 0;
	if (!x.ids)
		return STORE_ENOMEM;
	rc = store_scan(t, STORE_DB_LAST_CONTACT, NULL, 0, NULL, 0, expired_one, &x);
	rc = rc < 0 ? -rc : STORE_OK;
	/* Collected first, then changed: no write while the scan's cursor is open. */
	for (size_t i = 0; rc == STORE_OK && i < x.n; i++) {
		rc = records_erase(t, x.ids[i]);
		if (rc == STORE_ENOTFOUND) /* nothing sealed about them: nothing to erase */
			rc = store_del(t, STORE_DB_LAST_CONTACT, x.ids[i], STORE_ID_BYTES);
		if (rc == STORE_OK && fn)
			rc = fn(t, x.ids[i], arg);
		if (rc == STORE_OK)
			(*erased)++;
	}
	free(x.ids);
	return rc;
}

int records_last_seq(struct store *st, uint64_t *out)
{
	struct store_txn *t;
	const void *val;
	size_t vlen;
	int rc = store_begin(st, 0, &t);

	*out = 0;
	if (rc != STORE_OK)
		return rc;
	rc = store_get_plain(t, STORE_DB_META, "seq", 3, &val, &vlen);
	if (rc == STORE_OK && vlen == 8)
		*out = store_be64_get(val);
	store_abort(t);
	return rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

struct pull_ctx {
	struct store_txn *t;
	struct store_buf buf; /* reused for every record of the page */
	uint32_t limit, count;
	size_t budget, spent;
	uint64_t last;
	int more;
	records_pull_fn fn;
	void *arg;
};

/* A withdrawal notice: a version without record (version 0, record not set) for fn. */
static int pull_withdrawal(struct pull_ctx *c, const uint8_t *val)
{
	Veille__Store__V1__RecordVersion *rv = malloc(sizeof(*rv));
	char *hex = malloc(2 * STORE_ID_BYTES + 1);

	if (!rv || !hex) {
		free(rv);
		free(hex);
		return -STORE_ENOMEM;
	}
	veille__store__v1__record_version__init(rv);
	sodium_bin2hex(hex, 2 * STORE_ID_BYTES + 1, val, STORE_ID_BYTES);
	rv->record_id = hex; /* freed with rv by codec_stored_free */
	rv->seq = c->last;
	c->count++;
	return c->fn(rv, c->arg) ? -STORE_EIO : 0;
}

static int pull_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct pull_ctx *c = arg;
	ProtobufCMessage *msg;
	int rc;

	if (klen != RECORDS_AUDIENCE_BYTES + 8 || (vlen != REF_BYTES && vlen != FEED_BYTES))
		return -STORE_EFORGED;
	if (c->count >= c->limit || c->spent >= c->budget) {
		c->more = 1;
		return 1;
	}
	c->last = store_be64_get((const uint8_t *)key + RECORDS_AUDIENCE_BYTES);
	if (vlen == FEED_BYTES && store_be64_get((const uint8_t *)val + STORE_ID_BYTES) == 0)
		return pull_withdrawal(c, val); /* records_withdraw */
	/* Entries of stores made before versions could be shared hold no seq: it is the key's. */
	rc = store_get(c->t, STORE_DB_RECORDS,
		       vlen == FEED_BYTES ? (const uint8_t *)val + REF_BYTES
					  : (const uint8_t *)key + RECORDS_AUDIENCE_BYTES,
		       8, &c->buf);
	if (rc != STORE_OK)
		return rc == STORE_ESHREDDED ? 0 : -rc;
	c->spent += c->buf.len;
	msg = codec_unpack(&veille__store__v1__record_version__descriptor, c->buf.data, c->buf.len);
	if (!msg)
		return -STORE_EFORGED;
	c->count++;
	((Veille__Store__V1__RecordVersion *)msg)->seq = c->last;
	rc = c->fn((Veille__Store__V1__RecordVersion *)msg, c->arg);
	return rc ? -STORE_EIO : 0;
}

int records_pull(struct store_txn *t, const uint8_t audience[RECORDS_AUDIENCE_BYTES],
		 uint64_t cursor, uint32_t limit, size_t byte_budget, records_pull_fn fn,
		 void *arg, uint64_t *next_cursor, int *has_more)
{
	struct pull_ctx c = {t, {0}, limit, 0, byte_budget, 0, cursor, 0, fn, arg};
	uint8_t start[RECORDS_AUDIENCE_BYTES + 8];
	int rc;

	memcpy(start, audience, RECORDS_AUDIENCE_BYTES);
	store_be64_put(start + RECORDS_AUDIENCE_BYTES, cursor + 1);
	rc = cursor == UINT64_MAX ? 0
				  : store_scan(t, STORE_DB_FEED, audience, RECORDS_AUDIENCE_BYTES,
					       start, sizeof(start), pull_one, &c);
	store_buf_free(&c.buf);
	if (rc < 0)
		return -rc;
	*next_cursor = c.last;
	*has_more = c.more;
	return rc;
}
