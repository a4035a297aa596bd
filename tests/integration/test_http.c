/*
 * Integration: veilled's HTTP answers, as a browser gets them: the web app's files with their
 * content types, cache and security headers, gzip-compressed or not, /config.js, /signout,
 * 404s, path traversal, and the Origin check of the /sync handshake (default and
 * --allow-origin).
 *
 * A real veilled on a loopback port serves a small web directory made by the test (an
 * index.html, hashed assets, one file per content type, gzip twins as the web build writes
 * them; a secret file beside the directory for the traversal attempts). The requests are written by hand on plain sockets, byte for
 * byte as the test means them: an HTTP library would normalise the hostile ones (dot
 * segments, a bad Host) before they left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define TILES "https://tiles.example.org/osm/{z}/{x}/{y}.png"
#define TILES_ORIGIN "https://tiles.example.org"
#define ATTRIBUTION "© les contributeurs \"OpenStreetMap\" <ODbL>"
#define SECRET "the-secret-beside-the-web-directory"
#define HASHED_JS "app-7QZ4K2MB.js"
#define HASHED_CSS "app-Q2W3E4R5.css"
#define SUB_INDEX "<p>sous-dossier</p>\n"
#define MAX_HEAD 16384
#define MAX_BODY 65536

/* gzip -9 of HASHED_JS's text and of SUB_INDEX (Python's gzip.compress, mtime 0): the twins
 * the web build writes. veilled sends them as they are. */
static const unsigned char gz_js[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0xcc, 0x2d, 0xc8, 0x2f, 0x2a,
	0x51, 0x48, 0xce, 0xcf, 0x4b, 0xcb, 0x4c, 0x57, 0x48, 0x2b, 0xca, 0xcf, 0x55, 0x50, 0xd7, 0x87,
	0xf0, 0xf4, 0xb2, 0x8a, 0xd5, 0xad, 0xb9, 0x00, 0xa3, 0x83, 0x3d, 0x41, 0x21, 0x00, 0x00, 0x00,
};
static const unsigned char gz_sub_index[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xb3, 0x29, 0xb0, 0x2b, 0xce, 0x2f,
	0x2d, 0xd6, 0x4d, 0xc9, 0x2f, 0x2e, 0xce, 0x4c, 0x2d, 0xb2, 0xd1, 0x2f, 0xb0, 0xe3, 0x02, 0x00,
	0x61, 0x5c, 0x54, 0xe6, 0x14, 0x00, 0x00, 0x00,
};

struct fixture {
	struct hx_env *e;
	char web[PATH_MAX];
	char host[64]; /* 127.0.0.1:PORT, as a browser sends it */
};

/* ---- a small HTTP/1.1 client ---- */

struct resp {
	int status; /* 0: no answer (connection closed or timed out) */
	char head[MAX_HEAD];
	char body[MAX_BODY + 1];
	size_t body_len;
};

static int connect_local(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads into buf until want bytes are there, the peer closes or the time runs out. */
static ssize_t read_some(int fd, char *buf, size_t cap, size_t have, uint64_t deadline)
{
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;
	int left = (int)(deadline - hx_mono_ms());

	if (left <= 0 || poll(&p, 1, left) <= 0)
		return -1;
	n = read(fd, buf + have, cap - have);
	return n;
}

/* The value of header name (case ignored) in r->head, copied into out; the n-th (0-based)
 * occurrence. 0, or -1 if absent. */
static int header_nth(const struct resp *r, const char *name, int nth, char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *line = strstr(r->head, "\r\n");

	while (line && line[2] != '\r' && line[2] != '\0') {
		const char *start = line + 2, *end = strstr(start, "\r\n");

		if (!end)
			break;
		if (!strncasecmp(start, name, nl) && start[nl] == ':' && nth-- == 0) {
			const char *v = start + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(out, size, "%.*s", (int)(end - v), v);
			return 0;
		}
		line = end;
	}
	return -1;
}

static int header(const struct resp *r, const char *name, char *out, size_t size)
{
	return header_nth(r, name, 0, out, size);
}

static int header_count(const struct resp *r, const char *name)
{
	char scratch[8];
	int n = 0;

	while (header_nth(r, name, n, scratch, sizeof scratch) == 0)
		n++;
	return n;
}

/* Sends raw (a whole request) and reads one answer: the head, then Content-Length bytes of
 * body (none for HEAD, 1xx, 204, 304). Returns 0 if a status line came back. */
static int exchange(int port, const char *raw, int head_request, struct resp *r)
{
	uint64_t deadline = hx_mono_ms() + HX_TIMEOUT_MS;
	char buf[MAX_HEAD + MAX_BODY], cl[32];
	size_t have = 0, want;
	char *end = NULL;
	int fd = connect_local(port);

	memset(r, 0, sizeof *r);
	if (fd < 0)
		return -1;
	if (write(fd, raw, strlen(raw)) != (ssize_t)strlen(raw))
		goto fail;
	while (!end) {
		ssize_t n = read_some(fd, buf, MAX_HEAD - 1, have, deadline);

		if (n <= 0)
			goto fail;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	snprintf(r->head, sizeof r->head, "%.*s", (int)(end + 4 - buf), buf);
	if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
		goto fail;
	want = 0;
	if (!head_request && r->status >= 200 && r->status != 204 && r->status != 304 &&
	    header(r, "Content-Length", cl, sizeof cl) == 0)
		want = strtoul(cl, NULL, 10);
	if (want > MAX_BODY)
		goto fail;
	have -= (size_t)(end + 4 - buf);
	memmove(buf, end + 4, have);
	while (have < want) {
		ssize_t n = read_some(fd, buf, sizeof buf, have, deadline);

		if (n <= 0)
			goto fail;
		have += (size_t)n;
	}
	memcpy(r->body, buf, want);
	r->body[want] = '\0';
	r->body_len = want;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

/* method path with the fixture's Host and an Accept-Encoding (NULL: none). */
static void request_ae(struct fixture *f, const char *method, const char *path, const char *ae,
		       struct resp *r)
{
	char req[1024], h[256] = "";

	if (ae)
		snprintf(h, sizeof h, "Accept-Encoding: %s\r\n", ae);
	snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n",
		 method, path, f->host, h);
	assert_int_equal(exchange(f->e->port, req, !strcmp(method, "HEAD"), r), 0);
}

/* GET path with the fixture's Host. */
static void get(struct fixture *f, const char *path, struct resp *r)
{
	request_ae(f, "GET", path, NULL, r);
}

/* The /sync handshake of a browser, with origin (NULL: no Origin header, as native clients). */
static void handshake(struct fixture *f, const char *origin, struct resp *r)
{
	char req[1024], o[512] = "";

	if (origin)
		snprintf(o, sizeof o, "Origin: %s\r\n", origin);
	snprintf(req, sizeof req,
		 "GET /sync HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
		 "Sec-WebSocket-Protocol: veille.v1\r\n%s\r\n",
		 f->host, o);
	assert_int_equal(exchange(f->e->port, req, 0, r), 0);
}

/* ---- expectations ---- */

static void expected_csp(const char *host, char *out, size_t size)
{
	snprintf(out, size,
		 "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
		 "img-src 'self' data: " TILES_ORIGIN "; worker-src 'self'; connect-src %s; "
		 "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
		 host);
}

static void assert_header(const struct resp *r, const char *name, const char *want)
{
	char v[2048];

	if (header(r, name, v, sizeof v) != 0)
		fail_msg("no %s header in:\n%s", name, r->head);
	if (strcmp(v, want) != 0)
		fail_msg("%s: \"%s\", expected \"%s\"", name, v, want);
	if (header_count(r, name) != 1)
		fail_msg("%s sent %d times", name, header_count(r, name));
}

/* Every answer: the fixed headers and the CSP whose connect-src is the fixture's Host. */
static void assert_security_headers(struct fixture *f, const struct resp *r)
{
	char csp[2048], connect[256];

	snprintf(connect, sizeof connect, "ws://%s/sync wss://%s/sync", f->host, f->host);
	expected_csp(connect, csp, sizeof csp);
	assert_header(r, "Content-Security-Policy", csp);
	assert_header(r, "X-Content-Type-Options", "nosniff");
	assert_header(r, "Referrer-Policy", "no-referrer");
	assert_header(r, "X-Frame-Options", "DENY");
	assert_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

/* ---- fixture ---- */

static void write_bytes(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX + 64];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	write_bytes(dir, name, text, strlen(text));
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char sub[PATH_MAX + 8];

	*state = f;
	if (!f || !(f->e = hx_env_new()))
		return -1;
	snprintf(f->web, sizeof f->web, "%s/web", f->e->tmp);
	if (mkdir(f->web, 0700) != 0)
		return -1;
	write_file(f->web, "index.html",
		   "<!doctype html><html lang=\"fr\"><title>veille</title>"
		   "<script type=\"module\" src=\"/" HASHED_JS "\"></script></html>\n");
	write_file(f->web, HASHED_JS, "import config from '/config.js';\n");
	write_bytes(f->web, HASHED_JS ".gz", gz_js, sizeof gz_js);
	write_file(f->web, HASHED_CSS, "body { margin: 0 }\n");
	write_file(f->web, "app.webmanifest", "{\"name\":\"veille\"}\n");
	write_file(f->web, "libsodium.wasm", "asm");
	write_file(f->web, "worker.mjs", "export {};\n");
	write_file(f->web, "data.json", "{}\n");
	write_file(f->web, "app.js.map", "{}\n");
	write_file(f->web, "icon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
	write_file(f->web, "icon.png", "png");
	write_file(f->web, "favicon.ico", "ico");
	write_file(f->web, "marianne.woff2", "wOF2");
	write_file(f->web, "unknown.xyz", "no type for this one\n");
	write_file(f->e->tmp, "secret.txt", SECRET "\n");
	snprintf(sub, sizeof sub, "%s/sub", f->web);
	if (mkdir(sub, 0700) != 0)
		return -1;
	write_file(sub, "index.html", SUB_INDEX);
	write_bytes(sub, "index.html.gz", gz_sub_index, sizeof gz_sub_index);
	if (hx_server_start(f->e, "--web", f->web, "--tiles", TILES, "--tiles-attribution",
			    ATTRIBUTION, "--lock-seconds", "42", "--maraude-lock-seconds", "9",
			    (char *)NULL))
		return -1;
	snprintf(f->host, sizeof f->host, "127.0.0.1:%d", f->e->port);
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	rc = hx_env_free(f->e); /* a clean exit 0, no sanitizer report */
	free(f);
	return rc;
}

/* ---- the app's files ---- */

static void test_index_html(void **state)
{
	struct fixture *f = *state;
	static const char *const paths[] = {"/", "/index.html", "/?from=signout"};
	struct resp r;

	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		get(f, paths[i], &r);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body, "<title>veille</title>"));
		assert_security_headers(f, &r);
		assert_header(&r, "Content-Type", "text/html; charset=utf-8");
		assert_header(&r, "Cache-Control", "no-store");
	}
}

static void test_hashed_assets(void **state)
{
	struct fixture *f = *state;
	struct resp r;

	get(f, "/" HASHED_JS, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "import config from '/config.js';\n");
	assert_security_headers(f, &r);
	assert_header(&r, "Content-Type", "text/javascript; charset=utf-8");
	assert_header(&r, "Cache-Control", "public, max-age=31536000, immutable");

	get(f, "/" HASHED_CSS, &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(f, &r);
	assert_header(&r, "Content-Type", "text/css; charset=utf-8");
	assert_header(&r, "Cache-Control", "public, max-age=31536000, immutable");

	/* A file without a hash in its name is revalidated at each use. */
	get(f, "/app.webmanifest", &r);
	assert_int_equal(r.status, 200);
	assert_security_headers(f, &r);
	assert_header(&r, "Cache-Control", "no-cache");
}

static void test_content_types(void **state)
{
	struct fixture *f = *state;
	static const char *const table[][2] = {
		{"/index.html", "text/html; charset=utf-8"},
		{"/" HASHED_JS, "text/javascript; charset=utf-8"},
		{"/worker.mjs", "text/javascript; charset=utf-8"},
		{"/" HASHED_CSS, "text/css; charset=utf-8"},
		{"/data.json", "application/json"},
		{"/app.js.map", "application/json"},
		{"/app.webmanifest", "application/manifest+json"},
		{"/libsodium.wasm", "application/wasm"},
		{"/icon.svg", "image/svg+xml"},
		{"/icon.png", "image/png"},
		{"/favicon.ico", "image/x-icon"},
		{"/marianne.woff2", "font/woff2"},
	};
	struct resp r;

	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		get(f, table[i][0], &r);
		if (r.status != 200)
			fail_msg("%s: status %d", table[i][0], r.status);
		assert_header(&r, "Content-Type", table[i][1]);
		assert_security_headers(f, &r);
	}
	/* A file of a type veilled does not know is not served (lws answers 415), so a stray
	 * file in the web directory never goes out as something a browser would guess. */
	get(f, "/unknown.xyz", &r);
	assert_int_equal(r.status, 415);
	assert_header(&r, "X-Content-Type-Options", "nosniff");
}

/* A revalidation lws answers itself (304, If-None-Match) keeps the fixed headers; the CSP
 * stays the one of the answer the browser stored. */
static void test_not_modified(void **state)
{
	struct fixture *f = *state;
	char etag[64], req[512];
	struct resp r;

	get(f, "/app.webmanifest", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(header(&r, "ETag", etag, sizeof etag), 0);
	snprintf(req, sizeof req,
		 "GET /app.webmanifest HTTP/1.1\r\nHost: %s\r\nIf-None-Match: %s\r\n"
		 "Connection: close\r\n\r\n",
		 f->host, etag);
	assert_int_equal(exchange(f->e->port, req, 0, &r), 0);
	assert_int_equal(r.status, 304);
	assert_header(&r, "X-Content-Type-Options", "nosniff");
	assert_header(&r, "Referrer-Policy", "no-referrer");
	assert_header(&r, "X-Frame-Options", "DENY");
	assert_header(&r, "Cross-Origin-Opener-Policy", "same-origin");
}

/* ---- gzip: the web build's twins ---- */

static void assert_body(const struct resp *r, const void *want, size_t len)
{
	char cl[32];

	snprintf(cl, sizeof cl, "%zu", len);
	assert_header(r, "Content-Length", cl);
	assert_int_equal(r->body_len, len);
	assert_memory_equal(r->body, want, len);
}

/* The twin goes out as it is, to a request that accepts gzip, with the file's own type, cache
 * and policy; anything else gets the file. Every answer says it varies with Accept-Encoding. */
static void test_gzip(void **state)
{
	struct fixture *f = *state;
	static const char *const accepting[] = {"gzip, deflate, br, zstd", "gzip", "*", "br;q=1, gzip;q=0.5"};
	/* Refusing, or bad input (a weight out of the grammar): the plain file. */
	static const char *const refusing[] = {NULL, "br", "identity", "gzip;q=0", "*, gzip;q=0",
					       "gzip;q=2", "gzip;level=9"};
	static const char js[] = "import config from '/config.js';\n";
	char plain_etag[64], gz_etag[64], req[512];
	struct resp r;

	for (size_t i = 0; i < sizeof accepting / sizeof *accepting; i++) {
		request_ae(f, "GET", "/" HASHED_JS, accepting[i], &r);
		assert_int_equal(r.status, 200);
		assert_header(&r, "Content-Encoding", "gzip");
		assert_body(&r, gz_js, sizeof gz_js);
		assert_header(&r, "Content-Type", "text/javascript; charset=utf-8");
		assert_header(&r, "Cache-Control", "public, max-age=31536000, immutable");
		assert_header(&r, "Vary", "Accept-Encoding");
		assert_security_headers(f, &r);
	}
	assert_int_equal(header(&r, "ETag", gz_etag, sizeof gz_etag), 0);
	for (size_t i = 0; i < sizeof refusing / sizeof *refusing; i++) {
		request_ae(f, "GET", "/" HASHED_JS, refusing[i], &r);
		assert_int_equal(r.status, 200);
		if (header_count(&r, "Content-Encoding"))
			fail_msg("Accept-Encoding %s: Content-Encoding sent", refusing[i]);
		assert_body(&r, js, strlen(js));
		assert_header(&r, "Vary", "Accept-Encoding");
		assert_security_headers(f, &r);
	}
	assert_int_equal(header(&r, "ETag", plain_etag, sizeof plain_etag), 0);
	assert_string_not_equal(plain_etag, gz_etag);

	/* A directory's index.html, with its twin. */
	request_ae(f, "GET", "/sub/", "gzip", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Encoding", "gzip");
	assert_body(&r, gz_sub_index, sizeof gz_sub_index);
	assert_header(&r, "Content-Type", "text/html; charset=utf-8");
	assert_header(&r, "Cache-Control", "no-store");
	request_ae(f, "GET", "/sub/", NULL, &r);
	assert_body(&r, SUB_INDEX, strlen(SUB_INDEX));

	/* A file without a twin (the build writes none where gzip would be larger). */
	request_ae(f, "GET", "/data.json", "gzip", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(header_count(&r, "Content-Encoding"), 0);
	assert_body(&r, "{}\n", 3);
	assert_header(&r, "Vary", "Accept-Encoding");

	/* HEAD: the twin's headers, no body. */
	request_ae(f, "HEAD", "/" HASHED_JS, "gzip", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Encoding", "gzip");
	snprintf(req, sizeof req, "%zu", sizeof gz_js);
	assert_header(&r, "Content-Length", req);

	/* Revalidation of the compressed copy: 304, saying it varies. */
	snprintf(req, sizeof req,
		 "GET /" HASHED_JS " HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: gzip\r\n"
		 "If-None-Match: %s\r\nConnection: close\r\n\r\n",
		 f->host, gz_etag);
	assert_int_equal(exchange(f->e->port, req, 0, &r), 0);
	assert_int_equal(r.status, 304);
	assert_header(&r, "Vary", "Accept-Encoding");
}

/* ---- /config.js and /signout ---- */

static void test_config_js(void **state)
{
	struct fixture *f = *state;
	char req[512];
	struct resp r;

	get(f, "/config.js", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body,
			    "export default {\"tiles\":\"" TILES "\",\"tilesAttribution\":"
			    "\"© les contributeurs \\\"OpenStreetMap\\\" \\u003cODbL\\u003e\","
			    "\"lockSeconds\":42,\"maraudeLockSeconds\":9};\n");
	assert_security_headers(f, &r);
	assert_header(&r, "Content-Type", "text/javascript; charset=utf-8");
	assert_header(&r, "Cache-Control", "no-store");

	/* HEAD: the same headers, no body. */
	snprintf(req, sizeof req, "HEAD /config.js HTTP/1.1\r\nHost: %s\r\n\r\n", f->host);
	assert_int_equal(exchange(f->e->port, req, 1, &r), 0);
	assert_int_equal(r.status, 200);
	assert_security_headers(f, &r);
	assert_header(&r, "Cache-Control", "no-store");

	/* Bad input: a POST; then a path under /config.js. */
	snprintf(req, sizeof req,
		 "POST /config.js HTTP/1.1\r\nHost: %s\r\nContent-Length: 3\r\n\r\nabc", f->host);
	assert_int_equal(exchange(f->e->port, req, 0, &r), 0);
	assert_int_equal(r.status, 405);
	assert_header(&r, "Allow", "GET, HEAD");
	assert_security_headers(f, &r);
	get(f, "/config.js/x", &r);
	assert_int_equal(r.status, 404);
	assert_security_headers(f, &r);
}

static void test_config_js_defaults(void **state)
{
	struct fixture *f = *state;
	struct hx_env *e = hx_env_new();
	struct resp r;
	char req[256], csp[2048];

	assert_non_null(e);
	assert_int_equal(hx_server_start(e, "--web", f->web, (char *)NULL), 0);
	snprintf(req, sizeof req, "GET /config.js HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
		 e->port);
	assert_int_equal(exchange(e->port, req, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "export default {\"tiles\":null,\"tilesAttribution\":\"\","
				    "\"lockSeconds\":300,\"maraudeLockSeconds\":120};\n");
	/* No tiles: img-src has no other origin. */
	assert_int_equal(header(&r, "Content-Security-Policy", csp, sizeof csp), 0);
	assert_non_null(strstr(csp, "img-src 'self' data:; "));
	assert_int_equal(hx_env_free(e), 0);
}

static void test_signout(void **state)
{
	struct fixture *f = *state;
	struct resp r;

	get(f, "/signout", &r);
	assert_int_equal(r.status, 303);
	assert_int_equal(r.body_len, 0);
	assert_header(&r, "Location", "/");
	assert_header(&r, "Clear-Site-Data", "\"cache\"");
	assert_header(&r, "Cache-Control", "no-store");
	assert_security_headers(f, &r);
}

/* ---- refusals ---- */

static void test_not_found(void **state)
{
	struct fixture *f = *state;
	static const char *const paths[] = {"/nope.js", "/signout/", "/sync", "/web/index.html",
					    "/app-00000000.js"};
	struct resp r;

	/* Bad input: paths that name no file (and /sync without an upgrade). */
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		get(f, paths[i], &r);
		if (r.status != 404)
			fail_msg("%s: status %d", paths[i], r.status);
		assert_security_headers(f, &r);
		assert_header(&r, "Cache-Control", "no-store");
	}
}

static void test_traversal(void **state)
{
	struct fixture *f = *state;
	/* Bad input: requests for secret.txt, which sits in the web directory's parent, by dot
	 * segments plain, percent-encoded (%2e, %2f), mixed and deeper; and a relative path. */
	static const char *const paths[] = {
		"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/..%2fsecret.txt",
		"/%2e%2e%2fsecret.txt", "/.%2e/secret.txt", "/icon.svg/../../secret.txt",
		"/./../secret.txt", "//../secret.txt", "/..\\secret.txt", "../secret.txt",
		"/%252e%252e/secret.txt",
	};
	char req[512];
	struct resp r;

	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
			 paths[i], f->host);
		assert_int_equal(exchange(f->e->port, req, 0, &r), 0);
		/* lws resolves the dot segments inside the web directory (404: no such file
		 * there) and refuses a path that is not absolute (403). */
		if (r.status != (paths[i][0] == '/' ? 404 : 403) || strstr(r.body, SECRET))
			fail_msg("%s: status %d, body %s", paths[i], r.status, r.body);
		assert_header(&r, "X-Content-Type-Options", "nosniff");
	}
}

static void test_bad_host(void **state)
{
	struct fixture *f = *state;
	/* Bad input: Host headers that would add sources to connect-src (a space and '*', a
	 * ';' and another directive, a quote), then none at all (HTTP/1.0). Each gets
	 * connect-src 'none' and the rest of the policy unchanged. */
	static const char *const hosts[] = {"evil.example *", "x;script-src *", "x'", "x/y"};
	char req[512], csp[2048];
	struct resp r;

	expected_csp("'none'", csp, sizeof csp);
	for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
		snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
			 hosts[i]);
		assert_int_equal(exchange(f->e->port, req, 0, &r), 0);
		assert_int_equal(r.status, 200);
		assert_header(&r, "Content-Security-Policy", csp);
	}
	assert_int_equal(exchange(f->e->port, "GET /config.js HTTP/1.0\r\n\r\n", 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Security-Policy", csp);
}

/* ---- the /sync handshake ---- */

static void assert_refused(struct fixture *f, const struct resp *r)
{
	assert_int_equal(r->status, 403);
	assert_security_headers(f, r);
	assert_header(r, "Cache-Control", "no-store");
}

static size_t count_refusals(struct fixture *f, const char *must_not_hold)
{
	uint8_t *log = NULL;
	size_t len = 0, n;

	assert_int_equal(hx_read_file(f->e->log, &log, &len), 0);
	if (must_not_hold)
		assert_null(strstr((char *)log, must_not_hold));
	n = hx_count_lines((char *)log,
			   "veilled: warning: http: refused a WebSocket handshake from an origin");
	free(log);
	return n;
}

static void test_origin_default(void **state)
{
	struct fixture *f = *state;
	char own[96];
	struct resp r;
	struct conn *c;
	size_t before = count_refusals(f, NULL);

	/* Bad input: a page elsewhere opening /sync; the same host on another port; the opaque
	 * origin "null" (a sandboxed frame, a file: page); an Origin over 300 bytes. */
	handshake(f, "https://evil-7f3a.example", &r);
	assert_refused(f, &r);
	snprintf(own, sizeof own, "http://127.0.0.1:%d", f->e->port + 1);
	handshake(f, own, &r);
	assert_refused(f, &r);
	handshake(f, "null", &r);
	assert_refused(f, &r);
	{
		char big[400];

		memset(big, 'a', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		memcpy(big, "http://", 7);
		handshake(f, big, &r);
		assert_refused(f, &r);
	}
	/* One line per refusal, without the origin it names. */
	assert_int_equal(count_refusals(f, "evil-7f3a"), before + 4);

	/* The server's own origin, over http or https (behind a TLS proxy passing Host). */
	snprintf(own, sizeof own, "http://%s", f->host);
	handshake(f, own, &r);
	assert_int_equal(r.status, 101);
	assert_header(&r, "Sec-WebSocket-Protocol", "veille.v1");
	snprintf(own, sizeof own, "https://%s", f->host);
	handshake(f, own, &r);
	assert_int_equal(r.status, 101);
	/* No Origin: a native client. By hand, then with libveille's own connection code. */
	handshake(f, NULL, &r);
	assert_int_equal(r.status, 101);
	c = hx_raw_open(f->e);
	assert_non_null(c);
	conn_close(c);
}

static void test_allow_origin(void **state)
{
	struct fixture *f = *state;
	struct hx_env *e = hx_env_new();
	struct fixture g;
	char own[96];
	struct resp r;

	assert_non_null(e);
	assert_int_equal(hx_server_start(e, "--web", f->web, "--allow-origin",
					 "https://Veille.Example.org/", "--allow-origin",
					 "http://localhost:9999", (char *)NULL),
			 0);
	memset(&g, 0, sizeof g);
	g.e = e;
	snprintf(g.host, sizeof g.host, "127.0.0.1:%d", e->port);
	/* The listed origins, whatever the Host (a TLS proxy may pass its own). */
	handshake(&g, "https://veille.example.org", &r);
	assert_int_equal(r.status, 101);
	handshake(&g, "http://localhost:9999", &r);
	assert_int_equal(r.status, 101);
	handshake(&g, NULL, &r);
	assert_int_equal(r.status, 101);
	/* Bad input: the server's own origin, no longer enough once a list is given; a listed
	 * origin with another scheme; a longer host ending like a listed one. */
	snprintf(own, sizeof own, "http://%s", g.host);
	handshake(&g, own, &r);
	assert_int_equal(r.status, 403);
	handshake(&g, "http://veille.example.org", &r);
	assert_int_equal(r.status, 403);
	handshake(&g, "https://veille.example.org.evil.example", &r);
	assert_int_equal(r.status, 403);
	assert_int_equal(hx_env_free(e), 0);
}

/* veilled refuses to start with a setting of the web app it cannot use safely. */
static void test_bad_settings(void **state)
{
	struct fixture *f = *state;
	/* Bad input, one per run: tiles on {s} subdomains (img-src would need a wildcard),
	 * tiles over javascript:, tiles missing {y}, an allowed origin with a path, one with
	 * user info, an attribution that is not UTF-8, a lock of 0 s. */
	static const char *const bad[][2] = {
		{"--tiles", "https://{s}.tile.example.org/{z}/{x}/{y}.png"},
		{"--tiles", "javascript:alert(1)//{z}/{x}/{y}"},
		{"--tiles", "https://tile.example.org/{z}/{x}.png"},
		{"--allow-origin", "https://veille.example.org/app"},
		{"--allow-origin", "https://user@veille.example.org"},
		{"--tiles-attribution", "\xff\xfe"},
		{"--lock-seconds", "0"},
		{"--maraude-lock-seconds", "86401"},
	};
	struct hx_out out;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(hx_server_run_once(f->e, 10000, &out, "--web", f->web, bad[i][0],
						    bad[i][1], (char *)NULL),
				 0);
		if (out.status != 2 || !strstr(out.err, "invalid value for"))
			fail_msg("%s %s: status %d, stderr %s", bad[i][0], bad[i][1], out.status,
				 out.err);
		hx_out_free(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_html),
		cmocka_unit_test(test_hashed_assets),
		cmocka_unit_test(test_content_types),
		cmocka_unit_test(test_not_modified),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_config_js),
		cmocka_unit_test(test_config_js_defaults),
		cmocka_unit_test(test_signout),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_traversal),
		cmocka_unit_test(test_bad_host),
		cmocka_unit_test(test_origin_default),
		cmocka_unit_test(test_allow_origin),
		cmocka_unit_test(test_bad_settings),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
