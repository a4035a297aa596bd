/* sync: see sync.h. A pull reads in one short read transaction, which ends before the page is
 * encoded, so a slow client never holds LMDB pages. */
#include "sync.h"

#include "auth.h"
#include "circle.h"
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
#define PULL_BYTE_BUDGET (4u << 20) /* a full page of 1000 ~1 KiB records fits */

struct pull_page {
	const struct session *s;
	struct store_txn *t;
	Veille__Store__V1__RecordVersion **rv;
	struct policy_out *out; /* rv[i] as the caller may receive it; allocated once for the
				 * page's limit, never moved (a policy_out points into itself) */
	size_t n, cap;
	uint64_t now_ms; /* the time the care circle is read at */
};

static int collect(Veille__Store__V1__RecordVersion *rv, void *arg)
{
	struct pull_page *pg = arg;
	unsigned relations = 0;

	/* The feed audience already selects what was shared with the caller's structure; the
	 * policy decides again on the record itself and the care circle now (the orientation's
	 * state, the stays, the person's objection), so no other code path can widen what
	 * leaves the server. */
	if (rv->version &&
	    circle_relations(pg->t, pg->s->structure_id, rv, pg->now_ms, &relations) != STORE_OK) {
		codec_stored_free(&rv->base);
		return -1;
	}
	if (pg->n == pg->cap) { /* records_pull passes at most the page's limit */
		codec_stored_free(&rv->base);
		return -1;
	}
	if (rv->record_case == VEILLE__STORE__V1__RECORD_VERSION__RECORD__NOT_SET && !rv->version) {
		/* A withdrawal (records_withdraw): only the record's id, which the recipient
		 * was given before; it says to drop it. */
		memset(&pg->out[pg->n], 0, sizeof(*pg->out));
	} else if (!policy_project(pg->s->structure_id, pg->s->role, relations, rv,
				   &pg->out[pg->n])) {
		codec_stored_free(&rv->base);
		return 0;
	}
	pg->rv[pg->n++] = rv;
	return 0;
}

/* Sends one page after cursor answering request_id. Returns 1 if more changes remain (and
 * sets *next), 0 if the feed is exhausted, -1 if the request failed (already answered). */
static int send_page(struct session *s, uint64_t request_id, uint64_t cursor, uint32_t limit,
		     uint64_t *next)
{
	struct pull_page pg = {s, NULL, NULL, NULL, 0, 0, clock_now_ms()};
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PullResult res = VEILLE__V1__PULL_RESULT__INIT;
	Veille__V1__Change *changes = NULL, **ptrs = NULL;
	uint8_t audience[RECORDS_AUDIENCE_BYTES];
	struct store_txn *t = NULL;
	int more = 0, rc, status = -1;

	*next = cursor;
	pg.cap = limit;
	pg.rv = malloc(limit * sizeof(*pg.rv));
	pg.out = malloc(limit * sizeof(*pg.out));
	if (!pg.rv || !pg.out) {
		session_error(s, request_id, VEILLE_ERR(UNAVAILABLE), "out of memory", 1000);
		goto out;
	}
	rc = store_begin(s->srv->store, 0, &t);
	if (rc == STORE_OK && auth_still_active(s, request_id, t) != 0)
		goto out;
	if (rc == STORE_OK) {
		pg.t = t;
		records_audience(t, s->structure_id, audience);
		rc = records_pull(t, audience, cursor, limit, PULL_BYTE_BUDGET, collect, &pg, next,
				  &more);
	}
	store_abort(t); /* read-only: end it before encoding */
	t = NULL;
	if (rc != STORE_OK) {
		log_error("sync: pull failed: %s", store_strerror(rc));
		session_error(s, request_id, VEILLE_ERR(INTERNAL), "storage failure", 0);
		goto out;
	}
	changes = calloc(pg.n ? pg.n : 1, sizeof(*changes));
	ptrs = calloc(pg.n ? pg.n : 1, sizeof(*ptrs));
	if (!changes || !ptrs) {
		session_error(s, request_id, VEILLE_ERR(UNAVAILABLE), "out of memory", 1000);
		goto out;
	}
	for (size_t i = 0; i < pg.n; i++) {
		veille__v1__change__init(&changes[i]);
		changes[i].seq = pg.rv[i]->seq;
		changes[i].record_id = pg.rv[i]->record_id;
		changes[i].version = pg.rv[i]->version;
		/* Change keeps its record in a union of pointers: one store sets it. */
		changes[i].record_case = (Veille__V1__Change__RecordCase)pg.out[i].record_case;
		changes[i].encounter = pg.out[i].record;
		changes[i].withdrawn = !pg.out[i].record;
		ptrs[i] = &changes[i];
	}
	res.n_changes = pg.n;
	res.changes = ptrs;
	res.next_cursor = *next;
	res.has_more = more;
	out.request_id = request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_PULL_RESULT;
	out.pull_result = &res;
	session_reply(s, &out);
	status = more;
out:
	store_abort(t);
	for (size_t i = 0; i < pg.n; i++)
		codec_stored_free(&pg.rv[i]->base);
	free(pg.rv);
	free(pg.out);
	free(changes);
	free(ptrs);
	return status;
}

void sync_on_pull(struct session *s, const Veille__V1__Envelope *env)
{
	const Veille__V1__PullRequest *req = env->pull;
	uint32_t limit = req->limit ? req->limit : PULL_DEFAULT_LIMIT;
	uint64_t next;

	if (limit > PULL_MAX_LIMIT)
		limit = PULL_MAX_LIMIT;
	if (send_page(s, env->request_id, req->cursor, limit, &next) == 1 && req->pages > 1) {
		/* The next page is made once this one has been written (session_on_drained):
		 * the client reads page k while the server reads page k+1 from the store. */
		s->pull.request_id = env->request_id;
		s->pull.cursor = next;
		s->pull.limit = limit;
		s->pull.pages_left = req->pages - 1;
	}
}

void sync_pull_next_page(struct session *s)
{
	uint64_t next;
	int more;

	s->pull.pages_left--;
	more = send_page(s, s->pull.request_id, s->pull.cursor, s->pull.limit, &next);
	if (more == 1)
		s->pull.cursor = next;
	else
		s->pull.pages_left = 0;
}
