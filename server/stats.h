/* stats: the préfet's activity indicators (R345-9 6°, 7°), as counters.
 *
 * STORE_DB_STATS (plain): territory | 0 | day | 0 | indicator | 0 | detail -> count (be64).
 * The day is the calendar date in Europe/Paris ("2026-11-30", calendar.h); detail is a refusal motive's
 * name, a team's structure id, or empty. A counter is raised in the same transaction as the
 * event it counts, so it never disagrees with the records. Nothing identifying is ever a key
 * or a value here: no person id, no record id, no free text; veillectl stats prints from this
 * database only (docs/orientations.md lists the indicators), and so does the StatsRequest
 * handler, which gives them to the SIAO's and the supervisors' desks over the wire. */
#ifndef VEILLE_STATS_H
#define VEILLE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "veille/v1/envelope.pb-c.h"

#define STATS_MAX_DAYS 31       /* days of one StatsRequest, both ends included */
#define STATS_MAX_COUNTS 10000  /* counters in one StatsResult */

struct session;
struct store_txn;

/* Adds delta (may be negative; a counter never goes below 0) to a counter of the day of
 * now_ms. detail may be NULL. Errors: storage errors. */
int stats_add(struct store_txn *t, const char *territory, uint64_t now_ms, const char *indicator,
	      const char *detail, int64_t delta);

/* Same, for a given day. */
int stats_add_day(struct store_txn *t, const char *territory, const char *day,
		  const char *indicator, const char *detail, int64_t delta);

/* Calls fn for every counter of territory from day `from` to day `to` (inclusive, as
 * "YYYY-MM-DD"), in (day, indicator, detail) order; fn returns 0 to go on. */
typedef int (*stats_fn)(const char *day, const char *indicator, const char *detail,
			uint64_t count, void *arg);
int stats_each(struct store_txn *t, const char *territory, const char *from, const char *to,
	       stats_fn fn, void *arg);

/* Handler of StatsRequest (an authenticated session; the codec checked the days' form): the
 * counters of the session's own territory from from_day to to_day (empty: today, in
 * Europe/Paris), read in one short read transaction. Answers StatsResult, or Error FORBIDDEN
 * (a role policy_may_read_stats refuses), INVALID_ARGUMENT (from_day after to_day),
 * LIMIT_EXCEEDED (over STATS_MAX_DAYS days, or STATS_MAX_COUNTS counters), INTERNAL. */
void stats_on_request(struct session *s, const Veille__V1__Envelope *env);

#endif
