/* transport: libwebsockets server: the /sync WebSocket endpoint; the HTTP side of the same
 * listener (the web app at /, /config.js, /signout, the Origin check of the handshake) is
 * http.c's.
 *
 * Per connection it keeps the reassembly buffer (capped at max_frame: over it, close 1009),
 * refuses text frames (close 1003), and holds a bounded queue of outgoing frames written one
 * per WRITEABLE callback. A complete binary message goes to session_on_message. Only this file
 * and http.c talk to libwebsockets' server side and return -1 to it. */
#ifndef VEILLE_TRANSPORT_H
#define VEILLE_TRANSPORT_H

#include <stddef.h>

struct config;
struct frame;
struct server;
struct transport;
struct tconn;

/* Creates the context and listens. Errors: -1 (logged). */
int transport_start(struct transport **out, struct server *srv, const struct config *cfg);

/* Runs the event loop until transport_stop, calling after_pass(arg) after each pass (once
 * every ready socket was read), and at least once a second. The loop is libev on epoll when
 * Debian's libwebsockets-evlib-ev plugin is there, else lws' own poll() loop. */
void transport_run(struct transport *tp, void (*after_pass)(void *arg), void *arg);

/* Serves until every connection has closed or timeout_ms passed (after transport_close on
 * each, so that peers get their close frame). */
void transport_drain(struct transport *tp, int timeout_ms);

/* Ends the loop's current wait, so that after_pass runs soon; callable from any thread. */
void transport_wake(struct transport *tp);

/* Asks the loop to stop; async-signal-safe. */
void transport_stop(struct transport *tp);

/* Closes every connection and frees the context. */
void transport_free(struct transport *tp);

/* The port actually bound (useful with port 0). */
int transport_port(const struct transport *tp);

/* Queues a frame to a connection, taking a new reference to it. If the queue is full the
 * connection is closed with 1008 (a reader that does not read does not grow our memory).
 * Returns 0, or -1 if the frame was not queued (queue full or connection closing). */
int transport_send(struct tconn *c, struct frame *f);

/* Closes the connection with a WebSocket close code once the queued frames are written. */
void transport_close(struct tconn *c, int code, const char *reason);

#endif
