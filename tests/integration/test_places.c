/*
 * Integration: places (docs/places.md) against a real veilled, over raw WebSocket sessions.
 *
 * Territory 75: a CHRS (chrs-tilleuls: 10 homme_seul, 4 famille, 2 animal) with its responsable
 * Rose (device R), a maraude with Marc (device M). Territory 93: a maraude with Nadia (N).
 * Subscribers are raw sessions authenticated as M (one device may hold many sessions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define CENTRE "chrs-tilleuls"
#define MARAUDE "maraude-75-nord"
#define MARAUDE_93 "maraude-93"
#define ERR(x) VEILLE__V1__ERROR_CODE__ERROR_CODE_##x
#define CAT(x) VEILLE__V1__PLACE_CATEGORY__PLACE_CATEGORY_##x
#define SUBSCRIBERS 50

struct fixture {
	struct hx_env *e;
	struct hx_device r, m, n;
	uint64_t next_id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char code[32];

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, CENTRE, "CHRS Les Tilleuls", "chrs", "75") ||
	    hx_structure_add(f->e, MARAUDE, "Maraude Paris Nord", "equipe_mobile", "75") ||
	    hx_structure_add(f->e, MARAUDE_93, "Maraude 93", "equipe_mobile", "93") ||
	    hx_ctl(f->e, NULL, "centre", "capacity", "--structure", CENTRE, "homme_seul=10",
		   "famille=4", "animal=2", (char *)NULL) ||
	    hx_ctl(f->e, NULL, "territory", "period", "--territory", "75", "--hours", "12",
		   (char *)NULL) ||
	    hx_server_start(f->e, (char *)NULL) ||
	    hx_professional_add(f->e, CENTRE, "Rose Directrice", "responsable_centre", NULL, 0,
				NULL, code) ||
	    hx_enrol_connect(f->e, code, &f->r) ||
	    hx_new_device(f->e, MARAUDE, "Marc Maraudeur", &f->m) ||
	    hx_new_device(f->e, MARAUDE_93, "Nadia Maraudeuse", &f->n))
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
	hx_device_close(&f->r);
	hx_device_close(&f->m);
	hx_device_close(&f->n);
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

/* Subscribe; returns the snapshot reply (or the error). */
static Veille__V1__Envelope *subscribe(struct fixture *f, struct conn *c, const char *territory,
				       int category)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__SubscribePlaces sp = VEILLE__V1__SUBSCRIBE_PLACES__INIT;
	char *terr[1] = { (char *)territory };
	Veille__V1__PlaceCategory cat[1] = { (Veille__V1__PlaceCategory)category };

	if (territory) {
		sp.n_territories = 1;
		sp.territories = terr;
	}
	if (category) {
		sp.n_categories = 1;
		sp.categories = cat;
	}
	env.request_id = f->next_id++;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_SUBSCRIBE_PLACES;
	env.subscribe_places = &sp;
	return hx_raw_call(c, &env, HX_TIMEOUT_MS);
}

/* DeclareVacancies of (category, count) pairs, n of them; returns the reply. */
static Veille__V1__Envelope *declare(struct fixture *f, struct conn *c, size_t n,
				     const int *cats, const uint32_t *counts)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__DeclareVacancies dv = VEILLE__V1__DECLARE_VACANCIES__INIT;
	Veille__V1__CategoryCount cc[8], *ccp[8];

	for (size_t i = 0; i < n; i++) {
		veille__v1__category_count__init(&cc[i]);
		cc[i].category = (Veille__V1__PlaceCategory)cats[i];
		cc[i].count = counts[i];
		ccp[i] = &cc[i];
	}
	dv.n_vacancies = n;
	dv.vacancies = ccp;
	env.request_id = f->next_id++;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_DECLARE_VACANCIES;
	env.declare_vacancies = &dv;
	return hx_raw_call(c, &env, HX_TIMEOUT_MS);
}

static uint32_t vacant(const Veille__V1__CentrePlaces *c, int cat)
{
	for (size_t i = 0; i < c->n_vacancies; i++)
		if ((int)c->vacancies[i]->category == cat)
			return c->vacancies[i]->count;
	return 0;
}

/*
 * 50 sessions subscribe to territory 75 and get a snapshot: the centre, never declared, so
 * stale, with the 12 h period. Rose then declares three times; every subscriber receives each
 * declaration exactly once, in order, with consecutive sequence numbers after the snapshot's,
 * fresh (not stale), with the declared counts.
 */
static void test_declarations_reach_every_subscriber_once_in_order(void **state)
{
	struct fixture *f = *state;
	struct conn *subs[SUBSCRIBERS], *rose = session_as(f, &f->r);
	uint64_t snap_seq = 0;
	const int cats[2] = { CAT(HOMME_SEUL), CAT(FAMILLE) };

	for (int i = 0; i < SUBSCRIBERS; i++) {
		Veille__V1__Envelope *snap;
		const Veille__V1__TerritoryPlaces *tp;

		subs[i] = session_as(f, &f->m);
		snap = subscribe(f, subs[i], NULL, 0);
		assert_non_null(snap);
		assert_int_equal(snap->body_case, VEILLE__V1__ENVELOPE__BODY_PLACES_SNAPSHOT);
		assert_int_equal(snap->places_snapshot->n_territories, 1);
		tp = snap->places_snapshot->territories[0];
		assert_string_equal(tp->territory, "75");
		assert_int_equal(tp->n_centres, 1);
		assert_string_equal(tp->centres[0]->structure_id, CENTRE);
		assert_string_equal(tp->centres[0]->name, "CHRS Les Tilleuls");
		assert_true(tp->centres[0]->stale); /* never declared */
		assert_int_equal(tp->centres[0]->declared_at_ms, 0);
		assert_int_equal(tp->centres[0]->period_ms, 12ull * 3600 * 1000);
		assert_int_equal(tp->centres[0]->n_capacity, 3);
		snap_seq = tp->seq;
		wire_free(snap);
	}

	for (uint32_t k = 0; k < 3; k++) {
		const uint32_t counts[2] = { 7 - k, 1 + k };
		Veille__V1__Envelope *res = declare(f, rose, 2, cats, counts);

		assert_non_null(res);
		assert_int_equal(res->body_case, VEILLE__V1__ENVELOPE__BODY_DECLARE_RESULT);
		assert_int_equal(res->declare_result->seq, snap_seq + 1 + k);
		assert_true(res->declare_result->declared_at_ms > 0);
		wire_free(res);
	}
	for (int i = 0; i < SUBSCRIBERS; i++) {
		for (uint32_t k = 0; k < 3; k++) {
			Veille__V1__Envelope *d = hx_raw_recv(subs[i], HX_TIMEOUT_MS);

			assert_non_null(d);
			assert_int_equal(d->body_case, VEILLE__V1__ENVELOPE__BODY_PLACES_DELTA);
			assert_int_equal(d->request_id, 0);
			assert_int_equal(d->places_delta->seq, snap_seq + 1 + k);
			assert_string_equal(d->places_delta->centre->structure_id, CENTRE);
			assert_false(d->places_delta->centre->stale);
			assert_int_equal(vacant(d->places_delta->centre, CAT(HOMME_SEUL)), 7 - k);
			assert_int_equal(vacant(d->places_delta->centre, CAT(FAMILLE)), 1 + k);
			assert_int_equal(vacant(d->places_delta->centre, CAT(ANIMAL)), 0);
			wire_free(d);
		}
		/* Exactly once: nothing more is on its way. */
		assert_null(hx_raw_recv(subs[i], 200));
		conn_close(subs[i]);
	}
	conn_close(rose);
}

/*
 * A subscriber that saw seq S and then misses deltas (it was away) detects the gap on the next
 * delta it gets and subscribes again: the new snapshot holds the latest state at a seq at
 * least the delta's.
 */
static void test_gap_then_resync(void **state)
{
	struct fixture *f = *state;
	struct conn *rose = session_as(f, &f->r), *sub = session_as(f, &f->m);
	const int cats[1] = { CAT(HOMME_SEUL) };
	Veille__V1__Envelope *snap = subscribe(f, sub, "75", 0), *d, *res;
	uint64_t seq = snap->places_snapshot->territories[0]->seq;

	wire_free(snap);
	/* Away (disconnected): two declarations happen meanwhile. */
	conn_close(sub);
	for (uint32_t k = 0; k < 2; k++) {
		const uint32_t counts[1] = { k };

		res = declare(f, rose, 1, cats, counts);
		assert_int_equal(res->body_case, VEILLE__V1__ENVELOPE__BODY_DECLARE_RESULT);
		wire_free(res);
	}
	sub = session_as(f, &f->m);
	snap = subscribe(f, sub, "75", 0);
	wire_free(snap);
	{
		const uint32_t counts[1] = { 9 };

		res = declare(f, rose, 1, cats, counts);
		wire_free(res);
	}
	d = hx_raw_recv(sub, HX_TIMEOUT_MS);
	assert_non_null(d);
	assert_int_equal(d->places_delta->seq, seq + 3); /* the client's rule: seq == last + 1 */
	wire_free(d);
	/* A client that kept seq (never resubscribed) would see seq + 3 after seq: a gap; its
	 * resubscription gives the state as of the latest delta. */
	snap = subscribe(f, sub, "75", 0);
	assert_int_equal(snap->places_snapshot->territories[0]->seq, seq + 3);
	assert_int_equal(vacant(snap->places_snapshot->territories[0]->centres[0], CAT(HOMME_SEUL)),
			 9);
	wire_free(snap);
	conn_close(sub);
	conn_close(rose);
}

/*
 * Bad declarations and subscriptions, each with its typed error, and the server goes on:
 * a maraudeur declaring (FORBIDDEN), more vacancies than capacity (INVALID_ARGUMENT), a
 * category with no capacity (INVALID_ARGUMENT), an unknown category number 99 and the same
 * category twice (INVALID_ARGUMENT, from the codec), a subscription to territory 93 from 75
 * (FORBIDDEN). Then a good declaration still works.
 */
static void test_bad_declarations_and_subscriptions(void **state)
{
	struct fixture *f = *state;
	struct conn *rose = session_as(f, &f->r), *marc = session_as(f, &f->m);
	const int hs[1] = { CAT(HOMME_SEUL) }, pmr[1] = { CAT(PMR) }, unknown[1] = { 99 };
	const int twice[2] = { CAT(FAMILLE), CAT(FAMILLE) };
	const uint32_t one[1] = { 1 }, eleven[1] = { 11 }, ones[2] = { 1, 1 };
	Veille__V1__Envelope *r;

	r = declare(f, marc, 1, hs, one);
	assert_int_equal(hx_error_code(r), ERR(FORBIDDEN));
	wire_free(r);
	r = declare(f, rose, 1, hs, eleven);
	assert_int_equal(hx_error_code(r), ERR(INVALID_ARGUMENT));
	wire_free(r);
	r = declare(f, rose, 1, pmr, one);
	assert_int_equal(hx_error_code(r), ERR(INVALID_ARGUMENT));
	wire_free(r);
	r = declare(f, rose, 1, unknown, one);
	assert_int_equal(hx_error_code(r), ERR(INVALID_ARGUMENT));
	wire_free(r);
	r = declare(f, rose, 2, twice, ones);
	assert_int_equal(hx_error_code(r), ERR(INVALID_ARGUMENT));
	wire_free(r);
	r = subscribe(f, marc, "93", 0);
	assert_int_equal(hx_error_code(r), ERR(FORBIDDEN));
	wire_free(r);
	r = declare(f, rose, 1, hs, one);
	assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_DECLARE_RESULT);
	wire_free(r);
	conn_close(marc);
	conn_close(rose);
}

/* Territories are tenants: a session of 93 subscribes to its own territory, where there is no
 * centre, and receives nothing when the 75 centre declares. A category filter leaves out
 * centres without capacity in that category. */
static void test_other_territory_and_category_filter(void **state)
{
	struct fixture *f = *state;
	struct conn *rose = session_as(f, &f->r), *nadia = session_as(f, &f->n),
		    *marc = session_as(f, &f->m);
	const int hs[1] = { CAT(HOMME_SEUL) };
	const uint32_t two[1] = { 2 };
	Veille__V1__Envelope *r = subscribe(f, nadia, NULL, 0);

	assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_PLACES_SNAPSHOT);
	assert_string_equal(r->places_snapshot->territories[0]->territory, "93");
	assert_int_equal(r->places_snapshot->territories[0]->n_centres, 0);
	wire_free(r);
	r = subscribe(f, marc, NULL, CAT(PMR)); /* the CHRS has no PMR place */
	assert_int_equal(r->places_snapshot->territories[0]->n_centres, 0);
	wire_free(r);
	r = declare(f, rose, 1, hs, two);
	wire_free(r);
	assert_null(hx_raw_recv(nadia, 300));
	conn_close(nadia);
	conn_close(marc);
	conn_close(rose);
}

/* With the 75 periodicity set to 1 s (by veillectl while veilled runs), a declaration is
 * fresh at once; once its period has passed, subscribers get one delta saying stale (within
 * the server's one-second sweep) and snapshots say so too. */
static void test_declaration_goes_stale(void **state)
{
	struct fixture *f = *state;
	struct conn *rose = session_as(f, &f->r), *marc = session_as(f, &f->m);
	const int hs[1] = { CAT(HOMME_SEUL) };
	const uint32_t two[1] = { 2 };
	Veille__V1__Envelope *r;
	uint64_t seq;

	assert_int_equal(hx_ctl(f->e, NULL, "territory", "period", "--territory", "75",
				"--seconds", "1", (char *)NULL), 0);
	r = declare(f, rose, 1, hs, two);
	wire_free(r);
	r = subscribe(f, marc, NULL, 0);
	assert_false(r->places_snapshot->territories[0]->centres[0]->stale);
	assert_int_equal(r->places_snapshot->territories[0]->centres[0]->period_ms, 1000);
	/* Marc, subscribed, is told when it goes stale, as a change with the next seq. */
	seq = r->places_snapshot->territories[0]->seq;
	wire_free(r);
	r = hx_raw_recv(marc, 5000);
	assert_non_null(r);
	assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_PLACES_DELTA);
	assert_int_equal(r->places_delta->seq, seq + 1);
	assert_true(r->places_delta->centre->stale);
	assert_int_equal(vacant(r->places_delta->centre, CAT(HOMME_SEUL)), 2);
	wire_free(r);
	assert_null(hx_raw_recv(marc, 1500)); /* once */
	r = subscribe(f, marc, NULL, 0);
	assert_true(r->places_snapshot->territories[0]->centres[0]->stale);
	assert_int_equal(r->places_snapshot->territories[0]->seq, seq + 1);
	wire_free(r);
	conn_close(marc);
	conn_close(rose);
}

/*
 * A subscriber that stops reading: the raw session R asks for snapshot after snapshot (tens of
 * thousands of SubscribePlaces, ~250-byte answers) and reads none of them beyond what its
 * library buffers (libveille stops reading past 256 queued messages). veilled's output queue
 * for it is bounded (256 frames): once it is full the session is closed, instead of memory
 * growing. Meanwhile a well-behaved subscriber gets a declaration's delta at once, and the
 * server goes on serving.
 */
static void test_slow_subscriber_dropped_others_served(void **state)
{
	struct fixture *f = *state;
	struct conn *slow = session_as(f, &f->m), *good = session_as(f, &f->m),
		    *rose = session_as(f, &f->r);
	const int hs[1] = { CAT(HOMME_SEUL) };
	const uint32_t three[1] = { 3 };
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT, *r;
	Veille__V1__SubscribePlaces sp = VEILLE__V1__SUBSCRIBE_PLACES__INIT;
	int rc = 0, sent = 0;

	r = subscribe(f, good, NULL, 0);
	wire_free(r);
	env.body_case = VEILLE__V1__ENVELOPE__BODY_SUBSCRIBE_PLACES;
	env.subscribe_places = &sp;
	/* Bounded: far more than the server's queue and both kernels' buffers hold. */
	while (sent < 400000 && (rc = hx_raw_send(slow, &env)) == 0) {
		env.request_id = ++sent;
		if (sent % 1000 == 0 && (rc = conn_flush(slow, 2000)) != 0 && rc != VEILLE_ETIMEOUT)
			break;
	}
	assert_true(rc == VEILLE_ECLOSED || rc == VEILLE_ECONN);
	print_message("slow subscriber closed after %d requests (close code %d)\n", sent,
		      conn_close_code(slow));
	{
		/* For that reason, and no other. */
		uint8_t *log = NULL;
		size_t len = 0;

		assert_int_equal(hx_read_file(f->e->log, &log, &len), 0);
		assert_non_null(strstr((char *)log, "output queue full"));
		free(log);
	}

	r = declare(f, rose, 1, hs, three);
	assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_DECLARE_RESULT);
	wire_free(r);
	r = hx_raw_recv(good, HX_TIMEOUT_MS);
	assert_non_null(r);
	assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_PLACES_DELTA);
	assert_int_equal(vacant(r->places_delta->centre, CAT(HOMME_SEUL)), 3);
	wire_free(r);
	conn_close(slow);
	conn_close(good);
	conn_close(rose);
}

/* Waits (bounded) until the file at path holds needle; returns its text (caller frees). */
static char *wait_for_text(const char *path, const char *needle, int timeout_ms)
{
	for (int waited = 0;; waited += 50) {
		uint8_t *text = NULL;
		size_t len = 0;

		if (hx_read_file(path, &text, &len) == 0 && strstr((char *)text, needle))
			return (char *)text;
		free(text);
		if (waited >= timeout_ms)
			return NULL;
		usleep(50 * 1000);
	}
}

/*
 * The CLI end to end: `veille places watch` (Marc's device, another process) prints the
 * snapshot as JSON lines, then Rose's `veille places declare homme_seul=5 famille=2` (a third
 * process) comes to it as one delta line with the declared seq and counts; the watch ends
 * with status 0 at --max-seconds.
 */
static void test_cli_watch_and_declare(void **state)
{
	struct fixture *f = *state;
	char out_path[PATH_MAX], want[64], *text;
	char *argv[] = { VEILLE_CLI_PATH, "--dir", f->m.dir, "places", "watch", "--max-seconds",
			 "4", NULL };
	struct hx_out out;
	const char *p;
	int fd, status;
	pid_t pid;

	snprintf(out_path, sizeof out_path, "%s/watch.out", f->e->tmp);
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	pid = hx_spawn(argv, fd, STDERR_FILENO);
	close(fd);
	assert_true(pid > 0);
	text = wait_for_text(out_path, "\"type\":\"snapshot_end\"", 10000);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"type\":\"snapshot\",\"seq\":0,\"structure_id\":\""
				     CENTRE "\""));
	assert_non_null(strstr(text, "\"capacity\":{\"homme_seul\":10,\"famille\":4,"
				     "\"animal\":2}"));
	free(text);

	assert_int_equal(hx_veille(&out, 0, 30000, f->r.dir, "places", "declare", "homme_seul=5",
				   "famille=2", (char *)NULL), 0);
	p = strstr(out.out, "declared seq=");
	assert_non_null(p);
	snprintf(want, sizeof want, "\"type\":\"delta\",\"seq\":%llu,",
		 strtoull(p + strlen("declared seq="), NULL, 10));
	hx_out_free(&out);
	text = wait_for_text(out_path, want, 10000);
	assert_non_null(text);
	assert_non_null(strstr(strstr(text, want), "\"vacancies\":{\"homme_seul\":5,"
						    "\"famille\":2}"));
	assert_non_null(strstr(strstr(text, want), "\"stale\":false"));
	free(text);
	while (waitpid(pid, &status, 0) < 0)
		;
	hx_forget_child(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_declarations_reach_every_subscriber_once_in_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_then_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_declarations_and_subscriptions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_territory_and_category_filter, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_declaration_goes_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_watch_and_declare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_subscriber_dropped_others_served, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
