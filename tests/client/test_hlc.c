/* Unit tests of hlc.c: the clock rule of docs/sync.md and the stamp order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hlc.h"

static const uint8_t dev_a[16] = { 0xaa, 1 };
static const uint8_t dev_b[16] = { 0xbb, 1 };

static struct hlc stamp(uint64_t wall, uint32_t counter, const uint8_t *dev)
{
	struct hlc h;

	h.wall_ms = wall;
	h.counter = counter;
	memcpy(h.device, dev, 16);
	return h;
}

/* wall = max(now, L.wall); counter L.counter + 1 on the same wall, else 0; our device. */
static void test_tick_rule(void **state)
{
	struct hlc l = stamp(0, 0, dev_b);

	(void)state;
	hlc_tick(&l, 1000, dev_a); /* clock ahead of L */
	assert_int_equal(l.wall_ms, 1000);
	assert_int_equal(l.counter, 0);
	assert_memory_equal(l.device, dev_a, 16);
	hlc_tick(&l, 1000, dev_a); /* same millisecond */
	assert_int_equal(l.wall_ms, 1000);
	assert_int_equal(l.counter, 1);
	hlc_tick(&l, 900, dev_a); /* clock went back: L's wall, counter goes on */
	assert_int_equal(l.wall_ms, 1000);
	assert_int_equal(l.counter, 2);
	hlc_tick(&l, 1001, dev_a);
	assert_int_equal(l.wall_ms, 1001);
	assert_int_equal(l.counter, 0);
}

static void test_tick_counter_overflow_moves_wall(void **state)
{
	struct hlc l = stamp(5000, UINT32_MAX, dev_a), before = l;

	(void)state;
	hlc_tick(&l, 10, dev_a);
	assert_int_equal(l.wall_ms, 5001);
	assert_int_equal(l.counter, 0);
	assert_true(hlc_compare(&l, &before) > 0);
}

/* Order: wall, then counter, then device bytes; every tick is after what it saw. */
static void test_order_and_observe(void **state)
{
	struct hlc a = stamp(5000, 0, dev_a), b = stamp(5000, 0, dev_b), l = stamp(1000, 0, dev_a);
	Veille__V1__Hlc seen;

	(void)state;
	assert_true(hlc_compare(&a, &b) < 0);
	assert_true(hlc_compare(&b, &a) > 0);
	assert_int_equal(hlc_compare(&a, &a), 0);
	a.counter = 1;
	assert_true(hlc_compare(&a, &b) > 0);
	a = stamp(4999, 9, dev_b);
	assert_true(hlc_compare(&a, &b) < 0);

	/* Seeing B's (5000, 3, B) with a late clock: A's next edit still comes after it. */
	hlc_to_pb(&(struct hlc){ 5000, 3, { 0xbb, 1 } }, &seen);
	assert_int_equal(hlc_observe(&l, &seen), 1);
	assert_int_equal(hlc_observe(&l, &seen), 0); /* not greater: no change */
	hlc_tick(&l, 4000, dev_a);
	assert_int_equal(l.wall_ms, 5000);
	assert_int_equal(l.counter, 4);
	assert_true(hlc_compare_pb(&seen, NULL) > 0);
	assert_true(hlc_compare_pb(NULL, &seen) < 0);
	assert_int_equal(hlc_compare_pb(NULL, NULL), 0);

	/* A stamp with a malformed device id teaches nothing. */
	seen.wall_ms = 99999;
	seen.device_id.len = 3;
	assert_int_equal(hlc_observe(&l, &seen), 0);
}

static void test_encode_round_trip(void **state)
{
	struct hlc h = stamp(0x0102030405060708ull, 0x0a0b0c0d, dev_b), back;
	uint8_t buf[HLC_ENCODED];

	(void)state;
	hlc_encode(&h, buf);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[8], 0x0a);
	assert_int_equal(hlc_decode(buf, sizeof buf, &back), 0);
	assert_int_equal(hlc_compare(&h, &back), 0);
	assert_int_equal(back.wall_ms, h.wall_ms);
	assert_int_equal(back.counter, h.counter);
	assert_int_equal(hlc_decode(buf, sizeof buf - 1, &back), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tick_rule),
		cmocka_unit_test(test_tick_counter_overflow_moves_wall),
		cmocka_unit_test(test_order_and_observe),
		cmocka_unit_test(test_encode_round_trip),
	};

	return cmocka_run_group_tests_name("client_unit_hlc", tests, NULL, NULL);
}
