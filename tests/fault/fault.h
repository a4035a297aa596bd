/*
 * fault: what the fault tests share, on top of tests/integration/harness.h (a real veilled on
 * a loopback port, real devices): a seeded random generator, child processes that the test
 * starts, kills and waits for itself (the `veille` CLI as a phone, cutproxy), killing veilled
 * with SIGKILL, and sets of record ids.
 *
 * Seeds: every random choice of a test comes from one seed, printed first; set
 * VEILLE_FAULT_SEED=N to replay it (the timing of real processes still varies: a replay takes
 * the same decisions, not necessarily the same interleaving).
 *
 * Children are started with fork+exec, die with the test (PR_SET_PDEATHSIG) and are killed by
 * an atexit handler if a failing test left them running. Functions return 0 on success and
 * print what failed on stderr otherwise; they never assert.
 */
#ifndef VEILLE_FAULT_H
#define VEILLE_FAULT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

/* ---- seeds ---- */

struct fault_rng {
	uint64_t s;
};

/* The test's seed: VEILLE_FAULT_SEED if set, else a fresh one. Printed with name. */
uint64_t fault_seed(const char *name);
void fault_rng_init(struct fault_rng *r, uint64_t seed);
uint64_t fault_next(struct fault_rng *r);
/* Uniform in [lo, hi]. */
uint64_t fault_between(struct fault_rng *r, uint64_t lo, uint64_t hi);

/* ---- processes ---- */

/* Starts argv (argv[0] a path) with stdin from /dev/null and stdout, stderr appended to the
 * files out_path, err_path (NULL: /dev/null). Returns the pid, or -1. */
pid_t fault_spawn(char *const argv[], const char *out_path, const char *err_path);

/* Waits for pid until timeout_ms passed; returns its status (0-255, or 128 + signal), or -1
 * after killing it when it did not end in time. */
int fault_wait(pid_t pid, int timeout_ms);

/* 1 and *status if pid has ended (reaped), 0 if it still runs. */
int fault_poll(pid_t pid, int *status);

/* SIGKILL and reap. Returns the status, 128 + SIGKILL unless it had ended already. */
int fault_kill(pid_t pid);

/* Starts `veille --dir dir args...` (NULL-terminated), outputs appended to out_path and
 * err_path (may be NULL). */
pid_t fault_cli_spawn(const char *dir, const char *out_path, const char *err_path, ...)
	__attribute__((sentinel));

/* Runs `veille --dir dir args...` to its end (bounded), capturing its output; returns its
 * status or -1. */
int fault_cli(struct hx_out *out, const char *dir, ...) __attribute__((sentinel));

/* 1 if the file holds no sanitizer report (or does not exist), 0 otherwise (printed). */
int fault_file_clean(const char *path);

/* ---- the server ---- */

/* kill -9 veilled, and reaps it through the harness. 0 if it died of that signal. */
int fault_server_kill9(struct hx_env *e);

/* ---- cutproxy ---- */

struct fault_proxy {
	pid_t pid;
	int port;
	char url[64];          /* ws://127.0.0.1:PORT */
	char err_path[PATH_MAX];
};

/* Starts cutproxy in front of e's server, cutting each connection after a number of bytes
 * uniform in [cut_min, cut_max] (cut_max 0: never), seeded. */
int fault_proxy_start(struct fault_proxy *p, struct hx_env *e, uint64_t seed, long cut_min,
		      long cut_max);

/* SIGTERM; 0 if it exited 0. *conns and *cuts (may be NULL) receive what it counted. */
int fault_proxy_stop(struct fault_proxy *p, int *conns, int *cuts);

/* ---- sets of record ids ---- */

struct fault_ids {
	size_t n, cap;
	char (*v)[33];
	int sorted;
};

int fault_ids_add(struct fault_ids *s, const char *id);
/* Sorts; returns the number of ids present more than once. */
size_t fault_ids_sort(struct fault_ids *s);
/* 1 if id is in s (sorted first by fault_ids_sort). */
int fault_ids_has(const struct fault_ids *s, const char *id);
/* 1 if a and b (both sorted) hold the same ids, the same number of times. */
int fault_ids_equal(const struct fault_ids *a, const struct fault_ids *b);
void fault_ids_free(struct fault_ids *s);

/* Sorts the changes of a pull by record id (then version), for fault_changes_find. */
void fault_changes_sort(struct hx_changes *cs);
/* The newest change of record_id in cs (sorted), or NULL. */
const struct hx_change *fault_changes_find(const struct hx_changes *cs, const char *record_id);

#endif
