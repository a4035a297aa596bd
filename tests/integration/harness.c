/*
 * harness: see harness.h.
 *
 * Processes are started with fork+exec rather than posix_spawn because the child must do two
 * things posix_spawn cannot: ask to die with the test (PR_SET_PDEATHSIG), and close every
 * inherited descriptor, so a veilled never holds a copy of a test's client socket (the server
 * would then never see that client close).
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#ifndef VEILLED_PATH
#error "VEILLED_PATH must be defined by the build"
#endif
#ifndef VEILLECTL_PATH
#error "VEILLECTL_PATH must be defined by the build"
#endif

#define START_TIMEOUT_MS 20000 /* asan builds start slowly on a loaded machine */
#define STOP_TIMEOUT_MS 20000  /* includes LeakSanitizer's scan at exit */
#define CTL_TIMEOUT_MS 20000
#define MAX_ARGS HX_MAX_ARGS
#define MAX_TRACKED 128

/* ---- cleanup registry: children and temporary directories left by a failing test ---- */

static pid_t children[MAX_TRACKED];
static char *tmpdirs[MAX_TRACKED];
static int cleanup_registered;

static void rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char sub[PATH_MAX];

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
			rm_rf(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

static int keep_dirs(void)
{
	const char *k = getenv("VEILLE_IT_KEEP");

	return k && !strcmp(k, "1");
}

static void cleanup_at_exit(void)
{
	int i;

	for (i = 0; i < MAX_TRACKED; i++) {
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	}
	for (i = 0; i < MAX_TRACKED; i++) {
		if (tmpdirs[i]) {
			if (!keep_dirs())
				rm_rf(tmpdirs[i]);
			free(tmpdirs[i]);
			tmpdirs[i] = NULL;
		}
	}
}

static void ensure_cleanup(void)
{
	if (!cleanup_registered) {
		atexit(cleanup_at_exit);
		cleanup_registered = 1;
	}
}

static void track_child(pid_t pid, int on)
{
	int i;

	for (i = 0; i < MAX_TRACKED; i++) {
		if (on && children[i] == 0) {
			children[i] = pid;
			return;
		}
		if (!on && children[i] == pid) {
			children[i] = 0;
			return;
		}
	}
}

void hx_forget_child(pid_t pid)
{
	track_child(pid, 0);
}

static void track_dir(const char *dir, int on)
{
	int i;

	for (i = 0; i < MAX_TRACKED; i++) {
		if (on && !tmpdirs[i]) {
			tmpdirs[i] = strdup(dir);
			return;
		}
		if (!on && tmpdirs[i] && !strcmp(tmpdirs[i], dir)) {
			free(tmpdirs[i]);
			tmpdirs[i] = NULL;
			return;
		}
	}
}

/* ---- time ---- */

uint64_t hx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t hx_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void hx_sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- processes ---- */

/*
 * Starts argv[0] with stdin from /dev/null and stdout/stderr on out_fd/err_fd. In the child
 * only async-signal-safe calls happen between fork and exec.
 */
pid_t hx_spawn(char *const argv[], int out_fd, int err_fd)
{
	pid_t parent = getpid(), pid;
	long max_fd = sysconf(_SC_OPEN_MAX);
	int null_fd;

	if (max_fd < 0 || max_fd > 65536)
		max_fd = 65536;
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0)
		return -1;
	ensure_cleanup();
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
			_exit(127);
		for (long fd = 3; fd < max_fd; fd++)
			close((int)fd);
		execv(argv[0], argv);
		_exit(127);
	}
	close(null_fd);
	if (pid > 0)
		track_child(pid, 1);
	return pid;
}

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* Waits until pid exits or deadline (monotonic ms). Returns its status, or -1 on timeout. */
static int wait_child(pid_t pid, uint64_t deadline)
{
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			track_child(pid, 0);
			return decode_status(st);
		}
		if (r < 0 && errno != EINTR) {
			track_child(pid, 0);
			return -1;
		}
		if (hx_mono_ms() >= deadline)
			return -1;
		hx_sleep_ms(5);
	}
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	track_child(pid, 0);
}

struct growbuf {
	char *p;
	size_t len, cap;
};

static int grow_append(struct growbuf *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int make_pipe(int fds[2])
{
	if (pipe(fds) != 0)
		return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

/*
 * Runs argv capturing both outputs. At timeout_ms the child gets on_timeout (SIGKILL: status
 * -1; SIGTERM: its own exit status, waited for a further STOP_TIMEOUT_MS).
 */
static int run_capture(char *const argv[], int timeout_ms, int on_timeout, struct hx_out *out)
{
	struct growbuf ob = { 0 }, eb = { 0 };
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, open_fds = 2, timed_out = 0;
	uint64_t deadline = hx_mono_ms() + (uint64_t)timeout_ms;
	pid_t pid;

	memset(out, 0, sizeof *out);
	out->status = -1;
	if (make_pipe(op) || make_pipe(ep))
		goto fail;
	pid = hx_spawn(argv, op[1], ep[1]);
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	if (pid < 0)
		goto fail;
	while (open_fds > 0) {
		struct pollfd pf[2] = { { op[0], POLLIN, 0 }, { ep[0], POLLIN, 0 } };
		uint64_t now = hx_mono_ms();
		int n;

		if (now >= deadline) {
			if (timed_out || on_timeout == SIGKILL)
				break;
			kill(pid, on_timeout);
			timed_out = 1;
			deadline = now + STOP_TIMEOUT_MS;
			continue;
		}
		n = poll(pf, 2, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			char buf[8192];
			ssize_t r;

			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pf[i].fd, buf, sizeof buf);
			if (r > 0) {
				grow_append(i ? &eb : &ob, buf, (size_t)r);
			} else if (r == 0 || errno != EINTR) {
				close(pf[i].fd);
				if (i)
					ep[0] = -1;
				else
					op[0] = -1;
				open_fds--;
			}
		}
	}
	if (open_fds > 0) {
		kill_and_reap(pid);
		out->status = -1;
	} else {
		out->status = wait_child(pid, hx_mono_ms() + STOP_TIMEOUT_MS);
		if (out->status == -1)
			kill_and_reap(pid);
	}
	if (op[0] >= 0)
		close(op[0]);
	if (ep[0] >= 0)
		close(ep[0]);
	if (on_timeout == SIGKILL && timed_out)
		out->status = -1;
	grow_append(&ob, "", 0);
	grow_append(&eb, "", 0);
	out->out = ob.p;
	out->err = eb.p;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	free(ob.p);
	free(eb.p);
	return -1;
}

int hx_run(char *const argv[], int timeout_ms, struct hx_out *out)
{
	return run_capture(argv, timeout_ms, SIGKILL, out);
}

void hx_out_free(struct hx_out *out)
{
	if (!out)
		return;
	free(out->out);
	free(out->err);
	out->out = out->err = NULL;
}

int hx_kv(const char *text, const char *key, char *val, size_t n)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t len = strcspn(v, "\n");

			if (len >= n)
				return -1;
			memcpy(val, v, len);
			val[len] = '\0';
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

size_t hx_count_lines(const char *text, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, prefix, plen))
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

int hx_read_file(const char *path, uint8_t **data, size_t *len)
{
	struct growbuf b = { 0 };
	char buf[65536];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			free(b.p);
			return -1;
		}
		if (grow_append(&b, buf, (size_t)r)) {
			close(fd);
			free(b.p);
			return -1;
		}
	}
	close(fd);
	if (!b.p && grow_append(&b, "", 0))
		return -1;
	*data = (uint8_t *)b.p;
	*len = b.len;
	return 0;
}

static void print_log(const struct hx_env *e, const char *why)
{
	uint8_t *log = NULL;
	size_t len = 0;

	fprintf(stderr, "harness: %s; veilled log (%s):\n", why, e->log);
	if (hx_read_file(e->log, &log, &len) == 0) {
		/* The end is what matters; a long log would drown the report. */
		size_t from = len > 8192 ? len - 8192 : 0;

		fprintf(stderr, "%s\n", (char *)log + from);
	}
	free(log);
}

/* ---- environment ---- */

struct hx_env *hx_env_new(void)
{
	const char *base = getenv("TMPDIR");
	struct hx_env *e = calloc(1, sizeof *e);
	struct hx_out out;

	if (!e)
		return NULL;
	ensure_cleanup();
	if ((size_t)snprintf(e->tmp, sizeof e->tmp, "%s/veille-it-XXXXXX",
			     base && *base ? base : "/tmp") >= sizeof e->tmp ||
	    !mkdtemp(e->tmp)) {
		fprintf(stderr, "harness: mkdtemp %s: %s\n", e->tmp, strerror(errno));
		free(e);
		return NULL;
	}
	track_dir(e->tmp, 1);
	if (keep_dirs())
		fprintf(stderr, "harness: test directory %s\n", e->tmp);
	snprintf(e->data, sizeof e->data, "%s/data", e->tmp);
	snprintf(e->port_file, sizeof e->port_file, "%s/port", e->tmp);
	snprintf(e->log, sizeof e->log, "%s/veilled.log", e->tmp);
	if (hx_ctl(e, &out, "init", (char *)NULL) != 0) {
		hx_out_free(&out);
		hx_env_free(e);
		return NULL;
	}
	hx_out_free(&out);
	return e;
}

int hx_env_free(struct hx_env *e)
{
	int rc;

	if (!e)
		return 0;
	rc = hx_server_stop(e);
	for (int i = 0; i < e->n_extra; i++)
		free(e->extra[i]);
	if (!keep_dirs())
		rm_rf(e->tmp);
	track_dir(e->tmp, 0);
	free(e);
	return rc;
}

int hx_ctl(struct hx_env *e, struct hx_out *out, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	struct hx_out local;
	va_list ap;
	int n = 0, rc;

	argv[n++] = VEILLECTL_PATH;
	argv[n++] = "--data";
	argv[n++] = e->data;
	va_start(ap, arg);
	for (const char *a = arg; a && n < MAX_ARGS - 1; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	if (!out)
		out = &local;
	if (hx_run(argv, CTL_TIMEOUT_MS, out) != 0) {
		fprintf(stderr, "harness: cannot run veillectl\n");
		return -1;
	}
	rc = out->status == 0 ? 0 : -1;
	if (rc) {
		fprintf(stderr, "harness: veillectl");
		for (int i = 3; i < n; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, ": status %d\n%s%s", out->status, out->out, out->err);
	}
	if (out == &local)
		hx_out_free(&local);
	return rc;
}

void hx_veille_argv(char **argv, const char *dir, va_list ap)
{
	const char *a;
	int n = 0;

	argv[n++] = VEILLE_CLI_PATH;
	argv[n++] = "--dir";
	argv[n++] = (char *)dir;
	while ((a = va_arg(ap, const char *)) && n < MAX_ARGS - 1)
		argv[n++] = (char *)a;
	argv[n] = NULL;
}

int hx_veille(struct hx_out *out, int expect, int timeout_ms, const char *dir, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;

	va_start(ap, dir);
	hx_veille_argv(argv, dir, ap);
	va_end(ap);
	if (hx_run(argv, timeout_ms, out) != 0)
		return -1;
	if (out->status != expect)
		fprintf(stderr, "veille %s: status %d\nstdout: %.2000s\nstderr: %.2000s\n",
			argv[3] ? argv[3] : "", out->status, out->out, out->err);
	return out->status;
}

int hx_structure_add(struct hx_env *e, const char *id, const char *name, const char *kind,
		     const char *territory)
{
	return hx_ctl(e, NULL, "structure", "add", "--id", id, "--name", name, "--kind", kind,
		      "--territory", territory, (char *)NULL);
}

static int parse_pairing(const struct hx_out *out, char *pro_id, char *code)
{
	char id[65], c[32];

	if (hx_kv(out->out, "professional_id", id, sizeof id) ||
	    hx_kv(out->out, "pairing_code", c, sizeof c)) {
		fprintf(stderr, "harness: veillectl printed no pairing code:\n%s", out->out);
		return -1;
	}
	if (pro_id)
		snprintf(pro_id, 65, "%s", id);
	if (code)
		snprintf(code, 32, "%s", c);
	return 0;
}

int hx_professional_add(struct hx_env *e, const char *structure, const char *name,
			const char *role, const char *id, unsigned ttl_s, char *pro_id, char *code)
{
	const char *argv[16];
	char ttl[16];
	struct hx_out out;
	int n = 0, rc;

	argv[n++] = "--structure";
	argv[n++] = structure;
	argv[n++] = "--name";
	argv[n++] = name;
	argv[n++] = "--role";
	argv[n++] = role;
	if (id) {
		argv[n++] = "--id";
		argv[n++] = id;
	}
	if (ttl_s) {
		snprintf(ttl, sizeof ttl, "%u", ttl_s);
		argv[n++] = "--pairing-ttl";
		argv[n++] = ttl;
	}
	while (n < 10)
		argv[n++] = NULL;
	rc = hx_ctl(e, &out, "professional", "add", argv[0], argv[1], argv[2], argv[3], argv[4],
		    argv[5], argv[6], argv[7], argv[8], argv[9], (char *)NULL);
	if (rc == 0)
		rc = parse_pairing(&out, pro_id, code);
	hx_out_free(&out);
	return rc;
}

int hx_professional_pair(struct hx_env *e, const char *pro_id, unsigned ttl_s, char *code)
{
	char ttl[16];
	struct hx_out out;
	int rc;

	snprintf(ttl, sizeof ttl, "%u", ttl_s ? ttl_s : 86400);
	rc = hx_ctl(e, &out, "professional", "pair", pro_id, "--pairing-ttl", ttl, (char *)NULL);
	if (rc == 0)
		rc = parse_pairing(&out, NULL, code);
	hx_out_free(&out);
	return rc;
}

/* 1 if pid has a SIGTERM handler installed, 0 if not yet, -1 if /proc cannot tell. */
static int handles_sigterm(pid_t pid)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "SigCgt:", 7)) {
			mask = strtoull(line + 7, NULL, 16);
			found = 1;
			break;
		}
	}
	fclose(f);
	if (!found)
		return -1;
	return (mask & (1ull << (SIGTERM - 1))) ? 1 : 0;
}

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

/*
 * Starts veilled on port (0: any) and waits for the port file and for its SIGTERM handler:
 * veilled writes the port file before installing it (server/main.c), and a SIGTERM in between
 * would kill it without a clean shutdown. quiet: no log dump on failure (restart retries).
 */
static int start_server(struct hx_env *e, int port, int quiet)
{
	char listen[32], *argv[MAX_ARGS];
	uint64_t deadline;
	int n = 0, fd, got = 0;
	pid_t pid;

	unlink(e->port_file);
	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	argv[n++] = VEILLED_PATH;
	argv[n++] = "--data";
	argv[n++] = e->data;
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--port-file";
	argv[n++] = e->port_file;
	for (int i = 0; i < e->n_extra && n < MAX_ARGS - 1; i++)
		argv[n++] = e->extra[i];
	argv[n] = NULL;
	fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "harness: %s: %s\n", e->log, strerror(errno));
		return -1;
	}
	pid = hx_spawn(argv, fd, fd);
	close(fd);
	if (pid < 0) {
		fprintf(stderr, "harness: cannot start veilled: %s\n", strerror(errno));
		return -1;
	}
	deadline = hx_mono_ms() + START_TIMEOUT_MS;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			track_child(pid, 0);
			if (!quiet) {
				char why[64];

				snprintf(why, sizeof why, "veilled exited during start (status %d)",
					 decode_status(st));
				print_log(e, why);
			}
			return -1;
		}
		if (!got)
			got = read_port(e->port_file);
		if (got && handles_sigterm(pid) != 0)
			break;
		if (hx_mono_ms() >= deadline) {
			kill_and_reap(pid);
			print_log(e, "veilled did not start in time");
			return -1;
		}
		hx_sleep_ms(5);
	}
	e->pid = pid;
	e->port = got;
	snprintf(e->url, sizeof e->url, "ws://127.0.0.1:%d", got);
	return 0;
}

int hx_server_startv(struct hx_env *e, const char *const *args)
{
	if (e->pid) {
		fprintf(stderr, "harness: veilled already running\n");
		return -1;
	}
	for (int i = 0; i < e->n_extra; i++)
		free(e->extra[i]);
	e->n_extra = 0;
	for (; args && *args && e->n_extra < HX_MAX_EXTRA; args++)
		if (!(e->extra[e->n_extra++] = strdup(*args)))
			return -1;
	return start_server(e, 0, 0);
}

int hx_server_start(struct hx_env *e, ...)
{
	const char *args[HX_MAX_EXTRA + 1];
	va_list ap;
	int n = 0;

	va_start(ap, e);
	while (n < HX_MAX_EXTRA && (args[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	args[n] = NULL;
	return hx_server_startv(e, args);
}

/* A sanitizer report in the log fails the stop even if the status was 0. */
static int log_is_clean(const struct hx_env *e)
{
	uint8_t *log = NULL;
	size_t len = 0;
	int clean = 1;

	if (hx_read_file(e->log, &log, &len) == 0)
		clean = !strstr((char *)log, "Sanitizer") && !strstr((char *)log, "runtime error:");
	free(log);
	return clean;
}

int hx_server_stop(struct hx_env *e)
{
	int status;

	if (!e->pid)
		return 0;
	kill(e->pid, SIGTERM);
	status = wait_child(e->pid, hx_mono_ms() + STOP_TIMEOUT_MS);
	if (status == -1) {
		kill_and_reap(e->pid);
		e->pid = 0;
		print_log(e, "veilled did not exit after SIGTERM");
		return -1;
	}
	e->pid = 0;
	if (status != 0) {
		char why[64];

		snprintf(why, sizeof why, "veilled exited with status %d after SIGTERM", status);
		print_log(e, why);
		return -1;
	}
	if (!log_is_clean(e)) {
		print_log(e, "veilled's log holds a sanitizer report");
		return -1;
	}
	return 0;
}

int hx_server_restart(struct hx_env *e)
{
	if (hx_server_stop(e) != 0)
		return -1;
	return hx_server_start_again(e);
}

int hx_server_start_again(struct hx_env *e)
{
	if (e->pid) {
		fprintf(stderr, "harness: veilled already running\n");
		return -1;
	}
	/* The devices saved the url with this port: come back on it. A port still held for a
	 * moment by the old socket is retried, bounded. */
	for (int i = 0; i < 30; i++) {
		if (start_server(e, e->port, i < 29) == 0)
			return 0;
		hx_sleep_ms(100);
	}
	return -1;
}

int hx_server_run_once(struct hx_env *e, int timeout_ms, struct hx_out *out, ...)
{
	char *argv[MAX_ARGS];
	const char *a;
	va_list ap;
	int n = 0;

	argv[n++] = VEILLED_PATH;
	argv[n++] = "--data";
	argv[n++] = e->data;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	va_start(ap, out);
	while ((a = va_arg(ap, const char *)) && n < MAX_ARGS - 1)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return run_capture(argv, timeout_ms, SIGTERM, out);
}

/* ---- devices ---- */

static int hex_id(const char *hex, uint8_t out[PROOF_ID])
{
	size_t n = 0;

	return sodium_hex2bin(out, PROOF_ID, hex, strlen(hex), NULL, &n, NULL) == 0 &&
			       n == PROOF_ID
		       ? 0
		       : -1;
}

int hx_enrol(struct hx_env *e, const char *code, const char *label, struct hx_device *d)
{
	struct veille_error err;
	struct veille_principal p;
	struct veille_info info;
	char path[PATH_MAX + 16];
	uint8_t *key = NULL;
	size_t len = 0;
	int rc;

	memset(d, 0, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "%s/dev%d", e->tmp, e->next_dir++);
	rc = veille_open(&d->c, d->dir, &err);
	if (rc) {
		fprintf(stderr, "harness: veille_open %s: %s: %s\n", d->dir, veille_strerror(rc),
			err.message);
		return rc;
	}
	veille_set_timeout(d->c, HX_TIMEOUT_MS);
	rc = veille_enrol(d->c, e->url, code, label ? label : "integration test", &p);
	if (rc)
		return rc;
	veille_info(d->c, &info);
	snprintf(d->device_hex, sizeof d->device_hex, "%s", info.device_id);
	snprintf(d->professional_id, sizeof d->professional_id, "%s", p.professional_id);
	snprintf(d->structure_id, sizeof d->structure_id, "%s", p.structure_id);
	snprintf(path, sizeof path, "%s/device.key", d->dir);
	if (hex_id(info.device_id, d->device_id) || hex_id(info.server_id, d->server_id) ||
	    hx_read_file(path, &key, &len) || len != PROOF_SECRET_KEY) {
		fprintf(stderr, "harness: enrolled device state unreadable in %s\n", d->dir);
		free(key);
		return VEILLE_ECORRUPT;
	}
	memcpy(d->sk, key, PROOF_SECRET_KEY);
	sodium_memzero(key, len);
	free(key);
	return 0;
}

int hx_enrol_connect(struct hx_env *e, const char *code, struct hx_device *d)
{
	int rc = hx_enrol(e, code, NULL, d);

	if (rc == 0)
		rc = veille_connect(d->c, -1);
	if (rc)
		fprintf(stderr, "harness: enrol/connect with %s: %s (%s: %s)\n", code,
			veille_strerror(rc),
			d->c ? veille_error_code_name(veille_last_error(d->c)->code) : "-",
			d->c ? veille_last_error(d->c)->message : "");
	return rc;
}

int hx_new_device_as(struct hx_env *e, const char *structure, const char *name,
		     const char *role, struct hx_device *d)
{
	char code[32];

	memset(d, 0, sizeof *d);
	if (hx_professional_add(e, structure, name, role, NULL, 0, NULL, code) != 0)
		return -1;
	return hx_enrol_connect(e, code, d);
}

int hx_new_device(struct hx_env *e, const char *structure, const char *name,
		  struct hx_device *d)
{
	return hx_new_device_as(e, structure, name, "maraudeur", d);
}

void hx_device_close(struct hx_device *d)
{
	veille_close(d->c);
	d->c = NULL;
	sodium_memzero(d->sk, sizeof d->sk);
}

/* ---- records ---- */

int hx_mut_init(struct hx_mut *x, const char *person, const char *note)
{
	memset(x, 0, sizeof *x);
	if (veille_new_record_id(x->record_id) != 0)
		return -1;
	if (person)
		snprintf(x->person_id, sizeof x->person_id, "%s", person);
	else if (veille_new_record_id(x->person_id) != 0)
		return -1;
	veille__v1__encounter__init(&x->e);
	x->e.person_id = x->person_id;
	x->e.occurred_at_ms = (int64_t)hx_now_ms();
	if (note) {
		x->note = strdup(note);
		if (!x->note)
			return -1;
		x->e.note = x->note;
	}
	veille__v1__mutation__init(&x->m);
	x->m.record_id = x->record_id;
	x->m.record_case = VEILLE__V1__MUTATION__RECORD_ENCOUNTER;
	x->m.encounter = &x->e;
	return 0;
}

void hx_mut_free(struct hx_mut *x)
{
	free(x->note);
	x->note = NULL;
}

struct hx_batch *hx_batch_new(size_t n, const char *person, const char *note_prefix)
{
	struct hx_batch *b = calloc(1, sizeof *b);
	char shared[33], note[256];

	if (!b)
		return NULL;
	b->n = n;
	b->muts = calloc(n, sizeof *b->muts);
	b->ptrs = calloc(n, sizeof *b->ptrs);
	b->res = calloc(n, sizeof *b->res);
	if (!b->muts || !b->ptrs || !b->res || (!person && veille_new_record_id(shared) != 0))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		snprintf(note, sizeof note, "%s-%zu", note_prefix, i);
		if (hx_mut_init(&b->muts[i], person ? person : shared, note) != 0)
			goto fail;
		b->ptrs[i] = &b->muts[i].m;
	}
	return b;
fail:
	hx_batch_free(b);
	return NULL;
}

void hx_batch_free(struct hx_batch *b)
{
	if (!b)
		return;
	if (b->muts)
		for (size_t i = 0; i < b->n; i++)
			hx_mut_free(&b->muts[i]);
	free(b->muts);
	free(b->ptrs);
	free(b->res);
	free(b);
}

int hx_push(struct hx_device *d, struct hx_batch *b)
{
	int rc = veille_push(d->c, b->ptrs, b->n, b->res);

	if (rc)
		fprintf(stderr, "harness: push of %zu: %s (%s: %s)\n", b->n, veille_strerror(rc),
			veille_error_code_name(veille_last_error(d->c)->code),
			veille_last_error(d->c)->message);
	return rc;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int collect_change(const Veille__V1__Change *ch, void *arg)
{
	struct hx_changes *cs = arg;
	struct hx_change *c;

	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 64;
		void *p = realloc(cs->v, cap * sizeof *cs->v);

		if (!p)
			return 1000;
		cs->v = p;
		cs->cap = cap;
	}
	c = &cs->v[cs->n];
	memset(c, 0, sizeof *c);
	c->seq = ch->seq;
	c->version = ch->version;
	copy_str(c->record_id, sizeof c->record_id, ch->record_id);
	if (ch->record_case == VEILLE__V1__CHANGE__RECORD_ENCOUNTER && ch->encounter) {
		copy_str(c->person_id, sizeof c->person_id, ch->encounter->person_id);
		copy_str(c->team_id, sizeof c->team_id, ch->encounter->team_id);
		copy_str(c->author_id, sizeof c->author_id, ch->encounter->author_id);
		c->note = strdup(ch->encounter->note ? ch->encounter->note : "");
		if (!c->note)
			return 1000;
	}
	cs->n++;
	return 0;
}

int hx_pull_all(struct veille_client *c, uint64_t from, uint32_t limit, struct hx_changes *out)
{
	uint64_t cursor = from, next = 0;
	int more = 0, rc;

	/* Bounded: a server that kept saying "more" would otherwise hold the test forever. */
	for (int page = 0; page < 10000; page++) {
		size_t before = out->n;

		rc = veille_pull(c, cursor, limit, collect_change, out, &next, &more);
		if (rc) {
			fprintf(stderr, "harness: pull from %llu: %s (%s: %s)\n",
				(unsigned long long)cursor, veille_strerror(rc),
				veille_error_code_name(veille_last_error(c)->code),
				veille_last_error(c)->message);
			return rc;
		}
		if (out->pages < HX_MAX_PAGES) {
			out->page_size[out->pages] = out->n - before;
			out->page_more[out->pages] = more;
		}
		out->pages++;
		out->cursor = cursor = next;
		if (!more)
			return 0;
	}
	fprintf(stderr, "harness: pull never ended\n");
	return -1;
}

const struct hx_change *hx_changes_find(const struct hx_changes *cs, const char *record_id,
					uint64_t version)
{
	for (size_t i = 0; i < cs->n; i++)
		if (!strcmp(cs->v[i].record_id, record_id) &&
		    (version == 0 || cs->v[i].version == version))
			return &cs->v[i];
	return NULL;
}

void hx_changes_free(struct hx_changes *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->v[i].note);
	free(cs->v);
	memset(cs, 0, sizeof *cs);
}

/* ---- raw connections ---- */

struct conn *hx_raw_open(struct hx_env *e)
{
	struct conn *c = NULL;
	char why[256];
	int rc = conn_open_detail(&c, e->url, "veille.v1", HX_TIMEOUT_MS, why, sizeof why);

	if (rc) {
		fprintf(stderr, "harness: conn_open %s: %s: %s\n", e->url, veille_strerror(rc), why);
		return NULL;
	}
	return c;
}

int hx_raw_send(struct conn *c, const Veille__V1__Envelope *env)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = wire_encode(env, &buf, &len);

	if (rc == 0)
		rc = conn_send(c, buf, len, CONN_BINARY);
	free(buf);
	return rc;
}

Veille__V1__Envelope *hx_raw_recv(struct conn *c, int timeout_ms)
{
	Veille__V1__Envelope *env = NULL;
	uint8_t *msg = NULL;
	size_t len = 0;

	if (conn_recv(c, &msg, &len, timeout_ms) != 0)
		return NULL;
	if (wire_decode(msg, len, &env) != 0)
		env = NULL;
	free(msg);
	return env;
}

Veille__V1__Envelope *hx_raw_call(struct conn *c, const Veille__V1__Envelope *env,
				  int timeout_ms)
{
	if (hx_raw_send(c, env) != 0)
		return NULL;
	return hx_raw_recv(c, timeout_ms);
}

int hx_error_code(const Veille__V1__Envelope *env)
{
	if (!env || env->body_case != VEILLE__V1__ENVELOPE__BODY_ERROR || !env->error)
		return -1;
	return (int)env->error->code;
}

int hx_raw_wait_close(struct conn *c, int timeout_ms)
{
	uint64_t deadline = hx_mono_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t now = hx_mono_ms();
		uint8_t *msg = NULL;
		size_t len = 0;
		int rc = conn_recv(c, &msg, &len, now < deadline ? (int)(deadline - now) : 0);

		if (rc == 0) {
			free(msg);
			continue;
		}
		if (rc == VEILLE_ETIMEOUT)
			return -1;
		return conn_close_code(c);
	}
}

int hx_raw_hello(struct conn *c, uint64_t request_id, const uint8_t device_id[PROOF_ID],
		 uint32_t protocol_version, uint8_t nonce[PROOF_NONCE],
		 uint8_t server_id[PROOF_ID])
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT, *reply;
	Veille__V1__Hello hello = VEILLE__V1__HELLO__INIT;
	int rc = -1;

	hello.protocol_version = protocol_version;
	hello.device_id.data = (uint8_t *)device_id;
	hello.device_id.len = PROOF_ID;
	hello.client = "veille-integration-tests";
	env.request_id = request_id;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	reply = hx_raw_call(c, &env, HX_TIMEOUT_MS);
	if (!reply)
		return -1;
	if (reply->request_id == request_id &&
	    reply->body_case == VEILLE__V1__ENVELOPE__BODY_CHALLENGE &&
	    reply->challenge->nonce.len == PROOF_NONCE &&
	    reply->challenge->server_id.len == PROOF_ID) {
		if (nonce)
			memcpy(nonce, reply->challenge->nonce.data, PROOF_NONCE);
		if (server_id)
			memcpy(server_id, reply->challenge->server_id.data, PROOF_ID);
		rc = 0;
	} else if (hx_error_code(reply) > 0) {
		rc = hx_error_code(reply);
	}
	wire_free(reply);
	return rc;
}

Veille__V1__Envelope *hx_raw_proof(struct conn *c, uint64_t request_id,
				   const uint8_t sig[PROOF_SIGNATURE])
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__AuthProof proof = VEILLE__V1__AUTH_PROOF__INIT;

	proof.signature.data = (uint8_t *)sig;
	proof.signature.len = PROOF_SIGNATURE;
	env.request_id = request_id;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_AUTH_PROOF;
	env.auth_proof = &proof;
	return hx_raw_call(c, &env, HX_TIMEOUT_MS);
}

int hx_raw_auth(struct conn *c, const struct hx_device *d)
{
	uint8_t nonce[PROOF_NONCE], server_id[PROOF_ID], sig[PROOF_SIGNATURE];
	Veille__V1__Envelope *reply;
	int rc;

	rc = hx_raw_hello(c, 1, d->device_id, 1, nonce, server_id);
	if (rc != 0) {
		fprintf(stderr, "harness: raw Hello failed (%d)\n", rc);
		return -1;
	}
	if (proof_auth(d->sk, nonce, server_id, d->device_id, sig) != 0)
		return -1;
	reply = hx_raw_proof(c, 2, sig);
	rc = reply && reply->request_id == 2 &&
			     reply->body_case == VEILLE__V1__ENVELOPE__BODY_AUTH_OK
		     ? 0
		     : -1;
	if (rc)
		fprintf(stderr, "harness: raw AuthProof refused (error %d)\n", hx_error_code(reply));
	wire_free(reply);
	return rc;
}

void hx_make_pull(Veille__V1__Envelope *env, Veille__V1__PullRequest *pull,
		  uint64_t request_id)
{
	veille__v1__envelope__init(env);
	veille__v1__pull_request__init(pull);
	env->request_id = request_id;
	env->body_case = VEILLE__V1__ENVELOPE__BODY_PULL;
	env->pull = pull;
}
