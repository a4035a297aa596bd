/* sync: see sync.h.
 *
 * A pull page is read, projected and audited in ONE write transaction: the commit writer's
 * (commit.c), next to the pushes of the same group, so the audit entry of what a page
 * discloses is committed with the read it records, one fsync for the whole group, and the page
 * is sent only once that entry is on disk. The event loop only probes the feed (a short read
 * transaction: is there anything after the cursor?) so that a pull with nothing to read is
 * answered at once, without the writer; it encodes and sends the page the writer hands back. */
#include "sync.h"

#include "audit.h"
#include "auth.h"
#include "circle.h"
#include "commit.h"
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
#define RETRY_MS 100

/* One page of a pull: what the loop thread asked (and who asks, copied: the writer never reads
 * the session), then what the writer read. */
struct sync_page {
	uint64_t request_id, cursor;
	uint32_t limit;
	uint8_t device_id[16];
	char professional_id[65];
	char structure_id[65];
	int role;
	/* The writer's results, the loop's once handed back. */
	struct store_txn *t;                 /* while the writer reads */
	uint8_t audience[RECORDS_AUDIENCE_BYTES];
	Veille__Store__V1__RecordVersion **rv;
	struct policy_out *out;              /* rv[i] as the caller may receive it; allocated once
					      * for the page's limit, never moved (a policy_out
					      * points into itself) */
	struct policy_grant *grant;          /* what out[i] shows, and by which rule */
	uint8_t (*person)[STORE_ID_BYTES];   /* whom rv[i] is about */
	struct audit_disclosure *disclosed;
	size_t n, n_disclosed;
	uint64_t next;
	int more;
	int rc; /* STORE_OK, or why the page could not be read (nothing of it is sent) */
	uint64_t now_ms; /* while the writer reads: the time the care circle is read at */
};

struct sync_page *sync_page_new(const struct session *s, uint64_t request_id, uint64_t cursor,
				uint32_t limit)
{
	struct sync_page *pg = calloc(1, sizeof(*pg));

	if (!pg)
		return NULL;
	pg->request_id = request_id;
	pg->cursor = cursor;
	pg->limit = limit;
	memcpy(pg->device_id, s->device_id, sizeof(pg->device_id));
	memcpy(pg->professional_id, s->professional_id, sizeof(pg->professional_id));
	memcpy(pg->structure_id, s->structure_id, sizeof(pg->structure_id));
	pg->role = s->role;
	pg->rv = malloc(limit * sizeof(*pg->rv));
	pg->out = malloc(limit * sizeof(*pg->out));
	pg->grant = malloc(limit * sizeof(*pg->grant));
	pg->person = malloc(limit * sizeof(*pg->person));
	pg->disclosed = malloc(limit * sizeof(*pg->disclosed));
	if (!pg->rv || !pg->out || !pg->grant || !pg->person || !pg->disclosed) {
		sync_page_free(pg);
		return NULL;
	}
	return pg;
}

/* Frees what a read left, so the page can be read again (the writer runs a group again after
 * growing a full map). */
static void page_reset(struct sync_page *pg)
{
	for (size_t i = 0; i < pg->n; i++)
		codec_stored_free(&pg->rv[i]->base);
	pg->n = pg->n_disclosed = 0;
	pg->next = pg->cursor;
	pg->more = 0;
	pg->rc = STORE_OK;
}

void sync_page_free(struct sync_page *pg)
{
	if (!pg)
		return;
	page_reset(pg);
	free(pg->rv);
	free(pg->out);
	free(pg->grant);
	free(pg->person);
	free(pg->disclosed);
	free(pg);
}

/* The person rv is about: named by the record, or (a proposal) by its head. */
static int person_of(struct sync_page *pg, const Veille__Store__V1__RecordVersion *rv,
		     uint8_t pid[STORE_ID_BYTES])
{
	struct records_actor a = {NULL, NULL, NULL, pg->audience, 0, NULL, 0, NULL};
	struct records_head h;
	uint8_t rid[STORE_ID_BYTES];
	int rc;

	if (records_person_named(rv, pid))
		return STORE_OK;
	if (records_parse_id(rv->record_id, rid) != 0)
		return STORE_EFORGED;
	if ((rc = records_head(pg->t, &a, rid, &h)) != STORE_OK)
		return rc;
	memcpy(pid, h.person_id, STORE_ID_BYTES);
	return STORE_OK;
}

static int collect(Veille__Store__V1__RecordVersion *rv, void *arg)
{
	struct sync_page *pg = arg;
	unsigned relations = 0;
	size_t i = pg->n;

	/* The feed audience already selects what was shared with the caller's structure; the
	 * policy decides again on the record itself and the care circle now (the orientation's
	 * state, the stays, the person's objection), so no other code path can widen what
	 * leaves the server. */
	if (rv->version && policy_state_matters(pg->structure_id, rv) &&
	    circle_relations(pg->t, pg->structure_id, rv, pg->now_ms, &relations) != STORE_OK)
		goto fail;
	if (i == pg->limit) /* records_pull passes at most the page's limit */
		goto fail;
	if (rv->record_case == VEILLE__STORE__V1__RECORD_VERSION__RECORD__NOT_SET && !rv->version) {
		/* A withdrawal (records_withdraw): only the record's id, which the recipient
		 * was given before; it says to drop it. Nothing is disclosed. */
		memset(&pg->out[i], 0, sizeof(*pg->out));
	} else if (!policy_project(pg->structure_id, pg->role, relations, rv, &pg->out[i])) {
		codec_stored_free(&rv->base);
		return 0;
	} else {
		/* What leaves is in the audit: the same decision, told as a rule and fields. */
		if (!policy_grant(pg->structure_id, pg->role, relations, rv, &pg->grant[i]) ||
		    person_of(pg, rv, pg->person[i]) != STORE_OK)
			goto fail;
		pg->disclosed[pg->n_disclosed++] = (struct audit_disclosure){
			rv->record_id, rv->version, pg->person[i], &pg->grant[i]};
	}
	pg->rv[pg->n++] = rv;
	return 0;
fail:
	codec_stored_free(&rv->base);
	return -1;
}

int sync_page_read(struct store_txn *t, struct sync_page *pg, uint64_t now_ms)
{
	const struct audit_recipient who = {pg->professional_id, pg->device_id, pg->structure_id,
					    pg->role};
	int rc;

	page_reset(pg);
	pg->t = t;
	pg->now_ms = now_ms;
	records_audience(t, pg->structure_id, pg->audience);
	rc = records_pull(t, pg->audience, pg->cursor, pg->limit, PULL_BYTE_BUDGET, collect, pg,
			  &pg->next, &pg->more);
	pg->t = NULL;
	if (rc != STORE_OK) {
		/* A read that fails fails this page only: nothing was written for it. */
		page_reset(pg);
		pg->rc = rc;
		return STORE_OK;
	}
	/* Pages that disclose nothing (withdrawals only) need no entry. A failed append fails
	 * the transaction: the page is then not sent. */
	return pg->n_disclosed ? audit_append_disclosures(t, now_ms, "pull", &who, pg->disclosed,
							  pg->n_disclosed)
			       : STORE_OK;
}

/* Encodes and sends the page (its changes after cursor), or an empty one if pg is NULL. */
static void send_page(struct session *s, uint64_t request_id, const struct sync_page *pg,
		      uint64_t cursor)
{
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PullResult res = VEILLE__V1__PULL_RESULT__INIT;
	size_t n = pg ? pg->n : 0;
	Veille__V1__Change *changes = calloc(n ? n : 1, sizeof(*changes));
	Veille__V1__Change **ptrs = calloc(n ? n : 1, sizeof(*ptrs));

	if (!changes || !ptrs) {
		session_error(s, request_id, VEILLE_ERR(UNAVAILABLE), "out of memory", 1000);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		veille__v1__change__init(&changes[i]);
		changes[i].seq = pg->rv[i]->seq;
		changes[i].record_id = pg->rv[i]->record_id;
		changes[i].version = pg->rv[i]->version;
		/* Change keeps its record in a union of pointers: one store sets it. */
		changes[i].record_case = (Veille__V1__Change__RecordCase)pg->out[i].record_case;
		changes[i].encounter = pg->out[i].record;
		changes[i].withdrawn = !pg->out[i].record;
		ptrs[i] = &changes[i];
	}
	res.n_changes = n;
	res.changes = ptrs;
	res.next_cursor = pg ? pg->next : cursor;
	res.has_more = pg ? pg->more : 0;
	out.request_id = request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_PULL_RESULT;
	out.pull_result = &res;
	session_reply(s, &out);
out:
	free(changes);
	free(ptrs);
}

void sync_page_done(struct session *s, struct sync_page *pg, int ok)
{
	if (!s)
		return;
	s->pull.pending = 0;
	if (!ok) { /* the group failed, or the device was revoked: commit.c answers */
		s->pull.pages_left = 0;
		return;
	}
	if (pg->rc != STORE_OK) {
		log_error("sync: pull failed: %s", store_strerror(pg->rc));
		session_error(s, pg->request_id, VEILLE_ERR(INTERNAL), "storage failure", 0);
		s->pull.pages_left = 0;
		return;
	}
	send_page(s, pg->request_id, pg, pg->cursor);
	if (!pg->more || !s->pull.pages_left || s->pull.request_id != pg->request_id) {
		s->pull.pages_left = 0;
		return;
	}
	s->pull.cursor = pg->next;
	/* If the page before this one was written out, the writer reads the next one (and waits
	 * for its fsync) while the client reads this one; else the next one waits until the
	 * output is written (session_on_drained). A slow reader holds at most two pages. */
	if (s->pull.unwritten++ == 0)
		sync_pull_next_page(s);
}

/* Whether the caller's feed has anything after cursor: a short read transaction on the loop
 * thread, which also checks that the device is still active. 1 yes, 0 no, -1 answered. */
static int probe(struct session *s, uint64_t request_id, uint64_t cursor)
{
	uint8_t audience[RECORDS_AUDIENCE_BYTES];
	struct store_txn *t = NULL;
	uint64_t next;
	int more = 0, rc = store_begin(s->srv->store, 0, &t);

	if (rc == STORE_OK && auth_still_active(s, request_id, t) != 0) {
		store_abort(t);
		return -1;
	}
	if (rc == STORE_OK) {
		records_audience(t, s->structure_id, audience);
		/* A limit of 0 reads no record: it only says whether one is there. */
		rc = records_pull(t, audience, cursor, 0, PULL_BYTE_BUDGET, collect, NULL, &next,
				  &more);
	}
	store_abort(t);
	if (rc != STORE_OK) {
		log_error("sync: pull failed: %s", store_strerror(rc));
		session_error(s, request_id, VEILLE_ERR(INTERNAL), "storage failure", 0);
		return -1;
	}
	return more;
}

/* Answers at once if there is nothing to read, else queues the page to the writer. */
static void start_page(struct session *s)
{
	struct sync_page *pg;
	int any = probe(s, s->pull.request_id, s->pull.cursor);

	if (any == 0)
		send_page(s, s->pull.request_id, NULL, s->pull.cursor);
	if (any != 1) {
		s->pull.pages_left = 0;
		return;
	}
	pg = sync_page_new(s, s->pull.request_id, s->pull.cursor, s->pull.limit);
	if (!pg) {
		session_error(s, s->pull.request_id, VEILLE_ERR(UNAVAILABLE), "out of memory",
			      1000);
		s->pull.pages_left = 0;
		return;
	}
	if (commit_enqueue_pull(s->srv, s, s->pull.request_id, pg) == 0)
		s->pull.pending = 1;
	else
		s->pull.pages_left = 0;
}

void sync_on_pull(struct session *s, const Veille__V1__Envelope *env)
{
	const Veille__V1__PullRequest *req = env->pull;
	uint32_t limit = req->limit ? req->limit : PULL_DEFAULT_LIMIT;

	if (limit > PULL_MAX_LIMIT)
		limit = PULL_MAX_LIMIT;
	if (s->pull.pending) {
		/* One page per session in the writer's hands: a client's memory in the server
		 * stays one page, however many pulls it sends without waiting. */
		session_error(s, env->request_id, VEILLE_ERR(UNAVAILABLE),
			      "a pull is in progress: send again", RETRY_MS);
		return;
	}
	/* The next pages follow as the client reads (sync_page_done, session_on_drained): the
	 * writer reads page k+1 while the client reads page k, never more than two pages ahead
	 * of what the socket took. */
	s->pull.request_id = env->request_id;
	s->pull.cursor = req->cursor;
	s->pull.limit = limit;
	s->pull.pages_left = req->pages > 1 ? req->pages - 1 : 0;
	start_page(s);
}

void sync_pull_next_page(struct session *s)
{
	if (s->pull.pending)
		return; /* the page in the writer's hands comes first */
	s->pull.pages_left--;
	start_page(s);
}
