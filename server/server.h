/* server: what one veilled process holds, shared by its sessions and handlers. */
#ifndef VEILLE_SERVER_H
#define VEILLE_SERVER_H

#include <stdint.h>

#include "config.h"

#define SERVER_ID_BYTES 16

struct commit_item;
struct commit_writer;
struct session;

struct server {
	struct config cfg;
	struct keyring *kr;
	struct store *store;
	struct ratelimit *rl;
	struct transport *tp;
	uint8_t server_id[SERVER_ID_BYTES];
	struct session *sessions; /* every live session; session.c keeps the list */
	struct {
		struct commit_item *head, **tail; /* queued, not yet handed to the writer */
		size_t ops; /* queued mutations, bounded by COMMIT_MAX_OPS */
		struct commit_writer *w;          /* the writer thread */
	} commits;          /* commit.c */
	struct {
		uint64_t next_look_ms; /* monotonic: when auth_tick looks again */
		uint64_t seen;         /* the revocation counter at the last look */
	} revocations;      /* auth.c */
	struct {
		uint64_t next_tick_ms; /* monotonic: when places_tick looks again */
		uint64_t swept_ms;     /* wall clock: staleness announced up to here */
	} places;           /* places.c */
};

#endif
