/*
 * mqtt-load: the load client for the mosquitto peer of tools/bench/run-fanout, the MQTT twin of
 * `veille-fanout fanout --peer ws`: N subscriber connections from one process (one poll() loop
 * over their sockets, as veille-fanout's libwebsockets loop) on topic places/75, QoS 0, and one
 * publisher of 200-byte messages (the first 8 bytes: the message's index) at the given rate
 * (0: one per millisecond). Each receipt is one latency sample; the output is the same
 * key=value lines as veille-fanout's. Built by run-fanout with libmosquitto (Debian), outside
 * the project's build: only this benchmark needs it.
 *
 *   mqtt-load --port P [--sessions N] [--updates U] [--rate R] [--timeout-ms MS] [--server-pid P]
 *   mqtt-load --port P --idle [--sessions N] [--server-pid P]
 */
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#define TOPIC "places/75"
#define MSG_BYTES 200
#define MAX_SESSIONS 20000

struct sub {
	struct mosquitto *m;
	uint64_t next;   /* the index expected next */
	int subscribed;
};

static struct {
	unsigned sessions, updates, subscribed, out_of_order;
	double rate, *sent_at, *lat;
	size_t n_lat;
	int timeout_ms, idle;
	long server_pid;
} R;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long rss_kib(long pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if (pid <= 0 || !(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	size_t i = (size_t)(p / 100.0 * (double)(R.n_lat - 1) + 0.5);

	return R.n_lat ? R.lat[i < R.n_lat ? i : R.n_lat - 1] : 0;
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *qos)
{
	struct sub *s = obj;

	(void)m;
	(void)mid;
	(void)n;
	(void)qos;
	if (!s->subscribed) {
		s->subscribed = 1;
		R.subscribed++;
	}
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	struct sub *s = obj;
	const uint8_t *p = msg->payload;
	uint64_t k = 0;

	(void)m;
	if (msg->payloadlen < 8)
		return;
	for (int i = 7; i >= 0; i--)
		k = k << 8 | p[i];
	if (k >= R.updates)
		return;
	if (k != s->next)
		R.out_of_order++; /* QoS 0 may drop under load: counted, not fatal */
	s->next = k + 1;
	R.lat[R.n_lat++] = (now_s() - R.sent_at[k]) * 1000.0;
}

/* One pass over every client's socket: reads, writes, keepalive. */
static void service(struct sub *subs, unsigned n, struct mosquitto *pub, struct pollfd *pfd,
		    int timeout_ms)
{
	unsigned k = 0;

	for (unsigned i = 0; i <= n; i++) {
		struct mosquitto *m = i < n ? subs[i].m : pub;

		pfd[k].fd = m ? mosquitto_socket(m) : -1;
		pfd[k].events = POLLIN | (m && mosquitto_want_write(m) ? POLLOUT : 0);
		pfd[k].revents = 0;
		k++;
	}
	if (poll(pfd, k, timeout_ms) <= 0)
		return;
	for (unsigned i = 0; i <= n; i++) {
		struct mosquitto *m = i < n ? subs[i].m : pub;

		if (!m)
			continue;
		if (pfd[i].revents & POLLIN)
			mosquitto_loop_read(m, 1);
		if (pfd[i].revents & POLLOUT)
			mosquitto_loop_write(m, 1);
	}
}

static struct mosquitto *client(unsigned i, void *obj, int port)
{
	char id[32];
	struct mosquitto *m;

	snprintf(id, sizeof id, "bench-%u-%d", i, (int)getpid());
	m = mosquitto_new(id, true, obj);
	if (!m || mosquitto_connect(m, "127.0.0.1", port, 600) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt-load: cannot connect client %u\n", i);
		return NULL;
	}
	return m;
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
	struct sub *subs;
	struct pollfd *pfd;
	struct mosquitto *pub = NULL;
	struct rlimit rl;
	unsigned published = 0;
	double t0, c0, t1, c1, deadline;
	long rss0;
	int port = 0, o;
	uint8_t payload[MSG_BYTES];

	R.sessions = 1000;
	R.updates = 200;
	R.rate = 5;
	R.timeout_ms = 120000;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p': port = atoi(optarg); break;
		case 'n': R.sessions = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'U': R.updates = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': R.rate = strtod(optarg, NULL); break;
		case 't': R.timeout_ms = atoi(optarg); break;
		case 'P': R.server_pid = strtol(optarg, NULL, 10); break;
		case 'i': R.idle = 1; break;
		default: return 2;
		}
	}
	if (port <= 0 || R.sessions == 0 || R.sessions > MAX_SESSIONS || R.updates > 100000)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	mosquitto_lib_init();
	subs = calloc(R.sessions, sizeof *subs);
	pfd = calloc(R.sessions + 1, sizeof *pfd);
	R.sent_at = calloc(R.updates + 1, sizeof *R.sent_at);
	R.lat = calloc((size_t)R.sessions * (R.updates + 1), sizeof *R.lat);
	if (!subs || !pfd || !R.sent_at || !R.lat)
		return 1;
	rss0 = rss_kib(R.server_pid);
	t0 = now_s();
	for (unsigned i = 0; i < R.sessions; i++) {
		if (!(subs[i].m = client(i, &subs[i], port)))
			return 1;
		mosquitto_subscribe_callback_set(subs[i].m, on_subscribe);
		mosquitto_message_callback_set(subs[i].m, on_message);
		mosquitto_subscribe(subs[i].m, NULL, TOPIC, 0);
		if (i % 100 == 99)
			service(subs, i + 1, NULL, pfd, 0);
	}
	for (deadline = now_s() + R.timeout_ms / 1000.0;
	     R.subscribed < R.sessions && now_s() < deadline;)
		service(subs, R.sessions, NULL, pfd, 100);
	if (R.subscribed < R.sessions) {
		fprintf(stderr, "mqtt-load: %u of %u subscribed\n", R.subscribed, R.sessions);
		return 1;
	}
	printf("sessions=%u\nsessions_open_seconds=%.2f\n", R.sessions, now_s() - t0);
	if (R.idle) {
		usleep(500 * 1000);
		if (rss0 >= 0) {
			long rss1 = rss_kib(R.server_pid);

			printf("server_rss_before_kib=%ld\nserver_rss_after_kib=%ld\n", rss0, rss1);
			printf("server_rss_per_session_kib=%.2f\n",
			       (double)(rss1 - rss0) / R.sessions);
		}
		return 0;
	}
	if (!(pub = client(R.sessions, NULL, port)))
		return 1;
	memset(payload, 'x', sizeof payload);
	c0 = cpu_s();
	t0 = now_s();
	deadline = t0 + R.timeout_ms / 1000.0 + (R.rate > 0 ? R.updates / R.rate : 0);
	while (R.n_lat < (size_t)R.sessions * R.updates && now_s() < deadline) {
		double due = R.rate > 0 ? t0 + published / R.rate : t0 + published * 0.001;

		while (published < R.updates && now_s() >= due) {
			for (int i = 0; i < 8; i++)
				payload[i] = (uint8_t)((uint64_t)published >> (8 * i));
			R.sent_at[published] = now_s();
			mosquitto_publish(pub, NULL, TOPIC, MSG_BYTES, payload, 0, false);
			published++;
			due = R.rate > 0 ? t0 + published / R.rate : t0 + published * 0.001;
		}
		service(subs, R.sessions, pub, pfd, 1);
		if (published == R.updates && R.n_lat && now_s() - R.sent_at[R.updates - 1] > 5)
			break; /* QoS 0: what did not come in 5 s is lost */
	}
	t1 = now_s();
	c1 = cpu_s();
	qsort(R.lat, R.n_lat, sizeof *R.lat, cmp_double);
	printf("updates=%u\nrate_per_s=%.1f\ndeliveries=%zu\n", R.updates, R.rate, R.n_lat);
	printf("lost=%zu\nout_of_order=%u\n", (size_t)R.sessions * R.updates - R.n_lat,
	       R.out_of_order);
	printf("seconds=%.3f\ndeliveries_per_s=%.0f\n", t1 - t0, (double)R.n_lat / (t1 - t0));
	printf("latency_p50_ms=%.1f\nlatency_p99_ms=%.1f\nlatency_max_ms=%.1f\n", pct(50), pct(99),
	       R.n_lat ? R.lat[R.n_lat - 1] : 0.0);
	printf("load_client_cpu_pct=%.0f\n", (c1 - c0) / (t1 - t0) * 100.0);
	return 0;
}
