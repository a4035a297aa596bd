/* frame: see frame.h. Single-threaded: references are plain counters (the event loop owns
 * every frame). */
#include "frame.h"

#include <libwebsockets.h>
#include <stdlib.h>

struct frame *frame_new(size_t len)
{
	struct frame *f = malloc(sizeof(*f) + LWS_PRE + len);

	if (!f)
		return NULL;
	f->refs = 1;
	f->len = len;
	f->data = (uint8_t *)(f + 1) + LWS_PRE;
	return f;
}

struct frame *frame_ref(struct frame *f)
{
	f->refs++;
	return f;
}

void frame_unref(struct frame *f)
{
	if (f && --f->refs == 0)
		free(f);
}
