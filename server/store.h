/* store: the LMDB environments of veilled, with sealed values.
 *
 * Two environments: DIR/store holds the named databases (enum store_db); DIR/keys holds only
 * the person data keys (the key ring). Values that hold personal data are written with
 * store_put, which seals them (seal.c): with the directory key for directory entries, or with
 * the data key of the person the value is about. Person data keys are random, wrapped by the
 * master-derived WRAP key and kept in DIR/keys, so deleting one entry there makes every value
 * about that person unreadable (crypto-shredding). A copy of DIR/store (store_backup) holds
 * no key, so an erasure reaches it too once it is restored next to the live key ring; the key
 * ring is copied apart (store_backup_keys) and its copies kept for a shorter time
 * (docs/operations.md).
 *
 * Sealed value layout:  format(1) | key class(1) | key generation(4) | version(8)
 *                       | person id(16, person class only) | nonce | ciphertext | tag
 * The associated data is: "veille.store.v1" | db name | 0 | key length(4) | key | header,
 * so a value cannot be moved to another database, key, version or person undetected. (The
 * key ring's database is named "person_keys".)
 *
 * Values without personal data (counters, feed entries, dedup entries: ids and numbers only)
 * are stored plain with store_put_plain.
 *
 * A store_txn is a transaction on DIR/store and, begun on its first use of a person key, one
 * on DIR/keys; they commit together, the key ring's first (store_commit). A read sees the
 * key ring as of its first person key, which is never older than its view of DIR/store, so
 * every record it reads has its key (or the tombstone of a later erasure).
 *
 * Threading: one write transaction at a time (LMDB's rule); MDB_NOTLS so read transactions are
 * not tied to threads. Transactions must be short: a long read transaction stops page reuse.
 * Only this file sees MDB_* codes. */
#ifndef VEILLE_STORE_H
#define VEILLE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct keyring;

enum store_db {
	STORE_DB_META,          /* plain: "server_id", "seq" (last sequence number),
				 * "audit_anchor" (audit.h) */
	STORE_DB_STRUCTURES,    /* sealed: structure id -> store.v1.Structure */
	STORE_DB_PROFESSIONALS, /* sealed: professional id -> store.v1.Professional */
	STORE_DB_DEVICES,       /* sealed: device id (16) -> store.v1.Device */
	STORE_DB_PAIRINGS,      /* sealed: blind index of code (32) -> store.v1.Pairing */
	STORE_DB_RECORDS,       /* sealed (person key): seq (8) -> RecordVersion (appended) */
	STORE_DB_HEADS,         /* plain: record id (16) -> version | person id | audience | seq */
	STORE_DB_FEED,          /* plain: audience (16) | seq (8) -> record id (16) | version (8) */
	STORE_DB_OPS,           /* plain: device id (16) | op counter (8) -> op outcome (records.h) */
	STORE_DB_DEVICE_OPS,    /* plain: device id (16) -> highest op counter applied (8) */
	STORE_DB_PLACES,        /* plain: territory | 0 | structure id -> v1.CentrePlaces */
	STORE_DB_TERRITORIES,   /* plain: territory code -> store.v1.Territory */
	STORE_DB_ORIENT,        /* plain: orientation state, ids and statuses only (orient.h) */
	STORE_DB_STATS,         /* plain: activity counters, aggregates only (stats.h) */
	STORE_DB_AUDIT,         /* plain: seq (8) -> store.v1.AuditEntry, MAC-chained (audit.h) */
	STORE_DB_LAST_CONTACT,  /* plain: person id (16) -> last version stored about them (ms, 8) */
	STORE_DB_PERSON_RECORDS, /* plain: person id (16) | record id (16) -> "" (every record about them) */
	STORE_DB_CIRCLE,        /* plain: the care circles, ids and times only (circle.h) */
	STORE_DB_AUDIT_PERSONS, /* plain: person id (16) | audit seq (8) -> empty (audit.h) */
	STORE_DB__COUNT
};

enum store_err {
	STORE_OK = 0,
	STORE_ENOTFOUND = 1,  /* no such key */
	STORE_EEXISTS = 2,    /* STORE_NOOVERWRITE and the key exists */
	STORE_EFULL = 3,      /* map full: the transaction was aborted; store_grow, then retry */
	STORE_EFORGED = 4,    /* a sealed value does not authenticate: tampering or corruption */
	STORE_ESHREDDED = 5,  /* the person's data key is gone: value erased */
	STORE_ETOOBIG = 6,    /* key or value over LMDB's limits */
	STORE_ENOMEM = 7,
	STORE_EIO = 8,        /* any other LMDB or system failure (logged) */
	STORE_EBUSY = 9,      /* a write transaction is already open in this process */
};

#define STORE_NOOVERWRITE 1u
#define STORE_APPEND 2u /* the key sorts after every key of the database (else STORE_EEXISTS) */
#define STORE_ID_BYTES 16

struct store;
struct store_txn;

/* Unsealed value, owned by the caller; data is wiped and freed by store_buf_free. */
struct store_buf {
	uint8_t *data;
	size_t len, cap;
	uint64_t version; /* the version the value was sealed with */
};

struct store_options {
	size_t map_size;  /* initial map size in bytes; 0 = 1 GiB */
	int read_only;    /* open without write access (backups, inspection) */
};

/* Opens (creating if needed) DIR/store with all named databases, and DIR/keys, the key ring:
 * person id (16) -> data key (32) sealed with the WRAP key, or an empty sealed value once the
 * person is erased. A DIR/store of the first format, with the person keys in its own
 * person_keys database, has them moved to DIR/keys here, once (read_only: refused, logged).
 * The keyring is borrowed and must outlive the store. Errors: STORE_EIO, STORE_ENOMEM. */
int store_open(struct store **out, const char *dir, const struct keyring *kr,
	       const struct store_options *opt);

/* Closes the environment; no transaction may be open. */
void store_close(struct store *st);

/* Doubles the map size (of DIR/store and of DIR/keys). Call only when no transaction of this
 * process is open (after STORE_EFULL). Errors: STORE_EIO. */
int store_grow(struct store *st);

/* Begins a transaction. Errors: STORE_EBUSY (write already open), STORE_EIO, STORE_ENOMEM. */
int store_begin(struct store *st, int write, struct store_txn **out);

/* Commits and frees txn; for a write transaction, data is on disk when this returns OK
 * (LMDB syncs on commit). The key ring's part commits first: a record on disk never needs a
 * key that is not. If DIR/store's commit then fails, the new keys stay (unused, harmless) and
 * so do erasures (what was asked; doing it again is harmless).
 * Errors: STORE_EFULL, STORE_EIO; txn is freed in every case. */
int store_commit(struct store_txn *txn);

/* Aborts and frees txn (NULL is a no-op). */
void store_abort(struct store_txn *txn);

/* Runs fn in a write transaction and commits it. If fn or the commit hits a full map, the
 * transaction is aborted, the map grown, and fn run once more: fn must have no effect outside
 * the transaction until it is committed. Returns fn's first non-zero result (the transaction
 * is then aborted) or the commit's result. */
typedef int (*store_write_fn)(struct store_txn *txn, void *arg);
int store_write(struct store *st, store_write_fn fn, void *arg);

/* As store_write, but a full map is not grown: STORE_EFULL comes back to the caller, who grows
 * it (store_grow) from the thread that holds the process's read transactions, at a moment none
 * is open, and runs it again. For a thread that writes while another one reads (commit.c's
 * writer): LMDB can only change the map size with no transaction open in the process.
 * store_write and store_write_nogrow may run from different threads: one at a time. */
int store_write_nogrow(struct store *st, store_write_fn fn, void *arg);

/* Seals and writes a value. person_id (16 bytes) selects that person's data key, creating it if
 * needed; NULL selects the directory key. Errors: STORE_EEXISTS (with STORE_NOOVERWRITE),
 * STORE_ESHREDDED (the person was erased), STORE_EFULL, STORE_ETOOBIG, STORE_EFORGED (person
 * key fails to open), STORE_ENOMEM, STORE_EIO. */
int store_put(struct store_txn *txn, enum store_db db, const void *key, size_t klen,
	      const uint8_t *person_id, uint64_t version, const void *val, size_t vlen,
	      unsigned flags);

/* Reads and opens a sealed value into out (grown as needed).
 * Errors: STORE_ENOTFOUND, STORE_EFORGED (altered, moved, or naming a person without a key),
 * STORE_ESHREDDED (the person was erased), STORE_ENOMEM, STORE_EIO. */
int store_get(struct store_txn *txn, enum store_db db, const void *key, size_t klen,
	      struct store_buf *out);

/* Plain values: *val is borrowed from LMDB, valid until the end of txn or the next write in
 * it. Errors as store_put / store_get. */
int store_put_plain(struct store_txn *txn, enum store_db db, const void *key, size_t klen,
		    const void *val, size_t vlen, unsigned flags);
int store_get_plain(struct store_txn *txn, enum store_db db, const void *key, size_t klen,
		    const void **val, size_t *vlen);

/* Deletes a key. Errors: STORE_ENOTFOUND, STORE_EIO. */
int store_del(struct store_txn *txn, enum store_db db, const void *key, size_t klen);

/* Visits keys >= start (or from the first if start is NULL) while they begin with prefix,
 * in key order. Pointers passed to fn are borrowed for the call; raw values are the stored
 * bytes (sealed ones still sealed: use store_get on the key). fn returns 0 to go on, 1 to stop,
 * or a negative value that store_scan returns. */
typedef int (*store_scan_fn)(const void *key, size_t klen, const void *val, size_t vlen,
			     void *arg);
int store_scan(struct store_txn *txn, enum store_db db, const void *prefix, size_t plen,
	       const void *start, size_t slen, store_scan_fn fn, void *arg);

/* The last key of db (key order) and its value, borrowed as with store_get_plain.
 * Errors: STORE_ENOTFOUND (db is empty), STORE_EIO. */
int store_last_plain(struct store_txn *txn, enum store_db db, const void **key, size_t *klen,
		     const void **val, size_t *vlen);

/* Next value of a 64-bit counter kept in STORE_DB_META under name (first call returns 1). */
int store_next_counter(struct store_txn *txn, const char *name, uint64_t *out);

/* Destroys a person's data key in DIR/keys, leaving a tombstone: every sealed value about them
 * reads as STORE_ESHREDDED (in DIR/store, and in any copy of it opened with this key ring),
 * and store_put for them fails with STORE_ESHREDDED.
 * Errors: STORE_ENOTFOUND (no such person), STORE_EFULL, STORE_EIO. */
int store_shred_person(struct store_txn *txn, const uint8_t person_id[STORE_ID_BYTES]);

/* Writes a consistent copy of DIR/store as DIR_OUT/data.mdb (a new file, mode 0600; DIR_OUT
 * must exist), compacted (only the pages in use), from a read transaction: writers go on
 * meanwhile, in this process or another. The copy has no person key. Restored as DIR/store
 * next to a key ring, it opens with that key ring's keys: persons erased since are erased in
 * it. Errors: STORE_EEXISTS (DIR_OUT/data.mdb exists), STORE_EIO. */
int store_backup(struct store *st, const char *dir_out);

/* The same for DIR/keys, the key ring: its copy can bring erased persons back, so it is kept
 * for a shorter time than the store's (docs/operations.md). Errors as store_backup. */
int store_backup_keys(struct store *st, const char *dir_out);

/* The keyring the store was opened with (borrowed). */
const struct keyring *store_txn_keyring(const struct store_txn *t);

void store_buf_free(struct store_buf *b);
const char *store_strerror(int err);

/* Big-endian 64-bit helpers for keys that must sort numerically. */
void store_be64_put(uint8_t out[8], uint64_t v);
uint64_t store_be64_get(const uint8_t in[8]);

#endif
