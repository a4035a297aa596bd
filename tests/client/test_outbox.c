/*
 * Unit tests of outbox.c and replica.c on a real local store: counters and stamps given in
 * the transaction that queues an op, batches bounded by count and bytes, results settled
 * (problems kept, acked person edits folded in), pulled pages stored idempotently with the
 * cursor, and the device's view of a record with its pending edits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hlc.h"
#include "outbox.h"
#include "replica.h"
#include "local.h"
#include "local_fixture.h"

#define NICK VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME
#define ANIMAL VEILLE__V1__PERSON_FIELD__PERSON_FIELD_ANIMAL
#define APPLIED VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED
#define REJECTED VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED
#define PERSON_ID "0123456789abcdef0123456789abcdef"

static const uint8_t key[LOCAL_KEY_BYTES] = { 7 };
static const uint8_t me[16] = { 0xde, 0xad };
static const uint8_t other[16] = { 0xff };

static int setup(void **state)
{
	return local_fixture_open(state, key);
}

#define teardown local_fixture_close

struct enc {
	Veille__V1__Mutation m;
	Veille__V1__Encounter e;
	char id[33];
};

static Veille__V1__Mutation *enc_init(struct enc *x, int i, const char *note)
{
	veille__v1__mutation__init(&x->m);
	veille__v1__encounter__init(&x->e);
	snprintf(x->id, sizeof x->id, "%032x", i + 1);
	x->e.person_id = PERSON_ID;
	x->e.note = (char *)(note ? note : "");
	x->m.record_id = x->id;
	x->m.record_case = VEILLE__V1__MUTATION__RECORD_ENCOUNTER;
	x->m.encounter = &x->e;
	return &x->m;
}

struct edit {
	Veille__V1__Mutation m;
	Veille__V1__Person p;
	Veille__V1__PersonFieldValue v[2];
	Veille__V1__PersonFieldValue *ptr[2];
};

static Veille__V1__Mutation *edit_init(struct edit *x, const char *nick)
{
	veille__v1__mutation__init(&x->m);
	veille__v1__person__init(&x->p);
	for (int i = 0; i < 2; i++) {
		veille__v1__person_field_value__init(&x->v[i]);
		x->ptr[i] = &x->v[i];
	}
	x->v[0].field = NICK;
	x->v[0].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
	x->v[0].text = (char *)nick;
	x->v[1].field = ANIMAL;
	x->v[1].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
	x->v[1].flag = 1;
	x->p.n_fields = 2;
	x->p.fields = x->ptr;
	x->m.record_id = PERSON_ID;
	x->m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	x->m.person = &x->p;
	return &x->m;
}

static int meta_txn(struct local_txn *t, void *arg)
{
	uint64_t *v = arg;
	struct hlc h;
	int rc;

	if ((rc = local_get_u64(t, LOCAL_META_OP_COUNTER, &v[0], NULL)) ||
	    (rc = local_get_u64(t, LOCAL_META_PULL_CURSOR, &v[1], NULL)) ||
	    (rc = local_get_u64(t, LOCAL_META_LAST_SYNC, &v[2], NULL)) ||
	    (rc = replica_clock_load(t, &h)))
		return rc;
	v[3] = h.wall_ms;
	v[4] = h.counter;
	return 0;
}

/* op_counter, pull_cursor, last_sync, clock wall, clock counter. */
static void meta(struct fx *f, uint64_t v[5])
{
	assert_int_equal(local_read(f->l, meta_txn, v, NULL), 0);
}

static void test_add_gives_counters_and_stamps(void **state)
{
	struct fx *f = *state;
	struct enc e;
	struct edit p;
	Veille__V1__Mutation *muts[2] = { enc_init(&e, 0, "n"), edit_init(&p, "Jo") };
	struct outbox_batch b;
	uint64_t v[5];
	size_t ops, problems;

	assert_int_equal(outbox_add(f->l, me, muts, 2, 5000, NULL), 0);
	assert_int_equal(e.m.op_counter, 1);
	assert_int_equal(p.m.op_counter, 2);
	/* The caller's mutation is not left pointing at the library's stamps. */
	assert_null(p.v[0].hlc);
	assert_int_equal(p.m.device_id.len, 0);
	meta(f, v);
	assert_int_equal(v[0], 2);
	assert_int_equal(v[3], 5000);
	assert_int_equal(v[4], 0);
	assert_int_equal(outbox_count(f->l, &ops, &problems, NULL), 0);
	assert_int_equal(ops, 2);
	assert_int_equal(problems, 0);

	/* A second edit in the same millisecond, and one with the clock gone back. */
	p.m.op_counter = 0;
	assert_int_equal(outbox_add(f->l, me, muts + 1, 1, 5000, NULL), 0);
	p.m.op_counter = 0;
	assert_int_equal(outbox_add(f->l, me, muts + 1, 1, 4000, NULL), 0);
	meta(f, v);
	assert_int_equal(v[0], 4);
	assert_int_equal(v[3], 5000);
	assert_int_equal(v[4], 2);

	assert_int_equal(outbox_next_batch(f->l, 0, OUTBOX_MAX_BATCH_BYTES, &b, NULL), 0);
	assert_int_equal(b.n, 4);
	for (size_t i = 0; i < b.n; i++) {
		assert_int_equal(b.ops[i]->op_counter, i + 1);
		assert_int_equal(b.ops[i]->device_id.len, 16);
		assert_memory_equal(b.ops[i]->device_id.data, me, 16);
	}
	assert_int_equal(b.ops[0]->record_case, VEILLE__V1__MUTATION__RECORD_ENCOUNTER);
	for (size_t i = 1; i < 4; i++) {
		const Veille__V1__Person *q = b.ops[i]->person;

		assert_int_equal(q->n_fields, 2);
		/* One edit, one stamp, for all its fields. */
		assert_non_null(q->fields[0]->hlc);
		assert_int_equal(q->fields[0]->hlc->wall_ms, 5000);
		assert_int_equal(q->fields[0]->hlc->counter, i - 1);
		assert_int_equal(q->fields[1]->hlc->counter, i - 1);
		assert_memory_equal(q->fields[0]->hlc->device_id.data, me, 16);
	}
	outbox_batch_free(&b);
}

static void test_unfit_ops_are_refused_whole(void **state)
{
	struct fx *f = *state;
	struct enc e[3];
	struct edit p;
	Veille__V1__Mutation *muts[3] = { enc_init(&e[0], 0, NULL), enc_init(&e[1], 1, NULL),
					  enc_init(&e[2], 2, NULL) };
	struct veille_error err;
	size_t ops;
	static char huge[OUTBOX_MAX_OP_BYTES + 1];

	e[2].m.record_id = "NOT-HEX";
	assert_int_equal(outbox_add(f->l, me, muts, 3, 1, &err), VEILLE_EARG);
	assert_non_null(strstr(err.message, "mutation 2"));
	assert_int_equal(e[0].m.op_counter, 0);
	e[2].m.record_id = e[2].id;
	e[1].m.op_counter = 5;
	assert_int_equal(outbox_add(f->l, me, muts, 3, 1, NULL), VEILLE_EARG);
	e[1].m.op_counter = 0;
	edit_init(&p, "x");
	p.p.n_fields = 0;
	muts[0] = &p.m;
	assert_int_equal(outbox_add(f->l, me, muts, 1, 1, NULL), VEILLE_EARG);
	memset(huge, 'x', sizeof huge - 1);
	e[0].e.note = huge;
	muts[0] = &e[0].m;
	assert_int_equal(outbox_add(f->l, me, muts, 3, 1, NULL), VEILLE_ETOOBIG);
	assert_int_equal(e[1].m.op_counter, 0); /* all or none */
	assert_int_equal(outbox_count(f->l, &ops, NULL, NULL), 0);
	assert_int_equal(ops, 0);
}

static void test_reserve_only_with_empty_outbox(void **state)
{
	struct fx *f = *state;
	struct enc e;
	Veille__V1__Mutation *m = enc_init(&e, 0, NULL);
	struct outbox_batch b;
	struct veille_op_result r = { .status = APPLIED, .version = 1 };
	uint64_t first = 0;

	assert_int_equal(outbox_reserve(f->l, 3, &first, NULL), 0);
	assert_int_equal(first, 1);
	assert_int_equal(outbox_add(f->l, me, &m, 1, 1, NULL), 0);
	assert_int_equal(e.m.op_counter, 4);
	assert_int_equal(outbox_reserve(f->l, 1, &first, NULL), VEILLE_EARG);
	assert_int_equal(outbox_next_batch(f->l, 0, OUTBOX_MAX_BATCH_BYTES, &b, NULL), 0);
	r.op_counter = 4;
	assert_int_equal(outbox_settle(f->l, &b, &r, 1, NULL), 0);
	outbox_batch_free(&b);
	assert_int_equal(outbox_reserve(f->l, 2, &first, NULL), 0);
	assert_int_equal(first, 5);
}

static void test_batches_bounded_by_count_and_bytes(void **state)
{
	struct fx *f = *state;
	static struct enc e[20];
	static char note[100 * 1024];
	Veille__V1__Mutation *muts[20];
	struct outbox_batch b;

	memset(note, 'n', sizeof note - 1);
	for (int i = 0; i < 20; i++)
		muts[i] = enc_init(&e[i], i, i < 10 ? note : "short");
	assert_int_equal(outbox_add(f->l, me, muts, 20, 1, NULL), 0);
	/* 100 KiB ops: 5 fit in 512 KiB. */
	assert_int_equal(outbox_next_batch(f->l, 0, OUTBOX_MAX_BATCH_BYTES, &b, NULL), 0);
	assert_int_equal(b.n, 5);
	assert_true(b.bytes <= OUTBOX_MAX_BATCH_BYTES);
	outbox_batch_free(&b);
	assert_int_equal(outbox_next_batch(f->l, 3, OUTBOX_MAX_BATCH_BYTES, &b, NULL), 0);
	assert_int_equal(b.n, 3);
	outbox_batch_free(&b);
	/* One op over the byte budget still goes alone. */
	assert_int_equal(outbox_next_batch(f->l, 0, 10, &b, NULL), 0);
	assert_int_equal(b.n, 1);
	outbox_batch_free(&b);
}

struct problem_seen {
	size_t n;
	uint64_t op;
	char reason[128];
};

static int on_problem(const Veille__Client__V1__Problem *p, void *arg)
{
	struct problem_seen *s = arg;

	s->n++;
	s->op = p->op->op_counter;
	snprintf(s->reason, sizeof s->reason, "%s", p->result->reason);
	return 0;
}

static void test_settle(void **state)
{
	struct fx *f = *state;
	struct enc e[2];
	struct edit p;
	Veille__V1__Mutation *muts[3] = { enc_init(&e[0], 0, NULL), edit_init(&p, "Jo"),
					  enc_init(&e[1], 1, NULL) };
	struct veille_op_result r[3] = {
		{ .op_counter = 1, .status = APPLIED, .version = 1 },
		{ .op_counter = 2, .status = APPLIED, .version = 1 },
		{ .op_counter = 3, .status = REJECTED, .code = 4, .reason = "note too long" },
	};
	struct problem_seen seen = { 0 };
	struct outbox_batch b;
	Veille__V1__Change *ch = NULL;
	size_t ops, problems, pending;

	assert_int_equal(outbox_add(f->l, me, muts, 3, 1234, NULL), 0);
	assert_int_equal(outbox_next_batch(f->l, 0, OUTBOX_MAX_BATCH_BYTES, &b, NULL), 0);
	/* Before the push, the device sees its own pending edit. */
	assert_int_equal(replica_get(f->l, PERSON_ID, &ch, &pending, NULL), 0);
	assert_non_null(ch);
	assert_int_equal(pending, 1);
	assert_int_equal(ch->version, 0);
	assert_string_equal(ch->person->fields[0]->text, "Jo");
	veille__v1__change__free_unpacked(ch, NULL);

	assert_int_equal(outbox_settle(f->l, &b, r, 99, NULL), 0);
	outbox_batch_free(&b);
	assert_int_equal(outbox_count(f->l, &ops, &problems, NULL), 0);
	assert_int_equal(ops, 0);
	assert_int_equal(problems, 1);
	assert_int_equal(outbox_problems(f->l, 0, on_problem, &seen, NULL), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.op, 3);
	assert_string_equal(seen.reason, "note too long");
	/* The acked edit is folded into the held profile. */
	assert_int_equal(replica_get(f->l, PERSON_ID, &ch, &pending, NULL), 0);
	assert_non_null(ch);
	assert_int_equal(pending, 0);
	assert_int_equal(ch->person->n_fields, 2);
	assert_int_equal(ch->person->fields[0]->hlc->wall_ms, 1234);
	veille__v1__change__free_unpacked(ch, NULL);
	assert_int_equal(replica_get(f->l, "ffffffffffffffffffffffffffffffff", &ch, &pending, NULL),
			 0);
	assert_null(ch);
	assert_int_equal(outbox_problems_clear(f->l, NULL), 0);
	assert_int_equal(outbox_count(f->l, &ops, &problems, NULL), 0);
	assert_int_equal(problems, 0);
}

/* One pulled page stored alone. */
static int store_one(struct local *l, const Veille__V1__PullResult *page, int mark_synced,
		     uint64_t now_ms, uint64_t *cursor, struct veille_error *err)
{
	return replica_store_pages(l, &page, 1, mark_synced, now_ms, cursor, err);
}

/* Pulled pages: idempotent, newest version kept, cursor never lowered, clock advanced;
 * several pages stored in one transaction. */
static void test_store_pages(void **state)
{
	struct fx *f = *state;
	Veille__V1__Change c1 = VEILLE__V1__CHANGE__INIT, c2 = VEILLE__V1__CHANGE__INIT;
	Veille__V1__Change cp = VEILLE__V1__CHANGE__INIT, *ch = NULL, *changes[3];
	Veille__V1__Encounter e1 = VEILLE__V1__ENCOUNTER__INIT, e2 = VEILLE__V1__ENCOUNTER__INIT;
	Veille__V1__PullResult page = VEILLE__V1__PULL_RESULT__INIT;
	Veille__V1__Person person = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue nick = VEILLE__V1__PERSON_FIELD_VALUE__INIT, *fp = &nick;
	Veille__V1__Hlc h = VEILLE__V1__HLC__INIT;
	uint64_t cursor, v[5];
	size_t pending;

	e1.note = "v1";
	e2.note = "v2";
	c1.record_id = c2.record_id = "00000000000000000000000000000001";
	c1.seq = 1;
	c1.version = 1;
	c1.record_case = c2.record_case = VEILLE__V1__CHANGE__RECORD_ENCOUNTER;
	c1.encounter = &e1;
	c2.seq = 2;
	c2.version = 2;
	c2.encounter = &e2;
	h.wall_ms = 9000;
	h.counter = 5;
	h.device_id.data = (uint8_t *)other;
	h.device_id.len = 16;
	nick.field = NICK;
	nick.hlc = &h;
	nick.value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
	nick.text = "Joe";
	person.n_fields = 1;
	person.fields = &fp;
	person.team_id = "team";
	cp.seq = 3;
	cp.version = 4;
	cp.record_id = PERSON_ID;
	cp.record_case = VEILLE__V1__CHANGE__RECORD_PERSON;
	cp.person = &person;

	changes[0] = &c2;
	changes[1] = &c1; /* older, after the newer: ignored */
	changes[2] = &cp;
	page.changes = changes;
	page.n_changes = 3;
	page.next_cursor = 10;
	assert_int_equal(store_one(f->l, &page, 0, 77, &cursor, NULL), 0);
	assert_int_equal(cursor, 10);
	assert_int_equal(store_one(f->l, &page, 1, 77, &cursor, NULL), 0); /* again */
	page.n_changes = 0;
	page.next_cursor = 5;
	assert_int_equal(store_one(f->l, &page, 0, 78, &cursor, NULL), 0);
	assert_int_equal(cursor, 10);
	meta(f, v);
	assert_int_equal(v[1], 10);
	assert_int_equal(v[2], 77);
	assert_int_equal(v[3], 9000); /* L = max(L, stamps seen) */
	assert_int_equal(v[4], 5);

	assert_int_equal(replica_get(f->l, c1.record_id, &ch, &pending, NULL), 0);
	assert_int_equal(ch->version, 2);
	assert_string_equal(ch->encounter->note, "v2");
	veille__v1__change__free_unpacked(ch, NULL);
	assert_int_equal(replica_get(f->l, PERSON_ID, &ch, &pending, NULL), 0);
	assert_int_equal(ch->version, 4);
	assert_string_equal(ch->person->team_id, "team");
	assert_string_equal(ch->person->fields[0]->text, "Joe");
	veille__v1__change__free_unpacked(ch, NULL);

	/* Two pages in one transaction, in order: the second's version wins, its cursor stays. */
	{
		Veille__V1__Change c3 = c2, c4 = c2, *ch3 = &c3, *ch4 = &c4;
		Veille__V1__Encounter e3 = e2, e4 = e2;
		Veille__V1__PullResult p1 = VEILLE__V1__PULL_RESULT__INIT, p2 = p1;
		const Veille__V1__PullResult *group[2] = { &p1, &p2 };

		e3.note = "v3";
		e4.note = "v4";
		c3.encounter = &e3;
		c3.version = 3;
		c4.encounter = &e4;
		c4.version = 4;
		p1.changes = &ch3;
		p1.n_changes = 1;
		p1.next_cursor = 11;
		p2.changes = &ch4;
		p2.n_changes = 1;
		p2.next_cursor = 12;
		assert_int_equal(replica_store_pages(f->l, group, 2, 0, 79, &cursor, NULL), 0);
		assert_int_equal(cursor, 12);
		assert_int_equal(replica_get(f->l, c1.record_id, &ch, &pending, NULL), 0);
		assert_int_equal(ch->version, 4);
		assert_string_equal(ch->encounter->note, "v4");
		veille__v1__change__free_unpacked(ch, NULL);
	}
}

/* An edit made after seeing a later stamp is stamped after it, and wins where it should. */
static void test_local_edit_after_pull(void **state)
{
	struct fx *f = *state;
	Veille__V1__Change cp = VEILLE__V1__CHANGE__INIT, *ch = NULL, *changes[1] = { &cp };
	Veille__V1__PullResult page = VEILLE__V1__PULL_RESULT__INIT;
	Veille__V1__Person person = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue nick = VEILLE__V1__PERSON_FIELD_VALUE__INIT, *fp = &nick;
	Veille__V1__Hlc h = VEILLE__V1__HLC__INIT;
	struct edit p;
	Veille__V1__Mutation *m = edit_init(&p, "Jojo");
	uint64_t cursor;
	size_t pending;

	h.wall_ms = 50000; /* another device with a clock ahead of ours */
	h.device_id.data = (uint8_t *)other;
	h.device_id.len = 16;
	nick.field = NICK;
	nick.hlc = &h;
	nick.value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
	nick.text = "Joe";
	person.n_fields = 1;
	person.fields = &fp;
	cp.seq = 1;
	cp.version = 1;
	cp.record_id = PERSON_ID;
	cp.record_case = VEILLE__V1__CHANGE__RECORD_PERSON;
	cp.person = &person;
	page.changes = changes;
	page.n_changes = 1;
	page.next_cursor = 1;
	assert_int_equal(store_one(f->l, &page, 0, 1, &cursor, NULL), 0);
	assert_int_equal(outbox_add(f->l, me, &m, 1, 1000, NULL), 0);
	assert_int_equal(replica_get(f->l, PERSON_ID, &ch, &pending, NULL), 0);
	assert_int_equal(pending, 1);
	assert_string_equal(ch->person->fields[0]->text, "Jojo");
	assert_int_equal(ch->person->fields[0]->hlc->wall_ms, 50000);
	assert_int_equal(ch->person->fields[0]->hlc->counter, 1);
	veille__v1__change__free_unpacked(ch, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_gives_counters_and_stamps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unfit_ops_are_refused_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_only_with_empty_outbox, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batches_bounded_by_count_and_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_edit_after_pull, setup, teardown),
	};

	return cmocka_run_group_tests_name("client_unit_outbox", tests, NULL, NULL);
}
