/* records: applying client mutations to the store and reading the change feed.
 *
 * Every applied op writes, in the caller's one write transaction:
 *   RECORDS  seq                  -> RecordVersion, sealed with the person's data key
 *   HEADS    record id            -> current version | person id | audience | seq
 *   FEED     audience | seq       -> record id | version
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

/* Who is writing: from the authenticated session. Borrowed. */
struct records_actor {
	const uint8_t *device_id; /* 16 bytes */
	const char *professional_id;
	const char *structure_id;
	const uint8_t *audience;  /* records_audience(structure_id), or NULL to compute it */
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
 * transaction (nothing of it is kept). */
int records_apply(struct store_txn *t, const struct records_actor *a,
		  const Veille__V1__Mutation *m, uint64_t now_ms, struct records_result *res);

/* The feed audience of a structure. */
void records_audience(struct store_txn *t, const char *structure_id,
		      uint8_t out[RECORDS_AUDIENCE_BYTES]);

/* One version read back from the store; the caller owns it (free with codec_stored_free). */
typedef int (*records_pull_fn)(Veille__Store__V1__RecordVersion *rv, void *arg);

/* Calls fn for each change of the audience after cursor, in feed order, stopping after limit
 * changes or once byte_budget bytes of records were passed. fn takes ownership of rv and
 * returns 0 to go on. *next_cursor is the seq of the last change passed (cursor if none);
 * *has_more says whether changes remain. Errors: storage errors (a record that fails to open
 * is an error, except STORE_ESHREDDED: an erased person's records are skipped). */
int records_pull(struct store_txn *t, const uint8_t audience[RECORDS_AUDIENCE_BYTES],
		 uint64_t cursor, uint32_t limit, size_t byte_budget, records_pull_fn fn,
		 void *arg, uint64_t *next_cursor, int *has_more);

/* The newest sequence number committed (0 if none), in its own read transaction.
 * Errors: storage errors. */
int records_last_seq(struct store *st, uint64_t *out);

/* Total order of Hlc stamps: wall_ms, then counter, then device_id bytewise. <0, 0, >0. */
int records_hlc_cmp(const Veille__V1__Hlc *x, const Veille__V1__Hlc *y);

/* Parses 32 lowercase hex characters into 16 bytes. Returns 0 or -1. */
int records_parse_id(const char *hex, uint8_t out[STORE_ID_BYTES]);

#endif
