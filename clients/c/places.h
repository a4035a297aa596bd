/*
 * places: the client side of docs/places.md. veille_declare_vacancies is in veille.h; the live
 * view is kept by veille_follow (veille_follow_opts.places) with these two calls.
 */
#ifndef VEILLE_CLIENT_PLACES_H
#define VEILLE_CLIENT_PLACES_H

#include "veille.h"
#include "veille/v1/envelope.pb-c.h"

/*
 * Subscribes to the places of the device's territory and hands the snapshot to o->on_snapshot;
 * the view is live (c->places_live) from then on. Errors: as a request (client_call).
 */
int places_subscribe(struct veille_client *c, const struct veille_places_opts *o);

/*
 * A message the server sent on its own: a PlacesDelta that follows the last seq goes to
 * o->on_delta; one after a gap ends the live view (c->places_live = 0), so that the caller
 * subscribes again. Other messages are ignored.
 */
void places_on_message(struct veille_client *c, const struct veille_places_opts *o,
		       const Veille__V1__Envelope *env);

#endif
