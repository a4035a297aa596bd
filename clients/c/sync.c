/*
 * sync: veille_sync_ex() and veille_follow() (veille.h; the contract is docs/sync.md).
 *
 * Design: a sync is two loops over the local store, each step of which is durable before the
 * next one starts. Push: read the first ops of the outbox (bounded by count and bytes), send
 * them, and record their results in one local transaction; an op leaves the outbox only
 * there. Pull: ask for the page after the saved cursor and store its changes with the new
 * cursor in one local transaction. A failure anywhere leaves the local store as of the last
 * transaction, which is exactly what the next sync needs to resume.
 *
 * veille_follow adds the waiting: with the connection open, it listens for pokes (noted by
 * wire.c even while a request is pending) and looks at the outbox count every
 * IDLE_SLICE_MS, so ops queued by another process are pushed within that time. A transient
 * failure drops the connection and waits (backoff.h) before trying again. Every wait is cut
 * into slices of at most IDLE_SLICE_MS, between which stop and the deadline are checked.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "backoff.h"
#include "client.h"
#include "errors.h"
#include "outbox.h"
#include "places.h"
#include "replica.h"

#define IDLE_SLICE_MS 200
#define FOLLOW_RESYNC_MS 30000u /* a following device pulls at least this often */
#define PULL_STREAM_PAGES 16 /* pages the server streams per pull request */
#define STORE_GROUP_PAGES 8  /* pages stored per local transaction */
#define MAX_PULL_PAGES 1000000u /* per sync; a larger backlog goes on at the next sync */
#define MAX_TURNS_PER_OP 12     /* a refused batch halves at most log2(1000) + 1 times */

/* A whole push refused for what it holds (not for the session or the server's state). */
static int content_refusal(const struct veille_error *e)
{
	return e->code == VEILLE__V1__ERROR_CODE__ERROR_CODE_LIMIT_EXCEEDED ||
	       e->code == VEILLE__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT;
}

static void tally(struct veille_sync_stats *st, int status)
{
	st->pushed++;
	switch (status) {
	case VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED: st->applied++; break;
	case VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE: st->duplicate++; break;
	case VEILLE__V1__OP_STATUS__OP_STATUS_CONFLICT: st->conflict++; break;
	default: st->rejected++; break;
	}
}

/* The result of an op the server refuses even alone: rejected with the server's reason. */
static void rejected_alone(struct veille_op_result *r, const Veille__V1__Mutation *op,
			   const struct veille_error *e)
{
	size_t n = strlen(e->message);

	memset(r, 0, sizeof *r);
	r->op_counter = op->op_counter;
	r->status = VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED;
	r->code = e->code;
	if (n >= sizeof r->reason)
		n = sizeof r->reason - 1;
	memcpy(r->reason, e->message, n);
	r->reason[n] = '\0';
}

static int push_outbox(struct veille_client *c, const struct veille_sync_opts *o,
		       struct veille_sync_stats *st)
{
	struct outbox_batch *b = calloc(1, sizeof *b);
	struct veille_op_result *res = calloc(OUTBOX_MAX_BATCH_OPS, sizeof *res);
	size_t max_ops = OUTBOX_MAX_BATCH_OPS, queued = 0, i;
	uint64_t turn, max_turns;
	int rc;

	if (!b || !res) {
		rc = errors_set(&c->last_error, VEILLE_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = outbox_count(c->local, &queued, NULL, &c->last_error)))
		goto out;
	/* Each turn settles at least one op or halves the batch. Ops queued meanwhile by
	 * another process may go now or at the next sync. */
	max_turns = ((uint64_t)queued + 1) * MAX_TURNS_PER_OP;
	for (turn = 0; turn < max_turns; turn++) {
		rc = outbox_next_batch(c->local, max_ops, OUTBOX_MAX_BATCH_BYTES, b,
				       &c->last_error);
		if (rc || b->n == 0)
			break;
		rc = client_push(c, b->ops, b->n, res);
		if (rc == VEILLE_ESERVER && content_refusal(&c->last_error)) {
			/* Nothing of a refused push is applied: find the op at fault by halving,
			 * and set it aside alone, so that it cannot block the outbox for ever. */
			if (b->n > 1) {
				max_ops = b->n / 2;
				outbox_batch_free(b);
				continue;
			}
			rejected_alone(&res[0], b->ops[0], &c->last_error);
			errors_clear(&c->last_error);
			max_ops = OUTBOX_MAX_BATCH_OPS;
			rc = 0;
		}
		if (rc || (rc = outbox_settle(c->local, b, res, client_wall_ms(), &c->last_error)))
			break;
		for (i = 0; i < b->n; i++) {
			tally(st, res[i].status);
			if (o->on_result)
				o->on_result(b->ops[i], &res[i], o->arg);
		}
		outbox_batch_free(b);
	}
out:
	if (b) {
		outbox_batch_free(b);
		free(b);
	}
	free(res);
	return rc;
}

static int cursor_txn(struct local_txn *t, void *arg)
{
	return local_get_u64(t, LOCAL_META_PULL_CURSOR, arg, NULL);
}

/* Pulled pages held for one local transaction. */
struct held_pages {
	Veille__V1__Envelope *replies[STORE_GROUP_PAGES];
	const Veille__V1__PullResult *pages[STORE_GROUP_PAGES];
	size_t n, changes;
};

static void held_free(struct held_pages *h)
{
	for (size_t i = 0; i < h->n; i++)
		wire_free(h->replies[i]);
	h->n = h->changes = 0;
}

/* Stores the held pages and the cursor after them in one local transaction. */
static int held_store(struct veille_client *c, struct held_pages *h, int mark_synced,
		      struct veille_sync_stats *st)
{
	uint64_t stored;
	int rc = 0;

	if (h->n) {
		rc = replica_store_pages(c->local, h->pages, h->n, mark_synced, client_wall_ms(),
					 &stored, &c->last_error);
		if (rc == 0) {
			st->pulled += h->changes;
			st->cursor = stored;
		}
	}
	held_free(h);
	return rc;
}

static int pull_all(struct veille_client *c, const struct veille_sync_opts *o, int mark_synced,
		    struct veille_sync_stats *st)
{
	struct held_pages held = { .n = 0 };
	uint64_t cursor = 0;
	unsigned pages, in_stream = 0;
	int rc, more = 1;

	if ((rc = local_read(c->local, cursor_txn, &cursor, &c->last_error)))
		return rc;
	/* Pages come as a stream of up to PULL_STREAM_PAGES per request, while the server reads
	 * the next ones; up to STORE_GROUP_PAGES of them are stored with the cursor after them in
	 * one local transaction (one fsync, and the B-tree pages they share written once). */
	for (pages = 0; pages < MAX_PULL_PAGES && more; pages++) {
		Veille__V1__Envelope *reply = NULL;
		const Veille__V1__PullResult *page;

		if (in_stream == 0)
			rc = client_pull_page(c, cursor, o->pull_limit, PULL_STREAM_PAGES, &reply);
		else
			rc = client_pull_next_page(c, cursor, &reply);
		if (rc)
			break;
		in_stream = (in_stream + 1) % PULL_STREAM_PAGES;
		page = reply->pull_result;
		held.replies[held.n] = reply;
		held.pages[held.n++] = page;
		held.changes += page->n_changes;
		for (size_t i = 0; i < page->n_changes && o->on_change; i++)
			if ((rc = o->on_change(page->changes[i], o->arg)))
				break;
		if (rc) {
			/* The page that stopped it is not stored, the ones before it are. */
			wire_free(held.replies[--held.n]);
			held.changes -= page->n_changes;
			break;
		}
		more = page->has_more;
		cursor = page->next_cursor;
		if (!more)
			in_stream = 0;
		if ((held.n == STORE_GROUP_PAGES || !more) &&
		    (rc = held_store(c, &held, mark_synced && !more, st)))
			break;
	}
	if (rc == 0)
		rc = held_store(c, &held, 0, st); /* stopped at MAX_PULL_PAGES */
	else
		held_store(c, &held, 0, st); /* keep what came before the failure */
	if (in_stream)
		client_drop(c); /* the rest of the stream is still coming */
	return rc;
}

struct after_ctx {
	uint64_t cursor;
	size_t pending;
};

static int after_txn(struct local_txn *t, void *arg)
{
	struct after_ctx *a = arg;
	int rc = local_get_u64(t, LOCAL_META_PULL_CURSOR, &a->cursor, NULL);

	return rc ? rc : local_count(t, LOCAL_OUTBOX, &a->pending);
}

static int steps(struct veille_client *c, const struct veille_sync_opts *o, unsigned what,
		 struct veille_sync_stats *st)
{
	int rc = 0;

	if (what & VEILLE_SYNC_PUSH)
		rc = push_outbox(c, o, st);
	if (rc == 0 && (what & VEILLE_SYNC_PULL))
		rc = pull_all(c, o, what == (VEILLE_SYNC_PUSH | VEILLE_SYNC_PULL), st);
	return rc;
}

int veille_sync_ex(struct veille_client *c, const struct veille_sync_opts *opts,
		   struct veille_sync_stats *out)
{
	static const struct veille_sync_opts defaults;
	const struct veille_sync_opts *o = opts ? opts : &defaults;
	unsigned what = o->what ? o->what : VEILLE_SYNC_PUSH | VEILLE_SYNC_PULL;
	struct veille_sync_stats st;
	struct after_ctx after = { 0, 0 };
	int rc, reused = c->authenticated;

	memset(&st, 0, sizeof st);
	errors_clear(&c->last_error);
	if ((what & ~(VEILLE_SYNC_PUSH | VEILLE_SYNC_PULL)) ||
	    o->pull_limit > VEILLE_MAX_PULL_LIMIT) {
		rc = errors_set(&c->last_error, VEILLE_EARG, "sync: unknown steps or limit over %d",
				VEILLE_MAX_PULL_LIMIT);
		goto out;
	}
	/* A device whose lease ran out unlocks its store by authenticating: a sync does that. */
	if (c->lease_expired && !c->authenticated && (rc = veille_connect(c, -1)))
		goto out;
	if ((rc = client_need_local(c)))
		goto out;
	/* Pokes from here on are about what this sync may not have seen. */
	c->news.poked = 0;
	c->news.poke_seq = 0;
	if (!c->authenticated && (rc = veille_connect(c, -1)))
		goto out;
	rc = steps(c, o, what, &st);
	/* A connection kept from an earlier call may have died meanwhile (a server restart, a
	 * network change), which only its first use shows: connect again, once. Both steps may
	 * run again safely (the server answers DUPLICATE, pages are stored idempotently). */
	if (reused && !c->authenticated && (rc == VEILLE_ECLOSED || rc == VEILLE_ECONN)) {
		if ((rc = veille_connect(c, -1)) == 0)
			rc = steps(c, o, what, &st);
	}
	if (rc == 0)
		st.syncs = 1;
out:
	if (c->local && local_read(c->local, after_txn, &after, NULL) == 0) {
		st.cursor = after.cursor;
		st.pending = after.pending;
	}
	if (out)
		*out = st;
	return rc;
}

int veille_sync(struct veille_client *c, struct veille_sync_stats *out)
{
	return veille_sync_ex(c, NULL, out);
}

/* Failures that a later attempt may not meet. */
static int retryable(int rc, const struct veille_error *e)
{
	switch (rc) {
	case VEILLE_ECONN:
	case VEILLE_ETIMEOUT:
	case VEILLE_ECLOSED:
	case VEILLE_EPROTO:
		return 1;
	case VEILLE_ESERVER:
		return e->code == VEILLE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE ||
		       e->code == VEILLE__V1__ERROR_CODE__ERROR_CODE_RATE_LIMITED ||
		       e->code == VEILLE__V1__ERROR_CODE__ERROR_CODE_INTERNAL;
	default:
		return 0;
	}
}

static int stopping(const struct veille_follow_opts *o, uint64_t deadline)
{
	return (o->stop && o->stop(o->arg)) || (deadline && client_mono_ms() >= deadline);
}

/* The next wait's length: at most IDLE_SLICE_MS and no further than deadline. */
static uint64_t slice(uint64_t deadline, uint64_t end)
{
	uint64_t now = client_mono_ms(), s = IDLE_SLICE_MS;

	if (end && end > now && end - now < s)
		s = end - now;
	if (deadline && deadline > now && deadline - now < s)
		s = deadline - now;
	return s;
}

/* Sleeps ms, in slices, ending early when stopping. */
static void pause_for(const struct veille_follow_opts *o, uint64_t deadline, uint32_t ms)
{
	uint64_t end = client_mono_ms() + ms;

	while (client_mono_ms() < end && !stopping(o, deadline)) {
		uint64_t s = slice(deadline, end);
		struct timespec ts = { (time_t)(s / 1000), (long)(s % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/*
 * Waits, with the connection open, for a reason to sync again: returns 0 once there is one
 * (a poke about something after cursor, ops in the outbox) or when stopping; the error when
 * the connection is lost or the local store fails.
 */
static int idle(struct veille_client *c, const struct veille_follow_opts *o, uint64_t deadline,
		uint64_t cursor)
{
	uint64_t resync_at = client_mono_ms() + FOLLOW_RESYNC_MS;

	for (;;) {
		Veille__V1__Envelope *env;
		size_t queued = 0;
		int rc;

		if (stopping(o, deadline))
			return 0;
		/* Pokes are hints (the server drops them under memory pressure, a proxy may lose
		 * them): a following device pulls anyway now and then. */
		if (client_mono_ms() >= resync_at)
			return 0;
		if (c->news.poked) {
			if (c->news.poke_seq > cursor)
				return 0;
			c->news.poked = 0; /* about what the last pull brought already */
		}
		if ((rc = outbox_count(c->local, &queued, NULL, &c->last_error)))
			return rc;
		if (queued)
			return 0;
		if (!c->authenticated)
			return errors_set(&c->last_error, VEILLE_ECONN, "connection lost");
		if (o->places && !c->places_live)
			return 0; /* a gap in the places deltas: subscribe again */
		rc = wire_next(c->conn, (int)slice(deadline, 0), &env, &c->news, &c->last_error);
		if (rc == 0) {
			if (o->places)
				places_on_message(c, o->places, env);
			wire_free(env);
		} else if (rc != VEILLE_ETIMEOUT) {
			client_drop(c);
			return client_revoked(c, rc);
		}
	}
}

static void add_stats(struct veille_sync_stats *total, const struct veille_sync_stats *s)
{
	total->pushed += s->pushed;
	total->applied += s->applied;
	total->duplicate += s->duplicate;
	total->conflict += s->conflict;
	total->rejected += s->rejected;
	total->pulled += s->pulled;
	total->syncs += s->syncs;
	total->cursor = s->cursor;
	total->pending = s->pending;
}

int veille_follow(struct veille_client *c, const struct veille_follow_opts *opts,
		  struct veille_sync_stats *total)
{
	static const struct veille_follow_opts defaults;
	const struct veille_follow_opts *o = opts ? opts : &defaults;
	uint64_t deadline = o->max_ms ? client_mono_ms() + o->max_ms : 0;
	struct veille_sync_stats sum, st;
	struct backoff bo;
	int rc = 0;

	memset(&sum, 0, sizeof sum);
	backoff_reset(&bo);
	/* Ends by stop or the deadline: each turn checks both, and every wait is bounded. */
	while (!stopping(o, deadline)) {
		uint32_t wait;

		rc = veille_sync_ex(c, o->sync, &st);
		add_stats(&sum, &st);
		if (rc == 0 && o->places && !c->places_live)
			rc = places_subscribe(c, o->places);
		if (rc == 0) {
			if (o->on_sync)
				o->on_sync(&st, o->arg);
			backoff_reset(&bo);
			if ((rc = idle(c, o, deadline, st.cursor)) == 0)
				continue;
		}
		if (!retryable(rc, &c->last_error))
			break;
		wait = backoff_next(&bo, randombytes_uniform);
		if (rc == VEILLE_ESERVER && c->last_error.retry_after_ms > wait)
			wait = c->last_error.retry_after_ms;
		if (o->on_retry)
			o->on_retry(rc, &c->last_error, wait, o->arg);
		client_drop(c);
		pause_for(o, deadline, wait);
		rc = 0;
	}
	if (total)
		*total = sum;
	return rc;
}
