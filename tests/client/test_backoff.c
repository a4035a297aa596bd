/* Unit tests of backoff.c: full jitter under a bound that doubles from 0.5 s to 30 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"

static uint32_t last_upper;

static uint32_t highest(uint32_t upper)
{
	last_upper = upper;
	return upper - 1;
}

static uint32_t lowest(uint32_t upper)
{
	last_upper = upper;
	return 0;
}

static uint32_t broken(uint32_t upper)
{
	return upper + 7; /* out of range: must be clamped */
}

static void test_bounds_double_to_cap(void **state)
{
	static const uint32_t bounds[] = { 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
	struct backoff b;

	(void)state;
	backoff_reset(&b);
	for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
		assert_int_equal(backoff_next(&b, highest), bounds[i] - 1);
		assert_int_equal(last_upper, bounds[i]);
	}
	assert_int_equal(backoff_next(&b, lowest), 0);
	assert_int_equal(last_upper, 30000);
	backoff_reset(&b);
	backoff_next(&b, lowest);
	assert_int_equal(last_upper, 500);
	assert_int_equal(backoff_next(&b, broken), 999);
}

static void test_uninitialised_starts_over(void **state)
{
	struct backoff b = { 0 };

	(void)state;
	backoff_next(&b, lowest);
	assert_int_equal(last_upper, BACKOFF_FIRST_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_double_to_cap),
		cmocka_unit_test(test_uninitialised_starts_over),
	};

	return cmocka_run_group_tests_name("client_unit_backoff", tests, NULL, NULL);
}
