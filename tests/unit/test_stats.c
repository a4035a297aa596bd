/* test_stats: the préfet's days are Europe/Paris dates (stats_day), whatever the machine's
 * time zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "stats.h"

/* Unix ms of a UTC time. */
static uint64_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (uint64_t)timegm(&tm) * 1000;
}

static void day_is(uint64_t ms, const char *want)
{
	char day[STATS_DAY_BYTES];

	stats_day(ms, day);
	assert_string_equal(day, want);
}

static void test_winter_is_utc_plus_one(void **state)
{
	(void)state;
	day_is(utc(2026, 1, 15, 22, 59), "2026-01-15");
	day_is(utc(2026, 1, 15, 23, 0), "2026-01-16"); /* midnight in Paris */
	day_is(utc(2026, 12, 31, 23, 30), "2027-01-01");
}

static void test_summer_is_utc_plus_two(void **state)
{
	(void)state;
	day_is(utc(2026, 7, 14, 21, 59), "2026-07-14");
	day_is(utc(2026, 7, 14, 22, 0), "2026-07-15");
}

static void test_changes_of_time(void **state)
{
	(void)state;
	/* 2026: summer time from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC. */
	day_is(utc(2026, 3, 28, 22, 30), "2026-03-28"); /* winter: 23:30 in Paris */
	day_is(utc(2026, 3, 29, 22, 30), "2026-03-30"); /* summer: 00:30 */
	day_is(utc(2026, 10, 24, 22, 30), "2026-10-25"); /* summer: 00:30 */
	day_is(utc(2026, 10, 25, 22, 30), "2026-10-25"); /* winter: 23:30 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_winter_is_utc_plus_one),
		cmocka_unit_test(test_summer_is_utc_plus_two),
		cmocka_unit_test(test_changes_of_time),
	};

	setenv("TZ", "America/New_York", 1); /* the machine's zone must not matter */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
