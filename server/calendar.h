/* calendar: the dates the law counts in, computed in code (no tzdata, no machine time zone).
 *
 * - The préfet's days (statistics, R345-9) are Europe/Paris calendar dates: UTC+1, and UTC+2
 *   from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC.
 * - The durations of a stay (R345-4: bilans every six months, an extension a month before the
 *   end, deemed accepted a month after the request) are calendar months, counted in UTC, the
 *   day of the month kept or clamped to the month's last day (31 January + 1 month = 28 or 29
 *   February). */
#ifndef VEILLE_CALENDAR_H
#define VEILLE_CALENDAR_H

#include <stdint.h>

#define CALENDAR_DAY_BYTES 11 /* "YYYY-MM-DD" and its NUL */

/* The Europe/Paris calendar date of a Unix time in ms. */
void calendar_paris_day(uint64_t ms, char out[CALENDAR_DAY_BYTES]);

/* The day number (days since 1970-01-01) of a calendar date written "YYYY-MM-DD" (exactly:
 * ten characters, a real date of years 0001 to 9999). Returns 0, or -1 if day is not one. */
int calendar_day_number(const char *day, int64_t *number);

/* ms plus months calendar months (months may be negative). */
uint64_t calendar_add_months(uint64_t ms, int months);

#endif
