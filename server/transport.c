/* transport: see transport.h.
 *
 * Structures follow libwebsockets' minimal examples: per-connection state (struct tconn) is
 * lws's per-session user data; frames go out one lws_write each, from a bounded ring of shared
 * frames. Memory per idle connection is the tconn plus lws's own; the reassembly buffer exists
 * only while a message is arriving (or stays small).
 *
 * A frame for a connection whose ring is empty and whose socket took all of the previous one
 * does not wait for a WRITEABLE callback: it joins the pass's batch, written at the end of the
 * pass with plain send()s, a large batch on two threads (flush_batch): a places delta to 5,000
 * subscribers is 5,000 sends in two loops, where going through WRITEABLE cost each delivery a
 * poll-set change, a callback and, with lws' poll() loop, its share of a scan of every socket.
 * What the kernel does not take goes back to lws (the rest of a partial send) or to the ring;
 * later frames wait in the ring, written from WRITEABLE as before, so order holds and a
 * reader that stops reading still meets the ring's bound. A batched frame counts as drained
 * (session_on_drained, which paces paged pulls) after the pass. Answers to a connection's own
 * requests always take the ring (write_now says why). */
#include "transport.h"

#include "config.h"
#include "frame.h"
#include "log.h"
#include "server.h"
#include "session.h"

#include <ev.h>
#include <errno.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
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
	struct tconn *drain_next, *drain_prev; /* on tp->drained: written at once this pass */
	int drain_listed;
	int batched;      /* a frame for it waits in tp->batch, at batch_idx */
	size_t batch_idx;
	int in_rx; /* in session_on_message: its answers go through the ring (see write_now) */
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
	struct lws_http_mount mount;
	struct lws_protocols protocols[3];
	lws_retry_bo_t retry;
	struct tconn *drained; /* connections whose frame was written at once (transport_send) */
	struct out *batch;     /* frames to write at the end of this pass (flush_batch) */
	size_t n_batch, cap_batch;
	struct sender *sender; /* the second thread that writes half of a large batch */
};

/* One frame to write to one connection's socket at the end of the pass. */
struct out {
	struct tconn *c; /* NULL: the connection closed meanwhile */
	struct frame *f; /* a reference, the batch's */
	int fd;
	size_t len;      /* header + payload */
	const uint8_t *bytes;
	ssize_t sent;    /* set by send_range */
	int err;
};

struct sender {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	struct out *job;
	size_t n;
	int busy, quit;
};

/* ---- queue ---- */

static void drain_unlist(struct tconn *c)
{
	if (!c->drain_listed)
		return;
	if (c->drain_prev)
		c->drain_prev->drain_next = c->drain_next;
	else
		c->tp->drained = c->drain_next;
	if (c->drain_next)
		c->drain_next->drain_prev = c->drain_prev;
	c->drain_next = c->drain_prev = NULL;
	c->drain_listed = 0;
}

static void drain_list(struct tconn *c)
{
	if (c->drain_listed)
		return;
	c->drain_listed = 1;
	c->drain_prev = NULL;
	c->drain_next = c->tp->drained;
	if (c->drain_next)
		c->drain_next->drain_prev = c;
	c->tp->drained = c;
}

/* Takes f for writing at the end of the pass (flush_batch) if nothing is waiting before it.
 * Returns 1 if taken, 0 if it must be queued.
 *
 * Answers to the connection's own requests are not written at once: while lws holds a
 * partial send it stops reading that socket, so a peer that sends requests and reads no
 * answer would be parked there instead of filling its ring and being closed for it. */
static int write_now(struct tconn *c, struct frame *f)
{
	struct transport *tp = c->tp;

	if (c->in_rx || c->q_len || c->batched || lws_partial_buffered(c->wsi))
		return 0;
	if (tp->n_batch == tp->cap_batch) {
		size_t cap = tp->cap_batch ? 2 * tp->cap_batch : 1024;
		struct out *b = realloc(tp->batch, cap * sizeof(*b));

		if (!b)
			return 0;
		tp->batch = b;
		tp->cap_batch = cap;
	}
	tp->batch[tp->n_batch] = (struct out){ .c = c, .f = frame_ref(f) };
	c->batched = 1;
	c->batch_idx = tp->n_batch++;
	return 1;
}

/* ---- batched writes ----
 *
 * The frames of a pass that can go at once (write_now) are written together at its end,
 * straight to the sockets with send(): lws knows nothing of them, which is sound because it
 * holds nothing for those sockets (no partial send, checked when taken) and runs no code
 * while we write (we are between two of its passes). A large batch (a places delta to
 * thousands) is split with a second thread, so the sends, and the kernel's loopback work
 * each one does, use both cores. lws_write is not thread-safe: only plain send() runs there,
 * on descriptors and bytes set up beforehand; what did not go out whole is handed back to
 * lws (its partial-send buffer) or to the ring by the loop's thread afterwards. */
#define PARALLEL_MIN 64

static void send_range(struct out *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!b[i].c)
			continue;
		b[i].sent = send(b[i].fd, b[i].bytes, b[i].len, MSG_NOSIGNAL | MSG_DONTWAIT);
		b[i].err = b[i].sent < 0 ? errno : 0;
	}
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->busy && !s->quit)
			pthread_cond_wait(&s->go, &s->mu);
		if (s->quit)
			break;
		pthread_mutex_unlock(&s->mu);
		send_range(s->job, s->n);
		pthread_mutex_lock(&s->mu);
		s->busy = 0;
		pthread_cond_signal(&s->done);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static struct sender *sender_new(void)
{
	struct sender *s;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || !(s = calloc(1, sizeof(*s))))
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->go, NULL);
	pthread_cond_init(&s->done, NULL);
	if (pthread_create(&s->th, NULL, sender_main, s) != 0) {
		pthread_cond_destroy(&s->done);
		pthread_cond_destroy(&s->go);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return NULL;
	}
	return s;
}

static void sender_free(struct sender *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_signal(&s->go);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	pthread_cond_destroy(&s->done);
	pthread_cond_destroy(&s->go);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* The WebSocket header of a binary message (server side: unmasked), written before the
 * payload in the frame's headroom; the same bytes for every recipient. Returns its size. */
static size_t ws_header(struct frame *f)
{
	uint8_t *p;
	size_t n = f->len, hl = n < 126 ? 2 : n < 65536 ? 4 : 10;

	p = f->data - hl;
	p[0] = 0x82;
	if (hl == 2) {
		p[1] = (uint8_t)n;
	} else if (hl == 4) {
		p[1] = 126;
		p[2] = (uint8_t)(n >> 8);
		p[3] = (uint8_t)n;
	} else {
		p[1] = 127;
		for (int i = 0; i < 8; i++)
			p[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	}
	return hl;
}

/* Puts f back at the head of c's ring (nothing of it was sent). Takes the reference. */
static void requeue_head(struct tconn *c, struct frame *f)
{
	unsigned cap = c->tp->cfg->queue_frames;

	if (!c->q && !(c->q = calloc(cap, sizeof(*c->q)))) {
		frame_unref(f);
		transport_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return;
	}
	if (c->q_len == cap) {
		frame_unref(f);
		log_warn("transport: output queue full, closing a connection that does not read");
		transport_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "output queue overflow");
		return;
	}
	c->q_head = (c->q_head + cap - 1) % cap;
	c->q[c->q_head] = f;
	c->q_len++;
	lws_callback_on_writable(c->wsi);
}

static void flush_batch(struct transport *tp)
{
	size_t n = tp->n_batch, half = 0;
	struct sender *s = tp->sender;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		struct out *b = &tp->batch[i];
		size_t hl;

		if (!b->c)
			continue;
		hl = ws_header(b->f);
		b->bytes = b->f->data - hl;
		b->len = hl + b->f->len;
		b->fd = (int)lws_get_socket_fd(b->c->wsi);
	}
	if (s && n >= PARALLEL_MIN) {
		half = n / 2;
		pthread_mutex_lock(&s->mu);
		s->job = tp->batch + half;
		s->n = n - half;
		s->busy = 1;
		pthread_cond_signal(&s->go);
		pthread_mutex_unlock(&s->mu);
	}
	send_range(tp->batch, half ? half : n);
	if (half) {
		pthread_mutex_lock(&s->mu);
		while (s->busy)
			pthread_cond_wait(&s->done, &s->mu);
		pthread_mutex_unlock(&s->mu);
	}
	tp->n_batch = 0;
	for (size_t i = 0; i < n; i++) {
		struct out *b = &tp->batch[i];
		struct tconn *c = b->c;

		if (!c) {
			frame_unref(b->f);
			continue;
		}
		c->batched = 0;
		if (b->sent == (ssize_t)b->len) {
			drain_list(c);
		} else if (b->sent > 0) {
			/* The rest goes before anything else: lws keeps it (LWS_WRITE_HTTP is
			 * written as is, without a WebSocket header) and asks for POLLOUT. */
			if (lws_write(c->wsi, (unsigned char *)b->bytes + b->sent,
				      b->len - (size_t)b->sent, LWS_WRITE_HTTP) < 0) {
				c->close_code = LWS_CLOSE_STATUS_ABNORMAL_CLOSE;
				lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			} else {
				drain_list(c);
			}
		} else if (b->sent == 0 || b->err == EAGAIN || b->err == EWOULDBLOCK ||
			   b->err == EINTR) {
			requeue_head(c, b->f);
			continue; /* the ring took the reference */
		} else {
			c->close_code = LWS_CLOSE_STATUS_ABNORMAL_CLOSE;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		}
		frame_unref(b->f);
	}
}

/* Tells the sessions whose frames were written at once that their output drained. A session
 * may send again from there (the next page of a pull): it is listed anew, for the next pass. */
static void notify_drained(struct transport *tp)
{
	struct tconn *c = tp->drained;

	tp->drained = NULL;
	for (struct tconn *n; c; c = n) {
		n = c->drain_next;
		c->drain_next = c->drain_prev = NULL;
		c->drain_listed = 0;
		if (c->q_len || c->close_code)
			continue; /* on_writable reports it */
		if (lws_partial_buffered(c->wsi))
			lws_callback_on_writable(c->wsi); /* on_writable, once lws has flushed */
		else
			session_on_drained(c->session);
	}
}

int transport_send(struct tconn *c, struct frame *f)
{
	unsigned cap = c->tp->cfg->queue_frames;

	if (c->close_code)
		return -1;
	if (write_now(c, f))
		return 0;
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
	/* Asked by notify_drained: lws has flushed the rest of a frame written at once. */
	session_on_drained(c->session);
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
		c->in_rx = 1;
		session_on_message(c->session, c->rx, c->rx_len);
		c->in_rx = 0;
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
		drain_unlist(c);
		if (c->batched)
			tp->batch[c->batch_idx].c = NULL;
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

/* The http protocol serves the static files; it refuses WebSocket upgrades that asked for no
 * subprotocol (lws would otherwise bind them to this first protocol). */
static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION)
		return 1;
	return lws_callback_http_dummy(wsi, reason, user, in, len);
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
	tp->protocols[0] = (struct lws_protocols){"http", http_callback, 0, 0, 0, NULL, 0};
	/* rx_buffer_size is per connection: keep it small, idle sessions must stay cheap. */
	tp->protocols[1] = (struct lws_protocols){"veille.v1", ws_callback, sizeof(struct tconn),
						   65536, 0, NULL, 0};
	tp->mount.mountpoint = "/";
	tp->mount.mountpoint_len = 1;
	tp->mount.origin = cfg->web_dir;
	tp->mount.def = "index.html";
	tp->mount.origin_protocol = LWSMPRO_FILE;
	/* Dead peers: ping after 60 s of silence, hang up after 120 s. */
	tp->retry.retry_ms_table = backoff;
	tp->retry.retry_ms_table_count = 1;
	tp->retry.secs_since_valid_ping = 60;
	tp->retry.secs_since_valid_hangup = 120;

	lws_set_log_level(cfg->log_level >= LOG_DEBUG ? LLL_ERR | LLL_WARN | LLL_NOTICE
						      : LLL_ERR | LLL_WARN,
			  lws_log_bridge);
	memset(&info, 0, sizeof(info));
	info.port = cfg->port;
	info.iface = cfg->host;
	info.protocols = tp->protocols;
	info.mounts = &tp->mount;
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
		free(tp);
		return -1;
	}
	tp->vh = lws_get_vhost_by_name(tp->ctx, "default");
	tp->sender = sender_new(); /* NULL (one core, or no thread): the loop writes them all */
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
		notify_drained(tp);
		after_pass(arg);
		flush_batch(tp);
		if (tp->drained)
			lws_cancel_service(tp->ctx); /* the next pass reports them without waiting */
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
		flush_batch(tp);
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
	for (size_t i = 0; i < tp->n_batch; i++) /* none after a pass: only if it broke off */
		frame_unref(tp->batch[i].f);
	tp->n_batch = 0;
	sender_free(tp->sender);
	lws_context_destroy(tp->ctx);
	if (tp->loop)
		ev_loop_destroy(tp->loop);
	free(tp->batch);
	free(tp);
}
