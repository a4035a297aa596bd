/* orient: see orient.h. */
#include "orient.h"

#include "calendar.h"
#include "circle.h"
#include "directory.h"
#include "effects.h"
#include "places.h"
#include "policy.h"
#include "stats.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_R 'R'
#define KEY_P 'P'
#define KEY_H 'H'
#define KEY_X 'X'
#define KEY_S 'S' /* a stay begins: 'S' | start (be64) | decision id */
#define KEY_E 'E' /* a stay ends:   'E' | end (be64) | decision id */
#define MAX_HOUSEHOLD 20
#define MAX_STAY_MS (5ull * 366 * 86400 * 1000)  /* a fixed duration, not an open end */
#define SWEEP_BATCH 64                            /* holds (and extensions) ended per call */
#define MAX_REMINDERS 16
#define ID_HEX (2 * STORE_ID_BYTES + 1)

static const uint8_t zero_device[16];

/* ---- plain state ---- */

static size_t state_key(uint8_t key[1 + 8 + STORE_ID_BYTES], char kind, uint64_t at,
			const uint8_t id[STORE_ID_BYTES])
{
	size_t n = 0;

	key[n++] = (uint8_t)kind;
	if (kind == KEY_H || kind == KEY_X || kind == KEY_S || kind == KEY_E) {
		store_be64_put(key + n, at);
		n += 8;
	}
	memcpy(key + n, id, STORE_ID_BYTES);
	return n + STORE_ID_BYTES;
}

static int get_state(struct store_txn *t, char kind, const uint8_t id[STORE_ID_BYTES],
		     const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	uint8_t key[1 + 8 + STORE_ID_BYTES];
	size_t klen = state_key(key, kind, 0, id), vlen;
	const void *val;
	int rc = store_get_plain(t, STORE_DB_ORIENT, key, klen, &val, &vlen);

	*out = NULL;
	if (rc != STORE_OK)
		return rc;
	*out = codec_unpack(desc, val, vlen);
	return *out ? STORE_OK : STORE_EFORGED;
}

static int put_state(struct store_txn *t, char kind, const uint8_t id[STORE_ID_BYTES],
		     const ProtobufCMessage *msg)
{
	uint8_t key[1 + 8 + STORE_ID_BYTES], *buf;
	size_t klen = state_key(key, kind, 0, id), len;
	int rc;

	if (codec_pack(msg, &buf, &len) != 0)
		return STORE_ENOMEM;
	rc = store_put_plain(t, STORE_DB_ORIENT, key, klen, buf, len, 0);
	free(buf);
	return rc;
}

static int put_index(struct store_txn *t, char kind, uint64_t at, const uint8_t id[STORE_ID_BYTES])
{
	uint8_t key[1 + 8 + STORE_ID_BYTES];
	size_t klen = state_key(key, kind, at, id);

	return store_put_plain(t, STORE_DB_ORIENT, key, klen, "", 0, 0);
}

static int del_index(struct store_txn *t, char kind, uint64_t at, const uint8_t id[STORE_ID_BYTES])
{
	uint8_t key[1 + 8 + STORE_ID_BYTES];
	size_t klen = state_key(key, kind, at, id);
	int rc = store_del(t, STORE_DB_ORIENT, key, klen);

	return rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

static int get_request(struct store_txn *t, const uint8_t id[STORE_ID_BYTES],
		       Veille__Store__V1__OrientRequest **out)
{
	return get_state(t, KEY_R, id, &veille__store__v1__orient_request__descriptor,
			 (ProtobufCMessage **)out);
}

static int get_proposal(struct store_txn *t, const uint8_t id[STORE_ID_BYTES],
			Veille__Store__V1__OrientProposal **out)
{
	return get_state(t, KEY_P, id, &veille__store__v1__orient_proposal__descriptor,
			 (ProtobufCMessage **)out);
}

static void free_msg(void *msg)
{
	if (msg)
		codec_stored_free(msg);
}

/* The access of a centre to a request (NONE if it never had any). */
static int centre_access(const Veille__Store__V1__OrientRequest *r, const char *centre_id)
{
	for (size_t i = 0; i < r->n_centres; i++)
		if (strcmp(r->centres[i]->centre_id, centre_id) == 0)
			return r->centres[i]->access;
	return VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_NONE;
}

/* Sets a centre's access, adding it if needed: the new entry's memory is the caller's and
 * must outlive the next put_state (entry points into it). */
static int set_access(Veille__Store__V1__OrientRequest *r, const char *centre_id, int access,
		      Veille__Store__V1__OrientCentre *entry, Veille__Store__V1__OrientCentre ***grown)
{
	Veille__Store__V1__OrientCentre **v;

	for (size_t i = 0; i < r->n_centres; i++)
		if (strcmp(r->centres[i]->centre_id, centre_id) == 0) {
			r->centres[i]->access = access;
			return STORE_OK;
		}
	v = malloc((r->n_centres + 1) * sizeof(*v));
	if (!v)
		return STORE_ENOMEM;
	if (r->n_centres)
		memcpy(v, r->centres, r->n_centres * sizeof(*v));
	veille__store__v1__orient_centre__init(entry);
	entry->centre_id = (char *)centre_id;
	entry->access = access;
	v[r->n_centres] = entry;
	/* r's own array stays owned by r: it is swapped back before r is freed. */
	*grown = v;
	return STORE_OK;
}

/* Puts r with the centres array v (if set) instead of its own, then restores it. */
static int put_request(struct store_txn *t, const uint8_t id[STORE_ID_BYTES],
		       Veille__Store__V1__OrientRequest *r, Veille__Store__V1__OrientCentre **v)
{
	Veille__Store__V1__OrientCentre **own = r->centres;
	size_t n = r->n_centres;
	int rc;

	if (v) {
		r->centres = v;
		r->n_centres = n + 1;
	}
	rc = put_state(t, KEY_R, id, &r->base);
	r->centres = own;
	r->n_centres = n;
	return rc;
}

/* The first SIAO structure of the territory, into out ("" if none). */
struct siao_find {
	const char *territory;
	char *out;
};

static int siao_one(const ProtobufCMessage *msg, void *arg)
{
	const Veille__Store__V1__Structure *s = (const Veille__Store__V1__Structure *)msg;
	struct siao_find *f = arg;

	if (s->kind != VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_SIAO ||
	    strcmp(s->territory, f->territory) != 0)
		return 0;
	snprintf(f->out, CODEC_MAX_ID + 1, "%s", s->id);
	return 1;
}

static int find_siao(struct store_txn *t, const char *territory, char out[CODEC_MAX_ID + 1])
{
	struct siao_find f = {territory, out};
	int rc;

	out[0] = 0;
	rc = directory_list(t, STORE_DB_STRUCTURES, siao_one, &f);
	return rc == 1 ? STORE_OK : rc;
}

/* The display name of structure id, as the directory holds it now, into out ("" if the
 * directory has no such structure). Orientation records carry the names of the structures
 * they name so that a client shows them without a directory of its own (the records travel
 * sealed and through the policy like the ids: a name reaches only those the id reaches). */
static int structure_name(struct store_txn *t, const char *id, char out[CODEC_MAX_NAME + 1])
{
	Veille__Store__V1__Structure *s;
	int rc = directory_structure_get(t, id, &s);

	out[0] = 0;
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	snprintf(out, CODEC_MAX_NAME + 1, "%s", s->name);
	codec_stored_free(&s->base);
	return STORE_OK;
}

static int category_valid(int c)
{
	return c >= VEILLE__V1__PLACE_CATEGORY__PLACE_CATEGORY_HOMME_SEUL &&
	       c <= VEILLE__V1__PLACE_CATEGORY__PLACE_CATEGORY_ANIMAL;
}

/* "public_non_adapte" for REFUSAL_MOTIVE_PUBLIC_NON_ADAPTE, for the statistics. */
static void motive_name(int motive, char out[48])
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&veille__v1__refusal_motive__descriptor, motive);
	const char *n = v ? v->name + strlen("REFUSAL_MOTIVE_") : "unspecified";
	size_t i;

	for (i = 0; n[i] && i < 47; i++)
		out[i] = (char)tolower((unsigned char)n[i]);
	out[i] = 0;
}

static int blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

/* The reminders of an admission from start to end: a bilan every six months, the last day to
 * ask for an extension (a month before the end), the end; and, once an extension was asked,
 * the day it is deemed accepted without answer. In date order. */
static size_t reminders(const Veille__V1__Decision *d, Veille__V1__Reminder *r,
			Veille__V1__Reminder **p)
{
	size_t n = 0;
	uint64_t deadline = calendar_add_months(d->end_ms, -1);

	for (int k = 1; n < MAX_REMINDERS - 3; k++) {
		uint64_t due = calendar_add_months(d->start_ms, 6 * k);

		if (due >= d->end_ms)
			break;
		veille__v1__reminder__init(&r[n]);
		r[n].kind = VEILLE__V1__REMINDER_KIND__REMINDER_KIND_BILAN;
		r[n++].due_ms = due;
	}
	if (deadline > d->start_ms) {
		veille__v1__reminder__init(&r[n]);
		r[n].kind = VEILLE__V1__REMINDER_KIND__REMINDER_KIND_EXTENSION_DEADLINE;
		r[n++].due_ms = deadline;
	}
	if (d->extension_requested_at_ms) {
		veille__v1__reminder__init(&r[n]);
		r[n].kind = VEILLE__V1__REMINDER_KIND__REMINDER_KIND_EXTENSION_DEEMED;
		r[n++].due_ms = calendar_add_months(d->extension_requested_at_ms, 1);
	}
	veille__v1__reminder__init(&r[n]);
	r[n].kind = VEILLE__V1__REMINDER_KIND__REMINDER_KIND_END;
	r[n++].due_ms = d->end_ms;
	for (size_t i = 1; i < n; i++) /* insertion sort: a handful of entries */
		for (size_t j = i; j > 0 && r[j].due_ms < r[j - 1].due_ms; j--) {
			Veille__V1__Reminder x = r[j];

			r[j] = r[j - 1];
			r[j - 1] = x;
		}
	for (size_t i = 0; i < n; i++)
		p[i] = &r[i];
	return n;
}

/* The reject codes of places_free / places_change, as an op result. */
static int place_refused(struct records_result *res, int rc)
{
	switch (rc) {
	case STORE_ENOTFOUND:
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				      "not a centre with places in the request's territory");
	case PLACES_NO_CATEGORY:
		return records_reject(res, VEILLE_ERR(NO_PLACE),
				      "the centre has no place of this category");
	default:
		return rc;
	}
}

/* ---- requests ---- */

static int may_request(int role)
{
	return role == VEILLE__V1__ROLE__ROLE_MARAUDEUR || role == VEILLE__V1__ROLE__ROLE_ACCUEILLANT ||
	       role == VEILLE__V1__ROLE__ROLE_ECOUTANT_115 ||
	       role == VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO ||
	       role == VEILLE__V1__ROLE__ROLE_TRAVAILLEUR_SOCIAL;
}

static const char *check_request(const Veille__V1__Request *q)
{
	if (q->household_adults < 1 || q->household_adults > MAX_HOUSEHOLD)
		return "household_adults must be 1 to 20 (0: taken from the person's profile, "
		       "which has none)";
	if (q->household_children > MAX_HOUSEHOLD)
		return "household_children must be 0 to 20";
	if (!protobuf_c_enum_descriptor_get_value(&veille__v1__urgency__descriptor, q->urgency))
		return "unknown urgency";
	if (strlen(q->languages) > 256)
		return "languages over 256 bytes";
	for (size_t i = 0; i < q->n_categories; i++)
		if (!category_valid(q->categories[i]))
			return "unknown place category";
	return NULL;
}

/* A request that carries no household (household_adults 0) takes the person's DECISION fields
 * from their profile, as the requester's structure holds it (none if it holds none: the
 * request is then refused for want of a household). *profile keeps the strings borrowed. */
static int from_profile(struct store_txn *t, const struct records_actor *a,
			const uint8_t pid[STORE_ID_BYTES], Veille__V1__Request *q,
			Veille__Store__V1__RecordVersion **profile)
{
	struct records_head h;
	int rc = records_head(t, a, pid, &h);

	if (rc != STORE_OK || !h.version || !h.owned)
		return rc;
	rc = records_load(t, h.seq, profile);
	if (rc == STORE_ESHREDDED)
		return STORE_OK; /* refused later, when the request is sealed for them */
	if (rc != STORE_OK || !(*profile)->person)
		return rc;
	for (size_t i = 0; i < (*profile)->person->n_fields; i++) {
		const Veille__V1__PersonFieldValue *f = (*profile)->person->fields[i];

		if (f->cleared)
			continue;
		switch (f->field) {
		case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_ADULTS:
			q->household_adults = f->number > 0 && f->number <= MAX_HOUSEHOLD
						      ? (uint32_t)f->number : 0;
			break;
		case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_CHILDREN:
			q->household_children = f->number > 0 && f->number <= MAX_HOUSEHOLD
							? (uint32_t)f->number : 0;
			break;
		case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_REDUCED_MOBILITY:
			q->reduced_mobility = f->flag;
			break;
		case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_ANIMAL:
			q->animal = f->flag;
			break;
		case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_LANGUAGES:
			q->languages = f->text;
			break;
		default:
			break;
		}
	}
	return STORE_OK;
}

static int apply_request(struct store_txn *t, const struct records_actor *a,
			 const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
			 uint64_t now_ms, struct records_result *res)
{
	Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT, *prev = NULL;
	Veille__Store__V1__RecordVersion *profile = NULL;
	Veille__Store__V1__OrientRequest *st = NULL, fresh = VEILLE__STORE__V1__ORIENT_REQUEST__INIT;
	Veille__V1__Request q = *m->request;
	const char *also[1 + CODEC_MAX_LIST * 4];
	char siao[CODEC_MAX_ID + 1], day[CALENDAR_DAY_BYTES], requester[CODEC_MAX_NAME + 1];
	uint8_t pid[STORE_ID_BYTES];
	struct records_head h;
	size_t n_also = 0;
	const char *why;
	int rc = STORE_OK;

	if (!may_request(a->role))
		return records_reject(res, VEILLE_ERR(FORBIDDEN),
				      "only maraudeurs, accueillants, écoutants 115, SIAO "
				      "coordinators and social workers make requests");
	if (records_parse_id(q.person_id, pid) != 0)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				      "person_id must be 32 lowercase hex characters");
	if (q.household_adults == 0) {
		int objects;

		if ((rc = circle_objects(t, pid, &objects)) != STORE_OK)
			return rc;
		if (objects)
			return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
					      "the person objects to sharing: the request carries "
					      "only what they agree to send (household_adults at "
					      "least), nothing is taken from their profile");
		if ((rc = from_profile(t, a, pid, &q, &profile)) != STORE_OK)
			return rc;
	}
	if ((why = check_request(&q)) != NULL) {
		free_msg(profile);
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), why);
	}
	if ((rc = records_head(t, a, rid, &h)) != STORE_OK) {
		free_msg(profile);
		return rc;
	}
	if (!h.owned) {
		rc = records_reject(res, VEILLE_ERR(FORBIDDEN), "record belongs to another structure");
		goto out;
	}
	if (m->base_version != h.version) {
		res->status = VEILLE__V1__OP_STATUS__OP_STATUS_CONFLICT;
		res->version = h.version;
		goto out;
	}
	if (h.version == 0) {
		if (q.withdrawn) {
			rc = records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
					    "a new request cannot be withdrawn");
			goto out;
		}
		if (!a->territory || !a->territory[0]) {
			rc = records_reject(res, VEILLE_ERR(FORBIDDEN),
					    "the author's structure has no territory");
			goto out;
		}
		if ((rc = find_siao(t, a->territory, siao)) != STORE_OK)
			goto out;
		if (!siao[0]) {
			rc = records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
					    "no SIAO is registered for this territory");
			goto out;
		}
		if ((rc = structure_name(t, a->structure_id, requester)) != STORE_OK)
			goto out;
		calendar_paris_day(now_ms, day);
		fresh.territory = (char *)a->territory;
		fresh.requester_id = (char *)a->structure_id;
		fresh.siao_id = siao;
		fresh.day = day;
		fresh.person_id.data = pid;
		fresh.person_id.len = STORE_ID_BYTES;
		st = &fresh;
		q.requested_at_ms = now_ms;
		q.requester_name = requester;
	} else {
		if (memcmp(h.person_id, pid, STORE_ID_BYTES) != 0) {
			rc = records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
					    "a correction cannot change person_id");
			goto out;
		}
		if ((rc = get_request(t, rid, &st)) == STORE_ENOTFOUND) {
			/* Bad input: a record of another kind under this id. */
			rc = records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
					    "record_id names a record of another kind");
			goto out;
		}
		if (rc != STORE_OK)
			goto out;
		if (st->closed) {
			rc = records_reject(res, VEILLE_ERR(CLOSED), "the request is closed");
			goto out;
		}
		if (q.withdrawn && st->active_proposal.len) {
			rc = records_reject(res, VEILLE_ERR(CLOSED),
					    "a proposal awaits the centre's decision: it is "
					    "refused (motive refus_personne) or expires first");
			goto out;
		}
		if ((rc = records_load(t, h.seq, &prev)) != STORE_OK)
			goto out;
		q.requested_at_ms = prev->request ? prev->request->requested_at_ms : now_ms;
		/* The name as the first version stored it (none before the field existed). */
		q.requester_name = prev->request ? prev->request->requester_name : "";
		st->closed = q.withdrawn;
	}
	q.requester_id = (char *)a->structure_id;
	q.author_id = (char *)a->professional_id;
	q.territory = st->territory;
	also[n_also++] = st->siao_id;
	for (size_t i = 0; i < st->n_centres && n_also < sizeof(also) / sizeof(*also); i++)
		if (st->centres[i]->access == VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_PROPOSED ||
		    st->centres[i]->access == VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_ADMITTED)
			also[n_also++] = st->centres[i]->centre_id;
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST;
	rv.request = &q;
	rc = records_write(t, a, m->record_id, m, pid, h.version + 1, now_ms, &rv, also, n_also);
	if (rc != STORE_OK || (rc = put_state(t, KEY_R, rid, &st->base)) != STORE_OK)
		goto out;
	/* Withdrawn by the requester: the SIAO's access to it ends with it. */
	if (q.withdrawn && (rc = circle_reassess(t, a, rid, st->siao_id, now_ms)) != STORE_OK)
		goto out;
	if (h.version == 0 &&
	    ((rc = stats_add_day(t, st->territory, st->day, "requests", NULL, 1)) != STORE_OK ||
	     (rc = stats_add_day(t, st->territory, st->day, "unmet_requests", NULL, 1)) != STORE_OK))
		goto out;
	res->status = VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED;
	res->version = h.version + 1;
out:
	if (st != &fresh)
		free_msg(st);
	free_msg(prev);
	free_msg(profile);
	return rc;
}

/* ---- proposals ---- */

static int apply_proposal(struct store_txn *t, const struct records_actor *a,
			  const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
			  uint64_t now_ms, struct records_result *res)
{
	Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__Store__V1__OrientRequest *st = NULL;
	Veille__Store__V1__OrientProposal ps = VEILLE__STORE__V1__ORIENT_PROPOSAL__INIT;
	Veille__Store__V1__OrientCentre entry, **grown = NULL;
	Veille__V1__Proposal p = *m->proposal;
	const char *also[2];
	char team_name[CODEC_MAX_NAME + 1];
	uint8_t req_id[STORE_ID_BYTES];
	struct records_head h, rh;
	uint32_t free_places = 0;
	uint64_t hold = a->hold_ms ? a->hold_ms : ORIENT_DEFAULT_HOLD_MS;
	int rc;

	if (a->role != VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO)
		return records_reject(res, VEILLE_ERR(FORBIDDEN),
				      "only a SIAO coordinator makes proposals");
	if ((rc = records_head(t, a, rid, &h)) != STORE_OK)
		return rc;
	if (h.version || m->base_version) {
		res->status = VEILLE__V1__OP_STATUS__OP_STATUS_CONFLICT;
		res->version = h.version;
		return STORE_OK; /* a proposal is not corrected: a new one is a new record */
	}
	if (records_parse_id(p.request_id, req_id) != 0)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				      "request_id must be 32 lowercase hex characters");
	if (!category_valid(p.category))
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), "unknown place category");
	rc = get_request(t, req_id, &st);
	if (rc == STORE_ENOTFOUND)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), "unknown request");
	if (rc != STORE_OK)
		return rc;
	if (strcmp(st->siao_id, a->structure_id) != 0) {
		rc = records_reject(res, VEILLE_ERR(FORBIDDEN), "the request is another SIAO's");
		goto out;
	}
	if (st->closed) {
		rc = records_reject(res, VEILLE_ERR(CLOSED), "the request is closed");
		goto out;
	}
	/* The place first: of two proposals for the last place, the second is NO_PLACE, even
	 * when both are for the same request. */
	rc = places_free(t, st->territory, p.centre_id, p.category, &free_places);
	if (rc != STORE_OK) {
		rc = place_refused(res, rc);
		goto out;
	}
	if (free_places == 0) {
		rc = records_reject(res, VEILLE_ERR(NO_PLACE),
				    "no free place of this category at this centre: the place "
				    "is no longer free");
		goto out;
	}
	if (st->active_proposal.len) {
		rc = records_reject(res, VEILLE_ERR(CLOSED),
				    "the request already has a proposal awaiting a decision");
		goto out;
	}
	/* Proposing again to a centre that refused earlier is allowed: a new decision. */
	if ((rc = records_head(t, a, req_id, &rh)) != STORE_OK ||
	    (rc = structure_name(t, st->requester_id, team_name)) != STORE_OK)
		goto out;
	/* Every check is made: from here on the op is applied (or the transaction fails). */
	p.siao_id = (char *)a->structure_id;
	p.author_id = (char *)a->professional_id;
	p.hold_until_ms = now_ms + hold;
	p.status = VEILLE__V1__PROPOSAL_STATUS__PROPOSAL_STATUS_HELD;
	p.request_team_id = st->requester_id;
	p.request_team_name = team_name;
	also[0] = st->requester_id;
	also[1] = p.centre_id;
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_PROPOSAL;
	rv.proposal = &p;
	rc = records_write(t, a, m->record_id, m, st->person_id.data, 1, now_ms, &rv, also, 2);
	if (rc != STORE_OK)
		goto out;
	ps.request_id.data = req_id;
	ps.request_id.len = STORE_ID_BYTES;
	ps.centre_id = p.centre_id;
	ps.category = p.category;
	ps.territory = st->territory;
	ps.hold_until_ms = p.hold_until_ms;
	ps.status = VEILLE__STORE__V1__HOLD_STATUS__HOLD_STATUS_HELD;
	st->active_proposal.data = (uint8_t *)rid;
	st->active_proposal.len = STORE_ID_BYTES;
	if ((rc = places_change(t, st->territory, p.centre_id, p.category, 1, 0, now_ms,
				a->fx)) != STORE_OK ||
	    (rc = put_state(t, KEY_P, rid, &ps.base)) != STORE_OK ||
	    (rc = put_index(t, KEY_H, ps.hold_until_ms, rid)) != STORE_OK ||
	    (rc = set_access(st, p.centre_id,
			     VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_PROPOSED, &entry,
			     &grown)) != STORE_OK ||
	    (rc = put_request(t, req_id, st, grown)) != STORE_OK ||
	    /* The centre gets the request (its DECISION fields, policy.c) at its next pull. */
	    (rc = records_share(t, a, req_id, rh.version, rh.seq, p.centre_id)) != STORE_OK ||
	    (rc = stats_add(t, st->territory, now_ms, "proposals", NULL, 1)) != STORE_OK)
		goto out;
	res->status = VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED;
	res->version = 1;
out:
	st->active_proposal.data = NULL; /* borrowed: never freed with st */
	st->active_proposal.len = 0;
	free(grown);
	free_msg(st);
	return rc;
}

/* ---- decisions ---- */

static const char *check_stay(Veille__V1__Decision *d, uint64_t now_ms)
{
	if (!d->start_ms)
		d->start_ms = now_ms;
	if (d->end_ms <= d->start_ms)
		return "an admission needs end_ms after start_ms (a fixed duration)";
	if (d->end_ms - d->start_ms > MAX_STAY_MS)
		return "an admission is for a fixed duration of at most five years";
	return NULL;
}

/* The admitting centre joins the person's care circle for the stay of decision did; the sweep
 * opens it at the stay's start (if later) and closes it at its end. */
static int begin_stay(struct store_txn *t, const struct records_actor *a,
		      const uint8_t pid[STORE_ID_BYTES], const uint8_t did[STORE_ID_BYTES],
		      const Veille__V1__Decision *d, uint64_t now_ms)
{
	int rc = circle_admit(t, a, pid, d->centre_id, d->start_ms, d->end_ms, now_ms);

	if (rc == STORE_OK && d->start_ms > now_ms)
		rc = put_index(t, KEY_S, d->start_ms, did);
	return rc == STORE_OK ? put_index(t, KEY_E, d->end_ms, did) : rc;
}

/* A later version of an admission: the centre asks the préfet for an extension. */
static int apply_extension(struct store_txn *t, const struct records_actor *a,
			   const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
			   const struct records_head *h, uint64_t now_ms,
			   struct records_result *res)
{
	Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT, *cur = NULL;
	Veille__V1__Reminder r[MAX_REMINDERS], *rp[MAX_REMINDERS];
	Veille__V1__Decision d;
	const char *also[2];
	int rc;

	if (!h->owned)
		return records_reject(res, VEILLE_ERR(FORBIDDEN), "record belongs to another structure");
	if (m->base_version != h->version) {
		res->status = VEILLE__V1__OP_STATUS__OP_STATUS_CONFLICT;
		res->version = h->version;
		return STORE_OK;
	}
	if (!m->decision->extension_requested || blank(m->decision->extension_motive))
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				      "a decision is not corrected; a later version asks for an "
				      "extension, with its motive (extension_motive)");
	if ((rc = records_load(t, h->seq, &cur)) != STORE_OK)
		return rc;
	if (!cur->decision || (cur->decision->kind != VEILLE__V1__DECISION_KIND__DECISION_KIND_ADMISSION &&
			       cur->decision->kind !=
				       VEILLE__V1__DECISION_KIND__DECISION_KIND_EMERGENCY_ADMISSION)) {
		rc = records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				    "only an admission can be extended");
		goto out;
	}
	if (cur->decision->extension_requested) {
		rc = records_reject(res, VEILLE_ERR(CLOSED), "an extension was already requested");
		goto out;
	}
	if (now_ms > calendar_add_months(cur->decision->end_ms, -1)) {
		rc = records_reject(res, VEILLE_ERR(CLOSED),
				    "too late: an extension is asked at the latest one month "
				    "before the end of the stay");
		goto out;
	}
	d = *cur->decision;
	d.extension_requested = 1;
	d.extension_motive = m->decision->extension_motive;
	d.extension_requested_at_ms = now_ms;
	d.author_id = (char *)a->professional_id;
	d.n_reminders = reminders(&d, r, rp);
	d.reminders = rp;
	also[0] = d.siao_id;
	also[1] = d.request_team_id;
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION;
	rv.decision = &d;
	rc = records_write(t, a, m->record_id, m, h->person_id, h->version + 1, now_ms, &rv, also, 2);
	if (rc != STORE_OK ||
	    (rc = put_index(t, KEY_X, calendar_add_months(now_ms, 1), rid)) != STORE_OK)
		goto out;
	res->status = VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED;
	res->version = h->version + 1;
out:
	free_msg(cur);
	return rc;
}

/* An emergency admission (L345-2-7): the centre admits, and informs the SIAO. */
static int apply_emergency(struct store_txn *t, const struct records_actor *a,
			   const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
			   uint64_t now_ms, struct records_result *res)
{
	Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__V1__Reminder r[MAX_REMINDERS], *rp[MAX_REMINDERS];
	Veille__V1__Decision d = *m->decision;
	char siao[CODEC_MAX_ID + 1], centre_name[CODEC_MAX_NAME + 1];
	const char *also[1], *why;
	uint8_t pid[STORE_ID_BYTES];
	uint32_t free_places;
	int rc;

	if (records_parse_id(d.person_id, pid) != 0)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				      "an emergency admission names the person (person_id)");
	if (!category_valid(d.category))
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), "unknown place category");
	if ((why = check_stay(&d, now_ms)) != NULL)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), why);
	if (!a->territory || !a->territory[0])
		return records_reject(res, VEILLE_ERR(FORBIDDEN), "the centre has no territory");
	rc = places_free(t, a->territory, a->structure_id, d.category, &free_places);
	if (rc != STORE_OK)
		return place_refused(res, rc);
	if ((rc = find_siao(t, a->territory, siao)) != STORE_OK ||
	    (rc = structure_name(t, a->structure_id, centre_name)) != STORE_OK)
		return rc;
	d.proposal_id = "";
	d.motive = 0;
	d.motive_text = "";
	d.extension_requested = 0;
	d.extension_motive = "";
	d.centre_id = (char *)a->structure_id;
	d.author_id = (char *)a->professional_id;
	d.request_id = "";
	d.siao_id = siao;
	d.request_team_id = "";
	d.centre_name = centre_name;
	d.request_team_name = ""; /* no request */
	d.decided_at_ms = now_ms;
	d.extension_requested_at_ms = 0;
	d.extension_deemed_accepted = 0;
	d.n_reminders = reminders(&d, r, rp);
	d.reminders = rp;
	also[0] = siao;
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION;
	rv.decision = &d;
	rc = records_write(t, a, m->record_id, m, pid, 1, now_ms, &rv, also, 1);
	/* The place is taken even if none was declared free: the centre decided. */
	if (rc != STORE_OK ||
	    (rc = places_change(t, a->territory, a->structure_id, d.category, 0, -1, now_ms,
				a->fx)) != STORE_OK ||
	    (rc = stats_add(t, a->territory, now_ms, "emergency_admissions", NULL, 1)) != STORE_OK ||
	    (rc = begin_stay(t, a, pid, rid, &d, now_ms)) != STORE_OK)
		return rc;
	res->status = VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED;
	res->version = 1;
	return STORE_OK;
}

static int apply_decision(struct store_txn *t, const struct records_actor *a,
			  const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
			  uint64_t now_ms, struct records_result *res)
{
	Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__Store__V1__OrientProposal *ps = NULL;
	Veille__Store__V1__OrientRequest *st = NULL;
	Veille__Store__V1__OrientCentre entry, **grown = NULL;
	Veille__V1__Reminder r[MAX_REMINDERS], *rp[MAX_REMINDERS];
	Veille__V1__Decision d = *m->decision;
	char req_hex[ID_HEX], motive[48], today[CALENDAR_DAY_BYTES];
	char centre_name[CODEC_MAX_NAME + 1], team_name[CODEC_MAX_NAME + 1];
	const char *also[2], *why;
	uint8_t prop_id[STORE_ID_BYTES];
	struct records_head h;
	int rc, admit = d.kind == VEILLE__V1__DECISION_KIND__DECISION_KIND_ADMISSION;

	if (a->role != VEILLE__V1__ROLE__ROLE_RESPONSABLE_CENTRE)
		return records_reject(res, VEILLE_ERR(FORBIDDEN),
				      "only the centre's responsable decides");
	if ((rc = records_head(t, a, rid, &h)) != STORE_OK)
		return rc;
	if (h.version)
		return apply_extension(t, a, m, rid, &h, now_ms, res);
	if (m->base_version) {
		res->status = VEILLE__V1__OP_STATUS__OP_STATUS_CONFLICT;
		return STORE_OK;
	}
	if (d.kind == VEILLE__V1__DECISION_KIND__DECISION_KIND_EMERGENCY_ADMISSION)
		return apply_emergency(t, a, m, rid, now_ms, res);
	if (!admit && d.kind != VEILLE__V1__DECISION_KIND__DECISION_KIND_REFUSAL)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				      "kind must be admission, refusal or emergency admission");
	if (!admit && (d.motive == 0 ||
		       !protobuf_c_enum_descriptor_get_value(&veille__v1__refusal_motive__descriptor,
							     d.motive) ||
		       blank(d.motive_text)))
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				      "a refusal states its motive: one of the list (motive) and "
				      "its explanation (motive_text)");
	if (admit && (why = check_stay(&d, now_ms)) != NULL)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), why);
	if (records_parse_id(d.proposal_id, prop_id) != 0)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT),
				      "proposal_id must be 32 lowercase hex characters");
	rc = get_proposal(t, prop_id, &ps);
	if (rc == STORE_ENOTFOUND)
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), "unknown proposal");
	if (rc != STORE_OK)
		return rc;
	if (strcmp(ps->centre_id, a->structure_id) != 0) {
		rc = records_reject(res, VEILLE_ERR(FORBIDDEN), "the proposal is for another centre");
		goto out;
	}
	if (ps->status == VEILLE__STORE__V1__HOLD_STATUS__HOLD_STATUS_EXPIRED) {
		rc = records_reject(res, VEILLE_ERR(CLOSED),
				    "the proposal expired: its place was freed");
		goto out;
	}
	if (ps->status != VEILLE__STORE__V1__HOLD_STATUS__HOLD_STATUS_HELD) {
		rc = records_reject(res, VEILLE_ERR(CLOSED), "the proposal was already decided");
		goto out;
	}
	if ((rc = get_request(t, ps->request_id.data, &st)) != STORE_OK) {
		rc = rc == STORE_ENOTFOUND ? STORE_EFORGED : rc;
		goto out;
	}
	if ((rc = structure_name(t, a->structure_id, centre_name)) != STORE_OK ||
	    (rc = structure_name(t, st->requester_id, team_name)) != STORE_OK)
		goto out;
	sodium_bin2hex(req_hex, sizeof(req_hex), ps->request_id.data, STORE_ID_BYTES);
	d.category = ps->category;
	d.start_ms = admit ? d.start_ms : 0;
	d.end_ms = admit ? d.end_ms : 0;
	if (admit)
		d.motive_text = "", d.motive = 0;
	d.person_id = "";
	d.extension_requested = 0;
	d.extension_motive = "";
	d.centre_id = (char *)a->structure_id;
	d.author_id = (char *)a->professional_id;
	d.request_id = req_hex;
	d.siao_id = st->siao_id;
	d.request_team_id = st->requester_id;
	d.centre_name = centre_name;
	d.request_team_name = team_name;
	d.decided_at_ms = now_ms;
	d.extension_requested_at_ms = 0;
	d.extension_deemed_accepted = 0;
	d.n_reminders = admit ? reminders(&d, r, rp) : 0;
	d.reminders = rp;
	also[0] = st->siao_id;
	also[1] = st->requester_id;
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION;
	rv.decision = &d;
	rc = records_write(t, a, m->record_id, m, st->person_id.data, 1, now_ms, &rv, also, 2);
	if (rc != STORE_OK)
		goto out;
	ps->status = admit ? VEILLE__STORE__V1__HOLD_STATUS__HOLD_STATUS_ADMITTED
			   : VEILLE__STORE__V1__HOLD_STATUS__HOLD_STATUS_REFUSED;
	st->active_proposal.len = 0;
	st->closed = st->closed || admit;
	calendar_paris_day(now_ms, today);
	motive_name(d.motive, motive);
	if ((rc = places_change(t, ps->territory, ps->centre_id, ps->category, -1, admit ? -1 : 0,
				now_ms, a->fx)) != STORE_OK ||
	    (rc = put_state(t, KEY_P, prop_id, &ps->base)) != STORE_OK ||
	    (rc = del_index(t, KEY_H, ps->hold_until_ms, prop_id)) != STORE_OK ||
	    (rc = set_access(st, ps->centre_id,
			     admit ? VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_ADMITTED
				   : VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_ENDED,
			     &entry, &grown)) != STORE_OK ||
	    (rc = put_request(t, ps->request_id.data, st, grown)) != STORE_OK ||
	    (rc = stats_add(t, ps->territory, now_ms, admit ? "admissions" : "refusals",
			    admit ? NULL : motive, 1)) != STORE_OK)
		goto out;
	if (admit && (rc = begin_stay(t, a, st->person_id.data, rid, &d, now_ms)) != STORE_OK)
		goto out;
	/* Whoever lost access to the request drops it, unless another relation keeps it: the
	 * centre that refused; the SIAO once the admission closed it. */
	if ((rc = circle_reassess(t, a, ps->request_id.data, admit ? st->siao_id : ps->centre_id,
				  now_ms)) != STORE_OK)
		goto out;
	/* A request met on the day it was made is not a demande non pourvue of that day. */
	if (admit && strcmp(st->day, today) == 0 &&
	    (rc = stats_add_day(t, ps->territory, st->day, "unmet_requests", NULL, -1)) != STORE_OK)
		goto out;
	res->status = VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED;
	res->version = 1;
out:
	free(grown);
	free_msg(st);
	free_msg(ps);
	return rc;
}

int orient_apply(struct store_txn *t, const struct records_actor *a,
		 const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
		 uint64_t now_ms, struct records_result *res)
{
	const char *why;

	/* No field its writer could not read back (records.h): no orientation record has a
	 * HEALTH field yet; a future one is covered here, before each kind's own rules. */
	if (!policy_may_write(a->role, m, NULL, &why))
		return records_reject(res, VEILLE_ERR(FORBIDDEN), why);
	switch (m->record_case) {
	case VEILLE__V1__MUTATION__RECORD_REQUEST:
		return apply_request(t, a, m, rid, now_ms, res);
	case VEILLE__V1__MUTATION__RECORD_PROPOSAL:
		return apply_proposal(t, a, m, rid, now_ms, res);
	case VEILLE__V1__MUTATION__RECORD_DECISION:
		return apply_decision(t, a, m, rid, now_ms, res);
	default:
		return records_reject(res, VEILLE_ERR(INVALID_ARGUMENT), "unknown record kind");
	}
}

int orient_request_relation(struct store_txn *t, const char *record_id,
			    const char *structure_id, int *relation)
{
	Veille__Store__V1__OrientRequest *st;
	uint8_t id[STORE_ID_BYTES];
	int rc, access;

	*relation = POLICY_REL_NONE;
	if (records_parse_id(record_id, id) != 0)
		return STORE_OK;
	rc = get_request(t, id, &st);
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	access = centre_access(st, structure_id);
	if (strcmp(st->requester_id, structure_id) == 0)
		*relation = POLICY_REL_AUTHOR;
	else if (strcmp(st->siao_id, structure_id) == 0 && !st->closed)
		*relation = POLICY_REL_SIAO;
	else if (access == VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_PROPOSED ||
		 access == VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_ADMITTED)
		*relation = POLICY_REL_CENTRE;
	free_msg(st);
	return STORE_OK;
}

int orient_request_parties(struct store_txn *t, const uint8_t rid[STORE_ID_BYTES],
			   circle_entry_fn fn, void *arg)
{
	Veille__Store__V1__OrientRequest *st;
	int rc = get_request(t, rid, &st);

	if (rc != STORE_OK)
		return rc == STORE_ENOTFOUND ? STORE_OK : rc;
	rc = fn("requester", st->requester_id, 0, 0, arg);
	if (!rc && !st->closed)
		rc = fn("siao", st->siao_id, 0, 0, arg);
	for (size_t i = 0; !rc && i < st->n_centres; i++)
		if (st->centres[i]->access == VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_PROPOSED)
			rc = fn("proposal", st->centres[i]->centre_id, 0, 0, arg);
	free_msg(st);
	return STORE_OK;
}

/* ---- the sweep ---- */

struct due {
	uint64_t now_ms;
	size_t n;
	uint64_t at[SWEEP_BATCH];
	uint8_t id[SWEEP_BATCH][STORE_ID_BYTES];
};

static int due_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct due *d = arg;
	const uint8_t *k = key;

	(void)val;
	(void)vlen;
	if (klen != 1 + 8 + STORE_ID_BYTES)
		return -STORE_EFORGED;
	if (store_be64_get(k + 1) > d->now_ms || d->n == SWEEP_BATCH)
		return 1;
	d->at[d->n] = store_be64_get(k + 1);
	memcpy(d->id[d->n++], k + 9, STORE_ID_BYTES);
	return 0;
}

static int find_due(struct store_txn *t, char kind, uint64_t now_ms, struct due *d)
{
	uint8_t prefix = (uint8_t)kind;
	int rc;

	d->now_ms = now_ms;
	d->n = 0;
	rc = store_scan(t, STORE_DB_ORIENT, &prefix, 1, NULL, 0, due_one, d);
	return rc < 0 ? -rc : STORE_OK;
}

/* Writes a new version of record id (current version cur, at h) as veilled, in the name of
 * the structure that owns it, for the same audiences. */
static int write_as_server(struct store_txn *t, struct effects *fx, const char *owner,
			   const char *territory, const char *record_hex,
			   const struct records_head *h, uint64_t now_ms,
			   Veille__Store__V1__RecordVersion *rv, const char *const *also, size_t n)
{
	uint8_t aud[RECORDS_AUDIENCE_BYTES];
	struct records_actor a = {zero_device, "veilled", owner, aud, 0, territory, 0, fx};

	records_audience(t, owner, aud);
	return records_write(t, &a, record_hex, NULL, h->person_id, h->version + 1, now_ms, rv,
			     also, n);
}

static int expire_hold(struct store_txn *t, uint64_t at, const uint8_t id[STORE_ID_BYTES],
		       uint64_t now_ms, struct effects *fx)
{
	Veille__Store__V1__OrientProposal *ps = NULL;
	Veille__Store__V1__OrientRequest *st = NULL;
	Veille__Store__V1__RecordVersion *cur = NULL, nrv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__Store__V1__OrientCentre entry, **grown = NULL;
	Veille__V1__Proposal p;
	char hex[ID_HEX];
	const char *also[2];
	struct records_head h;
	struct records_actor any = {zero_device, "", "", NULL, 0, "", 0, NULL};
	uint8_t noaud[RECORDS_AUDIENCE_BYTES] = {0};
	int rc;

	if ((rc = del_index(t, KEY_H, at, id)) != STORE_OK)
		return rc;
	rc = get_proposal(t, id, &ps);
	if (rc != STORE_OK)
		return rc == STORE_ENOTFOUND ? STORE_OK : rc;
	if (ps->status != VEILLE__STORE__V1__HOLD_STATUS__HOLD_STATUS_HELD)
		goto out;
	ps->status = VEILLE__STORE__V1__HOLD_STATUS__HOLD_STATUS_EXPIRED;
	if ((rc = put_state(t, KEY_P, id, &ps->base)) != STORE_OK ||
	    (rc = places_change(t, ps->territory, ps->centre_id, ps->category, -1, 0, now_ms,
				fx)) != STORE_OK ||
	    (rc = stats_add(t, ps->territory, now_ms, "proposals_expired", NULL, 1)) != STORE_OK)
		goto out;
	rc = get_request(t, ps->request_id.data, &st);
	if (rc == STORE_OK) {
		if (st->active_proposal.len == STORE_ID_BYTES &&
		    memcmp(st->active_proposal.data, id, STORE_ID_BYTES) == 0)
			st->active_proposal.len = 0;
		if ((rc = set_access(st, ps->centre_id,
				     VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_ENDED, &entry,
				     &grown)) != STORE_OK ||
		    (rc = put_request(t, ps->request_id.data, st, grown)) != STORE_OK)
			goto out;
		{
			struct records_actor sweep = {zero_device, "veilled", ps->centre_id, noaud,
						      0, ps->territory, 0, fx};

			/* The centre whose hold ended drops the request, unless another
			 * relation keeps it. */
			if ((rc = circle_reassess(t, &sweep, ps->request_id.data, ps->centre_id,
						  now_ms)) != STORE_OK)
				goto out;
		}
	} else if (rc != STORE_ENOTFOUND) {
		goto out;
	}
	/* The proposal's EXPIRED version, for the SIAO, the requester and the centre. */
	any.audience = noaud;
	if ((rc = records_head(t, &any, id, &h)) != STORE_OK || h.version == 0)
		goto out;
	rc = records_load(t, h.seq, &cur);
	if (rc == STORE_ESHREDDED) {
		rc = STORE_OK; /* the person was erased: no version to write */
		goto out;
	}
	if (rc != STORE_OK || !cur->proposal)
		goto out;
	p = *cur->proposal;
	p.status = VEILLE__V1__PROPOSAL_STATUS__PROPOSAL_STATUS_EXPIRED;
	sodium_bin2hex(hex, sizeof(hex), id, STORE_ID_BYTES);
	nrv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_PROPOSAL;
	nrv.proposal = &p;
	also[0] = p.request_team_id;
	also[1] = p.centre_id;
	rc = write_as_server(t, fx, p.siao_id, ps->territory, hex, &h, now_ms, &nrv, also, 2);
	if (rc == STORE_ESHREDDED)
		rc = STORE_OK;
out:
	free(grown);
	free_msg(cur);
	free_msg(st);
	free_msg(ps);
	return rc;
}

static int deem_extension(struct store_txn *t, uint64_t at, const uint8_t id[STORE_ID_BYTES],
			  uint64_t now_ms, struct effects *fx)
{
	Veille__Store__V1__RecordVersion *cur = NULL, nrv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__V1__Decision d;
	uint8_t noaud[RECORDS_AUDIENCE_BYTES] = {0};
	struct records_actor any = {zero_device, "", "", noaud, 0, "", 0, NULL};
	struct records_head h;
	const char *also[2];
	char hex[ID_HEX];
	int rc;

	if ((rc = del_index(t, KEY_X, at, id)) != STORE_OK ||
	    (rc = records_head(t, &any, id, &h)) != STORE_OK || h.version == 0)
		return rc;
	rc = records_load(t, h.seq, &cur);
	if (rc == STORE_ESHREDDED)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	if (!cur->decision || !cur->decision->extension_requested ||
	    cur->decision->extension_deemed_accepted)
		goto out;
	d = *cur->decision;
	d.extension_deemed_accepted = 1;
	nrv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION;
	nrv.decision = &d;
	sodium_bin2hex(hex, sizeof(hex), id, STORE_ID_BYTES);
	also[0] = d.siao_id;
	also[1] = d.request_team_id;
	rc = write_as_server(t, fx, d.centre_id, "", hex, &h, now_ms, &nrv, also, 2);
	if (rc == STORE_ESHREDDED)
		rc = STORE_OK;
out:
	free_msg(cur);
	return rc;
}

/* A stay of decision id begins or ends (kind KEY_S or KEY_E, due at): the admitting centre
 * joins the person's circle, or leaves it, and its access to the request ends. */
static int stay_edge(struct store_txn *t, char kind, uint64_t at, const uint8_t id[STORE_ID_BYTES],
		     uint64_t now_ms, struct effects *fx)
{
	Veille__Store__V1__RecordVersion *cur = NULL;
	Veille__Store__V1__OrientRequest *st = NULL;
	Veille__Store__V1__OrientCentre entry, **grown = NULL;
	uint8_t aud[RECORDS_AUDIENCE_BYTES] = {0}, req[STORE_ID_BYTES];
	struct records_actor a = {zero_device, "veilled", "", aud, 0, "", 0, fx};
	struct records_head h;
	int rc;

	if ((rc = del_index(t, kind, at, id)) != STORE_OK ||
	    (rc = records_head(t, &a, id, &h)) != STORE_OK || h.version == 0)
		return rc;
	rc = records_load(t, h.seq, &cur);
	if (rc == STORE_ESHREDDED)
		return STORE_OK; /* the person was erased: nothing of them to send or withdraw */
	if (rc != STORE_OK || !cur->decision)
		goto out;
	a.structure_id = cur->decision->centre_id;
	records_audience(t, a.structure_id, aud);
	if (kind == KEY_S) {
		rc = circle_stay_begins(t, &a, h.person_id, a.structure_id, now_ms);
		goto out;
	}
	/* The stay is over: so is the centre's access to the request it came from. */
	if (records_parse_id(cur->decision->request_id, req) == 0) {
		rc = get_request(t, req, &st);
		if (rc == STORE_OK &&
		    ((rc = set_access(st, a.structure_id,
				      VEILLE__STORE__V1__CENTRE_ACCESS__CENTRE_ACCESS_ENDED, &entry,
				      &grown)) != STORE_OK ||
		     (rc = put_request(t, req, st, grown)) != STORE_OK))
			goto out;
		if (rc != STORE_OK && rc != STORE_ENOTFOUND)
			goto out;
	}
	rc = circle_stay_ends(t, &a, h.person_id, a.structure_id, at, now_ms);
out:
	free(grown);
	free_msg(st);
	free_msg(cur);
	return rc;
}

int orient_sweep(struct store_txn *t, uint64_t now_ms, struct effects *fx)
{
	static const char stay_kinds[] = {KEY_S, KEY_E};
	struct due d;
	int rc;

	if ((rc = find_due(t, KEY_H, now_ms, &d)) != STORE_OK)
		return rc;
	for (size_t i = 0; i < d.n; i++)
		if ((rc = expire_hold(t, d.at[i], d.id[i], now_ms, fx)) != STORE_OK)
			return rc;
	if ((rc = find_due(t, KEY_X, now_ms, &d)) != STORE_OK)
		return rc;
	for (size_t i = 0; i < d.n; i++)
		if ((rc = deem_extension(t, d.at[i], d.id[i], now_ms, fx)) != STORE_OK)
			return rc;
	for (size_t k = 0; k < sizeof(stay_kinds); k++) {
		if ((rc = find_due(t, stay_kinds[k], now_ms, &d)) != STORE_OK)
			return rc;
		for (size_t i = 0; i < d.n; i++)
			if ((rc = stay_edge(t, stay_kinds[k], d.at[i], d.id[i], now_ms, fx)) !=
			    STORE_OK)
				return rc;
	}
	return STORE_OK;
}
