/* test_person: per-field last-writer-wins merge of person profiles on Hlc stamps (docs/sync.md),
 * through records_apply and records_pull on a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>

#include "records.h"
#include "unit.h"

#define NOW 1700000000000ull
#define APPLIED VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED
#define DUPLICATE VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE
#define REJECTED VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED
#define F(name) VEILLE__V1__PERSON_FIELD__PERSON_FIELD_##name

static const uint8_t DEV_A[16] = {0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t DEV_B[16] = {0xbb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t DEV_C[16] = {0xcc, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
/* A and B: two phones of the same maraude; C: a phone of another structure. */
static const struct records_actor ACTOR_A = {DEV_A, "camille", "maraude-13", NULL, VEILLE__V1__ROLE__ROLE_MARAUDEUR, "", 0, NULL};
static const struct records_actor ACTOR_B = {DEV_B, "yanis", "maraude-13", NULL, VEILLE__V1__ROLE__ROLE_MARAUDEUR, "", 0, NULL};
static const struct records_actor ACTOR_C = {DEV_C, "alex", "accueil-1", NULL, VEILLE__V1__ROLE__ROLE_MARAUDEUR, "", 0, NULL};

#define PERSON_P "0123456789abcdef0123456789abcdef"

/* A person mutation of up to four fields, each with its own stamp. */
struct pmut {
	Veille__V1__Mutation m;
	Veille__V1__Person p;
	Veille__V1__PersonFieldValue f[4];
	Veille__V1__PersonFieldValue *fp[4];
	Veille__V1__Hlc h[4];
};

static void pmut_init(struct pmut *x, uint64_t counter)
{
	memset(x, 0, sizeof(*x));
	veille__v1__mutation__init(&x->m);
	veille__v1__person__init(&x->p);
	x->m.op_counter = counter;
	x->m.record_id = PERSON_P;
	x->m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	x->m.person = &x->p;
	x->p.fields = x->fp;
}

/* Adds a field stamped (wall, counter, device). */
static Veille__V1__PersonFieldValue *pmut_field(struct pmut *x, int field, uint64_t wall,
						uint32_t counter, const uint8_t dev[16])
{
	size_t i = x->p.n_fields++;

	veille__v1__person_field_value__init(&x->f[i]);
	veille__v1__hlc__init(&x->h[i]);
	x->h[i].wall_ms = wall;
	x->h[i].counter = counter;
	x->h[i].device_id.data = (uint8_t *)dev;
	x->h[i].device_id.len = 16;
	x->f[i].field = field;
	x->f[i].hlc = &x->h[i];
	x->fp[i] = &x->f[i];
	return &x->f[i];
}

static void set_text(Veille__V1__PersonFieldValue *f, const char *text)
{
	f->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
	f->text = (char *)text;
}

static void set_flag(Veille__V1__PersonFieldValue *f, int flag)
{
	f->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
	f->flag = flag;
}

static struct records_result apply(struct unit_txn *f, const struct records_actor *a,
				   const struct pmut *x)
{
	struct records_result res;

	assert_int_equal(records_apply(f->t, a, &x->m, NOW, &res), STORE_OK);
	return res;
}

/* The newest version of P held by the structure, as pulled (caller frees); NULL if none. */
struct newest {
	Veille__Store__V1__RecordVersion *rv;
	int count;
};

static int keep_newest(Veille__Store__V1__RecordVersion *rv, void *arg)
{
	struct newest *n = arg;

	if (n->rv)
		codec_stored_free(&n->rv->base);
	n->rv = rv;
	n->count++;
	return 0;
}

static struct newest pull_person(struct unit_txn *f, const char *structure)
{
	uint8_t aud[RECORDS_AUDIENCE_BYTES];
	struct newest n = {0};
	uint64_t next;
	int more;

	records_audience(f->t, structure, aud);
	assert_int_equal(records_pull(f->t, aud, 0, 100, SIZE_MAX, keep_newest, &n, &next, &more),
			 STORE_OK);
	return n;
}

static const Veille__V1__PersonFieldValue *field_of(const Veille__V1__Person *p, int field)
{
	for (size_t i = 0; i < p->n_fields; i++)
		if ((int)p->fields[i]->field == field)
			return p->fields[i];
	return NULL;
}

/* The example of docs/sync.md: NICKNAME "Jo" at (1000,0,A); offline, A sets "Jojo" at
 * (5000,0,A), B sets "Joe" at (5000,0,B) and ANIMAL at (5000,1,B). */
static void example_ops(struct pmut *base, struct pmut *from_a, struct pmut *from_b)
{
	pmut_init(base, 1);
	set_text(pmut_field(base, F(NICKNAME), 1000, 0, DEV_A), "Jo");
	pmut_init(from_a, 2);
	set_text(pmut_field(from_a, F(NICKNAME), 5000, 0, DEV_A), "Jojo");
	pmut_init(from_b, 1);
	set_text(pmut_field(from_b, F(NICKNAME), 5000, 0, DEV_B), "Joe");
	set_flag(pmut_field(from_b, F(ANIMAL), 5000, 1, DEV_B), 1);
}

static void check_example_result(struct unit_txn *f)
{
	struct newest n = pull_person(f, "maraude-13");
	const Veille__V1__PersonFieldValue *nick, *animal;

	assert_non_null(n.rv);
	assert_int_equal(n.rv->record_case, VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON);
	nick = field_of(n.rv->person, F(NICKNAME));
	animal = field_of(n.rv->person, F(ANIMAL));
	assert_non_null(nick);
	assert_string_equal(nick->text, "Joe");
	assert_memory_equal(nick->hlc->device_id.data, DEV_B, 16);
	assert_non_null(animal);
	assert_true(animal->flag);
	assert_string_equal(n.rv->person->team_id, "maraude-13");
	codec_stored_free(&n.rv->base);
}

static void test_example_a_then_b(void **state)
{
	struct unit_txn *f = *state;
	struct pmut base, a, b;

	example_ops(&base, &a, &b);
	assert_int_equal(apply(f, &ACTOR_A, &base).status, APPLIED);
	assert_int_equal(apply(f, &ACTOR_A, &a).status, APPLIED);
	assert_int_equal(apply(f, &ACTOR_B, &b).status, APPLIED);
	check_example_result(f);
}

static void test_example_b_then_a(void **state)
{
	struct unit_txn *f = *state;
	struct pmut base, a, b;
	struct records_result r;
	struct newest n;

	example_ops(&base, &a, &b);
	assert_int_equal(apply(f, &ACTOR_A, &base).status, APPLIED);
	assert_int_equal(apply(f, &ACTOR_B, &b).status, APPLIED);
	/* A's nickname loses to B's (same wall and counter, B > A): nothing to write. */
	r = apply(f, &ACTOR_A, &a);
	assert_int_equal(r.status, APPLIED);
	assert_int_equal(r.version, 2);
	n = pull_person(f, "maraude-13");
	assert_int_equal(n.count, 2);
	codec_stored_free(&n.rv->base);
	check_example_result(f);
}

static void test_newer_wins_older_loses_per_field(void **state)
{
	struct unit_txn *f = *state;
	struct pmut x, y;
	struct newest n;

	pmut_init(&x, 1);
	set_text(pmut_field(&x, F(GIVEN_NAME), 2000, 0, DEV_A), "Ali");
	set_flag(pmut_field(&x, F(REDUCED_MOBILITY), 2000, 0, DEV_A), 0);
	assert_int_equal(apply(f, &ACTOR_A, &x).version, 1);
	/* B: an older given name (loses) and a newer mobility flag (wins). */
	pmut_init(&y, 1);
	set_text(pmut_field(&y, F(GIVEN_NAME), 1999, 9, DEV_B), "Alice");
	set_flag(pmut_field(&y, F(REDUCED_MOBILITY), 2000, 1, DEV_B), 1);
	assert_int_equal(apply(f, &ACTOR_B, &y).version, 2);
	n = pull_person(f, "maraude-13");
	assert_string_equal(field_of(n.rv->person, F(GIVEN_NAME))->text, "Ali");
	assert_true(field_of(n.rv->person, F(REDUCED_MOBILITY))->flag);
	codec_stored_free(&n.rv->base);
}

static void test_clear_is_a_stamped_value(void **state)
{
	struct unit_txn *f = *state;
	struct pmut x, y;
	struct newest n;

	pmut_init(&x, 1);
	set_text(pmut_field(&x, F(FAMILY_NAME), 2000, 0, DEV_A), "Martin");
	apply(f, &ACTOR_A, &x);
	pmut_init(&y, 2);
	pmut_field(&y, F(FAMILY_NAME), 3000, 0, DEV_A)->cleared = 1;
	assert_int_equal(apply(f, &ACTOR_A, &y).version, 2);
	n = pull_person(f, "maraude-13");
	assert_true(field_of(n.rv->person, F(FAMILY_NAME))->cleared);
	codec_stored_free(&n.rv->base);
}

static void test_resent_op_is_duplicate(void **state)
{
	struct unit_txn *f = *state;
	struct pmut x;
	struct records_result r;

	pmut_init(&x, 1);
	set_text(pmut_field(&x, F(NICKNAME), 2000, 0, DEV_A), "Jo");
	assert_int_equal(apply(f, &ACTOR_A, &x).status, APPLIED);
	r = apply(f, &ACTOR_A, &x);
	assert_int_equal(r.status, DUPLICATE);
	assert_int_equal(r.version, 1);
}

static void expect_rejected(struct unit_txn *f, const struct records_actor *a, struct pmut *x,
			    int code)
{
	struct records_result r = apply(f, a, x);

	assert_int_equal(r.status, REJECTED);
	assert_int_equal(r.code, code);
}

static void test_bad_person_ops_rejected(void **state)
{
	struct unit_txn *f = *state;
	struct pmut x;
	uint64_t c = 1;

	/* Bad input: a stamp naming another device than the pusher. */
	pmut_init(&x, c++);
	set_text(pmut_field(&x, F(NICKNAME), 2000, 0, DEV_B), "Jo");
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(FORBIDDEN));
	/* Bad input: a stamp more than a day ahead of the server's clock. */
	pmut_init(&x, c++);
	set_text(pmut_field(&x, F(NICKNAME), NOW + 2 * 86400000ull, 0, DEV_A), "Jo");
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: a flag given for a text field. */
	pmut_init(&x, c++);
	set_flag(pmut_field(&x, F(NICKNAME), 2000, 0, DEV_A), 1);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: the same field twice. */
	pmut_init(&x, c++);
	set_text(pmut_field(&x, F(NICKNAME), 2000, 0, DEV_A), "Jo");
	set_text(pmut_field(&x, F(NICKNAME), 2001, 0, DEV_A), "Joe");
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: an unknown field number. */
	pmut_init(&x, c++);
	set_text(pmut_field(&x, 99, 2000, 0, DEV_A), "?");
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: no field at all. */
	pmut_init(&x, c++);
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Bad input: a field without its stamp. */
	pmut_init(&x, c++);
	set_text(pmut_field(&x, F(NICKNAME), 2000, 0, DEV_A), "Jo");
	x.f[0].hlc = NULL;
	expect_rejected(f, &ACTOR_A, &x, VEILLE_ERR(INVALID_ARGUMENT));
	/* Nothing was written. */
	assert_null(pull_person(f, "maraude-13").rv);
}

static void test_other_structure_forbidden(void **state)
{
	struct unit_txn *f = *state;
	struct pmut x;

	pmut_init(&x, 1);
	set_text(pmut_field(&x, F(NICKNAME), 2000, 0, DEV_A), "Jo");
	apply(f, &ACTOR_A, &x);
	/* Bad input: a profile edit by a structure that does not hold this person. */
	pmut_init(&x, 1);
	set_text(pmut_field(&x, F(NICKNAME), 3000, 0, DEV_C), "Joe");
	expect_rejected(f, &ACTOR_C, &x, VEILLE_ERR(FORBIDDEN));
	assert_null(pull_person(f, "accueil-1").rv);
}

static void test_hlc_order(void **state)
{
	Veille__V1__Hlc a = VEILLE__V1__HLC__INIT, b = VEILLE__V1__HLC__INIT;

	(void)state;
	a.device_id.data = (uint8_t *)DEV_A;
	a.device_id.len = 16;
	b.device_id.data = (uint8_t *)DEV_B;
	b.device_id.len = 16;
	a.wall_ms = b.wall_ms = 10;
	assert_true(records_hlc_cmp(&a, &b) < 0); /* same time: device id decides */
	assert_true(records_hlc_cmp(&b, &a) > 0);
	a.counter = 1;
	assert_true(records_hlc_cmp(&a, &b) > 0); /* counter before device */
	b.wall_ms = 11;
	assert_true(records_hlc_cmp(&a, &b) < 0); /* wall before counter */
	assert_int_equal(records_hlc_cmp(&a, &a), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, unit_txn_setup, unit_txn_teardown)
	const struct CMUnitTest tests[] = {
		T(test_example_a_then_b),
		T(test_example_b_then_a),
		T(test_newer_wins_older_loses_per_field),
		T(test_clear_is_a_stamped_value),
		T(test_resent_op_is_duplicate),
		T(test_bad_person_ops_rejected),
		T(test_other_structure_forbidden),
		cmocka_unit_test(test_hlc_order),
	};
#undef T
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
