/* test_calendar: the préfet's days are Europe/Paris dates whatever the machine's time zone;
 * the months of a stay are calendar months. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "calendar.h"

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
	char day[CALENDAR_DAY_BYTES];

	calendar_paris_day(ms, day);
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

static void test_calendar_months(void **state)
{
	(void)state;
	/* Six months from a start, the day kept. */
	assert_int_equal(calendar_add_months(utc(2026, 11, 30, 10, 0), 6), utc(2027, 5, 30, 10, 0));
	/* The day clamped to the month's last: 31 January + 1 month, in a leap year or not. */
	assert_int_equal(calendar_add_months(utc(2027, 1, 31, 0, 0), 1), utc(2027, 2, 28, 0, 0));
	assert_int_equal(calendar_add_months(utc(2028, 1, 31, 0, 0), 1), utc(2028, 2, 29, 0, 0));
	/* A month before the end (the extension deadline), across a year. */
	assert_int_equal(calendar_add_months(utc(2027, 1, 15, 12, 0), -1), utc(2026, 12, 15, 12, 0));
	assert_int_equal(calendar_add_months(utc(2027, 3, 31, 12, 0), -1), utc(2027, 2, 28, 12, 0));
	/* Milliseconds are kept. */
	assert_int_equal(calendar_add_months(utc(2026, 6, 1, 0, 0) + 123, 12),
			 utc(2027, 6, 1, 0, 0) + 123);
}

/* Dates as a client writes them ("YYYY-MM-DD"), to day numbers; anything else refused. */
static void test_day_numbers(void **state)
{
	static const char *const bad[] = {
		"", "hier", "2026-1-05", "2026-01-5", "2026/01/05", "2026-01-05 ", " 2026-01-05",
		"2026-00-10", "2026-13-01", "2026-02-29", "2100-02-29", "2026-04-31", "0000-01-01",
		"2026-01-32", "2026-01-00", "+026-01-05", "2026-01-05T00:00", "20260105",
	};
	int64_t n = -1, m = -1;

	(void)state;
	assert_int_equal(calendar_day_number("1970-01-01", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(calendar_day_number("2024-02-29", &n), 0); /* leap year */
	assert_int_equal(calendar_day_number("2000-02-29", &m), 0); /* leap century */
	assert_int_equal(calendar_day_number("2026-12-31", &n), 0);
	assert_int_equal(calendar_day_number("2027-01-01", &m), 0);
	assert_int_equal(m - n, 1);
	assert_int_equal(calendar_day_number("2026-01-01", &m), 0);
	assert_int_equal(n - m, 364);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		n = 42;
		assert_int_equal(calendar_day_number(bad[i], &n), -1);
		assert_int_equal(n, 42);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_winter_is_utc_plus_one),
		cmocka_unit_test(test_summer_is_utc_plus_two),
		cmocka_unit_test(test_changes_of_time),
		cmocka_unit_test(test_calendar_months),
		cmocka_unit_test(test_day_numbers),
	};

	setenv("TZ", "America/New_York", 1); /* the machine's zone must not matter */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
