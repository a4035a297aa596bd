/* config: veilled's settings, from its command line. Defaults are in config.c and in
 * `veilled --help`; docs/operations.md lists them. */
#ifndef VEILLE_CONFIG_H
#define VEILLE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_ORIGINS 16 /* --allow-origin given at most this many times */

struct config {
	const char *data_dir;
	char host[64];          /* listen address: "127.0.0.1", "::1", "0.0.0.0" */
	int port;               /* 0 = any free port (see port_file) */
	const char *web_dir;    /* static files served at / */
	const char *port_file;  /* if set, the bound port is written there once listening */
	size_t max_frame;       /* largest accepted WebSocket message, bytes */
	unsigned queue_frames;  /* per-session output queue bound, frames */
	unsigned auth_max_failures;
	uint64_t auth_window_ms;
	uint64_t challenge_ttl_ms;
	size_t map_size;        /* initial LMDB map size, bytes */
	uint64_t hold_ms;       /* how long an orientation proposal holds its place */
	uint64_t lease_ms;      /* device lease: re-authenticate within it or the device locks */
	int log_level;
	/* The web app (http.h): */
	const char *tiles;             /* map tile URL template, checked; NULL: no tiles */
	const char *tiles_attribution; /* the tiles' credit (UTF-8), or NULL */
	unsigned lock_seconds;         /* the desk app locks after this long without use */
	unsigned maraude_lock_seconds; /* the maraude's phone app, likewise */
	const char *allow_origin[CONFIG_MAX_ORIGINS]; /* origins allowed at /sync, checked */
	unsigned n_allow_origin;       /* 0: the server's own origin, from the Host header */
};

/* Parses argv into cfg (strings borrowed from argv). Returns 0, 1 if --help was printed,
 * or -1 after printing a usage error. */
int config_parse(struct config *cfg, int argc, char **argv);

#endif
