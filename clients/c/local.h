/*
 * local: the device's local store, an LMDB environment in DIR/local/ whose values are sealed.
 *
 * Design: the only place that sees LMDB (MDB_* codes stay here). Four named databases:
 *   outbox    op counter (8 bytes big-endian) -> packed Veille__V1__Mutation, not yet acked
 *   records   record id (its 32 hex characters) -> packed Veille__V1__Change, the newest the
 *             device holds (person profiles: merged field by field)
 *   meta      short names ("op_counter", "pull_cursor", ...) -> small values (see LOCAL_META_*)
 *   problems  op counter -> packed Veille__Client__V1__Problem (CONFLICT / REJECTED outcomes)
 * Every value is sealed (server/seal.h: XChaCha20-Poly1305) with a 32-byte key the caller
 * derives from the device key, and associated data binding the database name and the key, so
 * a value copied under another key or database fails to open (VEILLE_ECORRUPT) instead of
 * being read as something else. Keys are not secret (counters, pseudonymous ids, names).
 *
 * Transactions: all writes go through local_write(), which runs a callback in one write
 * transaction and commits it durably (LMDB's default fsync), growing the map and running the
 * callback again when it is full: a callback must therefore have no effect outside the
 * transaction that a second run would not redo. Several processes may use one environment
 * (LMDB serialises writers), but a process must open it once: the client's directory lock
 * sees to that.
 *
 * Errors are VEILLE_E* codes; the struct veille_error given to local_open/local_write/
 * local_read (may be NULL) receives a message naming the database at fault.
 */
#ifndef VEILLE_LOCAL_H
#define VEILLE_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "veille.h"

#define LOCAL_KEY_BYTES 32
#define LOCAL_DIR "local"

/* Names of the meta entries. */
#define LOCAL_META_OP_COUNTER "op_counter"     /* u64: last op counter handed out */
#define LOCAL_META_PULL_CURSOR "pull_cursor"   /* u64: cursor of the last page stored */
#define LOCAL_META_LAST_SYNC "last_sync_ms"    /* u64: end of the last complete sync */
#define LOCAL_META_HLC "hlc"                   /* hlc_encode(): last stamp seen or made */

enum local_db { LOCAL_OUTBOX, LOCAL_RECORDS, LOCAL_META, LOCAL_PROBLEMS, LOCAL_NDB };

struct local;
struct local_txn;

/*
 * Opens (creating it, mode 0700, if absent) the environment DIR/local with its databases.
 * key: the sealing key (LOCAL_KEY_BYTES), copied into locked memory.
 * Errors: VEILLE_ENOMEM, VEILLE_EIO.
 */
int local_open(struct local **out, const char *dir, const uint8_t key[LOCAL_KEY_BYTES],
	       struct veille_error *err);

/* Closes the environment and wipes the key. NULL is a no-op. */
void local_close(struct local *l);

/*
 * Removes DIR/local and its files: what an earlier, lost device left (sealed with a key that
 * is gone). Must not be open. A missing directory is not an error. Errors: VEILLE_EIO.
 */
int local_remove(const char *dir, struct veille_error *err);

/* A unit of work run inside a transaction; returns 0 or a VEILLE_E* code (which aborts). */
typedef int (*local_fn)(struct local_txn *t, void *arg);

/*
 * Runs fn in a write transaction and commits it (durably) if fn returned 0; aborts it
 * otherwise and returns fn's code. If the map is full, grows it and runs fn again (bounded).
 * Errors: fn's, VEILLE_ENOMEM, VEILLE_EIO (including a store that cannot grow further).
 */
int local_write(struct local *l, local_fn fn, void *arg, struct veille_error *err);

/* Runs fn in a read-only transaction (a consistent snapshot). Errors: fn's, VEILLE_EIO. */
int local_read(struct local *l, local_fn fn, void *arg, struct veille_error *err);

/*
 * Reads and unseals the value of key in db.
 * val, vlen: receive a copy; the caller frees *val with free(). Untouched if not found.
 * found: set to 1 if the key exists, 0 if not (not an error).
 * Errors: VEILLE_ECORRUPT (value does not authenticate), VEILLE_ENOMEM, VEILLE_EIO.
 */
int local_get(struct local_txn *t, enum local_db db, const void *key, size_t klen,
	      uint8_t **val, size_t *vlen, int *found);

/*
 * Seals val and stores it under key (1 to 511 bytes), replacing any value; with no_overwrite,
 * an existing key is VEILLE_ECORRUPT instead (a counter handed out twice).
 * Errors: VEILLE_EARG (key size), VEILLE_ECORRUPT, VEILLE_ENOMEM, VEILLE_EIO.
 */
int local_put(struct local_txn *t, enum local_db db, const void *key, size_t klen,
	      const uint8_t *val, size_t vlen, int no_overwrite);

/* Deletes key from db; a missing key is not an error. Errors: VEILLE_EIO. */
int local_del(struct local_txn *t, enum local_db db, const void *key, size_t klen);

/* Deletes every entry of db. Errors: VEILLE_EIO. */
int local_clear(struct local_txn *t, enum local_db db);

/* Number of entries in db. Errors: VEILLE_EIO. */
int local_count(struct local_txn *t, enum local_db db, size_t *n);

/*
 * Calls fn for each entry of db in ascending key order, starting at the first key >= from
 * (NULL: the first), with the unsealed value, borrowed until fn returns. fn returns 0 to go
 * on, LOCAL_STOP to end the walk (local_each then returns 0), or an error code to return.
 * Errors: fn's, VEILLE_ECORRUPT, VEILLE_ENOMEM, VEILLE_EIO.
 */
#define LOCAL_STOP (-1)
typedef int (*local_each_fn)(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
			     void *arg);
int local_each(struct local_txn *t, enum local_db db, const void *from, size_t flen,
	       local_each_fn fn, void *arg);

/* A meta entry as an unsigned 64-bit number; a missing entry reads as 0 (found = 0).
 * found may be NULL. Errors as local_get, and VEILLE_ECORRUPT for a value of another size. */
int local_get_u64(struct local_txn *t, const char *name, uint64_t *v, int *found);
int local_put_u64(struct local_txn *t, const char *name, uint64_t v);

/* Counters as 8-byte big-endian keys, so that LMDB's byte order is numeric order. */
void local_be64_put(uint8_t out[8], uint64_t v);
uint64_t local_be64_get(const uint8_t in[8]);

#endif
