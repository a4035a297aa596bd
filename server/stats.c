/* stats: see stats.h. */
#include "stats.h"

#include "calendar.h"
#include "codec.h"
#include "store.h"

#include <stdio.h>
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
