/* sync: see sync.h.
 *
 * A push is applied in one write transaction and answered only after it is committed, so an
 * APPLIED result always means "on disk". Group commit across sessions comes with the offline
 * sync work; for now each push is its own transaction. */
#include "sync.h"

#include "auth.h"
#include "clock.h"
#include "log.h"
#include "policy.h"
#include "records.h"
#include "server.h"
#include "session.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#define PULL_DEFAULT_LIMIT 500
#define PULL_MAX_LIMIT 1000
#define PULL_BYTE_BUDGET (512u << 10) /* keeps a page well under the 1 MiB frame cap */

struct push_ctx {
	struct session *s;
	uint64_t request_id;
	const Veille__V1__PushRequest *req;
	struct records_result *results;
	int revoked;
};

static int push_txn(struct store_txn *t, void *arg)
{
	struct push_ctx *c = arg;
	struct records_actor a = {c->s->device_id, c->s->professional_id, c->s->structure_id};
	uint64_t now = clock_now_ms();
	int rc;

	if (auth_still_active(c->s, c->request_id, t) != 0) {
		c->revoked = 1;
		return STORE_ENOTFOUND;
	}
	for (size_t i = 0; i < c->req->n_mutations; i++) {
		rc = records_apply(t, &a, c->req->mutations[i], now, &c->results[i]);
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

void sync_on_push(struct session *s, const Veille__V1__Envelope *env)
{
	const Veille__V1__PushRequest *req = env->push;
	size_t n = req->n_mutations;
	struct push_ctx c = {s, env->request_id, req, NULL, 0};
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PushResult pr = VEILLE__V1__PUSH_RESULT__INIT;
	Veille__V1__OpResult *ops = NULL, **ptrs = NULL;
	int rc;

	c.results = calloc(n, sizeof(*c.results));
	ops = calloc(n, sizeof(*ops));
	ptrs = calloc(n, sizeof(*ptrs));
	if (!c.results || !ops || !ptrs) {
		session_error(s, env->request_id, VEILLE_ERR(UNAVAILABLE), "out of memory", 1000);
		goto out;
	}
	rc = store_write(s->srv->store, push_txn, &c);
	if (c.revoked)
		goto out;
	if (rc != STORE_OK) {
		log_error("sync: push of %zu ops failed: %s", n, store_strerror(rc));
		session_error(s, env->request_id, VEILLE_ERR(INTERNAL),
			      "storage failure: nothing of this push was applied", 0);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		veille__v1__op_result__init(&ops[i]);
		ops[i].op_counter = req->mutations[i]->op_counter;
		ops[i].status = c.results[i].status;
		ops[i].version = c.results[i].version;
		ops[i].code = c.results[i].code;
		ops[i].reason = (char *)(c.results[i].reason ? c.results[i].reason : "");
		ptrs[i] = &ops[i];
	}
	pr.n_results = n;
	pr.results = ptrs;
	out.request_id = env->request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_PUSH_RESULT;
	out.push_result = &pr;
	session_reply(s, &out);
out:
	free(c.results);
	free(ops);
	free(ptrs);
}

struct pull_page {
	const struct session *s;
	Veille__Store__V1__RecordVersion **rv;
	size_t n, cap;
};

static int collect(Veille__Store__V1__RecordVersion *rv, void *arg)
{
	struct pull_page *pg = arg;

	/* The feed audience already selects the caller's structure; the policy decides again
	 * on the record itself, so no other code path can widen what leaves the server. */
	if (!policy_may_see(pg->s->structure_id, pg->s->role, rv)) {
		codec_stored_free(&rv->base);
		return 0;
	}
	if (pg->n == pg->cap) {
		size_t cap = pg->cap ? pg->cap * 2 : 64;
		void *p = realloc(pg->rv, cap * sizeof(*pg->rv));

		if (!p) {
			codec_stored_free(&rv->base);
			return -1;
		}
		pg->rv = p;
		pg->cap = cap;
	}
	pg->rv[pg->n++] = rv;
	return 0;
}

void sync_on_pull(struct session *s, const Veille__V1__Envelope *env)
{
	const Veille__V1__PullRequest *req = env->pull;
	uint32_t limit = req->limit ? req->limit : PULL_DEFAULT_LIMIT;
	struct pull_page pg = {s, NULL, 0, 0};
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PullResult res = VEILLE__V1__PULL_RESULT__INIT;
	Veille__V1__Change *changes = NULL, **ptrs = NULL;
	uint8_t audience[RECORDS_AUDIENCE_BYTES];
	struct store_txn *t = NULL;
	uint64_t next = req->cursor;
	int more = 0, rc;

	if (limit > PULL_MAX_LIMIT)
		limit = PULL_MAX_LIMIT;
	rc = store_begin(s->srv->store, 0, &t);
	if (rc == STORE_OK && auth_still_active(s, env->request_id, t) != 0)
		goto out;
	if (rc == STORE_OK) {
		records_audience(t, s->structure_id, audience);
		rc = records_pull(t, audience, req->cursor, limit, PULL_BYTE_BUDGET, collect, &pg,
				  &next, &more);
	}
	store_abort(t); /* read-only: end it before encoding */
	t = NULL;
	if (rc != STORE_OK) {
		log_error("sync: pull failed: %s", store_strerror(rc));
		session_error(s, env->request_id, VEILLE_ERR(INTERNAL), "storage failure", 0);
		goto out;
	}
	changes = calloc(pg.n ? pg.n : 1, sizeof(*changes));
	ptrs = calloc(pg.n ? pg.n : 1, sizeof(*ptrs));
	if (!changes || !ptrs) {
		session_error(s, env->request_id, VEILLE_ERR(UNAVAILABLE), "out of memory", 1000);
		goto out;
	}
	for (size_t i = 0; i < pg.n; i++) {
		veille__v1__change__init(&changes[i]);
		changes[i].seq = pg.rv[i]->seq;
		changes[i].record_id = pg.rv[i]->record_id;
		changes[i].version = pg.rv[i]->version;
		changes[i].record_case = VEILLE__V1__CHANGE__RECORD_ENCOUNTER;
		changes[i].encounter = pg.rv[i]->encounter;
		ptrs[i] = &changes[i];
	}
	res.n_changes = pg.n;
	res.changes = ptrs;
	res.next_cursor = next;
	res.has_more = more;
	out.request_id = env->request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_PULL_RESULT;
	out.pull_result = &res;
	session_reply(s, &out);
out:
	store_abort(t);
	for (size_t i = 0; i < pg.n; i++)
		codec_stored_free(&pg.rv[i]->base);
	free(pg.rv);
	free(changes);
	free(ptrs);
}
