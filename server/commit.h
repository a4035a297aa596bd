/* commit: group commit of pushes.
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
 * Threads: the writer only runs store_write_nogrow over the batch it was handed; everything
 * else (the queue, sessions, answers, map growth) stays on the loop thread. */
#ifndef VEILLE_COMMIT_H
#define VEILLE_COMMIT_H

#include "codec.h"

struct server;
struct session;

/* Queues a decoded push of session s, taking ownership of msg (zeroed on return). If the queue
 * is full the push is refused with UNAVAILABLE (the client retries). */
void commit_enqueue(struct server *srv, struct session *s, struct codec_msg *msg);

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
