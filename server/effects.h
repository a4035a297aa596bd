/* effects: what a write transaction changed that other sessions must hear of once it is
 * committed (never before: a delta or a poke always describes durable state).
 *
 * The code that writes (records.c, orient.c, places.c) notes here, inside the transaction, the
 * structures whose feed got a new entry (their sessions get a Poke) and the centres whose
 * places changed with the territory sequence number each change took (subscribers get a
 * PlacesDelta, in sequence order: notes are kept in the order they were made, which is the
 * order of the numbers). commit.c owns one per batch, resets it when a transaction is run
 * again, and hands it over to the fan-out after the commit. */
#ifndef VEILLE_EFFECTS_H
#define VEILLE_EFFECTS_H

#include <stddef.h>
#include <stdint.h>

#include "veille/v1/places.pb-c.h"

struct effects {
	char (*structures)[65]; /* distinct structure ids whose feed changed */
	size_t n_structures, cap_structures;
	struct effects_delta {
		uint64_t seq;
		Veille__V1__CentrePlaces *centre; /* owned: its state after this change */
	} *deltas;
	size_t n_deltas, cap_deltas;
	int failed; /* out of memory while noting: pokes go to every session (hints only) and
		     * subscribers will see a gap in the deltas and resync */
};

/* Notes that structure_id's feed changed (NULL e: no-op). */
void effects_feed(struct effects *e, const char *structure_id);

/* Notes a centre's new state at seq, taking ownership of centre (freed on failure). */
void effects_delta(struct effects *e, uint64_t seq, Veille__V1__CentrePlaces *centre);

/* 1 if structure_id's feed changed (or noting failed). */
int effects_touches(const struct effects *e, const char *structure_id);

/* Forgets every note, keeping the memory (a transaction run again). */
void effects_reset(struct effects *e);
void effects_free(struct effects *e);

#endif
