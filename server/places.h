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

struct session;
struct store_txn;

/* Whether a structure of this kind has places (CHRS, CHU, CPH). */
int places_kind_has_places(int kind);

#define PLACES_NOT_A_CENTRE 100 /* error: the structure's kind has no places */

/* Sets a centre's capacity (categories left out: none), keeping its last declaration; a
 * vacancy over a lowered capacity is lowered with it. For veillectl.
 * Errors: STORE_ENOTFOUND (no such structure), PLACES_NOT_A_CENTRE, storage errors. */
int places_set_capacity(struct store_txn *t, const char *structure_id,
			Veille__V1__CategoryCount *const *capacity, size_t n);

/* Sets a territory's declaration periodicity (ms, > 0). Storage errors. */
int places_set_period(struct store_txn *t, const char *territory, uint64_t period_ms);

/* The centres of a territory in key order, each with period and stale filled for now_ms;
 * fn returns 0 to go on. For veillectl and the snapshot. Storage errors, or fn's value. */
typedef int (*places_fn)(Veille__V1__CentrePlaces *centre, void *arg);
int places_each(struct store_txn *t, const char *territory, uint64_t now_ms, places_fn fn,
		void *arg);

/* Called after each pass of the event loop (at least once a second): at most once a second,
 * a centre of a subscribed territory whose declaration went stale since the last look gets a
 * new sequence number and a PlacesDelta saying stale, as any other change. */
struct server;
void places_tick(struct server *srv);

/* Handlers of DeclareVacancies and SubscribePlaces (an authenticated session). */
void places_on_declare(struct session *s, const Veille__V1__Envelope *env);
void places_on_subscribe(struct session *s, const Veille__V1__Envelope *env);

#endif
