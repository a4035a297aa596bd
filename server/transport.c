/* transport: see transport.h. The HTTP answers (files, headers, the Origin check of the
 * handshake) are http.c's: this file serves /sync.
 *
 * Structures follow libwebsockets' minimal examples: per-connection state (struct tconn) is
 * lws's per-session user data; writes happen only in SERVER_WRITEABLE, one lws_write each, from
 * a fixed ring of shared frames. Memory per idle connection is the tconn plus lws's own; the
 * reassembly buffer exists only while a message is arriving (or stays small). */
#include "transport.h"

#include "config.h"
#include "frame.h"
#include "http.h"
#include "log.h"
#include "server.h"
#include "session.h"

#include <ev.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MAX 256
#define RX_KEEP 4096 /* a reassembly buffer up to this size is kept between messages */
#define TICK_MS 1000 /* after_pass runs at least this often, for timed work (places.c) */

struct tconn {
	struct lws *wsi;
	struct session *session;
	struct transport *tp;
	uint8_t *rx;
	size_t rx_len, rx_cap;
	struct frame **q; /* ring of queue_frames entries, allocated on first send */
	unsigned q_head, q_len;
	int close_code; /* nonzero: close once the queue is written */
	int too_big;    /* discarding the rest of an over-cap message, then close 1009 */
	size_t discarded;
	char close_reason[32];
};

struct transport {
	struct lws_context *ctx;
	struct ev_loop *loop; /* the event loop lws runs on; NULL: lws' own poll() loop */
	struct lws_vhost *vh;
	struct server *srv;
	const struct config *cfg;
	volatile sig_atomic_t stop;
	unsigned conns; /* established WebSocket connections */
	lws_sorted_usec_list_t wakeup;
	lws_sorted_usec_list_t tick;   /* ends the loop's wait every TICK_MS: after_pass runs */
	struct http *http;             /* the HTTP answers: files, /config.js, /signout */
	struct lws_protocols protocols[3];
	lws_retry_bo_t retry;
};

/* ---- queue ---- */

int transport_send(struct tconn *c, struct frame *f)
{
	unsigned cap = c->tp->cfg->queue_frames;

	if (c->close_code)
		return -1;
	if (!c->q) {
		c->q = calloc(cap, sizeof(*c->q));
		if (!c->q) {
			transport_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
			return -1;
		}
	}
	if (c->q_len == cap) {
		log_warn("transport: output queue full, closing a connection that does not read");
		transport_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "output queue overflow");
		return -1;
	}
	c->q[(c->q_head + c->q_len++) % cap] = frame_ref(f);
	lws_callback_on_writable(c->wsi);
	return 0;
}

void transport_close(struct tconn *c, int code, const char *reason)
{
	if (c->close_code)
		return;
	c->close_code = code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	lws_callback_on_writable(c->wsi);
}

static void drop_queue(struct tconn *c)
{
	unsigned cap = c->tp->cfg->queue_frames;

	while (c->q_len) {
		frame_unref(c->q[c->q_head]);
		c->q_head = (c->q_head + 1) % cap;
		c->q_len--;
	}
	free(c->q);
	c->q = NULL;
}

/* Writes one queued frame; returns -1 when the connection must close now. */
static int on_writable(struct tconn *c)
{
	unsigned cap = c->tp->cfg->queue_frames;
	struct frame *f;

	if (c->q_len) {
		f = c->q[c->q_head];
		c->q_head = (c->q_head + 1) % cap;
		c->q_len--;
		if (lws_write(c->wsi, f->data, f->len, LWS_WRITE_BINARY) < (int)f->len) {
			frame_unref(f);
			return -1;
		}
		frame_unref(f);
		if (!c->q_len && !c->close_code)
			session_on_drained(c->session);
		if (c->q_len || c->close_code)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->close_code) {
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	return 0;
}

/* ---- receive ---- */

static void rx_reset(struct tconn *c)
{
	c->rx_len = 0;
	if (c->rx_cap > RX_KEEP) {
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
}

/* Appends a fragment. Refusals (text frame, over the cap) do not close at once: they stop
 * buffering, discard what the peer still sends of that message, and close from the WRITEABLE
 * callback, so lws runs the close handshake instead of dropping a socket with unread data
 * (which resets the connection and can destroy the close frame before the peer reads it).
 * Discarding is bounded: past DISCARD_FACTOR times the cap we close at once. */
#define DISCARD_FACTOR 16
static int on_receive(struct tconn *c, const uint8_t *in, size_t len)
{
	size_t max = c->tp->cfg->max_frame;
	size_t remaining = lws_remaining_packet_payload(c->wsi);

	if (c->too_big) {
		c->discarded += len;
		if (c->discarded > DISCARD_FACTOR * max) {
			lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
					 (unsigned char *)"message too large", 17);
			return -1;
		}
		if (lws_is_final_fragment(c->wsi) && remaining == 0) {
			c->too_big = 0;
			transport_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
		}
		return 0;
	}
	if (c->close_code)
		return 0;
	if (!lws_frame_is_binary(c->wsi)) {
		transport_close(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "binary frames only");
		rx_reset(c);
		return 0;
	}
	/* Refuse as soon as the announced size passes the cap, before buffering it. */
	if (c->rx_len + len + remaining > max) {
		c->rx_len = 0;
		rx_reset(c);
		c->too_big = 1;
		c->discarded = 0;
		return on_receive(c, in, len);
	}
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 1024;
		uint8_t *p;

		while (cap < c->rx_len + len + remaining)
			cap *= 2;
		if (cap > max)
			cap = max;
		p = realloc(c->rx, cap);
		if (!p) {
			transport_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
			return 0;
		}
		c->rx = p;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (lws_is_final_fragment(c->wsi) && remaining == 0) {
		session_on_message(c->session, c->rx, c->rx_len);
		rx_reset(c);
	}
	return 0;
}

/* ---- callbacks ---- */

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	struct tconn *c = user;
	struct transport *tp = lws_context_user(lws_get_context(wsi));
	char peer[64], uri[64];

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* Only /sync speaks the protocol. */
		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
		    strcmp(uri, "/sync") != 0)
			return 1;
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof(*c));
		c->wsi = wsi;
		c->tp = tp;
		if (!lws_get_peer_simple(wsi, peer, sizeof(peer)))
			snprintf(peer, sizeof(peer), "unknown");
		c->session = session_new(tp->srv, c, peer);
		if (!c->session)
			return -1;
		tp->conns++;
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return c->wsi ? on_receive(c, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c->wsi ? on_writable(c) : 0;
	case LWS_CALLBACK_CLOSED:
		if (!c || !c->wsi)
			return 0; /* refused before ESTABLISHED: nothing of ours to free */
		tp->conns--;
		session_free(c->session);
		c->session = NULL;
		drop_queue(c);
		free(c->rx);
		c->rx = NULL;
		return 0;
	default:
		return 0;
	}
}

static void lws_log_bridge(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_msg(level == LLL_ERR ? LOG_ERROR : level == LLL_WARN ? LOG_WARN : LOG_DEBUG,
		"lws: %.*s", (int)n, line);
}

int transport_start(struct transport **out, struct server *srv, const struct config *cfg)
{
	struct lws_context_creation_info info;
	struct transport *tp;
	static const uint32_t backoff[] = {1000};

	*out = NULL;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -1;
	tp->srv = srv;
	tp->cfg = cfg;
	if (http_new(&tp->http, cfg) != HTTP_OK) {
		log_error("transport: cannot prepare the HTTP answers");
		free(tp);
		return -1;
	}
	memset(&info, 0, sizeof(info));
	/* protocols[0] and the mounts: http.c. */
	http_vhost(tp->http, &info, &tp->protocols[0]);
	/* rx_buffer_size is per connection: keep it small, idle sessions must stay cheap. */
	tp->protocols[1] = (struct lws_protocols){"veille.v1", ws_callback, sizeof(struct tconn),
						   65536, 0, NULL, 0};
	/* Dead peers: ping after 60 s of silence, hang up after 120 s. */
	tp->retry.retry_ms_table = backoff;
	tp->retry.retry_ms_table_count = 1;
	tp->retry.secs_since_valid_ping = 60;
	tp->retry.secs_since_valid_hangup = 120;

	lws_set_log_level(cfg->log_level >= LOG_DEBUG ? LLL_ERR | LLL_WARN | LLL_NOTICE
						      : LLL_ERR | LLL_WARN,
			  lws_log_bridge);
	info.port = cfg->port;
	info.iface = cfg->host;
	info.protocols = tp->protocols;
	info.user = tp;
	info.options = LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	if (strchr(cfg->host, ':'))
		info.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY |
				LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
	else
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.retry_and_idle_policy = &tp->retry;
	info.timeout_secs = 10;     /* slow handshakes */
	info.max_http_header_pool = 64;
	/* The service buffer is per event-loop thread (one here), not per connection: a large
	 * one lets a pass read whole pushes from every ready socket, so they commit together. */
	info.pt_serv_buf_size = 1u << 20;
	/* The loop: lws' own is poll() over every socket, each pass: at 5,000 sessions a fifth
	 * of a places fan-out went into the kernel's scan of them. So lws runs on a libev loop of
	 * ours, on epoll, through Debian's libwebsockets-evlib-ev plugin (lws loads it when the
	 * context is created); without the plugin, its own loop as before. */
	tp->loop = ev_loop_new(EVBACKEND_EPOLL);
	if (tp->loop) {
		info.options |= LWS_SERVER_OPTION_LIBEV;
		info.foreign_loops = (void **)&tp->loop;
		tp->ctx = lws_create_context(&info);
		if (!tp->ctx) {
			log_warn("transport: no libev event loop for lws (is libwebsockets-evlib-ev "
				 "installed?): using poll()");
			ev_loop_destroy(tp->loop);
			tp->loop = NULL;
		}
	}
	if (!tp->loop) {
		info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
		info.foreign_loops = NULL;
		tp->ctx = lws_create_context(&info);
	}
	if (!tp->ctx) {
		log_error("transport: cannot listen on %s:%d", cfg->host, cfg->port);
		http_free(tp->http);
		free(tp);
		return -1;
	}
	http_files(tp->http, tp->ctx);
	tp->vh = lws_get_vhost_by_name(tp->ctx, "default");
	*out = tp;
	return 0;
}

int transport_port(const struct transport *tp)
{
	return tp->vh ? lws_get_vhost_listen_port(tp->vh) : -1;
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct transport *tp = lws_container_of(sul, struct transport, tick);

	lws_sul_schedule(tp->ctx, 0, &tp->tick, on_tick, TICK_MS * LWS_US_PER_MS);
	lws_cancel_service(tp->ctx);
}

/* One pass: waits for events (or the next lws timer) and handles every ready one. */
static int service(struct transport *tp)
{
	if (!tp->loop)
		return lws_service(tp->ctx, 0);
	ev_run(tp->loop, EVRUN_ONCE);
	return 0;
}

void transport_run(struct transport *tp, void (*after_pass)(void *arg), void *arg)
{
	lws_sul_schedule(tp->ctx, 0, &tp->tick, on_tick, TICK_MS * LWS_US_PER_MS);
	while (!tp->stop) {
		if (service(tp) < 0)
			break;
		after_pass(arg);
	}
	lws_sul_cancel(&tp->tick);
}

/* Ends the loop's wait, transport_drain checks the clock. lws runs ripe timers before it
 * computes its wait from the next one, so a timer ripening just then would not end the wait:
 * cancelling the service does, whenever it runs. */
static void on_wakeup(lws_sorted_usec_list_t *sul)
{
	lws_cancel_service(lws_container_of(sul, struct transport, wakeup)->ctx);
}

void transport_drain(struct transport *tp, int timeout_ms)
{
	struct timespec now;
	int64_t deadline, left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + timeout_ms;
	while (tp->conns > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = deadline - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
		if (left <= 0)
			break;
		/* lws_service sleeps until its next timer, whatever its argument: set one. */
		lws_sul_schedule(tp->ctx, 0, &tp->wakeup, on_wakeup, left * LWS_US_PER_MS);
		if (service(tp) < 0)
			break;
	}
	lws_sul_cancel(&tp->wakeup);
}

void transport_wake(struct transport *tp)
{
	lws_cancel_service(tp->ctx);
}

void transport_stop(struct transport *tp)
{
	tp->stop = 1;
	lws_cancel_service(tp->ctx);
}

void transport_free(struct transport *tp)
{
	if (!tp)
		return;
	lws_context_destroy(tp->ctx);
	if (tp->loop)
		ev_loop_destroy(tp->loop);
	http_free(tp->http);
	free(tp);
}
