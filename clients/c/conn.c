/*
 * conn: blocking WebSocket client on libwebsockets (see conn.h for the design).
 *
 * The only place lws is seen. Its callback runs only inside pump(), which a public call runs
 * until its done() predicate holds or its deadline passes. The callback records events into
 * struct conn and never blocks: it queues received messages, writes one queued frame per
 * WRITEABLE, and notes why the connection ended.
 */
#include "conn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

/*
 * Bounds of the queues. Past the soft receive bounds the socket is no longer read (lws rx flow
 * control) until the caller drains the queue to half of them; the hard bounds only catch what
 * lws had already read past that point, so a peer can never make the queue grow unbounded.
 */
#define TX_MAX_FRAMES 64
#define TX_MAX_BYTES (32u * 1024u * 1024u) /* one frame over it is still accepted alone */
#define RX_SOFT_MESSAGES 256
#define RX_SOFT_BYTES (16u * 1024u * 1024u)
#define RX_MAX_MESSAGES (4 * RX_SOFT_MESSAGES)
#define RX_MAX_BYTES (4 * RX_SOFT_BYTES)
#define RX_CHUNK 65536 /* lws rx buffer; also the socket send buffer lws sets from it */

enum state { CONNECTING, OPEN, ENDED };

struct frame {
	struct frame *next;
	size_t len;
	enum lws_write_protocol wp;
	unsigned char buf[]; /* LWS_PRE headroom, then len bytes */
};

struct msg {
	struct msg *next;
	size_t len;
	uint8_t *data;
};

struct target {
	char address[256]; /* host name or address, without IPv6 brackets */
	char host[300];    /* Host header */
	char path[1024];
	int port;
};

struct conn {
	struct lws_context *ctx;
	struct lws *wsi;          /* NULL once lws has let go of it */
	enum state state;
	int err;                  /* why it ended: first VEILLE_E* recorded */
	int close_code;
	int closing;              /* we asked to close: the next WRITEABLE sends the close */
	int timeout_ms;
	struct target target;
	char subprotocol[128];
	char why[200];
	/* Named after the subprotocol, so lws binds the server's answer to our callback. */
	struct lws_protocols protocols[2];

	lws_sorted_usec_list_t wakeup; /* bounds lws' poll() wait by our deadline */

	struct frame *tx_head, *tx_tail;
	size_t tx_count, tx_bytes;

	uint8_t *rx_buf;          /* message being reassembled */
	size_t rx_len, rx_cap;
	int rx_in_message;
	struct msg *rx_head, *rx_tail;
	size_t rx_count, rx_bytes;
	int rx_paused;            /* the socket is not read until the queue drains */
};

/* Records the first reason the connection ends; later ones are consequences. */
static void fail(struct conn *c, int err, const char *why)
{
	if (c->err)
		return;
	c->err = err;
	snprintf(c->why, sizeof c->why, "%s", why);
}

/* Closes from inside the callback: lws sends the close frame when the callback returns -1. */
static int refuse(struct conn *c, struct lws *wsi, enum lws_close_status status, int err,
		  const char *why)
{
	fail(c, err, why);
	lws_close_reason(wsi, status, (unsigned char *)why, strlen(why) > 123 ? 123 : strlen(why));
	return -1;
}

static void ended(struct conn *c, int err, const char *why)
{
	fail(c, err, why);
	c->state = ENDED;
	c->wsi = NULL;
	if (!c->close_code)
		c->close_code = 1006;
}

static int on_receive(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
	struct msg *m;

	if (!c->rx_in_message) {
		if (!lws_frame_is_binary(wsi))
			return refuse(c, wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, VEILLE_EPROTO,
				      "server sent a text message");
		c->rx_in_message = 1;
		c->rx_len = 0;
	}
	if (len > CONN_MAX_MESSAGE - c->rx_len)
		return refuse(c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, VEILLE_ETOOBIG,
			      "server sent a message over the size cap");
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 4096;
		uint8_t *p;

		while (cap < c->rx_len + len)
			cap *= 2;
		if (cap > CONN_MAX_MESSAGE)
			cap = CONN_MAX_MESSAGE;
		p = realloc(c->rx_buf, cap);
		if (!p)
			return refuse(c, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, VEILLE_ENOMEM,
				      "out of memory receiving a message");
		c->rx_buf = p;
		c->rx_cap = cap;
	}
	if (len)
		memcpy(c->rx_buf + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(wsi))
		return 0;

	c->rx_in_message = 0;
	if (c->rx_count >= RX_MAX_MESSAGES || c->rx_bytes + c->rx_len > RX_MAX_BYTES)
		return refuse(c, wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, VEILLE_EPROTO,
			      "receive queue overflowed");
	m = malloc(sizeof *m);
	if (!m)
		return refuse(c, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, VEILLE_ENOMEM,
			      "out of memory receiving a message");
	/* The reassembly buffer becomes the message; the next one starts afresh. */
	m->next = NULL;
	m->len = c->rx_len;
	m->data = c->rx_buf ? c->rx_buf : malloc(1);
	if (!m->data) {
		free(m);
		return refuse(c, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, VEILLE_ENOMEM,
			      "out of memory receiving a message");
	}
	c->rx_buf = NULL;
	c->rx_cap = c->rx_len = 0;
	if (c->rx_tail)
		c->rx_tail->next = m;
	else
		c->rx_head = m;
	c->rx_tail = m;
	c->rx_count++;
	c->rx_bytes += m->len;
	if (!c->rx_paused && (c->rx_count >= RX_SOFT_MESSAGES || c->rx_bytes >= RX_SOFT_BYTES)) {
		c->rx_paused = 1;
		lws_rx_flow_control(wsi, 0);
	}
	return 0;
}

static int on_writeable(struct conn *c, struct lws *wsi)
{
	struct frame *f = c->tx_head;

	if (!f) {
		if (c->closing) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
			return -1;
		}
		return 0;
	}
	if (lws_write(wsi, f->buf + LWS_PRE, f->len, f->wp) < (int)f->len) {
		fail(c, VEILLE_ECONN, "write failed");
		return -1;
	}
	c->tx_head = f->next;
	if (!c->tx_head)
		c->tx_tail = NULL;
	c->tx_count--;
	c->tx_bytes -= f->len;
	free(f);
	if (c->tx_head || c->closing)
		lws_callback_on_writable(wsi);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct conn *c = lws_context_user(lws_get_context(wsi));
	char why[sizeof c->why];

	(void)user;
	if (!c)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(why, sizeof why, "%s", in ? (const char *)in : "connection failed");
		ended(c, VEILLE_ECONN, why);
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->state = OPEN;
		if (c->tx_head)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
		const unsigned char *p = in;

		c->close_code = len >= 2 ? (p[0] << 8) | p[1] : 1005;
		snprintf(why, sizeof why, "close code %d", c->close_code);
		fail(c, VEILLE_ECLOSED, why);
		break;
	}
	case LWS_CALLBACK_CLIENT_CLOSED:
		ended(c, VEILLE_ECLOSED, "closed without a close frame (1006)");
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (wsi == c->wsi)
			ended(c, VEILLE_ECONN, "connection lost");
		break;
	default:
		break;
	}
	return 0;
}

/*
 * The deadline timer. lws runs ripe timers before it computes its poll() wait from the next
 * one, so a timer that ripens just before that point would leave poll() waiting for lws' own
 * next timer, tens of seconds away: cancelling the service wakes poll() whenever it runs.
 */
static void on_wakeup(lws_sorted_usec_list_t *sul)
{
	lws_cancel_service(lws_container_of(sul, struct conn, wakeup)->ctx);
}

/*
 * Runs the lws loop until done(c) or timeout_ms passed. Returns 0 when done, else
 * VEILLE_ETIMEOUT, or c->err if the loop itself failed.
 *
 * lws_service() ignores its timeout and sleeps until its next timer, so a timer is set at our
 * deadline before each turn. The clock, not the timer, says when the deadline has passed; less
 * than a millisecond before it counts as passed, since poll() cannot wait for less (it would
 * spin).
 */
static int pump(struct conn *c, int (*done)(const struct conn *), int timeout_ms)
{
	lws_usec_t deadline = lws_now_usecs() + (lws_usec_t)(timeout_ms > 0 ? timeout_ms : 0) *
							LWS_US_PER_MS;
	int turns = 0, rc = 0;

	while (!done(c)) {
		lws_usec_t left = deadline - lws_now_usecs();

		if (left < LWS_US_PER_MS) {
			if (turns > 0) {
				rc = VEILLE_ETIMEOUT;
				break;
			}
			left = 0;
		}
		/* At the deadline, one turn that does not wait (-1): a timeout of 0 polls. */
		if (left > 0)
			lws_sul_schedule(c->ctx, 0, &c->wakeup, on_wakeup, left);
		if (lws_service(c->ctx, left > 0 ? 0 : -1) < 0) {
			fail(c, VEILLE_ECONN, "event loop failed");
			rc = c->err;
			break;
		}
		turns++;
	}
	lws_sul_cancel(&c->wakeup);
	return rc;
}

/* What pump() waits for. A recorded failure ends every wait but the last one: it is final
 * even while lws still waits for the peer to acknowledge the close. */
static int failed(const struct conn *c) { return c->state == ENDED || c->err; }
static int not_connecting(const struct conn *c) { return c->state != CONNECTING; }
static int has_room(const struct conn *c) { return failed(c) || c->tx_count < TX_MAX_FRAMES; }
static int flushed(const struct conn *c) { return failed(c) || !c->tx_head; }
static int has_message(const struct conn *c) { return failed(c) || c->rx_head; }
static int gone(const struct conn *c) { return c->wsi == NULL; }

static int copy_field(char *dst, size_t size, const char *src, size_t len)
{
	if (len == 0 || len >= size)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* Splits "ws://host[:port][/path]" into t. The path defaults to /sync, the port to 80. */
static int parse_url(const char *url, struct target *t, char *why, size_t why_size)
{
	const char *p, *host, *end;
	size_t host_len;
	int v6 = 0;

	if (!url || !*url) {
		snprintf(why, why_size, "no url");
		return VEILLE_EARG;
	}
	if (strncasecmp(url, "wss://", 6) == 0) {
		snprintf(why, why_size, "%s: wss:// (TLS) is not supported yet, use ws://", url);
		return VEILLE_EARG;
	}
	if (strncasecmp(url, "ws://", 5) != 0)
		goto bad;
	host = p = url + 5;
	if (*p == '[') {
		v6 = 1;
		host = ++p;
		end = strchr(p, ']');
		if (!end)
			goto bad;
		host_len = (size_t)(end - host);
		p = end + 1;
	} else {
		while (*p && *p != ':' && *p != '/' && *p != '?' && *p != '#' && *p != '@')
			p++;
		host_len = (size_t)(p - host);
	}
	if (copy_field(t->address, sizeof t->address, host, host_len))
		goto bad;
	t->port = 80;
	if (*p == ':') {
		long port = 0;

		if (!isdigit((unsigned char)*++p))
			goto bad;
		while (isdigit((unsigned char)*p) && port <= 65535)
			port = port * 10 + (*p++ - '0');
		if (port < 1 || port > 65535)
			goto bad;
		t->port = (int)port;
	}
	if (*p == '\0')
		p = "/sync";
	if (*p != '/' || strlen(p) >= sizeof t->path)
		goto bad;
	strcpy(t->path, p);
	snprintf(t->host, sizeof t->host, v6 ? "[%s]:%d" : "%s:%d", t->address, t->port);
	return 0;
bad:
	snprintf(why, why_size, "%.120s: not a ws://host:port/path url", url);
	return VEILLE_EARG;
}

static void quiet_lws(void)
{
	const char *debug = getenv("VEILLE_LWS_DEBUG");

	if (debug && strcmp(debug, "1") == 0)
		lws_set_log_level(LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_CLIENT, NULL);
	else
		lws_set_log_level(LLL_ERR, NULL);
}

int conn_open(struct conn **out, const char *url, const char *subprotocol, int timeout_ms)
{
	return conn_open_detail(out, url, subprotocol, timeout_ms, NULL, 0);
}

int conn_open_detail(struct conn **out, const char *url, const char *subprotocol,
		     int timeout_ms, char *why, size_t why_size)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	struct conn *c = NULL;
	char scratch[1];
	int rc;

	if (!why) {
		why = scratch;
		why_size = sizeof scratch;
	}
	if (why_size)
		why[0] = '\0';
	if (!out || timeout_ms < 0)
		return VEILLE_EARG;
	*out = NULL;
	c = calloc(1, sizeof *c);
	if (!c)
		return VEILLE_ENOMEM;
	c->timeout_ms = timeout_ms;
	rc = parse_url(url, &c->target, why, why_size);
	if (rc)
		goto fail;
	if (subprotocol && strlen(subprotocol) >= sizeof c->subprotocol) {
		snprintf(why, why_size, "subprotocol too long");
		rc = VEILLE_EARG;
		goto fail;
	}
	strcpy(c->subprotocol, subprotocol ? subprotocol : "veille-conn");
	c->protocols[0].name = c->subprotocol;
	c->protocols[0].callback = callback;
	c->protocols[0].rx_buffer_size = RX_CHUNK;

	quiet_lws();
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = c->protocols;
	info.user = c;
	info.gid = -1;
	info.uid = -1;
	info.fd_limit_per_thread = 16; /* one socket and lws' own few; keeps lws' tables tiny */
	c->ctx = lws_create_context(&info);
	if (!c->ctx) {
		snprintf(why, why_size, "cannot create the WebSocket context");
		rc = VEILLE_ENOMEM;
		goto fail;
	}

	memset(&ci, 0, sizeof ci);
	ci.context = c->ctx;
	ci.address = c->target.address;
	ci.port = c->target.port;
	ci.path = c->target.path;
	ci.host = c->target.host;
	ci.protocol = subprotocol ? c->subprotocol : NULL;
	ci.local_protocol_name = c->subprotocol;
	ci.pwsi = &c->wsi;
	c->state = CONNECTING;
	if (!lws_client_connect_via_info(&ci) && c->state == CONNECTING)
		ended(c, VEILLE_ECONN, "connection failed");

	rc = pump(c, not_connecting, timeout_ms);
	if (rc == 0 && c->state != OPEN)
		rc = c->err ? c->err : VEILLE_ECONN;
	if (rc == VEILLE_ECLOSED) /* closed during the handshake: refused, as far as we know */
		rc = VEILLE_ECONN;
	if (rc) {
		snprintf(why, why_size, "%s: %s", url,
			 rc == VEILLE_ETIMEOUT ? "no answer in time" : c->why);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (c->ctx)
		lws_context_destroy(c->ctx);
	free(c);
	return rc;
}

int conn_send(struct conn *c, const void *data, size_t len, int flags)
{
	struct frame *f;
	int rc;

	if (!c || (len && !data) || len > CONN_MAX_MESSAGE)
		return VEILLE_EARG;
	if (c->tx_count && c->tx_bytes + len > TX_MAX_BYTES) {
		rc = conn_flush(c, c->timeout_ms);
		if (rc)
			return rc;
	}
	rc = pump(c, has_room, c->timeout_ms);
	if (rc)
		return rc;
	if (c->err)
		return c->err;

	f = malloc(sizeof *f + LWS_PRE + len);
	if (!f)
		return VEILLE_ENOMEM;
	f->next = NULL;
	f->len = len;
	f->wp = (flags & CONN_CONTINUATION) ? LWS_WRITE_CONTINUATION
		: (flags & CONN_TEXT) ? LWS_WRITE_TEXT : LWS_WRITE_BINARY;
	if (flags & CONN_NO_FIN)
		f->wp |= LWS_WRITE_NO_FIN;
	if (len)
		memcpy(f->buf + LWS_PRE, data, len);
	if (c->tx_tail)
		c->tx_tail->next = f;
	else
		c->tx_head = f;
	c->tx_tail = f;
	c->tx_count++;
	c->tx_bytes += len;
	lws_callback_on_writable(c->wsi);
	return 0;
}

int conn_flush(struct conn *c, int timeout_ms)
{
	int rc;

	if (!c)
		return VEILLE_EARG;
	rc = pump(c, flushed, timeout_ms);
	if (rc)
		return rc;
	return c->tx_head ? c->err : 0;
}

int conn_recv(struct conn *c, uint8_t **msg, size_t *len, int timeout_ms)
{
	struct msg *m;
	int rc;

	if (!c || !msg || !len)
		return VEILLE_EARG;
	rc = pump(c, has_message, timeout_ms);
	if (rc)
		return rc;
	m = c->rx_head;
	if (!m)
		return c->err;
	c->rx_head = m->next;
	if (!c->rx_head)
		c->rx_tail = NULL;
	c->rx_count--;
	c->rx_bytes -= m->len;
	if (c->rx_paused && c->wsi && c->rx_count <= RX_SOFT_MESSAGES / 2 &&
	    c->rx_bytes <= RX_SOFT_BYTES / 2) {
		c->rx_paused = 0;
		lws_rx_flow_control(c->wsi, 1);
	}
	*msg = m->data;
	*len = m->len;
	free(m);
	return 0;
}

int conn_close_code(const struct conn *c)
{
	return c ? c->close_code : 0;
}

const char *conn_why(const struct conn *c)
{
	return c && c->err ? c->why : "";
}

void conn_close(struct conn *c)
{
	struct frame *f;
	struct msg *m;

	if (!c)
		return;
	if (c->state == OPEN && !c->err) {
		/* Best effort, bounded: what was sent leaves, then a 1000 close handshake. After a
		 * failure there is nobody to be polite to: the context goes at once. */
		conn_flush(c, c->timeout_ms);
		if (c->wsi && !c->err) {
			c->closing = 1;
			lws_callback_on_writable(c->wsi);
			pump(c, gone, c->timeout_ms);
		}
	}
	lws_context_destroy(c->ctx);
	while ((f = c->tx_head)) {
		c->tx_head = f->next;
		free(f);
	}
	while ((m = c->rx_head)) {
		c->rx_head = m->next;
		free(m->data);
		free(m);
	}
	free(c->rx_buf);
	free(c);
}
