/* store: see store.h. */
#include "store.h"

#include "keyring.h"
#include "log.h"
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FORMAT 1
#define CLASS_DIRECTORY 1
#define CLASS_PERSON 2
#define HDR_BASE 14 /* format, class, generation, version */
#define HDR_MAX (HDR_BASE + STORE_ID_BYTES)
#define AD_DOMAIN "veille.store.v1"
#define DEFAULT_MAP_SIZE ((size_t)1 << 30)
/* The key ring's one database (DIR/keys), and the name it had in DIR/store in the first
 * format: the same name, bound into the associated data, so a key moves as it is. */
#define KEYS_DB "person_keys"

static const char *const db_names[STORE_DB__COUNT] = {
	[STORE_DB_META] = "meta",
	[STORE_DB_STRUCTURES] = "structures",
	[STORE_DB_PROFESSIONALS] = "professionals",
	[STORE_DB_DEVICES] = "devices",
	[STORE_DB_PAIRINGS] = "pairings",
	[STORE_DB_RECORDS] = "records",
	[STORE_DB_HEADS] = "heads",
	[STORE_DB_FEED] = "feed",
	[STORE_DB_OPS] = "ops",
	[STORE_DB_DEVICE_OPS] = "device_ops",
	[STORE_DB_PLACES] = "places",
	[STORE_DB_TERRITORIES] = "territories",
	[STORE_DB_ORIENT] = "orient",
	[STORE_DB_STATS] = "stats",
	[STORE_DB_AUDIT] = "audit",
	[STORE_DB_LAST_CONTACT] = "last_contact",
	[STORE_DB_PERSON_RECORDS] = "person_records",
	[STORE_DB_CIRCLE] = "circle",
	[STORE_DB_AUDIT_PERSONS] = "audit_persons",
};

struct store {
	MDB_env *env;      /* DIR/store */
	MDB_env *keys_env; /* DIR/keys: the person keys only */
	MDB_dbi dbi[STORE_DB__COUNT];
	MDB_dbi keys_dbi;
	const struct keyring *kr;
	size_t map_size;
	/* store_write runs under write_mu, so that a write transaction of one thread (commit's
	 * writer) and the map growth another thread's store_write may need never overlap. */
	pthread_mutex_t write_mu;
	int write_open;       /* a write transaction is open (read and set under write_mu by
			       * store_write; single-threaded callers of store_begin need no lock) */
};

struct store_txn {
	struct store *st;
	MDB_txn *txn;  /* on DIR/store */
	MDB_txn *keys; /* on DIR/keys, begun on the first person key (keys_begin); or NULL */
	int write;
	int may_adopt; /* see begin() */
};

/* Where a sealed value lives: a transaction, a database, and the database's name, which the
 * associated data binds. */
struct where {
	MDB_txn *txn;
	MDB_dbi dbi;
	const char *name;
};

/* Maps an LMDB code to ours; logs the unexpected ones (no values are ever in the message). */
static int map_err(int rc, const char *what)
{
	switch (rc) {
	case MDB_SUCCESS: return STORE_OK;
	case MDB_NOTFOUND: return STORE_ENOTFOUND;
	case MDB_KEYEXIST: return STORE_EEXISTS;
	case MDB_MAP_FULL: return STORE_EFULL;
	case MDB_BAD_VALSIZE: return STORE_ETOOBIG;
	case ENOMEM: return STORE_ENOMEM;
	}
	log_error("store: %s: %s", what, mdb_strerror(rc));
	return STORE_EIO;
}

/* Opens the environment DIR/NAME into *env, creating the directory unless read-only. */
static int env_open(MDB_env **env, const char *dir, const char *name, unsigned maxdbs,
		    size_t *map_size, unsigned flags)
{
	char path[PATH_MAX];
	MDB_envinfo info;
	int rc, dead = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(flags & MDB_RDONLY) && mkdir(path, 0700) != 0 && errno != EEXIST) {
		log_error("store: cannot create %s: %s", path, strerror(errno));
		return EIO;
	}
	if ((rc = mdb_env_create(env)) != 0 || (rc = mdb_env_set_maxdbs(*env, maxdbs)) != 0 ||
	    (rc = mdb_env_set_mapsize(*env, *map_size)) != 0 ||
	    (rc = mdb_env_set_maxreaders(*env, 126)) != 0 ||
	    (rc = mdb_env_open(*env, path, flags, 0600)) != 0)
		return rc;
	/* Clear reader slots left by crashed processes, so they do not pin old pages. */
	mdb_reader_check(*env, &dead);
	if (dead)
		log_info("store: %s: cleared %d stale reader slot(s)", name, dead);
	mdb_env_info(*env, &info);
	if (info.me_mapsize > *map_size)
		*map_size = info.me_mapsize;
	return MDB_SUCCESS;
}

/* In the first format, person keys were the person_keys database of DIR/store, so every copy
 * of the store carried them. Moves them to DIR/keys, inside txn (DIR/store's write
 * transaction of store_open): DIR/keys is committed first, then txn drops the old database.
 * Interrupted in between, the move is done again at the next open; a key already in DIR/keys
 * is kept, for it may be the tombstone of a later erasure. */
static int move_old_keys(struct store *st, MDB_txn *txn, MDB_dbi old)
{
	MDB_txn *kt = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t moved = 0;
	int rc;

	if ((rc = mdb_txn_begin(st->keys_env, NULL, 0, &kt)) != 0 ||
	    (rc = mdb_cursor_open(txn, old, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int r = mdb_put(kt, st->keys_dbi, &k, &v, MDB_NOOVERWRITE);

		if (r != 0 && r != MDB_KEYEXIST) {
			rc = r;
			break;
		}
		moved += r == 0;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		goto out;
	rc = mdb_txn_commit(kt);
	kt = NULL;
	if (rc == 0)
		rc = mdb_drop(txn, old, 1);
	if (rc == 0)
		log_info("store: moved %zu person key(s) from store to keys (first format)", moved);
out:
	if (kt)
		mdb_txn_abort(kt);
	return rc;
}

/* Opens the key ring's database, creating it unless read-only. */
static int keys_open(struct store *st, unsigned envflags)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(st->keys_env, NULL, envflags & MDB_RDONLY, &txn);

	if (rc != 0)
		return rc;
	rc = mdb_dbi_open(txn, KEYS_DB, (envflags & MDB_RDONLY) ? 0 : MDB_CREATE, &st->keys_dbi);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

int store_open(struct store **out, const char *dir, const struct keyring *kr,
	       const struct store_options *opt)
{
	struct store *st;
	MDB_txn *txn = NULL;
	MDB_dbi old;
	unsigned envflags = MDB_NOTLS;
	int rc;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return STORE_ENOMEM;
	pthread_mutex_init(&st->write_mu, NULL);
	st->kr = kr;
	st->map_size = opt && opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE;
	if (opt && opt->read_only)
		envflags |= MDB_RDONLY;
	/* One more database than ours in DIR/store: the first format's person_keys, looked for. */
	if ((rc = env_open(&st->env, dir, "store", STORE_DB__COUNT + 1, &st->map_size,
			   envflags)) != 0 ||
	    (rc = env_open(&st->keys_env, dir, "keys", 1, &st->map_size, envflags)) != 0 ||
	    (rc = keys_open(st, envflags)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(st->env, NULL, envflags & MDB_RDONLY, &txn)) != 0)
		goto fail;
	for (int i = 0; i < STORE_DB__COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i], (envflags & MDB_RDONLY) ? 0 : MDB_CREATE,
				  &st->dbi[i]);
		if (rc != 0)
			goto fail;
	}
	rc = mdb_dbi_open(txn, KEYS_DB, 0, &old);
	if (rc == 0 && (envflags & MDB_RDONLY)) {
		log_error("store: %s/store has its person keys inside (first format): open it once "
			  "with write access (veillectl or veilled) to move them to %s/keys",
			  dir, dir);
		rc = EIO;
		goto fail;
	}
	if (rc == 0)
		rc = move_old_keys(st, txn, old);
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	*out = st;
	return STORE_OK;
fail:
	if (txn)
		mdb_txn_abort(txn);
	rc = map_err(rc, "open");
	if (st->env)
		mdb_env_close(st->env);
	if (st->keys_env)
		mdb_env_close(st->keys_env);
	pthread_mutex_destroy(&st->write_mu);
	free(st);
	return rc == STORE_ENOTFOUND ? STORE_EIO : rc;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	mdb_env_close(st->env);
	mdb_env_close(st->keys_env);
	pthread_mutex_destroy(&st->write_mu);
	free(st);
}

int store_grow(struct store *st)
{
	/* Both: the caller does not know which one was full. The key ring's map is address
	 * space, not disk: its file grows with its keys only. */
	int rc = mdb_env_set_mapsize(st->env, st->map_size * 2);

	if (rc == 0)
		rc = mdb_env_set_mapsize(st->keys_env, st->map_size * 2);
	if (rc != 0)
		return map_err(rc, "grow map");
	st->map_size *= 2;
	log_info("store: map grown to %zu MiB", st->map_size >> 20);
	return STORE_OK;
}

/* may_adopt: another process's larger map may be adopted here (it changes the map size, which
 * only a thread that knows no transaction is open in the process may do); without it, that
 * case comes back as STORE_EFULL, for the caller to grow the map. */
static int begin(struct store *st, int write, int may_adopt, struct store_txn **out)
{
	struct store_txn *t;
	int rc;

	*out = NULL;
	if (write && st->write_open)
		return STORE_EBUSY;
	t = calloc(1, sizeof(*t));
	if (!t)
		return STORE_ENOMEM;
	rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc == MDB_MAP_RESIZED && !may_adopt) {
		free(t);
		return STORE_EFULL;
	}
	if (rc == MDB_MAP_RESIZED) {
		/* Another process (veillectl) grew the map: adopt its size and retry. */
		mdb_env_set_mapsize(st->env, 0);
		rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	}
	if (rc != 0) {
		free(t);
		return map_err(rc, "begin");
	}
	t->st = st;
	t->write = write;
	t->may_adopt = may_adopt;
	if (write)
		st->write_open = 1;
	*out = t;
	return STORE_OK;
}

int store_begin(struct store *st, int write, struct store_txn **out)
{
	return begin(st, write, 1, out);
}

static void txn_free(struct store_txn *t)
{
	if (t->write)
		t->st->write_open = 0;
	free(t);
}

/* Begins t's transaction on DIR/keys, on its first use of a person key (most transactions
 * never use one). Always after t's own on DIR/store: every process takes the two write locks
 * in that order, so veilled and veillectl cannot deadlock on them. */
static int keys_begin(struct store_txn *t)
{
	MDB_env *env = t->st->keys_env;
	int rc;

	if (t->keys)
		return STORE_OK;
	rc = mdb_txn_begin(env, NULL, t->write ? 0 : MDB_RDONLY, &t->keys);
	if (rc == MDB_MAP_RESIZED && !t->may_adopt)
		return STORE_EFULL;
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the key ring's map: adopt its size, as begin() does. */
		mdb_env_set_mapsize(env, 0);
		rc = mdb_txn_begin(env, NULL, t->write ? 0 : MDB_RDONLY, &t->keys);
	}
	if (rc != 0) {
		t->keys = NULL;
		return map_err(rc, "begin keys");
	}
	return STORE_OK;
}

int store_commit(struct store_txn *t)
{
	int rc = t->keys ? mdb_txn_commit(t->keys) : MDB_SUCCESS;

	if (rc == MDB_SUCCESS)
		rc = mdb_txn_commit(t->txn);
	else
		mdb_txn_abort(t->txn);
	txn_free(t);
	return map_err(rc, "commit");
}

void store_abort(struct store_txn *t)
{
	if (!t)
		return;
	if (t->keys)
		mdb_txn_abort(t->keys);
	mdb_txn_abort(t->txn);
	txn_free(t);
}

static int write_locked(struct store *st, store_write_fn fn, void *arg, int may_grow)
{
	struct store_txn *t;
	int rc;

	for (int attempt = 0;; attempt++) {
		rc = begin(st, 1, may_grow, &t);
		if (rc != STORE_OK)
			return rc;
		rc = fn(t, arg);
		if (rc == STORE_OK)
			rc = store_commit(t);
		else
			store_abort(t);
		if (rc != STORE_EFULL || attempt == 1 || !may_grow)
			return rc;
		if (store_grow(st) != STORE_OK)
			return STORE_EFULL;
	}
}

int store_write(struct store *st, store_write_fn fn, void *arg)
{
	int rc;

	pthread_mutex_lock(&st->write_mu);
	rc = write_locked(st, fn, arg, 1);
	pthread_mutex_unlock(&st->write_mu);
	return rc;
}

int store_write_nogrow(struct store *st, store_write_fn fn, void *arg)
{
	int rc;

	pthread_mutex_lock(&st->write_mu);
	rc = write_locked(st, fn, arg, 0);
	pthread_mutex_unlock(&st->write_mu);
	return rc;
}

static int buf_reserve(struct store_buf *b, size_t n)
{
	uint8_t *p;

	if (b->cap >= n)
		return STORE_OK;
	p = malloc(n);
	if (!p)
		return STORE_ENOMEM;
	if (b->data) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = n;
	return STORE_OK;
}

void store_buf_free(struct store_buf *b)
{
	if (b->data) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

void store_be64_put(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

uint64_t store_be64_get(const uint8_t in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

/* Associated data: domain | db name | 0 | key length | key | header. */
static size_t build_ad(uint8_t *ad, size_t cap, const char *name, const void *key, size_t klen,
		       const uint8_t *hdr, size_t hlen)
{
	size_t n = 0, dlen = strlen(AD_DOMAIN), nlen = strlen(name);

	if (dlen + nlen + 1 + 4 + klen + hlen > cap)
		return 0;
	memcpy(ad + n, AD_DOMAIN, dlen);
	n += dlen;
	memcpy(ad + n, name, nlen + 1);
	n += nlen + 1;
	ad[n++] = (uint8_t)(klen >> 24);
	ad[n++] = (uint8_t)(klen >> 16);
	ad[n++] = (uint8_t)(klen >> 8);
	ad[n++] = (uint8_t)klen;
	memcpy(ad + n, key, klen);
	n += klen;
	memcpy(ad + n, hdr, hlen);
	return n + hlen;
}

static size_t build_header(uint8_t *hdr, int klass, uint32_t gen, uint64_t version,
			   const uint8_t *person_id)
{
	hdr[0] = FORMAT;
	hdr[1] = (uint8_t)klass;
	hdr[2] = (uint8_t)(gen >> 24);
	hdr[3] = (uint8_t)(gen >> 16);
	hdr[4] = (uint8_t)(gen >> 8);
	hdr[5] = (uint8_t)gen;
	store_be64_put(hdr + 6, version);
	if (klass != CLASS_PERSON)
		return HDR_BASE;
	memcpy(hdr + HDR_BASE, person_id, STORE_ID_BYTES);
	return HDR_MAX;
}

static unsigned mdb_flags(unsigned flags)
{
	return ((flags & STORE_NOOVERWRITE) ? MDB_NOOVERWRITE : 0) |
	       ((flags & STORE_APPEND) ? MDB_APPEND : 0);
}

static struct where in_db(const struct store_txn *t, enum store_db db)
{
	return (struct where){t->txn, t->st->dbi[db], db_names[db]};
}

/* The key ring; keys_begin first. */
static struct where in_keys(const struct store_txn *t)
{
	return (struct where){t->keys, t->st->keys_dbi, KEYS_DB};
}

/* Seals val under key into a freshly reserved LMDB slot. */
static int put_sealed(struct store_txn *t, struct where w, const void *key, size_t klen,
		      const uint8_t *seal_key, int klass, const uint8_t *person_id,
		      uint64_t version, const void *val, size_t vlen, unsigned flags)
{
	uint8_t hdr[HDR_MAX], ad[512];
	size_t hlen, adlen;
	MDB_val k = {klen, (void *)key}, v;
	int rc;

	hlen = build_header(hdr, klass, keyring_generation(t->st->kr), version, person_id);
	adlen = build_ad(ad, sizeof(ad), w.name, key, klen, hdr, hlen);
	if (adlen == 0)
		return STORE_ETOOBIG;
	v.mv_size = hlen + vlen + SEAL_OVERHEAD;
	v.mv_data = NULL;
	rc = mdb_put(w.txn, w.dbi, &k, &v, MDB_RESERVE | mdb_flags(flags));
	if (rc != 0)
		return map_err(rc, "put");
	memcpy(v.mv_data, hdr, hlen);
	seal_seal(seal_key, ad, adlen, val, vlen, (uint8_t *)v.mv_data + hlen);
	return STORE_OK;
}

/* Opens a sealed value of w in place into out, with the key the header names: a person's
 * data key, or for the directory class the key of purpose dir_key. */
static int open_sealed(struct store_txn *t, struct where w, enum keyring_purpose dir_key,
		       const void *key, size_t klen, const MDB_val *v, struct store_buf *out);

/* The data key of a person, created on first use when create is set. An erased person keeps
 * an empty sealed entry (a tombstone): their old values read as STORE_ESHREDDED, and nothing
 * new can be written about them (a device that was offline cannot resurrect them). A missing
 * entry when reading means the value names a person that never had a key: tampering.
 * The key is wiped by the caller. */
static int person_key(struct store_txn *t, const uint8_t *person_id, int create,
		      uint8_t key[SEAL_KEY_BYTES])
{
	/* Read on every sealed record, so it opens into the caller's key directly: the wrapped
	 * value is a key or a tombstone, of exactly known sizes. */
	struct store_buf b = {key, 0, SEAL_KEY_BYTES, 0};
	MDB_val k = {STORE_ID_BYTES, (void *)person_id}, v;
	int rc = keys_begin(t);

	if (rc != STORE_OK)
		return rc;
	rc = mdb_get(t->keys, t->st->keys_dbi, &k, &v);
	if (rc == 0 && v.mv_size == HDR_BASE + SEAL_OVERHEAD) {
		rc = open_sealed(t, in_keys(t), KEYRING_WRAP, person_id, STORE_ID_BYTES, &v, &b);
		if (rc == STORE_OK)
			rc = STORE_ESHREDDED; /* the tombstone of an erased person */
	} else if (rc == 0 && v.mv_size == HDR_BASE + SEAL_KEY_BYTES + SEAL_OVERHEAD)
		rc = open_sealed(t, in_keys(t), KEYRING_WRAP, person_id, STORE_ID_BYTES, &v, &b);
	else if (rc == 0)
		rc = STORE_EFORGED;
	else
		rc = map_err(rc, "get person key");
	if (rc != STORE_ENOTFOUND)
		return rc;
	if (!create)
		return STORE_EFORGED;
	randombytes_buf(key, SEAL_KEY_BYTES);
	return put_sealed(t, in_keys(t), person_id, STORE_ID_BYTES,
			  keyring_key(t->st->kr, KEYRING_WRAP), CLASS_DIRECTORY, NULL, 1, key,
			  SEAL_KEY_BYTES, STORE_NOOVERWRITE);
}

static int open_sealed(struct store_txn *t, struct where w, enum keyring_purpose dir_key,
		       const void *key, size_t klen, const MDB_val *v, struct store_buf *out)
{
	const uint8_t *p = v->mv_data;
	uint8_t ad[512], pkey[SEAL_KEY_BYTES];
	const uint8_t *seal_key;
	size_t hlen, adlen;
	int rc;

	if (v->mv_size < HDR_BASE + SEAL_OVERHEAD || p[0] != FORMAT)
		return STORE_EFORGED;
	if (p[1] == CLASS_PERSON) {
		hlen = HDR_MAX;
		if (v->mv_size < HDR_MAX + SEAL_OVERHEAD)
			return STORE_EFORGED;
		rc = person_key(t, p + HDR_BASE, 0, pkey);
		if (rc != STORE_OK)
			return rc;
		seal_key = pkey;
	} else if (p[1] == CLASS_DIRECTORY) {
		hlen = HDR_BASE;
		seal_key = keyring_key(t->st->kr, dir_key);
	} else {
		return STORE_EFORGED;
	}
	adlen = build_ad(ad, sizeof(ad), w.name, key, klen, p, hlen);
	rc = adlen ? buf_reserve(out, v->mv_size - hlen - SEAL_OVERHEAD) : STORE_ETOOBIG;
	if (rc == STORE_OK) {
		rc = seal_open(seal_key, ad, adlen, p + hlen, v->mv_size - hlen, out->data) ==
				     SEAL_OK
			     ? STORE_OK
			     : STORE_EFORGED;
		out->len = rc == STORE_OK ? v->mv_size - hlen - SEAL_OVERHEAD : 0;
		out->version = store_be64_get(p + 6);
	}
	sodium_memzero(pkey, sizeof(pkey));
	return rc;
}

int store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
	      const uint8_t *person_id, uint64_t version, const void *val, size_t vlen,
	      unsigned flags)
{
	uint8_t pkey[SEAL_KEY_BYTES];
	int rc;

	if (!person_id)
		return put_sealed(t, in_db(t, db), key, klen,
				  keyring_key(t->st->kr, KEYRING_DIRECTORY), CLASS_DIRECTORY, NULL,
				  version, val, vlen, flags);
	rc = person_key(t, person_id, 1, pkey);
	if (rc == STORE_OK)
		rc = put_sealed(t, in_db(t, db), key, klen, pkey, CLASS_PERSON, person_id, version,
				val, vlen, flags);
	sodium_memzero(pkey, sizeof(pkey));
	return rc;
}

int store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
	      struct store_buf *out)
{
	MDB_val k = {klen, (void *)key}, v;
	int rc = mdb_get(t->txn, t->st->dbi[db], &k, &v);

	if (rc != 0)
		return map_err(rc, "get");
	return open_sealed(t, in_db(t, db), KEYRING_DIRECTORY, key, klen, &v, out);
}

int store_put_plain(struct store_txn *t, enum store_db db, const void *key, size_t klen,
		    const void *val, size_t vlen, unsigned flags)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	return map_err(mdb_put(t->txn, t->st->dbi[db], &k, &v, mdb_flags(flags)), "put");
}

int store_get_plain(struct store_txn *t, enum store_db db, const void *key, size_t klen,
		    const void **val, size_t *vlen)
{
	MDB_val k = {klen, (void *)key}, v;
	int rc = mdb_get(t->txn, t->st->dbi[db], &k, &v);

	if (rc != 0)
		return map_err(rc, "get");
	*val = v.mv_data;
	*vlen = v.mv_size;
	return STORE_OK;
}

int store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};

	return map_err(mdb_del(t->txn, t->st->dbi[db], &k, NULL), "del");
}

int store_last_plain(struct store_txn *t, enum store_db db, const void **key, size_t *klen,
		     const void **val, size_t *vlen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(t->txn, t->st->dbi[db], &cur);

	if (rc != 0)
		return map_err(rc, "cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc != 0)
		return map_err(rc, "last");
	*key = k.mv_data;
	*klen = k.mv_size;
	*val = v.mv_data;
	*vlen = v.mv_size;
	return STORE_OK;
}

int store_scan(struct store_txn *t, enum store_db db, const void *prefix, size_t plen,
	       const void *start, size_t slen, store_scan_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, op;

	rc = mdb_cursor_open(t->txn, t->st->dbi[db], &cur);
	if (rc != 0)
		return map_err(rc, "cursor");
	if (start) {
		k.mv_size = slen;
		k.mv_data = (void *)start;
		op = MDB_SET_RANGE;
	} else if (plen) {
		k.mv_size = plen;
		k.mv_data = (void *)prefix;
		op = MDB_SET_RANGE;
	} else {
		op = MDB_FIRST;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, op); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int r;

		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		r = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
		if (r != 0) {
			mdb_cursor_close(cur);
			return r > 0 ? STORE_OK : r;
		}
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? STORE_OK : map_err(rc, "scan");
}

int store_next_counter(struct store_txn *t, const char *name, uint64_t *out)
{
	const void *val = NULL;
	size_t vlen = 0;
	uint8_t be[8];
	uint64_t n = 0;
	int rc;

	rc = store_get_plain(t, STORE_DB_META, name, strlen(name), &val, &vlen);
	if (rc == STORE_OK && vlen == 8)
		n = store_be64_get(val);
	else if (rc != STORE_ENOTFOUND && rc != STORE_OK)
		return rc;
	store_be64_put(be, ++n);
	rc = store_put_plain(t, STORE_DB_META, name, strlen(name), be, 8, 0);
	if (rc == STORE_OK)
		*out = n;
	return rc;
}

int store_shred_person(struct store_txn *t, const uint8_t person_id[STORE_ID_BYTES])
{
	MDB_val k = {STORE_ID_BYTES, (void *)person_id}, v;
	int rc = keys_begin(t);

	if (rc != STORE_OK)
		return rc;
	rc = mdb_get(t->keys, t->st->keys_dbi, &k, &v);
	if (rc != 0)
		return map_err(rc, "shred");
	/* Overwrite with an authenticated empty value: the key bytes are gone from the live
	 * pages (LMDB reuses them), and the person is marked erased. */
	return put_sealed(t, in_keys(t), person_id, STORE_ID_BYTES,
			  keyring_key(t->st->kr, KEYRING_WRAP), CLASS_DIRECTORY, NULL, 1, "", 0, 0);
}

/* A compacted copy of env from a read transaction (mdb_env_copyfd2 with MDB_CP_COMPACT takes
 * no write lock), into a new file of mode 0600 (LMDB's own copy makes it 0666 less the
 * umask), synced before it is called done. */
static int backup_env(MDB_env *env, const char *dir_out)
{
	char path[PATH_MAX];
	int fd, rc;

	if (snprintf(path, sizeof(path), "%s/data.mdb", dir_out) >= (int)sizeof(path))
		return STORE_EIO;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return STORE_EEXISTS;
	if (fd < 0) {
		log_error("store: backup: cannot create %s: %s", path, strerror(errno));
		return STORE_EIO;
	}
	rc = map_err(mdb_env_copyfd2(env, fd, MDB_CP_COMPACT), "backup");
	if (rc == STORE_OK && fsync(fd) != 0) {
		log_error("store: backup: %s: %s", path, strerror(errno));
		rc = STORE_EIO;
	}
	if (close(fd) != 0 && rc == STORE_OK)
		rc = STORE_EIO;
	if (rc != STORE_OK)
		unlink(path);
	return rc;
}

int store_backup(struct store *st, const char *dir_out)
{
	return backup_env(st->env, dir_out);
}

int store_backup_keys(struct store *st, const char *dir_out)
{
	return backup_env(st->keys_env, dir_out);
}

const struct keyring *store_txn_keyring(const struct store_txn *t)
{
	return t->st->kr;
}

const char *store_strerror(int err)
{
	switch (err) {
	case STORE_OK: return "ok";
	case STORE_ENOTFOUND: return "not found";
	case STORE_EEXISTS: return "already exists";
	case STORE_EFULL: return "store map is full";
	case STORE_EFORGED: return "stored value does not authenticate (tampered or corrupt)";
	case STORE_ESHREDDED: return "value erased (person key destroyed)";
	case STORE_ETOOBIG: return "key or value too large";
	case STORE_ENOMEM: return "out of memory";
	case STORE_EIO: return "storage failure";
	case STORE_EBUSY: return "a write transaction is already open";
	}
	return "unknown store error";
}
