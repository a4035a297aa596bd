/* test_policy: who may see a record version (this version's rule: own structure only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy.h"

struct rec {
	Veille__Store__V1__RecordVersion rv;
	Veille__V1__Encounter e;
};

static void rec_init(struct rec *r, const char *team)
{
	veille__store__v1__record_version__init(&r->rv);
	veille__v1__encounter__init(&r->e);
	r->e.team_id = (char *)team;
	r->e.author_id = "camille";
	r->rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER;
	r->rv.encounter = &r->e;
}

/* Roles that work with people in the field or in a centre. */
static const int FIELD_ROLES[] = {
	VEILLE__V1__ROLE__ROLE_MARAUDEUR,          VEILLE__V1__ROLE__ROLE_ACCUEILLANT,
	VEILLE__V1__ROLE__ROLE_ECOUTANT_115,       VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO,
	VEILLE__V1__ROLE__ROLE_RESPONSABLE_CENTRE, VEILLE__V1__ROLE__ROLE_TRAVAILLEUR_SOCIAL,
	VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE,
};

static void test_same_structure_sees(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, "maraude-13");
	for (size_t i = 0; i < sizeof(FIELD_ROLES) / sizeof(FIELD_ROLES[0]); i++)
		assert_int_equal(policy_may_see("maraude-13", FIELD_ROLES[i], &r.rv), 1);
}

static void test_other_structure_does_not_see(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, "maraude-13");
	for (size_t i = 0; i < sizeof(FIELD_ROLES) / sizeof(FIELD_ROLES[0]); i++) {
		assert_int_equal(policy_may_see("accueil-1", FIELD_ROLES[i], &r.rv), 0);
		/* Near misses: a prefix, an extension, another case. */
		assert_int_equal(policy_may_see("maraude-1", FIELD_ROLES[i], &r.rv), 0);
		assert_int_equal(policy_may_see("maraude-13x", FIELD_ROLES[i], &r.rv), 0);
		assert_int_equal(policy_may_see("Maraude-13", FIELD_ROLES[i], &r.rv), 0);
		assert_int_equal(policy_may_see("", FIELD_ROLES[i], &r.rv), 0);
	}
}

static void test_superviseur_and_administrateur_do_not_see(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, "maraude-13");
	/* Even in the record's own structure. */
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_SUPERVISEUR, &r.rv), 0);
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR, &r.rv),
			 0);
	/* Bad input: no role at all. */
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_UNSPECIFIED, &r.rv), 0);
}

static void test_unknown_record_kind_is_not_seen(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, "maraude-13");
	/* Bad input: a record version without a record (a kind this version does not know). */
	r.rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD__NOT_SET;
	r.rv.encounter = NULL;
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_MARAUDEUR, &r.rv), 0);
}

static void test_empty_team_is_seen_by_nobody(void **state)
{
	struct rec r;

	(void)state;
	/* Bad input: an encounter with no team (the server always fills it on apply). */
	rec_init(&r, "");
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_MARAUDEUR, &r.rv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_structure_sees),
		cmocka_unit_test(test_other_structure_does_not_see),
		cmocka_unit_test(test_superviseur_and_administrateur_do_not_see),
		cmocka_unit_test(test_unknown_record_kind_is_not_seen),
		cmocka_unit_test(test_empty_team_is_seen_by_nobody),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
