/*
 * Integration: shared secrecy (issue 5, docs/access-rules.md) against a real veilled, real
 * devices. The care-circle rules of orientations are in test_orient.c; this file grows with
 * the rest of the table.
 *
 * Maraude 75 with Marc (maraudeur) and Hélène (professionnelle de santé); a superviseur of the
 * same maraude; a maraude of département 93 (Nadia).
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

#define MARAUDE "maraude-75"
#define MARAUDE_93 "maraude-93"
#define HEALTH_NOTE "plaie infectée à la jambe, à revoir dans 48 h"

struct fixture {
	struct hx_env *e;
	struct hx_device marc, helene, sup, nadia;
};

static int add_device(struct hx_env *e, const char *structure, const char *name,
		      const char *role, struct hx_device *d)
{
	char code[32];

	memset(d, 0, sizeof *d);
	return hx_professional_add(e, structure, name, role, NULL, 0, NULL, code) ||
	       hx_enrol_connect(e, code, d);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, MARAUDE, "Maraude Paris Centre", "equipe_mobile", "75") ||
	    hx_structure_add(f->e, MARAUDE_93, "Maraude 93", "equipe_mobile", "93") ||
	    hx_server_start(f->e, (char *)NULL) ||
	    add_device(f->e, MARAUDE, "Marc Maraudeur", "maraudeur", &f->marc) ||
	    add_device(f->e, MARAUDE, "Hélène Infirmière", "professionnel_sante", &f->helene) ||
	    add_device(f->e, MARAUDE, "Sylvie Superviseuse", "superviseur", &f->sup) ||
	    add_device(f->e, MARAUDE_93, "Nadia Maraudeuse", "maraudeur", &f->nadia))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	hx_device_close(&f->marc);
	hx_device_close(&f->helene);
	hx_device_close(&f->sup);
	hx_device_close(&f->nadia);
	rc = hx_env_free(f->e);
	free(f);
	return rc;
}

struct seen {
	size_t n;
	char note[128], health_note[128];
};

static int keep(const Veille__V1__Change *ch, void *arg)
{
	struct seen *s = arg;

	if (ch->record_case == VEILLE__V1__CHANGE__RECORD_ENCOUNTER) {
		snprintf(s->note, sizeof s->note, "%s", ch->encounter->note);
		snprintf(s->health_note, sizeof s->health_note, "%s", ch->encounter->health_note);
	}
	s->n++;
	return 0;
}

static struct seen pull(struct hx_device *d)
{
	struct seen s;
	uint64_t next = 0;
	int more = 0;

	memset(&s, 0, sizeof s);
	assert_int_equal(veille_pull(d->c, 0, 0, keep, &s, &next, &more), 0);
	assert_int_equal(more, 0);
	return s;
}

/*
 * Hélène records an encounter with a health observation. Marc, of the same maraude, receives
 * the encounter and its team note but not the health note (HEALTH: health professionals
 * only); Hélène receives it whole; the maraude's superviseur receives nothing (no personal
 * record for supervision roles); Nadia, in another département, nothing.
 */
static void test_health_fields_only_to_health_professionals(void **state)
{
	struct fixture *f = *state;
	struct hx_mut m;
	struct veille_op_result r;
	Veille__V1__Mutation *mp = &m.m;
	struct seen s;

	assert_int_equal(hx_mut_init(&m, NULL, "rencontré rue de Rivoli"), 0);
	m.e.health_note = (char *)HEALTH_NOTE;
	assert_int_equal(veille_push(f->helene.c, &mp, 1, &r), 0);
	assert_int_equal(r.status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);

	s = pull(&f->marc);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.note, "rencontré rue de Rivoli");
	assert_string_equal(s.health_note, "");
	s = pull(&f->helene);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.health_note, HEALTH_NOTE);
	s = pull(&f->sup);
	assert_int_equal(s.n, 0);
	s = pull(&f->nadia);
	assert_int_equal(s.n, 0);
	hx_mut_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_health_fields_only_to_health_professionals,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
