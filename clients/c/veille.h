/*
 * libveille: the C client of the veille sync server (docs/protocol.md).
 *
 * Design: a struct veille_client owns one device's local state directory and at most one
 * connection. Every call is blocking, bounded by a timeout, and returns VEILLE_OK (0) or one of
 * the VEILLE_E* codes below; details of the last failure (and the server's typed error, with
 * VEILLE_ESERVER) are in veille_last_error(). Records travel as the protobuf-c types of
 * proto/veille/v1 (Veille__V1__Mutation, Veille__V1__Change), which the caller builds and reads
 * directly: the library adds no second record model.
 *
 * State directory (created with mode 0700 when absent):
 *   device.key    the device's Ed25519 secret key, 64 bytes, mode 0600
 *   device.state  key=value text: server url, device and server ids, principal
 *   local/        the local store (LMDB, values sealed with a key derived from device.key):
 *                 the outbox of ops not yet acknowledged, the records pulled, the op counter,
 *                 the pull cursor, the clock of person edits, the ops the server refused
 *   lock          held (flock) while a client is open: shared, so that several processes may
 *                 use one device (e.g. `veille sync --follow` while `veille encounter add`
 *                 queues ops), exclusive during enrolment
 * A directory written by an earlier version (counters in device.state) is converted on open:
 * the counters move into the local store.
 *
 * Offline work (docs/sync.md): veille_outbox_add() queues an op durably without the network;
 * veille_sync() pushes the outbox and pulls what changed; veille_follow() keeps doing so,
 * woken by the server's pokes and by new ops, reconnecting with backoff. What the device holds
 * is read with veille_record_get(); ops the server refused, with veille_problems().
 *
 * A client is not thread-safe: use one per thread, or lock around it. One process may have a
 * directory open once at a time.
 */
#ifndef VEILLE_H
#define VEILLE_H

#include <stddef.h>
#include <stdint.h>

#include "veille/v1/places.pb-c.h"
#include "veille/v1/sync.pb-c.h"

/* Library error codes. 0 is success; veille_strerror() names each. */
enum veille_err {
	VEILLE_OK = 0,
	VEILLE_EARG,         /* invalid argument (bad url, code, size, NULL pointer...) */
	VEILLE_ENOMEM,       /* out of memory */
	VEILLE_EIO,          /* local file or system failure (state directory, key, clock) */
	VEILLE_ECONN,        /* could not connect, handshake refused, or connection lost */
	VEILLE_ETIMEOUT,     /* no answer within the timeout */
	VEILLE_ECLOSED,      /* the server closed the connection (see last error message) */
	VEILLE_ETOOBIG,      /* a message over the size cap (CONN_MAX_MESSAGE) */
	VEILLE_EPROTO,       /* the server sent something undecodable or unexpected */
	VEILLE_ESERVER,      /* the server answered with a typed Error: see veille_last_error() */
	VEILLE_ENOTENROLLED, /* the state directory holds no enrolled device */
	VEILLE_EEXIST,       /* the state directory already holds an enrolled device */
	VEILLE_ENOTCONN,     /* no authenticated connection: call veille_connect() first */
	VEILLE_EINSECURE,    /* device.key is readable by group or others, or not ours */
	VEILLE_ECORRUPT,     /* device.key or device.state is malformed */
	VEILLE_EBUSY,        /* the state directory is being enrolled by another process, or is
				open in this one already */
	VEILLE_ENOTFOUND,    /* the device holds nothing under that id */
	VEILLE_EREVOKED,     /* the server said this device or its professional is revoked: the
			      * device's key, state and local store were wiped (docs/sync.md) */
	VEILLE_ELEASE,       /* the device's lease expired (no authentication for too long): its
			      * local store stays locked until veille_connect() succeeds */
	VEILLE_NERR          /* number of codes; not an error */
};

/*
 * Details of the last failure of a client call.
 * code: with VEILLE_ESERVER, the server's Veille__V1__ErrorCode; otherwise 0.
 * message: one line of English for a person (the server's message, or what failed locally);
 *          empty when there is nothing to add to veille_strerror().
 * retry_after_ms: with ERROR_CODE_RATE_LIMITED and ERROR_CODE_UNAVAILABLE, when to retry.
 */
struct veille_error {
	int code;
	char message[256];
	uint32_t retry_after_ms;
};

/* Who the device acts as, as told by the server at enrolment and at each authentication. */
struct veille_principal {
	char professional_id[65];
	char display_name[129];   /* truncated (on a UTF-8 boundary) if longer */
	char structure_id[65];
	char structure_name[129]; /* truncated (on a UTF-8 boundary) if longer */
	char territory[8];
	int role;                 /* Veille__V1__Role */
	int structure_kind;       /* Veille__V1__StructureKind */
};

/* The local state, for display (veille_info). Ids are lowercase hex; empty if not enrolled. */
struct veille_info {
	int enrolled;
	char server_url[256];
	char device_id[33];
	char server_id[33];
	char professional_id[65];
	char display_name[129];
	char structure_id[65];
	char structure_name[129];
	uint64_t op_counter;      /* last op counter handed out */
	uint64_t pull_cursor;     /* cursor of the last page stored, or set by veille_set_cursor() */
	uint64_t pending_ops;     /* ops in the outbox, not yet acknowledged by the server */
	uint64_t problems;        /* ops the server answered CONFLICT or REJECTED (veille_problems) */
	uint64_t last_sync_ms;    /* end of the last complete veille_sync (Unix ms); 0: never */
};

/* The outcome of one mutation of a push. */
struct veille_op_result {
	uint64_t op_counter;
	int status;               /* Veille__V1__OpStatus */
	uint64_t version;         /* APPLIED/DUPLICATE: version stored; CONFLICT: current one */
	int code;                 /* with REJECTED: Veille__V1__ErrorCode */
	char reason[128];         /* with REJECTED: the server's short reason, truncated */
};

#define VEILLE_DEFAULT_TIMEOUT_MS 10000
#define VEILLE_MAX_PUSH 1000       /* mutations per push (docs/protocol.md) */
#define VEILLE_MAX_PULL_LIMIT 1000 /* changes per pull */

struct veille_client;

/*
 * Opens the state directory dir, creating it (mode 0700, with missing parents) if absent, and
 * loads device.state if present; for an enrolled device, reads device.key to open the local
 * store (converting the counters of an earlier version's device.state). Does not touch the
 * network.
 * out: receives the client; release it with veille_close(). NULL on failure.
 * err: if not NULL, receives what failed (the file and the system error), since there is no
 *   client to ask with veille_last_error().
 * Errors: VEILLE_EARG (NULL argument), VEILLE_ENOMEM, VEILLE_EIO (cannot create or read dir,
 *   or the local store), VEILLE_EBUSY (another process is enrolling in it, or this process
 *   has it open already), VEILLE_ECORRUPT (device.state, device.key or the local store
 *   malformed), VEILLE_EINSECURE (device.key readable by others), VEILLE_ENOTENROLLED
 *   (device.state names a device but device.key is missing).
 */
int veille_open(struct veille_client **out, const char *dir, struct veille_error *err);

/* Closes the connection if any (politely, bounded by the timeout) and frees c. NULL is a no-op. */
void veille_close(struct veille_client *c);

/*
 * Sets the timeout of each network wait (connect, each reply) of later calls, in milliseconds
 * (>= 0; default VEILLE_DEFAULT_TIMEOUT_MS). A timeout drops the connection.
 */
void veille_set_timeout(struct veille_client *c, int timeout_ms);

/*
 * Enrols this device: generates an Ed25519 key pair, writes device.key (0600), sends Enrol with
 * pairing_code, then saves device.state. The connection used is closed afterwards: call
 * veille_connect() to authenticate.
 * url: "ws://host:port[/path]" (path defaults to /sync; wss is not supported yet).
 * pairing_code: as printed by veillectl ("XXXX-XXXX-XXXX"); dashes, spaces and case ignored.
 * label: shown to administrators, <= 64 bytes UTF-8; NULL for none.
 * out: receives the principal; may be NULL.
 * Needs the directory to itself: VEILLE_EBUSY while another process has it open.
 * Errors: VEILLE_EARG (bad url, empty or overlong code or label), VEILLE_EEXIST (already
 *   enrolled: use another directory), VEILLE_EBUSY, VEILLE_EIO, VEILLE_ENOMEM, VEILLE_ECONN,
 *   VEILLE_ETIMEOUT, VEILLE_ECLOSED, VEILLE_EPROTO, VEILLE_ETOOBIG, VEILLE_ESERVER (e.g.
 *   PAIRING_INVALID, RATE_LIMITED). On failure nothing is left in dir (the key written and the
 *   local store are removed).
 */
int veille_enrol(struct veille_client *c, const char *url, const char *pairing_code,
		 const char *label, struct veille_principal *out);

/*
 * Connects to the saved server url and authenticates (Hello, Challenge, AuthProof, AuthOk).
 * Refuses a server whose id differs from the one the device enrolled with. A previous
 * connection is closed first. Updates device.state if the principal changed.
 * timeout_ms: bound on each network wait for this connection and the requests made on it;
 *   < 0 means the client's timeout (veille_set_timeout).
 * Errors: VEILLE_ENOTENROLLED, VEILLE_EINSECURE (key file mode), VEILLE_ECORRUPT, VEILLE_EIO,
 *   VEILLE_ENOMEM, VEILLE_EARG (saved url invalid), VEILLE_ECONN, VEILLE_ETIMEOUT,
 *   VEILLE_ECLOSED, VEILLE_EPROTO, VEILLE_ETOOBIG, VEILLE_ESERVER (AUTH_FAILED, DEVICE_REVOKED,
 *   RATE_LIMITED, UNSUPPORTED_VERSION...).
 */
int veille_connect(struct veille_client *c, int timeout_ms);

/*
 * The principal received by the last successful veille_enrol() or veille_connect(), or NULL.
 * Borrowed: valid until the next veille_enrol(), veille_connect() or veille_close().
 */
const struct veille_principal *veille_principal(const struct veille_client *c);

/* Copies the local state into *out (no network). Never fails for valid pointers: a local
 * store that cannot be read leaves its numbers at 0. */
void veille_info(const struct veille_client *c, struct veille_info *out);

/*
 * Pushes n mutations (1 to VEILLE_MAX_PUSH) on the authenticated connection and fills
 * results[0..n-1], in order.
 * This is the direct path, without the outbox: nothing is kept if the process dies before the
 *   answer. Applications should queue with veille_outbox_add() and call veille_sync().
 * muts: borrowed. A mutation whose op_counter is 0 gets the next counter of the device, written
 *   into it; the new counter is saved durably BEFORE anything is sent, so a counter is never
 *   reused for other content. Refused (VEILLE_EARG) while the outbox holds ops: their lower
 *   counters would then be rejected as going backwards. A mutation with a non-zero op_counter
 *   (a retry of an earlier push) is sent as is; the server answers DUPLICATE if it had
 *   applied it.
 * Per-op refusals are results (status REJECTED with a code), not errors: 0 is returned.
 * Errors: VEILLE_EARG (n out of range, NULL, op_counter never handed out, outbox not empty),
 *   VEILLE_ENOTENROLLED, VEILLE_ENOTCONN,
 *   VEILLE_EIO (counter not saved: nothing sent, counters reset to 0), VEILLE_ENOMEM,
 *   VEILLE_ECONN, VEILLE_ETIMEOUT, VEILLE_ECLOSED, VEILLE_EPROTO (wrong result count or
 *   counters), VEILLE_ETOOBIG, VEILLE_ESERVER (whole request refused, e.g. LIMIT_EXCEEDED).
 * After ECONN, ETIMEOUT, ECLOSED, EPROTO or ETOOBIG the ops may or may not have been applied:
 *   push the same mutations again (their counters are kept) to find out.
 */
int veille_push(struct veille_client *c, Veille__V1__Mutation **muts, size_t n,
		struct veille_op_result *results);

/*
 * Writes a fresh record id (16 random bytes as 32 lowercase hex characters, NUL-terminated)
 * into out. Also fits person ids. Errors: VEILLE_EIO (libsodium cannot initialise).
 */
int veille_new_record_id(char out[33]);

/*
 * Pulls one page of changes after cursor (0: from the beginning), at most limit (0: server
 * default, 500; at most VEILLE_MAX_PULL_LIMIT), and calls on_change for each, in order.
 * on_change: its Change is borrowed until it returns; returning non-zero stops the pull, and
 *   veille_pull returns that value (choose values outside VEILLE_E*). May be NULL.
 * next_cursor, has_more: set on success only; pass *next_cursor back to continue, again at
 *   once while *has_more. Nothing is stored and the cursor is not saved (see veille_sync_ex()
 *   with VEILLE_SYNC_PULL for a pull into the local store, and veille_set_cursor()).
 * Errors: VEILLE_EARG, VEILLE_ENOTCONN, VEILLE_ENOMEM, VEILLE_ECONN, VEILLE_ETIMEOUT,
 *   VEILLE_ECLOSED, VEILLE_EPROTO (e.g. has_more without progress), VEILLE_ETOOBIG,
 *   VEILLE_ESERVER; or on_change's non-zero value.
 */
int veille_pull(struct veille_client *c, uint64_t cursor, uint32_t limit,
		int (*on_change)(const Veille__V1__Change *change, void *arg), void *arg,
		uint64_t *next_cursor, int *has_more);

/*
 * As veille_pull, but asks the server to stream up to pages pages (>= 1) back to back: the
 * server reads page k+1 while this client handles page k, which is how a cold device catches
 * up fast. on_change is called for every change of every page, in order; next_cursor and
 * has_more describe the last page received. If on_change stops the pull, the connection is
 * dropped (pages still on their way would otherwise answer the next request).
 * Errors: as veille_pull; VEILLE_EARG for pages == 0.
 */
int veille_pull_pages(struct veille_client *c, uint64_t cursor, uint32_t limit, uint32_t pages,
		      int (*on_change)(const Veille__V1__Change *change, void *arg), void *arg,
		      uint64_t *next_cursor, int *has_more);

/*
 * Saves cursor durably in the local store as the pull cursor, exactly (lower or higher):
 * veille_sync pulls from there next. Errors: VEILLE_ENOTENROLLED, VEILLE_EIO,
 * VEILLE_ECORRUPT.
 */
int veille_set_cursor(struct veille_client *c, uint64_t cursor);

/* ---- offline: the outbox and sync (docs/sync.md) ---- */

/*
 * Queues m in the outbox: gives it the device's next op counter (written into
 * m->op_counter) and stores it durably with that counter in one local transaction, before
 * returning. Works offline; does not touch the network.
 * m: borrowed (copied into the outbox). Its op_counter must be 0; record_id 32 lowercase hex
 *   (veille_new_record_id); it must hold an Encounter, or a Person edit: 1 to 16 fields,
 *   each a known PersonField at most once, either cleared (no value) or holding a value of
 *   the field's kind (text, number or flag, see records.proto). The copy queued carries this
 *   device's id as device_id and, for a Person, every field stamped with one new stamp of the
 *   device's hybrid logical clock (docs/sync.md, "Clock rule"): m's own hlc fields are
 *   neither read nor changed.
 * Errors: VEILLE_EARG (m unfit: the message says why), VEILLE_ETOOBIG (over 512 KiB
 *   encoded), VEILLE_ENOTENROLLED, VEILLE_ENOMEM, VEILLE_EIO, VEILLE_ECORRUPT. On failure
 *   nothing is queued and m->op_counter is 0.
 */
int veille_outbox_add(struct veille_client *c, Veille__V1__Mutation *m);

/* Same for n mutations (1 to VEILLE_MAX_PUSH) in one transaction: all are queued or none. */
int veille_outbox_add_many(struct veille_client *c, Veille__V1__Mutation **muts, size_t n);

/* Number of ops in the outbox. Errors: VEILLE_ENOTENROLLED, VEILLE_EIO. */
int veille_outbox_count(struct veille_client *c, size_t *n);

/* What one sync did (veille_sync, veille_follow). */
struct veille_sync_stats {
	uint64_t pushed;          /* ops sent whose result came back */
	uint64_t applied, duplicate, conflict, rejected; /* their results */
	uint64_t pulled;          /* changes received (and stored) */
	uint64_t cursor;          /* pull cursor afterwards */
	uint64_t pending;         /* ops left in the outbox afterwards */
	uint64_t syncs;           /* veille_follow: complete syncs done; 1 for veille_sync */
};

#define VEILLE_SYNC_PUSH 1u
#define VEILLE_SYNC_PULL 2u

/* How veille_sync_ex runs. Zero-initialised: push then pull, server's page size, no calls. */
struct veille_sync_opts {
	unsigned what;            /* VEILLE_SYNC_PUSH | VEILLE_SYNC_PULL; 0 means both */
	uint32_t pull_limit;      /* changes per page, 0 (server default) to VEILLE_MAX_PULL_LIMIT */
	/* Called once per pushed op, after its result is stored (op and r borrowed until it
	 * returns; op is the op as queued). May be NULL. */
	void (*on_result)(const Veille__V1__Mutation *op, const struct veille_op_result *r,
			  void *arg);
	/* Called for each change pulled, before its page is stored (change borrowed until it
	 * returns): returning non-zero stops the sync, the page unstored, and veille_sync_ex
	 * returns that value (choose values outside VEILLE_E*). May be NULL. */
	int (*on_change)(const Veille__V1__Change *change, void *arg);
	void *arg;
};

/*
 * One sync: connects and authenticates if there is no connection (with the client's timeout),
 * then pushes the outbox in counter order, in batches of at most VEILLE_MAX_PUSH ops and
 * 512 KiB, removing each op once its result is in (CONFLICT and REJECTED ones go to the
 * problems, see veille_problems); then pulls pages from the saved cursor until the server has
 * no more, storing pages (up to 8 at a time) and the cursor after them in one local
 * transaction. A push the server refuses as a whole for its content (LIMIT_EXCEEDED,
 * INVALID_ARGUMENT) is split until the op at fault is alone; that op becomes a REJECTED
 * problem, so one bad op never blocks the outbox. With both steps done, the time is saved as the last sync.
 * The connection stays open for the next call. Any failure leaves every op whose result did
 * not come back in the outbox, and every page not stored to be pulled again: call again.
 * out: receives what was done (also on failure: what was done before it); may be NULL.
 * Errors: VEILLE_ENOTENROLLED, VEILLE_EARG (opts), the errors of veille_connect() (VEILLE_ECONN
 *   when the server is unreachable), VEILLE_ETIMEOUT, VEILLE_ECLOSED, VEILLE_EPROTO,
 *   VEILLE_ETOOBIG, VEILLE_ESERVER (e.g. UNAVAILABLE, INTERNAL), VEILLE_ENOMEM, VEILLE_EIO,
 *   VEILLE_ECORRUPT; or on_change's non-zero value.
 */
int veille_sync_ex(struct veille_client *c, const struct veille_sync_opts *opts,
		   struct veille_sync_stats *out);

/* veille_sync_ex with default options: push, then pull. */
int veille_sync(struct veille_client *c, struct veille_sync_stats *out);

/* How veille_follow runs. */
/*
 * Declares the vacant places of the caller's centre (docs/places.md): one count per category
 * in vacancies (n at most 7; categories left out have none). The caller must be the centre's
 * responsable, connected. seq: receives the territory's places sequence of the declaration
 * (may be NULL). Errors: VEILLE_EARG, VEILLE_ENOTCONN, VEILLE_ESERVER (FORBIDDEN: not a
 * responsable de centre; INVALID_ARGUMENT: over the capacity, unknown category...), transport
 * errors.
 */
int veille_declare_vacancies(struct veille_client *c, Veille__V1__CategoryCount *const *vacancies,
			     size_t n, uint64_t *seq);

/* Live places, for veille_follow (docs/places.md). */
struct veille_places_opts {
	const Veille__V1__PlaceCategory *categories; /* the snapshot's filter; NULL/0: all */
	size_t n_categories;
	/* A fresh snapshot: after each (re)connection, and after a gap in the deltas' sequence.
	 * Borrowed until it returns. May be NULL. */
	void (*on_snapshot)(const Veille__V1__PlacesSnapshot *snap, void *arg);
	/* Each change, in order, gapless (a gap makes a new snapshot instead). May be NULL. */
	void (*on_delta)(const Veille__V1__PlacesDelta *delta, void *arg);
	void *arg;
};

struct veille_follow_opts {
	const struct veille_sync_opts *sync; /* for each sync; NULL: defaults */
	/* Also keep a live view of the places of the device's territory. NULL: no places. */
	const struct veille_places_opts *places;
	/* Asked at least every 200 ms (and between syncs): non-zero ends veille_follow. May be
	 * NULL. */
	int (*stop)(void *arg);
	uint64_t max_ms;          /* ends veille_follow after this long; 0: no limit */
	/* After each complete sync, with its numbers. May be NULL. */
	void (*on_sync)(const struct veille_sync_stats *s, void *arg);
	/* After each failed attempt that will be retried: why (rc and veille_last_error) and how
	 * long until the next. May be NULL. */
	void (*on_retry)(int rc, const struct veille_error *e, uint32_t wait_ms, void *arg);
	void *arg;                /* for stop, on_sync and on_retry */
};

/*
 * Syncs, then keeps the connection and syncs again when the server pokes (a colleague's
 * change was committed) or when the outbox holds ops (queued by this process's callbacks or
 * by another process: checked every 200 ms), until stop says so or max_ms passed. With
 * opts->places, it also subscribes to the territory's places after each connection and hands
 * over the snapshot and every delta in order; a gap in their sequence (a delta missed while a
 * sync was under way, say) brings a new snapshot. A lost
 * connection or a transient failure (VEILLE_ECONN, ETIMEOUT, ECLOSED, EPROTO, or the server's
 * UNAVAILABLE, RATE_LIMITED, INTERNAL) is retried after a wait drawn uniformly below a bound
 * that starts at 500 ms and doubles to 30 s (at least the server's retry_after_ms), the bound
 * going back to 500 ms after a successful sync. Every wait is bounded and interrupted by stop.
 * total: receives the sums over the syncs done; may be NULL.
 * Returns 0 when stopped (by stop or max_ms), else a failure that retrying cannot mend:
 *   VEILLE_ENOTENROLLED, VEILLE_EARG, VEILLE_ESERVER (AUTH_FAILED, DEVICE_REVOKED, FORBIDDEN,
 *   ...), VEILLE_EINSECURE, VEILLE_ECORRUPT, VEILLE_EIO, VEILLE_ENOMEM, VEILLE_ETOOBIG, or
 *   on_change's non-zero value.
 */
int veille_follow(struct veille_client *c, const struct veille_follow_opts *opts,
		  struct veille_sync_stats *total);

/*
 * The record record_id as the device sees it: the newest version pulled, with the ops still
 * in the outbox folded in (a person's fields merged by their stamps; for an event, its newest
 * queued version, at version base_version + 1 and seq 0).
 * out: receives a Change the caller frees with veille_change_free().
 * pending: receives the number of outbox ops about the record; may be NULL.
 * Errors: VEILLE_ENOTFOUND (nothing held or queued under record_id), VEILLE_EARG,
 *   VEILLE_ENOTENROLLED, VEILLE_ENOMEM, VEILLE_EIO, VEILLE_ECORRUPT.
 */
int veille_record_get(struct veille_client *c, const char *record_id, Veille__V1__Change **out,
		      size_t *pending);

/* Frees a Change from veille_record_get(). NULL is a no-op. */
void veille_change_free(Veille__V1__Change *change);

/* An op the server answered CONFLICT or REJECTED, kept in the local store. */
struct veille_problem {
	uint64_t op_counter;
	char record_id[65];       /* truncated if longer (ids are 32) */
	int record_kind;          /* Veille__V1__Mutation__RecordCase */
	struct veille_op_result result;
	uint64_t at_ms;           /* when the result came (Unix ms) */
};

/*
 * Calls fn for each problem, oldest op first, at most max (0: all). p and op (the op as it
 * was pushed) are borrowed until fn returns; fn returns 0 to go on, non-zero to stop (that
 * value is returned). Errors: VEILLE_ENOTENROLLED, VEILLE_EIO, VEILLE_ECORRUPT,
 * VEILLE_ENOMEM, or fn's value.
 */
int veille_problems(struct veille_client *c, size_t max,
		    int (*fn)(const struct veille_problem *p, const Veille__V1__Mutation *op,
			      void *arg),
		    void *arg);

/* Forgets every problem. Errors: VEILLE_ENOTENROLLED, VEILLE_EIO. */
int veille_problems_clear(struct veille_client *c);

/*
 * Details of the last failed call on c. Borrowed: valid until the next call on c. Its fields
 * are meaningful only right after a call returned an error.
 */
const struct veille_error *veille_last_error(const struct veille_client *c);

/* A short English description of a VEILLE_E* code. Never NULL; static storage. */
const char *veille_strerror(int err);

/*
 * The name of a server Veille__V1__ErrorCode without its prefix (e.g. "PAIRING_INVALID"), or
 * "UNKNOWN" for a value this client does not know. Static storage.
 */
const char *veille_error_code_name(int code);

#endif
