/* places: vacancy declarations by centres, and the live view of them (docs/places.md).
 *
 * A centre (a structure of kind CHRS, CHU or CPH) has a capacity per place category, set by an
 * administrator (veillectl centre capacity). Its responsable declares the vacant places of all
 * categories in one message; the server stamps it. Each territory has a places sequence: every
 * change of one of its centres takes the next number, so a subscriber that sees a gap knows it
 * missed something and subscribes again for a fresh snapshot. A change goes out as ONE encoded
 * frame, shared (reference-counted) by every session subscribed to the territory; a session
 * that stops reading is closed when its bounded output queue is full (transport.c), never
 * buffered without bound. A declaration older than the territory's periodicity is stale, and
 * says so wherever it is shown.
 *
 * Places are OPERATIONAL data: nothing here is about a person, so values are stored plain. */
#ifndef VEILLE_PLACES_H
#define VEILLE_PLACES_H

#include <stddef.h>
#include <stdint.h>

#include "veille/store/v1/store.pb-c.h"
#include "veille/v1/envelope.pb-c.h"

#define PLACES_DEFAULT_PERIOD_MS (24ull * 3600 * 1000) /* a territory with no periodicity set */
#define PLACES_MAX_CAPACITY 100000                     /* places of one category in one centre */

struct server;
struct session;
struct store_txn;

/* The count of category in a list of CategoryCount (0 if absent). */
uint32_t places_count(Veille__V1__CategoryCount *const *counts, size_t n, int category);

/* Whether a structure of this kind has places (CHRS, CHU, CPH). */
int places_kind_has_places(int kind);

#define PLACES_NOT_A_CENTRE 100 /* error: the structure's kind has no places */
#define PLACES_NO_CATEGORY 101  /* error: the centre has no capacity in the category */

struct effects;

/* Sets a centre's capacity (categories left out: none), keeping its last declaration; a
 * vacancy over a lowered capacity is lowered with it. For veillectl.
 * Errors: STORE_ENOTFOUND (no such structure), PLACES_NOT_A_CENTRE, storage errors. */
int places_set_capacity(struct store_txn *t, const char *structure_id,
			Veille__V1__CategoryCount *const *capacity, size_t n);

/* A structure's directory entry changed (name, location: veillectl structure set). If it is
 * a centre with places, its places take the new name and location, and the centre is noted
 * in its territory's settings (Territory.changed) so that veilled's next sweep
 * (places_sweep) announces it to subscribers like any other change; a centre without
 * capacity yet takes them when it gets one. Storage errors. */
int places_describe(struct store_txn *t, const Veille__Store__V1__Structure *st);

/* Sets a territory's declaration periodicity (ms, > 0). Storage errors. */
int places_set_period(struct store_txn *t, const char *territory, uint64_t period_ms);

/* The centres of a territory in key order, each with period, stale and free filled for now_ms;
 * fn returns 0 to go on. For veillectl and the snapshot. Storage errors, or fn's value. */
typedef int (*places_fn)(Veille__V1__CentrePlaces *centre, void *arg);
int places_each(struct store_txn *t, const char *territory, uint64_t now_ms, places_fn fn,
		void *arg);

/* ---- changes, inside the commit writer's transaction (commit.c) ---- */

/* Outcome of a declaration: code 0 (declared at seq) or the error to answer with why. */
struct places_declared {
	uint64_t seq, declared_at_ms;
	int code;
	const char *why;
};

/* A responsable's declaration for their centre structure_id: the vacant places of every
 * category (left out: none), stamped now_ms. A refusal is not an error: it is in out->code,
 * and nothing was written. The new state is noted in fx. Errors: storage errors. */
int places_declare(struct store_txn *t, const char *structure_id,
		   Veille__V1__CategoryCount *const *vacancies, size_t n, uint64_t now_ms,
		   struct effects *fx, struct places_declared *out);

/* The free places (vacancies - held, at least 0) of a category of a centre of territory.
 * Errors: STORE_ENOTFOUND (not a centre of the territory), PLACES_NO_CATEGORY, storage. */
int places_free(struct store_txn *t, const char *territory, const char *centre_id, int category,
		uint32_t *free_places);

/* Adds held_delta to the places held by proposals and vacancy_delta to the vacant places of
 * a category (neither goes below 0), with a new sequence number; the new state is noted in
 * fx. Errors: STORE_ENOTFOUND, storage errors. */
int places_change(struct store_txn *t, const char *territory, const char *centre_id,
		  int category, int held_delta, int vacancy_delta, uint64_t now_ms,
		  struct effects *fx);

/* Centres of every territory whose declaration went stale in (from_ms, to_ms]: each gets a
 * new sequence number (noted in fx) and counts in the day's places_stale. So does each centre
 * an administrator described again (places_describe), without counting. Storage errors. */
int places_sweep(struct store_txn *t, uint64_t from_ms, uint64_t to_ms, struct effects *fx);

/* ---- on the loop thread ---- */

/* Sends the deltas noted in fx (committed), in order: one shared frame each. */
void places_send_deltas(struct server *srv, const struct effects *fx);

/* Answers a declaration once committed. */
void places_answer_declare(struct session *s, uint64_t request_id,
			   const struct places_declared *d);

/* Called after each pass of the event loop (at least once a second): at most once a second,
 * queues a sweep (places_sweep, orient_sweep) for the commit writer. */
void places_tick(struct server *srv);

/* Handlers of DeclareVacancies and SubscribePlaces (an authenticated session). */
void places_on_declare(struct session *s, const Veille__V1__Envelope *env);
void places_on_subscribe(struct session *s, const Veille__V1__Envelope *env);

#endif
