/*
 * conn: one blocking WebSocket client connection, on libwebsockets' client API.
 *
 * Design: each conn owns its own lws context, so it can be driven from any thread and knows
 * nothing of others. Nothing runs in the background: the calls below drive lws_service()
 * themselves until the awaited event or the timeout (an lws timer wakes the loop at the
 * deadline, since lws_service ignores its own timeout argument). Writes are queued and leave
 * only from LWS_CALLBACK_CLIENT_WRITEABLE, one lws_write each, with LWS_PRE headroom. Received
 * messages are reassembled from their fragments and queued. Both queues are bounded, and so is
 * a received message (CONN_MAX_MESSAGE): past it the connection is closed with 1009.
 *
 * It is also the test suite's hostile client: conn_send can send text frames and raw
 * fragments, and conn_close_code tells how the server closed the connection.
 *
 * Errors are the VEILLE_E* codes of veille.h.
 */
#ifndef VEILLE_CONN_H
#define VEILLE_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "veille.h"

#define CONN_MAX_MESSAGE (16u * 1024u * 1024u) /* largest message sent or received */

/* conn_send flags. A fragmented message is a first frame with CONN_NO_FIN, then frames with
 * CONN_CONTINUATION | CONN_NO_FIN, then a last one with CONN_CONTINUATION alone. */
enum conn_send_flags {
	CONN_BINARY = 0,         /* default: a binary frame */
	CONN_TEXT = 1 << 0,      /* a text frame instead (the veille server refuses it: 1003) */
	CONN_NO_FIN = 1 << 1,    /* more frames of this message follow */
	CONN_CONTINUATION = 1 << 2 /* a continuation frame of the message being sent */
};

struct conn;

/*
 * Connects to url and completes the WebSocket handshake, within timeout_ms.
 * url: "ws://host[:port][/path]", host a name, IPv4 or "[IPv6]"; port defaults to 80, path to
 *   "/sync". "wss://" is refused (no TLS yet).
 * subprotocol: sent in Sec-WebSocket-Protocol (normally "veille.v1"); NULL sends none.
 * timeout_ms: >= 0; also the bound of each later conn_send() waiting for queue room and of
 *   conn_close().
 * out: receives the connection; release it with conn_close().
 * Errors: VEILLE_EARG (url malformed or wss), VEILLE_ENOMEM, VEILLE_ECONN (refused, handshake
 *   rejected: e.g. wrong path or subprotocol), VEILLE_ETIMEOUT. *out is NULL on failure.
 */
int conn_open(struct conn **out, const char *url, const char *subprotocol, int timeout_ms);

/* Same as conn_open; on failure also writes a one-line reason into why (may be NULL). */
int conn_open_detail(struct conn **out, const char *url, const char *subprotocol,
		     int timeout_ms, char *why, size_t why_size);

/*
 * Queues one frame of len bytes (copied; 0 to CONN_MAX_MESSAGE) to be written when the socket
 * is writable; flags are enum conn_send_flags. Returns once the frame is queued: it goes out
 * while a later conn_recv(), conn_flush() or conn_close() drives the connection. Waits for
 * room if the queue is full, up to the timeout given to conn_open.
 * Errors: VEILLE_EARG (len too big), VEILLE_ENOMEM, VEILLE_ETIMEOUT (queue still full), or the
 *   reason the connection ended: VEILLE_ECLOSED, VEILLE_ECONN, VEILLE_ETOOBIG, VEILLE_EPROTO.
 */
int conn_send(struct conn *c, const void *data, size_t len, int flags);

/* Drives the connection until every queued frame is written. Errors as conn_send. */
int conn_flush(struct conn *c, int timeout_ms);

/*
 * Waits up to timeout_ms for the next complete binary message and hands it over.
 * msg, len: receive the message; the caller frees *msg with free(). Messages that arrived
 *   before the connection ended are still returned, in order, before the error.
 * Errors: VEILLE_ETIMEOUT, VEILLE_ECLOSED (the server closed it: see conn_close_code),
 *   VEILLE_ECONN (connection lost), VEILLE_ETOOBIG (the server sent a message over
 *   CONN_MAX_MESSAGE: closed with 1009), VEILLE_EPROTO (it sent a text message: closed with
 *   1003; or more unread messages than the queue holds: closed with 1008), VEILLE_ENOMEM.
 */
int conn_recv(struct conn *c, uint8_t **msg, size_t *len, int timeout_ms);

/*
 * The close code the server sent in its close frame; 1005 if that frame had no code; 1006 if
 * the connection ended without one from the server; 0 while the connection is open.
 */
int conn_close_code(const struct conn *c);

/* A one-line description of why the connection ended or failed, or "" if it did not. Borrowed:
 * valid until conn_close(). */
const char *conn_why(const struct conn *c);

/*
 * Writes the frames still queued, closes the connection with 1000 and frees everything,
 * waiting at most the conn_open timeout. NULL is a no-op.
 */
void conn_close(struct conn *c);

#endif
