/*
 * Integration: push and pull between real devices through a real veilled.
 *
 * Each test gets a fresh data directory and server with two structures in two départements:
 * maraude-75-a (Paris) with professionals Alice (device A) and Bob (device B), and
 * maraude-93-b (Seine-Saint-Denis) with Carol (device C). All three enrol with codes printed
 * by veillectl and authenticate through libveille.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define TEAM_A "maraude-75-a"
#define TEAM_C "maraude-93-b"

#define APPLIED VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED
#define DUPLICATE VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE
#define CONFLICT VEILLE__V1__OP_STATUS__OP_STATUS_CONFLICT
#define REJECTED VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED
#define FORBIDDEN VEILLE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN

struct fixture {
	struct hx_env *e;
	struct hx_device a, b, c;
};

static int setup_with(void **state, int small_map)
{
	struct fixture *f = calloc(1, sizeof *f);

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, TEAM_A, "Maraude 75 A", "equipe_mobile", "75") ||
	    hx_structure_add(f->e, TEAM_C, "Maraude 93 B", "equipe_mobile", "93") ||
	    (small_map ? hx_server_start(f->e, "--map-size", "1", (char *)NULL)
		       : hx_server_start(f->e, (char *)NULL)) ||
	    hx_new_device(f->e, TEAM_A, "Alice Martin", &f->a) ||
	    hx_new_device(f->e, TEAM_A, "Bob Durand", &f->b) ||
	    hx_new_device(f->e, TEAM_C, "Carol Petit", &f->c))
		return -1;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, 0);
}

/* The same, with veilled's map at 1 MiB: the first pushes fill it. */
static int setup_small_map(void **state)
{
	return setup_with(state, 1);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	hx_device_close(&f->a);
	hx_device_close(&f->b);
	hx_device_close(&f->c);
	rc = hx_env_free(f->e); /* veilled must exit 0 on SIGTERM */
	free(f);
	return rc;
}

/* Pulls everything c may see from the beginning. */
static void pull_from_start(struct hx_device *d, uint32_t limit, struct hx_changes *cs)
{
	memset(cs, 0, sizeof *cs);
	assert_int_equal(hx_pull_all(d->c, 0, limit, cs), 0);
}

/*
 * A pushes 100 encounters in one push (100 APPLIED), then the very same push again (100
 * DUPLICATE, same versions). B, same team, pulls them in pages of 30; C, another structure in
 * another département, pulls nothing.
 */
static void test_push_100_dedup_and_paged_pull(void **state)
{
	struct fixture *f = *state;
	struct hx_batch *b = hx_batch_new(100, NULL, "tournée du soir, quai de Jemmapes");
	uint64_t versions[100], counters[100], last_seq = 0, next = 0;
	struct hx_changes cs;
	int has_more = 1;

	assert_non_null(b);
	assert_int_equal(hx_push(&f->a, b), 0);
	for (size_t i = 0; i < 100; i++) {
		assert_int_equal(b->res[i].status, APPLIED);
		assert_int_equal(b->res[i].version, 1);
		assert_true(b->res[i].op_counter > 0);
		if (i)
			assert_true(b->res[i].op_counter > counters[i - 1]);
		versions[i] = b->res[i].version;
		counters[i] = b->res[i].op_counter;
	}

	/* The same ops (same op counters) again: nothing new is applied. */
	assert_int_equal(hx_push(&f->a, b), 0);
	for (size_t i = 0; i < 100; i++) {
		assert_int_equal(b->res[i].status, DUPLICATE);
		assert_int_equal(b->res[i].version, versions[i]);
		assert_int_equal(b->res[i].op_counter, counters[i]);
	}

	/* B pulls through pages of 30: 30, 30, 30, 10, has_more on all but the last. */
	pull_from_start(&f->b, 30, &cs);
	assert_int_equal(cs.n, 100);
	assert_int_equal(cs.pages, 4);
	assert_int_equal(cs.page_size[0], 30);
	assert_int_equal(cs.page_size[1], 30);
	assert_int_equal(cs.page_size[2], 30);
	assert_int_equal(cs.page_size[3], 10);
	assert_true(cs.page_more[0] && cs.page_more[1] && cs.page_more[2]);
	assert_false(cs.page_more[3]);
	for (size_t i = 0; i < cs.n; i++) {
		assert_true(cs.v[i].seq > last_seq); /* in feed order, no repeats */
		last_seq = cs.v[i].seq;
	}
	assert_int_equal(cs.cursor, last_seq);
	for (size_t i = 0; i < 100; i++) {
		const struct hx_change *ch = hx_changes_find(&cs, b->muts[i].record_id, 0);

		assert_non_null(ch);
		assert_int_equal(ch->version, 1);
		assert_string_equal(ch->note, b->muts[i].note);
		assert_string_equal(ch->person_id, b->muts[i].person_id);
		/* Left empty by the client, filled by the server from the authenticated author. */
		assert_string_equal(ch->team_id, TEAM_A);
		assert_string_equal(ch->author_id, f->a.professional_id);
	}

	/* From the last cursor there is nothing more. */
	assert_int_equal(veille_pull(f->b.c, cs.cursor, 30, NULL, NULL, &next, &has_more), 0);
	assert_false(has_more);
	hx_changes_free(&cs);

	/* C, of another structure, sees none of it. */
	pull_from_start(&f->c, 0, &cs);
	assert_int_equal(cs.n, 0);
	assert_int_equal(cs.pages, 1);
	hx_changes_free(&cs);
	hx_batch_free(b);
}

/*
 * One push of five ops by A: ops 1 and 3 name another team_id / another professional as
 * author (REJECTED FORBIDDEN); ops 0, 2 and 4 (4 names A's own team explicitly) are applied.
 * B sees exactly the three applied; C, whose team op 1 named, sees nothing.
 */
static void test_foreign_team_or_author_rejected_others_applied(void **state)
{
	struct fixture *f = *state;
	struct hx_batch *b = hx_batch_new(5, NULL, "batch with forged ops");
	struct hx_changes cs;

	assert_non_null(b);
	b->muts[1].e.team_id = TEAM_C;
	b->muts[3].e.author_id = f->c.professional_id;
	b->muts[4].e.team_id = TEAM_A;
	assert_int_equal(hx_push(&f->a, b), 0);
	assert_int_equal(b->res[0].status, APPLIED);
	assert_int_equal(b->res[1].status, REJECTED);
	assert_int_equal(b->res[1].code, FORBIDDEN);
	assert_int_equal(b->res[2].status, APPLIED);
	assert_int_equal(b->res[3].status, REJECTED);
	assert_int_equal(b->res[3].code, FORBIDDEN);
	assert_int_equal(b->res[4].status, APPLIED);

	pull_from_start(&f->b, 0, &cs);
	assert_int_equal(cs.n, 3);
	assert_non_null(hx_changes_find(&cs, b->muts[0].record_id, 1));
	assert_null(hx_changes_find(&cs, b->muts[1].record_id, 0));
	assert_non_null(hx_changes_find(&cs, b->muts[2].record_id, 1));
	assert_null(hx_changes_find(&cs, b->muts[3].record_id, 0));
	assert_non_null(hx_changes_find(&cs, b->muts[4].record_id, 1));
	hx_changes_free(&cs);

	pull_from_start(&f->c, 0, &cs);
	assert_int_equal(cs.n, 0);
	hx_changes_free(&cs);
	hx_batch_free(b);
}

/*
 * Hostile ops in one batch, each refused with its own typed result while the good ops around
 * them are applied. The bad inputs, sent by device A as a raw push with counters 10..16:
 *   [1] a mutation with no record (an unknown record kind: a newer client's oneof member),
 *   [2] an op naming device C's id as its device,
 *   [4] an encounter naming another professional as author,
 *   [5] a person profile with a field stamped by another device;
 * then a second push with counter 12 for a new op (a counter going backwards).
 * (An oversized batch, 1001 ops, is refused as a whole: see test_bad_input.)
 */
static void test_hostile_ops_typed_rejections(void **state)
{
	struct fixture *f = *state;
	struct hx_batch *b = hx_batch_new(7, NULL, "batch with hostile ops");
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT, *reply;
	Veille__V1__PushRequest push = VEILLE__V1__PUSH_REQUEST__INIT;
	Veille__V1__Person person = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue field = VEILLE__V1__PERSON_FIELD_VALUE__INIT, *fp = &field;
	Veille__V1__Hlc hlc = VEILLE__V1__HLC__INIT;
	static const int expect[7][2] = {
		{APPLIED, 0},
		{REJECTED, VEILLE__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT},
		{REJECTED, FORBIDDEN},
		{APPLIED, 0},
		{REJECTED, FORBIDDEN},
		{REJECTED, FORBIDDEN},
		{APPLIED, 0},
	};
	struct conn *c;
	struct hx_changes cs;

	assert_non_null(b);
	b->muts[1].m.record_case = VEILLE__V1__MUTATION__RECORD__NOT_SET;
	b->muts[1].m.encounter = NULL;
	b->muts[2].m.device_id.data = f->c.device_id;
	b->muts[2].m.device_id.len = 16;
	b->muts[4].e.author_id = f->c.professional_id;
	hlc.wall_ms = hx_now_ms();
	hlc.device_id.data = f->c.device_id;
	hlc.device_id.len = 16;
	field.field = VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME;
	field.hlc = &hlc;
	field.value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
	field.text = "Jo";
	person.n_fields = 1;
	person.fields = &fp;
	b->muts[5].m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	b->muts[5].m.person = &person;
	for (size_t i = 0; i < b->n; i++)
		b->muts[i].m.op_counter = 10 + i;
	push.n_mutations = b->n;
	push.mutations = b->ptrs;
	env.request_id = 7;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_PUSH;
	env.push = &push;

	c = hx_raw_open(f->e);
	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, &f->a), 0);
	reply = hx_raw_call(c, &env, HX_TIMEOUT_MS);
	assert_non_null(reply);
	assert_int_equal(reply->body_case, VEILLE__V1__ENVELOPE__BODY_PUSH_RESULT);
	assert_int_equal(reply->push_result->n_results, 7);
	for (size_t i = 0; i < 7; i++) {
		const Veille__V1__OpResult *r = reply->push_result->results[i];

		assert_int_equal(r->op_counter, 10 + i);
		assert_int_equal(r->status, expect[i][0]);
		if (expect[i][0] == REJECTED) {
			assert_int_equal(r->code, expect[i][1]);
			assert_true(r->reason[0] != '\0');
		}
	}
	wire_free(reply);

	/* A new op with counter 12, below the highest answered (16): refused, not applied. */
	b->muts[0].m.op_counter = 12;
	assert_int_equal(veille_new_record_id(b->muts[0].record_id), 0);
	push.n_mutations = 1;
	env.request_id = 8;
	reply = hx_raw_call(c, &env, HX_TIMEOUT_MS);
	assert_non_null(reply);
	assert_int_equal(reply->body_case, VEILLE__V1__ENVELOPE__BODY_PUSH_RESULT);
	/* Counter 12 was answered already (FORBIDDEN for [2]): a resent op id gets that answer. */
	assert_int_equal(reply->push_result->results[0]->status, REJECTED);
	assert_int_equal(reply->push_result->results[0]->code, FORBIDDEN);
	wire_free(reply);
	/* Counter 9 was never seen and is below the highest: going backwards. */
	b->muts[0].m.op_counter = 9;
	env.request_id = 9;
	reply = hx_raw_call(c, &env, HX_TIMEOUT_MS);
	assert_non_null(reply);
	assert_int_equal(reply->push_result->results[0]->status, REJECTED);
	assert_int_equal(reply->push_result->results[0]->code,
			 VEILLE__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT);
	wire_free(reply);
	conn_close(c);

	pull_from_start(&f->b, 0, &cs);
	assert_int_equal(cs.n, 3); /* [0], [3], [6] */
	assert_null(hx_changes_find(&cs, b->muts[0].record_id, 0));
	hx_changes_free(&cs);
	hx_batch_free(b);
}

/*
 * A pull asking for a stream of pages: one request, pages of 30 answered back to back with its
 * request id (30, 30, 30, 10: the last says has_more false and ends the stream), then
 * nothing more; a stream asked for 3 pages stops at 3 even with more to come.
 */
static void test_pull_page_stream(void **state)
{
	struct fixture *f = *state;
	struct hx_batch *b = hx_batch_new(100, NULL, "streamed");
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT, *reply;
	Veille__V1__PullRequest pull = VEILLE__V1__PULL_REQUEST__INIT;
	static const size_t sizes[] = {30, 30, 30, 10};
	uint64_t cursor = 0;
	struct conn *c;

	assert_non_null(b);
	assert_int_equal(hx_push(&f->a, b), 0);
	c = hx_raw_open(f->e);
	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, &f->b), 0);
	pull.limit = 30;
	pull.pages = 10;
	env.request_id = 40;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_PULL;
	env.pull = &pull;
	assert_int_equal(hx_raw_send(c, &env), 0);
	for (size_t i = 0; i < 4; i++) {
		reply = hx_raw_recv(c, HX_TIMEOUT_MS);
		assert_non_null(reply);
		assert_int_equal(reply->request_id, 40);
		assert_int_equal(reply->body_case, VEILLE__V1__ENVELOPE__BODY_PULL_RESULT);
		assert_int_equal(reply->pull_result->n_changes, sizes[i]);
		assert_true(reply->pull_result->next_cursor > cursor);
		cursor = reply->pull_result->next_cursor;
		assert_int_equal(reply->pull_result->has_more, i < 3);
		wire_free(reply);
	}
	assert_null(hx_raw_recv(c, 300)); /* the stream ended with has_more false */

	/* pages 3: three pages of 10 although more remain, then the stream stops. */
	pull.limit = 10;
	pull.pages = 3;
	env.request_id = 41;
	assert_int_equal(hx_raw_send(c, &env), 0);
	for (size_t i = 0; i < 3; i++) {
		reply = hx_raw_recv(c, HX_TIMEOUT_MS);
		assert_non_null(reply);
		assert_int_equal(reply->request_id, 41);
		assert_int_equal(reply->pull_result->n_changes, 10);
		assert_true(reply->pull_result->has_more);
		wire_free(reply);
	}
	assert_null(hx_raw_recv(c, 300)); /* stopped at the third page, as asked */
	conn_close(c);
	hx_batch_free(b);
}

/* A mutation of record_id (about person), based on base. */
static void mut_on(struct hx_mut *x, const char *record_id, const char *person, uint64_t base,
		   const char *note)
{
	assert_int_equal(hx_mut_init(x, person, note), 0);
	snprintf(x->record_id, sizeof x->record_id, "%s", record_id);
	x->m.base_version = base;
}

static struct veille_op_result push_one(struct hx_device *d, struct hx_mut *x)
{
	Veille__V1__Mutation *m = &x->m;
	struct veille_op_result r;

	assert_int_equal(veille_push(d->c, &m, 1, &r), 0);
	return r;
}

/*
 * Versions of one record: A creates it (v1), corrects it on base 1 (v2); another correction
 * still based on 1 is a CONFLICT naming v2, and so is one based on a version that never
 * existed (7). B, same team, corrects on base 2 (v3). C, another structure, is FORBIDDEN to
 * touch it. A correction of a record that does not exist (base 1) is a CONFLICT at 0.
 */
static void test_corrections_and_conflicts(void **state)
{
	struct fixture *f = *state;
	struct hx_mut create, fix, stale, future, team_fix, foreign, ghost;
	struct veille_op_result r;
	struct hx_changes cs;
	const struct hx_change *ch;
	char ghost_id[33];

	assert_int_equal(hx_mut_init(&create, NULL, "first note"), 0);
	r = push_one(&f->a, &create);
	assert_int_equal(r.status, APPLIED);
	assert_int_equal(r.version, 1);

	mut_on(&fix, create.record_id, create.person_id, 1, "corrected note");
	r = push_one(&f->a, &fix);
	assert_int_equal(r.status, APPLIED);
	assert_int_equal(r.version, 2);

	mut_on(&stale, create.record_id, create.person_id, 1, "stale correction");
	r = push_one(&f->a, &stale);
	assert_int_equal(r.status, CONFLICT);
	assert_int_equal(r.version, 2);

	mut_on(&future, create.record_id, create.person_id, 7, "from the future");
	r = push_one(&f->a, &future);
	assert_int_equal(r.status, CONFLICT);
	assert_int_equal(r.version, 2);

	mut_on(&team_fix, create.record_id, create.person_id, 2, "completed by a colleague");
	r = push_one(&f->b, &team_fix);
	assert_int_equal(r.status, APPLIED);
	assert_int_equal(r.version, 3);

	mut_on(&foreign, create.record_id, create.person_id, 3, "written by another structure");
	r = push_one(&f->c, &foreign);
	assert_int_equal(r.status, REJECTED);
	assert_int_equal(r.code, FORBIDDEN);

	assert_int_equal(veille_new_record_id(ghost_id), 0);
	mut_on(&ghost, ghost_id, NULL, 1, "correction of nothing");
	r = push_one(&f->a, &ghost);
	assert_int_equal(r.status, CONFLICT);
	assert_int_equal(r.version, 0);

	/* B's feed holds the three versions, in order, with their own notes and authors. */
	pull_from_start(&f->b, 0, &cs);
	assert_int_equal(cs.n, 3);
	ch = hx_changes_find(&cs, create.record_id, 1);
	assert_non_null(ch);
	assert_string_equal(ch->note, "first note");
	ch = hx_changes_find(&cs, create.record_id, 2);
	assert_non_null(ch);
	assert_string_equal(ch->note, "corrected note");
	assert_string_equal(ch->author_id, f->a.professional_id);
	ch = hx_changes_find(&cs, create.record_id, 3);
	assert_non_null(ch);
	assert_string_equal(ch->note, "completed by a colleague");
	assert_string_equal(ch->author_id, f->b.professional_id);
	assert_true(cs.v[0].seq < cs.v[1].seq && cs.v[1].seq < cs.v[2].seq);
	hx_changes_free(&cs);

	pull_from_start(&f->c, 0, &cs);
	assert_int_equal(cs.n, 0);
	hx_changes_free(&cs);

	hx_mut_free(&create);
	hx_mut_free(&fix);
	hx_mut_free(&stale);
	hx_mut_free(&future);
	hx_mut_free(&team_fix);
	hx_mut_free(&foreign);
	hx_mut_free(&ghost);
}

/*
 * With a 1 MiB map, A and B push 4,000 encounters in pushes of 500, taking turns: the commits
 * fill the map again and again, and each time veilled grows it and commits the same group
 * again. Every op is APPLIED, and B pulls all 4,000 back.
 */
static void test_pushes_grow_the_map(void **state)
{
	struct fixture *f = *state;
	struct hx_batch *b[8];
	struct hx_changes cs;

	for (int i = 0; i < 8; i++) {
		b[i] = hx_batch_new(500, NULL, "Maraude de nuit, secteur gare de l'Est, passage long");
		assert_non_null(b[i]);
		assert_int_equal(hx_push(i % 2 ? &f->b : &f->a, b[i]), 0);
		for (size_t k = 0; k < 500; k++)
			assert_int_equal(b[i]->res[k].status, APPLIED);
	}
	pull_from_start(&f->b, 0, &cs);
	assert_int_equal(cs.n, 4000);
	for (int i = 0; i < 8; i++)
		for (size_t k = 0; k < 500; k++)
			assert_non_null(hx_changes_find(&cs, b[i]->muts[k].record_id, 1));
	hx_changes_free(&cs);
	for (int i = 0; i < 8; i++)
		hx_batch_free(b[i]);
	/* It did grow: veilled says so at the info level. */
	{
		uint8_t *log = NULL;
		size_t len = 0;

		assert_int_equal(hx_read_file(f->e->log, &log, &len), 0);
		assert_non_null(strstr((char *)log, "store: map grown"));
		free(log);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_100_dedup_and_paged_pull, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_team_or_author_rejected_others_applied,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrections_and_conflicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_ops_typed_rejections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_page_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pushes_grow_the_map, setup_small_map, teardown),
	};

	return cmocka_run_group_tests_name("integration_sync", tests, NULL, NULL);
}
