/*
 * Unit tests of clients/c/places.c's delta rule: a delta that follows the last seq is handed
 * over and becomes the last; one after a gap (or a repeat) is not, and ends the live view so
 * that veille_follow subscribes again; nothing is handed over while the view is not live;
 * other messages are ignored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "places.h"

static uint64_t handed[8];
static size_t n_handed;

static void on_delta(const Veille__V1__PlacesDelta *d, void *arg)
{
	(void)arg;
	handed[n_handed++] = d->seq;
}

static void deliver(struct veille_client *c, const struct veille_places_opts *o, uint64_t seq,
		    uint64_t request_id)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PlacesDelta d = VEILLE__V1__PLACES_DELTA__INIT;

	d.seq = seq;
	env.request_id = request_id;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_PLACES_DELTA;
	env.places_delta = &d;
	places_on_message(c, o, &env);
}

static void test_in_order_then_gap(void **state)
{
	struct veille_client c;
	struct veille_places_opts o = { .on_delta = on_delta };
	Veille__V1__Envelope poke = VEILLE__V1__ENVELOPE__INIT;

	(void)state;
	memset(&c, 0, sizeof c);
	n_handed = 0;
	c.places_live = 1;
	c.places_seq = 5;
	deliver(&c, &o, 6, 0);
	deliver(&c, &o, 7, 0);
	deliver(&c, &o, 7, 3);  /* not sent on its own (request id 3): ignored */
	poke.body_case = VEILLE__V1__ENVELOPE__BODY_POKE;
	places_on_message(&c, &o, &poke); /* not a delta: ignored */
	assert_int_equal(n_handed, 2);
	assert_int_equal(handed[0], 6);
	assert_int_equal(handed[1], 7);
	assert_true(c.places_live);
	deliver(&c, &o, 9, 0);  /* 8 is missing: a gap */
	assert_false(c.places_live);
	assert_int_equal(n_handed, 2);
	deliver(&c, &o, 10, 0); /* not live any more: nothing until a new snapshot */
	assert_int_equal(n_handed, 2);

	c.places_live = 1;      /* a new snapshot at 10 */
	c.places_seq = 10;
	deliver(&c, &o, 10, 0); /* a repeat is a gap too */
	assert_false(c.places_live);
	assert_int_equal(n_handed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_then_gap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
