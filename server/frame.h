/* frame: one encoded message on its way out, shared by reference.
 *
 * A frame is encoded once and may be queued to many sessions (places fan-out): each queue holds
 * a reference, the last unref frees it. The bytes are preceded by the transport's headroom
 * (LWS_PRE) so libwebsockets can write its header in place without a copy. */
#ifndef VEILLE_FRAME_H
#define VEILLE_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct frame {
	unsigned refs;
	size_t len;
	uint8_t *data; /* len bytes, with transport headroom before them */
};

/* A frame with room for len bytes and one reference; NULL on out of memory. */
struct frame *frame_new(size_t len);
struct frame *frame_ref(struct frame *f);
void frame_unref(struct frame *f);

#endif
