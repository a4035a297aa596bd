/*
 * Unit tests of local.c: the sealed LMDB store. Values round-trip; a value moved to another
 * key or database, altered, or read with another key fails to open; nothing is in clear on
 * disk; the map grows when full.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "local.h"
#include "local_fixture.h"

static const uint8_t key1[LOCAL_KEY_BYTES] = { 1, 2, 3 };
static const uint8_t key2[LOCAL_KEY_BYTES] = { 9, 9, 9 };
#define SECRET "Observation confidentielle: dort sous le pont"

static int setup(void **state)
{
	return local_fixture_open(state, key1);
}

#define teardown local_fixture_close

struct kv {
	enum local_db db;
	const char *key;
	const char *val;
	int no_overwrite;
};

static int put_txn(struct local_txn *t, void *arg)
{
	const struct kv *kv = arg;

	return local_put(t, kv->db, kv->key, strlen(kv->key), (const uint8_t *)kv->val,
			 strlen(kv->val), kv->no_overwrite);
}

static int put(struct local *l, enum local_db db, const char *key, const char *val, int no_ow)
{
	struct kv kv = { db, key, val, no_ow };

	return local_write(l, put_txn, &kv, NULL);
}

struct got {
	enum local_db db;
	const char *key;
	char val[256];
	int found;
};

static int get_txn(struct local_txn *t, void *arg)
{
	struct got *g = arg;
	uint8_t *v = NULL;
	size_t n = 0;
	int rc = local_get(t, g->db, g->key, strlen(g->key), &v, &n, &g->found);

	if (rc == 0 && g->found) {
		assert_true(n < sizeof g->val);
		memcpy(g->val, v, n);
		g->val[n] = '\0';
	}
	free(v);
	return rc;
}

static int get(struct local *l, enum local_db db, const char *key, struct got *g)
{
	memset(g, 0, sizeof *g);
	g->db = db;
	g->key = key;
	return local_read(l, get_txn, g, NULL);
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct got g;

	assert_int_equal(put(f->l, LOCAL_RECORDS, "r1", "one", 0), 0);
	assert_int_equal(put(f->l, LOCAL_RECORDS, "r1", "uno", 0), 0);
	assert_int_equal(get(f->l, LOCAL_RECORDS, "r1", &g), 0);
	assert_true(g.found);
	assert_string_equal(g.val, "uno");
	assert_int_equal(get(f->l, LOCAL_RECORDS, "r2", &g), 0);
	assert_false(g.found);
	assert_int_equal(get(f->l, LOCAL_OUTBOX, "r1", &g), 0); /* databases are apart */
	assert_false(g.found);
	/* A key handed out twice is a corrupt store, not a silent overwrite. */
	assert_int_equal(put(f->l, LOCAL_RECORDS, "r1", "x", 1), VEILLE_ECORRUPT);
	assert_int_equal(get(f->l, LOCAL_RECORDS, "r1", &g), 0);
	assert_string_equal(g.val, "uno");
}

struct walk {
	char keys[8][8];
	size_t n, stop_at;
};

static int walk_fn(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, void *arg)
{
	struct walk *w = arg;

	(void)val;
	(void)vlen;
	if (w->n == w->stop_at)
		return LOCAL_STOP;
	memcpy(w->keys[w->n], key, klen);
	w->keys[w->n++][klen] = '\0';
	return 0;
}

struct walk_ctx {
	struct walk *w;
	const char *from;
	size_t count;
};

static int walk_txn(struct local_txn *t, void *arg)
{
	struct walk_ctx *c = arg;
	int rc = local_count(t, LOCAL_OUTBOX, &c->count);

	return rc ? rc : local_each(t, LOCAL_OUTBOX, c->from, c->from ? strlen(c->from) : 0,
				    walk_fn, c->w);
}

static int clear_txn(struct local_txn *t, void *arg)
{
	(void)arg;
	return local_clear(t, LOCAL_OUTBOX);
}

static void test_each_in_key_order(void **state)
{
	struct fx *f = *state;
	struct walk w = { .stop_at = 99 };
	struct walk_ctx c = { &w, NULL, 0 };

	assert_int_equal(put(f->l, LOCAL_OUTBOX, "c", "3", 0), 0);
	assert_int_equal(put(f->l, LOCAL_OUTBOX, "a", "1", 0), 0);
	assert_int_equal(put(f->l, LOCAL_OUTBOX, "b", "2", 0), 0);
	assert_int_equal(local_read(f->l, walk_txn, &c, NULL), 0);
	assert_int_equal(c.count, 3);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.keys[0], "a");
	assert_string_equal(w.keys[2], "c");
	memset(&w, 0, sizeof w);
	w.stop_at = 1;
	c.from = "b";
	assert_int_equal(local_read(f->l, walk_txn, &c, NULL), 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.keys[0], "b");
	assert_int_equal(local_write(f->l, clear_txn, NULL, NULL), 0);
	c.from = NULL;
	assert_int_equal(local_read(f->l, walk_txn, &c, NULL), 0);
	assert_int_equal(c.count, 0);
}

/* Runs fn on the raw LMDB environment of the store (closed meanwhile). */
static void raw(struct fx *f, void (*fn)(MDB_txn *txn, MDB_dbi rec, MDB_dbi out))
{
	char path[128];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi rec, out;

	local_close(f->l);
	f->l = NULL;
	snprintf(path, sizeof path, "%s/" LOCAL_DIR, f->dir);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)64 << 20), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "records", 0, &rec), 0);
	assert_int_equal(mdb_dbi_open(txn, "outbox", 0, &out), 0);
	fn(txn, rec, out);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(local_open(&f->l, f->dir, key1, NULL), 0);
}

static void copy_value(MDB_txn *txn, MDB_dbi rec, MDB_dbi out)
{
	MDB_val k = { 2, "r1" }, v, k2 = { 2, "r2" };

	assert_int_equal(mdb_get(txn, rec, &k, &v), 0);
	assert_int_equal(mdb_put(txn, rec, &k2, &v, 0), 0); /* another key */
	assert_int_equal(mdb_put(txn, out, &k, &v, 0), 0);  /* another database */
}

static void flip_byte(MDB_txn *txn, MDB_dbi rec, MDB_dbi out)
{
	MDB_val k = { 2, "r3" }, v, w;
	uint8_t buf[256];

	(void)out;
	assert_int_equal(mdb_get(txn, rec, &k, &v), 0);
	assert_true(v.mv_size <= sizeof buf);
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size / 2] ^= 1;
	w.mv_size = v.mv_size;
	w.mv_data = buf;
	assert_int_equal(mdb_put(txn, rec, &k, &w, 0), 0);
}

static void test_sealing_binds_place_and_content(void **state)
{
	struct fx *f = *state;
	struct got g;

	assert_int_equal(put(f->l, LOCAL_RECORDS, "r1", SECRET, 0), 0);
	assert_int_equal(put(f->l, LOCAL_RECORDS, "r3", SECRET, 0), 0);
	raw(f, copy_value);
	assert_int_equal(get(f->l, LOCAL_RECORDS, "r1", &g), 0);
	assert_string_equal(g.val, SECRET);
	assert_int_equal(get(f->l, LOCAL_RECORDS, "r2", &g), VEILLE_ECORRUPT);
	assert_int_equal(get(f->l, LOCAL_OUTBOX, "r1", &g), VEILLE_ECORRUPT);
	raw(f, flip_byte);
	assert_int_equal(get(f->l, LOCAL_RECORDS, "r3", &g), VEILLE_ECORRUPT);

	/* Another device's key opens nothing. */
	local_close(f->l);
	assert_int_equal(local_open(&f->l, f->dir, key2, NULL), 0);
	assert_int_equal(get(f->l, LOCAL_RECORDS, "r1", &g), VEILLE_ECORRUPT);
}

static void test_nothing_in_clear_on_disk(void **state)
{
	struct fx *f = *state;
	char path[128];
	FILE *fp;
	static char buf[1 << 20];
	size_t n;

	assert_int_equal(put(f->l, LOCAL_RECORDS, "r1", SECRET, 0), 0);
	local_close(f->l);
	f->l = NULL;
	snprintf(path, sizeof path, "%s/" LOCAL_DIR "/data.mdb", f->dir);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	assert_true(n > 0);
	assert_null(memmem(buf, n, "pont", 4));
	assert_int_equal(local_open(&f->l, f->dir, key1, NULL), 0);
}

struct big {
	int first;
};

static int big_txn(struct local_txn *t, void *arg)
{
	struct big *b = arg;
	static uint8_t val[1 << 20];
	char key[16];
	int rc;

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "big%03d", b->first + i);
		val[0] = (uint8_t)i;
		if ((rc = local_put(t, LOCAL_RECORDS, key, strlen(key), val, sizeof val, 0)))
			return rc;
	}
	return 0;
}

static int meta_txn(struct local_txn *t, void *arg)
{
	uint64_t *v = arg;
	int found = 0, rc;

	if ((rc = local_get_u64(t, "n", v, &found)))
		return rc;
	return local_put_u64(t, "n", *v + 1);
}

/* 80 MiB through a 64 MiB map: local_write grows it and runs the transaction again. */
static void test_map_grows(void **state)
{
	struct fx *f = *state;
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		struct big b = { i * 10 };

		assert_int_equal(local_write(f->l, big_txn, &b, NULL), 0);
	}
	assert_int_equal(local_write(f->l, meta_txn, &v, NULL), 0);
	assert_int_equal(v, 0);
	assert_int_equal(local_write(f->l, meta_txn, &v, NULL), 0);
	assert_int_equal(v, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_in_key_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sealing_binds_place_and_content, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nothing_in_clear_on_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
	};

	return cmocka_run_group_tests_name("client_unit_local", tests, NULL, NULL);
}
