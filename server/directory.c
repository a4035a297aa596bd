/* directory: see directory.h. */
#include "directory.h"

#include "keyring.h"
#include "pairing.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int directory_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64 || id[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)id[i]) || isdigit((unsigned char)id[i]) || id[i] == '-'))
			return 0;
	return 1;
}

/* Packs and seals one directory message under key. */
static int put_msg(struct store_txn *t, enum store_db db, const void *key, size_t klen,
		   const ProtobufCMessage *msg, unsigned flags)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (codec_pack(msg, &buf, &len) != 0)
		return STORE_ENOMEM;
	rc = store_put(t, db, key, klen, NULL, 1, buf, len, flags);
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

static int get_msg(struct store_txn *t, enum store_db db, const void *key, size_t klen,
		   const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	struct store_buf b = {0};
	int rc;

	*out = NULL;
	rc = store_get(t, db, key, klen, &b);
	if (rc == STORE_OK) {
		*out = codec_unpack(desc, b.data, b.len);
		if (!*out)
			rc = STORE_EFORGED; /* authenticated yet undecodable: corrupt schema */
	}
	store_buf_free(&b);
	return rc;
}

int directory_location_valid(const Veille__Store__V1__Structure *s)
{
	size_t n = strlen(s->address);

	if (n > DIRECTORY_MAX_ADDRESS || !codec_utf8_valid(s->address, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s->address[i] < 0x20 || s->address[i] == 0x7f)
			return 0;
	if (!s->located)
		return s->latitude == 0 && s->longitude == 0;
	/* Written so that NaN fails too. */
	return s->latitude >= -90 && s->latitude <= 90 && s->longitude >= -180 &&
	       s->longitude <= 180;
}

int directory_structure_add(struct store_txn *t, const Veille__Store__V1__Structure *s)
{
	return put_msg(t, STORE_DB_STRUCTURES, s->id, strlen(s->id), &s->base, STORE_NOOVERWRITE);
}

int directory_structure_put(struct store_txn *t, const Veille__Store__V1__Structure *s)
{
	Veille__Store__V1__Structure *old;
	int rc = directory_structure_get(t, s->id, &old);

	if (rc != STORE_OK)
		return rc;
	codec_stored_free(&old->base);
	return put_msg(t, STORE_DB_STRUCTURES, s->id, strlen(s->id), &s->base, 0);
}

int directory_structure_get(struct store_txn *t, const char *id,
			    Veille__Store__V1__Structure **out)
{
	return get_msg(t, STORE_DB_STRUCTURES, id, strlen(id),
		       &veille__store__v1__structure__descriptor, (ProtobufCMessage **)out);
}

int directory_professional_add(struct store_txn *t, const Veille__Store__V1__Professional *p)
{
	Veille__Store__V1__Structure *s;
	int rc = directory_structure_get(t, p->structure_id, &s);

	if (rc != STORE_OK)
		return rc;
	codec_stored_free(&s->base);
	return put_msg(t, STORE_DB_PROFESSIONALS, p->id, strlen(p->id), &p->base,
		       STORE_NOOVERWRITE);
}

int directory_professional_put(struct store_txn *t, const Veille__Store__V1__Professional *p)
{
	return put_msg(t, STORE_DB_PROFESSIONALS, p->id, strlen(p->id), &p->base, 0);
}

int directory_professional_get(struct store_txn *t, const char *id,
			       Veille__Store__V1__Professional **out)
{
	return get_msg(t, STORE_DB_PROFESSIONALS, id, strlen(id),
		       &veille__store__v1__professional__descriptor, (ProtobufCMessage **)out);
}

int directory_device_put(struct store_txn *t, const Veille__Store__V1__Device *d)
{
	if (d->id.len != DIRECTORY_DEVICE_ID_BYTES)
		return STORE_ETOOBIG;
	return put_msg(t, STORE_DB_DEVICES, d->id.data, d->id.len, &d->base, 0);
}

int directory_device_get(struct store_txn *t, const uint8_t id[DIRECTORY_DEVICE_ID_BYTES],
			 Veille__Store__V1__Device **out)
{
	return get_msg(t, STORE_DB_DEVICES, id, DIRECTORY_DEVICE_ID_BYTES,
		       &veille__store__v1__device__descriptor, (ProtobufCMessage **)out);
}

/* Raises the revocation counter, which veilled watches to close live sessions. */
static int note_revocation(struct store_txn *t)
{
	uint64_t n;

	return store_next_counter(t, DIRECTORY_REVOCATIONS, &n);
}

int directory_professional_revoke(struct store_txn *t, const char *id, uint64_t now_ms)
{
	Veille__Store__V1__Professional *p;
	int rc = directory_professional_get(t, id, &p);

	if (rc != STORE_OK)
		return rc;
	if (!p->revoked_at_ms)
		p->revoked_at_ms = now_ms;
	rc = directory_professional_put(t, p);
	codec_stored_free(&p->base);
	return rc == STORE_OK ? note_revocation(t) : rc;
}

int directory_device_revoke(struct store_txn *t, const uint8_t id[DIRECTORY_DEVICE_ID_BYTES],
			    uint64_t now_ms)
{
	Veille__Store__V1__Device *d;
	int rc = directory_device_get(t, id, &d);

	if (rc != STORE_OK)
		return rc;
	if (!d->revoked_at_ms)
		d->revoked_at_ms = now_ms;
	rc = directory_device_put(t, d);
	codec_stored_free(&d->base);
	return rc == STORE_OK ? note_revocation(t) : rc;
}

struct list_ctx {
	struct store_txn *t;
	enum store_db db;
	const ProtobufCMessageDescriptor *desc;
	directory_visit_fn fn;
	void *arg;
};

static int list_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct list_ctx *c = arg;
	ProtobufCMessage *msg;
	int rc;

	(void)val;
	(void)vlen;
	rc = get_msg(c->t, c->db, key, klen, c->desc, &msg);
	if (rc != STORE_OK)
		return -rc;
	rc = c->fn(msg, c->arg);
	codec_stored_free(msg);
	return rc;
}

int directory_list(struct store_txn *t, enum store_db db, directory_visit_fn fn, void *arg)
{
	struct list_ctx c = {t, db, NULL, fn, arg};
	int rc;

	switch (db) {
	case STORE_DB_STRUCTURES: c.desc = &veille__store__v1__structure__descriptor; break;
	case STORE_DB_PROFESSIONALS: c.desc = &veille__store__v1__professional__descriptor; break;
	case STORE_DB_DEVICES: c.desc = &veille__store__v1__device__descriptor; break;
	default: return STORE_ENOTFOUND;
	}
	rc = store_scan(t, db, NULL, 0, NULL, 0, list_one, &c);
	return rc < 0 ? -rc : rc;
}

/* The pairing table is keyed by a keyed hash of the normalised code. */
static void pairing_key(struct store_txn *t, const char *normalised, uint8_t key[32])
{
	keyring_blind_index(store_txn_keyring(t), normalised, strlen(normalised), key, 32);
}

int directory_pairing_create(struct store_txn *t, const char *professional_id, uint64_t now_ms,
			     uint64_t ttl_ms, char code[16])
{
	Veille__Store__V1__Professional *p;
	Veille__Store__V1__Pairing pr = VEILLE__STORE__V1__PAIRING__INIT;
	char norm[PAIRING_CHARS + 1];
	uint8_t key[32];
	int rc;

	rc = directory_professional_get(t, professional_id, &p);
	if (rc != STORE_OK)
		return rc;
	codec_stored_free(&p->base);
	pairing_generate(code);
	pairing_normalise(code, norm);
	pairing_key(t, norm, key);
	pr.professional_id = (char *)professional_id;
	pr.created_at_ms = now_ms;
	pr.expires_at_ms = now_ms + ttl_ms;
	rc = put_msg(t, STORE_DB_PAIRINGS, key, sizeof(key), &pr.base, STORE_NOOVERWRITE);
	sodium_memzero(norm, sizeof(norm));
	return rc;
}

int directory_pairing_redeem(struct store_txn *t, const char *code, uint64_t now_ms,
			     char professional_id[65])
{
	Veille__Store__V1__Pairing *pr;
	char norm[PAIRING_CHARS + 1];
	uint8_t key[32];
	int rc;

	if (pairing_normalise(code, norm) != 0)
		return STORE_ENOTFOUND;
	pairing_key(t, norm, key);
	sodium_memzero(norm, sizeof(norm));
	rc = get_msg(t, STORE_DB_PAIRINGS, key, sizeof(key), &veille__store__v1__pairing__descriptor,
		     (ProtobufCMessage **)&pr);
	if (rc != STORE_OK)
		return rc;
	if (pr->used_at_ms != 0 || now_ms >= pr->expires_at_ms ||
	    strlen(pr->professional_id) > 64) {
		rc = STORE_ENOTFOUND;
	} else {
		pr->used_at_ms = now_ms;
		snprintf(professional_id, 65, "%s", pr->professional_id);
		rc = put_msg(t, STORE_DB_PAIRINGS, key, sizeof(key), &pr->base, 0);
	}
	codec_stored_free(&pr->base);
	return rc;
}

/* Enum names from the generated descriptors: "ROLE_MARAUDEUR" <-> "maraudeur". The name is
 * returned in a static buffer, valid until the next call (single-threaded callers: CLIs, logs). */
static const char *enum_name(const ProtobufCEnumDescriptor *d, int value, size_t prefix)
{
	static char buf[64];
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
	size_t i;

	if (!v || value == 0)
		return "?";
	for (i = 0; v->name[prefix + i] && i + 1 < sizeof(buf); i++)
		buf[i] = (char)tolower((unsigned char)v->name[prefix + i]);
	buf[i] = '\0';
	return buf;
}

static int enum_value(const ProtobufCEnumDescriptor *d, const char *name, const char *prefix)
{
	char full[96];
	const ProtobufCEnumValue *v;
	size_t i, p = strlen(prefix);

	if (strlen(name) + p >= sizeof(full))
		return 0;
	memcpy(full, prefix, p);
	for (i = 0; name[i]; i++)
		full[p + i] = (char)toupper((unsigned char)name[i]);
	full[p + i] = '\0';
	v = protobuf_c_enum_descriptor_get_value_by_name(d, full);
	return v ? v->value : 0;
}

const char *directory_role_name(int role)
{
	return enum_name(&veille__v1__role__descriptor, role, strlen("ROLE_"));
}

int directory_role_value(const char *name)
{
	return enum_value(&veille__v1__role__descriptor, name, "ROLE_");
}

const char *directory_kind_name(int kind)
{
	return enum_name(&veille__v1__structure_kind__descriptor, kind, strlen("STRUCTURE_KIND_"));
}

int directory_kind_value(const char *name)
{
	return enum_value(&veille__v1__structure_kind__descriptor, name, "STRUCTURE_KIND_");
}

const char *directory_category_name(int category)
{
	return enum_name(&veille__v1__place_category__descriptor, category,
			 strlen("PLACE_CATEGORY_"));
}

int directory_category_value(const char *name)
{
	return enum_value(&veille__v1__place_category__descriptor, name, "PLACE_CATEGORY_");
}
