/* circle: a person's care circle (L345-1, L345-2-10 CASF; docs/access-rules.md).
 *
 * The structures taking part in a person's support, each with a reason and a time window:
 *   met       the team that met them (wrote an encounter or their profile): from its first
 *             record about them, while their records are kept (retention erases the person);
 *   SIAO      the territory's SIAO while one of their requests is open  } the orientation's
 *   proposal  a centre while a proposal for one of their requests waits } state (orient.h)
 *   admitted  the centre that admitted them: from the stay's start to its end.
 * What each reason lets through is the table of policy.c. The person's objection to sharing
 * (their profile's objects_to_sharing field) is honoured here: while it stands, the admitting
 * centre gets no relation to their records (they stay in the author team); what the person
 * sends with a request still reaches the SIAO and the centre deciding on it.
 *
 * Joining the circle (a stay begins, an objection is lifted) re-sends the person's past records
 * that are now visible, under fresh feed seqs: they arrive at the next pull. Leaving it (the stay
 * ends, an objection is recorded) withdraws those no longer visible (records_withdraw): the
 * device drops them.
 *
 * Kept plain in STORE_DB_CIRCLE, ids and times only:
 *   person id (16) | 'M' | structure id   -> first record (be64)
 *   person id (16) | 'A' | structure id   -> from (be64) | until (be64)
 *   person id (16) | 'O'                  -> "" (the person objects to sharing)
 * and every record about a person in STORE_DB_PERSON_RECORDS (records_write). */
#ifndef VEILLE_CIRCLE_H
#define VEILLE_CIRCLE_H

#include <stdint.h>

#include "records.h"

/* The relations (POLICY_BIT) the store's state gives structure_id to rv at now_ms, for
 * policy_classes / policy_project: SIAO or centre of a request (orient.h), admitting centre
 * during the stay unless the person objects. Storage errors. */
int circle_relations(struct store_txn *t, const char *structure_id,
		     const Veille__Store__V1__RecordVersion *rv, uint64_t now_ms, unsigned *rels);

/* Notes that structure_id met the person (its first record about them). Storage errors. */
int circle_met(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], const char *structure_id,
	       uint64_t now_ms);

/* The admitting centre joins the circle for [from_ms, until_ms); if the stay has begun, the
 * person's past records arrive at its next pull. Storage errors. */
int circle_admit(struct store_txn *t, const struct records_actor *a,
		 const uint8_t pid[STORE_ID_BYTES], const char *centre_id, uint64_t from_ms,
		 uint64_t until_ms, uint64_t now_ms);

/* The stay's start (orient's sweep): the centre receives the person's past records.
 * Storage errors. */
int circle_stay_begins(struct store_txn *t, const struct records_actor *a,
		       const uint8_t pid[STORE_ID_BYTES], const char *centre_id, uint64_t now_ms);

/* The stay's end at at_ms (orient's sweep): unless a later stay runs on, the centre leaves the
 * circle and drops what it may no longer hold. Storage errors. */
int circle_stay_ends(struct store_txn *t, const struct records_actor *a,
		     const uint8_t pid[STORE_ID_BYTES], const char *centre_id, uint64_t at_ms,
		     uint64_t now_ms);

/* One relation of structure_id to record rid ended (a refusal, a hold's end, a request
 * closed): if the structure sees nothing of rid now, it is withdrawn from its devices; if it
 * still sees it by another relation (it wrote it, the person stays at it), it is sent again
 * as it now sees it. Storage errors. */
int circle_reassess(struct store_txn *t, const struct records_actor *a,
		    const uint8_t rid[STORE_ID_BYTES], const char *structure_id, uint64_t now_ms);

/* Whether the person objects to sharing (*objects 0 or 1). Storage errors. */
int circle_objects(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], int *objects);

/* Records the person's objection to sharing, or its end, with its effect on the admitting
 * centres in the circle now (withdrawn, or re-sent). Storage errors. */
int circle_set_objection(struct store_txn *t, const struct records_actor *a,
			 const uint8_t pid[STORE_ID_BYTES], int objects, uint64_t now_ms);

/* Calls fn for each structure admitted now (and not barred by an objection) that policy shows
 * something of rv: records_write adds them to the version's audiences. fn returns a store
 * error to stop. Storage errors. */
typedef int (*circle_fn)(const char *structure_id, void *arg);
int circle_admitted_audiences(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES],
			      const Veille__Store__V1__RecordVersion *rv, uint64_t now_ms,
			      circle_fn fn, void *arg);

/* The whole circle, for `veillectl person circle`: reason "met" (from, until 0), "admitted"
 * (from, until), then what the person's requests involve now ("requester", "siao",
 * "proposal": orient_request_parties); an objection is reported with reason "objection".
 * fn returns 0 to go on. Storage errors. */
typedef int (*circle_entry_fn)(const char *reason, const char *structure_id, uint64_t from_ms,
			       uint64_t until_ms, void *arg);
int circle_each(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], circle_entry_fn fn,
		void *arg);

/* Erasure (records_erase): forgets the person's circle and the index of their records.
 * Storage errors. */
int circle_forget(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES]);

#endif
