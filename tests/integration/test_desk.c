/*
 * Integration: what the desks' views need from a real veilled, over raw sessions: the
 * centres' locations with their places (docs/places.md), and the territory's activity
 * indicators (StatsRequest, docs/orientations.md "Statistics").
 *
 * Territory 75: the SIAO (siao-75) with its coordinator Sophie (C), its écoutant Karim (E)
 * and its superviseur Hélène (V); the préfecture (pref-75) with an administrateur Alain (A);
 * a maraude (maraude-75) with Marc (M); a CHRS located from the start (chrs-75-tilleuls) with
 * its responsable Rose (R); a CHU without location yet (chu-75-chapelle). Territory 93: a
 * SIAO with its coordinator Nadia (N).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define SIAO "siao-75"
#define MARAUDE "maraude-75"
#define CHRS "chrs-75-tilleuls"
#define CHU "chu-75-chapelle"
#define CHRS_ADDRESS "12 rue des Tilleuls, 75020 Paris"
#define CHU_ADDRESS "40 rue de la Chapelle, 75018 Paris"
#define PREF "pref-75"
#define SIAO_93 "siao-93"
#define ERR(x) VEILLE__V1__ERROR_CODE__ERROR_CODE_##x
#define NOTE "dort sous le pont Mirabeau, chien nerveux"
#define MOTIVE "bagarre la semaine dernière avec un résident"

struct fixture {
	struct hx_env *e;
	struct hx_device c, e115, v, a, m, r, n;
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
	    hx_new_device_as(f->e, CHRS, "Rose Directrice", "responsable_centre", &f->r) ||
	    hx_structure_add(f->e, PREF, "Préfecture de Paris", "prefecture", "75") ||
	    hx_structure_add(f->e, SIAO_93, "SIAO 93", "siao", "93") ||
	    hx_new_device_as(f->e, SIAO, "Karim Écoutant", "ecoutant_115", &f->e115) ||
	    hx_new_device_as(f->e, SIAO, "Hélène Superviseuse", "superviseur", &f->v) ||
	    hx_new_device_as(f->e, PREF, "Alain Administrateur", "administrateur", &f->a) ||
	    hx_new_device_as(f->e, SIAO_93, "Nadia Coordinatrice", "coordinateur_siao", &f->n))
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
	hx_device_close(&f->e115);
	hx_device_close(&f->v);
	hx_device_close(&f->a);
	hx_device_close(&f->m);
	hx_device_close(&f->r);
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

/* ---- indicators ---- */

/* StatsRequest{from, to} on c; returns the reply. */
static Veille__V1__Envelope *stats(struct fixture *f, struct conn *c, const char *from,
				   const char *to)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__StatsRequest sr = VEILLE__V1__STATS_REQUEST__INIT;

	sr.from_day = (char *)from;
	sr.to_day = (char *)to;
	env.request_id = f->next_id++;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_STATS_REQUEST;
	env.stats_request = &sr;
	return hx_raw_call(c, &env, HX_TIMEOUT_MS);
}

/* The count of (indicator, detail) on day in a StatsResult (0: absent, as the rule says). */
static uint64_t count_of(const Veille__V1__StatsResult *r, const char *day,
			 const char *indicator, const char *detail)
{
	for (size_t i = 0; i < r->n_counts; i++)
		if (!strcmp(r->counts[i]->day, day) && !strcmp(r->counts[i]->indicator, indicator) &&
		    !strcmp(r->counts[i]->detail, detail))
			return r->counts[i]->count;
	return 0;
}

/* The "YYYY-MM-DD" day `days` before day (UTC arithmetic on dates: no time zone involved). */
static void day_before(const char *day, int days, char out[16])
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof tm);
	assert_int_equal(sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_hour = 12;
	t = timegm(&tm) - (time_t)days * 86400;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

/* The value of "key=" in a `veille` command's output, e.g. the record id of its "applied"
 * line. */
static void printed(const struct hx_out *out, const char *key, char *val, size_t n)
{
	const char *p = strstr(out->out, key);
	size_t k = 0;

	assert_non_null(p);
	p += strlen(key);
	while (p[k] && p[k] != ' ' && p[k] != '\n' && k + 1 < n)
		k++;
	memcpy(val, p, k);
	val[k] = '\0';
}

/* Runs `veille --dir dir args...`, expecting success, into out (caller frees). */
#define VEILLE_OK(out, dir, ...)                                                             \
	assert_int_equal(hx_veille((out), 0, 30000, (dir), __VA_ARGS__, (char *)NULL), 0)

/*
 * A day of activity through the real CLI: Rose declares her places, Marc meets a person (with
 * a note) and asks for shelter for them, Sophie proposes the CHRS, Rose refuses (securite,
 * with a text). Then a StatsRequest with empty days (today, in Europe/Paris) from the SIAO's
 * coordinator, its écoutant, its superviseur and the préfecture's administrateur each gets
 * the territory's counters: the same for all, those of the scenario, and none of its ids,
 * names or texts anywhere in the reply. Explicit days give the same; 31 days back to today
 * is allowed. Nadia, the coordinator of SIAO 93, gets her own territory's (nothing of 75).
 */
static void test_indicators_for_the_siao_and_supervisors(void **state)
{
	struct fixture *f = *state;
	const struct hx_device *readers[] = {&f->c, &f->e115, &f->v, &f->a};
	char person[40], request[40], proposal[40], decision[40], encounter[40], back[16];
	struct hx_out out;
	Veille__V1__Envelope *r;
	struct conn *c;

	VEILLE_OK(&out, f->r.dir, "places", "declare", "homme_seul=3");
	hx_out_free(&out);
	VEILLE_OK(&out, f->m.dir, "encounter", "add", "--new-person", "--area", "Pont Mirabeau",
		  "--need", "shelter", "--note", NOTE);
	printed(&out, "person_id=", person, sizeof person);
	printed(&out, "applied record_id=", encounter, sizeof encounter);
	hx_out_free(&out);
	VEILLE_OK(&out, f->m.dir, "request", "add", "--person", person, "--adults", "1",
		  "--animal", "--urgency", "tonight", "--category", "homme_seul", "--note", NOTE);
	printed(&out, "applied record_id=", request, sizeof request);
	hx_out_free(&out);
	VEILLE_OK(&out, f->c.dir, "propose", "--request", request, "--centre", CHRS, "--category",
		  "homme_seul");
	printed(&out, "applied record_id=", proposal, sizeof proposal);
	hx_out_free(&out);
	VEILLE_OK(&out, f->r.dir, "decide", "--proposal", proposal, "--refuse", "securite",
		  "--motive-text", MOTIVE);
	printed(&out, "applied record_id=", decision, sizeof decision);
	hx_out_free(&out);

	for (size_t i = 0; i < sizeof readers / sizeof *readers; i++) {
		const Veille__V1__StatsResult *res;
		uint8_t *bytes;
		size_t len;

		c = session_as(f, readers[i]);
		r = stats(f, c, "", "");
		assert_non_null(r);
		assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_STATS_RESULT);
		res = r->stats_result;
		assert_string_equal(res->territory, "75");
		assert_int_equal(strlen(res->today), 10);
		assert_int_equal(count_of(res, res->today, "places_declared", ""), 1);
		assert_int_equal(count_of(res, res->today, "encounters", MARAUDE), 1);
		assert_int_equal(count_of(res, res->today, "requests", ""), 1);
		assert_int_equal(count_of(res, res->today, "unmet_requests", ""), 1);
		assert_int_equal(count_of(res, res->today, "proposals", ""), 1);
		assert_int_equal(count_of(res, res->today, "refusals", "securite"), 1);
		assert_int_equal(count_of(res, res->today, "admissions", ""), 0);
		for (size_t k = 0; k < res->n_counts; k++)
			assert_string_equal(res->counts[k]->day, res->today);

		/* Nothing that identifies a person, anywhere in the bytes sent. */
		len = veille__v1__envelope__get_packed_size(r);
		bytes = malloc(len + 1);
		assert_non_null(bytes);
		veille__v1__envelope__pack(r, bytes);
		bytes[len] = 0;
		for (size_t k = 0; k < len; k++)
			if (!bytes[k])
				bytes[k] = ' '; /* searchable as one string */
		assert_null(strstr((char *)bytes, person));
		assert_null(strstr((char *)bytes, request));
		assert_null(strstr((char *)bytes, proposal));
		assert_null(strstr((char *)bytes, decision));
		assert_null(strstr((char *)bytes, encounter));
		assert_null(strstr((char *)bytes, "Mirabeau"));
		assert_null(strstr((char *)bytes, "chien"));
		assert_null(strstr((char *)bytes, "bagarre"));
		assert_null(strstr((char *)bytes, "Marc"));
		assert_null(strstr((char *)bytes, "Rose"));
		assert_null(strstr((char *)bytes, "Sophie"));
		assert_null(strstr((char *)bytes, f->m.professional_id));
		free(bytes);

		if (i == 0) {
			/* Explicit days: the same counters; 31 days back to today, both
			 * included, is allowed. */
			char today[16];
			Veille__V1__Envelope *r2;

			snprintf(today, sizeof today, "%s", res->today);
			r2 = stats(f, c, today, today);
			assert_int_equal(r2->body_case, VEILLE__V1__ENVELOPE__BODY_STATS_RESULT);
			assert_int_equal(r2->stats_result->n_counts, res->n_counts);
			wire_free(r2);
			day_before(today, 30, back);
			r2 = stats(f, c, back, "");
			assert_int_equal(r2->body_case, VEILLE__V1__ENVELOPE__BODY_STATS_RESULT);
			assert_int_equal(count_of(r2->stats_result, today, "requests", ""), 1);
			wire_free(r2);
		}
		wire_free(r);
		conn_close(c);
	}

	/* Territories are tenants: the 93 SIAO's coordinator reads 93's, where nothing
	 * happened. */
	c = session_as(f, &f->n);
	r = stats(f, c, "", "");
	assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_STATS_RESULT);
	assert_string_equal(r->stats_result->territory, "93");
	assert_int_equal(r->stats_result->n_counts, 0);
	wire_free(r);
	conn_close(c);
}

/*
 * Bad input: a maraudeur and a responsable de centre asking get FORBIDDEN; days not written
 * YYYY-MM-DD, or not dates, get INVALID_ARGUMENT (from the codec), and so does a range the
 * wrong way round; 32 days get LIMIT_EXCEEDED. Every refusal keeps the connection: a good
 * request on it is answered afterwards.
 */
static void test_indicators_refused(void **state)
{
	struct fixture *f = *state;
	struct conn *m = session_as(f, &f->m), *rr = session_as(f, &f->r), *c = session_as(f, &f->c);
	Veille__V1__Envelope *r;
	char today[16], back[16];

	r = stats(f, m, "", "");
	assert_int_equal(hx_error_code(r), ERR(FORBIDDEN));
	wire_free(r);
	r = stats(f, rr, "", "");
	assert_int_equal(hx_error_code(r), ERR(FORBIDDEN));
	wire_free(r);

	r = stats(f, c, "", "");
	assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_STATS_RESULT);
	snprintf(today, sizeof today, "%s", r->stats_result->today);
	wire_free(r);
	r = stats(f, c, "hier", "");
	assert_int_equal(hx_error_code(r), ERR(INVALID_ARGUMENT));
	wire_free(r);
	r = stats(f, c, "2026-02-30", "2026-03-01");
	assert_int_equal(hx_error_code(r), ERR(INVALID_ARGUMENT));
	wire_free(r);
	r = stats(f, c, "", "2026-1-1");
	assert_int_equal(hx_error_code(r), ERR(INVALID_ARGUMENT));
	wire_free(r);
	day_before(today, 1, back);
	r = stats(f, c, today, back); /* the wrong way round */
	assert_int_equal(hx_error_code(r), ERR(INVALID_ARGUMENT));
	wire_free(r);
	day_before(today, 31, back);
	r = stats(f, c, back, today); /* 32 days */
	assert_int_equal(hx_error_code(r), ERR(LIMIT_EXCEEDED));
	wire_free(r);
	r = stats(f, c, back, "");
	assert_int_equal(hx_error_code(r), ERR(LIMIT_EXCEEDED));
	wire_free(r);

	r = stats(f, c, "", "");
	assert_int_equal(r->body_case, VEILLE__V1__ENVELOPE__BODY_STATS_RESULT);
	wire_free(r);
	conn_close(m);
	conn_close(rr);
	conn_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_location_in_snapshot_and_after_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_indicators_for_the_siao_and_supervisors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_indicators_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
