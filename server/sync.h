/* sync: the pull handler (docs/protocol.md, "Sync"). Pushes go through commit.c. */
#ifndef VEILLE_SYNC_H
#define VEILLE_SYNC_H

#include "codec.h"

struct session;

void sync_on_pull(struct session *s, const Veille__V1__Envelope *env);

/* Sends the next page of the session's page stream (s->pull), if any. */
void sync_pull_next_page(struct session *s);

#endif
