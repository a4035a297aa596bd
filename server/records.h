/* records: applying client mutations to the store and reading the change feed.
 *
 * Every applied op writes, in the caller's one write transaction:
 *   RECORDS  seq                  -> RecordVersion, sealed with the person's data key
 *   HEADS    record id            -> current version | person id | audience | seq
 *   FEED     audience | seq       -> record id | version | seq of the version in RECORDS
 *            (one entry per audience that may see the version: the author's structure, for
 *            orientation records the other structures of the orientation, orient.h, and the
 *            centres the person is staying at, circle.h; a version shared later with a new
 *            audience gets a fresh seq there, so it arrives at that audience's next pull
 *            whatever its cursor)
 *   PERSON_RECORDS person id | record id -> "" (at the first version: what joining or leaving
 *            the person's care circle re-evaluates)
 *   OPS      device id | counter  -> record id | version | status | code  (the op's outcome:
 *            a resent op gets the same answer, DUPLICATE for one that was applied)
 *   DEVICE_OPS device id          -> highest counter answered (counters must increase)
 * The audience is a keyed hash of the author's structure id: a pull scans only its audience's
 * slice of the feed, so its cost follows what the caller may see, not the size of the store.
 * Events (encounters) are append-only: a correction is a new version based on the current one,
 * any other base is CONFLICT. Person profiles merge field by field, the greater Hlc stamp wins
 * (docs/sync.md); a merge that changes nothing writes nothing. */
#ifndef VEILLE_RECORDS_H
#define VEILLE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "store.h"

#define RECORDS_AUDIENCE_BYTES 16

struct effects;

/* Who is writing: from the authenticated session (or veilled itself, for the versions its
 * sweep writes: device all zero, op counter 0). Borrowed. */
struct records_actor {
	const uint8_t *device_id; /* 16 bytes */
	const char *professional_id;
	const char *structure_id;
	const uint8_t *audience;  /* records_audience(structure_id), or NULL to compute it */
	int role;                 /* Veille__V1__Role */
	const char *territory;    /* the structure's territory ("" if unknown) */
	uint64_t hold_ms;         /* how long a proposal holds its place (0: the default) */
	struct effects *fx;       /* where feeds and places changed are noted; may be NULL */
};

/* Outcome of one op, for the OpResult. reason is static text. */
struct records_result {
	int status; /* Veille__V1__OpStatus */
	uint64_t version;
	int code; /* Veille__V1__ErrorCode, with REJECTED */
	const char *reason;
};

/* Applies one mutation inside t. Returns STORE_OK when the op has an outcome in *res (applied,
 * duplicate, conflict or rejected), or a storage error, after which the caller must abort the
 * transaction (nothing of it is kept). An op carrying a field its writer's role could not read
 * back (policy_may_write: a health note from anyone but a health professional) is rejected
 * FORBIDDEN, whatever its kind, before anything of it is read or written (an encounter or a
 * profile: after the checks of its form, so that a malformed op is still INVALID_ARGUMENT). */
int records_apply(struct store_txn *t, const struct records_actor *a,
		  const Veille__V1__Mutation *m, uint64_t now_ms, struct records_result *res);

/* The feed audience of a structure. */
void records_audience(struct store_txn *t, const char *structure_id,
		      uint8_t out[RECORDS_AUDIENCE_BYTES]);

/* One version read back from the store; the caller owns it (free with codec_stored_free). */
typedef int (*records_pull_fn)(Veille__Store__V1__RecordVersion *rv, void *arg);

/* Calls fn for each change of the audience after cursor, in feed order, stopping after limit
 * changes or once byte_budget bytes of records were passed. fn takes ownership of rv (whose
 * seq is the feed entry's: the cursor position) and returns 0 to go on. *next_cursor is the seq of the last change passed (cursor if none);
 * *has_more says whether changes remain. Errors: storage errors (a record that fails to open
 * is an error, except STORE_ESHREDDED: an erased person's records are skipped). */
int records_pull(struct store_txn *t, const uint8_t audience[RECORDS_AUDIENCE_BYTES],
		 uint64_t cursor, uint32_t limit, size_t byte_budget, records_pull_fn fn,
		 void *arg, uint64_t *next_cursor, int *has_more);

/* ---- for orient.c: the building blocks of an op on orientation records ---- */

/* The head of a record: its current version (0: no such record), person id, the seq of the
 * current version and whether the actor's structure wrote it. Errors: storage errors. */
struct records_head {
	uint64_t version, seq;
	uint8_t person_id[STORE_ID_BYTES];
	int owned;
};
int records_head(struct store_txn *t, const struct records_actor *a,
		 const uint8_t rid[STORE_ID_BYTES], struct records_head *out);

/* Reads the version stored at seq (caller frees *out with codec_stored_free).
 * Errors: storage errors, STORE_ESHREDDED (the person was erased). */
int records_load(struct store_txn *t, uint64_t seq, Veille__Store__V1__RecordVersion **out);

/* Writes a new version of record rid about person pid (rv's record set by the caller, the
 * common fields here), its head, and a feed entry for the author's structure and for each of
 * the n structures of `also` (duplicates and empty ids skipped). m may be NULL for a version
 * written by veilled (op counter 0). Errors: storage errors, STORE_ESHREDDED. */
int records_write(struct store_txn *t, const struct records_actor *a, const char *record_id,
		  const Veille__V1__Mutation *m, const uint8_t pid[STORE_ID_BYTES],
		  uint64_t version, uint64_t now_ms, Veille__Store__V1__RecordVersion *rv,
		  const char *const *also, size_t n);

/* Shares the current version of rid (stored at seq) with structure_id's feed under a fresh
 * seq: it comes at that structure's next pull. Errors: storage errors. */
int records_share(struct store_txn *t, const struct records_actor *a,
		  const uint8_t rid[STORE_ID_BYTES], uint64_t version, uint64_t seq,
		  const char *structure_id);

/* Tells structure_id's feed, under a fresh seq, that its access to rid ended: its next pull
 * carries Change{record_id, withdrawn} and the device drops what it holds of rid. Storage
 * errors. */
int records_withdraw(struct store_txn *t, const struct records_actor *a,
		     const uint8_t rid[STORE_ID_BYTES], const char *structure_id);

/* Sets res to REJECTED with code and reason (static text); returns STORE_OK. */
int records_reject(struct records_result *res, int code, const char *reason);

/* Erases a person: destroys their data key (store_shred_person: every record about them is
 * unreadable) and forgets their care circle, the index of their records and their last
 * contact. Errors: STORE_ENOTFOUND (no such person), storage errors. */
int records_erase(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES]);

/* Retention (DOMAIN rule 7): erases (records_erase) every person about whom nothing was
 * stored since before_ms, at most max of them, and counts them in *erased; fn (may be NULL) is
 * called in t for each one erased (for the audit log), and a store error from it stops.
 * Storage errors. */
typedef int (*records_erased_fn)(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES],
				 void *arg);
int records_expire(struct store_txn *t, uint64_t before_ms, size_t max, size_t *erased,
		   records_erased_fn fn, void *arg);

/* The newest sequence number committed (0 if none), in its own read transaction.
 * Errors: storage errors. */
int records_last_seq(struct store *st, uint64_t *out);

/* Total order of Hlc stamps: wall_ms, then counter, then device_id bytewise. <0, 0, >0. */
int records_hlc_cmp(const Veille__V1__Hlc *x, const Veille__V1__Hlc *y);

/* The person rv is about, when its own fields name them (an encounter, a profile, a request, an
 * emergency admission): 1 and pid filled, else 0 (a proposal, a decision on a proposal: their
 * head knows, records_head). */
int records_person_named(const Veille__Store__V1__RecordVersion *rv, uint8_t pid[STORE_ID_BYTES]);

/* Parses 32 lowercase hex characters into 16 bytes. Returns 0 or -1. */
int records_parse_id(const char *hex, uint8_t out[STORE_ID_BYTES]);

#endif
