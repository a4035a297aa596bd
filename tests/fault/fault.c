/*
 * fault: see fault.h.
 *
 * The harness keeps its process helpers to itself (it runs one child at a time and waits for
 * it); the fault tests need many children at once, started and killed at chosen moments, so
 * they have their own small registry here, in the harness' manner (fork+exec, parent-death
 * signal, every inherited descriptor closed).
 */
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef VEILLE_CLI_PATH
#error "VEILLE_CLI_PATH must be defined by the build"
#endif
#ifndef CUTPROXY_PATH
#error "CUTPROXY_PATH must be defined by the build"
#endif

#define PROXY_START_MS 10000
#define PROXY_STOP_MS 10000

/* ---- seeds ---- */

uint64_t fault_seed(const char *name)
{
	const char *env = getenv("VEILLE_FAULT_SEED");
	uint64_t seed;

	if (env && *env) {
		seed = strtoull(env, NULL, 10);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
			((uint64_t)getpid() << 40)) % 1000000000ull;
	}
	fprintf(stderr, "fault: %s: seed %llu (replay: VEILLE_FAULT_SEED=%llu)\n", name,
		(unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

void fault_rng_init(struct fault_rng *r, uint64_t seed)
{
	r->s = seed;
}

/* splitmix64: any seed, 0 included, gives a good sequence. */
uint64_t fault_next(struct fault_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t fault_between(struct fault_rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + fault_next(r) % (hi - lo + 1);
}

/* ---- processes ---- */

static int open_out(const char *path)
{
	return open(path ? path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

pid_t fault_spawn(char *const argv[], const char *out_path, const char *err_path)
{
	int out_fd = open_out(out_path), err_fd = open_out(err_path);
	pid_t pid = -1;

	if (out_fd < 0 || err_fd < 0)
		fprintf(stderr, "fault: cannot open the outputs of %s: %s\n", argv[0],
			strerror(errno));
	else if ((pid = hx_spawn(argv, out_fd, err_fd)) < 0)
		fprintf(stderr, "fault: cannot start %s: %s\n", argv[0], strerror(errno));
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);
	return pid;
}

static int decode(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

int fault_poll(pid_t pid, int *status)
{
	int st;
	pid_t r;

	do
		r = waitpid(pid, &st, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	hx_forget_child(pid);
	*status = r == pid ? decode(st) : -1;
	return 1;
}

int fault_wait(pid_t pid, int timeout_ms)
{
	uint64_t deadline = hx_mono_ms() + (uint64_t)timeout_ms;
	int status;

	for (;;) {
		if (fault_poll(pid, &status))
			return status;
		if (hx_mono_ms() >= deadline) {
			fprintf(stderr, "fault: process %d still runs after %d ms: killed\n",
				(int)pid, timeout_ms);
			fault_kill(pid);
			return -1;
		}
		hx_sleep_ms(2);
	}
}

int fault_kill(pid_t pid)
{
	int st;
	pid_t r;

	kill(pid, SIGKILL);
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	hx_forget_child(pid);
	return r == pid ? decode(st) : -1;
}


pid_t fault_cli_spawn(const char *dir, const char *out_path, const char *err_path, ...)
{
	char *argv[HX_MAX_ARGS];
	va_list ap;

	va_start(ap, err_path);
	hx_veille_argv(argv, dir, ap);
	va_end(ap);
	return fault_spawn(argv, out_path, err_path);
}

int fault_cli(struct hx_out *out, const char *dir, ...)
{
	char *argv[HX_MAX_ARGS];
	va_list ap;

	va_start(ap, dir);
	hx_veille_argv(argv, dir, ap);
	va_end(ap);
	if (hx_run(argv, 60000, out) != 0)
		return -1;
	return out->status;
}

int fault_file_clean(const char *path)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int clean = 1;

	if (hx_read_file(path, &text, &len) != 0)
		return 1;
	if (strstr((char *)text, "Sanitizer") || strstr((char *)text, "runtime error:")) {
		fprintf(stderr, "fault: sanitizer report in %s:\n%.4000s\n", path, (char *)text);
		clean = 0;
	}
	free(text);
	return clean;
}

/* ---- the server ---- */

int fault_server_kill9(struct hx_env *e)
{
	siginfo_t si;
	int saved, null_fd, rc;

	if (!e->pid)
		return -1;
	kill(e->pid, SIGKILL);
	/* Wait for the death without reaping: the harness reaps it below and forgets it, so that
	 * its own cleanup never signals a pid that may have been reused. */
	memset(&si, 0, sizeof si);
	while (waitid(P_PID, (id_t)e->pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR)
		;
	/* hx_server_stop sends SIGTERM to the zombie, reaps it and, seeing status 137, prints
	 * the log as for a failed stop: that complaint is this very kill, so it is silenced. */
	fflush(stderr);
	saved = dup(2);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null_fd >= 0)
		dup2(null_fd, 2);
	rc = hx_server_stop(e);
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	if (null_fd >= 0)
		close(null_fd);
	if (rc == 0 || si.si_code != CLD_KILLED || si.si_status != SIGKILL) {
		fprintf(stderr, "fault: veilled did not die of SIGKILL (code %d status %d)\n",
			si.si_code, si.si_status);
		return -1;
	}
	return 0;
}

/* ---- cutproxy ---- */

static int read_port(const char *path)
{
	uint8_t *data = NULL;
	size_t len;
	long port = 0;

	if (hx_read_file(path, &data, &len) == 0 && len > 0)
		port = strtol((char *)data, NULL, 10);
	free(data);
	return port > 0 && port < 65536 ? (int)port : 0;
}

int fault_proxy_start(struct fault_proxy *p, struct hx_env *e, uint64_t seed, long cut_min,
		      long cut_max)
{
	char port_file[PATH_MAX], target[16], sd[32], cmin[32], cmax[32];
	char *argv[] = { CUTPROXY_PATH, "--port-file", port_file, "--target", target, "--seed", sd,
			 "--cut-min", cmin, "--cut-max", cmax, "--max-seconds", "280", NULL };
	uint64_t deadline = hx_mono_ms() + PROXY_START_MS;
	int st;

	memset(p, 0, sizeof *p);
	snprintf(port_file, sizeof port_file, "%s/proxy.port", e->tmp);
	snprintf(p->err_path, sizeof p->err_path, "%s/proxy.log", e->tmp);
	snprintf(target, sizeof target, "%d", e->port);
	snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
	snprintf(cmin, sizeof cmin, "%ld", cut_min);
	snprintf(cmax, sizeof cmax, "%ld", cut_max);
	unlink(port_file);
	p->pid = fault_spawn(argv, NULL, p->err_path);
	if (p->pid < 0)
		return -1;
	while (!(p->port = read_port(port_file))) {
		if (fault_poll(p->pid, &st)) {
			fprintf(stderr, "fault: cutproxy exited at start (status %d)\n", st);
			p->pid = 0;
			return -1;
		}
		if (hx_mono_ms() >= deadline) {
			fprintf(stderr, "fault: cutproxy wrote no port in time\n");
			fault_kill(p->pid);
			p->pid = 0;
			return -1;
		}
		hx_sleep_ms(5);
	}
	snprintf(p->url, sizeof p->url, "ws://127.0.0.1:%d", p->port);
	return 0;
}

int fault_proxy_stop(struct fault_proxy *p, int *conns, int *cuts)
{
	uint8_t *log = NULL;
	size_t len = 0;
	int status, a = 0, b = 0;
	const char *at;

	if (!p->pid)
		return -1;
	kill(p->pid, SIGTERM);
	status = fault_wait(p->pid, PROXY_STOP_MS);
	p->pid = 0;
	if (hx_read_file(p->err_path, &log, &len) == 0 &&
	    (at = strstr((char *)log, "cutproxy: ")) &&
	    sscanf(at, "cutproxy: %d connections, %d cuts", &a, &b) != 2)
		a = b = 0;
	free(log);
	if (conns)
		*conns = a;
	if (cuts)
		*cuts = b;
	if (status != 0 || !fault_file_clean(p->err_path)) {
		fprintf(stderr, "fault: cutproxy exited with status %d\n", status);
		return -1;
	}
	return 0;
}

/* ---- sets of record ids ---- */

int fault_ids_add(struct fault_ids *s, const char *id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		void *v = realloc(s->v, cap * sizeof *s->v);

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	snprintf(s->v[s->n++], sizeof s->v[0], "%s", id);
	s->sorted = 0;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

size_t fault_ids_sort(struct fault_ids *s)
{
	size_t dups = 0;

	if (s->n)
		qsort(s->v, s->n, sizeof s->v[0], cmp_id);
	for (size_t i = 1; i < s->n; i++)
		dups += strcmp(s->v[i - 1], s->v[i]) == 0;
	s->sorted = 1;
	return dups;
}

int fault_ids_has(const struct fault_ids *s, const char *id)
{
	return s->n && bsearch(id, s->v, s->n, sizeof s->v[0], cmp_id) != NULL;
}

int fault_ids_equal(const struct fault_ids *a, const struct fault_ids *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

void fault_ids_free(struct fault_ids *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int cmp_change(const void *a, const void *b)
{
	const struct hx_change *x = a, *y = b;
	int d = strcmp(x->record_id, y->record_id);

	if (d)
		return d;
	return x->version < y->version ? -1 : x->version > y->version;
}

void fault_changes_sort(struct hx_changes *cs)
{
	if (cs->n)
		qsort(cs->v, cs->n, sizeof cs->v[0], cmp_change);
}

const struct hx_change *fault_changes_find(const struct hx_changes *cs, const char *record_id)
{
	size_t lo = 0, hi = cs->n;

	/* The first change after every one of record_id, then one back. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(cs->v[mid].record_id, record_id) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && strcmp(cs->v[lo - 1].record_id, record_id) == 0 ? &cs->v[lo - 1] : NULL;
}
