/*
 * places: declaring a centre's vacancies and keeping a live view of the territory's places
 * (docs/places.md). The view lives inside veille_follow: places_subscribe after each
 * (re)connection, places_on_message for what the server sends meanwhile.
 */
#include "places.h"

#include <string.h>

#include "client.h"
#include "errors.h"
#include "wire.h"

#define MAX_CATEGORIES 7

int veille_declare_vacancies(struct veille_client *c, Veille__V1__CategoryCount *const *vacancies,
			     size_t n, uint64_t *seq)
{
	Veille__V1__Envelope req = VEILLE__V1__ENVELOPE__INIT, *reply = NULL;
	Veille__V1__DeclareVacancies dv = VEILLE__V1__DECLARE_VACANCIES__INIT;
	int rc;

	errors_clear(&c->last_error);
	if (n > MAX_CATEGORIES || (n && !vacancies))
		return errors_set(&c->last_error, VEILLE_EARG, "declare: at most %d categories",
				  MAX_CATEGORIES);
	if (!c->authenticated)
		return errors_set(&c->last_error, VEILLE_ENOTCONN, "not connected");
	dv.n_vacancies = n;
	dv.vacancies = (Veille__V1__CategoryCount **)vacancies;
	req.body_case = VEILLE__V1__ENVELOPE__BODY_DECLARE_VACANCIES;
	req.declare_vacancies = &dv;
	if ((rc = client_call(c, &req, VEILLE__V1__ENVELOPE__BODY_DECLARE_RESULT, &reply)))
		return rc;
	if (seq)
		*seq = reply->declare_result->seq;
	wire_free(reply);
	return 0;
}

int places_subscribe(struct veille_client *c, const struct veille_places_opts *o)
{
	Veille__V1__Envelope req = VEILLE__V1__ENVELOPE__INIT, *reply = NULL;
	Veille__V1__SubscribePlaces sp = VEILLE__V1__SUBSCRIBE_PLACES__INIT;
	const Veille__V1__PlacesSnapshot *snap;
	int rc;

	if (o->n_categories > MAX_CATEGORIES)
		return errors_set(&c->last_error, VEILLE_EARG, "places: at most %d categories",
				  MAX_CATEGORIES);
	sp.n_categories = o->n_categories;
	sp.categories = (Veille__V1__PlaceCategory *)o->categories;
	req.body_case = VEILLE__V1__ENVELOPE__BODY_SUBSCRIBE_PLACES;
	req.subscribe_places = &sp;
	/* Deltas sent before the snapshot are older than it: wire_call skips them. */
	if ((rc = client_call(c, &req, VEILLE__V1__ENVELOPE__BODY_PLACES_SNAPSHOT, &reply)))
		return rc;
	snap = reply->places_snapshot;
	if (snap->n_territories != 1) {
		wire_free(reply);
		client_drop(c);
		return errors_set(&c->last_error, VEILLE_EPROTO,
				  "places snapshot of %zu territories, not one", snap->n_territories);
	}
	c->places_seq = snap->territories[0]->seq;
	c->places_live = 1;
	if (o->on_snapshot)
		o->on_snapshot(snap, o->arg);
	wire_free(reply);
	return 0;
}

void places_on_message(struct veille_client *c, const struct veille_places_opts *o,
		       const Veille__V1__Envelope *env)
{
	const Veille__V1__PlacesDelta *d;

	if (!c->places_live || env->body_case != VEILLE__V1__ENVELOPE__BODY_PLACES_DELTA ||
	    env->request_id != 0)
		return;
	d = env->places_delta;
	if (d->seq != c->places_seq + 1) {
		c->places_live = 0; /* a gap: missed changes; places_subscribe again */
		return;
	}
	c->places_seq = d->seq;
	if (o->on_delta)
		o->on_delta(d, o->arg);
}
