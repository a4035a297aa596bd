/* test_records: applying mutations (dedup, ordering, conflicts, domain checks) and pulling the
 * change feed, in a real store. Each test runs in one write transaction that teardown aborts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <malloc.h>
#include <sodium.h>

#include "records.h"
#include "unit.h"

#define NOW 1700000000000ull

#define APPLIED VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED
#define DUPLICATE VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE
#define CONFLICT VEILLE__V1__OP_STATUS__OP_STATUS_CONFLICT
#define REJECTED VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED

static const uint8_t DEV_A[16] = {0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t DEV_B[16] = {0xbb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const struct records_actor ACTOR_A = {DEV_A, "camille", "maraude-13", NULL, VEILLE__V1__ROLE__ROLE_MARAUDEUR, "", 0, NULL};
static const struct records_actor ACTOR_B = {DEV_B, "alex", "accueil-1", NULL, VEILLE__V1__ROLE__ROLE_MARAUDEUR, "", 0, NULL};

#define REC_1 "11111111111111111111111111111111"
#define REC_2 "22222222222222222222222222222222"
#define REC_3 "33333333333333333333333333333333"
#define REC_4 "44444444444444444444444444444444"
#define PERSON_X "0123456789abcdef0123456789abcdef"
#define PERSON_Y "fedcba9876543210fedcba9876543210"

/* A mutation with its encounter, valid unless a test changes it. */
struct mut {
	Veille__V1__Mutation m;
	Veille__V1__Encounter e;
};

static void mut_init(struct mut *x, uint64_t counter, const char *record_id, uint64_t base,
		     const char *person_id)
{
	veille__v1__mutation__init(&x->m);
	veille__v1__encounter__init(&x->e);
	x->e.person_id = (char *)person_id;
	x->e.occurred_at_ms = (int64_t)NOW - 3600000;
	x->e.note = "rencontre, duvet donné";
	x->m.op_counter = counter;
	x->m.record_id = (char *)record_id;
	x->m.base_version = base;
	x->m.record_case = VEILLE__V1__MUTATION__RECORD_ENCOUNTER;
	x->m.encounter = &x->e;
}

static struct records_result apply(struct unit_txn *f, const struct records_actor *a,
				   const struct mut *x)
{
	struct records_result res;

	assert_int_equal(records_apply(f->t, a, &x->m, NOW, &res), STORE_OK);
	return res;
}

/* Applies a fresh valid op and expects it APPLIED at version. */
static void apply_ok(struct unit_txn *f, const struct records_actor *a, uint64_t counter,
		     const char *record_id, uint64_t base, const char *person_id)
{
	struct mut x;
	struct records_result r;

	mut_init(&x, counter, record_id, base, person_id);
	r = apply(f, a, &x);
	assert_int_equal(r.status, APPLIED);
	assert_int_equal(r.version, base + 1);
}

static void expect_rejected(struct unit_txn *f, const struct records_actor *a, const struct mut *x,
			    int code)
{
	struct records_result r = apply(f, a, x);

	assert_int_equal(r.status, REJECTED);
	assert_int_equal(r.code, code);
	assert_non_null(r.reason);
}

/* ---- apply ---- */

static void test_create_then_duplicate(void **state)
{
	struct unit_txn *f = *state;
	struct mut x;
	struct records_result r;

	mut_init(&x, 1, REC_1, 0, PERSON_X);
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, APPLIED);
	assert_int_equal(r.version, 1);
	/* The same op again (same device, same counter): a retry after a lost reply. */
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, DUPLICATE);
	assert_int_equal(r.version, 1);
	/* A duplicate is recognised by its op id even if the content changed. */
	x.e.note = "autre texte";
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, DUPLICATE);
	assert_int_equal(r.version, 1);
}

static void test_same_counter_other_device_is_not_duplicate(void **state)
{
	struct unit_txn *f = *state;

	apply_ok(f, &ACTOR_A, 1, REC_1, 0, PERSON_X);
	apply_ok(f, &ACTOR_B, 1, REC_2, 0, PERSON_X);
}

static void test_counter_backwards_rejected(void **state)
{
	struct unit_txn *f = *state;
	struct mut x;

	apply_ok(f, &ACTOR_A, 5, REC_1, 0, PERSON_X);
	/* Bad input: a new op with a counter below the highest applied (5). */
	mut_init(&x, 3, REC_2, 0, PERSON_X);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* The next counter up is fine. */
	apply_ok(f, &ACTOR_A, 6, REC_2, 0, PERSON_X);
}

static void test_counter_zero_rejected(void **state)
{
	struct unit_txn *f = *state;
	struct mut x;

	/* Bad input: op_counter 0 (counters start at 1). */
	mut_init(&x, 0, REC_1, 0, PERSON_X);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
}

static void test_correction_and_conflict(void **state)
{
	struct unit_txn *f = *state;
	struct mut x;
	struct records_result r;

	apply_ok(f, &ACTOR_A, 1, REC_1, 0, PERSON_X);
	apply_ok(f, &ACTOR_A, 2, REC_1, 1, PERSON_X); /* correction: version 2 */
	/* A second correction based on version 1 (stale): CONFLICT with the current version. */
	mut_init(&x, 3, REC_1, 1, PERSON_X);
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, CONFLICT);
	assert_int_equal(r.version, 2);
	/* Creating the same record id again (base 0): CONFLICT too. */
	mut_init(&x, 4, REC_1, 0, PERSON_X);
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, CONFLICT);
	assert_int_equal(r.version, 2);
	/* Based on a version from the future. */
	mut_init(&x, 5, REC_1, 9, PERSON_X);
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, CONFLICT);
	assert_int_equal(r.version, 2);
	/* A correction based on a version of a record that does not exist. */
	mut_init(&x, 6, REC_2, 1, PERSON_X);
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, CONFLICT);
	assert_int_equal(r.version, 0);
	apply_ok(f, &ACTOR_A, 7, REC_1, 2, PERSON_X);
}

static void test_bad_ids_rejected(void **state)
{
	struct unit_txn *f = *state;
	struct mut x;

	/* Bad input: record_id in upper case. */
	mut_init(&x, 1, "ABCDEF0123456789ABCDEF0123456789", 0, PERSON_X);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: record_id of 31 hex characters. */
	mut_init(&x, 2, "1111111111111111111111111111111", 0, PERSON_X);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: record_id with a non-hex letter. */
	mut_init(&x, 3, "g1111111111111111111111111111111", 0, PERSON_X);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: empty person_id. */
	mut_init(&x, 4, REC_1, 0, "");
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: person_id that is a name, not a pseudonymous id. */
	mut_init(&x, 5, REC_1, 0, "Jean Dupont");
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* A refused op is answered once and for all: sent again, the same refusal (not applied,
	 * even with content that would now pass); nothing of REC_1 was written. */
	mut_init(&x, 5, REC_1, 0, PERSON_X);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	apply_ok(f, &ACTOR_A, 6, REC_1, 0, PERSON_X);
}

static void test_bad_fields_rejected(void **state)
{
	struct unit_txn *f = *state;
	struct mut x;
	Veille__V1__Need need_bad[2] = {VEILLE__V1__NEED__NEED_FOOD, (Veille__V1__Need)99};
	Veille__V1__Need need_zero[1] = {VEILLE__V1__NEED__NEED_UNSPECIFIED};
	Veille__V1__Service svc_bad[1] = {(Veille__V1__Service)12};
	Veille__V1__Location loc = VEILLE__V1__LOCATION__INIT;

	/* Bad input: a need value the enum does not define (99). */
	mut_init(&x, 1, REC_1, 0, PERSON_X);
	x.e.needs = need_bad;
	x.e.n_needs = 2;
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: NEED_UNSPECIFIED. */
	x.e.needs = need_zero;
	x.e.n_needs = 1;
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: a service value past the last one (12). */
	mut_init(&x, 1, REC_1, 0, PERSON_X);
	x.e.services = svc_bad;
	x.e.n_services = 1;
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: a geohash with 'a', outside the geohash alphabet. */
	mut_init(&x, 1, REC_1, 0, PERSON_X);
	loc.geohash = "u09ta";
	x.e.location = &loc;
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: occurred_at_ms of 0, negative, and two days in the future. */
	mut_init(&x, 1, REC_1, 0, PERSON_X);
	x.e.occurred_at_ms = 0;
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	x.e.occurred_at_ms = -1;
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	x.e.occurred_at_ms = (int64_t)(NOW + 2 * 24 * 3600 * 1000ull);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: a mutation without a record. */
	mut_init(&x, 1, REC_1, 0, PERSON_X);
	x.m.record_case = VEILLE__V1__MUTATION__RECORD__NOT_SET;
	x.m.encounter = NULL;
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
}

static void test_other_structure_forbidden(void **state)
{
	struct unit_txn *f = *state;
	struct mut x;

	/* Bad input: team_id naming another structure than the author's. */
	mut_init(&x, 1, REC_1, 0, PERSON_X);
	x.e.team_id = "accueil-1";
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(FORBIDDEN));
	/* Bad input: author_id naming another professional. */
	mut_init(&x, 2, REC_1, 0, PERSON_X);
	x.e.author_id = "alex";
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(FORBIDDEN));
	/* Their own ids, spelled out, are fine. */
	mut_init(&x, 3, REC_1, 0, PERSON_X);
	x.e.team_id = "maraude-13";
	x.e.author_id = "camille";
	assert_int_equal(apply(f, &ACTOR_A, &x).status, APPLIED);
	/* Bad input: a correction of A's record by B's structure. */
	mut_init(&x, 1, REC_1, 1, PERSON_X);
	expect_rejected(f, &ACTOR_B, &x, VEILLE_ERR(FORBIDDEN));
	/* Bad input: a correction that changes the person. */
	mut_init(&x, 4, REC_1, 1, PERSON_Y);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
}

/* ---- pull ---- */

struct change {
	char record_id[33];
	uint64_t version, seq;
	char team[65], author[65];
};

struct pulled {
	struct change c[16];
	int n;
};

static int collect(Veille__Store__V1__RecordVersion *rv, void *arg)
{
	struct pulled *p = arg;

	assert_true(p->n < 16);
	assert_int_equal(rv->record_case, VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER);
	snprintf(p->c[p->n].record_id, sizeof(p->c[0].record_id), "%s", rv->record_id);
	snprintf(p->c[p->n].team, sizeof(p->c[0].team), "%s", rv->encounter->team_id);
	snprintf(p->c[p->n].author, sizeof(p->c[0].author), "%s", rv->encounter->author_id);
	p->c[p->n].version = rv->version;
	p->c[p->n].seq = rv->seq;
	p->n++;
	codec_stored_free(&rv->base);
	return 0;
}

static int pull(struct unit_txn *f, const char *structure, uint64_t cursor, uint32_t limit,
		size_t budget, struct pulled *p, uint64_t *next, int *more)
{
	uint8_t aud[RECORDS_AUDIENCE_BYTES];

	memset(p, 0, sizeof(*p));
	records_audience(f->t, structure, aud);
	return records_pull(f->t, aud, cursor, limit, budget, collect, p, next, more);
}

/* A writes REC_1, REC_2, REC_3, B writes REC_4, A corrects REC_1. */
static void write_feed(struct unit_txn *f)
{
	apply_ok(f, &ACTOR_A, 1, REC_1, 0, PERSON_X);
	apply_ok(f, &ACTOR_A, 2, REC_2, 0, PERSON_Y);
	apply_ok(f, &ACTOR_B, 1, REC_4, 0, PERSON_X);
	apply_ok(f, &ACTOR_A, 3, REC_3, 0, PERSON_X);
	apply_ok(f, &ACTOR_A, 4, REC_1, 1, PERSON_X);
}

static void test_pull_in_order(void **state)
{
	struct unit_txn *f = *state;
	struct pulled p;
	uint64_t next = 99, last;
	int more = -1;

	write_feed(f);
	assert_int_equal(pull(f, "maraude-13", 0, 100, SIZE_MAX, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 4);
	assert_string_equal(p.c[0].record_id, REC_1);
	assert_int_equal(p.c[0].version, 1);
	assert_string_equal(p.c[1].record_id, REC_2);
	assert_string_equal(p.c[2].record_id, REC_3);
	assert_string_equal(p.c[3].record_id, REC_1);
	assert_int_equal(p.c[3].version, 2);
	for (int i = 0; i < p.n; i++) {
		if (i > 0)
			assert_true(p.c[i].seq > p.c[i - 1].seq);
		/* The server filled team and author from the session. */
		assert_string_equal(p.c[i].team, "maraude-13");
		assert_string_equal(p.c[i].author, "camille");
	}
	assert_int_equal(next, p.c[3].seq);
	assert_int_equal(more, 0);
	/* Nothing after the last cursor; next_cursor stays where it was. */
	last = next;
	assert_int_equal(pull(f, "maraude-13", last, 100, SIZE_MAX, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 0);
	assert_int_equal(next, last);
	assert_int_equal(more, 0);
}

static void test_pull_limit_and_cursor(void **state)
{
	struct unit_txn *f = *state;
	struct pulled p;
	uint64_t next, first_next;
	int more;

	write_feed(f);
	assert_int_equal(pull(f, "maraude-13", 0, 2, SIZE_MAX, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 2);
	assert_int_equal(more, 1);
	assert_int_equal(next, p.c[1].seq);
	assert_string_equal(p.c[1].record_id, REC_2);
	first_next = next;
	assert_int_equal(pull(f, "maraude-13", first_next, 2, SIZE_MAX, &p, &next, &more),
			 STORE_OK);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.c[0].record_id, REC_3);
	assert_string_equal(p.c[1].record_id, REC_1);
	/* Exactly at the end: has_more is 0 because no change remains. */
	assert_int_equal(more, 0);
	/* A cursor past everything, and the largest cursor. */
	assert_int_equal(pull(f, "maraude-13", 1000, 2, SIZE_MAX, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 0);
	assert_int_equal(next, 1000);
	assert_int_equal(pull(f, "maraude-13", UINT64_MAX, 2, SIZE_MAX, &p, &next, &more),
			 STORE_OK);
	assert_int_equal(p.n, 0);
	assert_int_equal(more, 0);
}

static void test_pull_byte_budget(void **state)
{
	struct unit_txn *f = *state;
	struct pulled p;
	uint64_t next;
	int more;

	write_feed(f);
	/* A budget of one byte still passes one change (progress is guaranteed). */
	assert_int_equal(pull(f, "maraude-13", 0, 100, 1, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 1);
	assert_int_equal(more, 1);
	assert_int_equal(next, p.c[0].seq);
}

static void test_pull_other_audience_sees_nothing_of_ours(void **state)
{
	struct unit_txn *f = *state;
	struct pulled p;
	uint64_t next;
	int more;

	write_feed(f);
	assert_int_equal(pull(f, "accueil-1", 0, 100, SIZE_MAX, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.c[0].record_id, REC_4);
	assert_string_equal(p.c[0].team, "accueil-1");
	/* A structure that wrote nothing sees nothing. */
	assert_int_equal(pull(f, "siao-75", 0, 100, SIZE_MAX, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 0);
	assert_int_equal(next, 0);
	assert_int_equal(more, 0);
}

/*
 * Issue 13. Bad input: a maraudeur's encounter with a health note is REJECTED FORBIDDEN and
 * nothing of it is stored (no version, nothing in the feed); sent again, the same answer. The
 * same encounter with an empty health note is applied; a correction of it adding a health note
 * is refused and the version stays. A professionnel de santé of the same maraude writes one.
 */
static void test_health_note_only_from_health_professionals(void **state)
{
	static const uint8_t DEV_H[16] = {0xcc, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
	static const struct records_actor ACTOR_H = {
		DEV_H, "helene", "maraude-13", NULL, VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE,
		"", 0, NULL};
	struct unit_txn *f = *state;
	struct records_result r;
	struct pulled p;
	struct mut x;
	uint64_t next;
	int more;

	mut_init(&x, 1, REC_1, 0, PERSON_X);
	x.e.health_note = "plaie à la jambe";
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, REJECTED);
	assert_int_equal(r.code, VEILLE_ERR(FORBIDDEN));
	assert_string_equal(r.reason, "health fields are for health professionals");
	assert_int_equal(r.version, 0);
	assert_int_equal(pull(f, "maraude-13", 0, 100, SIZE_MAX, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 0);
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, REJECTED);
	assert_int_equal(r.code, VEILLE_ERR(FORBIDDEN));

	mut_init(&x, 2, REC_1, 0, PERSON_X);
	x.e.health_note = "";
	assert_int_equal(apply(f, &ACTOR_A, &x).status, APPLIED);
	mut_init(&x, 3, REC_1, 1, PERSON_X);
	x.e.health_note = "plaie à la jambe";
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(FORBIDDEN));
	apply_ok(f, &ACTOR_A, 4, REC_1, 1, PERSON_X); /* still at version 1 */

	mut_init(&x, 1, REC_2, 0, PERSON_X);
	x.e.health_note = "plaie à la jambe";
	assert_int_equal(apply(f, &ACTOR_H, &x).status, APPLIED);
	assert_int_equal(pull(f, "maraude-13", 0, 100, SIZE_MAX, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 3); /* REC_1 versions 1 and 2, REC_2 */
	assert_string_equal(p.c[2].record_id, REC_2);
	assert_string_equal(p.c[2].author, "helene");
}

static void test_audience(void **state)
{
	struct unit_txn *f = *state;
	uint8_t a1[RECORDS_AUDIENCE_BYTES], a2[RECORDS_AUDIENCE_BYTES], b[RECORDS_AUDIENCE_BYTES];

	records_audience(f->t, "maraude-13", a1);
	records_audience(f->t, "maraude-13", a2);
	records_audience(f->t, "maraude-14", b);
	assert_memory_equal(a1, a2, sizeof(a1));
	assert_memory_not_equal(a1, b, sizeof(a1));
}

static void shred(struct unit_txn *f, const char *person_hex)
{
	uint8_t pid[STORE_ID_BYTES];

	assert_int_equal(records_parse_id(person_hex, pid), 0);
	assert_int_equal(store_shred_person(f->t, pid), STORE_OK);
}

static void test_pull_skips_shredded_person(void **state)
{
	struct unit_txn *f = *state;
	struct pulled p;
	uint64_t next;
	int more;

	write_feed(f);
	shred(f, PERSON_Y); /* REC_2 is about PERSON_Y */
	assert_int_equal(pull(f, "maraude-13", 0, 100, SIZE_MAX, &p, &next, &more), STORE_OK);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.c[0].record_id, REC_1);
	assert_string_equal(p.c[1].record_id, REC_3);
	assert_string_equal(p.c[2].record_id, REC_1);
	assert_int_equal(next, p.c[2].seq);
}

/* store_get of one record version, for its error code. */
/* The records key (sequence number) of a record's current version, from its head; checks
 * that the current version is the one expected. */
static void current_key(struct unit_txn *f, const char *record_id, uint64_t version,
			uint8_t key[8])
{
	uint8_t rid[STORE_ID_BYTES];
	const void *v;
	size_t vlen;

	assert_int_equal(records_parse_id(record_id, rid), 0);
	assert_int_equal(store_get_plain(f->t, STORE_DB_HEADS, rid, sizeof(rid), &v, &vlen), STORE_OK);
	assert_int_equal(vlen, 8 + 2 * STORE_ID_BYTES + 8);
	assert_int_equal(store_be64_get(v), version);
	memcpy(key, (const uint8_t *)v + 8 + 2 * STORE_ID_BYTES, 8);
}

static int get_record(struct unit_txn *f, const char *record_id, uint64_t version)
{
	uint8_t key[8];
	struct store_buf b = {0};
	int rc;

	current_key(f, record_id, version, key);
	rc = store_get(f->t, STORE_DB_RECORDS, key, sizeof(key), &b);
	store_buf_free(&b);
	return rc;
}

/* A record that fails to open fails the whole pull (records.h), and leaks nothing: measured
 * by LeakSanitizer under the sanitizers, by the heap over 1000 pulls in the default build.
 * Bad input: REC_2 v1's sealed bytes replaced with REC_1 v2's (a value moved to another key,
 * copied with the plain API so no raw LMDB is needed). */
static void test_pull_forged_record_is_an_error(void **state)
{
	struct unit_txn *f = *state;
	uint8_t k1[8], k2[8], *copy;
	const void *v;
	size_t vlen;
	struct pulled p;
	uint64_t next;
	int more, rc;
	struct mallinfo2 before, after;

	write_feed(f);
	current_key(f, REC_1, 2, k1);
	current_key(f, REC_2, 1, k2);
	assert_int_equal(store_get_plain(f->t, STORE_DB_RECORDS, k1, sizeof(k1), &v, &vlen),
			 STORE_OK);
	copy = malloc(vlen);
	assert_non_null(copy);
	memcpy(copy, v, vlen);
	assert_int_equal(store_put_plain(f->t, STORE_DB_RECORDS, k2, sizeof(k2), copy, vlen, 0),
			 STORE_OK);
	free(copy);
	assert_int_equal(get_record(f, REC_2, 1), STORE_EFORGED);

	rc = pull(f, "maraude-13", 0, 100, SIZE_MAX, &p, &next, &more);
	assert_int_equal(rc, STORE_EFORGED);
	/* The leak, measured without a sanitizer: glibc's per-thread caches make one pull's
	 * heap delta noisy, so pull 1000 times; a leak of >= 32 bytes each grows the heap by
	 * >= 32000 bytes, the caches by a bounded few KiB at most. */
	before = mallinfo2();
	for (int i = 0; i < 1000; i++)
		assert_int_equal(pull(f, "maraude-13", 0, 100, SIZE_MAX, &p, &next, &more),
				 STORE_EFORGED);
	after = mallinfo2();
	if (!UNIT_SANITIZED)
		assert_true(after.uordblks <= before.uordblks + 32000);
}

/* After a person is erased, an op about them (e.g. an offline device pushing an encounter
 * queued before the erasure) is rejected, and the feed still pulls, without the erased records. */
static void test_pull_after_shred_and_rewrite(void **state)
{
	struct unit_txn *f = *state;
	struct pulled p;
	struct mut x;
	uint64_t next;
	int more, rc;

	write_feed(f);
	shred(f, PERSON_Y);
	/* Bad input: a new encounter about the erased person. */
	mut_init(&x, 5, "55555555555555555555555555555555", 0, PERSON_Y);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(FORBIDDEN));
	assert_int_equal(get_record(f, REC_2, 1), STORE_ESHREDDED);
	rc = pull(f, "maraude-13", 0, 100, SIZE_MAX, &p, &next, &more);
	assert_int_equal(rc, STORE_OK);
	assert_int_equal(p.n, 3); /* REC_1, REC_3, REC_1 v2; not the erased REC_2 */
}

static void test_parse_id(void **state)
{
	uint8_t id[STORE_ID_BYTES];

	(void)state;
	assert_int_equal(records_parse_id("000102030405060708090a0b0c0d0eff", id), 0);
	assert_int_equal(id[0], 0);
	assert_int_equal(id[10], 0x0a);
	assert_int_equal(id[15], 0xff);
	/* Bad inputs: upper case, 33 characters, 31 characters, a non-hex character. */
	assert_int_equal(records_parse_id("000102030405060708090A0B0C0D0EFF", id), -1);
	assert_int_equal(records_parse_id("000102030405060708090a0b0c0d0eff0", id), -1);
	assert_int_equal(records_parse_id("000102030405060708090a0b0c0d0ef", id), -1);
	assert_int_equal(records_parse_id("000102030405060708090a0b0c0d0ex0", id), -1);
	assert_int_equal(records_parse_id("", id), -1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, unit_txn_setup, unit_txn_teardown)
	const struct CMUnitTest tests[] = {
		T(test_create_then_duplicate),
		T(test_same_counter_other_device_is_not_duplicate),
		T(test_counter_backwards_rejected),
		T(test_counter_zero_rejected),
		T(test_correction_and_conflict),
		T(test_bad_ids_rejected),
		T(test_bad_fields_rejected),
		T(test_other_structure_forbidden),
		T(test_health_note_only_from_health_professionals),
		T(test_pull_in_order),
		T(test_pull_limit_and_cursor),
		T(test_pull_byte_budget),
		T(test_pull_other_audience_sees_nothing_of_ours),
		T(test_audience),
		T(test_pull_skips_shredded_person),
		T(test_pull_after_shred_and_rewrite),
		T(test_pull_forged_record_is_an_error),
		cmocka_unit_test(test_parse_id),
	};
#undef T

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
