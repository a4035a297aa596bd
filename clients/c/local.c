/*
 * local: the sealed LMDB store of the device (see local.h for the design).
 *
 * The map starts at LOCAL_MAP_INITIAL (a sparse file: only what is written takes room) and
 * doubles when a write finds it full, up to LOCAL_MAP_MAX. Another process that grew it makes
 * our next transaction fail with MDB_MAP_RESIZED: we adopt its size and begin again.
 */
#include "local.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "errors.h"
#include "seal.h"

#define LOCAL_MAP_INITIAL ((size_t)64 << 20)
#define LOCAL_MAP_MAX ((size_t)64 << 30)
#define LOCAL_MAX_DBS 8         /* room for databases of later versions */
#define LOCAL_MAX_KEY 511       /* LMDB's default key limit */
#define AD_DOMAIN "veille.client.v1/"
#define AD_MAX (sizeof AD_DOMAIN + 16 + LOCAL_MAX_KEY)
#define EFULL (VEILLE_NERR + 100) /* map full: local_write grows and retries; never returned */
#define MAX_ATTEMPTS 12           /* 64 MiB doubled 10 times is LOCAL_MAP_MAX */

static const char *const db_names[LOCAL_NDB] = {
	[LOCAL_OUTBOX] = "outbox",
	[LOCAL_RECORDS] = "records",
	[LOCAL_META] = "meta",
	[LOCAL_PROBLEMS] = "problems",
};

struct local {
	MDB_env *env;
	MDB_dbi dbi[LOCAL_NDB];
	uint8_t *key;             /* sodium_malloc: LOCAL_KEY_BYTES */
	size_t map_size;
	char path[PATH_MAX];
};

struct local_txn {
	struct local *l;
	MDB_txn *txn;
	struct veille_error *err;
};

/* Maps an LMDB or system code to ours, with a message naming what failed. */
static int fail(struct veille_error *err, int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return EFULL;
	if (rc == ENOMEM)
		return errors_set(err, VEILLE_ENOMEM, "local store: %s: out of memory", what);
	return errors_set(err, VEILLE_EIO, "local store: %s: %s", what, mdb_strerror(rc));
}

static int make_dir(const char *path, struct veille_error *err)
{
	struct stat st;

	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return errors_set(err, VEILLE_EIO, "%s: cannot create: %s", path, strerror(errno));
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return errors_set(err, VEILLE_EIO, "%s: not a directory", path);
	return 0;
}

int local_open(struct local **out, const char *dir, const uint8_t key[LOCAL_KEY_BYTES],
	       struct veille_error *err)
{
	struct local *l;
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	int rc, dead = 0, n;

	*out = NULL;
	if (sodium_init() < 0) /* idempotent; the library's entry points call it too */
		return errors_set(err, VEILLE_EIO, "libsodium cannot initialise");
	l = calloc(1, sizeof *l);
	if (!l)
		return errors_set(err, VEILLE_ENOMEM, "out of memory");
	l->key = sodium_malloc(LOCAL_KEY_BYTES);
	if (!l->key) {
		free(l);
		return errors_set(err, VEILLE_ENOMEM, "out of memory");
	}
	memcpy(l->key, key, LOCAL_KEY_BYTES);
	l->map_size = LOCAL_MAP_INITIAL;
	n = snprintf(l->path, sizeof l->path, "%s/" LOCAL_DIR, dir);
	if (n < 0 || (size_t)n >= sizeof l->path) {
		rc = errors_set(err, VEILLE_EIO, "%s: path too long", dir);
		goto fail;
	}
	if ((rc = make_dir(l->path, err)))
		goto fail;
	if ((rc = mdb_env_create(&l->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(l->env, LOCAL_MAX_DBS)) != 0 ||
	    (rc = mdb_env_set_mapsize(l->env, l->map_size)) != 0 ||
	    (rc = mdb_env_open(l->env, l->path, MDB_NOTLS, 0600)) != 0) {
		rc = errors_set(err, rc == ENOMEM ? VEILLE_ENOMEM : VEILLE_EIO, "%s: %s", l->path,
				mdb_strerror(rc));
		goto fail;
	}
	/* Reader slots of crashed processes would pin old pages for ever. */
	mdb_reader_check(l->env, &dead);
	if (mdb_env_info(l->env, &info) == 0 && info.me_mapsize > l->map_size)
		l->map_size = info.me_mapsize;
	if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) != 0) {
		rc = fail(err, rc, "begin");
		goto fail;
	}
	for (int i = 0; i < LOCAL_NDB; i++) {
		if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &l->dbi[i])) != 0) {
			rc = fail(err, rc, db_names[i]);
			goto fail;
		}
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc) {
		rc = fail(err, rc, "commit");
		goto fail;
	}
	*out = l;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	if (rc == EFULL)
		rc = errors_set(err, VEILLE_EIO, "%s: full", l->path);
	local_close(l);
	return rc;
}

void local_close(struct local *l)
{
	if (!l)
		return;
	if (l->env)
		mdb_env_close(l->env);
	sodium_free(l->key);
	free(l);
}

int local_remove(const char *dir, struct veille_error *err)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/" LOCAL_DIR "/%s", dir, files[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			return errors_set(err, VEILLE_EIO, "%s: cannot remove: %s", path,
					  strerror(errno));
	}
	snprintf(path, sizeof path, "%s/" LOCAL_DIR, dir);
	if (rmdir(path) != 0 && errno != ENOENT)
		return errors_set(err, VEILLE_EIO, "%s: cannot remove: %s", path, strerror(errno));
	return 0;
}

static int begin(struct local *l, int write, MDB_txn **txn, struct veille_error *err)
{
	unsigned flags = write ? 0 : MDB_RDONLY;
	int rc = mdb_txn_begin(l->env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		mdb_env_set_mapsize(l->env, 0);
		rc = mdb_txn_begin(l->env, NULL, flags, txn);
	}
	if (rc)
		return fail(err, rc, "begin");
	return 0;
}

static int grow(struct local *l, struct veille_error *err)
{
	int rc;

	if (l->map_size >= LOCAL_MAP_MAX)
		return errors_set(err, VEILLE_EIO, "%s: full (%zu MiB)", l->path,
				  l->map_size >> 20);
	if ((rc = mdb_env_set_mapsize(l->env, l->map_size * 2)) != 0)
		return errors_set(err, VEILLE_EIO, "%s: cannot grow: %s", l->path,
				  mdb_strerror(rc));
	l->map_size *= 2;
	return 0;
}

int local_write(struct local *l, local_fn fn, void *arg, struct veille_error *err)
{
	for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		struct local_txn t = { l, NULL, err };
		int rc = begin(l, 1, &t.txn, err);

		if (rc == 0) {
			rc = fn(&t, arg);
			if (rc == 0) {
				rc = mdb_txn_commit(t.txn);
				if (rc)
					rc = fail(err, rc, "commit");
			} else {
				mdb_txn_abort(t.txn);
			}
		}
		if (rc != EFULL)
			return rc;
		if ((rc = grow(l, err)))
			return rc;
	}
	return errors_set(err, VEILLE_EIO, "%s: full", l->path);
}

int local_read(struct local *l, local_fn fn, void *arg, struct veille_error *err)
{
	struct local_txn t = { l, NULL, err };
	int rc = begin(l, 0, &t.txn, err);

	if (rc)
		return rc;
	rc = fn(&t, arg);
	mdb_txn_abort(t.txn);
	return rc == EFULL ? errors_set(err, VEILLE_EIO, "local store: write in a read") : rc;
}

/* "veille.client.v1/" || db name || "/" || key. */
static size_t make_ad(uint8_t ad[AD_MAX], enum local_db db, const void *key, size_t klen)
{
	size_t n = strlen(AD_DOMAIN), d = strlen(db_names[db]);

	memcpy(ad, AD_DOMAIN, n);
	memcpy(ad + n, db_names[db], d);
	n += d;
	ad[n++] = '/';
	memcpy(ad + n, key, klen);
	return n + klen;
}

/* Unseals data into a new buffer (caller frees). */
static int unseal(struct local_txn *t, enum local_db db, const void *key, size_t klen,
		  const MDB_val *data, uint8_t **out, size_t *len)
{
	uint8_t ad[AD_MAX], *buf;
	size_t adlen, n;

	if (data->mv_size < SEAL_OVERHEAD)
		return errors_set(t->err, VEILLE_ECORRUPT,
				  "local store: a value in %s is truncated", db_names[db]);
	n = data->mv_size - SEAL_OVERHEAD;
	buf = malloc(n ? n : 1);
	if (!buf)
		return errors_set(t->err, VEILLE_ENOMEM, "out of memory");
	adlen = make_ad(ad, db, key, klen);
	if (seal_open(t->l->key, ad, adlen, data->mv_data, data->mv_size, buf) != SEAL_OK) {
		free(buf);
		return errors_set(t->err, VEILLE_ECORRUPT,
				  "local store: a value in %s does not authenticate (altered, "
				  "moved, or sealed by another device)", db_names[db]);
	}
	*out = buf;
	*len = n;
	return 0;
}

static int check_key(struct local_txn *t, size_t klen)
{
	if (klen == 0 || klen > LOCAL_MAX_KEY)
		return errors_set(t->err, VEILLE_EARG, "local store: key of %zu bytes", klen);
	return 0;
}

int local_get(struct local_txn *t, enum local_db db, const void *key, size_t klen,
	      uint8_t **val, size_t *vlen, int *found)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	*found = 0;
	if ((rc = check_key(t, klen)))
		return rc;
	rc = mdb_get(t->txn, t->l->dbi[db], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return fail(t->err, rc, db_names[db]);
	if ((rc = unseal(t, db, key, klen, &v, val, vlen)))
		return rc;
	*found = 1;
	return 0;
}

int local_put(struct local_txn *t, enum local_db db, const void *key, size_t klen,
	      const uint8_t *val, size_t vlen, int no_overwrite)
{
	MDB_val k = { klen, (void *)key }, v;
	uint8_t ad[AD_MAX], *sealed;
	size_t adlen;
	int rc;

	if ((rc = check_key(t, klen)))
		return rc;
	if (vlen > SIZE_MAX - SEAL_OVERHEAD)
		return errors_set(t->err, VEILLE_EARG, "local store: value too big");
	sealed = malloc(vlen + SEAL_OVERHEAD);
	if (!sealed)
		return errors_set(t->err, VEILLE_ENOMEM, "out of memory");
	adlen = make_ad(ad, db, key, klen);
	seal_seal(t->l->key, ad, adlen, val, vlen, sealed);
	v.mv_size = vlen + SEAL_OVERHEAD;
	v.mv_data = sealed;
	rc = mdb_put(t->txn, t->l->dbi[db], &k, &v, no_overwrite ? MDB_NOOVERWRITE : 0);
	free(sealed);
	if (rc == MDB_KEYEXIST)
		return errors_set(t->err, VEILLE_ECORRUPT, "local store: %s already holds that key",
				  db_names[db]);
	return rc ? fail(t->err, rc, db_names[db]) : 0;
}

int local_del(struct local_txn *t, enum local_db db, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int rc;

	if ((rc = check_key(t, klen)))
		return rc;
	rc = mdb_del(t->txn, t->l->dbi[db], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc ? fail(t->err, rc, db_names[db]) : 0;
}

int local_clear(struct local_txn *t, enum local_db db)
{
	int rc = mdb_drop(t->txn, t->l->dbi[db], 0);

	return rc ? fail(t->err, rc, db_names[db]) : 0;
}

int local_count(struct local_txn *t, enum local_db db, size_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(t->txn, t->l->dbi[db], &st);

	if (rc)
		return fail(t->err, rc, db_names[db]);
	*n = st.ms_entries;
	return 0;
}

int local_each(struct local_txn *t, enum local_db db, const void *from, size_t flen,
	       local_each_fn fn, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k = { flen, (void *)from }, v;
	MDB_cursor_op op = from ? MDB_SET_RANGE : MDB_FIRST;
	int rc;

	if (from && (rc = check_key(t, flen)))
		return rc;
	if ((rc = mdb_cursor_open(t->txn, t->l->dbi[db], &cur)) != 0)
		return fail(t->err, rc, db_names[db]);
	for (;; op = MDB_NEXT) {
		uint8_t *val = NULL;
		size_t vlen = 0;

		rc = mdb_cursor_get(cur, &k, &v, op);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc) {
			rc = fail(t->err, rc, db_names[db]);
			break;
		}
		if ((rc = unseal(t, db, k.mv_data, k.mv_size, &v, &val, &vlen)))
			break;
		rc = fn(k.mv_data, k.mv_size, val, vlen, arg);
		sodium_memzero(val, vlen);
		free(val);
		if (rc == LOCAL_STOP) {
			rc = 0;
			break;
		}
		if (rc)
			break;
	}
	mdb_cursor_close(cur);
	return rc;
}

int local_get_u64(struct local_txn *t, const char *name, uint64_t *v, int *found)
{
	uint8_t *val = NULL;
	size_t len = 0;
	int rc, have = 0;

	*v = 0;
	if (found)
		*found = 0;
	rc = local_get(t, LOCAL_META, name, strlen(name), &val, &len, &have);
	if (rc || !have)
		return rc;
	if (len != 8) {
		free(val);
		return errors_set(t->err, VEILLE_ECORRUPT, "local store: meta %s malformed", name);
	}
	*v = local_be64_get(val);
	free(val);
	if (found)
		*found = 1;
	return 0;
}

int local_put_u64(struct local_txn *t, const char *name, uint64_t v)
{
	uint8_t buf[8];

	local_be64_put(buf, v);
	return local_put(t, LOCAL_META, name, strlen(name), buf, sizeof buf, 0);
}

void local_be64_put(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

uint64_t local_be64_get(const uint8_t in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}
