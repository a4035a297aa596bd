/* Unit tests of person.c: per-field last writer wins, converging in any order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hlc.h"
#include "person.h"

#define NICK VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME
#define ANIMAL VEILLE__V1__PERSON_FIELD__PERSON_FIELD_ANIMAL
#define BIRTH VEILLE__V1__PERSON_FIELD__PERSON_FIELD_BIRTH_YEAR

static const uint8_t dev_a[16] = { 0xaa }, dev_b[16] = { 0xbb };

/* A profile of up to 16 fields with their storage. */
struct prof {
	Veille__V1__Person p;
	Veille__V1__PersonFieldValue v[16];
	Veille__V1__PersonFieldValue *ptr[16];
	Veille__V1__Hlc h[16];
};

static void prof_init(struct prof *x)
{
	memset(x, 0, sizeof *x);
	veille__v1__person__init(&x->p);
	x->p.fields = x->ptr;
}

static Veille__V1__PersonFieldValue *add(struct prof *x, int field, uint64_t wall,
					 uint32_t counter, const uint8_t *dev)
{
	size_t i = x->p.n_fields++;

	veille__v1__person_field_value__init(&x->v[i]);
	veille__v1__hlc__init(&x->h[i]);
	x->h[i].wall_ms = wall;
	x->h[i].counter = counter;
	x->h[i].device_id.data = (uint8_t *)dev;
	x->h[i].device_id.len = 16;
	x->v[i].field = field;
	x->v[i].hlc = &x->h[i];
	x->ptr[i] = &x->v[i];
	return &x->v[i];
}

static void text(Veille__V1__PersonFieldValue *v, const char *s)
{
	v->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
	v->text = (char *)s;
}

static void flag(Veille__V1__PersonFieldValue *v, int b)
{
	v->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
	v->flag = b;
}

static const Veille__V1__PersonFieldValue *get(Veille__V1__PersonFieldValue **out, size_t n,
					       int field)
{
	for (size_t i = 0; i < n; i++)
		if ((int)out[i]->field == field)
			return out[i];
	return NULL;
}

/* The example of docs/sync.md: both orders give NICKNAME "Joe" and ANIMAL true. */
static void test_doc_example_converges(void **state)
{
	struct prof server, a, b, after_ab, after_ba;
	Veille__V1__PersonFieldValue *out1[PERSON_MAX_MERGED], *out2[PERSON_MAX_MERGED];
	Veille__V1__PersonFieldValue *tmp[PERSON_MAX_MERGED];
	size_t n1, n2, n;
	int changed;

	(void)state;
	prof_init(&server);
	text(add(&server, NICK, 1000, 0, dev_a), "Jo");
	prof_init(&a);
	text(add(&a, NICK, 5000, 0, dev_a), "Jojo");
	prof_init(&b);
	text(add(&b, NICK, 5000, 0, dev_b), "Joe");
	flag(add(&b, ANIMAL, 5000, 1, dev_b), 1);

	/* A then B. */
	n = person_merge(&server.p, &a.p, tmp, &changed);
	assert_true(changed);
	prof_init(&after_ab);
	memcpy(after_ab.ptr, tmp, n * sizeof *tmp);
	after_ab.p.n_fields = n;
	n1 = person_merge(&after_ab.p, &b.p, out1, &changed);
	assert_true(changed);
	/* B then A: A's nickname is older than B's and changes nothing. */
	n = person_merge(&server.p, &b.p, tmp, &changed);
	prof_init(&after_ba);
	memcpy(after_ba.ptr, tmp, n * sizeof *tmp);
	after_ba.p.n_fields = n;
	n2 = person_merge(&after_ba.p, &a.p, out2, &changed);
	assert_false(changed);

	assert_int_equal(n1, 2);
	assert_int_equal(n2, 2);
	assert_string_equal(get(out1, n1, NICK)->text, "Joe");
	assert_string_equal(get(out2, n2, NICK)->text, "Joe");
	assert_true(get(out1, n1, ANIMAL)->flag);
	assert_true(get(out2, n2, ANIMAL)->flag);
	/* In field order. */
	assert_int_equal(out1[0]->field, NICK);
	assert_int_equal(out1[1]->field, ANIMAL);
}

/* Merging what one already holds changes nothing; a tie keeps the first. */
static void test_idempotent_and_ties(void **state)
{
	struct prof x, y;
	Veille__V1__PersonFieldValue *out[PERSON_MAX_MERGED];
	size_t n;
	int changed;

	(void)state;
	prof_init(&x);
	text(add(&x, NICK, 7, 0, dev_a), "same");
	prof_init(&y);
	text(add(&y, NICK, 7, 0, dev_a), "same");
	n = person_merge(&x.p, &x.p, out, &changed);
	assert_int_equal(n, 1);
	assert_false(changed);
	n = person_merge(&x.p, &y.p, out, &changed);
	assert_false(changed);
	assert_ptr_equal(out[0], &x.v[0]);
	n = person_merge(NULL, &y.p, out, &changed);
	assert_int_equal(n, 1);
	assert_true(changed);
	n = person_merge(&x.p, NULL, out, &changed);
	assert_int_equal(n, 1);
	assert_false(changed);
}

/* Fields a newer server adds are kept and merged by the same rule. */
static void test_unknown_field_kept(void **state)
{
	struct prof x, y;
	Veille__V1__PersonFieldValue *out[PERSON_MAX_MERGED];
	size_t n;
	int changed;

	(void)state;
	prof_init(&x);
	text(add(&x, 25, 1, 0, dev_a), "old");
	prof_init(&y);
	text(add(&y, 25, 2, 0, dev_b), "new");
	text(add(&y, NICK, 2, 0, dev_b), "n");
	n = person_merge(&x.p, &y.p, out, &changed);
	assert_int_equal(n, 2);
	assert_int_equal(out[0]->field, NICK);
	assert_string_equal(out[1]->text, "new");
}

/* Every order of three edits gives the same profile. */
static void test_commutes(void **state)
{
	struct prof e[3], acc;
	Veille__V1__PersonFieldValue *out[PERSON_MAX_MERGED];
	static const int orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
					  { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	const char *nick = NULL;
	int64_t birth = -1;
	int changed;

	(void)state;
	for (int i = 0; i < 3; i++)
		prof_init(&e[i]);
	text(add(&e[0], NICK, 10, 0, dev_a), "a");
	text(add(&e[1], NICK, 10, 0, dev_b), "b");
	add(&e[1], BIRTH, 9, 0, dev_b)->cleared = 1;
	add(&e[2], BIRTH, 9, 1, dev_a)->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_NUMBER;
	e[2].v[0].number = 1970;
	for (int o = 0; o < 6; o++) {
		size_t n = 0;

		prof_init(&acc);
		for (int k = 0; k < 3; k++) {
			n = person_merge(&acc.p, &e[orders[o][k]].p, out, &changed);
			memcpy(acc.ptr, out, n * sizeof *out);
			acc.p.n_fields = n;
		}
		assert_int_equal(n, 2);
		if (!nick) {
			nick = get(out, n, NICK)->text;
			birth = get(out, n, BIRTH)->number;
		}
		assert_string_equal(get(out, n, NICK)->text, nick);
		assert_int_equal(get(out, n, BIRTH)->number, birth);
	}
	assert_string_equal(nick, "b");
	assert_int_equal(birth, 1970);
}

static void test_check_edit(void **state)
{
	struct prof x;
	Veille__V1__PersonFieldValue *v;

	(void)state;
	prof_init(&x);
	assert_non_null(person_check_edit(&x.p)); /* no field */
	assert_non_null(person_check_edit(NULL));
	text(add(&x, NICK, 0, 0, dev_a), "Jo");
	assert_null(person_check_edit(&x.p));
	v = add(&x, ANIMAL, 0, 0, dev_a);
	assert_non_null(person_check_edit(&x.p)); /* flag field without a value */
	text(v, "yes");
	assert_non_null(person_check_edit(&x.p)); /* wrong kind */
	flag(v, 0);
	assert_null(person_check_edit(&x.p));
	v->cleared = 1;
	assert_non_null(person_check_edit(&x.p)); /* cleared with a value */
	v->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE__NOT_SET;
	assert_null(person_check_edit(&x.p));
	text(add(&x, NICK, 0, 0, dev_a), "twice");
	assert_non_null(person_check_edit(&x.p));
	x.p.n_fields--;
	add(&x, 0, 0, 0, dev_a);
	assert_non_null(person_check_edit(&x.p)); /* UNSPECIFIED */
	x.v[x.p.n_fields - 1].field = 11;
	assert_non_null(person_check_edit(&x.p)); /* unknown to this client */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_example_converges),
		cmocka_unit_test(test_idempotent_and_ties),
		cmocka_unit_test(test_unknown_field_kept),
		cmocka_unit_test(test_commutes),
		cmocka_unit_test(test_check_edit),
	};

	return cmocka_run_group_tests_name("client_unit_person", tests, NULL, NULL);
}
