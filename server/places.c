/* places: see places.h. */
#include "places.h"

#include "auth.h"
#include "clock.h"
#include "codec.h"
#include "commit.h"
#include "directory.h"
#include "effects.h"
#include "frame.h"
#include "log.h"
#include "server.h"
#include "session.h"
#include "stats.h"
#include "store.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX (CODEC_MAX_TERRITORY + 1 + CODEC_MAX_ID)

int places_kind_has_places(int kind)
{
	return kind == VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_CHRS ||
	       kind == VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_CHU ||
	       kind == VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_CPH;
}

/* territory | 0 | structure id: a territory's centres are one key range. */
static size_t centre_key(uint8_t key[KEY_MAX], const char *territory, const char *structure_id)
{
	size_t tl = strlen(territory), sl = strlen(structure_id);

	if (tl > CODEC_MAX_TERRITORY)
		tl = CODEC_MAX_TERRITORY;
	if (sl > CODEC_MAX_ID)
		sl = CODEC_MAX_ID;
	memcpy(key, territory, tl);
	key[tl] = 0;
	memcpy(key + tl + 1, structure_id, sl);
	return tl + 1 + sl;
}

static int get_centre(struct store_txn *t, const char *territory, const char *structure_id,
		      Veille__V1__CentrePlaces **out)
{
	uint8_t key[KEY_MAX];
	const void *val;
	size_t klen = centre_key(key, territory, structure_id), vlen;
	int rc = store_get_plain(t, STORE_DB_PLACES, key, klen, &val, &vlen);

	*out = NULL;
	if (rc != STORE_OK)
		return rc;
	*out = (Veille__V1__CentrePlaces *)codec_unpack(&veille__v1__centre_places__descriptor,
							 val, vlen);
	return *out ? STORE_OK : STORE_EIO;
}

static int put_msg_plain(struct store_txn *t, enum store_db db, const void *key, size_t klen,
			 const ProtobufCMessage *msg)
{
	uint8_t *buf;
	size_t len;
	int rc = codec_pack(msg, &buf, &len);

	if (rc != 0)
		return STORE_ENOMEM;
	rc = store_put_plain(t, db, key, klen, buf, len, 0);
	free(buf);
	return rc;
}

/* Stores a centre without what views compute (period, stale, free). */
static int put_centre(struct store_txn *t, const Veille__V1__CentrePlaces *c)
{
	Veille__V1__CentrePlaces v = *c;
	uint8_t key[KEY_MAX];
	size_t klen = centre_key(key, c->territory, c->structure_id);

	v.period_ms = 0;
	v.stale = 0;
	v.n_free = 0;
	v.free = NULL;
	return put_msg_plain(t, STORE_DB_PLACES, key, klen, &v.base);
}

/* The territory's settings; defaults if none were ever stored. Free with codec_stored_free. */
static int get_territory(struct store_txn *t, const char *territory,
			 Veille__Store__V1__Territory **out)
{
	const void *val;
	size_t vlen;
	int rc = store_get_plain(t, STORE_DB_TERRITORIES, territory, strlen(territory), &val, &vlen);

	if (rc == STORE_ENOTFOUND) {
		val = "";
		vlen = 0;
	} else if (rc != STORE_OK) {
		return rc;
	}
	*out = (Veille__Store__V1__Territory *)codec_unpack(&veille__store__v1__territory__descriptor,
							     val, vlen);
	return *out ? STORE_OK : STORE_EIO;
}

static uint64_t period_of(const Veille__Store__V1__Territory *tr)
{
	return tr->period_ms ? tr->period_ms : PLACES_DEFAULT_PERIOD_MS;
}

uint32_t places_count(Veille__V1__CategoryCount *const *counts, size_t n, int category)
{
	for (size_t i = 0; i < n; i++)
		if ((int)counts[i]->category == category)
			return counts[i]->count;
	return 0;
}

/* Adds delta to a category's count in a list of an unpacked message (the list and a new entry
 * are malloc'd, as protobuf-c's free expects); a count never goes below 0. */
static int adjust(Veille__V1__CategoryCount ***list, size_t *n, int category, int delta)
{
	Veille__V1__CategoryCount *c, **v;

	for (size_t i = 0; i < *n; i++)
		if ((int)(*list)[i]->category == category) {
			c = (*list)[i];
			c->count = delta < 0 && (uint32_t)-delta > c->count ? 0 : c->count + delta;
			return STORE_OK;
		}
	if (delta <= 0)
		return STORE_OK;
	c = malloc(sizeof(*c));
	v = c ? realloc(*list, (*n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(c);
		return STORE_ENOMEM;
	}
	veille__v1__category_count__init(c);
	c->category = category;
	c->count = (uint32_t)delta;
	v[(*n)++] = c;
	*list = v;
	return STORE_OK;
}

/* Empties a list of an unpacked message. */
static void clear_counts(Veille__V1__CategoryCount ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		codec_stored_free(&(*list)[i]->base);
	free(*list);
	*list = NULL;
	*n = 0;
}

/* What every view of a centre shows besides what is stored: the periodicity, whether the
 * declaration is stale, and the free places (vacancies - held, at least 0) per category. */
static int fill_view(Veille__V1__CentrePlaces *c, uint64_t period_ms, uint64_t now_ms)
{
	c->period_ms = period_ms;
	c->stale = c->declared_at_ms == 0 || now_ms > c->declared_at_ms + period_ms;
	clear_counts(&c->free, &c->n_free);
	for (size_t i = 0; i < c->n_capacity; i++) {
		int cat = (int)c->capacity[i]->category;
		uint32_t vac = places_count(c->vacancies, c->n_vacancies, cat);
		uint32_t held = places_count(c->held, c->n_held, cat);

		if (vac > held && adjust(&c->free, &c->n_free, cat, (int)(vac - held)) != STORE_OK)
			return STORE_ENOMEM;
	}
	return STORE_OK;
}

/* ---- administration (veillectl) ---- */

/* What a centre's places show of its directory entry: name and location (borrowed from st). */
static void describe(Veille__V1__CentrePlaces *c, const Veille__Store__V1__Structure *st)
{
	c->name = st->name;
	c->address = st->address;
	c->located = st->located;
	c->latitude = st->located ? st->latitude : 0;
	c->longitude = st->located ? st->longitude : 0;
}

int places_set_capacity(struct store_txn *t, const char *structure_id,
			Veille__V1__CategoryCount *const *capacity, size_t n)
{
	Veille__Store__V1__Structure *st = NULL;
	Veille__V1__CentrePlaces *old = NULL, c = VEILLE__V1__CENTRE_PLACES__INIT;
	Veille__V1__CategoryCount vac[CODEC_MAX_CATEGORIES], *vp[CODEC_MAX_CATEGORIES];
	size_t nv = 0;
	int rc = directory_structure_get(t, structure_id, &st);

	if (rc != STORE_OK)
		return rc;
	if (!places_kind_has_places(st->kind)) {
		rc = PLACES_NOT_A_CENTRE;
		goto out;
	}
	rc = get_centre(t, st->territory, st->id, &old);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		goto out;
	c.structure_id = st->id;
	c.kind = st->kind;
	c.territory = st->territory;
	describe(&c, st);
	c.n_capacity = n;
	c.capacity = (Veille__V1__CategoryCount **)capacity;
	if (old) {
		/* The last declaration stays, within the new capacity. */
		for (size_t i = 0; i < old->n_vacancies && nv < CODEC_MAX_CATEGORIES; i++) {
			uint32_t cap = places_count(capacity, n, (int)old->vacancies[i]->category);

			veille__v1__category_count__init(&vac[nv]);
			vac[nv].category = old->vacancies[i]->category;
			vac[nv].count = old->vacancies[i]->count < cap ? old->vacancies[i]->count : cap;
			vp[nv] = &vac[nv];
			nv++;
		}
		c.declared_at_ms = old->declared_at_ms;
		c.n_held = old->n_held; /* proposals awaiting a decision still hold their places */
		c.held = old->held;
	}
	c.n_vacancies = nv;
	c.vacancies = vp;
	rc = put_centre(t, &c);
out:
	if (old)
		codec_stored_free(&old->base);
	codec_stored_free(&st->base);
	return rc;
}

/* Notes id in tr->changed, once (the list and the copy are malloc'd, as protobuf-c's free
 * expects). */
static int note_changed(Veille__Store__V1__Territory *tr, const char *id)
{
	char *copy, **v;

	for (size_t i = 0; i < tr->n_changed; i++)
		if (strcmp(tr->changed[i], id) == 0)
			return STORE_OK;
	copy = strdup(id);
	v = copy ? realloc(tr->changed, (tr->n_changed + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(copy);
		return STORE_ENOMEM;
	}
	v[tr->n_changed++] = copy;
	tr->changed = v;
	return STORE_OK;
}

int places_describe(struct store_txn *t, const Veille__Store__V1__Structure *st)
{
	Veille__Store__V1__Territory *tr = NULL;
	Veille__V1__CentrePlaces *c = NULL, v;
	int rc;

	if (!places_kind_has_places(st->kind))
		return STORE_OK;
	rc = get_centre(t, st->territory, st->id, &c);
	if (rc == STORE_ENOTFOUND)
		return STORE_OK; /* no capacity yet: places_set_capacity describes it */
	if (rc != STORE_OK)
		return rc;
	v = *c; /* c's own strings stay c's to free */
	describe(&v, st);
	/* A running veilled announces it at its next sweep, in order with every other change of
	 * the territory (only its commit writer takes sequence numbers). */
	if ((rc = put_centre(t, &v)) == STORE_OK && (rc = get_territory(t, st->territory, &tr)) ==
	    STORE_OK && (rc = note_changed(tr, st->id)) == STORE_OK)
		rc = put_msg_plain(t, STORE_DB_TERRITORIES, st->territory, strlen(st->territory),
				   &tr->base);
	if (tr)
		codec_stored_free(&tr->base);
	codec_stored_free(&c->base);
	return rc;
}

int places_set_period(struct store_txn *t, const char *territory, uint64_t period_ms)
{
	Veille__Store__V1__Territory *tr;
	int rc = get_territory(t, territory, &tr);

	if (rc != STORE_OK)
		return rc;
	tr->period_ms = period_ms;
	rc = put_msg_plain(t, STORE_DB_TERRITORIES, territory, strlen(territory), &tr->base);
	codec_stored_free(&tr->base);
	return rc;
}

struct each_ctx {
	places_fn fn;
	void *arg;
	uint64_t period_ms, now_ms;
};

static int each_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct each_ctx *e = arg;
	Veille__V1__CentrePlaces *c;

	(void)key;
	(void)klen;
	c = (Veille__V1__CentrePlaces *)codec_unpack(&veille__v1__centre_places__descriptor, val,
						     vlen);
	if (!c)
		return -STORE_EIO;
	if (fill_view(c, e->period_ms, e->now_ms) != STORE_OK) {
		codec_stored_free(&c->base);
		return -STORE_ENOMEM;
	}
	return e->fn(c, e->arg); /* fn owns c */
}

int places_each(struct store_txn *t, const char *territory, uint64_t now_ms, places_fn fn,
		void *arg)
{
	struct each_ctx e = { fn, arg, 0, now_ms };
	Veille__Store__V1__Territory *tr;
	uint8_t prefix[CODEC_MAX_TERRITORY + 1];
	size_t plen = strlen(territory);
	int rc = get_territory(t, territory, &tr);

	if (rc != STORE_OK)
		return rc;
	e.period_ms = period_of(tr);
	codec_stored_free(&tr->base);
	if (plen > CODEC_MAX_TERRITORY)
		return STORE_ENOTFOUND;
	memcpy(prefix, territory, plen);
	prefix[plen] = 0;
	rc = store_scan(t, STORE_DB_PLACES, prefix, plen + 1, NULL, 0, each_one, &e);
	return rc < 0 ? -rc : rc;
}

/* ---- changes: declarations, holds, staleness ---- */

/* Gives the centre (as now stored) the territory's next sequence number and notes the delta
 * to send once committed. tr is the territory's settings, stored here with its new number. */
static int announce(struct store_txn *t, Veille__Store__V1__Territory *tr, const char *territory,
		    const char *structure_id, uint64_t now_ms, struct effects *fx, uint64_t *seq)
{
	Veille__V1__CentrePlaces *c;
	int rc;

	tr->places_seq++;
	rc = put_msg_plain(t, STORE_DB_TERRITORIES, territory, strlen(territory), &tr->base);
	if (seq)
		*seq = tr->places_seq;
	if (rc != STORE_OK || !fx)
		return rc;
	if ((rc = get_centre(t, territory, structure_id, &c)) != STORE_OK)
		return rc;
	if (fill_view(c, period_of(tr), now_ms) != STORE_OK) {
		codec_stored_free(&c->base);
		return STORE_ENOMEM;
	}
	effects_delta(fx, tr->places_seq, c);
	return STORE_OK;
}

int places_declare(struct store_txn *t, const char *structure_id,
		   Veille__V1__CategoryCount *const *vacancies, size_t n, uint64_t now_ms,
		   struct effects *fx, struct places_declared *out)
{
	Veille__Store__V1__Structure *st = NULL;
	Veille__Store__V1__Territory *tr = NULL;
	Veille__V1__CentrePlaces *c = NULL;
	Veille__V1__CategoryCount **old;
	size_t old_n;
	int rc = directory_structure_get(t, structure_id, &st);

	memset(out, 0, sizeof(*out));
	if (rc != STORE_OK)
		return rc;
	if (!places_kind_has_places(st->kind)) {
		out->code = VEILLE_ERR(FORBIDDEN);
		out->why = "only a centre (CHRS, CHU, CPH) has places";
		goto out;
	}
	rc = get_centre(t, st->territory, st->id, &c);
	if (rc == STORE_ENOTFOUND) {
		rc = STORE_OK;
		out->code = VEILLE_ERR(INVALID_ARGUMENT);
		out->why = "this centre has no capacity yet (veillectl centre capacity)";
		goto out;
	}
	if (rc != STORE_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (vacancies[i]->count >
		    places_count(c->capacity, c->n_capacity, (int)vacancies[i]->category)) {
			out->code = VEILLE_ERR(INVALID_ARGUMENT);
			out->why = "more vacant places than the category's capacity";
			goto out;
		}
	if ((rc = get_territory(t, st->territory, &tr)) != STORE_OK)
		goto out;
	/* The declared counts replace the old ones (borrowed only while packed). Places held
	 * by proposals are among the vacant ones: free = vacancies - held. */
	old_n = c->n_vacancies;
	old = c->vacancies;
	c->n_vacancies = n;
	c->vacancies = (Veille__V1__CategoryCount **)vacancies;
	c->declared_at_ms = now_ms;
	rc = put_centre(t, c);
	c->n_vacancies = old_n; /* c frees its own, never the caller's */
	c->vacancies = old;
	if (rc == STORE_OK)
		rc = announce(t, tr, st->territory, st->id, now_ms, fx, &out->seq);
	if (rc == STORE_OK)
		rc = stats_add(t, st->territory, now_ms, "places_declared", NULL, 1);
	out->declared_at_ms = now_ms;
out:
	if (c)
		codec_stored_free(&c->base);
	if (tr)
		codec_stored_free(&tr->base);
	codec_stored_free(&st->base);
	return rc;
}

int places_free(struct store_txn *t, const char *territory, const char *centre_id, int category,
		uint32_t *free_places)
{
	Veille__V1__CentrePlaces *c;
	int rc = get_centre(t, territory, centre_id, &c);
	uint32_t vac, held;

	*free_places = 0;
	if (rc != STORE_OK)
		return rc;
	if (places_count(c->capacity, c->n_capacity, category) == 0) {
		codec_stored_free(&c->base);
		return PLACES_NO_CATEGORY;
	}
	vac = places_count(c->vacancies, c->n_vacancies, category);
	held = places_count(c->held, c->n_held, category);
	*free_places = vac > held ? vac - held : 0;
	codec_stored_free(&c->base);
	return STORE_OK;
}

int places_change(struct store_txn *t, const char *territory, const char *centre_id,
		  int category, int held_delta, int vacancy_delta, uint64_t now_ms,
		  struct effects *fx)
{
	Veille__Store__V1__Territory *tr = NULL;
	Veille__V1__CentrePlaces *c;
	int rc = get_centre(t, territory, centre_id, &c);

	if (rc != STORE_OK)
		return rc;
	if ((rc = adjust(&c->held, &c->n_held, category, held_delta)) == STORE_OK &&
	    (rc = adjust(&c->vacancies, &c->n_vacancies, category, vacancy_delta)) == STORE_OK &&
	    (rc = put_centre(t, c)) == STORE_OK && (rc = get_territory(t, territory, &tr)) == STORE_OK)
		rc = announce(t, tr, territory, centre_id, now_ms, fx, NULL);
	if (tr)
		codec_stored_free(&tr->base);
	codec_stored_free(&c->base);
	return rc;
}

static int subscribed(const struct session *s, const char *territory)
{
	return s->state == SESSION_AUTHENTICATED && s->places.active &&
	       strcmp(s->places.territory, territory) == 0;
}

/* One PlacesDelta frame, encoded once, queued on every session subscribed to the territory. */
static void fan_out(struct server *srv, uint64_t seq, Veille__V1__CentrePlaces *centre,
		    uint64_t now_ms)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PlacesDelta delta = VEILLE__V1__PLACES_DELTA__INIT;
	struct frame *f = NULL;

	for (struct session *s = srv->sessions; s; s = s->next) {
		if (!subscribed(s, centre->territory))
			continue;
		if (!f) {
			delta.seq = seq;
			delta.centre = centre;
			delta.now_ms = now_ms;
			env.body_case = VEILLE__V1__ENVELOPE__BODY_PLACES_DELTA;
			env.places_delta = &delta;
			f = codec_encode(&env);
			if (!f) {
				/* Subscribers will see the gap at the next delta and resync. */
				log_error("places: out of memory encoding a delta");
				return;
			}
		}
		transport_send(s->conn, f);
	}
	frame_unref(f);
}

void places_send_deltas(struct server *srv, const struct effects *fx)
{
	uint64_t now = clock_now_ms();

	for (size_t i = 0; i < fx->n_deltas; i++)
		fan_out(srv, fx->deltas[i].seq, fx->deltas[i].centre, now);
}

void places_on_declare(struct session *s, const Veille__V1__Envelope *env)
{
	struct store_txn *t;
	int rc;

	if (s->role != VEILLE__V1__ROLE__ROLE_RESPONSABLE_CENTRE) {
		session_error(s, env->request_id, VEILLE_ERR(FORBIDDEN),
			      "only a responsable de centre declares vacancies", 0);
		return;
	}
	rc = store_begin(s->srv->store, 0, &t);
	if (rc == STORE_OK) {
		int gone = auth_still_active(s, env->request_id, t) != 0;

		store_abort(t);
		if (gone)
			return;
	}
	if (rc != STORE_OK) {
		log_error("places: declaration failed: %s", store_strerror(rc));
		session_error(s, env->request_id, VEILLE_ERR(INTERNAL),
			      "storage failure: nothing was declared", 0);
		return;
	}
	/* Applied by the commit writer, in order with every other write (commit.c). */
	commit_enqueue_declare(s->srv, s, env->request_id, env->declare_vacancies);
}

void places_answer_declare(struct session *s, uint64_t request_id,
			   const struct places_declared *d)
{
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__DeclareResult res = VEILLE__V1__DECLARE_RESULT__INIT;

	if (d->code) {
		session_error(s, request_id, d->code, d->why, 0);
		return;
	}
	res.seq = d->seq;
	res.declared_at_ms = d->declared_at_ms;
	out.request_id = request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_DECLARE_RESULT;
	out.declare_result = &res;
	session_reply(s, &out);
}

/* ---- staleness ---- */

#define TICK_MS 1000
#define MAX_SWEEP_TERRITORIES 128 /* territories looked at per sweep; more wait for the next */
#define MAX_SWEEP_CENTRES 256     /* announced per territory per sweep; the rest the next one */

struct went_stale {
	uint64_t from_ms, to_ms;  /* declarations whose period ended in (from, to] */
	char id[MAX_SWEEP_CENTRES][CODEC_MAX_ID + 1];
	size_t n;
};

static int pick_stale(Veille__V1__CentrePlaces *c, void *arg)
{
	struct went_stale *w = arg;
	uint64_t ends = c->declared_at_ms + c->period_ms;

	if (c->declared_at_ms != 0 && ends > w->from_ms && ends <= w->to_ms &&
	    w->n < MAX_SWEEP_CENTRES)
		snprintf(w->id[w->n++], sizeof(w->id[0]), "%s", c->structure_id);
	codec_stored_free(&c->base);
	return 0;
}

struct territories {
	char code[MAX_SWEEP_TERRITORIES][CODEC_MAX_TERRITORY + 1];
	size_t n;
};

static int territory_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct territories *ts = arg;

	(void)val;
	(void)vlen;
	if (klen > CODEC_MAX_TERRITORY || ts->n == MAX_SWEEP_TERRITORIES)
		return ts->n == MAX_SWEEP_TERRITORIES;
	memcpy(ts->code[ts->n], key, klen);
	ts->code[ts->n++][klen] = 0;
	return 0;
}

/* Announces the centres an administrator described again (tr->changed, places_describe),
 * at most MAX_SWEEP_CENTRES of them (the rest at the next sweep), and takes them off the
 * list. w is scratch space. */
static int announce_described(struct store_txn *t, Veille__Store__V1__Territory *tr,
			      const char *territory, uint64_t now_ms, struct effects *fx,
			      struct went_stale *w)
{
	size_t k = tr->n_changed < MAX_SWEEP_CENTRES ? tr->n_changed : MAX_SWEEP_CENTRES;
	Veille__V1__CentrePlaces *c;
	int rc;

	for (size_t i = 0; i < k; i++) {
		snprintf(w->id[i], sizeof(w->id[0]), "%s", tr->changed[i]);
		free(tr->changed[i]);
	}
	memmove(tr->changed, tr->changed + k, (tr->n_changed - k) * sizeof(*tr->changed));
	tr->n_changed -= k;
	rc = put_msg_plain(t, STORE_DB_TERRITORIES, territory, strlen(territory), &tr->base);
	for (size_t i = 0; rc == STORE_OK && i < k; i++) {
		rc = get_centre(t, territory, w->id[i], &c);
		if (rc == STORE_ENOTFOUND) {
			rc = STORE_OK; /* not a centre of this territory (any more): nothing to say */
			continue;
		}
		if (rc == STORE_OK) {
			codec_stored_free(&c->base);
			rc = announce(t, tr, territory, w->id[i], now_ms, fx, NULL);
		}
	}
	return rc;
}

int places_sweep(struct store_txn *t, uint64_t from_ms, uint64_t to_ms, struct effects *fx)
{
	struct territories ts = {.n = 0};
	struct went_stale *w = malloc(sizeof(*w));
	int rc;

	if (!w)
		return STORE_ENOMEM;
	rc = store_scan(t, STORE_DB_TERRITORIES, NULL, 0, NULL, 0, territory_one, &ts);
	rc = rc < 0 ? -rc : STORE_OK;
	for (size_t k = 0; rc == STORE_OK && k < ts.n; k++) {
		Veille__Store__V1__Territory *tr = NULL;

		if ((rc = get_territory(t, ts.code[k], &tr)) != STORE_OK)
			break;
		if (tr->n_changed)
			rc = announce_described(t, tr, ts.code[k], to_ms, fx, w);
		w->from_ms = from_ms;
		w->to_ms = to_ms;
		w->n = 0;
		if (rc == STORE_OK)
			rc = places_each(t, ts.code[k], to_ms, pick_stale, w);
		for (size_t i = 0; rc == STORE_OK && i < w->n; i++) {
			rc = announce(t, tr, ts.code[k], w->id[i], to_ms, fx, NULL);
			if (rc == STORE_OK)
				rc = stats_add(t, ts.code[k], to_ms, "places_stale", NULL, 1);
		}
		codec_stored_free(&tr->base);
	}
	free(w);
	return rc;
}

void places_tick(struct server *srv)
{
	uint64_t mono = clock_mono_ms(), now = clock_now_ms();

	if (mono < srv->places.next_tick_ms)
		return;
	srv->places.next_tick_ms = mono + TICK_MS;
	if (srv->places.swept_ms == 0 || srv->places.swept_ms > now) {
		srv->places.swept_ms = now; /* first look, or the clock went back: from now on */
		return;
	}
	/* Staleness and the orientation holds (orient.c) are swept by the commit writer, in
	 * order with every other write. */
	if (commit_enqueue_sweep(srv, srv->places.swept_ms, now) == 0)
		srv->places.swept_ms = now;
}

/* ---- subscription ---- */

struct snapshot {
	uint32_t categories; /* bit per PlaceCategory; 0: all */
	Veille__V1__CentrePlaces **c;
	size_t n, cap;
};

static int wanted(const Veille__V1__CentrePlaces *c, uint32_t categories)
{
	if (!categories)
		return 1;
	for (size_t i = 0; i < c->n_capacity; i++)
		if (c->capacity[i]->count && (categories & (1u << (int)c->capacity[i]->category)))
			return 1;
	return 0;
}

static int collect(Veille__V1__CentrePlaces *c, void *arg)
{
	struct snapshot *sn = arg;

	if (!wanted(c, sn->categories)) {
		codec_stored_free(&c->base);
		return 0;
	}
	if (sn->n == sn->cap) {
		size_t cap = sn->cap ? sn->cap * 2 : 32;
		void *p = realloc(sn->c, cap * sizeof(*sn->c));

		if (!p) {
			codec_stored_free(&c->base);
			return -STORE_ENOMEM;
		}
		sn->c = p;
		sn->cap = cap;
	}
	sn->c[sn->n++] = c;
	return 0;
}

void places_on_subscribe(struct session *s, const Veille__V1__Envelope *env)
{
	const Veille__V1__SubscribePlaces *req = env->subscribe_places;
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PlacesSnapshot snap = VEILLE__V1__PLACES_SNAPSHOT__INIT;
	Veille__V1__TerritoryPlaces tp[1] = { VEILLE__V1__TERRITORY_PLACES__INIT }, *tpp[1] = { tp };
	Veille__Store__V1__Structure *st = NULL;
	Veille__Store__V1__Territory *tr = NULL;
	struct snapshot sn = { 0, NULL, 0, 0 };
	struct store_txn *t = NULL;
	uint64_t now = clock_now_ms();
	int rc;

	for (size_t i = 0; i < req->n_categories; i++)
		sn.categories |= 1u << (int)req->categories[i];
	rc = store_begin(s->srv->store, 0, &t);
	if (rc == STORE_OK && auth_still_active(s, env->request_id, t) != 0)
		goto out;
	if (rc == STORE_OK)
		rc = directory_structure_get(t, s->structure_id, &st);
	if (rc != STORE_OK)
		goto fail;
	/* Territories are tenants: a session sees the places of its own territory. */
	for (size_t i = 0; i < req->n_territories; i++)
		if (strcmp(req->territories[i], st->territory) != 0) {
			session_error(s, env->request_id, VEILLE_ERR(FORBIDDEN),
				      "places of another territory", 0);
			goto out;
		}
	if ((rc = get_territory(t, st->territory, &tr)) != STORE_OK ||
	    (rc = places_each(t, st->territory, now, collect, &sn)) != STORE_OK)
		goto fail;
	store_abort(t);
	t = NULL;

	/* From here on, every change of the territory reaches this session after the snapshot. */
	s->places.active = 1;
	snprintf(s->places.territory, sizeof(s->places.territory), "%s", st->territory);
	s->places.categories = sn.categories;
	tp[0].territory = st->territory;
	tp[0].seq = tr->places_seq;
	tp[0].n_centres = sn.n;
	tp[0].centres = sn.c;
	snap.n_territories = 1;
	snap.territories = tpp;
	snap.now_ms = now;
	out.request_id = env->request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_PLACES_SNAPSHOT;
	out.places_snapshot = &snap;
	session_reply(s, &out);
	goto out;
fail:
	log_error("places: subscribe failed: %s", store_strerror(rc));
	session_error(s, env->request_id, VEILLE_ERR(INTERNAL), "storage failure", 0);
out:
	store_abort(t);
	for (size_t i = 0; i < sn.n; i++)
		codec_stored_free(&sn.c[i]->base);
	free(sn.c);
	if (tr)
		codec_stored_free(&tr->base);
	if (st)
		codec_stored_free(&st->base);
}
