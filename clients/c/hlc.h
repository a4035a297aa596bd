/*
 * hlc: the hybrid logical clock that stamps person profile edits (docs/sync.md, "Clock rule").
 *
 * Design: pure functions of their inputs (no clock, no I/O), so the rule can be checked
 * exhaustively; the caller reads the time and keeps the last stamp L in the local store.
 * Order: wall_ms, then counter, then device id bytewise. A stamp whose device id is shorter
 * (an absent one, read as empty) sorts before any longer one with the same prefix.
 */
#ifndef VEILLE_HLC_H
#define VEILLE_HLC_H

#include <stddef.h>
#include <stdint.h>

#include "veille/v1/records.pb-c.h"

#define HLC_DEVICE_BYTES 16
#define HLC_ENCODED 28 /* wall (8, big-endian) || counter (4, big-endian) || device (16) */

struct hlc {
	uint64_t wall_ms;
	uint32_t counter;
	uint8_t device[HLC_DEVICE_BYTES];
};

/* < 0, 0 or > 0 as a orders before, equal to or after b. */
int hlc_compare(const struct hlc *a, const struct hlc *b);

/* Same order on protobuf stamps; NULL (no stamp) orders before every stamp. */
int hlc_compare_pb(const Veille__V1__Hlc *a, const Veille__V1__Hlc *b);

/*
 * The stamp of a local edit at physical time now_ms, given the last stamp *last, for device:
 * wall = max(now, last.wall); counter = last.counter + 1 if wall == last.wall, else 0. A
 * counter that would overflow moves wall on by 1 ms instead. *last becomes the new stamp.
 */
void hlc_tick(struct hlc *last, uint64_t now_ms, const uint8_t device[HLC_DEVICE_BYTES]);

/* L = max(L, seen): what a pulled stamp teaches the clock. Returns whether *last changed.
 * A stamp whose device id is not HLC_DEVICE_BYTES long is ignored (returns 0). */
int hlc_observe(struct hlc *last, const Veille__V1__Hlc *seen);

/* Fixed-size encoding for the local store, and back (-1 if len is not HLC_ENCODED). */
void hlc_encode(const struct hlc *h, uint8_t out[HLC_ENCODED]);
int hlc_decode(const uint8_t *in, size_t len, struct hlc *out);

/* Points pb at h's fields (pb borrows h->device: keep h alive while pb is used). */
void hlc_to_pb(const struct hlc *h, Veille__V1__Hlc *pb);

#endif
