/* commit: group commit of pushes.
 *
 * A push is not applied when it arrives: its decoded request is queued, and after each pass of
 * the event loop (which reads every socket that is ready) commit_flush applies every queued
 * push, from any session, in ONE write transaction, commits it (one fsync for all of them),
 * and only then answers each session and pokes the sessions that may see the new changes.
 * An APPLIED result therefore always means "on disk", and durable throughput is bounded by
 * the sealing and LMDB work, not by one fsync per op. */
#ifndef VEILLE_COMMIT_H
#define VEILLE_COMMIT_H

#include "codec.h"

struct server;
struct session;

/* Queues a decoded push of session s, taking ownership of msg (zeroed on return). If the queue
 * is full the push is refused with UNAVAILABLE (the client retries). */
void commit_enqueue(struct server *srv, struct session *s, struct codec_msg *msg);

/* Applies, commits and answers everything queued. Called by the event loop after each pass. */
void commit_flush(struct server *srv);

/* A session is going away: its queued pushes are still applied (they were received), but no
 * answer is sent; the client learns their outcome as DUPLICATE when it resends them. */
void commit_forget_session(struct server *srv, struct session *s);

/* Frees whatever is queued without applying it (shutdown). */
void commit_drop_all(struct server *srv);

#endif
