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
 *   device.state  key=value text: server url, device and server ids, principal, counters
 *   lock          held (flock) while a client is open, so two processes never share counters
 *
 * A client is not thread-safe: use one per thread, or lock around it.
 */
#ifndef VEILLE_H
#define VEILLE_H

#include <stddef.h>
#include <stdint.h>

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
	VEILLE_EBUSY,        /* another process holds the state directory */
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
	uint64_t pull_cursor;     /* last cursor saved with veille_set_cursor() */
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
 * loads device.state if present. Does not touch the network.
 * out: receives the client; release it with veille_close(). NULL on failure.
 * err: if not NULL, receives what failed (the file and the system error), since there is no
 *   client to ask with veille_last_error().
 * Errors: VEILLE_EARG (NULL argument), VEILLE_ENOMEM, VEILLE_EIO (cannot create or read dir),
 *   VEILLE_EBUSY (another process has it open), VEILLE_ECORRUPT (device.state malformed).
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
 * Errors: VEILLE_EARG (bad url, empty or overlong code or label), VEILLE_EEXIST (already
 *   enrolled: use another directory), VEILLE_EIO, VEILLE_ENOMEM, VEILLE_ECONN, VEILLE_ETIMEOUT,
 *   VEILLE_ECLOSED, VEILLE_EPROTO, VEILLE_ETOOBIG, VEILLE_ESERVER (e.g. PAIRING_INVALID,
 *   RATE_LIMITED). On failure nothing is left in dir (the key written is removed).
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

/* Copies the local state into *out (no network). Never fails for valid pointers. */
void veille_info(const struct veille_client *c, struct veille_info *out);

/*
 * Pushes n mutations (1 to VEILLE_MAX_PUSH) on the authenticated connection and fills
 * results[0..n-1], in order.
 * muts: borrowed. A mutation whose op_counter is 0 gets the next counter of the device, written
 *   into it; the new counter is saved durably BEFORE anything is sent, so a counter is never
 *   reused for other content. A mutation with a non-zero op_counter (a retry of an earlier
 *   push) is sent as is; the server answers DUPLICATE if it had applied it.
 * Per-op refusals are results (status REJECTED with a code), not errors: 0 is returned.
 * Errors: VEILLE_EARG (n out of range, NULL, op_counter never handed out), VEILLE_ENOTCONN,
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
 *   once while *has_more. The cursor is not saved: see veille_set_cursor().
 * Errors: VEILLE_EARG, VEILLE_ENOTCONN, VEILLE_ENOMEM, VEILLE_ECONN, VEILLE_ETIMEOUT,
 *   VEILLE_ECLOSED, VEILLE_EPROTO (e.g. has_more without progress), VEILLE_ETOOBIG,
 *   VEILLE_ESERVER; or on_change's non-zero value.
 */
int veille_pull(struct veille_client *c, uint64_t cursor, uint32_t limit,
		int (*on_change)(const Veille__V1__Change *change, void *arg), void *arg,
		uint64_t *next_cursor, int *has_more);

/*
 * Saves cursor durably in device.state as the pull cursor: call it once the changes up to it
 * are safely processed. Errors: VEILLE_ENOTENROLLED, VEILLE_EIO.
 */
int veille_set_cursor(struct veille_client *c, uint64_t cursor);

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
