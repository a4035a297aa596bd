/* loadstat: what the load clients (veille-bench, veille-fanout, peer-fanout/mqtt-load) measure
 * the same way: time, their own and the server's CPU, the server's memory, the kernel's
 * loopback drops and TCP retransmissions, and the fan-out latency figures. */
#ifndef VEILLE_BENCH_LOADSTAT_H
#define VEILLE_BENCH_LOADSTAT_H

#include <stddef.h>

/* Monotonic seconds. */
double load_now_s(void);

/* This process's CPU time (user + system) in seconds. */
double load_self_cpu_s(void);

/* Process pid's CPU time (user + system, all threads) in seconds, -1 if /proc cannot tell. */
double load_proc_cpu_s(long pid);

/* A "VmRSS"-style line (key without the colon) of /proc/pid/status in KiB, or -1. */
long load_proc_status_kib(long pid, const char *key);

/* A point of a measured phase. */
struct load_mark {
	double t, cpu, server_cpu; /* server_cpu < 0: unknown */
	unsigned long long drops, retrans;
};

/* Takes a mark now; server_pid <= 0: no server figures. */
void load_mark(struct load_mark *m, long server_pid);

/* Sorts the n latencies (ms) and prints, as key=value lines, the figures of the phase from
 * a to b: seconds, deliveries_per_s, latency p50/p99/max, load_client_cpu_pct,
 * server_cpu_pct (if known), loopback_drops, tcp_retransmits. */
void load_report(const struct load_mark *a, const struct load_mark *b, double *lat, size_t n);

#endif
