/*
 * hlc: the hybrid logical clock (see hlc.h).
 */
#include "hlc.h"

#include <string.h>

static int compare(uint64_t wa, uint32_t ca, const uint8_t *da, size_t la, uint64_t wb,
		   uint32_t cb, const uint8_t *db, size_t lb)
{
	size_t n = la < lb ? la : lb;
	int d;

	if (wa != wb)
		return wa < wb ? -1 : 1;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	d = n ? memcmp(da, db, n) : 0;
	if (d)
		return d < 0 ? -1 : 1;
	return la == lb ? 0 : la < lb ? -1 : 1;
}

int hlc_compare(const struct hlc *a, const struct hlc *b)
{
	return compare(a->wall_ms, a->counter, a->device, HLC_DEVICE_BYTES, b->wall_ms, b->counter,
		       b->device, HLC_DEVICE_BYTES);
}

int hlc_compare_pb(const Veille__V1__Hlc *a, const Veille__V1__Hlc *b)
{
	if (!a || !b)
		return !a && !b ? 0 : !a ? -1 : 1;
	return compare(a->wall_ms, a->counter, a->device_id.data, a->device_id.len, b->wall_ms,
		       b->counter, b->device_id.data, b->device_id.len);
}

void hlc_tick(struct hlc *last, uint64_t now_ms, const uint8_t device[HLC_DEVICE_BYTES])
{
	uint64_t wall = now_ms > last->wall_ms ? now_ms : last->wall_ms;

	if (wall != last->wall_ms) {
		last->counter = 0;
	} else if (last->counter == UINT32_MAX) {
		wall++;
		last->counter = 0;
	} else {
		last->counter++;
	}
	last->wall_ms = wall;
	memcpy(last->device, device, HLC_DEVICE_BYTES);
}

int hlc_observe(struct hlc *last, const Veille__V1__Hlc *seen)
{
	struct hlc s;

	if (!seen || seen->device_id.len != HLC_DEVICE_BYTES)
		return 0;
	s.wall_ms = seen->wall_ms;
	s.counter = seen->counter;
	memcpy(s.device, seen->device_id.data, HLC_DEVICE_BYTES);
	if (hlc_compare(&s, last) <= 0)
		return 0;
	*last = s;
	return 1;
}

void hlc_encode(const struct hlc *h, uint8_t out[HLC_ENCODED])
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(h->wall_ms >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(h->counter >> (24 - 8 * i));
	memcpy(out + 12, h->device, HLC_DEVICE_BYTES);
}

int hlc_decode(const uint8_t *in, size_t len, struct hlc *out)
{
	if (len != HLC_ENCODED)
		return -1;
	out->wall_ms = 0;
	for (int i = 0; i < 8; i++)
		out->wall_ms = out->wall_ms << 8 | in[i];
	out->counter = 0;
	for (int i = 0; i < 4; i++)
		out->counter = out->counter << 8 | in[8 + i];
	memcpy(out->device, in + 12, HLC_DEVICE_BYTES);
	return 0;
}

void hlc_to_pb(const struct hlc *h, Veille__V1__Hlc *pb)
{
	veille__v1__hlc__init(pb);
	pb->wall_ms = h->wall_ms;
	pb->counter = h->counter;
	pb->device_id.data = (uint8_t *)h->device;
	pb->device_id.len = HLC_DEVICE_BYTES;
}
