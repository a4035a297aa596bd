/*
 * veille-fanout: the places fan-out and idle-sessions benchmarks of issue 4, against a running
 * veilled.
 *
 *   veille-fanout fanout --url ws://127.0.0.1:PORT/sync --subscriber DIR --declarer DIR
 *                        [--sessions N] [--updates U] [--rate R] [--server-pid PID]
 *   veille-fanout sessions --url ... --subscriber DIR [--sessions N] [--server-pid PID]
 *
 * Design: one libwebsockets client context holds every session (N WebSocket connections from
 * one process), each authenticated as the subscriber device (an enrolled libveille state
 * directory: its key signs each challenge) and, for fanout, subscribed to its territory's
 * places. A second thread declares through libveille as the declarer (a responsable de
 * centre): U declarations at R per second (R = 0: one after the other, as fast as the server
 * answers: the saturated case). Each declaration's send time is taken before it leaves; each
 * subscriber's receipt of the delta of the same sequence number gives one latency sample.
 * Figures go to stdout as key=value lines (latency p50/p99/max over every delivery,
 * deliveries/s, this process's CPU share, the server's RSS per session).
 *
 * The loop: libwebsockets' default loop poll()s every socket at each wakeup, which at 5,000
 * sessions made this process the limit of the saturated runs. So the context runs on a libuv
 * loop of ours (epoll; lws drives it through Debian's libwebsockets-evlib-uv plugin, loaded at
 * context creation), which we turn once per service() call; `--loop poll` keeps lws' own loop
 * for comparison. (lws 4.1's libev plugin was tried first: with it some sessions fell further
 * and further behind against the Node ws peer, ~1.5 s by the end of a run.)
 *
 * Everything is bounded: N and U are capped, every phase has a deadline (--timeout-ms), and
 * the run ends when every expected delta arrived or the deadline passed (then it fails).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>
#include <libwebsockets.h>
#include <sodium.h>

#include "identity.h"
#include "loadstat.h"
#include "proof.h"
#include "veille.h"
#include "veille/v1/envelope.pb-c.h"

#define MAX_SESSIONS 20000
#define MAX_UPDATES 100000
#define RX_MAX (1u << 20)

enum sstate { S_CONNECTING, S_HELLO, S_PROOF, S_SUBSCRIBE, S_READY, S_FAILED };

struct sess {
	struct lws *wsi;
	enum sstate state;
	uint8_t tx[LWS_PRE + 512];
	size_t tx_len;               /* a frame waiting for WRITEABLE, or 0 */
	uint8_t *rx;
	size_t rx_len;
	uint64_t next_seq;           /* the delta expected next */
	unsigned received;
};

struct run {
	const char *url, *sub_dir, *decl_dir;
	unsigned sessions, updates;
	double rate;
	long server_pid;
	int timeout_ms;
	int subscribe;               /* fanout: subscribe after authenticating */
	int peer_ws;                 /* --peer ws: a plain broadcast server, no auth (see below) */
	struct sess *pub;            /* ws: the publishing session (one more than sessions) */
	unsigned published;
	double pub_t0;
	lws_sorted_usec_list_t pub_sul;
	/* subscriber identity */
	struct identity id;
	uint8_t sk[PROOF_SECRET_KEY];
	/* progress, written by the lws thread */
	struct sess *s;
	unsigned connected, ready, failed;
	uint64_t base_seq;           /* the territory's seq in the first snapshot */
	int base_known;
	/* send times, by update index, written by the declarer before each declaration */
	_Atomic double *sent_at;
	double *lat;                 /* one per delivery */
	size_t n_lat;
	atomic_uint declared;
	atomic_int declarer_failed;
	struct lws_context *ctx;
	uv_loop_t uv;                /* the loop, unless use_poll (lws' own poll() loop) */
	uv_timer_t tick;             /* bounds each wait of the loop, for the deadlines */
	int use_poll;
	char host[256], path[256];
	int port;
};

/* Queues env on s (one frame at a time is all this protocol needs). */
static void queue(struct sess *s, const Veille__V1__Envelope *env)
{
	size_t n = veille__v1__envelope__get_packed_size(env);

	if (n > sizeof s->tx - LWS_PRE) {
		s->state = S_FAILED;
		return;
	}
	s->tx_len = veille__v1__envelope__pack(env, s->tx + LWS_PRE);
	lws_callback_on_writable(s->wsi);
}

static void send_hello(struct run *r, struct sess *s)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__Hello h = VEILLE__V1__HELLO__INIT;

	h.protocol_version = 1;
	h.device_id.data = r->id.device_id;
	h.device_id.len = PROOF_ID;
	h.client = "veille-fanout";
	env.request_id = 1;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &h;
	s->state = S_HELLO;
	queue(s, &env);
}

#define PEER_MSG_BYTES 200 /* the issue's ~200-byte message: seq (8 bytes), then filler */

/* --peer ws: every message is a published one; its first 8 bytes are its index. */
static void on_peer_message(struct run *r, struct sess *s, const uint8_t *data, size_t len)
{
	uint64_t k = 0;

	if (len < 8) {
		s->state = S_FAILED;
		return;
	}
	for (int i = 7; i >= 0; i--)
		k = k << 8 | data[i];
	if (k != s->next_seq || k >= r->updates) {
		s->state = S_FAILED;
		return;
	}
	s->next_seq++;
	r->lat[r->n_lat++] = (load_now_s() - atomic_load(&r->sent_at[k])) * 1000.0;
	s->received++;
}

static void on_message(struct run *r, struct sess *s, const uint8_t *data, size_t len)
{
	Veille__V1__Envelope *env = veille__v1__envelope__unpack(NULL, len, data), out =
		VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__AuthProof proof = VEILLE__V1__AUTH_PROOF__INIT;
	Veille__V1__SubscribePlaces sp = VEILLE__V1__SUBSCRIBE_PLACES__INIT;
	uint8_t sig[PROOF_SIGNATURE];

	if (!env) {
		s->state = S_FAILED;
		return;
	}
	switch (env->body_case) {
	case VEILLE__V1__ENVELOPE__BODY_CHALLENGE:
		if (s->state != S_HELLO || env->challenge->nonce.len != PROOF_NONCE ||
		    env->challenge->server_id.len != PROOF_ID ||
		    proof_auth(r->sk, env->challenge->nonce.data, env->challenge->server_id.data,
			       r->id.device_id, sig) != 0) {
			s->state = S_FAILED;
			break;
		}
		proof.signature.data = sig;
		proof.signature.len = sizeof sig;
		out.request_id = 2;
		out.body_case = VEILLE__V1__ENVELOPE__BODY_AUTH_PROOF;
		out.auth_proof = &proof;
		s->state = S_PROOF;
		queue(s, &out);
		break;
	case VEILLE__V1__ENVELOPE__BODY_AUTH_OK:
		if (!r->subscribe) {
			s->state = S_READY;
			r->ready++;
			break;
		}
		out.request_id = 3;
		out.body_case = VEILLE__V1__ENVELOPE__BODY_SUBSCRIBE_PLACES;
		out.subscribe_places = &sp;
		s->state = S_SUBSCRIBE;
		queue(s, &out);
		break;
	case VEILLE__V1__ENVELOPE__BODY_PLACES_SNAPSHOT:
		if (env->places_snapshot->n_territories != 1) {
			s->state = S_FAILED;
			break;
		}
		s->next_seq = env->places_snapshot->territories[0]->seq + 1;
		if (!r->base_known) {
			r->base_seq = s->next_seq - 1;
			r->base_known = 1;
		} else if (s->next_seq - 1 != r->base_seq) {
			s->state = S_FAILED; /* someone declared meanwhile: not this bench's setup */
			break;
		}
		s->state = S_READY;
		r->ready++;
		break;
	case VEILLE__V1__ENVELOPE__BODY_PLACES_DELTA: {
		uint64_t seq = env->places_delta->seq, k = seq - r->base_seq - 1;
		double sent;

		if (seq != s->next_seq || k >= r->updates) {
			s->state = S_FAILED; /* a gap or a foreign change: each must come once */
			break;
		}
		s->next_seq++;
		sent = atomic_load(&r->sent_at[k]);
		r->lat[r->n_lat++] = (load_now_s() - sent) * 1000.0;
		s->received++;
		break;
	}
	case VEILLE__V1__ENVELOPE__BODY_ERROR:
		warnx("session: server error %d: %s", env->error->code, env->error->message);
		s->state = S_FAILED;
		break;
	default:
		break;
	}
	veille__v1__envelope__free_unpacked(env, NULL);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct run *r = lws_context_user(lws_get_context(wsi));
	struct sess *s = user ? *(struct sess **)user : NULL;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (s && s->state != S_FAILED) {
			if (s->state == S_READY)
				r->ready--;
			s->state = S_FAILED;
		}
		if (s)
			r->failed++;
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		r->connected++;
		if (!r->peer_ws) {
			send_hello(r, s);
		} else {
			s->state = S_READY;
			if (s != r->pub)
				r->ready++;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (s->tx_len) {
			if (lws_write(wsi, s->tx + LWS_PRE, s->tx_len, LWS_WRITE_BINARY) <
			    (int)s->tx_len)
				return -1;
			s->tx_len = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!s->rx_len && lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi)) {
			/* a whole message in one piece, the usual case: no copy */
			if (s == r->pub)
				;
			else if (r->peer_ws)
				on_peer_message(r, s, in, len);
			else
				on_message(r, s, in, len);
			break;
		}
		if (s->rx_len + len > RX_MAX)
			return -1;
		if (!s->rx && !(s->rx = malloc(RX_MAX)))
			return -1;
		memcpy(s->rx + s->rx_len, in, len);
		s->rx_len += len;
		if (lws_is_final_fragment(wsi)) {
			if (s == r->pub)
				; /* the publisher hears nothing back */
			else if (r->peer_ws)
				on_peer_message(r, s, s->rx, s->rx_len);
			else
				on_message(r, s, s->rx, s->rx_len);
			s->rx_len = 0;
		}
		break;
	default:
		break;
	}
	return 0;
}

static struct lws_protocols protocols[] = {
	{ "veille.v1", callback, sizeof(struct sess *), 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static int parse_url(struct run *r)
{
	const char *p = r->url;

	if (strncmp(p, "ws://", 5) != 0 ||
	    sscanf(p + 5, "%255[^:]:%d%255s", r->host, &r->port, r->path) < 2)
		return -1;
	if (!r->path[0])
		strcpy(r->path, "/sync");
	return 0;
}

static void connect_one(struct run *r, struct sess *s)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof ci);
	ci.context = r->ctx;
	ci.address = r->host;
	ci.port = r->port;
	ci.path = r->path;
	ci.host = r->host;
	ci.protocol = r->peer_ws ? NULL : "veille.v1";
	ci.local_protocol_name = "veille.v1";
	ci.pwsi = &s->wsi;
	s->state = S_CONNECTING;
	if (!lws_client_connect_via_info(&ci)) {
		s->state = S_FAILED;
		r->failed++;
	} else {
		*(struct sess **)lws_wsi_user(s->wsi) = s;
	}
}

/* --peer ws: publishes message `published` on the publisher session and schedules the next
 * at the rate (R = 0: 1 ms apart). */
static void publish(lws_sorted_usec_list_t *sul)
{
	struct run *r = lws_container_of(sul, struct run, pub_sul);
	struct sess *p = r->pub;
	unsigned k = r->published;
	double next;

	if (k >= r->updates || p->state == S_FAILED)
		return;
	if (p->tx_len) { /* the previous one is not out yet: try again soon */
		lws_sul_schedule(r->ctx, 0, &r->pub_sul, publish, 200);
		return;
	}
	memset(p->tx + LWS_PRE, 'x', PEER_MSG_BYTES);
	for (int i = 0; i < 8; i++)
		p->tx[LWS_PRE + i] = (uint8_t)((uint64_t)k >> (8 * i));
	atomic_store(&r->sent_at[k], load_now_s());
	p->tx_len = PEER_MSG_BYTES;
	lws_callback_on_writable(p->wsi);
	r->published++;
	atomic_fetch_add(&r->declared, 1);
	next = r->rate > 0 ? r->pub_t0 + (double)r->published / r->rate - load_now_s() : 0.001;
	lws_sul_schedule(r->ctx, 0, &r->pub_sul, publish,
			 next > 0 ? (lws_usec_t)(next * 1e6) : 1);
}

/* One turn of the loop: waits for events (at most TICK_S on the libuv loop) and handles them. */
#define TICK_S 0.05
static void on_tick(uv_timer_t *t)
{
	(void)t;
}

static void service(struct run *r)
{
	if (r->use_poll)
		lws_service(r->ctx, 0);
	else
		uv_run(&r->uv, UV_RUN_ONCE);
}

/* Opens the sessions, a few hundred at a time, and services until all are ready (or failed)
 * or the deadline passes. */
static int open_sessions(struct run *r, double deadline)
{
	unsigned opened = 0;

	while (load_now_s() < deadline) {
		while (opened < r->sessions && opened - (r->ready + r->failed) < 200) {
			connect_one(r, &r->s[opened]);
			opened++;
		}
		if (r->ready + r->failed >= r->sessions)
			break;
		service(r);
	}
	return r->ready == r->sessions ? 0 : -1;
}

static void *declarer_main(void *arg)
{
	struct run *r = arg;
	struct veille_client *c = NULL;
	struct veille_error e = {0};
	Veille__V1__CategoryCount cc = VEILLE__V1__CATEGORY_COUNT__INIT, *ccp = &cc;
	double t0 = load_now_s();
	int rc;

	if ((rc = veille_open(&c, r->decl_dir, &e)) != VEILLE_OK ||
	    (rc = veille_connect(c, r->timeout_ms)) != VEILLE_OK) {
		warnx("declarer: %s: %s", veille_strerror(rc), c ? veille_last_error(c)->message
								  : e.message);
		atomic_store(&r->declarer_failed, 1);
		veille_close(c);
		return NULL;
	}
	cc.category = VEILLE__V1__PLACE_CATEGORY__PLACE_CATEGORY_HOMME_SEUL;
	for (unsigned k = 0; k < r->updates; k++) {
		if (r->rate > 0) {
			double due = t0 + (double)k / r->rate, wait = due - load_now_s();

			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
		}
		cc.count = k % 2; /* within any capacity of 1 or more */
		atomic_store(&r->sent_at[k], load_now_s());
		if ((rc = veille_declare_vacancies(c, &ccp, 1, NULL)) != VEILLE_OK) {
			warnx("declarer: declare: %s: %s", veille_strerror(rc),
			      veille_last_error(c)->message);
			atomic_store(&r->declarer_failed, 1);
			break;
		}
		atomic_fetch_add(&r->declared, 1);
	}
	veille_close(c);
	return NULL;
}

static int load_subscriber(struct run *r)
{
	struct veille_error e = {0};

	if (identity_load(r->sub_dir, &r->id, &e) != 0 || !r->id.enrolled ||
	    identity_key_load(r->sub_dir, r->sk, &e) != 0) {
		warnx("%s: not an enrolled device: %s", r->sub_dir, e.message);
		return -1;
	}
	return 0;
}

static void raise_fd_limit(unsigned sessions)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < sessions + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int run_bench(struct run *r, int fanout)
{
	struct lws_context_creation_info info;
	struct load_mark m0, m1;
	double t0, t1, deadline;
	long rss0, rss1;
	pthread_t tid;
	size_t expected;
	int status = 1;

	raise_fd_limit(r->sessions);
	if (parse_url(r) != 0 || (!r->peer_ws && load_subscriber(r) != 0))
		return 1;
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.user = r;
	info.gid = -1;
	info.uid = -1;
	/* No fd_limit_per_thread: with it lws 4.1 finds a socket's wsi by a linear search of its
	 * table (wsi_from_fd), a third of this process at 5,000 sessions; without it the table is
	 * indexed by fd, sized by the file limit raised above. */
	if (!r->use_poll) {
		static void *loops[1];

		if (uv_loop_init(&r->uv) != 0) {
			warnx("cannot create a libuv loop");
			return 1;
		}
		uv_timer_init(&r->uv, &r->tick);
		uv_timer_start(&r->tick, on_tick, (uint64_t)(TICK_S * 1000), (uint64_t)(TICK_S * 1000));
		loops[0] = &r->uv;
		info.options |= LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
		info.foreign_loops = loops;
	}
	r->ctx = lws_create_context(&info);
	if (!r->ctx && !r->use_poll)
		warnx("cannot create the lws context on libuv (is libwebsockets-evlib-uv installed?)");
	r->s = calloc(r->sessions, sizeof *r->s);
	r->sent_at = calloc(r->updates ? r->updates : 1, sizeof *r->sent_at);
	r->lat = calloc((size_t)r->sessions * (r->updates ? r->updates : 1), sizeof *r->lat);
	if (!r->ctx || !r->s || !r->sent_at || !r->lat) {
		warnx("out of memory");
		goto out;
	}
	rss0 = load_proc_status_kib(r->server_pid, "VmRSS");
	t0 = load_now_s();
	if (open_sessions(r, t0 + r->timeout_ms / 1000.0) != 0) {
		warnx("%u of %u sessions ready (%u failed)", r->ready, r->sessions, r->failed);
		goto out;
	}
	t1 = load_now_s();
	printf("sessions=%u\nsessions_open_seconds=%.2f\n", r->sessions, t1 - t0);
	if (!fanout) {
		usleep(500 * 1000); /* let the server settle its buffers */
		for (int i = 0; i < 20; i++)
			service(r);
		rss1 = load_proc_status_kib(r->server_pid, "VmRSS");
		if (rss0 >= 0 && rss1 >= 0) {
			printf("server_rss_before_kib=%ld\nserver_rss_after_kib=%ld\n", rss0, rss1);
			printf("server_rss_per_session_kib=%.2f\n",
			       (double)(rss1 - rss0) / r->sessions);
		}
		status = 0;
		goto out;
	}

	expected = (size_t)r->sessions * r->updates;
	if (r->peer_ws) {
		r->pub = calloc(1, sizeof *r->pub);
		if (!r->pub)
			goto out;
		connect_one(r, r->pub);
		for (double until = load_now_s() + 10; r->pub->state == S_CONNECTING && load_now_s() < until;)
			service(r);
		if (r->pub->state != S_READY) {
			warnx("the publisher could not connect");
			goto out;
		}
	}
	load_mark(&m0, r->server_pid);
	t0 = m0.t;
	if (r->peer_ws) {
		r->pub_t0 = t0;
		lws_sul_schedule(r->ctx, 0, &r->pub_sul, publish, 1);
	} else if (pthread_create(&tid, NULL, declarer_main, r) != 0) {
		warnx("cannot start the declarer");
		goto out;
	}
	deadline = t0 + r->timeout_ms / 1000.0 + (r->rate > 0 ? r->updates / r->rate : 0);
	while (r->n_lat < expected && load_now_s() < deadline && !atomic_load(&r->declarer_failed) &&
	       r->failed == 0)
		service(r);
	load_mark(&m1, r->server_pid);
	if (!r->peer_ws)
		pthread_join(tid, NULL);
	if (r->n_lat < expected) {
		warnx("%zu of %zu deliveries (%u declared, %u sessions failed)", r->n_lat, expected,
		      atomic_load(&r->declared), r->failed);
		goto out;
	}
	printf("updates=%u\nrate_per_s=%.1f\ndeliveries=%zu\n", r->updates, r->rate, r->n_lat);
	load_report(&m0, &m1, r->lat, r->n_lat);
	status = 0;
out:
	if (r->ctx)
		lws_context_destroy(r->ctx);
	if (!r->use_poll) {
		uv_timer_stop(&r->tick);
		uv_close((uv_handle_t *)&r->tick, NULL);
		for (int i = 0; i < 100 && uv_run(&r->uv, UV_RUN_NOWAIT); i++)
			; /* lws closes its handles asynchronously */
		uv_loop_close(&r->uv);
	}
	if (r->s)
		for (unsigned i = 0; i < r->sessions; i++)
			free(r->s[i].rx);
	free(r->s);
	if (r->pub)
		free(r->pub->rx);
	free(r->pub);
	free((void *)r->sent_at);
	free(r->lat);
	sodium_memzero(r->sk, sizeof r->sk);
	fflush(stdout);
	return status;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veille-fanout fanout --url URL --subscriber DIR --declarer DIR [options]\n"
		"       veille-fanout sessions --url URL --subscriber DIR [options]\n"
		"  --sessions N     sessions from this process (default 1000, at most %d)\n"
		"  --updates U      declarations (fanout; default 200, at most %d)\n"
		"  --rate R         declarations per second (fanout; default 5; 0: saturate)\n"
		"  --server-pid P   read veilled's RSS from /proc\n"
		"  --timeout-ms MS  bound of each phase (default 120000)\n"
		"  --loop uv|poll   event loop: libuv on epoll (default), or lws' own poll()\n"
		"  --peer ws        the peer instead: URL is a broadcast WebSocket server (no\n"
		"                   auth, no subprotocol); one more session publishes %d-byte\n"
		"                   messages at the rate (0: 1 ms apart) that it relays to all\n",
		MAX_SESSIONS, MAX_UPDATES, PEER_MSG_BYTES);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "subscriber", required_argument, NULL, 's' },
		{ "declarer", required_argument, NULL, 'd' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "updates", required_argument, NULL, 'U' },
		{ "rate", required_argument, NULL, 'r' },
		{ "server-pid", required_argument, NULL, 'p' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "peer", required_argument, NULL, 'P' },
		{ "loop", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct run r;
	int fanout, o;

	if (argc < 2 || (strcmp(argv[1], "fanout") && strcmp(argv[1], "sessions"))) {
		usage(stderr);
		return 2;
	}
	fanout = !strcmp(argv[1], "fanout");
	r.sessions = 1000;
	r.updates = 200;
	r.rate = 5;
	r.timeout_ms = 120000;
	optind = 2;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'u': r.url = optarg; break;
		case 's': r.sub_dir = optarg; break;
		case 'd': r.decl_dir = optarg; break;
		case 'n': r.sessions = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'U': r.updates = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': r.rate = strtod(optarg, NULL); break;
		case 'p': r.server_pid = strtol(optarg, NULL, 10); break;
		case 't': r.timeout_ms = (int)strtol(optarg, NULL, 10); break;
		case 'P':
			if (strcmp(optarg, "ws") != 0) {
				usage(stderr);
				return 2;
			}
			r.peer_ws = 1;
			break;
		case 'L':
			if (strcmp(optarg, "uv") != 0 && strcmp(optarg, "poll") != 0) {
				usage(stderr);
				return 2;
			}
			r.use_poll = !strcmp(optarg, "poll");
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!r.url || (!r.peer_ws && (!r.sub_dir || (fanout && !r.decl_dir))) || r.sessions == 0 ||
	    r.sessions > MAX_SESSIONS || r.updates > MAX_UPDATES || r.rate < 0 ||
	    r.timeout_ms <= 0) {
		usage(stderr);
		return 2;
	}
	if (!fanout)
		r.updates = 0;
	r.subscribe = fanout && !r.peer_ws;
	if (sodium_init() < 0)
		return 1;
	return run_bench(&r, fanout);
}
