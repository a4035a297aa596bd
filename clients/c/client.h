/*
 * client: what the files implementing veille.h share about a struct veille_client (client.c
 * holds the connection and identity calls, sync.c the sync loops, offline.c the outbox and
 * local reads). Not part of the public API.
 *
 * Invariants: local is open iff id.enrolled; authenticated implies conn; any transport
 * failure drops the connection (client_drop), so the state is either an authenticated
 * connection or none.
 */
#ifndef VEILLE_CLIENT_H
#define VEILLE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "identity.h"
#include "local.h"
#include "veille.h"
#include "wire.h"

struct veille_client {
	char *dir;
	int lock_fd;
	struct identity id;
	struct local *local;       /* the local store; NULL until enrolled */
	int timeout_ms;            /* for enrolment and connections without their own */
	struct conn *conn;
	int conn_timeout_ms;
	int authenticated;
	uint64_t next_request_id;
	uint64_t pull_request_id;  /* the request a page stream answers */
	struct wire_news news;     /* pokes received, for veille_follow */
	int places_live;           /* subscribed to places on this connection, no gap seen */
	uint64_t places_seq;       /* the territory's last places sequence applied */
	int has_principal;
	struct veille_principal principal;
	struct veille_error last_error;
	int lease_expired;         /* the local store is locked until the next authentication */
};

/* Closes the connection, if any. */
void client_drop(struct veille_client *c);

/* One request/reply on the connection (wire_call, with the client's request ids, timeout and
 * news); a failure other than the server's answer drops the connection. */
int client_call(struct veille_client *c, Veille__V1__Envelope *req,
		Veille__V1__Envelope__BodyCase expect, Veille__V1__Envelope **reply);

/* rc, unless it is the server saying the device or its professional is revoked
 * (DEVICE_REVOKED): then the device forgets everything, at once (connection, local store,
 * key, state: identity_forget) and VEILLE_EREVOKED is returned. Every path that hears the
 * server goes through it. */
int client_revoked(struct veille_client *c, int rc);

/* Copies src (NULL: empty) into dst of size bytes, cutting a long text at a UTF-8 character
 * boundary: for names and reasons shown to people. */
void client_copy_text(char *dst, size_t size, const char *src);

/* VEILLE_ENOTENROLLED (with a message) unless the local store is open. */
int client_need_local(struct veille_client *c);

/*
 * Pushes n (1 to VEILLE_MAX_PUSH) mutations as they are (counters already given) and checks
 * the answer: one result per op, same counters, in order. Errors as veille_push.
 */
int client_push(struct veille_client *c, Veille__V1__Mutation **muts, size_t n,
		struct veille_op_result *results);

/*
 * Asks for up to pages pages after cursor (PullRequest.pages) and returns the first. reply:
 * receives it (reply->pull_result), the caller frees it with wire_free(). Errors as veille_pull.
 */
int client_pull_page(struct veille_client *c, uint64_t cursor, uint32_t limit, uint32_t pages,
		     Veille__V1__Envelope **reply);

/* The next page of the stream client_pull_page asked for (pages > 1), checked the same way;
 * cursor is the previous page's next_cursor. */
int client_pull_next_page(struct veille_client *c, uint64_t cursor, Veille__V1__Envelope **reply);

/* Wall clock (Unix ms) and a monotonic clock (ms). */
uint64_t client_wall_ms(void);
uint64_t client_mono_ms(void);

#endif
