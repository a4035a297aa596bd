/*
 * outbox: the device's durable queue of ops not yet acknowledged (docs/sync.md, "Ops").
 *
 * Design: an op gets its counter and is written to the outbox in one local transaction, with
 * the new last counter (and, for a person edit, the clock L after stamping its fields), so a
 * counter is never handed out twice nor lost with its op. Ops leave the outbox only in the
 * transaction that records their result: APPLIED and DUPLICATE ops are gone (a person edit
 * being folded into the held profile), CONFLICT and REJECTED ones move to the problems
 * database for the user to see. Anything else (no answer, lost connection) leaves them to be
 * sent again, in counter order, and the server's dedup answers DUPLICATE for those it had.
 *
 * Errors are VEILLE_E* codes, with a message in err.
 */
#ifndef VEILLE_OUTBOX_H
#define VEILLE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "local.h"
#include "veille.h"
#include "veille/client/v1/local.pb-c.h"

#define OUTBOX_MAX_BATCH_OPS VEILLE_MAX_PUSH
#define OUTBOX_MAX_BATCH_BYTES (512u * 1024u) /* encoded PushRequest, docs/sync.md */
#define OUTBOX_MAX_OP_BYTES (OUTBOX_MAX_BATCH_BYTES - 64) /* one op alone must fit a batch */
#define OUTBOX_DEVICE_BYTES 16

/*
 * Queues n mutations (1 to VEILLE_MAX_PUSH) in one transaction (see veille_outbox_add for
 * what they may hold). Gives each the next op counter (written into muts[i]->op_counter; left
 * 0 on failure); stores a copy carrying device as device_id and, for a person edit, every
 * field stamped by the clock rule at now_ms (the caller's hlc pointers are not touched).
 * Errors: VEILLE_EARG (a mutation unfit, see veille_outbox_add), VEILLE_ETOOBIG (one op over
 *   OUTBOX_MAX_OP_BYTES), VEILLE_ENOMEM, VEILLE_ECORRUPT, VEILLE_EIO.
 */
int outbox_add(struct local *l, const uint8_t device[OUTBOX_DEVICE_BYTES],
	       Veille__V1__Mutation **muts, size_t n, uint64_t now_ms, struct veille_error *err);

/*
 * Hands out n counters (for veille_push's direct ops) and returns the first in *first.
 * Refused while the outbox holds ops: the server would then take the queued ops, whose
 * counters are lower, as going backwards and reject them.
 * Errors: VEILLE_EARG (outbox not empty), VEILLE_EIO, VEILLE_ECORRUPT.
 */
int outbox_reserve(struct local *l, size_t n, uint64_t *first, struct veille_error *err);

/* Numbers of ops in the outbox and of problems. Errors: VEILLE_EIO. */
int outbox_count(struct local *l, size_t *ops, size_t *problems, struct veille_error *err);

/* The first ops of the outbox, in counter order, decoded. */
struct outbox_batch {
	size_t n;
	size_t bytes;                                  /* their encoded size in a PushRequest */
	Veille__V1__Mutation *ops[OUTBOX_MAX_BATCH_OPS]; /* owned */
};

/*
 * Fills b with the first ops of the outbox: at most max_ops (<= OUTBOX_MAX_BATCH_OPS) and,
 * past the first, at most max_bytes encoded. b->n is 0 if the outbox is empty. Free with
 * outbox_batch_free() (also on failure). Errors: VEILLE_ECORRUPT, VEILLE_ENOMEM, VEILLE_EIO.
 */
int outbox_next_batch(struct local *l, size_t max_ops, size_t max_bytes, struct outbox_batch *b,
		      struct veille_error *err);
void outbox_batch_free(struct outbox_batch *b);

/*
 * Records the results of b's ops (results[i] for b->ops[i]) in one transaction: see the
 * design above. Errors: VEILLE_ENOMEM, VEILLE_ECORRUPT, VEILLE_EIO.
 */
int outbox_settle(struct local *l, const struct outbox_batch *b,
		  const struct veille_op_result *results, uint64_t now_ms,
		  struct veille_error *err);

/*
 * Calls fn for each problem in op counter order, at most max (0: all); fn's Problem is borrowed
 * until it returns; fn returns 0 to go on, non-zero to stop (outbox_problems returns it).
 * Errors: fn's, VEILLE_ECORRUPT, VEILLE_ENOMEM, VEILLE_EIO.
 */
int outbox_problems(struct local *l, size_t max,
		    int (*fn)(const Veille__Client__V1__Problem *p, void *arg), void *arg,
		    struct veille_error *err);

/* Forgets every problem. Errors: VEILLE_EIO. */
int outbox_problems_clear(struct local *l, struct veille_error *err);

#endif
