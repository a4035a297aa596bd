/* sync: the pull handler (docs/protocol.md, "Sync"). Pushes go through commit.c; so do pull
 * pages that have something to read, so that each is read, projected and audited in the
 * writer's transaction (sync.c). */
#ifndef VEILLE_SYNC_H
#define VEILLE_SYNC_H

#include <stdint.h>

#include "codec.h"

struct session;
struct store_txn;
struct sync_page;

void sync_on_pull(struct session *s, const Veille__V1__Envelope *env);

/* Sends the next page of the session's page stream (s->pull), if any. */
void sync_pull_next_page(struct session *s);

/* ---- for commit.c: a page queued to the writer ---- */

/* A page of s's pull after cursor, of at most limit changes (who asks is copied from s).
 * NULL on out of memory. Free with sync_page_free. */
struct sync_page *sync_page_new(const struct session *s, uint64_t request_id, uint64_t cursor,
				uint32_t limit);

/* On the writer thread, inside its write transaction t: reads the page, projects it
 * (policy_project) and appends the audit entry of what it discloses (nothing if it discloses
 * nothing). A read that fails is noted in the page, which is then answered with an error, and
 * returns STORE_OK (nothing was written); returns the append's storage error otherwise, after
 * which the transaction must be aborted. May run again on the same page (map grown). */
int sync_page_read(struct store_txn *t, struct sync_page *pg, uint64_t now_ms);

/* On the loop thread, once the writer's transaction ended: sends the page to s (NULL: the
 * session is gone) if ok (committed, device active), and goes on with its page stream;
 * if not ok the caller answers. Does not free pg. */
void sync_page_done(struct session *s, struct sync_page *pg, int ok);

void sync_page_free(struct sync_page *pg);

#endif
