/* commit: see commit.h. */
#include "commit.h"

#include "auth.h"
#include "clock.h"
#include "directory.h"
#include "effects.h"
#include "frame.h"
#include "log.h"
#include "orient.h"
#include "places.h"
#include "records.h"
#include "server.h"
#include "session.h"
#include "store.h"
#include "sync.h"
#include "transport.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Queued mutations past which new pushes are refused (UNAVAILABLE, retry soon): bounds memory
 * and the size of one transaction when thousands of devices push at once. */
#define COMMIT_MAX_OPS 100000
#define RETRY_MS 200

/* What the writer applies: pushes, declarations of vacancies, and the once-a-second sweep
 * (staleness of declarations, orientation holds). All of them go through the one writer, so
 * every change of the places has its sequence number in commit order, and deltas go out in
 * that order. And pull pages: read there so that the audit of what they disclose is written
 * in the transaction of the read. */
enum item_kind { ITEM_PUSH, ITEM_DECLARE, ITEM_SWEEP, ITEM_PULL };

struct commit_item {
	struct commit_item *next;
	enum item_kind kind;
	struct session *s; /* NULL once the session is gone (and for a sweep) */
	uint64_t request_id;
	struct codec_msg msg; /* ITEM_PUSH */
	uint8_t device_id[16];
	char professional_id[65];
	char structure_id[65];
	char territory[CODEC_MAX_TERRITORY + 1]; /* of structure_id, read by the writer */
	int role;
	struct records_result *results;
	int revoked;
	struct effects fx; /* feeds and places this item changed: pokes and deltas */
	/* ITEM_DECLARE: the counts (copied) and the outcome */
	Veille__V1__CategoryCount counts[CODEC_MAX_CATEGORIES], *count_ptrs[CODEC_MAX_CATEGORIES];
	size_t n_counts;
	struct places_declared declared;
	/* ITEM_SWEEP: declarations that went stale in (from, to], holds ended by to */
	uint64_t from_ms, to_ms;
	struct sync_page *page; /* ITEM_PULL */
};

/*
 * The writer thread and the batch it holds. The loop thread hands it a batch (the whole queue)
 * when it is idle and takes the batch back once the writer says it is done; in between, the
 * loop thread reads sockets and queues the next pushes, and touches nothing of the batch but
 * each item's session pointer (commit_forget_session), which the writer never reads.
 */
struct commit_writer {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;             /* the writer waits for a batch or stop; finish for done */
	struct server *srv;
	struct commit_item *batch;     /* handed to the writer, until taken back */
	size_t batch_ops;
	int busy;                      /* batch is the writer's (set and cleared by the loop) */
	int done;                      /* the writer finished batch; rc is its result */
	int rc;
	int stop;
};

/* A new item for session s (NULL: veilled's own), or NULL after answering UNAVAILABLE. */
static struct commit_item *item_new(struct server *srv, enum item_kind kind, struct session *s,
				    uint64_t request_id, size_t ops)
{
	struct commit_item *it;

	if (srv->commits.ops + ops > COMMIT_MAX_OPS) {
		if (s)
			session_error(s, request_id, VEILLE_ERR(UNAVAILABLE),
				      "server busy: send again", RETRY_MS);
		return NULL;
	}
	it = calloc(1, sizeof(*it));
	if (it && ops)
		it->results = calloc(ops, sizeof(*it->results));
	if (!it || (ops && !it->results)) {
		free(it);
		if (s)
			session_error(s, request_id, VEILLE_ERR(UNAVAILABLE),
				      "out of memory: send again", RETRY_MS);
		return NULL;
	}
	it->kind = kind;
	it->s = s;
	it->request_id = request_id;
	if (s) {
		memcpy(it->device_id, s->device_id, sizeof(it->device_id));
		memcpy(it->professional_id, s->professional_id, sizeof(it->professional_id));
		memcpy(it->structure_id, s->structure_id, sizeof(it->structure_id));
		it->role = s->role;
	}
	return it;
}

static void item_queue(struct server *srv, struct commit_item *it, size_t ops)
{
	if (!srv->commits.head)
		srv->commits.tail = &srv->commits.head;
	*srv->commits.tail = it;
	srv->commits.tail = &it->next;
	srv->commits.ops += ops;
}

void commit_enqueue(struct server *srv, struct session *s, struct codec_msg *msg)
{
	size_t n = msg->env->push->n_mutations;
	struct commit_item *it = item_new(srv, ITEM_PUSH, s, msg->env->request_id, n);

	if (!it)
		return;
	it->msg = *msg;
	memset(msg, 0, sizeof(*msg));
	item_queue(srv, it, n);
}

void commit_enqueue_declare(struct server *srv, struct session *s, uint64_t request_id,
			    const Veille__V1__DeclareVacancies *req)
{
	struct commit_item *it;

	if (req->n_vacancies > CODEC_MAX_CATEGORIES) {
		session_error(s, request_id, VEILLE_ERR(LIMIT_EXCEEDED),
			      "more than one count per category", 0);
		return;
	}
	if (!(it = item_new(srv, ITEM_DECLARE, s, request_id, 1)))
		return;
	for (size_t i = 0; i < req->n_vacancies; i++) {
		it->counts[i] = *req->vacancies[i];
		it->counts[i].base.unknown_fields = NULL;
		it->counts[i].base.n_unknown_fields = 0;
		it->count_ptrs[i] = &it->counts[i];
	}
	it->n_counts = req->n_vacancies;
	item_queue(srv, it, 1);
}

int commit_enqueue_pull(struct server *srv, struct session *s, uint64_t request_id,
			struct sync_page *pg)
{
	struct commit_item *it = item_new(srv, ITEM_PULL, s, request_id, 1);

	if (!it) { /* answered */
		sync_page_free(pg);
		return -1;
	}
	it->page = pg;
	item_queue(srv, it, 1);
	return 0;
}

int commit_enqueue_sweep(struct server *srv, uint64_t from_ms, uint64_t to_ms)
{
	struct commit_item *it;

	for (it = srv->commits.head; it; it = it->next)
		if (it->kind == ITEM_SWEEP) { /* one is waiting: it goes further */
			it->to_ms = to_ms;
			return 0;
		}
	if (!(it = item_new(srv, ITEM_SWEEP, NULL, 0, 1)))
		return -1;
	it->from_ms = from_ms;
	it->to_ms = to_ms;
	item_queue(srv, it, 1);
	return 0;
}

void commit_forget_session(struct server *srv, struct session *s)
{
	struct commit_writer *w = srv->commits.w;

	for (struct commit_item *it = srv->commits.head; it; it = it->next)
		if (it->s == s)
			it->s = NULL;
	/* The batch's items stay put while the writer runs: only their s is written here. */
	for (struct commit_item *it = w ? w->batch : NULL; it; it = it->next)
		if (it->s == s)
			it->s = NULL;
}

static void item_free(struct commit_item *it)
{
	codec_msg_free(&it->msg);
	sync_page_free(it->page);
	effects_free(&it->fx);
	free(it->results);
	free(it);
}

/* The territory of the item's structure (the previous item's if it is the same structure). */
static int item_territory(struct store_txn *t, struct commit_item *it,
			  const struct commit_item *prev)
{
	Veille__Store__V1__Structure *st;
	int rc;

	if (prev && strcmp(prev->structure_id, it->structure_id) == 0) {
		memcpy(it->territory, prev->territory, sizeof(it->territory));
		return STORE_OK;
	}
	it->territory[0] = 0;
	rc = directory_structure_get(t, it->structure_id, &st);
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	snprintf(it->territory, sizeof(it->territory), "%s", st->territory);
	codec_stored_free(&st->base);
	return STORE_OK;
}

static int apply_push(struct store_txn *t, struct server *srv, struct commit_item *it,
		      uint64_t now)
{
	const Veille__V1__PushRequest *req = it->msg.env->push;
	uint8_t aud[RECORDS_AUDIENCE_BYTES];
	struct records_actor a = {it->device_id, it->professional_id, it->structure_id, aud,
				  it->role, it->territory, srv->cfg.hold_ms, &it->fx};
	int rc;

	records_audience(t, it->structure_id, aud);
	rc = auth_device_active(t, it->device_id);
	if (rc < 0)
		return -rc;
	it->revoked = rc == 0;
	for (size_t i = 0; !it->revoked && i < req->n_mutations; i++) {
		rc = records_apply(t, &a, req->mutations[i], now, &it->results[i]);
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

struct flush {
	struct server *srv;
	struct commit_item *batch;
};

/* A whole batch in one transaction; runs on the writer thread, and must stay repeatable (a full
 * map makes the loop grow it and hand the same batch again). */
static int flush_txn(struct store_txn *t, void *arg)
{
	struct flush *fl = arg;
	const struct commit_item *prev = NULL;
	uint64_t now = clock_now_ms();
	int rc = STORE_OK;

	for (struct commit_item *it = fl->batch; it && rc == STORE_OK; it = it->next) {
		effects_reset(&it->fx);
		if (it->kind == ITEM_PUSH || it->kind == ITEM_DECLARE) {
			if ((rc = item_territory(t, it, prev)) != STORE_OK)
				break;
			prev = it;
		}
		switch (it->kind) {
		case ITEM_PUSH:
			rc = apply_push(t, fl->srv, it, now);
			break;
		case ITEM_DECLARE:
			rc = auth_device_active(t, it->device_id);
			it->revoked = rc == 0;
			rc = rc < 0 ? -rc
			     : it->revoked
				     ? STORE_OK
				     : places_declare(t, it->structure_id, it->count_ptrs,
						      it->n_counts, now, &it->fx, &it->declared);
			break;
		case ITEM_SWEEP:
			rc = places_sweep(t, it->from_ms, it->to_ms, &it->fx);
			if (rc == STORE_OK)
				rc = orient_sweep(t, it->to_ms, &it->fx);
			break;
		case ITEM_PULL:
			rc = auth_device_active(t, it->device_id);
			it->revoked = rc == 0;
			rc = rc < 0 ? -rc
			     : it->revoked ? STORE_OK
					   : sync_page_read(t, it->page, now);
			break;
		}
	}
	return rc;
}

static void answer_push(struct commit_item *it)
{
	const Veille__V1__PushRequest *req = it->msg.env->push;
	size_t n = req->n_mutations;
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PushResult pr = VEILLE__V1__PUSH_RESULT__INIT;
	Veille__V1__OpResult *ops = calloc(n, sizeof(*ops));
	Veille__V1__OpResult **ptrs = calloc(n, sizeof(*ptrs));

	if (!ops || !ptrs) {
		session_error(it->s, it->request_id, VEILLE_ERR(UNAVAILABLE),
			      "out of memory: push again (ops were applied)", RETRY_MS);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		veille__v1__op_result__init(&ops[i]);
		ops[i].op_counter = req->mutations[i]->op_counter;
		ops[i].status = it->results[i].status;
		ops[i].version = it->results[i].version;
		ops[i].code = it->results[i].code;
		ops[i].reason = (char *)(it->results[i].reason ? it->results[i].reason : "");
		ptrs[i] = &ops[i];
	}
	pr.n_results = n;
	pr.results = ptrs;
	out.request_id = it->request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_PUSH_RESULT;
	out.push_result = &pr;
	session_reply(it->s, &out);
out:
	free(ops);
	free(ptrs);
}

/* Whether session s should hear of this flush: another session (or veilled's sweep) wrote to
 * a feed of its structure. */
static int concerned(const struct session *s, const struct commit_item *head)
{
	if (s->state != SESSION_AUTHENTICATED)
		return 0;
	for (const struct commit_item *it = head; it; it = it->next)
		if (it->s != s && (it->fx.n_structures || it->fx.failed) &&
		    effects_touches(&it->fx, s->structure_id))
			return 1;
	return 0;
}

/* One Poke frame, encoded once and shared by every session it goes to. */
static void poke(struct server *srv, const struct commit_item *head, uint64_t seq)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__Poke pk = VEILLE__V1__POKE__INIT;
	struct frame *f = NULL;

	for (struct session *s = srv->sessions; s; s = s->next) {
		if (!concerned(s, head))
			continue;
		if (!f) {
			pk.seq = seq;
			env.body_case = VEILLE__V1__ENVELOPE__BODY_POKE;
			env.poke = &pk;
			f = codec_encode(&env);
			if (!f)
				return; /* pokes are hints: the next pull catches up */
		}
		transport_send(s->conn, f);
	}
	frame_unref(f);
}

static void *writer_main(void *arg)
{
	struct commit_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct commit_item *batch;
		int rc;

		while (!w->stop && !(w->busy && !w->done))
			pthread_cond_wait(&w->cv, &w->mu);
		if (!(w->busy && !w->done))
			break; /* stopping, nothing in hand */
		batch = w->batch;
		pthread_mutex_unlock(&w->mu);
		{
			struct flush fl = {w->srv, batch};

			rc = store_write_nogrow(w->srv->store, flush_txn, &fl);
		}
		pthread_mutex_lock(&w->mu);
		w->rc = rc;
		w->done = 1;
		pthread_cond_broadcast(&w->cv);
		transport_wake(w->srv->tp); /* the loop takes the results after its next pass */
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int commit_start(struct server *srv)
{
	struct commit_writer *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int created;

	if (!w) {
		log_error("commit: out of memory");
		return -1;
	}
	w->srv = srv;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* Signals go to the loop thread: the writer starts with all of them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	created = pthread_create(&w->tid, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (created != 0) {
		log_error("commit: cannot start the writer thread");
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return -1;
	}
	srv->commits.w = w;
	return 0;
}

/* Answers every session of a committed (or failed) batch, pokes, frees the batch. */
static void settle(struct server *srv, struct commit_item *batch, size_t ops, int rc)
{
	struct commit_item *next;
	uint64_t seq = 0;
	int wrote = 0;

	if (rc != STORE_OK)
		log_error("commit: group of %zu ops failed, nothing applied: %s", ops,
			  store_strerror(rc));
	for (struct commit_item *it = batch; it; it = it->next) {
		wrote |= it->fx.n_structures > 0 || it->fx.failed;
		if (!it->s)
			continue;
		if (it->kind == ITEM_PULL)
			sync_page_done(it->s, it->page, rc == STORE_OK && !it->revoked);
		if (rc != STORE_OK)
			session_error(it->s, it->request_id, VEILLE_ERR(INTERNAL),
				      it->kind == ITEM_PULL
					      ? "storage failure: page not sent"
					      : "storage failure: nothing of this request was applied",
				      0);
		else if (it->revoked)
			session_fail(it->s, it->request_id, VEILLE_ERR(DEVICE_REVOKED),
				     "device or professional revoked", 0,
				     LWS_CLOSE_STATUS_POLICY_VIOLATION);
		else if (it->kind == ITEM_DECLARE)
			places_answer_declare(it->s, it->request_id, &it->declared);
		else if (it->kind == ITEM_PUSH)
			answer_push(it);
	}
	/* Then the places deltas, in commit order, which is their sequence order. */
	for (struct commit_item *it = batch; rc == STORE_OK && it; it = it->next)
		places_send_deltas(srv, &it->fx);
	if (rc == STORE_OK && wrote && records_last_seq(srv->store, &seq) == STORE_OK)
		poke(srv, batch, seq);
	for (struct commit_item *it = batch; it; it = next) {
		next = it->next;
		item_free(it);
	}
}

/* Hands the queue to the idle writer. */
static void dispatch(struct commit_writer *w, struct server *srv)
{
	pthread_mutex_lock(&w->mu);
	w->batch = srv->commits.head;
	w->batch_ops = srv->commits.ops;
	w->busy = 1;
	w->done = 0;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	srv->commits.head = NULL;
	srv->commits.tail = &srv->commits.head;
	srv->commits.ops = 0;
}

/*
 * Takes a finished batch back from the writer: answers it, or on a full map grows the map
 * (this thread holds the process's read transactions, and none is open between passes) and
 * hands the same batch again. Waits for the writer if wait is set. Returns whether the writer
 * is idle now.
 */
static int collect(struct commit_writer *w, struct server *srv, int wait)
{
	struct commit_item *batch;
	size_t ops;
	int rc;

	pthread_mutex_lock(&w->mu);
	while (wait && w->busy && !w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->busy && !w->done) {
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	batch = w->batch;
	ops = w->batch_ops;
	rc = w->rc;
	w->batch = NULL;
	w->busy = w->done = 0;
	pthread_mutex_unlock(&w->mu);
	if (!batch)
		return 1;
	if (rc == STORE_EFULL && store_grow(srv->store) == STORE_OK) {
		pthread_mutex_lock(&w->mu);
		w->batch = batch;
		w->batch_ops = ops;
		w->busy = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	settle(srv, batch, ops, rc);
	return 1;
}

void commit_flush(struct server *srv)
{
	struct commit_writer *w = srv->commits.w;

	if (w && collect(w, srv, 0) && srv->commits.head)
		dispatch(w, srv);
}

void commit_finish(struct server *srv)
{
	struct commit_writer *w = srv->commits.w;

	if (!w)
		return;
	while (!collect(w, srv, 1) || srv->commits.head) {
		if (srv->commits.head && collect(w, srv, 0))
			dispatch(w, srv);
	}
}

void commit_stop(struct server *srv)
{
	struct commit_writer *w = srv->commits.w;
	struct commit_item *next;

	if (w) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->tid, NULL);
		/* A batch the writer finished is settled; it never holds one unfinished here. */
		collect(w, srv, 0);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		srv->commits.w = NULL;
	}
	for (struct commit_item *it = srv->commits.head; it; it = next) {
		next = it->next;
		item_free(it);
	}
	srv->commits.head = NULL;
	srv->commits.ops = 0;
}
