/*
 * Integration: what the desks' views need from a real veilled, over raw sessions: the
 * centres' locations with their places (docs/places.md).
 *
 * Territory 75: the SIAO (siao-75) with its coordinator Sophie (C); a maraude (maraude-75)
 * with Marc (M); a CHRS located from the start (chrs-75-tilleuls) with its responsable Rose
 * (R); a CHU without location yet (chu-75-chapelle).
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
#define CHRS "chrs-75-tilleuls"
#define CHU "chu-75-chapelle"
#define CHRS_ADDRESS "12 rue des Tilleuls, 75020 Paris"
#define CHU_ADDRESS "40 rue de la Chapelle, 75018 Paris"
#define ERR(x) VEILLE__V1__ERROR_CODE__ERROR_CODE_##x

struct fixture {
	struct hx_env *e;
	struct hx_device c, m, r;
	uint64_t next_id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, SIAO, "SIAO de Paris", "siao", "75") ||
	    hx_structure_add(f->e, MARAUDE, "Maraude Paris Nord", "equipe_mobile", "75") ||
	    hx_ctl(f->e, NULL, "structure", "add", "--id", CHRS, "--name", "CHRS Les Tilleuls",
		   "--kind", "chrs", "--territory", "75", "--lat", "48.8632", "--lon", "2.3984",
		   "--address", CHRS_ADDRESS, (char *)NULL) ||
	    hx_structure_add(f->e, CHU, "CHU La Chapelle", "chu", "75") ||
	    hx_ctl(f->e, NULL, "centre", "capacity", "--structure", CHRS, "homme_seul=10",
		   "famille=4", (char *)NULL) ||
	    hx_ctl(f->e, NULL, "centre", "capacity", "--structure", CHU, "homme_seul=30",
		   (char *)NULL) ||
	    hx_server_start(f->e, (char *)NULL) ||
	    hx_new_device_as(f->e, SIAO, "Sophie Coordinatrice", "coordinateur_siao", &f->c) ||
	    hx_new_device_as(f->e, MARAUDE, "Marc Maraudeur", "maraudeur", &f->m) ||
	    hx_new_device_as(f->e, CHRS, "Rose Directrice", "responsable_centre", &f->r))
		return -1;
	f->next_id = 1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	hx_device_close(&f->c);
	hx_device_close(&f->m);
	hx_device_close(&f->r);
	rc = hx_env_free(f->e);
	free(f);
	return rc;
}

static struct conn *session_as(struct fixture *f, const struct hx_device *d)
{
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, d), 0);
	return c;
}

/* Subscribes to the session's own territory; returns the snapshot. */
static Veille__V1__Envelope *subscribe(struct fixture *f, struct conn *c)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT, *r;
	Veille__V1__SubscribePlaces sp = VEILLE__V1__SUBSCRIBE_PLACES__INIT;

	env.request_id = f->next_id++;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_SUBSCRIBE_PLACES;
	env.subscribe_places = &sp;
	r = hx_raw_call(c, &env, HX_TIMEOUT_MS);
	assert_non_null(r);
	assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_PLACES_SNAPSHOT);
	assert_int_equal(r->places_snapshot->n_territories, 1);
	return r;
}

/* The centre of a snapshot with that id (NULL if absent). */
static const Veille__V1__CentrePlaces *centre_of(const Veille__V1__Envelope *snap,
						 const char *id)
{
	const Veille__V1__TerritoryPlaces *tp = snap->places_snapshot->territories[0];

	for (size_t i = 0; i < tp->n_centres; i++)
		if (!strcmp(tp->centres[i]->structure_id, id))
			return tp->centres[i];
	return NULL;
}

/* Degrees as sent, to a micro-degree. */
static int near(double a, double b)
{
	return a - b < 1e-6 && b - a < 1e-6;
}

/*
 * A centre's location is in the snapshot (the CHRS, located at its creation) or says there is
 * none (the CHU). `veillectl structure set` while veilled runs locates the CHU: a subscriber
 * gets it as one delta with the next sequence number (veilled's once-a-second sweep; the wait
 * is bounded, not timed), and a new snapshot shows it. `structure list` prints it. Bad input:
 * a latitude without longitude, a latitude out of range, an unknown structure; nothing
 * changes and no delta comes.
 */
static void test_location_in_snapshot_and_after_set(void **state)
{
	struct fixture *f = *state;
	struct conn *sub = session_as(f, &f->c);
	Veille__V1__Envelope *snap = subscribe(f, sub), *d;
	const Veille__V1__CentrePlaces *c;
	struct hx_out out;
	uint64_t seq = snap->places_snapshot->territories[0]->seq;

	assert_non_null(c = centre_of(snap, CHRS));
	assert_true(c->located);
	assert_true(near(c->latitude, 48.8632) && near(c->longitude, 2.3984));
	assert_string_equal(c->address, CHRS_ADDRESS);
	assert_string_equal(c->name, "CHRS Les Tilleuls");
	assert_non_null(c = centre_of(snap, CHU));
	assert_false(c->located);
	assert_string_equal(c->address, "");
	wire_free(snap);

	assert_int_equal(hx_ctl(f->e, NULL, "structure", "set", "--id", CHU, "--lat", "48.8867",
				"--lon", "2.3599", "--address", CHU_ADDRESS, (char *)NULL),
			 0);
	d = hx_raw_recv(sub, HX_TIMEOUT_MS);
	assert_non_null(d);
	assert_int_equal(d->body_case, VEILLE__V1__ENVELOPE__BODY_PLACES_DELTA);
	assert_int_equal(d->request_id, 0);
	assert_int_equal(d->places_delta->seq, seq + 1);
	c = d->places_delta->centre;
	assert_string_equal(c->structure_id, CHU);
	assert_true(c->located);
	assert_true(near(c->latitude, 48.8867) && near(c->longitude, 2.3599));
	assert_string_equal(c->address, CHU_ADDRESS);
	assert_int_equal(c->n_capacity, 1); /* the whole view, places included */
	wire_free(d);
	assert_null(hx_raw_recv(sub, 1500)); /* once */

	/* Bad input, refused by veillectl (usage: status 2): nothing stored, no delta. */
	assert_int_not_equal(hx_ctl(f->e, &out, "structure", "set", "--id", CHU, "--lat", "48.9",
				    (char *)NULL),
			     0);
	assert_int_equal(out.status, 2);
	assert_non_null(strstr(out.err, "--lat and --lon"));
	hx_out_free(&out);
	assert_int_not_equal(hx_ctl(f->e, &out, "structure", "set", "--id", CHU, "--lat", "95",
				    "--lon", "2.35", (char *)NULL),
			     0);
	assert_non_null(strstr(out.err, "-90 to 90"));
	hx_out_free(&out);
	assert_int_not_equal(hx_ctl(f->e, &out, "structure", "set", "--id", "chu-75-inconnu",
				    "--name", "Inconnu", (char *)NULL),
			     0);
	assert_int_equal(out.status, 1);
	hx_out_free(&out);
	assert_null(hx_raw_recv(sub, 1500));

	/* A new subscription: the snapshot has it, at the delta's sequence number. */
	snap = subscribe(f, sub);
	assert_int_equal(snap->places_snapshot->territories[0]->seq, seq + 1);
	assert_non_null(c = centre_of(snap, CHU));
	assert_true(c->located && near(c->latitude, 48.8867));
	wire_free(snap);
	conn_close(sub);

	assert_int_equal(hx_ctl(f->e, &out, "structure", "list", (char *)NULL), 0);
	assert_non_null(strstr(out.out, CHU "\tchu\t75\tCHU La Chapelle\t48.886700\t2.359900\t"
					  CHU_ADDRESS "\n"));
	assert_non_null(strstr(out.out, MARAUDE "\tequipe_mobile\t75\tMaraude Paris Nord\t-\t-\t-\n"));
	hx_out_free(&out);
	/* The change is in the audit log like every administrative action. */
	assert_int_equal(hx_ctl(f->e, &out, "audit", "list", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "\tveillectl\tstructure set\t" CHU "\n"));
	hx_out_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_location_in_snapshot_and_after_set, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
