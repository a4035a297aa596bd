/* records: see records.h. */
#include "records.h"

#include "keyring.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_BYTES (8 + STORE_ID_BYTES + RECORDS_AUDIENCE_BYTES)
#define REF_BYTES (STORE_ID_BYTES + 8)
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

void records_audience(struct store_txn *t, const char *structure_id,
		      uint8_t out[RECORDS_AUDIENCE_BYTES])
{
	keyring_blind_index(store_txn_keyring(t), structure_id, strlen(structure_id), out,
			    RECORDS_AUDIENCE_BYTES);
}

static int reject(struct records_result *res, int code, const char *reason)
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

/* Domain checks on an encounter; NULL if acceptable, else the reason. Fills team and author
 * from the actor when the client left them empty (the caller owns e). */
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

/* Writes the new version and every index that points at it. */
static int write_version(struct store_txn *t, const struct records_actor *a,
			 const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
			 const uint8_t pid[STORE_ID_BYTES], uint64_t version, uint64_t now_ms)
{
	Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__V1__Encounter enc = *m->encounter;
	uint8_t key[REF_BYTES], head[HEAD_BYTES], fkey[RECORDS_AUDIENCE_BYTES + 8], okey[24];
	uint8_t *buf = NULL;
	size_t len;
	uint64_t seq;
	int rc;

	rc = store_next_counter(t, "seq", &seq);
	if (rc != STORE_OK)
		return rc;
	enc.team_id = (char *)a->structure_id;
	enc.author_id = (char *)a->professional_id;
	rv.record_id = m->record_id;
	rv.version = version;
	rv.seq = seq;
	rv.op_device_id.data = (uint8_t *)a->device_id;
	rv.op_device_id.len = 16;
	rv.op_counter = m->op_counter;
	rv.stored_at_ms = now_ms;
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER;
	rv.encounter = &enc;
	if (codec_pack(&rv.base, &buf, &len) != 0)
		return STORE_ENOMEM;
	memcpy(key, rid, STORE_ID_BYTES);
	store_be64_put(key + STORE_ID_BYTES, version);
	rc = store_put(t, STORE_DB_RECORDS, key, sizeof(key), pid, version, buf, len,
		       STORE_NOOVERWRITE);
	sodium_memzero(buf, len);
	free(buf);
	if (rc != STORE_OK)
		return rc;

	store_be64_put(head, version);
	memcpy(head + 8, pid, STORE_ID_BYTES);
	records_audience(t, a->structure_id, head + 8 + STORE_ID_BYTES);
	memcpy(fkey, head + 8 + STORE_ID_BYTES, RECORDS_AUDIENCE_BYTES);
	store_be64_put(fkey + RECORDS_AUDIENCE_BYTES, seq);
	memcpy(okey, a->device_id, 16);
	store_be64_put(okey + 16, m->op_counter);
	if ((rc = store_put_plain(t, STORE_DB_HEADS, rid, STORE_ID_BYTES, head, sizeof(head), 0)) ||
	    (rc = store_put_plain(t, STORE_DB_FEED, fkey, sizeof(fkey), key, sizeof(key), 0)) ||
	    (rc = store_put_plain(t, STORE_DB_OPS, okey, sizeof(okey), key, sizeof(key), 0)) ||
	    (rc = store_put_plain(t, STORE_DB_DEVICE_OPS, a->device_id, 16, okey + 16, 8, 0)))
		return rc;
	return STORE_OK;
}

int records_apply(struct store_txn *t, const struct records_actor *a,
		  const Veille__V1__Mutation *m, uint64_t now_ms, struct records_result *res)
{
	uint8_t okey[24], rid[STORE_ID_BYTES], pid[STORE_ID_BYTES], aud[RECORDS_AUDIENCE_BYTES];
	const void *val;
	size_t vlen;
	uint64_t current = 0;
	const char *why;
	int rc, code;

	memset(res, 0, sizeof(*res));
	memcpy(okey, a->device_id, 16);
	store_be64_put(okey + 16, m->op_counter);
	rc = store_get_plain(t, STORE_DB_OPS, okey, sizeof(okey), &val, &vlen);
	if (rc == STORE_OK && vlen == REF_BYTES) {
		res->status = VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE;
		res->version = store_be64_get((const uint8_t *)val + STORE_ID_BYTES);
		return STORE_OK;
	}
	if (rc != STORE_ENOTFOUND)
		return rc == STORE_OK ? STORE_EFORGED : rc;
	if (m->op_counter == 0)
		return reject(res, VEILLE_ERR(INVALID_ARGUMENT), "op_counter must start at 1");
	rc = store_get_plain(t, STORE_DB_DEVICE_OPS, a->device_id, 16, &val, &vlen);
	if (rc == STORE_OK && vlen == 8 && store_be64_get(val) >= m->op_counter)
		return reject(res, VEILLE_ERR(INVALID_ARGUMENT), "op_counter went backwards");
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return rc;
	if (m->record_case != VEILLE__V1__MUTATION__RECORD_ENCOUNTER)
		return reject(res, VEILLE_ERR(INVALID_ARGUMENT), "unknown record kind");
	if (records_parse_id(m->record_id, rid) != 0)
		return reject(res, VEILLE_ERR(INVALID_ARGUMENT),
			      "record_id must be 32 lowercase hex characters");
	why = check_encounter(m->encounter, a, now_ms, &code);
	if (why)
		return reject(res, code, why);
	records_parse_id(m->encounter->person_id, pid);

	rc = store_get_plain(t, STORE_DB_HEADS, rid, STORE_ID_BYTES, &val, &vlen);
	if (rc == STORE_OK && vlen == HEAD_BYTES) {
		current = store_be64_get(val);
		records_audience(t, a->structure_id, aud);
		if (memcmp((const uint8_t *)val + 8 + STORE_ID_BYTES, aud, sizeof(aud)) != 0)
			return reject(res, VEILLE_ERR(FORBIDDEN),
				      "record belongs to another structure");
		if (memcmp((const uint8_t *)val + 8, pid, STORE_ID_BYTES) != 0)
			return reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				      "a correction cannot change person_id");
	} else if (rc != STORE_ENOTFOUND) {
		return rc == STORE_OK ? STORE_EFORGED : rc;
	}
	if (m->base_version != current) {
		res->status = VEILLE__V1__OP_STATUS__OP_STATUS_CONFLICT;
		res->version = current;
		return STORE_OK;
	}
	rc = write_version(t, a, m, rid, pid, current + 1, now_ms);
	if (rc == STORE_ESHREDDED)
		return reject(res, VEILLE_ERR(FORBIDDEN), "the person's data was erased");
	if (rc != STORE_OK)
		return rc;
	res->status = VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED;
	res->version = current + 1;
	return STORE_OK;
}

struct pull_ctx {
	struct store_txn *t;
	uint32_t limit, count;
	size_t budget, spent;
	uint64_t last;
	int more;
	records_pull_fn fn;
	void *arg;
};

static int pull_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct pull_ctx *c = arg;
	struct store_buf b = {0};
	ProtobufCMessage *msg;
	int rc;

	if (klen != RECORDS_AUDIENCE_BYTES + 8 || vlen != REF_BYTES)
		return -STORE_EFORGED;
	if (c->count >= c->limit || c->spent >= c->budget) {
		c->more = 1;
		return 1;
	}
	c->last = store_be64_get((const uint8_t *)key + RECORDS_AUDIENCE_BYTES);
	rc = store_get(c->t, STORE_DB_RECORDS, val, vlen, &b);
	if (rc != STORE_OK) {
		store_buf_free(&b);
		return rc == STORE_ESHREDDED ? 0 : -rc;
	}
	c->spent += b.len;
	msg = codec_unpack(&veille__store__v1__record_version__descriptor, b.data, b.len);
	store_buf_free(&b);
	if (!msg)
		return -STORE_EFORGED;
	c->count++;
	rc = c->fn((Veille__Store__V1__RecordVersion *)msg, c->arg);
	return rc ? -STORE_EIO : 0;
}

int records_pull(struct store_txn *t, const uint8_t audience[RECORDS_AUDIENCE_BYTES],
		 uint64_t cursor, uint32_t limit, size_t byte_budget, records_pull_fn fn,
		 void *arg, uint64_t *next_cursor, int *has_more)
{
	struct pull_ctx c = {t, limit, 0, byte_budget, 0, cursor, 0, fn, arg};
	uint8_t start[RECORDS_AUDIENCE_BYTES + 8];
	int rc;

	memcpy(start, audience, RECORDS_AUDIENCE_BYTES);
	store_be64_put(start + RECORDS_AUDIENCE_BYTES, cursor + 1);
	rc = cursor == UINT64_MAX ? 0
				  : store_scan(t, STORE_DB_FEED, audience, RECORDS_AUDIENCE_BYTES,
					       start, sizeof(start), pull_one, &c);
	if (rc < 0)
		return -rc;
	*next_cursor = c.last;
	*has_more = c.more;
	return rc;
}
