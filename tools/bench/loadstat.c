/* loadstat: see loadstat.h. */
#include "loadstat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double load_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double load_self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* A "VmRSS:"-style line of /proc/pid/status in KiB, or -1. */
long load_proc_status_kib(long pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The server's CPU time (user + system, all threads) in seconds, from /proc; -1 if unknown. */
double load_proc_cpu_s(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (pid <= 0 || !(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Loopback packets the kernel dropped (per-CPU backlog full: /proc/net/softnet_stat, second
 * column) and TCP segments retransmitted (/proc/net/snmp): either explains a latency tail. */
static void net_counters(unsigned long long *dropped, unsigned long long *retrans)
{
	char line[512];
	unsigned v, d;
	FILE *f;
	int hdr = 1;

	*dropped = *retrans = 0;
	if ((f = fopen("/proc/net/softnet_stat", "r"))) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "%x %x", &v, &d) == 2)
				*dropped += d;
		fclose(f);
	}
	if ((f = fopen("/proc/net/snmp", "r"))) {
		while (fgets(line, sizeof line, f)) {
			unsigned long long x[13];

			if (strncmp(line, "Tcp: ", 5) != 0)
				continue;
			if (hdr) {
				hdr = 0;
				continue;
			}
			if (sscanf(line + 5, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
				   &x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &x[6], &x[7], &x[8],
				   &x[9], &x[10], &x[11]) == 12)
				*retrans = x[11];
		}
		fclose(f);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);

	return n ? v[i < n ? i : n - 1] : 0;
}

void load_mark(struct load_mark *m, long server_pid)
{
	m->cpu = load_self_cpu_s();
	m->server_cpu = load_proc_cpu_s(server_pid);
	net_counters(&m->drops, &m->retrans);
	m->t = load_now_s();
}

void load_report(const struct load_mark *a, const struct load_mark *b, double *lat, size_t n)
{
	double s = b->t - a->t;

	qsort(lat, n, sizeof *lat, cmp_double);
	printf("seconds=%.3f\ndeliveries_per_s=%.0f\n", s, (double)n / s);
	printf("latency_p50_ms=%.1f\nlatency_p99_ms=%.1f\nlatency_max_ms=%.1f\n",
	       pct(lat, n, 50), pct(lat, n, 99), n ? lat[n - 1] : 0.0);
	printf("load_client_cpu_pct=%.0f\n", (b->cpu - a->cpu) / s * 100.0);
	if (a->server_cpu >= 0 && b->server_cpu >= 0)
		printf("server_cpu_pct=%.0f\n", (b->server_cpu - a->server_cpu) / s * 100.0);
	printf("loopback_drops=%llu\ntcp_retransmits=%llu\n", b->drops - a->drops,
	       b->retrans - a->retrans);
}
