/* orient: the orientation workflow of R345-4 (docs/orientations.md).
 *
 * Requests, proposals and decisions are records pushed as mutations (records.c hands them
 * here), so they get the op-id guarantees of every push: applied once, DUPLICATE when resent,
 * REJECTED with a typed code, never half-applied (every check is made before the first
 * write of the op). Their effects are part of the same transaction:
 * - a request opens the territory's SIAO's access to it (its feed gets the request);
 * - a proposal holds one place of (centre, category) until the decision or the hold's end;
 *   with no free place it is REJECTED NO_PLACE, whichever device made it and when. The
 *   centre gets the request's DECISION fields (policy.h) at its next pull;
 * - a decision admits (the place is taken, the request closes) or refuses (motive from the
 *   list and text required; the place is freed and the centre's access ends); an emergency
 *   admission, without proposal, takes a place and informs the SIAO. An admission carries
 *   its reminders (bilans, extension deadline, end); a later version asks for an extension;
 * - every step raises the préfet's counters (stats.h).
 *
 * The state between records (which proposal holds which place, who may see a request) is
 * kept plain in STORE_DB_ORIENT: ids, structure ids and statuses, never a field of a person.
 *   'R' | request id (16)                 -> store.v1.OrientRequest
 *   'P' | proposal id (16)                -> store.v1.OrientProposal
 *   'H' | hold end (be64) | proposal id   -> "" (holds by end, for the sweep)
 *   'X' | deemed-accepted (be64) | decision id -> "" (extension requests by their month's end)
 *   'S' | start (be64) | decision id      -> "" (stays that begin later: the admitting centre
 *                                            joins the person's care circle then, circle.h)
 *   'E' | end (be64) | decision id        -> "" (stays by their end: the centre leaves it) */
#ifndef VEILLE_ORIENT_H
#define VEILLE_ORIENT_H

#include <stdint.h>

#include "circle.h"
#include "records.h"

#define ORIENT_DEFAULT_HOLD_MS (2ull * 3600 * 1000)

struct effects;

/* Applies a Request, Proposal or Decision mutation (records_apply has checked the op id and
 * parsed rid). Same contract as records_apply. */
int orient_apply(struct store_txn *t, const struct records_actor *a,
		 const Veille__V1__Mutation *m, const uint8_t rid[STORE_ID_BYTES],
		 uint64_t now_ms, struct records_result *res);

/* The relation (enum policy_relation) of structure_id to the request record_id. Storage
 * errors; an unknown request is POLICY_REL_NONE. */
int orient_request_relation(struct store_txn *t, const char *record_id,
			    const char *structure_id, int *relation);

/* For the listing of a person's care circle (circle_each): calls fn with the structures that
 * request rid involves now: "requester", "siao" while it is open, "proposal" for a centre whose
 * proposal waits (times 0: the state keeps none). Not a request: nothing. Storage errors. */
int orient_request_parties(struct store_txn *t, const uint8_t rid[STORE_ID_BYTES],
			   circle_entry_fn fn, void *arg);

/* Ends the holds whose time is over (the proposal gets an EXPIRED version, the place is
 * freed, the centre's access ends) and marks extension requests a month old as deemed
 * accepted, at most a bounded number of each per call. Storage errors. */
int orient_sweep(struct store_txn *t, uint64_t now_ms, struct effects *fx);

#endif
