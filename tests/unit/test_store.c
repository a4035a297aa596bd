/* test_store: the sealed LMDB store, against a real environment in a temporary directory.
 *
 * The tamper tests work at the byte level: they close the store, open DIR/store with liblmdb
 * directly (as an attacker with the files but not the master key would), move or edit sealed
 * bytes, then reopen the store and expect it to refuse them. LMDB must not be opened twice in
 * one process at once, hence the close/reopen around every raw edit. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <lmdb.h>
#include <sodium.h>

#include "keyring.h"
#include "store.h"
#include "unit.h"

/* Layout of a sealed value (store.h): format, class, generation(4), version(8), then the
 * person id (16) for the person class. */
#define HDR_BASE 14
#define PERSON_ID_AT HDR_BASE

struct fixture {
	char dir[PATH_MAX];
	struct keyring *kr;
	struct store *st;
};

static void fixture_open(struct fixture *f)
{
	struct store_options opt = {.map_size = 32u << 20};

	assert_int_equal(store_open(&f->st, f->dir, f->kr, &opt), STORE_OK);
}

static void fixture_close(struct fixture *f)
{
	store_close(f->st);
	f->st = NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	unit_mkdtemp(f->dir);
	assert_int_equal(keyring_create(f->dir), KEYRING_OK);
	assert_int_equal(keyring_load(&f->kr, f->dir), KEYRING_OK);
	fixture_open(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	keyring_free(f->kr);
	unit_rmtree(f->dir);
	free(f);
	return 0;
}

static const uint8_t PERSON_A[STORE_ID_BYTES] = {0xa1, 0xa2, 0xa3, 0xa4, 1, 2, 3, 4,
						 5,    6,    7,    8,    9, 10, 11, 12};
static const uint8_t PERSON_B[STORE_ID_BYTES] = {0xb1, 0xb2, 0xb3, 0xb4, 1, 2, 3, 4,
						 5,    6,    7,    8,    9, 10, 11, 12};
static const uint8_t PERSON_C[STORE_ID_BYTES] = {0xc1, 0xc2, 0xc3, 0xc4, 1, 2, 3, 4,
						 5,    6,    7,    8,    9, 10, 11, 12};

/* One sealed put in its own committed write transaction. */
static void put1(struct fixture *f, enum store_db db, const char *key, const uint8_t *person,
		 uint64_t version, const char *val)
{
	struct store_txn *t;

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_put(t, db, key, strlen(key), person, version, val, strlen(val), 0),
			 STORE_OK);
	assert_int_equal(store_commit(t), STORE_OK);
}

/* One sealed get in its own read transaction; on STORE_OK, the value must equal expect. */
static int get1(struct fixture *f, enum store_db db, const char *key, const char *expect)
{
	struct store_txn *t;
	struct store_buf b = {0};
	int rc;

	assert_int_equal(store_begin(f->st, 0, &t), STORE_OK);
	rc = store_get(t, db, key, strlen(key), &b);
	if (rc == STORE_OK && expect) {
		assert_int_equal(b.len, strlen(expect));
		assert_memory_equal(b.data, expect, b.len);
	}
	store_abort(t);
	store_buf_free(&b);
	return rc;
}

/* ---- raw LMDB access to the store's files, bypassing the seal ---- */

struct raw {
	MDB_env *env;
	MDB_txn *txn;
};

/* Opens the LMDB environment in directory path (DIR/store, DIR/keys or a backup copy). */
static void raw_open(struct raw *r, const char *path)
{
	assert_int_equal(mdb_env_create(&r->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(r->env, 32), 0);
	assert_int_equal(mdb_env_set_mapsize(r->env, 32u << 20), 0);
	assert_int_equal(mdb_env_open(r->env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(r->env, NULL, 0, &r->txn), 0);
}

/* Closes the store and opens its environment sub ("store" or "keys") raw. */
static void raw_begin_env(struct fixture *f, struct raw *r, const char *sub)
{
	char path[PATH_MAX];

	fixture_close(f);
	unit_path(path, f->dir, sub);
	raw_open(r, path);
}

static void raw_begin(struct fixture *f, struct raw *r)
{
	raw_begin_env(f, r, "store");
}

static MDB_dbi raw_dbi(struct raw *r, const char *name)
{
	MDB_dbi dbi;

	assert_int_equal(mdb_dbi_open(r->txn, name, 0, &dbi), 0);
	return dbi;
}

/* Whether the environment has a database of that name. */
static int raw_has_db(struct raw *r, const char *name)
{
	MDB_dbi dbi;
	int rc = mdb_dbi_open(r->txn, name, 0, &dbi);

	assert_true(rc == 0 || rc == MDB_NOTFOUND);
	return rc == 0;
}

/* Number of entries of database name. */
static size_t raw_count(struct raw *r, const char *name)
{
	MDB_stat s;

	assert_int_equal(mdb_stat(r->txn, raw_dbi(r, name), &s), 0);
	return s.ms_entries;
}

/* A malloc'd copy of the raw stored bytes of key (caller frees). */
static uint8_t *raw_get(struct raw *r, const char *db, const void *key, size_t klen, size_t *len)
{
	MDB_val k = {klen, (void *)key}, v;
	uint8_t *copy;

	assert_int_equal(mdb_get(r->txn, raw_dbi(r, db), &k, &v), 0);
	copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return copy;
}

static void raw_put(struct raw *r, const char *db, const void *key, size_t klen, const void *val,
		    size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	assert_int_equal(mdb_put(r->txn, raw_dbi(r, db), &k, &v, 0), 0);
}

/* Commits and closes, leaving the store closed. */
static void raw_close(struct raw *r)
{
	assert_int_equal(mdb_txn_commit(r->txn), 0);
	mdb_env_close(r->env);
}

static void raw_end(struct fixture *f, struct raw *r)
{
	raw_close(r);
	fixture_open(f);
}

/* ---- round trips ---- */

static void test_put_get_directory_key(void **state)
{
	struct fixture *f = *state;

	put1(f, STORE_DB_STRUCTURES, "maraude-13", NULL, 1, "Maraude Paris 13");
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "maraude-13", "Maraude Paris 13"),
			 STORE_OK);
}

static void test_put_get_person_key(void **state)
{
	struct fixture *f = *state;

	put1(f, STORE_DB_RECORDS, "rec-1", PERSON_A, 1, "note about A");
	put1(f, STORE_DB_RECORDS, "rec-2", PERSON_B, 1, "note about B");
	assert_int_equal(get1(f, STORE_DB_RECORDS, "rec-1", "note about A"), STORE_OK);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "rec-2", "note about B"), STORE_OK);
}

static void test_empty_value(void **state)
{
	struct fixture *f = *state;

	put1(f, STORE_DB_STRUCTURES, "empty", NULL, 1, "");
	put1(f, STORE_DB_RECORDS, "empty", PERSON_A, 1, "");
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "empty", ""), STORE_OK);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "empty", ""), STORE_OK);
}

static void test_version_comes_back(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct store_buf b = {0};

	put1(f, STORE_DB_STRUCTURES, "s", NULL, 42, "v42");
	put1(f, STORE_DB_RECORDS, "r", PERSON_A, UINT64_MAX, "vmax");
	assert_int_equal(store_begin(f->st, 0, &t), STORE_OK);
	assert_int_equal(store_get(t, STORE_DB_STRUCTURES, "s", 1, &b), STORE_OK);
	assert_int_equal(b.version, 42);
	/* The buffer is reused (grown as needed) by a second get. */
	assert_int_equal(store_get(t, STORE_DB_RECORDS, "r", 1, &b), STORE_OK);
	assert_int_equal(b.version, UINT64_MAX);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "vmax", 4);
	store_abort(t);
	store_buf_free(&b);
	assert_null(b.data);
}

static void test_nooverwrite_is_eexists(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;

	put1(f, STORE_DB_STRUCTURES, "s", NULL, 1, "first");
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	/* Bad input: a second NOOVERWRITE put on an existing key (sealed, directory and person). */
	assert_int_equal(store_put(t, STORE_DB_STRUCTURES, "s", 1, NULL, 2, "second", 6,
				   STORE_NOOVERWRITE),
			 STORE_EEXISTS);
	assert_int_equal(store_put(t, STORE_DB_STRUCTURES, "s", 1, PERSON_A, 2, "second", 6,
				   STORE_NOOVERWRITE),
			 STORE_EEXISTS);
	assert_int_equal(store_commit(t), STORE_OK);
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "s", "first"), STORE_OK);
	/* Without the flag, put overwrites. */
	put1(f, STORE_DB_STRUCTURES, "s", NULL, 2, "second");
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "s", "second"), STORE_OK);
}

static void test_get_missing_is_enotfound(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "nobody", NULL), STORE_ENOTFOUND);
	put1(f, STORE_DB_STRUCTURES, "somebody", NULL, 1, "x");
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "nobody", NULL), STORE_ENOTFOUND);
	/* Same key, other database. */
	assert_int_equal(get1(f, STORE_DB_PROFESSIONALS, "somebody", NULL), STORE_ENOTFOUND);
}

static void test_second_write_txn_is_ebusy(void **state)
{
	struct fixture *f = *state;
	struct store_txn *w, *w2 = (struct store_txn *)1, *r;

	assert_int_equal(store_begin(f->st, 1, &w), STORE_OK);
	assert_int_equal(store_begin(f->st, 1, &w2), STORE_EBUSY);
	assert_null(w2);
	store_abort(w);
	assert_int_equal(store_begin(f->st, 1, &w2), STORE_OK);
	assert_int_equal(store_begin(f->st, 0, &r), STORE_OK); /* readers are not blocked */
	store_abort(r);
	store_abort(w2);
	store_abort(NULL);
}

/* ---- moved and edited sealed bytes ---- */

static void test_value_moved_to_other_key_is_forged(void **state)
{
	struct fixture *f = *state;
	struct raw r;
	uint8_t *a, *rec;
	size_t alen, reclen;

	put1(f, STORE_DB_STRUCTURES, "alpha", NULL, 1, "value of alpha");
	put1(f, STORE_DB_STRUCTURES, "bravo", NULL, 1, "value of bravo");
	put1(f, STORE_DB_RECORDS, "rec-1", PERSON_A, 1, "note one");
	put1(f, STORE_DB_RECORDS, "rec-2", PERSON_A, 1, "note two");

	raw_begin(f, &r);
	a = raw_get(&r, "structures", "alpha", 5, &alen);
	rec = raw_get(&r, "records", "rec-1", 5, &reclen);
	/* Bad input: alpha's sealed bytes copied over bravo and under a new key charlie. */
	raw_put(&r, "structures", "bravo", 5, a, alen);
	raw_put(&r, "structures", "charlie", 7, a, alen);
	/* Bad input: rec-1's sealed bytes (same person, same key) copied over rec-2. */
	raw_put(&r, "records", "rec-2", 5, rec, reclen);
	raw_end(f, &r);

	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "alpha", "value of alpha"), STORE_OK);
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "bravo", NULL), STORE_EFORGED);
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "charlie", NULL), STORE_EFORGED);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "rec-1", "note one"), STORE_OK);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "rec-2", NULL), STORE_EFORGED);
	free(a);
	free(rec);
}

static void test_value_moved_between_databases_is_forged(void **state)
{
	struct fixture *f = *state;
	struct raw r;
	uint8_t *s, *rec;
	size_t slen, reclen;

	put1(f, STORE_DB_STRUCTURES, "same-key", NULL, 1, "a structure");
	put1(f, STORE_DB_RECORDS, "same-rec", PERSON_A, 1, "a record");

	raw_begin(f, &r);
	s = raw_get(&r, "structures", "same-key", 8, &slen);
	rec = raw_get(&r, "records", "same-rec", 8, &reclen);
	/* Bad input: the same key's sealed bytes moved from "structures" to "professionals"
	 * and "devices" (same directory key, other database). */
	raw_put(&r, "professionals", "same-key", 8, s, slen);
	raw_put(&r, "devices", "same-key", 8, s, slen);
	/* Bad input: a person-sealed record moved to "pairings" under the same key. */
	raw_put(&r, "pairings", "same-rec", 8, rec, reclen);
	raw_end(f, &r);

	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "same-key", "a structure"), STORE_OK);
	assert_int_equal(get1(f, STORE_DB_PROFESSIONALS, "same-key", NULL), STORE_EFORGED);
	assert_int_equal(get1(f, STORE_DB_DEVICES, "same-key", NULL), STORE_EFORGED);
	assert_int_equal(get1(f, STORE_DB_PAIRINGS, "same-rec", NULL), STORE_EFORGED);
	free(s);
	free(rec);
}

/* Puts n copies of val under keys "k000".."k{n-1}", then flips byte i of value "k<i>" at the
 * byte level; returns the length of the sealed values. */
static size_t put_and_flip_each_byte(struct fixture *f, enum store_db db, const char *dbname,
				     const uint8_t *person, const char *val)
{
	struct store_txn *t;
	struct raw r;
	char key[24];
	size_t n, len;
	uint8_t *v;

	/* The sealed length: header + value + nonce + tag (+ person id for the person class). */
	n = HDR_BASE + (person ? STORE_ID_BYTES : 0) + strlen(val) + 40;
	assert_true(n < 1000);
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%03zu", i);
		assert_int_equal(store_put(t, db, key, 4, person, 1, val, strlen(val), 0),
				 STORE_OK);
	}
	assert_int_equal(store_commit(t), STORE_OK);

	raw_begin(f, &r);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%03zu", i);
		v = raw_get(&r, dbname, key, 4, &len);
		assert_int_equal(len, n);
		/* Bad input: sealed value with byte i flipped (header, person id, nonce,
		 * ciphertext or tag). */
		v[i] ^= 0x01;
		raw_put(&r, dbname, key, 4, v, len);
		free(v);
	}
	raw_end(f, &r);
	return n;
}

static void test_edited_byte_directory_value_is_forged(void **state)
{
	struct fixture *f = *state;
	char key[24];
	size_t n = put_and_flip_each_byte(f, STORE_DB_STRUCTURES, "structures", NULL,
					  "Accueil de jour");

	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%03zu", i);
		assert_int_equal(get1(f, STORE_DB_STRUCTURES, key, NULL), STORE_EFORGED);
	}
}

static void test_edited_byte_person_value_is_forged(void **state)
{
	struct fixture *f = *state;
	char key[24];
	size_t n = put_and_flip_each_byte(f, STORE_DB_RECORDS, "records", PERSON_A,
					  "note de maraude");

	for (size_t i = 0; i < n; i++) {
		if (i >= PERSON_ID_AT && i < PERSON_ID_AT + STORE_ID_BYTES)
			continue; /* see test_edited_person_id_byte_is_forged */
		snprintf(key, sizeof(key), "k%03zu", i);
		assert_int_equal(get1(f, STORE_DB_RECORDS, key, NULL), STORE_EFORGED);
	}
}

/* A person-sealed value whose person-id header bytes were edited names a person with no data
 * key: that is tampering (STORE_EFORGED), not an erasure, so it is reported, not skipped.
 * Bad input: each byte of the person id in a stored record flipped. */
static void test_edited_person_id_byte_is_forged(void **state)
{
	struct fixture *f = *state;
	char key[24];

	put_and_flip_each_byte(f, STORE_DB_RECORDS, "records", PERSON_A, "note de maraude");
	for (size_t i = PERSON_ID_AT; i < PERSON_ID_AT + STORE_ID_BYTES; i++) {
		snprintf(key, sizeof(key), "k%03zu", i);
		assert_int_equal(get1(f, STORE_DB_RECORDS, key, NULL), STORE_EFORGED);
	}
}

/* ---- crypto-shredding ---- */

static void test_shred_person(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;

	put1(f, STORE_DB_RECORDS, "a-v1", PERSON_A, 1, "A first");
	put1(f, STORE_DB_RECORDS, "a-v2", PERSON_A, 2, "A second");
	put1(f, STORE_DB_RECORDS, "b-v1", PERSON_B, 1, "B first");

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_shred_person(t, PERSON_A), STORE_OK);
	assert_int_equal(store_commit(t), STORE_OK);

	assert_int_equal(get1(f, STORE_DB_RECORDS, "a-v1", NULL), STORE_ESHREDDED);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "a-v2", NULL), STORE_ESHREDDED);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "b-v1", "B first"), STORE_OK);

	/* Shredding again is harmless (the tombstone stays); an unknown person is not found. */
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_shred_person(t, PERSON_A), STORE_OK);
	assert_int_equal(store_shred_person(t, PERSON_C), STORE_ENOTFOUND);
	store_abort(t);

	/* It survives a reopen: the key is gone from the file, not just from a cache. */
	fixture_close(f);
	fixture_open(f);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "a-v1", NULL), STORE_ESHREDDED);
}

static void test_shred_in_aborted_txn_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;

	put1(f, STORE_DB_RECORDS, "a", PERSON_A, 1, "kept");
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_shred_person(t, PERSON_A), STORE_OK);
	store_abort(t);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "a", "kept"), STORE_OK);
}

/* An erased person stays erased: a later write about them (e.g. an offline device pushing an
 * encounter queued before the erasure) is refused, and their old values stay ESHREDDED. */
static void test_shred_then_rewrite_old_values_stay_shredded(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;

	put1(f, STORE_DB_RECORDS, "old", PERSON_A, 1, "before shredding");
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_shred_person(t, PERSON_A), STORE_OK);
	assert_int_equal(store_commit(t), STORE_OK);
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_put(t, STORE_DB_RECORDS, "new", 3, PERSON_A, 1, "after", 5, 0),
			 STORE_ESHREDDED);
	store_abort(t);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "new", NULL), STORE_ENOTFOUND);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "old", NULL), STORE_ESHREDDED);
}

/* ---- at rest: no plaintext in the file ---- */

static void test_no_plaintext_in_data_file(void **state)
{
	struct fixture *f = *state;
	static const char canary_dir[] = "CANARY-directory-Jeanne-Dupont-rue-de-Rivoli";
	static const char canary_person[] = "CANARY-person-sleeps-under-pont-de-Bercy";
	static const char canary_plain[] = "CANARY-plain-value-stored-as-is";
	char path[PATH_MAX];
	uint8_t *data;
	size_t len;
	struct store_txn *t;

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_put(t, STORE_DB_PROFESSIONALS, "p1", 2, NULL, 1, canary_dir,
				   strlen(canary_dir), 0),
			 STORE_OK);
	assert_int_equal(store_put(t, STORE_DB_RECORDS, "r1", 2, PERSON_A, 1, canary_person,
				   strlen(canary_person), 0),
			 STORE_OK);
	/* A plain value, to prove the scan below would find a string if it were there. */
	assert_int_equal(store_put_plain(t, STORE_DB_META, "control", 7, canary_plain,
					 strlen(canary_plain), 0),
			 STORE_OK);
	assert_int_equal(store_commit(t), STORE_OK);
	fixture_close(f);

	unit_path(path, f->dir, "store/data.mdb");
	data = unit_read_file(path, &len);
	assert_non_null(memmem(data, len, canary_plain, strlen(canary_plain)));
	assert_null(memmem(data, len, canary_dir, strlen(canary_dir)));
	assert_null(memmem(data, len, canary_person, strlen(canary_person)));
	assert_null(memmem(data, len, "Jeanne", 6));
	assert_null(memmem(data, len, "Bercy", 5));
	free(data);
	fixture_open(f);
}

/* ---- scan ---- */

struct seen {
	char keys[8][8];
	int n;
	int stop_after; /* 0: never */
	int fail_with;  /* negative: returned on the first key */
};

static int collect(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct seen *s = arg;

	if (s->fail_with)
		return s->fail_with;
	assert_true(klen < sizeof(s->keys[0]));
	assert_true(s->n < 8);
	/* Plain values come back as stored: "v" + key. */
	assert_int_equal(vlen, klen + 1);
	assert_int_equal(((const char *)val)[0], 'v');
	assert_memory_equal((const char *)val + 1, key, klen);
	memcpy(s->keys[s->n], key, klen);
	s->keys[s->n][klen] = '\0';
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 1 : 0;
}

static int scan(struct fixture *f, const char *prefix, const char *start, struct seen *s)
{
	struct store_txn *t;
	int rc;

	/* No prefix is passed as "" (length 0), not NULL: see test_scan_null_prefix. */
	assert_int_equal(store_begin(f->st, 0, &t), STORE_OK);
	rc = store_scan(t, STORE_DB_META, prefix ? prefix : "", prefix ? strlen(prefix) : 0, start,
			start ? strlen(start) : 0, collect, s);
	store_abort(t);
	return rc;
}

static void test_scan_prefix_and_start(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = {"b1", "a", "a2", "a1", "a3", "ab"};
	struct store_txn *t;
	char val[8];

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(val, sizeof(val), "v%s", keys[i]);
		assert_int_equal(store_put_plain(t, STORE_DB_META, keys[i], strlen(keys[i]), val,
						 strlen(val), 0),
				 STORE_OK);
	}
	assert_int_equal(store_commit(t), STORE_OK);

	{ /* no prefix, no start: everything in key order */
		struct seen s = {0};

		assert_int_equal(scan(f, NULL, NULL, &s), STORE_OK);
		assert_int_equal(s.n, 6);
		assert_string_equal(s.keys[0], "a");
		assert_string_equal(s.keys[1], "a1");
		assert_string_equal(s.keys[2], "a2");
		assert_string_equal(s.keys[3], "a3");
		assert_string_equal(s.keys[4], "ab");
		assert_string_equal(s.keys[5], "b1");
	}
	{ /* prefix "a": every key beginning with it, not b1 */
		struct seen s = {0};

		assert_int_equal(scan(f, "a", NULL, &s), STORE_OK);
		assert_int_equal(s.n, 5);
		assert_string_equal(s.keys[4], "ab");
	}
	{ /* prefix "a", start "a2": keys >= a2 with the prefix */
		struct seen s = {0};

		assert_int_equal(scan(f, "a", "a2", &s), STORE_OK);
		assert_int_equal(s.n, 3);
		assert_string_equal(s.keys[0], "a2");
		assert_string_equal(s.keys[1], "a3");
		assert_string_equal(s.keys[2], "ab");
	}
	{ /* start between keys: from the next one */
		struct seen s = {0};

		assert_int_equal(scan(f, "a", "a25", &s), STORE_OK);
		assert_int_equal(s.n, 2);
		assert_string_equal(s.keys[0], "a3");
	}
	{ /* prefix "a1" matches one key */
		struct seen s = {0};

		assert_int_equal(scan(f, "a1", NULL, &s), STORE_OK);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.keys[0], "a1");
	}
	{ /* prefixes with no key: before, between, after all keys */
		struct seen s = {0};

		assert_int_equal(scan(f, "0", NULL, &s), STORE_OK);
		assert_int_equal(scan(f, "aa", NULL, &s), STORE_OK);
		assert_int_equal(scan(f, "c", NULL, &s), STORE_OK);
		assert_int_equal(scan(f, "a", "b", &s), STORE_OK);
		assert_int_equal(s.n, 0);
	}
	{ /* fn returns 1: stop early, OK */
		struct seen s = {.stop_after = 2};

		assert_int_equal(scan(f, NULL, NULL, &s), STORE_OK);
		assert_int_equal(s.n, 2);
	}
	{ /* fn returns a negative value: store_scan returns it */
		struct seen s = {.fail_with = -7};

		assert_int_equal(scan(f, "a", NULL, &s), -7);
	}
}

/* store_scan with no prefix visits every key (directory_list and veillectl's listings). */
static void test_scan_null_prefix(void **state)
{
	struct fixture *f = *state;
	struct seen s = {0};
	struct store_txn *t;

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_put_plain(t, STORE_DB_META, "a", 1, "va", 2, 0), STORE_OK);
	assert_int_equal(store_put_plain(t, STORE_DB_META, "b", 1, "vb", 2, 0), STORE_OK);
	assert_int_equal(store_commit(t), STORE_OK);
	assert_int_equal(store_begin(f->st, 0, &t), STORE_OK);
	assert_int_equal(store_scan(t, STORE_DB_META, NULL, 0, NULL, 0, collect, &s), STORE_OK);
	store_abort(t);
	assert_int_equal(s.n, 2);
}

static int check_sealed(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	(void)key;
	(void)klen;
	/* Raw sealed bytes: header + nonce + ciphertext + tag, not the plaintext. */
	assert_int_equal(vlen, HDR_BASE + 17 + 40);
	assert_null(memmem(val, vlen, "value-x", 7));
	(*(int *)arg)++;
	return 0;
}

static void test_scan_sealed_values_stay_sealed(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	int count = 0;

	put1(f, STORE_DB_STRUCTURES, "x", NULL, 1, "value-x-plaintext");
	assert_int_equal(store_begin(f->st, 0, &t), STORE_OK);
	assert_int_equal(store_scan(t, STORE_DB_STRUCTURES, "", 0, NULL, 0, check_sealed, &count),
			 STORE_OK);
	store_abort(t);
	assert_int_equal(count, 1);
}

/* ---- counters, transactions, plain values ---- */

static void test_next_counter(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	uint64_t v = 0;

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_next_counter(t, "seq", &v), STORE_OK);
	assert_int_equal(v, 1);
	assert_int_equal(store_next_counter(t, "seq", &v), STORE_OK);
	assert_int_equal(v, 2);
	assert_int_equal(store_next_counter(t, "other", &v), STORE_OK);
	assert_int_equal(v, 1);
	assert_int_equal(store_commit(t), STORE_OK);

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_next_counter(t, "seq", &v), STORE_OK);
	assert_int_equal(v, 3);
	store_abort(t); /* an aborted increment is not kept */

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_next_counter(t, "seq", &v), STORE_OK);
	assert_int_equal(v, 3);
	assert_int_equal(store_commit(t), STORE_OK);
}

static int write_two(struct store_txn *t, void *arg)
{
	int rc = store_put_plain(t, STORE_DB_META, "w1", 2, "one", 3, 0);

	if (rc == STORE_OK)
		rc = store_put(t, STORE_DB_STRUCTURES, "w2", 2, NULL, 1, "two", 3, 0);
	if (rc == STORE_OK && arg)
		rc = *(const int *)arg; /* then fail as asked */
	return rc;
}

static void test_store_write_commits(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	const void *v;
	size_t vlen;

	assert_int_equal(store_write(f->st, write_two, NULL), STORE_OK);
	assert_int_equal(store_begin(f->st, 0, &t), STORE_OK);
	assert_int_equal(store_get_plain(t, STORE_DB_META, "w1", 2, &v, &vlen), STORE_OK);
	assert_int_equal(vlen, 3);
	assert_memory_equal(v, "one", 3);
	store_abort(t);
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "w2", "two"), STORE_OK);
}

static void test_store_write_error_discards(void **state)
{
	struct fixture *f = *state;
	int fail = STORE_EEXISTS;
	struct store_txn *t;

	assert_int_equal(store_write(f->st, write_two, &fail), STORE_EEXISTS);
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "w2", NULL), STORE_ENOTFOUND);
	/* The write slot was released. */
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	store_abort(t);
}

static void test_abort_discards(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	const void *v;
	size_t vlen;

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_put_plain(t, STORE_DB_META, "gone", 4, "x", 1, 0), STORE_OK);
	assert_int_equal(store_put(t, STORE_DB_RECORDS, "gone", 4, PERSON_A, 1, "y", 1, 0),
			 STORE_OK);
	/* Visible inside the transaction ... */
	assert_int_equal(store_get_plain(t, STORE_DB_META, "gone", 4, &v, &vlen), STORE_OK);
	store_abort(t);
	/* ... and not after the abort, nor the person key it created. */
	assert_int_equal(store_begin(f->st, 0, &t), STORE_OK);
	assert_int_equal(store_get_plain(t, STORE_DB_META, "gone", 4, &v, &vlen),
			 STORE_ENOTFOUND);
	store_abort(t);
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_shred_person(t, PERSON_A), STORE_ENOTFOUND); /* no key for A */
	store_abort(t);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "gone", NULL), STORE_ENOTFOUND);
}

static void test_plain_put_get_del(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	const void *v;
	size_t vlen;
	uint8_t be[8];

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_put_plain(t, STORE_DB_HEADS, "k", 1, "plain", 5, 0), STORE_OK);
	/* Bad input: NOOVERWRITE on an existing plain key. */
	assert_int_equal(store_put_plain(t, STORE_DB_HEADS, "k", 1, "other", 5, STORE_NOOVERWRITE),
			 STORE_EEXISTS);
	assert_int_equal(store_put_plain(t, STORE_DB_HEADS, "e", 1, "", 0, 0), STORE_OK);
	assert_int_equal(store_commit(t), STORE_OK);

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_get_plain(t, STORE_DB_HEADS, "k", 1, &v, &vlen), STORE_OK);
	assert_int_equal(vlen, 5);
	assert_memory_equal(v, "plain", 5);
	assert_int_equal(store_get_plain(t, STORE_DB_HEADS, "e", 1, &v, &vlen), STORE_OK);
	assert_int_equal(vlen, 0);
	assert_int_equal(store_get_plain(t, STORE_DB_FEED, "k", 1, &v, &vlen), STORE_ENOTFOUND);
	assert_int_equal(store_del(t, STORE_DB_HEADS, "k", 1), STORE_OK);
	assert_int_equal(store_get_plain(t, STORE_DB_HEADS, "k", 1, &v, &vlen), STORE_ENOTFOUND);
	assert_int_equal(store_del(t, STORE_DB_HEADS, "k", 1), STORE_ENOTFOUND);
	assert_int_equal(store_commit(t), STORE_OK);

	store_be64_put(be, 0x0102030405060708ull);
	assert_int_equal(be[0], 1);
	assert_int_equal(be[7], 8);
	assert_int_equal(store_be64_get(be), 0x0102030405060708ull);
}

static void test_plain_value_is_not_sealed_get(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct store_buf b = {0};

	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_put_plain(t, STORE_DB_META, "p", 1, "not a sealed value at all",
					 25, 0),
			 STORE_OK);
	assert_int_equal(store_put_plain(t, STORE_DB_META, "q", 1, "", 0, 0), STORE_OK);
	/* Bad input: store_get (sealed) on plain values, long and empty. */
	assert_int_equal(store_get(t, STORE_DB_META, "p", 1, &b), STORE_EFORGED);
	assert_int_equal(store_get(t, STORE_DB_META, "q", 1, &b), STORE_EFORGED);
	store_abort(t);
	store_buf_free(&b);
}

static void test_other_master_key_cannot_read(void **state)
{
	struct fixture *f = *state;
	char dir2[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	struct keyring *kr2 = NULL;

	put1(f, STORE_DB_STRUCTURES, "s", NULL, 1, "directory value");
	put1(f, STORE_DB_RECORDS, "r", PERSON_A, 1, "person value");
	fixture_close(f);
	/* Bad input: the store files opened with another master key (a stolen backup). */
	unit_mkdtemp(dir2);
	assert_int_equal(keyring_create(dir2), KEYRING_OK);
	assert_int_equal(keyring_load(&kr2, dir2), KEYRING_OK);
	for (int i = 0; i < 2; i++) {
		unit_path(src, f->dir, i ? "keys" : "store");
		unit_path(dst, dir2, i ? "keys" : "store");
		assert_int_equal(rename(src, dst), 0);
	}
	keyring_free(f->kr);
	f->kr = kr2;
	unit_rmtree(f->dir);
	memcpy(f->dir, dir2, sizeof(f->dir));
	fixture_open(f);
	assert_int_equal(get1(f, STORE_DB_STRUCTURES, "s", NULL), STORE_EFORGED);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "r", NULL), STORE_EFORGED);
}

/* ---- the key ring apart from the records, and backups ---- */

/* Person keys live in DIR/keys, not in DIR/store: the store's file has no person_keys
 * database, the key ring has nothing else. */
static void test_person_keys_in_their_own_environment(void **state)
{
	struct fixture *f = *state;
	struct raw r;

	put1(f, STORE_DB_RECORDS, "a", PERSON_A, 1, "about A");
	put1(f, STORE_DB_RECORDS, "b", PERSON_B, 1, "about B");
	raw_begin(f, &r);
	assert_false(raw_has_db(&r, "person_keys"));
	assert_int_equal(raw_count(&r, "records"), 2);
	raw_close(&r);
	raw_begin_env(f, &r, "keys");
	assert_int_equal(raw_count(&r, "person_keys"), 2);
	assert_false(raw_has_db(&r, "records"));
	raw_end(f, &r);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "a", "about A"), STORE_OK);
}

/* store_backup copies DIR/store (compacted) and no person key; store_backup_keys copies the
 * key ring and nothing else. Bad input: a directory that already holds a copy. */
static void test_backup_holds_no_person_key(void **state)
{
	struct fixture *f = *state;
	char bk[PATH_MAX], kbk[PATH_MAX], file[PATH_MAX];
	struct stat sb;
	struct raw r;

	put1(f, STORE_DB_STRUCTURES, "s", NULL, 1, "a structure");
	put1(f, STORE_DB_RECORDS, "a", PERSON_A, 1, "about A");
	put1(f, STORE_DB_RECORDS, "b", PERSON_B, 1, "about B");
	unit_path(bk, f->dir, "backup");
	unit_path(kbk, f->dir, "backup-keys");
	assert_int_equal(mkdir(bk, 0700), 0);
	assert_int_equal(mkdir(kbk, 0700), 0);
	assert_int_equal(store_backup(f->st, bk), STORE_OK);
	assert_int_equal(store_backup_keys(f->st, kbk), STORE_OK);
	assert_int_equal(store_backup(f->st, bk), STORE_EEXISTS);
	assert_int_equal(store_backup_keys(f->st, kbk), STORE_EEXISTS);
	unit_path(file, bk, "data.mdb"); /* the copy is as private as the store */
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	raw_open(&r, bk);
	assert_false(raw_has_db(&r, "person_keys"));
	assert_int_equal(raw_count(&r, "records"), 2);
	assert_int_equal(raw_count(&r, "structures"), 1);
	raw_close(&r);
	raw_open(&r, kbk);
	assert_int_equal(raw_count(&r, "person_keys"), 2);
	assert_false(raw_has_db(&r, "records"));
	raw_close(&r);
}

/* The case at the store's level: a backup, then A erased; the backup restored as
 * DIR/store with the live key ring: A's records read as erased, B's are all there. */
static void test_erasure_reaches_restored_backup(void **state)
{
	struct fixture *f = *state;
	char bk[PATH_MAX], live[PATH_MAX], old[PATH_MAX];
	struct store_txn *t;

	put1(f, STORE_DB_RECORDS, "a-1", PERSON_A, 1, "A first");
	put1(f, STORE_DB_RECORDS, "a-2", PERSON_A, 1, "A second");
	put1(f, STORE_DB_RECORDS, "b-1", PERSON_B, 1, "B first");
	unit_path(bk, f->dir, "backup");
	assert_int_equal(mkdir(bk, 0700), 0);
	assert_int_equal(store_backup(f->st, bk), STORE_OK);
	put1(f, STORE_DB_RECORDS, "b-2", PERSON_B, 1, "B after the backup");
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_shred_person(t, PERSON_A), STORE_OK);
	assert_int_equal(store_commit(t), STORE_OK);

	fixture_close(f);
	unit_path(live, f->dir, "store");
	unit_path(old, f->dir, "store-before-restore");
	assert_int_equal(rename(live, old), 0);
	assert_int_equal(rename(bk, live), 0);
	fixture_open(f);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "a-1", NULL), STORE_ESHREDDED);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "a-2", NULL), STORE_ESHREDDED);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "b-1", "B first"), STORE_OK);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "b-2", NULL), STORE_ENOTFOUND);
}

/* A store of the first format (person keys in DIR/store's person_keys database) opens: its
 * keys move to DIR/keys once, and the old database is dropped. A key already in DIR/keys
 * wins over the old one: B was erased after the old keys were left behind (an interrupted
 * move), and the old key must not bring them back. */
static void test_old_format_keys_move_once(void **state)
{
	struct fixture *f = *state;
	uint8_t *a_key, *b_key;
	size_t a_len, b_len;
	struct store_txn *t;
	struct raw r;
	MDB_dbi old;
	MDB_val k = {STORE_ID_BYTES, (void *)PERSON_A};

	put1(f, STORE_DB_RECORDS, "a", PERSON_A, 1, "about A");
	put1(f, STORE_DB_RECORDS, "b", PERSON_B, 1, "about B");
	raw_begin_env(f, &r, "keys");
	a_key = raw_get(&r, "person_keys", PERSON_A, STORE_ID_BYTES, &a_len);
	b_key = raw_get(&r, "person_keys", PERSON_B, STORE_ID_BYTES, &b_len);
	raw_end(f, &r);
	assert_int_equal(store_begin(f->st, 1, &t), STORE_OK);
	assert_int_equal(store_shred_person(t, PERSON_B), STORE_OK);
	assert_int_equal(store_commit(t), STORE_OK);
	/* The old layout: A's key only in DIR/store, B's old key there too. */
	raw_begin_env(f, &r, "keys");
	assert_int_equal(mdb_del(r.txn, raw_dbi(&r, "person_keys"), &k, NULL), 0);
	raw_close(&r);
	raw_begin(f, &r);
	assert_int_equal(mdb_dbi_open(r.txn, "person_keys", MDB_CREATE, &old), 0);
	raw_put(&r, "person_keys", PERSON_A, STORE_ID_BYTES, a_key, a_len);
	raw_put(&r, "person_keys", PERSON_B, STORE_ID_BYTES, b_key, b_len);
	raw_end(f, &r);

	assert_int_equal(get1(f, STORE_DB_RECORDS, "a", "about A"), STORE_OK);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "b", NULL), STORE_ESHREDDED);
	raw_begin(f, &r);
	assert_false(raw_has_db(&r, "person_keys"));
	raw_close(&r);
	raw_begin_env(f, &r, "keys");
	assert_int_equal(raw_count(&r, "person_keys"), 2);
	raw_end(f, &r);
	assert_int_equal(get1(f, STORE_DB_RECORDS, "a", "about A"), STORE_OK);
	free(a_key);
	free(b_key);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = STORE_OK; e <= STORE_EBUSY; e++)
		assert_string_not_equal(store_strerror(e), "unknown store error");
	assert_string_equal(store_strerror(1234), "unknown store error");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_put_get_directory_key),
		T(test_put_get_person_key),
		T(test_empty_value),
		T(test_version_comes_back),
		T(test_nooverwrite_is_eexists),
		T(test_get_missing_is_enotfound),
		T(test_second_write_txn_is_ebusy),
		T(test_value_moved_to_other_key_is_forged),
		T(test_value_moved_between_databases_is_forged),
		T(test_edited_byte_directory_value_is_forged),
		T(test_edited_byte_person_value_is_forged),
		T(test_edited_person_id_byte_is_forged),
		T(test_shred_person),
		T(test_shred_in_aborted_txn_keeps_data),
		T(test_shred_then_rewrite_old_values_stay_shredded),
		T(test_no_plaintext_in_data_file),
		T(test_scan_prefix_and_start),
		T(test_scan_null_prefix),
		T(test_scan_sealed_values_stay_sealed),
		T(test_next_counter),
		T(test_store_write_commits),
		T(test_store_write_error_discards),
		T(test_abort_discards),
		T(test_plain_put_get_del),
		T(test_plain_value_is_not_sealed_get),
		T(test_other_master_key_cannot_read),
		T(test_person_keys_in_their_own_environment),
		T(test_backup_holds_no_person_key),
		T(test_erasure_reaches_restored_backup),
		T(test_old_format_keys_move_once),
		cmocka_unit_test(test_strerror),
	};
#undef T

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
