/* test_policy: what of a record version a recipient may receive (docs/orientations.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy.h"

/* Every field or nothing, for the record kinds that are never shared outside their structure. */
static int policy_may_see(const char *structure_id, int role,
			  const Veille__Store__V1__RecordVersion *rv)
{
	return policy_view(structure_id, role, POLICY_REL_NONE, rv) == POLICY_FULL;
}

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

static void request_init(Veille__Store__V1__RecordVersion *rv, Veille__V1__Request *q)
{
	veille__store__v1__record_version__init(rv);
	veille__v1__request__init(q);
	q->person_id = "0123456789abcdef0123456789abcdef";
	q->requester_id = "maraude-13";
	q->author_id = "camille";
	q->household_adults = 2;
	q->household_children = 1;
	q->animal = 1;
	q->note = "dort sous le pont, chien nerveux";
	rv->record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST;
	rv->request = q;
}

static void test_request_views(void **state)
{
	Veille__Store__V1__RecordVersion rv;
	Veille__V1__Request q, buf;
	const Veille__V1__Request *v;
	const int R = VEILLE__V1__ROLE__ROLE_MARAUDEUR, S = VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO,
		  C = VEILLE__V1__ROLE__ROLE_RESPONSABLE_CENTRE;

	(void)state;
	request_init(&rv, &q);
	/* The requester sees all of it, whatever relation the caller computed. */
	assert_int_equal(policy_view("maraude-13", R, POLICY_REL_NONE, &rv), POLICY_FULL);
	assert_ptr_equal(policy_request(POLICY_FULL, &q, &buf), &q);
	/* The SIAO, while the request is open: not the requester's TEAM note. */
	assert_int_equal(policy_view("siao-75", S, POLICY_REL_SIAO, &rv), POLICY_SHARED);
	v = policy_request(POLICY_SHARED, &q, &buf);
	assert_string_equal(v->note, "");
	assert_string_equal(v->person_id, q.person_id);
	assert_int_equal(v->household_adults, 2);
	/* A centre with a proposal: the DECISION fields only. */
	assert_int_equal(policy_view("chrs-1", C, POLICY_REL_CENTRE, &rv), POLICY_DECISION);
	v = policy_request(POLICY_DECISION, &q, &buf);
	assert_string_equal(v->note, "");
	assert_string_equal(v->person_id, "");
	assert_string_equal(v->author_id, "");
	assert_int_equal(v->household_adults, 2);
	assert_int_equal(v->household_children, 1);
	assert_int_equal(v->animal, 1);
	/* The original is untouched (the store's copy is freed as decoded). */
	assert_string_equal(q.note, "dort sous le pont, chien nerveux");
	/* No relation: nothing; supervision roles: nothing, whatever the relation. */
	assert_int_equal(policy_view("chrs-1", C, POLICY_REL_NONE, &rv), POLICY_NONE);
	assert_int_equal(policy_view("siao-75", VEILLE__V1__ROLE__ROLE_SUPERVISEUR, POLICY_REL_SIAO,
				     &rv),
			 POLICY_NONE);
	assert_int_equal(policy_view("maraude-13", VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR,
				     POLICY_REL_REQUESTER, &rv),
			 POLICY_NONE);
}

static void test_decision_seen_by_its_three_structures(void **state)
{
	Veille__Store__V1__RecordVersion rv;
	Veille__V1__Decision d;
	const int R = VEILLE__V1__ROLE__ROLE_MARAUDEUR;

	(void)state;
	veille__store__v1__record_version__init(&rv);
	veille__v1__decision__init(&d);
	d.centre_id = "chrs-1";
	d.siao_id = "siao-75";
	d.request_team_id = "maraude-13";
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION;
	rv.decision = &d;
	assert_int_equal(policy_view("chrs-1", R, POLICY_REL_NONE, &rv), POLICY_FULL);
	assert_int_equal(policy_view("siao-75", R, POLICY_REL_NONE, &rv), POLICY_FULL);
	assert_int_equal(policy_view("maraude-13", R, POLICY_REL_NONE, &rv), POLICY_FULL);
	assert_int_equal(policy_view("chrs-2", R, POLICY_REL_CENTRE, &rv), POLICY_NONE);
	/* Bad input: an emergency admission has no requester: "" matches nobody. */
	d.request_team_id = "";
	assert_int_equal(policy_view("", R, POLICY_REL_NONE, &rv), POLICY_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_structure_sees),
		cmocka_unit_test(test_request_views),
		cmocka_unit_test(test_decision_seen_by_its_three_structures),
		cmocka_unit_test(test_other_structure_does_not_see),
		cmocka_unit_test(test_superviseur_and_administrateur_do_not_see),
		cmocka_unit_test(test_unknown_record_kind_is_not_seen),
		cmocka_unit_test(test_empty_team_is_seen_by_nobody),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
