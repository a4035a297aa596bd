/* config: veilled's settings, from its command line. Defaults are in config.c and in
 * `veilled --help`; docs/operations.md lists them. */
#ifndef VEILLE_CONFIG_H
#define VEILLE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

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
};

/* Parses argv into cfg (strings borrowed from argv). Returns 0, 1 if --help was printed,
 * or -1 after printing a usage error. */
int config_parse(struct config *cfg, int argc, char **argv);

#endif
