/* test_places: what a centre's places show of its directory entry (name, location), and how
 * a change of it made by an administrator reaches subscribers: noted in the territory by
 * places_describe, announced by the next places_sweep with the next sequence number. Each
 * test runs in one write transaction that teardown aborts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>

#include "directory.h"
#include "effects.h"
#include "places.h"
#include "unit.h"

#define HOUR_MS (3600ull * 1000)

static void add_centre(struct store_txn *t, const char *id, int located)
{
	Veille__Store__V1__Structure s = VEILLE__STORE__V1__STRUCTURE__INIT;
	Veille__V1__CategoryCount cc = VEILLE__V1__CATEGORY_COUNT__INIT, *ccp = &cc;

	s.id = (char *)id;
	s.name = "CHRS Les Tilleuls";
	s.kind = VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_CHRS;
	s.territory = "75";
	if (located) {
		s.address = "12 rue des Tilleuls, 75020 Paris";
		s.located = 1;
		s.latitude = 48.8632;
		s.longitude = 2.3984;
	}
	assert_int_equal(directory_structure_add(t, &s), STORE_OK);
	cc.category = VEILLE__V1__PLACE_CATEGORY__PLACE_CATEGORY_HOMME_SEUL;
	cc.count = 10;
	assert_int_equal(places_set_capacity(t, id, &ccp, 1), STORE_OK);
}

struct seen {
	Veille__V1__CentrePlaces *c[4];
	size_t n;
};

static int keep(Veille__V1__CentrePlaces *c, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 4);
	s->c[s->n++] = c;
	return 0;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		codec_stored_free(&s->c[i]->base);
	s->n = 0;
}

/* A centre given capacity shows its structure's location; one without shows none. */
static void test_capacity_copies_location(void **state)
{
	struct unit_txn *f = *state;
	struct seen s = {.n = 0};

	add_centre(f->t, "chrs-a", 1);
	add_centre(f->t, "chrs-b", 0);
	assert_int_equal(places_each(f->t, "75", 1000, keep, &s), STORE_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.c[0]->structure_id, "chrs-a");
	assert_true(s.c[0]->located);
	assert_true(s.c[0]->latitude == 48.8632 && s.c[0]->longitude == 2.3984);
	assert_string_equal(s.c[0]->address, "12 rue des Tilleuls, 75020 Paris");
	assert_false(s.c[1]->located);
	assert_string_equal(s.c[1]->address, "");
	seen_free(&s);
}

/*
 * structure set on a centre: its places take the new name and location at once (a snapshot
 * would show them), and the next sweep gives it the territory's next sequence number, one
 * delta carrying them, once (the next sweep has nothing more to say). A structure without
 * places (a maraude) is described without any of that.
 */
static void test_describe_then_sweep_announces_once(void **state)
{
	struct unit_txn *f = *state;
	Veille__Store__V1__Structure *st = NULL, m = VEILLE__STORE__V1__STRUCTURE__INIT;
	struct effects fx = {0};
	struct seen s = {.n = 0};

	add_centre(f->t, "chrs-b", 0);
	assert_int_equal(directory_structure_get(f->t, "chrs-b", &st), STORE_OK);
	free(st->name);
	st->name = strdup("CHRS Les Tilleuls (Belleville)");
	assert_non_null(st->name);
	st->located = 1;
	st->latitude = 48.8721;
	st->longitude = 2.3770;
	assert_int_equal(directory_structure_put(f->t, st), STORE_OK);
	assert_int_equal(places_describe(f->t, st), STORE_OK);
	codec_stored_free(&st->base);

	assert_int_equal(places_each(f->t, "75", 1000, keep, &s), STORE_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0]->name, "CHRS Les Tilleuls (Belleville)");
	assert_true(s.c[0]->located && s.c[0]->latitude == 48.8721);
	seen_free(&s);

	/* Never declared, so never going stale: the sweep's only delta is the description. */
	assert_int_equal(places_sweep(f->t, 1000, 2000, &fx), STORE_OK);
	assert_int_equal(fx.n_deltas, 1);
	assert_int_equal(fx.deltas[0].seq, 1);
	assert_string_equal(fx.deltas[0].centre->structure_id, "chrs-b");
	assert_string_equal(fx.deltas[0].centre->name, "CHRS Les Tilleuls (Belleville)");
	assert_true(fx.deltas[0].centre->located);
	assert_true(fx.deltas[0].centre->longitude == 2.3770);
	assert_int_equal(fx.deltas[0].centre->period_ms, 24 * HOUR_MS); /* a full view */
	effects_reset(&fx);
	assert_int_equal(places_sweep(f->t, 2000, 3000, &fx), STORE_OK);
	assert_int_equal(fx.n_deltas, 0);

	/* Not a centre: nothing to announce. */
	m.id = "maraude-75";
	m.name = "Maraude";
	m.kind = VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_EQUIPE_MOBILE;
	m.territory = "75";
	assert_int_equal(directory_structure_add(f->t, &m), STORE_OK);
	assert_int_equal(places_describe(f->t, &m), STORE_OK);
	assert_int_equal(places_sweep(f->t, 3000, 4000, &fx), STORE_OK);
	assert_int_equal(fx.n_deltas, 0);
	effects_free(&fx);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, unit_txn_setup, unit_txn_teardown)
	const struct CMUnitTest tests[] = {
		T(test_capacity_copies_location),
		T(test_describe_then_sweep_announces_once),
	};
#undef T

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
