/* sync: the push and pull handlers (docs/protocol.md, "Sync"). */
#ifndef VEILLE_SYNC_H
#define VEILLE_SYNC_H

#include "codec.h"

struct session;

void sync_on_push(struct session *s, const Veille__V1__Envelope *env);
void sync_on_pull(struct session *s, const Veille__V1__Envelope *env);

#endif
