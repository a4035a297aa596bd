/*
 * mqtt-load: the load client for the mosquitto peer of tools/bench/run-fanout, the MQTT twin of
 * `veille-fanout fanout --peer ws`: N subscriber connections from one process on topic
 * places/75, QoS 0, and one publisher of 200-byte messages (the first 8 bytes: the message's
 * index) at the given rate (0: one per millisecond). Each receipt is one latency sample; the
 * output is the same key=value lines as veille-fanout's.
 *
 * It speaks the few MQTT 3.1.1 packets it needs itself (CONNECT, SUBSCRIBE, PUBLISH at QoS 0;
 * CONNACK, SUBACK, PUBLISH in) over one epoll loop, as veille-fanout runs on epoll: libmosquitto
 * holds three descriptors per client (its socket and a socketpair to wake its own loop), so
 * 10,000 sessions needed more than this machine's hard file limit (20,000), and its loop API
 * means a poll() over every socket. Built by run-fanout with the C compiler alone.
 *
 *   mqtt-load --port P [--sessions N] [--updates U] [--rate R] [--timeout-ms MS] [--server-pid P]
 *   mqtt-load --port P --idle [--sessions N] [--server-pid P]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadstat.h"

#define TOPIC "places/75"
#define MSG_BYTES 200
#define MAX_SESSIONS 20000
#define RX_KEEP 512       /* the most of a packet left over between reads */
#define PUB_TX_MAX (1u << 20)

struct conn {
	int fd;
	int subscribed;
	uint64_t next;           /* the index expected next */
	uint16_t rx_len;
	uint8_t rx[RX_KEEP];     /* the start of a packet whose rest has not arrived */
};

static struct {
	unsigned sessions, updates, subscribed, out_of_order, failed;
	double rate, *sent_at, *lat;
	size_t n_lat;
	int timeout_ms, idle, port, ep;
	long server_pid;
	struct conn *c;          /* sessions subscribers, then the publisher */
	uint8_t *ptx;            /* the publisher's bytes not yet written */
	size_t ptx_len;
	int ptx_waiting;         /* EPOLLOUT armed on the publisher */
} R;

/* ---- packets ---- */

static size_t put_len(uint8_t *p, size_t n) /* MQTT's variable-length integer */
{
	size_t k = 0;

	do {
		p[k] = (uint8_t)(n & 0x7f);
		n >>= 7;
		if (n)
			p[k] |= 0x80;
		k++;
	} while (n);
	return k;
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	memcpy(p + 2, s, n);
	return n + 2;
}

/* CONNECT (clean session, keepalive 600 s), then SUBSCRIBE unless publisher. MQTT lets a client
 * send on before the CONNACK. */
static size_t hello(uint8_t *out, unsigned i, int subscribe)
{
	uint8_t body[128];
	char id[40];
	size_t n = 0, k = 0;

	snprintf(id, sizeof id, "bench-%u-%d", i, (int)getpid());
	n += put_str(body + n, "MQTT");
	body[n++] = 4;    /* 3.1.1 */
	body[n++] = 0x02; /* clean session */
	body[n++] = 600 >> 8;
	body[n++] = 600 & 0xff;
	n += put_str(body + n, id);
	out[k++] = 0x10;
	k += put_len(out + k, n);
	memcpy(out + k, body, n);
	k += n;
	if (!subscribe)
		return k;
	n = 0;
	body[n++] = 0;
	body[n++] = 1; /* packet id */
	n += put_str(body + n, TOPIC);
	body[n++] = 0; /* QoS 0 */
	out[k++] = 0x82;
	k += put_len(out + k, n);
	memcpy(out + k, body, n);
	return k + n;
}

static void on_publish(struct conn *s, const uint8_t *p, size_t n)
{
	size_t tl;
	uint64_t k = 0;

	if (n < 2 || (tl = (size_t)p[0] << 8 | p[1]) + 2 + 8 > n)
		return;
	p += 2 + tl;
	for (int i = 7; i >= 0; i--)
		k = k << 8 | p[i];
	if (k >= R.updates)
		return;
	if (k != s->next)
		R.out_of_order++; /* QoS 0 may drop under load: counted, not fatal */
	s->next = k + 1;
	R.lat[R.n_lat++] = (load_now_s() - R.sent_at[k]) * 1000.0;
}

/* Handles the whole packets at p; returns how many bytes it used. */
static size_t on_bytes(struct conn *s, const uint8_t *p, size_t n)
{
	size_t used = 0;

	while (n - used >= 2) {
		const uint8_t *q = p + used;
		size_t len = 0, hl = 1;
		int shift = 0;

		do {
			if (hl >= n - used || hl > 4)
				return hl > 4 ? n : used; /* header incomplete (or garbage: drop all) */
			len |= (size_t)(q[hl] & 0x7f) << shift;
			shift += 7;
		} while (q[hl++] & 0x80);
		if (n - used < hl + len)
			break;
		switch (q[0] >> 4) {
		case 2: /* CONNACK */
			if (len < 2 || q[hl + 1] != 0)
				R.failed++;
			break;
		case 9: /* SUBACK */
			if (!s->subscribed) {
				s->subscribed = 1;
				R.subscribed++;
			}
			break;
		case 3: /* PUBLISH, QoS 0 */
			on_publish(s, q + hl, len);
			break;
		default:
			break;
		}
		used += hl + len;
	}
	return used;
}

static void on_readable(struct conn *s)
{
	static uint8_t buf[1 << 16];
	ssize_t r;
	size_t have, used, room;

	for (;;) {
		have = s->rx_len;
		memcpy(buf, s->rx, have);
		room = sizeof buf - have;
		r = read(s->fd, buf + have, room);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			fprintf(stderr, "mqtt-load: a connection closed (%s)\n",
				r ? strerror(errno) : "by the broker");
			epoll_ctl(R.ep, EPOLL_CTL_DEL, s->fd, NULL);
			close(s->fd);
			s->fd = -1;
			R.failed++;
			return;
		}
		have += (size_t)r;
		used = on_bytes(s, buf, have);
		if (have - used > RX_KEEP) {
			R.failed++;
			return;
		}
		s->rx_len = (uint16_t)(have - used);
		memcpy(s->rx, buf + used, s->rx_len);
		if ((size_t)r < room)
			return; /* the read did not fill the buffer: nothing more for now */
	}
}

/* Writes what the publisher has pending; arms EPOLLOUT while some is left. */
static void pub_flush(void)
{
	struct conn *p = &R.c[R.sessions];
	struct epoll_event ev = { .data.ptr = p };
	ssize_t w;

	while (R.ptx_len) {
		w = write(p->fd, R.ptx, R.ptx_len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN) {
			R.failed++;
			return;
		}
		if (w <= 0)
			break;
		memmove(R.ptx, R.ptx + w, R.ptx_len - (size_t)w);
		R.ptx_len -= (size_t)w;
	}
	if (!!R.ptx_len != R.ptx_waiting) {
		R.ptx_waiting = !!R.ptx_len;
		ev.events = EPOLLIN | (R.ptx_waiting ? EPOLLOUT : 0);
		epoll_ctl(R.ep, EPOLL_CTL_MOD, p->fd, &ev);
	}
}

static int pub_queue(const uint8_t *b, size_t n)
{
	if (R.ptx_len + n > PUB_TX_MAX)
		return -1;
	memcpy(R.ptx + R.ptx_len, b, n);
	R.ptx_len += n;
	return 0;
}

static void service(int timeout_ms)
{
	struct epoll_event ev[256];
	int n = epoll_wait(R.ep, ev, 256, timeout_ms);

	for (int i = 0; i < n; i++) {
		struct conn *s = ev[i].data.ptr;

		if (s->fd < 0)
			continue;
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			on_readable(s);
		if (s == &R.c[R.sessions] && (ev[i].events & EPOLLOUT) && s->fd >= 0)
			pub_flush();
	}
}

/* Connects client i (i == sessions: the publisher) and sends its CONNECT (and SUBSCRIBE). */
static int open_client(unsigned i)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)R.port) };
	struct conn *s = &R.c[i];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	uint8_t out[256];
	size_t n;
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "mqtt-load: cannot connect client %u: %s\n", i, strerror(errno));
		return -1;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	n = hello(out, i, i < R.sessions);
	if (write(s->fd, out, n) != (ssize_t)n) { /* a fresh socket takes these few bytes */
		fprintf(stderr, "mqtt-load: client %u: cannot send CONNECT\n", i);
		return -1;
	}
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	return epoll_ctl(R.ep, EPOLL_CTL_ADD, s->fd, &ev);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "updates", required_argument, NULL, 'U' },
		{ "rate", required_argument, NULL, 'r' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "idle", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 }
	};
	struct rlimit rl;
	unsigned published = 0;
	struct load_mark m0, m1;
	double t0, deadline;
	long rss0;
	int o;
	uint8_t pkt[16 + sizeof TOPIC + MSG_BYTES];
	size_t hl, pl;

	R.sessions = 1000;
	R.updates = 200;
	R.rate = 5;
	R.timeout_ms = 120000;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p': R.port = atoi(optarg); break;
		case 'n': R.sessions = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'U': R.updates = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': R.rate = strtod(optarg, NULL); break;
		case 't': R.timeout_ms = atoi(optarg); break;
		case 'P': R.server_pid = strtol(optarg, NULL, 10); break;
		case 'i': R.idle = 1; break;
		default: return 2;
		}
	}
	if (R.port <= 0 || R.sessions == 0 || R.sessions > MAX_SESSIONS || R.updates > 100000)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	R.c = calloc(R.sessions + 1, sizeof *R.c);
	R.ptx = malloc(PUB_TX_MAX);
	R.sent_at = calloc(R.updates + 1, sizeof *R.sent_at);
	R.lat = calloc((size_t)R.sessions * (R.updates + 1), sizeof *R.lat);
	R.ep = epoll_create1(0);
	if (!R.c || !R.ptx || !R.sent_at || !R.lat || R.ep < 0)
		return 1;
	for (unsigned i = 0; i <= R.sessions; i++)
		R.c[i].fd = -1;
	rss0 = load_proc_status_kib(R.server_pid, "VmRSS");
	t0 = load_now_s();
	deadline = t0 + R.timeout_ms / 1000.0;
	for (unsigned i = 0; i < R.sessions; i++) {
		if (open_client(i) != 0)
			return 1;
		/* a hundred at a time, so the broker's accept queue never overflows */
		while (i + 1 - R.subscribed >= 100 && !R.failed && load_now_s() < deadline)
			service(100);
	}
	while (R.subscribed < R.sessions && !R.failed && load_now_s() < deadline)
		service(100);
	if (R.subscribed < R.sessions) {
		fprintf(stderr, "mqtt-load: %u of %u subscribed\n", R.subscribed, R.sessions);
		return 1;
	}
	printf("sessions=%u\nsessions_open_seconds=%.2f\n", R.sessions, load_now_s() - t0);
	if (R.idle) {
		usleep(500 * 1000);
		if (rss0 >= 0) {
			long rss1 = load_proc_status_kib(R.server_pid, "VmRSS");

			printf("server_rss_before_kib=%ld\nserver_rss_after_kib=%ld\n", rss0, rss1);
			printf("server_rss_per_session_kib=%.2f\n",
			       (double)(rss1 - rss0) / R.sessions);
		}
		return 0;
	}
	if (open_client(R.sessions) != 0)
		return 1;
	/* PUBLISH, QoS 0: topic, then the payload (index in its first 8 bytes, then filler) */
	pl = 2 + strlen(TOPIC) + MSG_BYTES;
	pkt[0] = 0x30;
	hl = 1 + put_len(pkt + 1, pl);
	put_str(pkt + hl, TOPIC);
	memset(pkt + hl + 2 + strlen(TOPIC), 'x', MSG_BYTES);
	load_mark(&m0, R.server_pid);
	t0 = m0.t;
	deadline = t0 + R.timeout_ms / 1000.0 + (R.rate > 0 ? R.updates / R.rate : 0);
	while (R.n_lat < (size_t)R.sessions * R.updates && load_now_s() < deadline && !R.failed) {
		double due = R.rate > 0 ? t0 + published / R.rate : t0 + published * 0.001, left;

		while (published < R.updates && load_now_s() >= due) {
			uint8_t *payload = pkt + hl + 2 + strlen(TOPIC);

			for (int i = 0; i < 8; i++)
				payload[i] = (uint8_t)((uint64_t)published >> (8 * i));
			R.sent_at[published] = load_now_s();
			if (pub_queue(pkt, hl + pl) != 0) {
				fprintf(stderr, "mqtt-load: the broker does not read the publisher\n");
				return 1;
			}
			published++;
			due = R.rate > 0 ? t0 + published / R.rate : t0 + published * 0.001;
		}
		if (R.ptx_len && !R.ptx_waiting)
			pub_flush();
		left = published < R.updates ? due - load_now_s() : 0.1;
		service(left > 0 ? (int)(left * 1000) + (left < 0.001) : 0);
		if (published == R.updates && R.n_lat && load_now_s() - R.sent_at[R.updates - 1] > 5)
			break; /* QoS 0: what did not come in 5 s is lost */
	}
	load_mark(&m1, R.server_pid);
	if (R.failed) {
		fprintf(stderr, "mqtt-load: %u connections failed\n", R.failed);
		return 1;
	}
	printf("updates=%u\nrate_per_s=%.1f\ndeliveries=%zu\n", R.updates, R.rate, R.n_lat);
	printf("lost=%zu\nout_of_order=%u\n", (size_t)R.sessions * R.updates - R.n_lat,
	       R.out_of_order);
	load_report(&m0, &m1, R.lat, R.n_lat);
	return 0;
}
