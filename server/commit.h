/* commit: group commit of pushes (and of the audit of pull pages).
 *
 * A push is not applied when it arrives: its decoded request is queued. After each pass of the
 * event loop (which reads every socket that is ready), commit_flush hands everything queued,
 * from any session, to the writer thread, which applies it in ONE write transaction and
 * commits it (one fsync for all of them); once the writer is done, the next commit_flush
 * answers each session and pokes the sessions that may see the new changes, then hands over
 * what was queued meanwhile. An APPLIED result therefore always means "on disk", durable
 * throughput is bounded by the sealing and LMDB work, not by one fsync per op, and the loop
 * keeps reading and decoding the next pushes while the disk syncs the last ones.
 *
 * Declarations of vacancies and veilled's own once-a-second sweep go through the same queue
 * and writer (commit_enqueue_declare, commit_enqueue_sweep): one write path, so the places
 * sequence numbers are taken in commit order and the deltas go out in that order. So do pull
 * pages (commit_enqueue_pull): each is read and its disclosures audited in the group's
 * transaction, and sent only once that is committed (the audit in the transaction of the read
 * it records, issue 5), sharing the group's fsync.
 *
 * Threads: the writer only runs store_write_nogrow over the batch it was handed; everything
 * else (the queue, sessions, answers, map growth) stays on the loop thread. */
#ifndef VEILLE_COMMIT_H
#define VEILLE_COMMIT_H

#include "codec.h"

struct server;
struct session;
struct sync_page;

/* Queues a decoded push of session s, taking ownership of msg (zeroed on return). If the queue
 * is full the push is refused with UNAVAILABLE (the client retries). */
void commit_enqueue(struct server *srv, struct session *s, struct codec_msg *msg);

/* Queues a declaration of vacancies of session s (its counts are copied): applied by the
 * writer, answered once committed, and its delta sent in order with every other change. */
void commit_enqueue_declare(struct server *srv, struct session *s, uint64_t request_id,
			    const Veille__V1__DeclareVacancies *req);

/* Queues a page of session s's pull answering request_id (sync.c), taking ownership of pg: read, projected and
 * audited by the writer in its transaction, sent once committed (sync_page_done). Returns 0,
 * or -1 after answering UNAVAILABLE (pg freed). */
int commit_enqueue_pull(struct server *srv, struct session *s, uint64_t request_id,
			struct sync_page *pg);

/* Queues veilled's sweep of declarations that went stale in (from_ms, to_ms] and of the
 * orientation holds and extensions due by to_ms (places_sweep, orient_sweep); if one is
 * already queued, it goes up to to_ms. Returns 0, or -1 if it could not be queued. */
int commit_enqueue_sweep(struct server *srv, uint64_t from_ms, uint64_t to_ms);

/* Starts the writer thread (after transport_start: the writer wakes the loop when it is done).
 * Errors: -1 (logged). */
int commit_start(struct server *srv);

/* Called by the event loop after each pass, never blocks: answers the batch the writer
 * finished, if any, and hands it what is queued, if it is idle. */
void commit_flush(struct server *srv);

/* Waits until everything queued is applied and answered (shutdown). */
void commit_finish(struct server *srv);

/* A session is going away: its queued pushes are still applied (they were received), but no
 * answer is sent; the client learns their outcome as DUPLICATE when it resends them. */
void commit_forget_session(struct server *srv, struct session *s);

/* Stops the writer (before transport_free) and frees whatever is still queued without applying
 * it: what arrived after commit_finish, during the shutdown drain. Safe without commit_start. */
void commit_stop(struct server *srv);

#endif
