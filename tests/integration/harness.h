/*
 * harness: what the integration tests share. Real parts only: the real veilled process on a
 * loopback port, a data directory made by the real veillectl, the real libveille and `veille`
 * CLI, a real LMDB on disk.
 *
 * Design: one struct hx_env per test (or per group) owns a temporary directory holding the data
 * directory, the port file, veilled's log and the devices' state directories. veilled listens
 * on 127.0.0.1 port 0 and writes the port it got to the port file, so tests never collide.
 * Stopping the server is part of every test: SIGTERM must make it exit with status 0 (clean
 * shutdown, LMDB closed; under the asan preset, also no sanitizer or leak report).
 *
 * Children are started with fork+exec and die with the test process (PR_SET_PDEATHSIG); the
 * ones still running at exit are killed and the temporary directories removed by an atexit
 * handler, so a failing test leaves nothing behind. Set VEILLE_IT_KEEP=1 to keep the
 * directories (their paths are printed) and read veilled.log.
 *
 * Functions return 0 on success and print what failed on stderr otherwise, so a test reads
 * assert_int_equal(hx_...(...), 0). The hx_raw_* helpers drive a raw struct conn (clients/c/
 * conn.h) for hostile input; they never assert either.
 */
#ifndef VEILLE_IT_HARNESS_H
#define VEILLE_IT_HARNESS_H

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conn.h"
#include "proof.h"
#include "veille.h"
#include "wire.h"

#define HX_MAX_EXTRA 16
#define HX_TIMEOUT_MS 10000 /* bound of every wait on the server */

struct hx_env {
	char tmp[256];            /* the test's temporary directory (short: paths go under it) */
	char data[PATH_MAX];      /* tmp/data: made by `veillectl init` */
	char port_file[PATH_MAX];
	char log[PATH_MAX];       /* veilled's stdout and stderr, appended across restarts */
	pid_t pid;                /* running veilled, or 0 */
	int port;
	char url[64];             /* ws://127.0.0.1:PORT */
	char *extra[HX_MAX_EXTRA]; /* extra veilled arguments, kept for restarts */
	int n_extra;
	int next_dir;
};

/* Output of a finished child process. */
struct hx_out {
	int status;  /* exit status (0-255), or 128 + signal, or -1 if it did not finish in time */
	char *out;   /* stdout, NUL-terminated; free with hx_out_free */
	char *err;   /* stderr */
};

/* An enrolled device: its libveille client (open, holding the state directory) and what a raw
 * connection needs to authenticate as it. */
struct hx_device {
	char dir[PATH_MAX];
	struct veille_client *c;
	uint8_t device_id[PROOF_ID];
	uint8_t server_id[PROOF_ID];
	uint8_t sk[PROOF_SECRET_KEY]; /* copy of DIR/device.key, for raw proofs */
	char device_hex[33];
	char professional_id[65];
	char structure_id[65];
};

/* One Encounter mutation with the storage it points into. Do not copy once initialised. */
struct hx_mut {
	Veille__V1__Mutation m;
	Veille__V1__Encounter e;
	Veille__V1__Need needs[32];
	char record_id[33];
	char person_id[33];
	char *note; /* owned */
};

/* n mutations ready for veille_push, with room for their results. */
struct hx_batch {
	size_t n;
	struct hx_mut *muts;
	Veille__V1__Mutation **ptrs;
	struct veille_op_result *res;
};

/* A change received by a pull, copied out of the reply. */
struct hx_change {
	uint64_t seq, version;
	char record_id[33];
	char person_id[33];
	char team_id[65];
	char author_id[65];
	char *note; /* owned */
};

#define HX_MAX_PAGES 256
struct hx_changes {
	size_t n, cap;
	struct hx_change *v;
	size_t pages;
	size_t page_size[HX_MAX_PAGES];
	int page_more[HX_MAX_PAGES];
	uint64_t cursor; /* next_cursor of the last page */
};

/* ---- time ---- */
uint64_t hx_now_ms(void);      /* wall clock, ms since the epoch */
uint64_t hx_mono_ms(void);     /* monotonic, ms */
void hx_sleep_ms(unsigned ms);

/* ---- processes and files ---- */

/* Runs argv (argv[0] a path) with a bound of timeout_ms, capturing stdout and stderr. Returns 0
 * if it ran (see out->status), -1 if it could not be started. */
int hx_run(char *const argv[], int timeout_ms, struct hx_out *out);

#define HX_MAX_ARGS 48

/* Fills argv (HX_MAX_ARGS entries) with `veille --dir dir` and the NULL-terminated args of ap. */
void hx_veille_argv(char **argv, const char *dir, va_list ap);

/* Runs `veille --dir dir args...` (NULL-terminated) into out (caller frees with hx_out_free).
 * Returns its exit status, or -1 if it could not run; on a status other than expect, prints
 * the command's status and both outputs, for the test's log. */
int hx_veille(struct hx_out *out, int expect, int timeout_ms, const char *dir, ...)
	__attribute__((sentinel));

/* Starts argv[0] with stdin from /dev/null and stdout/stderr on out_fd/err_fd (the caller
 * keeps and closes its fds). The child dies with the test (PR_SET_PDEATHSIG) and is killed at
 * exit unless hx_forget_child is called once it has been reaped. -1 on failure. */
pid_t hx_spawn(char *const argv[], int out_fd, int err_fd);
void hx_forget_child(pid_t pid);
void hx_out_free(struct hx_out *out);

/* Finds "key=value" at the start of a line of text and copies value into val. 0 or -1. */
int hx_kv(const char *text, const char *key, char *val, size_t n);

/* Reads a whole file into a new buffer (NUL-terminated; free()). 0 or -1. */
int hx_read_file(const char *path, uint8_t **data, size_t *len);

/* Number of lines of text that start with prefix. */
size_t hx_count_lines(const char *text, const char *prefix);

/* ---- environment ---- */

/* Makes a temporary directory and a data directory in it with `veillectl init`. NULL on
 * failure. */
struct hx_env *hx_env_new(void);

/* Stops the server if running and removes everything. Returns 0, or -1 if the server did not
 * exit cleanly (status 0). NULL is a no-op returning 0. */
int hx_env_free(struct hx_env *e);

/* Runs `veillectl --data DATA args...` (NULL-terminated). Returns 0 and fills out (may be NULL)
 * if it ran and exited 0; -1 otherwise (out still filled, if given). */
int hx_ctl(struct hx_env *e, struct hx_out *out, const char *arg, ...)
	__attribute__((sentinel));

int hx_structure_add(struct hx_env *e, const char *id, const char *name, const char *kind,
		     const char *territory);

/* `professional add`; id may be NULL (server-chosen), ttl_s 0 for the default. pro_id (65
 * bytes) and code (32 bytes) receive what veillectl printed; either may be NULL. */
int hx_professional_add(struct hx_env *e, const char *structure, const char *name,
			const char *role, const char *id, unsigned ttl_s, char *pro_id, char *code);

/* `professional pair ID`: a fresh pairing code (32 bytes). */
int hx_professional_pair(struct hx_env *e, const char *pro_id, unsigned ttl_s, char *code);

/* Starts veilled on 127.0.0.1 port 0 with extra arguments (NULL-terminated, kept for restarts)
 * and waits until it listens and handles SIGTERM. */
int hx_server_start(struct hx_env *e, ...) __attribute__((sentinel));

/* Same, with the extra arguments as a NULL-terminated array (NULL: none). */
int hx_server_startv(struct hx_env *e, const char *const *args);

/* SIGTERM, then waits (bounded) for the exit. 0 iff it exited with status 0 and its log holds
 * no sanitizer report. Prints the log otherwise. */
int hx_server_stop(struct hx_env *e);

/* Stops (must be clean) and starts again on the same data directory, port and arguments. */
int hx_server_restart(struct hx_env *e);

/* The second half of hx_server_restart, after hx_server_stop: starts veilled again on the port
 * it had (the devices saved their url with it) and the same arguments. For a test that changes
 * the data directory while the server is stopped (a restore). */
int hx_server_start_again(struct hx_env *e);

/* Runs veilled on e's data directory in the foreground, for a start that must fail; the
 * caller checks out->status and out->err. A server that does start is stopped (SIGTERM) once
 * timeout_ms passed: its status is then that of the stop. Extra arguments NULL-terminated. */
int hx_server_run_once(struct hx_env *e, int timeout_ms, struct hx_out *out, ...)
	__attribute__((sentinel));

/* ---- devices (libveille) ---- */

/* Enrols a new device (own state directory under tmp) with code. Returns the veille_enrol
 * code; on VEILLE_ESERVER, veille_last_error(d->c) tells the server's error. d->c is open in
 * every case except a failure to open the directory: close it with hx_device_close. */
int hx_enrol(struct hx_env *e, const char *code, const char *label, struct hx_device *d);

/* hx_enrol + veille_connect, both expected to succeed. */
int hx_enrol_connect(struct hx_env *e, const char *code, struct hx_device *d);

/* Adds a professional of structure (a maraudeur) and enrols and connects a device for them. */
int hx_new_device(struct hx_env *e, const char *structure, const char *name,
		  struct hx_device *d);

/* The same, for a professional of role ("coordinateur_siao", "responsable_centre"...). */
int hx_new_device_as(struct hx_env *e, const char *structure, const char *name,
		     const char *role, struct hx_device *d);

void hx_device_close(struct hx_device *d);

/* ---- records ---- */

/* Fills x with a new Encounter mutation: fresh record id, person (NULL: a fresh one),
 * occurred_at_ms now, note (NULL: none; copied). */
int hx_mut_init(struct hx_mut *x, const char *person, const char *note);
void hx_mut_free(struct hx_mut *x);

/* n mutations about person (NULL: one fresh person for all), notes "<prefix>-<i>". */
struct hx_batch *hx_batch_new(size_t n, const char *person, const char *note_prefix);
void hx_batch_free(struct hx_batch *b);

/* veille_push of the whole batch. Returns veille_push's code. */
int hx_push(struct hx_device *d, struct hx_batch *b);

/* Pulls pages of at most limit from cursor `from` until has_more is 0 (bounded), appending to
 * out (zero it first). Returns 0 or the veille_pull code. */
int hx_pull_all(struct veille_client *c, uint64_t from, uint32_t limit, struct hx_changes *out);
const struct hx_change *hx_changes_find(const struct hx_changes *cs, const char *record_id,
					uint64_t version);
void hx_changes_free(struct hx_changes *cs);

/* ---- raw connections (hostile input) ---- */

/* conn_open on e's /sync with subprotocol veille.v1. NULL on failure. */
struct conn *hx_raw_open(struct hx_env *e);

/* Encodes and queues env. 0 or a VEILLE_E* code. */
int hx_raw_send(struct conn *c, const Veille__V1__Envelope *env);

/* The next message, decoded; NULL on timeout, close or undecodable data. */
Veille__V1__Envelope *hx_raw_recv(struct conn *c, int timeout_ms);

/* hx_raw_send then hx_raw_recv. */
Veille__V1__Envelope *hx_raw_call(struct conn *c, const Veille__V1__Envelope *env,
				  int timeout_ms);

/* The Error code of env, or -1 if env is NULL or not an Error. */
int hx_error_code(const Veille__V1__Envelope *env);

/* Waits for the server to end the connection, discarding messages; returns the close code
 * (conn_close_code: 1006 if it ended without a close frame), or -1 on timeout. */
int hx_raw_wait_close(struct conn *c, int timeout_ms);

/* Sends Hello; on a Challenge copies nonce and server id and returns 0; on an Error returns
 * its code (> 0); -1 otherwise. */
int hx_raw_hello(struct conn *c, uint64_t request_id, const uint8_t device_id[PROOF_ID],
		 uint32_t protocol_version, uint8_t nonce[PROOF_NONCE],
		 uint8_t server_id[PROOF_ID]);

/* Sends AuthProof with sig and returns the reply (NULL on failure). */
Veille__V1__Envelope *hx_raw_proof(struct conn *c, uint64_t request_id,
				   const uint8_t sig[PROOF_SIGNATURE]);

/* Hello + a genuine AuthProof as d. 0 on AuthOk. */
int hx_raw_auth(struct conn *c, const struct hx_device *d);

/* Fills env as a PullRequest from cursor 0 (pull is the caller's storage env points to). */
void hx_make_pull(Veille__V1__Envelope *env, Veille__V1__PullRequest *pull,
		  uint64_t request_id);

#endif
