/* veilled: the veille sync server. Wires config, keys, store and transport together, then
 * runs the event loop until SIGINT or SIGTERM, and closes the store cleanly. */
#include "auth.h"
#include "commit.h"
#include "config.h"
#include "keyring.h"
#include "log.h"
#include "places.h"
#include "ratelimit.h"
#include "server.h"
#include "session.h"
#include "store.h"
#include "transport.h"

#include <errno.h>
#include <libwebsockets.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static struct transport *running;

static void after_pass(void *arg)
{
	commit_flush(arg);
	places_tick(arg);
	auth_tick(arg);
}

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		transport_stop(running);
}

/* The server id was written by `veillectl init`; without it the directory is not initialised. */
static int load_server_id(struct server *srv)
{
	struct store_txn *t;
	const void *v;
	size_t n;
	int rc = store_begin(srv->store, 0, &t);

	if (rc == STORE_OK)
		rc = store_get_plain(t, STORE_DB_META, "server_id", 9, &v, &n);
	if (rc == STORE_OK && n == SERVER_ID_BYTES)
		memcpy(srv->server_id, v, n);
	else if (rc == STORE_OK)
		rc = STORE_EFORGED;
	store_abort(t);
	return rc;
}

static int write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

int main(int argc, char **argv)
{
	struct server srv;
	struct store_options so = {0};
	struct rlimit nocore = {0, 0};
	struct sigaction sa;
	struct stat st;
	int rc, status = 1;

	memset(&srv, 0, sizeof(srv));
	rc = config_parse(&srv.cfg, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	log_init("veilled", (enum log_level)srv.cfg.log_level);
	/* A core dump would hold keys and unsealed records. */
	setrlimit(RLIMIT_CORE, &nocore);
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return 1;
	}
	if (stat(srv.cfg.web_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_error("web directory %s: %s", srv.cfg.web_dir,
			  errno ? strerror(errno) : "not a directory");
		return 1;
	}
	rc = keyring_load(&srv.kr, srv.cfg.data_dir);
	if (rc != KEYRING_OK) {
		log_error("refusing to start: %s/%s: %s", srv.cfg.data_dir, KEYRING_FILE,
			  keyring_strerror(rc));
		return 1;
	}
	so.map_size = srv.cfg.map_size;
	rc = store_open(&srv.store, srv.cfg.data_dir, srv.kr, &so);
	if (rc == STORE_OK && (rc = load_server_id(&srv)) != STORE_OK)
		log_error("refusing to start: %s is not initialised (run `veillectl --data %s init`)",
			  srv.cfg.data_dir, srv.cfg.data_dir);
	else if (rc != STORE_OK)
		log_error("refusing to start: cannot open the store: %s", store_strerror(rc));
	if (rc != STORE_OK)
		goto out;
	srv.rl = ratelimit_new(srv.cfg.auth_max_failures, srv.cfg.auth_window_ms);
	if (!srv.rl || transport_start(&srv.tp, &srv, &srv.cfg) != 0 || commit_start(&srv) != 0)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	running = srv.tp;
	if (srv.cfg.port_file && write_port_file(srv.cfg.port_file, transport_port(srv.tp)) != 0) {
		log_error("cannot write port file %s", srv.cfg.port_file);
		goto out;
	}
	log_info("listening on ws://%s%s%s:%d/sync (web: %s)", strchr(srv.cfg.host, ':') ? "[" : "",
		 srv.cfg.host, strchr(srv.cfg.host, ':') ? "]" : "", transport_port(srv.tp),
		 srv.cfg.web_dir);
	transport_run(srv.tp, after_pass, &srv);
	running = NULL;
	log_info("shutting down");
	commit_finish(&srv); /* what was received is applied and answered */
	for (struct session *s = srv.sessions; s; s = s->next)
		transport_close(s->conn, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	transport_drain(srv.tp, 1000);
	status = 0;
out:
	running = NULL;
	commit_stop(&srv); /* before the transport: the writer wakes it */
	transport_free(srv.tp);
	ratelimit_free(srv.rl);
	store_close(srv.store);
	keyring_free(srv.kr);
	return status;
}
