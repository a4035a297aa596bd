/* stats: see stats.h. */
#include "stats.h"

#include "auth.h"
#include "calendar.h"
#include "clock.h"
#include "codec.h"
#include "directory.h"
#include "log.h"
#include "policy.h"
#include "session.h"
#include "server.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 32
#define KEY_MAX (CODEC_MAX_TERRITORY + 1 + CALENDAR_DAY_BYTES + NAME_MAX_BYTES + 1 + CODEC_MAX_ID)

/* Appends s and a 0 separator; returns the new length. */
static size_t put_part(uint8_t *key, size_t at, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	memcpy(key + at, s, n);
	key[at + n] = 0;
	return at + n + 1;
}

int stats_add_day(struct store_txn *t, const char *territory, const char *day,
		  const char *indicator, const char *detail, int64_t delta)
{
	uint8_t key[KEY_MAX], val[8];
	const void *old;
	size_t klen, vlen;
	uint64_t count = 0;
	int rc;

	klen = put_part(key, 0, territory, CODEC_MAX_TERRITORY);
	klen = put_part(key, klen, day, CALENDAR_DAY_BYTES - 1);
	klen = put_part(key, klen, indicator, NAME_MAX_BYTES);
	klen = put_part(key, klen, detail ? detail : "", CODEC_MAX_ID) - 1;
	rc = store_get_plain(t, STORE_DB_STATS, key, klen, &old, &vlen);
	if (rc == STORE_OK && vlen == 8)
		count = store_be64_get(old);
	else if (rc != STORE_ENOTFOUND && rc != STORE_OK)
		return rc;
	if (delta < 0 && (uint64_t)-delta > count)
		count = 0;
	else
		count += (uint64_t)delta;
	store_be64_put(val, count);
	return store_put_plain(t, STORE_DB_STATS, key, klen, val, sizeof(val), 0);
}

int stats_add(struct store_txn *t, const char *territory, uint64_t now_ms, const char *indicator,
	      const char *detail, int64_t delta)
{
	char day[CALENDAR_DAY_BYTES];

	calendar_paris_day(now_ms, day);
	return stats_add_day(t, territory, day, indicator, detail, delta);
}

struct each_ctx {
	size_t plen;
	const char *to;
	stats_fn fn;
	void *arg;
};

static int each_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct each_ctx *c = arg;
	char buf[KEY_MAX + 1], *day, *ind, *det;
	size_t n = klen - c->plen;

	if (vlen != 8 || n >= sizeof(buf))
		return -STORE_EFORGED;
	memcpy(buf, (const char *)key + c->plen, n);
	buf[n] = 0;
	day = buf;
	ind = day + strnlen(day, n) + 1;
	if (ind >= buf + n)
		return -STORE_EFORGED;
	det = ind + strlen(ind) + 1;
	if (det > buf + n)
		det = buf + n;
	if (strcmp(day, c->to) > 0)
		return 1;
	return c->fn(day, ind, det, store_be64_get(val), c->arg);
}

int stats_each(struct store_txn *t, const char *territory, const char *from, const char *to,
	       stats_fn fn, void *arg)
{
	uint8_t prefix[CODEC_MAX_TERRITORY + 1], start[CODEC_MAX_TERRITORY + 1 + CALENDAR_DAY_BYTES];
	struct each_ctx c = {0, to, fn, arg};
	size_t slen;
	int rc;

	c.plen = put_part(prefix, 0, territory, CODEC_MAX_TERRITORY);
	memcpy(start, prefix, c.plen);
	slen = put_part(start, c.plen, from, CALENDAR_DAY_BYTES - 1) - 1;
	rc = store_scan(t, STORE_DB_STATS, prefix, c.plen, start, slen, each_one, &c);
	return rc < 0 ? -rc : rc;
}

/* ---- over the wire: StatsRequest ---- */

/* One counter copied out of the read transaction. */
struct row {
	Veille__V1__StatCount msg;
	char day[CALENDAR_DAY_BYTES];
	char indicator[NAME_MAX_BYTES + 1];
	char detail[CODEC_MAX_ID + 1];
};

struct rows {
	struct row *v;
	size_t n, cap;
	int over; /* more than STATS_MAX_COUNTS */
};

static int collect(const char *day, const char *indicator, const char *detail, uint64_t count,
		   void *arg)
{
	struct rows *r = arg;
	struct row *w;

	if (r->n == STATS_MAX_COUNTS) {
		r->over = 1;
		return 1;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		void *p = realloc(r->v, cap * sizeof(*r->v));

		if (!p)
			return -STORE_ENOMEM;
		r->v = p;
		r->cap = cap;
	}
	w = &r->v[r->n++];
	snprintf(w->day, sizeof(w->day), "%s", day);
	snprintf(w->indicator, sizeof(w->indicator), "%s", indicator);
	snprintf(w->detail, sizeof(w->detail), "%s", detail);
	veille__v1__stat_count__init(&w->msg);
	w->msg.count = count;
	return 0;
}

/* Sends the counters: messages point into the rows, which no longer move. */
static void answer(struct session *s, uint64_t request_id, const char *territory,
		   const char *today, struct rows *r)
{
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__StatsResult res = VEILLE__V1__STATS_RESULT__INIT;
	Veille__V1__StatCount **list = r->n ? malloc(r->n * sizeof(*list)) : NULL;

	if (r->n && !list) {
		session_error(s, request_id, VEILLE_ERR(INTERNAL), "out of memory", 0);
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		r->v[i].msg.day = r->v[i].day;
		r->v[i].msg.indicator = r->v[i].indicator;
		r->v[i].msg.detail = r->v[i].detail;
		list[i] = &r->v[i].msg;
	}
	res.territory = (char *)territory;
	res.today = (char *)today;
	res.n_counts = r->n;
	res.counts = list;
	out.request_id = request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_STATS_RESULT;
	out.stats_result = &res;
	session_reply(s, &out);
	free(list);
}

void stats_on_request(struct session *s, const Veille__V1__Envelope *env)
{
	const Veille__V1__StatsRequest *req = env->stats_request;
	Veille__Store__V1__Structure *st = NULL;
	struct store_txn *t = NULL;
	struct rows r = {NULL, 0, 0, 0};
	char today[CALENDAR_DAY_BYTES];
	const char *from, *to;
	int64_t first, last;
	int rc;

	if (!policy_may_read_stats(s->role)) {
		session_error(s, env->request_id, VEILLE_ERR(FORBIDDEN),
			      "the indicators are for the SIAO, supervisors and administrators", 0);
		return;
	}
	calendar_paris_day(clock_now_ms(), today);
	from = req->from_day[0] ? req->from_day : today;
	to = req->to_day[0] ? req->to_day : today;
	if (calendar_day_number(from, &first) != 0 || calendar_day_number(to, &last) != 0 ||
	    first > last) {
		session_error(s, env->request_id, VEILLE_ERR(INVALID_ARGUMENT),
			      "from_day is after to_day", 0);
		return;
	}
	if (last - first + 1 > STATS_MAX_DAYS) {
		session_error(s, env->request_id, VEILLE_ERR(LIMIT_EXCEEDED),
			      "more than 31 days in one request", 0);
		return;
	}
	/* A short read transaction: the counters are copied out, then it ends before the
	 * answer is encoded. */
	rc = store_begin(s->srv->store, 0, &t);
	if (rc == STORE_OK && auth_still_active(s, env->request_id, t) != 0)
		goto out;
	if (rc == STORE_OK)
		rc = directory_structure_get(t, s->structure_id, &st);
	if (rc == STORE_OK)
		rc = stats_each(t, st->territory, from, to, collect, &r);
	store_abort(t);
	t = NULL;
	if (rc != STORE_OK) {
		log_error("stats: request failed: %s", store_strerror(rc));
		session_error(s, env->request_id, VEILLE_ERR(INTERNAL), "storage failure", 0);
	} else if (r.over) {
		session_error(s, env->request_id, VEILLE_ERR(LIMIT_EXCEEDED),
			      "too many counters: ask for fewer days", 0);
	} else {
		answer(s, env->request_id, st->territory, today, &r);
	}
out:
	store_abort(t);
	free(r.v);
	if (st)
		codec_stored_free(&st->base);
}
