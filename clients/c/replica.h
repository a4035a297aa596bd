/*
 * replica: the records the device holds, as pulled from the server (docs/sync.md, "Pull and
 * the cursor"), and the clock they teach.
 *
 * Design: records maps a record id to the newest Change the device holds. Events (encounters,
 * and kinds newer than this client) are replaced by a higher version and never by a lower or
 * equal one, so applying a change twice is a no-op. Person profiles are merged field by field
 * (person.h) with what is held, so the order in which pulled profiles and the device's own
 * acknowledged edits arrive does not matter. A page of changes and the cursor after it are
 * written in one local transaction: a client killed mid-pull resumes from the last page it
 * stored. Every stamp a pulled profile holds advances the clock L (hlc.h) in that same
 * transaction.
 *
 * Errors are VEILLE_E* codes, with a message in err.
 */
#ifndef VEILLE_REPLICA_H
#define VEILLE_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "hlc.h"
#include "local.h"
#include "veille/v1/sync.pb-c.h"

/* The clock L in meta (all zero if never set), and back. Errors: VEILLE_ECORRUPT, local's. */
int replica_clock_load(struct local_txn *t, struct hlc *clock);
int replica_clock_save(struct local_txn *t, const struct hlc *clock);

/*
 * Applies one pulled change inside t (see the design above); advances *clock with its stamps
 * and sets *clock_changed if it moved. Errors: VEILLE_EPROTO (no usable record id),
 * VEILLE_ENOMEM, local's.
 */
int replica_apply(struct local_txn *t, const Veille__V1__Change *ch, struct hlc *clock,
		  int *clock_changed);

/*
 * Folds an edit of person record_id that the server acknowledged into the held profile (its
 * version is left as is: the next pull brings the server's). Errors: VEILLE_ENOMEM, local's.
 */
int replica_merge_edit(struct local_txn *t, const char *record_id,
		       const Veille__V1__Person *edit);

/*
 * Stores pulled pages, in order, in one transaction: their changes, the cursor (raised to the
 * last page's next_cursor, never lowered: another process may have stored further) and, if
 * mark_synced, now_ms as the end of the last complete sync.
 * cursor: receives the cursor saved. Errors: as replica_apply, local's.
 */
int replica_store_pages(struct local *l, const Veille__V1__PullResult *const *pages, size_t n,
			int mark_synced, uint64_t now_ms, uint64_t *cursor,
			struct veille_error *err);

/*
 * The record as the device sees it: the held change with the edits still in the outbox
 * folded in (person profiles field by field; for an event, its newest pending version).
 * out: receives a Change the caller frees with veille__v1__change__free_unpacked(out, NULL);
 *   NULL if the device knows nothing of record_id (*found = 0, not an error).
 * pending: receives the number of outbox ops about record_id.
 * Errors: VEILLE_ENOMEM, VEILLE_ECORRUPT, local's.
 */
int replica_get(struct local *l, const char *record_id, Veille__V1__Change **out,
		size_t *pending, struct veille_error *err);

#endif
