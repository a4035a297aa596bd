/* directory: structures, professionals, devices and pairing codes, kept in the store.
 *
 * Every entry is a store.v1 protobuf message sealed with the directory key (names of
 * professionals are personal data too). Functions work inside a caller's transaction so an
 * admin action or an enrolment is one atomic commit. Messages returned through **out are
 * caller-owned: free them with codec_stored_free(&msg->base). Errors are STORE_* codes. */
#ifndef VEILLE_DIRECTORY_H
#define VEILLE_DIRECTORY_H

#include <stdint.h>

#include "codec.h"
#include "store.h"

#define DIRECTORY_DEVICE_ID_BYTES 16

/* 1 if id is a valid structure or professional id: 1..64 of [a-z0-9-], starting with a letter
 * or digit. */
int directory_id_valid(const char *id);

#define DIRECTORY_MAX_ADDRESS 256 /* bytes of a structure's postal address */

/* 1 if a structure's location is acceptable: its address at most 256 bytes of UTF-8 without
 * control characters (listings are tab-separated), and, when located, latitude in -90..90
 * and longitude in -180..180 (WGS84 degrees); when not located, both 0. */
int directory_location_valid(const Veille__Store__V1__Structure *s);

/* Errors: STORE_EEXISTS, storage errors. */
int directory_structure_add(struct store_txn *t, const Veille__Store__V1__Structure *s);
/* Overwrites an existing structure (veillectl structure set). A centre's places keep a copy
 * of its name and location: call places_describe in the same transaction.
 * Errors: STORE_ENOTFOUND, storage errors. */
int directory_structure_put(struct store_txn *t, const Veille__Store__V1__Structure *s);
/* Errors: STORE_ENOTFOUND, storage errors. */
int directory_structure_get(struct store_txn *t, const char *id,
			    Veille__Store__V1__Structure **out);

/* add: STORE_EEXISTS if the id is taken, STORE_ENOTFOUND if its structure does not exist.
 * put: overwrites (revocation). */
int directory_professional_add(struct store_txn *t, const Veille__Store__V1__Professional *p);
int directory_professional_put(struct store_txn *t, const Veille__Store__V1__Professional *p);
int directory_professional_get(struct store_txn *t, const char *id,
			       Veille__Store__V1__Professional **out);

int directory_device_put(struct store_txn *t, const Veille__Store__V1__Device *d);

/* Marks a professional or a device revoked at now_ms (kept if already revoked): their devices
 * are refused at the next authentication or request, and the META counter
 * DIRECTORY_REVOCATIONS goes up, so a running veilled closes their live sessions within a
 * second (auth_tick). Errors: STORE_ENOTFOUND, storage errors. */
#define DIRECTORY_REVOCATIONS "revocations"
int directory_professional_revoke(struct store_txn *t, const char *id, uint64_t now_ms);
int directory_device_revoke(struct store_txn *t, const uint8_t id[DIRECTORY_DEVICE_ID_BYTES],
			    uint64_t now_ms);
int directory_device_get(struct store_txn *t, const uint8_t id[DIRECTORY_DEVICE_ID_BYTES],
			 Veille__Store__V1__Device **out);

/* Visits every entry of one kind (STORE_DB_STRUCTURES, _PROFESSIONALS or _DEVICES), in key
 * order. msg is borrowed for the call. fn returns 0 to go on. */
typedef int (*directory_visit_fn)(const ProtobufCMessage *msg, void *arg);
int directory_list(struct store_txn *t, enum store_db db, directory_visit_fn fn, void *arg);

/* Creates a one-time code for a professional, valid ttl_ms from now_ms; code is the text to
 * hand to the professional. Errors: STORE_ENOTFOUND (no such professional), storage errors. */
int directory_pairing_create(struct store_txn *t, const char *professional_id, uint64_t now_ms,
			     uint64_t ttl_ms, char code[16]);

/* Uses up a code: on success writes the professional's id (<= 64 chars) into professional_id.
 * Unknown, malformed, expired and already used codes all give STORE_ENOTFOUND. */
int directory_pairing_redeem(struct store_txn *t, const char *code, uint64_t now_ms,
			     char professional_id[65]);

/* Name <-> value for the Role, StructureKind and PlaceCategory enums, as lower-case names
 * without the enum prefix ("maraudeur", "equipe_mobile", "homme_seul"). name returns "?" for unknown values; value returns
 * 0 (UNSPECIFIED) for unknown names. */
const char *directory_role_name(int role);
int directory_role_value(const char *name);
const char *directory_kind_name(int kind);
int directory_kind_value(const char *name);
const char *directory_category_name(int category);
int directory_category_value(const char *name);

#endif
