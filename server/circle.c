/* circle: see circle.h. */
#include "circle.h"

#include "directory.h"
#include "orient.h"
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_MET 'M'
#define TAG_ADMITTED 'A'
#define TAG_OBJECTION 'O'
#define KEY_MAX (STORE_ID_BYTES + 1 + CODEC_MAX_ID)
#define STAY_BYTES 16 /* from | until, then the centre's territory */
#define TERRITORY_MAX 15

static size_t circle_key(uint8_t key[KEY_MAX], const uint8_t pid[STORE_ID_BYTES], char tag,
			 const char *structure_id)
{
	size_t n = structure_id ? strlen(structure_id) : 0;

	if (n > CODEC_MAX_ID)
		n = CODEC_MAX_ID;
	memcpy(key, pid, STORE_ID_BYTES);
	key[STORE_ID_BYTES] = (uint8_t)tag;
	if (n)
		memcpy(key + STORE_ID_BYTES + 1, structure_id, n);
	return STORE_ID_BYTES + 1 + n;
}

int circle_objects(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], int *objects)
{
	uint8_t key[KEY_MAX];
	const void *val;
	size_t vlen, klen = circle_key(key, pid, TAG_OBJECTION, NULL);
	int rc = store_get_plain(t, STORE_DB_CIRCLE, key, klen, &val, &vlen);

	*objects = rc == STORE_OK;
	return rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

/* A stay of a centre in a person's circle, as stored: from | until | the centre's territory. */
struct stay {
	int found;
	uint64_t from, until;
	char territory[TERRITORY_MAX + 1];
};

/* The stay of centre_id in pid's circle: STORE_OK with st->found 0 if there is none. */
static int get_stay(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES],
		    const char *centre_id, struct stay *st)
{
	uint8_t key[KEY_MAX];
	const void *val;
	size_t vlen, klen = circle_key(key, pid, TAG_ADMITTED, centre_id);
	int rc = store_get_plain(t, STORE_DB_CIRCLE, key, klen, &val, &vlen);

	memset(st, 0, sizeof(*st));
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK || vlen < STAY_BYTES || vlen > STAY_BYTES + TERRITORY_MAX)
		return rc == STORE_OK ? STORE_EFORGED : rc;
	st->found = 1;
	st->from = store_be64_get(val);
	st->until = store_be64_get((const uint8_t *)val + 8);
	memcpy(st->territory, (const uint8_t *)val + STAY_BYTES, vlen - STAY_BYTES);
	return STORE_OK;
}

/* The territory of the structure that wrote rv, into out ("" if unknown). */
static int author_territory(struct store_txn *t, const Veille__Store__V1__RecordVersion *rv,
			    char out[TERRITORY_MAX + 1])
{
	Veille__Store__V1__Structure *s = NULL;
	const char *team;
	int rc;

	out[0] = 0;
	switch (rv->record_case) {
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST:
		snprintf(out, TERRITORY_MAX + 1, "%s", rv->request->territory);
		return STORE_OK;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER: team = rv->encounter->team_id; break;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON: team = rv->person->team_id; break;
	default: return STORE_OK;
	}
	rc = directory_structure_get(t, team, &s);
	if (rc == STORE_OK)
		snprintf(out, TERRITORY_MAX + 1, "%s", s->territory);
	if (s)
		codec_stored_free(&s->base);
	return rc == STORE_ENOTFOUND ? STORE_OK : rc;
}

/* 1 in *yes if centre_id may see rv as the centre the person is staying at now: in a stay at
 * now_ms, the person does not object, and rv was written in the centre's territory
 * (territories are tenants: a stay does not open another département's records). */
static int admitted_now(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES],
			const char *centre_id, const Veille__Store__V1__RecordVersion *rv,
			uint64_t now_ms, int *yes)
{
	char territory[TERRITORY_MAX + 1];
	struct stay st;
	int objects, rc = get_stay(t, pid, centre_id, &st);

	*yes = 0;
	if (rc != STORE_OK || !st.found || now_ms < st.from || now_ms >= st.until)
		return rc;
	if ((rc = circle_objects(t, pid, &objects)) != STORE_OK || objects ||
	    (rc = author_territory(t, rv, territory)) != STORE_OK)
		return rc;
	*yes = territory[0] && strcmp(territory, st.territory) == 0;
	return STORE_OK;
}

int circle_relations(struct store_txn *t, const char *structure_id,
		     const Veille__Store__V1__RecordVersion *rv, uint64_t now_ms, unsigned *rels)
{
	uint8_t pid[STORE_ID_BYTES];
	int rc, rel, yes;

	*rels = 0;
	if (rv->record_case == VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST) {
		if ((rc = orient_request_relation(t, rv->record_id, structure_id, &rel)) != STORE_OK)
			return rc;
		if (rel == POLICY_REL_SIAO || rel == POLICY_REL_CENTRE)
			*rels |= POLICY_BIT(rel);
	}
	if (!records_person_named(rv, pid))
		return STORE_OK;
	if ((rc = admitted_now(t, pid, structure_id, rv, now_ms, &yes)) == STORE_OK && yes)
		*rels |= POLICY_BIT(POLICY_REL_ADMITTED);
	return rc;
}

int circle_met(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], const char *structure_id,
	       uint64_t now_ms)
{
	uint8_t key[KEY_MAX], at[8];
	size_t klen = circle_key(key, pid, TAG_MET, structure_id);
	int rc;

	store_be64_put(at, now_ms);
	rc = store_put_plain(t, STORE_DB_CIRCLE, key, klen, at, sizeof(at), STORE_NOOVERWRITE);
	return rc == STORE_EEXISTS ? STORE_OK : rc;
}

/* ---- joining and leaving: the person's past records ---- */

struct rids {
	uint8_t (*id)[STORE_ID_BYTES];
	size_t n, cap;
};

static int collect_rid(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct rids *r = arg;

	(void)val;
	(void)vlen;
	if (klen != 2 * STORE_ID_BYTES)
		return -STORE_EFORGED;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		void *grown = realloc(r->id, cap * sizeof(*r->id));

		if (!grown)
			return -STORE_ENOMEM;
		r->id = grown;
		r->cap = cap;
	}
	memcpy(r->id[r->n++], (const uint8_t *)key + STORE_ID_BYTES, STORE_ID_BYTES);
	return 0;
}

/* The ids of every record about the person (caller frees r->id). Storage errors. */
static int person_records(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], struct rids *r)
{
	int rc = store_scan(t, STORE_DB_PERSON_RECORDS, pid, STORE_ID_BYTES, NULL, 0, collect_rid, r);

	return rc < 0 ? -rc : STORE_OK;
}

/* Sends the centre structure_id what changed for it in the person's records when its stay's
 * relation came or went: a record it sees now, and saw otherwise before, is re-shared (the
 * pull projects it anew); one it saw and sees no more is withdrawn. Only the records written
 * in the stay's territory are looked at (the stay never opened the others); requests_only:
 * requests alone (the only records an objecting person's centre held). */
static int refresh(struct store_txn *t, const struct records_actor *a,
		   const uint8_t pid[STORE_ID_BYTES], const char *structure_id,
		   const char *territory, uint64_t now_ms, int requests_only)
{
	const unsigned toggled = POLICY_BIT(POLICY_REL_ADMITTED);
	char written_in[TERRITORY_MAX + 1];
	struct rids r = {NULL, 0, 0};
	int rc = person_records(t, pid, &r);

	for (size_t i = 0; rc == STORE_OK && i < r.n; i++) {
		Veille__Store__V1__RecordVersion *rv = NULL;
		struct records_head h;
		unsigned rels = 0, now, before;

		if ((rc = records_head(t, a, r.id[i], &h)) != STORE_OK || !h.version)
			continue;
		if ((rc = records_load(t, h.seq, &rv)) != STORE_OK)
			break;
		if ((requests_only &&
		     rv->record_case != VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST) ||
		    (rc = author_territory(t, rv, written_in)) != STORE_OK ||
		    strcmp(written_in, territory) != 0) {
			codec_stored_free(&rv->base);
			continue;
		}
		rc = circle_relations(t, structure_id, rv, now_ms, &rels);
		now = policy_classes(structure_id, rels, rv);
		before = policy_classes(structure_id, rels ^ toggled, rv);
		codec_stored_free(&rv->base);
		if (rc != STORE_OK || now == before)
			continue;
		rc = now ? records_share(t, a, r.id[i], h.version, h.seq, structure_id)
			 : records_withdraw(t, a, r.id[i], structure_id);
	}
	free(r.id);
	return rc == STORE_ESHREDDED ? STORE_OK : rc; /* erased: nothing of them to send */
}

int circle_reassess(struct store_txn *t, const struct records_actor *a,
		    const uint8_t rid[STORE_ID_BYTES], const char *structure_id, uint64_t now_ms)
{
	Veille__Store__V1__RecordVersion *rv = NULL;
	struct records_head h;
	unsigned rels = 0, shown = 0;
	int rc = records_head(t, a, rid, &h);

	if (rc != STORE_OK || !h.version)
		return rc;
	rc = records_load(t, h.seq, &rv);
	if (rc == STORE_ESHREDDED)
		return records_withdraw(t, a, rid, structure_id);
	if (rc != STORE_OK)
		return rc;
	if ((rc = circle_relations(t, structure_id, rv, now_ms, &rels)) == STORE_OK)
		shown = policy_classes(structure_id, rels, rv);
	codec_stored_free(&rv->base);
	if (rc != STORE_OK)
		return rc;
	return shown ? records_share(t, a, rid, h.version, h.seq, structure_id)
		     : records_withdraw(t, a, rid, structure_id);
}

int circle_stay_begins(struct store_txn *t, const struct records_actor *a,
		       const uint8_t pid[STORE_ID_BYTES], const char *centre_id, uint64_t now_ms)
{
	struct stay st;
	int objects, rc = get_stay(t, pid, centre_id, &st);

	if (rc != STORE_OK || !st.found || now_ms < st.from || now_ms >= st.until ||
	    (rc = circle_objects(t, pid, &objects)) != STORE_OK || objects)
		return rc;
	return refresh(t, a, pid, centre_id, st.territory, now_ms, 0);
}

int circle_admit(struct store_txn *t, const struct records_actor *a,
		 const uint8_t pid[STORE_ID_BYTES], const char *centre_id, uint64_t from_ms,
		 uint64_t until_ms, uint64_t now_ms)
{
	uint8_t key[KEY_MAX], val[STAY_BYTES + TERRITORY_MAX];
	size_t klen = circle_key(key, pid, TAG_ADMITTED, centre_id);
	size_t tlen = a->territory ? strlen(a->territory) : 0;
	struct stay st;
	int rc = get_stay(t, pid, centre_id, &st);

	if (rc != STORE_OK)
		return rc;
	if (st.found) { /* stays that overlap or follow each other make one window */
		from_ms = st.from < from_ms ? st.from : from_ms;
		until_ms = st.until > until_ms ? st.until : until_ms;
	}
	tlen = tlen > TERRITORY_MAX ? TERRITORY_MAX : tlen;
	store_be64_put(val, from_ms);
	store_be64_put(val + 8, until_ms);
	memcpy(val + STAY_BYTES, a->territory, tlen);
	if ((rc = store_put_plain(t, STORE_DB_CIRCLE, key, klen, val, STAY_BYTES + tlen, 0)) !=
	    STORE_OK)
		return rc;
	return circle_stay_begins(t, a, pid, centre_id, now_ms);
}

int circle_stay_ends(struct store_txn *t, const struct records_actor *a,
		     const uint8_t pid[STORE_ID_BYTES], const char *centre_id, uint64_t at_ms,
		     uint64_t now_ms)
{
	uint8_t key[KEY_MAX];
	size_t klen = circle_key(key, pid, TAG_ADMITTED, centre_id);
	struct stay st;
	int objects, rc = get_stay(t, pid, centre_id, &st);

	if (rc != STORE_OK || !st.found || st.until > at_ms) /* a later stay runs on */
		return rc;
	if ((rc = store_del(t, STORE_DB_CIRCLE, key, klen)) != STORE_OK ||
	    (rc = circle_objects(t, pid, &objects)) != STORE_OK)
		return rc;
	return refresh(t, a, pid, centre_id, st.territory, now_ms, objects);
}

/* ---- the circle as stored ---- */

struct each {
	circle_entry_fn fn;
	void *arg;
};

static int each_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct each *e = arg;
	const uint8_t *k = key;
	char structure[CODEC_MAX_ID + 1];
	size_t n = klen - STORE_ID_BYTES - 1;

	if (klen < STORE_ID_BYTES + 1 || n > CODEC_MAX_ID)
		return -STORE_EFORGED;
	memcpy(structure, k + STORE_ID_BYTES + 1, n);
	structure[n] = 0;
	switch (k[STORE_ID_BYTES]) {
	case TAG_MET:
		return vlen == 8 ? e->fn("met", structure, store_be64_get(val), 0, e->arg) : 0;
	case TAG_ADMITTED:
		return vlen >= STAY_BYTES ? e->fn("admitted", structure, store_be64_get(val),
						  store_be64_get((const uint8_t *)val + 8), e->arg)
					  : 0;
	case TAG_OBJECTION:
		return e->fn("objection", "", 0, 0, e->arg);
	default:
		return 0;
	}
}

/* The stored part of the circle (stays, meetings, objection). */
static int each_stored(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], circle_entry_fn fn,
		       void *arg)
{
	struct each e = {fn, arg};
	int rc = store_scan(t, STORE_DB_CIRCLE, pid, STORE_ID_BYTES, NULL, 0, each_one, &e);

	return rc < 0 ? -rc : STORE_OK;
}

int circle_each(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], circle_entry_fn fn,
		void *arg)
{
	struct rids r = {NULL, 0, 0};
	int rc = each_stored(t, pid, fn, arg);

	if (rc == STORE_OK)
		rc = person_records(t, pid, &r);
	for (size_t i = 0; rc == STORE_OK && i < r.n; i++)
		rc = orient_request_parties(t, r.id[i], fn, arg);
	free(r.id);
	return rc;
}

/* The admitting centres of the person now, into a list (store_scan cannot write meanwhile). */
struct stays {
	uint64_t now_ms;
	size_t n;
	char id[8][CODEC_MAX_ID + 1];
};

static int stay_one(const char *reason, const char *structure_id, uint64_t from_ms,
		    uint64_t until_ms, void *arg)
{
	struct stays *s = arg;

	if (strcmp(reason, "admitted") != 0 || s->now_ms < from_ms || s->now_ms >= until_ms)
		return 0;
	if (s->n == sizeof(s->id) / sizeof(*s->id))
		return 1; /* more centres at once than any stay makes: the first ones */
	strcpy(s->id[s->n++], structure_id);
	return 0;
}

static int stays_now(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], uint64_t now_ms,
		     struct stays *s)
{
	s->now_ms = now_ms;
	s->n = 0;
	return each_stored(t, pid, stay_one, s);
}

int circle_set_objection(struct store_txn *t, const struct records_actor *a,
			 const uint8_t pid[STORE_ID_BYTES], int objects, uint64_t now_ms)
{
	uint8_t key[KEY_MAX];
	size_t klen = circle_key(key, pid, TAG_OBJECTION, NULL);
	struct stays s;
	int was, rc = circle_objects(t, pid, &was);

	if (rc != STORE_OK || was == objects)
		return rc;
	rc = objects ? store_put_plain(t, STORE_DB_CIRCLE, key, klen, "", 0, 0)
		     : store_del(t, STORE_DB_CIRCLE, key, klen);
	if (rc != STORE_OK || (rc = stays_now(t, pid, now_ms, &s)) != STORE_OK)
		return rc;
	for (size_t i = 0; i < s.n && rc == STORE_OK; i++) {
		struct stay st;

		if ((rc = get_stay(t, pid, s.id[i], &st)) == STORE_OK)
			rc = refresh(t, a, pid, s.id[i], st.territory, now_ms, 0);
	}
	return rc;
}

int circle_admitted_audiences(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES],
			      const Veille__Store__V1__RecordVersion *rv, uint64_t now_ms,
			      circle_fn fn, void *arg)
{
	struct stays s;
	int rc = stays_now(t, pid, now_ms, &s); /* most persons stay nowhere: one look-up */

	for (size_t i = 0; i < s.n && rc == STORE_OK; i++) {
		int yes; /* admitted_now also honours the objection */

		if ((rc = admitted_now(t, pid, s.id[i], rv, now_ms, &yes)) == STORE_OK && yes &&
		    policy_classes(s.id[i], POLICY_BIT(POLICY_REL_ADMITTED), rv))
			rc = fn(s.id[i], arg);
	}
	return rc;
}

/* ---- erasure ---- */

struct keys {
	uint8_t (*key)[KEY_MAX];
	size_t *len;
	size_t n, cap;
};

static int collect_key(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct keys *k = arg;

	(void)val;
	(void)vlen;
	if (klen > KEY_MAX)
		return -STORE_EFORGED;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 8;
		void *keys = realloc(k->key, cap * sizeof(*k->key));
		void *lens = keys ? realloc(k->len, cap * sizeof(*k->len)) : NULL;

		if (keys)
			k->key = keys;
		if (!lens)
			return -STORE_ENOMEM;
		k->len = lens;
		k->cap = cap;
	}
	memcpy(k->key[k->n], key, klen);
	k->len[k->n++] = klen;
	return 0;
}

int circle_forget(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES])
{
	struct rids r = {NULL, 0, 0};
	struct keys k = {NULL, NULL, 0, 0};
	uint8_t index[2 * STORE_ID_BYTES];
	int rc = person_records(t, pid, &r);

	memcpy(index, pid, STORE_ID_BYTES);
	for (size_t i = 0; rc == STORE_OK && i < r.n; i++) {
		memcpy(index + STORE_ID_BYTES, r.id[i], STORE_ID_BYTES);
		rc = store_del(t, STORE_DB_PERSON_RECORDS, index, sizeof(index));
	}
	if (rc == STORE_OK &&
	    (rc = store_scan(t, STORE_DB_CIRCLE, pid, STORE_ID_BYTES, NULL, 0, collect_key, &k)) < 0)
		rc = -rc;
	for (size_t i = 0; rc == STORE_OK && i < k.n; i++)
		rc = store_del(t, STORE_DB_CIRCLE, k.key[i], k.len[i]);
	free(r.id);
	free(k.key);
	free(k.len);
	return rc;
}
