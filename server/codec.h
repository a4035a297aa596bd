/* codec: bytes <-> protobuf messages, with the limits that make decoding safe.
 *
 * protobuf-c 1.4.1 has no recursion limit and known faults on its error paths, so decoding
 * never trusts it alone: the frame size is capped by the transport before we get here; the
 * decoder allocates from an arena with a byte budget (a message small on the wire cannot grow
 * huge in memory) and frees the whole arena at once (so protobuf-c's free paths never run on a
 * half-built message); protobuf_c_message_check runs on the result; then codec_validate checks
 * every string, list and byte field against docs/protocol.md's limits. Only this file and the
 * generated code see protobuf-c directly. */
#ifndef VEILLE_CODEC_H
#define VEILLE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "veille/store/v1/store.pb-c.h"
#include "veille/v1/envelope.pb-c.h"

struct frame;
struct arena;

#define CODEC_DECODE_BUDGET (8u << 20)
#define CODEC_MAX_MUTATIONS 1000
#define CODEC_MAX_NOTE 4096
#define CODEC_MAX_LIST 16
#define CODEC_MAX_LABEL 64
#define CODEC_MAX_ID 64
#define CODEC_MAX_NAME 128       /* a structure's or professional's display name (veillectl) */
#define CODEC_MAX_PAIRING_CODE 32
#define CODEC_MAX_TERRITORY 16   /* a territory code (département: "75", "2A") */
#define CODEC_MAX_CATEGORIES 7   /* place categories: PlaceCategory 1 to 7 */

/* Shorthand for a wire error code: VEILLE_ERR(MALFORMED). */
#define VEILLE_ERR(c) VEILLE__V1__ERROR_CODE__ERROR_CODE_##c

/* A typed error for the peer: code is a Veille__V1__ErrorCode; message is static;
 * request_id is the request's when the Envelope could be unpacked, else 0. */
struct codec_error {
	int code;
	const char *message;
	uint64_t request_id;
};

/* A decoded request; env and everything under it live in the arena. */
struct codec_msg {
	Veille__V1__Envelope *env;
	struct arena *arena;
};

/* Decodes and validates one Envelope. On failure, err says what to tell the peer:
 * MALFORMED (not protobuf), LIMIT_EXCEEDED (over a limit or the decode budget),
 * INVALID_ARGUMENT (bad UTF-8, a server-to-client body). Returns 0 or -1. */
int codec_decode(const uint8_t *data, size_t len, struct codec_msg *out, struct codec_error *err);

/* Frees a decoded message and its arena (safe on a zeroed msg). */
void codec_msg_free(struct codec_msg *msg);

/* Encodes an Envelope into a new frame (one reference, caller's); NULL on out of memory. */
struct frame *codec_encode(const Veille__V1__Envelope *env);

/* Encodes Error{code, message, retry_after_ms} answering request_id. */
struct frame *codec_encode_error(uint64_t request_id, int code, const char *message,
				 uint32_t retry_after_ms);

/* Store values (trusted: they were authenticated by the seal). pack: *out malloc'd, caller
 * frees; unpack: NULL if undecodable, free with codec_stored_free. */
int codec_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len);
ProtobufCMessage *codec_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
			       size_t len);
void codec_stored_free(ProtobufCMessage *msg);

/* 1 if the len bytes are valid UTF-8 (no overlongs, no surrogates), else 0. */
int codec_utf8_valid(const char *s, size_t len);

/* Name of a Veille__V1__ErrorCode ("MALFORMED", ...), for logs and CLIs. */
const char *codec_error_name(int code);

#endif
