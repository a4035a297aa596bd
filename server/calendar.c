/* calendar: see calendar.h. */
#include "calendar.h"

#include <stdio.h>
#include <time.h>

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Unix seconds of 01:00 UTC on the last Sunday of month m (31 days: March, October). */
static int64_t last_sunday_1h(int64_t y, unsigned m)
{
	int64_t day = days_from_civil(y, m, 31);
	int64_t wd = (day + 4) % 7; /* 1970-01-01 was a Thursday: 0 = Sunday */

	if (wd < 0)
		wd += 7;
	return (day - wd) * 86400 + 3600;
}

void calendar_paris_day(uint64_t ms, char out[CALENDAR_DAY_BYTES])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	int64_t y;

	gmtime_r(&s, &tm);
	y = tm.tm_year + 1900;
	s += (int64_t)s >= last_sunday_1h(y, 3) && (int64_t)s < last_sunday_1h(y, 10) ? 7200 : 3600;
	gmtime_r(&s, &tm);
	snprintf(out, CALENDAR_DAY_BYTES, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}

static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int calendar_day_number(const char *day, int64_t *number)
{
	int v[3] = {0, 0, 0}, part = 0;
	size_t i;

	for (i = 0; day[i] && i < CALENDAR_DAY_BYTES - 1; i++) {
		if (i == 4 || i == 7) {
			if (day[i] != '-')
				return -1;
			part++;
		} else if (day[i] >= '0' && day[i] <= '9') {
			v[part] = v[part] * 10 + (day[i] - '0');
		} else {
			return -1;
		}
	}
	if (i != CALENDAR_DAY_BYTES - 1 || day[i] || v[0] < 1 || v[1] < 1 || v[1] > 12 ||
	    v[2] < 1 || v[2] > mdays[v[1] - 1] + (v[1] == 2 && leap(v[0])))
		return -1;
	*number = days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]);
	return 0;
}

uint64_t calendar_add_months(uint64_t ms, int months)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	int y, m, last;

	gmtime_r(&s, &tm);
	m = tm.tm_mon + months;
	y = tm.tm_year + 1900 + (m >= 0 ? m / 12 : (m - 11) / 12);
	m = ((m % 12) + 12) % 12;
	last = mdays[m] + (m == 1 && leap(y));
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	if (tm.tm_mday > last)
		tm.tm_mday = last;
	s = timegm(&tm);
	return (uint64_t)s * 1000 + ms % 1000;
}

