/* config: see config.h. */
#include "config.h"

#include "codec.h"
#include "http.h"
#include "log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VEILLE_WEB_DIR
#define VEILLE_WEB_DIR "clients/web"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veilled --data DIR [options]\n"
		"  --data DIR              data directory made by `veillectl --data DIR init`\n"
		"  --listen HOST:PORT      address to listen on (default 127.0.0.1:8080; [::1]:8080;\n"
		"                          port 0 picks a free port)\n"
		"  --web DIR               static files served at / (default " VEILLE_WEB_DIR ")\n"
		"  --port-file FILE        write the bound port to FILE once listening\n"
		"  --max-frame BYTES       largest accepted message (default 1048576)\n"
		"  --queue-frames N        per-connection output queue bound (default 256)\n"
		"  --auth-max-failures N   failed auth/enrol attempts per device or address and\n"
		"                          window before refusing (default 5)\n"
		"  --auth-window SECONDS   rate-limit window (default 60)\n"
		"  --challenge-ttl MS      validity of an auth challenge (default 10000)\n"
		"  --map-size MIB          initial LMDB map size (default 1024; grows when full)\n"
		"  --device-lease-hours N  a device that has not authenticated again within N hours\n"
		"                          locks its local store (default 72; --device-lease-seconds\n"
		"                          N for tests)\n"
		"  --hold-minutes N        how long an orientation proposal holds its place\n"
		"                          (default 120: 2 hours; --hold-seconds N for tests)\n"
		"  --log-level LEVEL       error, warning, info (default) or debug\n"
		"web app:\n"
		"  --tiles TEMPLATE        map tiles, http(s)://HOST/.../{z}/{x}/{y}.png, one host\n"
		"                          (no {s}); default none: the map shows the outline of\n"
		"                          the département and the centres only\n"
		"  --tiles-attribution TEXT  the tiles' credit, shown on the map\n"
		"  --lock-seconds N        the desk app locks after N seconds without use\n"
		"                          (default 300)\n"
		"  --maraude-lock-seconds N  the maraude's phone app locks after N seconds\n"
		"                          without use (default 120)\n"
		"  --allow-origin ORIGIN   a web origin allowed to open /sync, e.g.\n"
		"                          https://veille.example.org (repeatable; default: the\n"
		"                          server's own, http(s)://<Host header>)\n");
}

/* Parses an unsigned number in [min, max]; -1 on error. */
static int parse_num(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_listen(struct config *cfg, const char *s)
{
	const char *colon;
	unsigned long long port;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -1;
		hlen = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(cfg->host) || parse_num(colon + 1, 0, 65535, &port))
		return -1;
	memcpy(cfg->host, s, hlen);
	cfg->host[hlen] = '\0';
	cfg->port = (int)port;
	return 0;
}

int config_parse(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"web", required_argument, NULL, 'w'},
		{"port-file", required_argument, NULL, 'p'},
		{"max-frame", required_argument, NULL, 'f'},
		{"queue-frames", required_argument, NULL, 'q'},
		{"auth-max-failures", required_argument, NULL, 'a'},
		{"auth-window", required_argument, NULL, 'W'},
		{"challenge-ttl", required_argument, NULL, 'c'},
		{"map-size", required_argument, NULL, 'm'},
		{"hold-seconds", required_argument, NULL, 'H'},
		{"hold-minutes", required_argument, NULL, 'M'},
		{"device-lease-hours", required_argument, NULL, 'E'},
		{"device-lease-seconds", required_argument, NULL, 'e'},
		{"log-level", required_argument, NULL, 'L'},
		{"tiles", required_argument, NULL, 't'},
		{"tiles-attribution", required_argument, NULL, 'T'},
		{"lock-seconds", required_argument, NULL, 'k'},
		{"maraude-lock-seconds", required_argument, NULL, 'K'},
		{"allow-origin", required_argument, NULL, 'O'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char origin[HTTP_ORIGIN_MAX + 1];
	unsigned long long v;
	int o, idx = 0;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->host, sizeof(cfg->host), "127.0.0.1");
	cfg->port = 8080;
	cfg->web_dir = VEILLE_WEB_DIR;
	cfg->max_frame = 1u << 20;
	cfg->queue_frames = 256;
	cfg->auth_max_failures = 5;
	cfg->auth_window_ms = 60000;
	cfg->challenge_ttl_ms = 10000;
	cfg->map_size = (size_t)1 << 30;
	cfg->hold_ms = 7200 * 1000;
	cfg->lease_ms = 72ull * 3600 * 1000;
	cfg->log_level = LOG_INFO;
	cfg->lock_seconds = 300;
	cfg->maraude_lock_seconds = 120;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (o) {
		case 'd': cfg->data_dir = optarg; break;
		case 'w': cfg->web_dir = optarg; break;
		case 'p': cfg->port_file = optarg; break;
		case 'l':
			if (parse_listen(cfg, optarg) != 0)
				goto bad;
			break;
		case 'f':
			if (parse_num(optarg, 1024, 64u << 20, &v))
				goto bad;
			cfg->max_frame = (size_t)v;
			break;
		case 'q':
			if (parse_num(optarg, 4, 65536, &v))
				goto bad;
			cfg->queue_frames = (unsigned)v;
			break;
		case 'a':
			if (parse_num(optarg, 1, 1000000, &v))
				goto bad;
			cfg->auth_max_failures = (unsigned)v;
			break;
		case 'W':
			if (parse_num(optarg, 1, 86400, &v))
				goto bad;
			cfg->auth_window_ms = v * 1000;
			break;
		case 'c':
			if (parse_num(optarg, 100, 600000, &v))
				goto bad;
			cfg->challenge_ttl_ms = v;
			break;
		case 'm':
			if (parse_num(optarg, 1, 1u << 20, &v))
				goto bad;
			cfg->map_size = (size_t)v << 20;
			break;
		case 'H':
		case 'M':
			if (parse_num(optarg, 1, o == 'H' ? 7 * 86400 : 7 * 1440, &v))
				goto bad;
			cfg->hold_ms = v * (o == 'H' ? 1000 : 60000);
			break;
		case 'E':
		case 'e':
			if (parse_num(optarg, 1, o == 'E' ? 24 * 366 : 366 * 86400, &v))
				goto bad;
			cfg->lease_ms = v * (o == 'E' ? 3600000 : 1000);
			break;
		case 'L':
			if (!strcmp(optarg, "error"))
				cfg->log_level = LOG_ERROR;
			else if (!strcmp(optarg, "warning"))
				cfg->log_level = LOG_WARN;
			else if (!strcmp(optarg, "info"))
				cfg->log_level = LOG_INFO;
			else if (!strcmp(optarg, "debug"))
				cfg->log_level = LOG_DEBUG;
			else
				goto bad;
			break;
		case 't':
			if (http_tiles_origin(optarg, origin, sizeof(origin)) != HTTP_OK)
				goto bad;
			cfg->tiles = optarg;
			break;
		case 'T':
			if (strlen(optarg) > HTTP_ATTRIBUTION_MAX ||
			    !codec_utf8_valid(optarg, strlen(optarg)))
				goto bad;
			cfg->tiles_attribution = optarg;
			break;
		case 'k':
			if (parse_num(optarg, 1, HTTP_LOCK_SECONDS_MAX, &v))
				goto bad;
			cfg->lock_seconds = (unsigned)v;
			break;
		case 'K':
			if (parse_num(optarg, 1, HTTP_LOCK_SECONDS_MAX, &v))
				goto bad;
			cfg->maraude_lock_seconds = (unsigned)v;
			break;
		case 'O':
			if (cfg->n_allow_origin == CONFIG_MAX_ORIGINS ||
			    http_origin_parse(optarg, origin, sizeof(origin)) != HTTP_OK)
				goto bad;
			cfg->allow_origin[cfg->n_allow_origin++] = optarg;
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (!cfg->data_dir || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "veilled: invalid value for --%s: %s\n", opts[idx].name, optarg);
	usage(stderr);
	return -1;
}
