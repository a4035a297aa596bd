/*
 * Integration: the care circle (server/circle.h, docs/access-rules.md) against a real veilled,
 * real devices: the centre that admitted a person receives their file for the stay and only
 * for the stay; the person's objection to sharing keeps it in the author team.
 *
 * Territory 75: the SIAO (Sophie, coordinatrice); the maraude (Marc, maraudeur; Hélène,
 * professionnelle de santé); the CHRS chrs-a (Rose, responsable; Théo, travailleur social;
 * Inès, professionnelle de santé). Territory 93: a maraude (Nadia).
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

#define SIAO "siao-75"
#define MARAUDE "maraude-75"
#define CHRS "chrs-a"
#define MARAUDE_93 "maraude-93"
#define CHRS_93 "chrs-93"
#define ST(x) VEILLE__V1__OP_STATUS__OP_STATUS_##x
#define ERR(x) VEILLE__V1__ERROR_CODE__ERROR_CODE_##x
#define FIELD(x) VEILLE__V1__PERSON_FIELD__PERSON_FIELD_##x
#define HOMME_SEUL VEILLE__V1__PLACE_CATEGORY__PLACE_CATEGORY_HOMME_SEUL
#define SITUATION "à la rue depuis l'hiver, a perdu ses papiers"
#define NOTE "vu gare de Lyon, accepte un hébergement"
#define HEALTH "toux persistante, à orienter vers la PASS"
#define REQUEST_NOTE "préfère un centre sans dortoir"

struct fixture {
	struct hx_env *e;
	struct hx_device sophie, marc, helene, rose, theo, ines, nadia, yves;
	uint32_t hlc_counter;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	Veille__V1__CategoryCount cc = VEILLE__V1__CATEGORY_COUNT__INIT, *ccp = &cc;

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, SIAO, "SIAO de Paris", "siao", "75") ||
	    hx_structure_add(f->e, MARAUDE, "Maraude Paris Est", "equipe_mobile", "75") ||
	    hx_structure_add(f->e, CHRS, "CHRS Les Acacias", "chrs", "75") ||
	    hx_structure_add(f->e, MARAUDE_93, "Maraude 93", "equipe_mobile", "93") ||
	    hx_structure_add(f->e, CHRS_93, "CHRS de Bobigny", "chrs", "93") ||
	    hx_ctl(f->e, NULL, "centre", "capacity", "--structure", CHRS, "homme_seul=5",
		   (char *)NULL) ||
	    hx_ctl(f->e, NULL, "centre", "capacity", "--structure", CHRS_93, "homme_seul=5",
		   (char *)NULL) ||
	    hx_server_start(f->e, (char *)NULL) ||
	    hx_new_device_as(f->e, SIAO, "Sophie Coordinatrice", "coordinateur_siao", &f->sophie) ||
	    hx_new_device_as(f->e, MARAUDE, "Marc Maraudeur", "maraudeur", &f->marc) ||
	    hx_new_device_as(f->e, MARAUDE, "Hélène Infirmière", "professionnel_sante", &f->helene) ||
	    hx_new_device_as(f->e, CHRS, "Rose Directrice", "responsable_centre", &f->rose) ||
	    hx_new_device_as(f->e, CHRS, "Théo Éducateur", "travailleur_social", &f->theo) ||
	    hx_new_device_as(f->e, CHRS, "Inès Infirmière", "professionnel_sante", &f->ines) ||
	    hx_new_device_as(f->e, MARAUDE_93, "Nadia Maraudeuse", "maraudeur", &f->nadia) ||
	    hx_new_device_as(f->e, CHRS_93, "Yves Directeur", "responsable_centre", &f->yves))
		return -1;
	cc.category = HOMME_SEUL;
	cc.count = 5;
	return veille_declare_vacancies(f->rose.c, &ccp, 1, NULL) == 0 &&
		       veille_declare_vacancies(f->yves.c, &ccp, 1, NULL) == 0
		       ? 0
		       : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	hx_device_close(&f->sophie);
	hx_device_close(&f->marc);
	hx_device_close(&f->helene);
	hx_device_close(&f->rose);
	hx_device_close(&f->theo);
	hx_device_close(&f->ines);
	hx_device_close(&f->nadia);
	hx_device_close(&f->yves);
	rc = hx_env_free(f->e);
	free(f);
	return rc;
}

/* ---- pushing ---- */

static void push_ok(struct hx_device *d, Veille__V1__Mutation *m)
{
	struct veille_op_result r;

	memset(&r, 0, sizeof r);
	assert_int_equal(veille_push(d->c, &m, 1, &r), 0);
	if (r.status != ST(APPLIED))
		fprintf(stderr, "op refused: %s: %s\n", veille_error_code_name(r.code), r.reason);
	assert_int_equal(r.status, ST(APPLIED));
}

/* Marc's edit of person's profile: the n values, stamped now by his device. */
static void push_person(struct fixture *f, const char *person, Veille__V1__PersonFieldValue *v,
			size_t n)
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Person p = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue *vp[4];
	Veille__V1__Hlc hlc = VEILLE__V1__HLC__INIT;

	hlc.wall_ms = hx_now_ms();
	hlc.counter = ++f->hlc_counter;
	hlc.device_id.data = f->marc.device_id;
	hlc.device_id.len = 16;
	for (size_t i = 0; i < n; i++) {
		v[i].hlc = &hlc;
		vp[i] = &v[i];
	}
	p.n_fields = n;
	p.fields = vp;
	m.record_id = (char *)person;
	m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	m.person = &p;
	push_ok(&f->marc, &m);
}

/* A person's profile as Marc's team writes it, objection set or not. */
static void push_profile(struct fixture *f, const char *person, int objects)
{
	Veille__V1__PersonFieldValue v[4];

	for (int i = 0; i < 4; i++)
		veille__v1__person_field_value__init(&v[i]);
	v[0].field = FIELD(NICKNAME);
	v[0].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
	v[0].text = "Jo";
	v[1].field = FIELD(HOUSEHOLD_ADULTS);
	v[1].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_NUMBER;
	v[1].number = 1;
	v[2].field = FIELD(SITUATION);
	v[2].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
	v[2].text = SITUATION;
	v[3].field = FIELD(OBJECTS_TO_SHARING);
	v[3].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
	v[3].flag = objects;
	push_person(f, person, v, 4);
}

/* Only the objection field, changed by Marc. */
static void push_objection(struct fixture *f, const char *person, int objects)
{
	Veille__V1__PersonFieldValue v = VEILLE__V1__PERSON_FIELD_VALUE__INIT;

	v.field = FIELD(OBJECTS_TO_SHARING);
	v.value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
	v.flag = objects;
	push_person(f, person, &v, 1);
}

/* An encounter about person by d (with a health note if given); its id into id. */
static void push_encounter(struct hx_device *d, const char *person, const char *health,
			   char id[33])
{
	struct hx_mut m;

	assert_int_equal(hx_mut_init(&m, person, NOTE), 0);
	if (health)
		m.e.health_note = (char *)health;
	push_ok(d, &m.m);
	memcpy(id, m.record_id, 33);
	hx_mut_free(&m);
}

/* Marc's request for person (household given), Sophie's proposal to the CHRS, Rose's admission
 * for a stay ending at end_ms; the request's id into req. */
static void orient_and_admit(struct fixture *f, const char *person, uint64_t end_ms, char req[33])
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Request q = VEILLE__V1__REQUEST__INIT;
	Veille__V1__Proposal p = VEILLE__V1__PROPOSAL__INIT;
	Veille__V1__Decision d = VEILLE__V1__DECISION__INIT;
	Veille__V1__PlaceCategory cat = HOMME_SEUL;
	char prop[33], dec[33];

	assert_int_equal(veille_new_record_id(req), 0);
	q.person_id = (char *)person;
	q.household_adults = 1;
	q.n_categories = 1;
	q.categories = &cat;
	q.note = REQUEST_NOTE;
	m.record_id = req;
	m.record_case = VEILLE__V1__MUTATION__RECORD_REQUEST;
	m.request = &q;
	push_ok(&f->marc, &m);

	assert_int_equal(veille_new_record_id(prop), 0);
	veille__v1__mutation__init(&m);
	p.request_id = req;
	p.centre_id = CHRS;
	p.category = HOMME_SEUL;
	m.record_id = prop;
	m.record_case = VEILLE__V1__MUTATION__RECORD_PROPOSAL;
	m.proposal = &p;
	push_ok(&f->sophie, &m);

	assert_int_equal(veille_new_record_id(dec), 0);
	veille__v1__mutation__init(&m);
	d.proposal_id = prop;
	d.kind = VEILLE__V1__DECISION_KIND__DECISION_KIND_ADMISSION;
	d.end_ms = end_ms;
	m.record_id = dec;
	m.record_case = VEILLE__V1__MUTATION__RECORD_DECISION;
	m.decision = &d;
	push_ok(&f->rose, &m);
}

/* ---- pulling ---- */

struct got {
	char id[33];
	int kind, withdrawn;
	char note[128], health[128];
	size_t person_fields;
	int situation; /* the profile's TEAM field came */
};

struct pulled {
	struct got v[64];
	size_t n;
	uint64_t cursor;
};

static int keep(const Veille__V1__Change *ch, void *arg)
{
	struct pulled *p = arg;
	struct got *g;

	if (p->n == sizeof p->v / sizeof *p->v)
		return 0;
	g = &p->v[p->n++];
	memset(g, 0, sizeof *g);
	snprintf(g->id, sizeof g->id, "%s", ch->record_id);
	g->kind = ch->record_case;
	g->withdrawn = ch->withdrawn;
	switch (ch->record_case) {
	case VEILLE__V1__CHANGE__RECORD_ENCOUNTER:
		snprintf(g->note, sizeof g->note, "%s", ch->encounter->note);
		snprintf(g->health, sizeof g->health, "%s", ch->encounter->health_note);
		break;
	case VEILLE__V1__CHANGE__RECORD_REQUEST:
		snprintf(g->note, sizeof g->note, "%s", ch->request->note);
		break;
	case VEILLE__V1__CHANGE__RECORD_PERSON:
		g->person_fields = ch->person->n_fields;
		for (size_t i = 0; i < ch->person->n_fields; i++)
			g->situation |= ch->person->fields[i]->field == FIELD(SITUATION);
		break;
	default:
		break;
	}
	return 0;
}

/* What d pulls after p->cursor (from the start if 0); p->cursor moves on. */
static void pull_from(struct hx_device *d, struct pulled *p)
{
	uint64_t next = 0;
	int more = 1;

	p->n = 0;
	for (int i = 0; more && i < 20; i++) {
		assert_int_equal(veille_pull(d->c, p->cursor, 0, keep, p, &next, &more), 0);
		p->cursor = next;
	}
	assert_int_equal(more, 0);
}

/* The last change about id in p, or NULL. */
static const struct got *find(const struct pulled *p, const char *id)
{
	const struct got *g = NULL;

	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].id, id))
			g = &p->v[i];
	return g;
}

/* ---- tests ---- */

/*
 * Before the admission, the CHRS sees only the request's DECISION fields (not the maraude's
 * profile, encounters, or the request's note). Once Rose admits, the person's past records
 * arrive at Théo's next pull in full (the profile's working notes, the encounters' notes, the
 * request's note), the health observation to Inès only; an encounter Marc writes during the
 * stay arrives too. At the stay's end (a stay of a few seconds here), the next pull withdraws
 * all of them and a pull from the start gives none of them back. Nadia, in another
 * département, never receives anything about the person.
 */
static void test_admitted_centre_has_the_file_for_the_stay(void **state)
{
	struct fixture *f = *state;
	struct pulled theo = {0}, ines = {0}, all = {0}, nadia = {0};
	char person[33], enc[33], enc_h[33], enc_later[33], req[33];
	struct hx_out out;
	const struct got *g;
	uint64_t end;

	assert_int_equal(veille_new_record_id(person), 0);
	push_profile(f, person, 0);
	push_encounter(&f->marc, person, NULL, enc);
	push_encounter(&f->helene, person, HEALTH, enc_h);

	pull_from(&f->theo, &theo);
	assert_null(find(&theo, person));
	assert_null(find(&theo, enc));

	end = hx_now_ms() + 4000;
	orient_and_admit(f, person, end, req);
	pull_from(&f->theo, &theo);
	g = find(&theo, person);
	assert_non_null(g);
	assert_false(g->withdrawn);
	assert_int_equal(g->person_fields, 4);
	assert_true(g->situation);
	g = find(&theo, enc);
	assert_non_null(g);
	assert_string_equal(g->note, NOTE);
	g = find(&theo, enc_h);
	assert_non_null(g);
	assert_string_equal(g->health, ""); /* Théo is not a health professional */
	g = find(&theo, req);
	assert_non_null(g);
	assert_string_equal(g->note, REQUEST_NOTE);
	pull_from(&f->ines, &ines);
	g = find(&ines, enc_h);
	assert_non_null(g);
	assert_string_equal(g->health, HEALTH);

	push_encounter(&f->marc, person, NULL, enc_later);
	pull_from(&f->theo, &theo);
	assert_non_null(find(&theo, enc_later));

	/* The circle as veillectl lists it: the teams that met them, the stay, the request. */
	assert_int_equal(hx_ctl(f->e, &out, "person", "circle", person, (char *)NULL), 0);
	assert_non_null(strstr(out.out, "met\t" MARAUDE "\t"));
	assert_non_null(strstr(out.out, "admitted\t" CHRS "\t"));
	assert_non_null(strstr(out.out, "requester\t" MARAUDE "\t"));
	assert_null(strstr(out.out, "siao\t")); /* the admission closed the request */
	assert_null(strstr(out.out, "objection"));
	hx_out_free(&out);
	/* Bad input: a malformed person id. */
	assert_int_equal(hx_ctl(f->e, &out, "person", "circle", "not-an-id", (char *)NULL), -1);
	assert_int_equal(out.status, 2);
	hx_out_free(&out);

	/* The stay ends: everything about the person is withdrawn (bounded wait). */
	while (hx_now_ms() < end + 1500)
		hx_sleep_ms(200);
	for (int i = 0; i < 50; i++) {
		g = find(&theo, person);
		if (g && g->withdrawn)
			break;
		hx_sleep_ms(100);
		pull_from(&f->theo, &theo);
	}
	assert_non_null(g);
	assert_true(g->withdrawn);
	assert_true(find(&theo, enc)->withdrawn);
	assert_true(find(&theo, enc_h)->withdrawn);
	assert_true(find(&theo, enc_later)->withdrawn);
	assert_true(find(&theo, req)->withdrawn);
	pull_from(&f->theo, &all);
	for (size_t i = 0; i < all.n; i++)
		assert_true(all.v[i].withdrawn || (all.v[i].kind != VEILLE__V1__CHANGE__RECORD_PERSON &&
						   all.v[i].kind != VEILLE__V1__CHANGE__RECORD_ENCOUNTER &&
						   all.v[i].kind != VEILLE__V1__CHANGE__RECORD_REQUEST));
	pull_from(&f->nadia, &nadia);
	assert_int_equal(nadia.n, 0);

	/* Erased, the person leaves no circle behind (ids included). */
	assert_int_equal(hx_ctl(f->e, NULL, "person", "erase", person, (char *)NULL), 0);
	assert_int_equal(hx_ctl(f->e, &out, "person", "circle", person, (char *)NULL), 0);
	assert_int_equal(hx_count_lines(out.out, ""), 1); /* the header alone */
	hx_out_free(&out);
}

/*
 * The person objects to sharing. Admitted to the CHRS, their profile and encounters stay in
 * the maraude: Théo receives only the request's DECISION fields (not its note). A request
 * that would take the household from the objecting person's profile is REJECTED
 * INVALID_ARGUMENT (bad input: no household given). The objection lifted, the profile and
 * the encounter arrive at Théo's next pull; recorded again, they are withdrawn and the request
 * comes again without its note.
 */
static void test_objection_keeps_the_file_in_the_team(void **state)
{
	struct fixture *f = *state;
	struct pulled theo = {0};
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT, *mp = &m;
	Veille__V1__Request q = VEILLE__V1__REQUEST__INIT;
	Veille__V1__PlaceCategory cat = HOMME_SEUL;
	struct veille_op_result r;
	char person[33], enc[33], req[33], bare[33];
	const struct got *g;

	assert_int_equal(veille_new_record_id(person), 0);
	push_profile(f, person, 1);
	push_encounter(&f->marc, person, NULL, enc);

	assert_int_equal(veille_new_record_id(bare), 0);
	q.person_id = person;
	q.n_categories = 1;
	q.categories = &cat;
	m.record_id = bare;
	m.record_case = VEILLE__V1__MUTATION__RECORD_REQUEST;
	m.request = &q;
	memset(&r, 0, sizeof r);
	assert_int_equal(veille_push(f->marc.c, &mp, 1, &r), 0);
	assert_int_equal(r.status, ST(REJECTED));
	assert_int_equal(r.code, ERR(INVALID_ARGUMENT));

	orient_and_admit(f, person, hx_now_ms() + 30ull * 86400 * 1000, req);
	pull_from(&f->theo, &theo);
	assert_null(find(&theo, person));
	assert_null(find(&theo, enc));
	g = find(&theo, req);
	assert_non_null(g);
	assert_string_equal(g->note, "");

	push_objection(f, person, 0);
	pull_from(&f->theo, &theo);
	g = find(&theo, person);
	assert_non_null(g);
	assert_false(g->withdrawn);
	g = find(&theo, enc);
	assert_non_null(g);
	assert_false(g->withdrawn);
	g = find(&theo, req);
	assert_non_null(g);
	assert_string_equal(g->note, REQUEST_NOTE);

	push_objection(f, person, 1);
	pull_from(&f->theo, &theo);
	assert_true(find(&theo, person)->withdrawn);
	assert_true(find(&theo, enc)->withdrawn);
	g = find(&theo, req);
	assert_non_null(g);
	assert_false(g->withdrawn);
	assert_string_equal(g->note, "");
}

/*
 * Territories are tenants: a CHRS of département 93 admits in an emergency a person the
 * maraude of 75 knows. Its professionals receive their own decision and nothing written in
 * 75 about the person: no profile, no encounter, not even a withdrawn change naming one.
 */
static void test_stay_opens_only_its_departement(void **state)
{
	struct fixture *f = *state;
	struct pulled yves = {0};
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Decision d = VEILLE__V1__DECISION__INIT;
	char person[33], enc[33], dec[33];

	assert_int_equal(veille_new_record_id(person), 0);
	push_profile(f, person, 0);
	push_encounter(&f->marc, person, NULL, enc);
	assert_int_equal(veille_new_record_id(dec), 0);
	d.kind = VEILLE__V1__DECISION_KIND__DECISION_KIND_EMERGENCY_ADMISSION;
	d.person_id = person;
	d.category = HOMME_SEUL;
	d.end_ms = hx_now_ms() + 30ull * 86400 * 1000;
	m.record_id = dec;
	m.record_case = VEILLE__V1__MUTATION__RECORD_DECISION;
	m.decision = &d;
	push_ok(&f->yves, &m);
	push_encounter(&f->marc, person, NULL, enc); /* during the stay, in 75 */

	pull_from(&f->yves, &yves);
	assert_int_equal(yves.n, 1);
	assert_string_equal(yves.v[0].id, dec);
	assert_false(yves.v[0].withdrawn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_admitted_centre_has_the_file_for_the_stay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_objection_keeps_the_file_in_the_team, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stay_opens_only_its_departement, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
