/* http: see http.h.
 *
 * Every header value we build from a request (the Host in connect-src) or from the command
 * line (the tiles' origin in img-src, the origins of --allow-origin) passes a whitelist of
 * characters first: a value that could end a directive (';'), a header (CR, LF) or a source
 * list (' ', ',') is refused, never escaped. */
#include "http.h"

#include "codec.h"
#include "config.h"
#include "log.h"

#include <fcntl.h>
#include <libwebsockets.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

const char *http_strerror(int rc)
{
	switch (rc) {
	case HTTP_OK: return "ok";
	case HTTP_EINVAL: return "invalid value";
	case HTTP_ETOOLONG: return "too long";
	case HTTP_ENOMEM: return "out of memory";
	default: return "unknown error";
	}
}

/* ---- hosts and origins ---- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 1 if the len bytes at s are "host[:port]": a name of [A-Za-z0-9.-] not starting with '.'
 * or '-', or "[" hex digits, ':' and '.' "]"; a port of 1 to 5 digits, 1 to 65535. */
static int authority_valid(const char *s, size_t len)
{
	size_t i = 0, start;
	unsigned long port = 0;

	if (len == 0 || len > HTTP_HOST_MAX)
		return 0;
	if (s[0] == '[') {
		for (i = 1; i < len && s[i] != ']'; i++)
			if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.')
				return 0;
		if (i == len || i < 3) /* no ']', or "[]" / "[x]" */
			return 0;
		i++;
	} else {
		if (s[0] == '.' || s[0] == '-')
			return 0;
		for (; i < len && s[i] != ':'; i++)
			if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-')
				return 0;
		if (i == 0)
			return 0;
	}
	if (i == len)
		return 1;
	if (s[i] != ':')
		return 0;
	start = ++i;
	for (; i < len; i++) {
		if (!is_digit(s[i]))
			return 0;
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	return i - start >= 1 && i - start <= 5 && port >= 1 && port <= 65535;
}

int http_host_valid(const char *host)
{
	return host && authority_valid(host, strlen(host));
}

/* Parses "http(s)://host[:port]" followed by rest (the remaining bytes, may be empty);
 * writes the origin lower-cased into out. HTTP_EINVAL or HTTP_ETOOLONG. */
static int split_origin(const char *in, char *out, size_t size, const char **rest)
{
	size_t skip, alen, n;
	const char *a, *end;

	if (!strncasecmp(in, "https://", 8))
		skip = 8;
	else if (!strncasecmp(in, "http://", 7))
		skip = 7;
	else
		return HTTP_EINVAL;
	a = in + skip;
	end = a + strcspn(a, "/?#");
	alen = (size_t)(end - a);
	if (!authority_valid(a, alen))
		return HTTP_EINVAL;
	n = skip + alen;
	if (n + 1 > size || n > HTTP_ORIGIN_MAX)
		return HTTP_ETOOLONG;
	for (size_t i = 0; i < n; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
	out[n] = '\0';
	*rest = end;
	return HTTP_OK;
}

int http_origin_parse(const char *in, char *out, size_t size)
{
	const char *rest;
	int rc;

	if (!in)
		return HTTP_EINVAL;
	rc = split_origin(in, out, size, &rest);
	if (rc != HTTP_OK)
		return rc;
	if (rest[0] == '\0' || (rest[0] == '/' && rest[1] == '\0'))
		return HTTP_OK;
	return HTTP_EINVAL;
}

/* 1 if origin (case ignored) is scheme + host. */
static int origin_is(const char *origin, const char *scheme, const char *host)
{
	size_t s = strlen(scheme);

	return !strncasecmp(origin, scheme, s) && !strcasecmp(origin + s, host);
}

int http_origin_allowed(const char *origin, const char *host, const char *const *allowed,
			size_t n)
{
	if (!origin || strlen(origin) > HTTP_ORIGIN_MAX)
		return 0;
	if (n > 0) {
		for (size_t i = 0; i < n; i++)
			if (allowed[i] && !strcasecmp(origin, allowed[i]))
				return 1;
		return 0;
	}
	if (!http_host_valid(host))
		return 0;
	return origin_is(origin, "http://", host) || origin_is(origin, "https://", host);
}

/* ---- the Content-Security-Policy ---- */

static const char *basename_of(const char *path);

/* The maraude app (/maraude/...) and any service worker's script: connect-src adds 'self'.
 * A service worker's CSP governs its own fetches, and precaching fetches the app's files;
 * Chromium fetches a page's manifest icons (installability) under the page's connect-src.
 * The desk's pages keep connect-src limited to /sync. */
int http_is_service_worker(const char *path)
{
	return path && (!strncmp(path, "/maraude/", 9) || !strcmp(basename_of(path), "sw.js"));
}

static int csp_build(char *out, size_t size, const char *host, const char *img_origin, int worker)
{
	char check[HTTP_ORIGIN_MAX + 1], connect[2 * HTTP_HOST_MAX + 40];
	int n;

	if (img_origin && *img_origin &&
	    (http_origin_parse(img_origin, check, sizeof(check)) != HTTP_OK ||
	     strcmp(check, img_origin) != 0))
		return HTTP_EINVAL;
	if (http_host_valid(host))
		snprintf(connect, sizeof(connect), "%sws://%s/sync wss://%s/sync", worker ? "'self' " : "", host, host);
	else
		snprintf(connect, sizeof(connect), "%s", worker ? "'self'" : "'none'");
	n = snprintf(out, size,
		     "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
		     "img-src 'self' data:%s%s; worker-src 'self'; connect-src %s; "
		     "object-src 'none'; base-uri 'none'; form-action 'self'; "
		     "frame-ancestors 'none'",
		     img_origin && *img_origin ? " " : "", img_origin ? img_origin : "", connect);
	if (n < 0 || (size_t)n >= size)
		return HTTP_ETOOLONG;
	return HTTP_OK;
}

int http_csp(char *out, size_t size, const char *host, const char *img_origin)
{
	return csp_build(out, size, host, img_origin, 0);
}

int http_csp_path(char *out, size_t size, const char *host, const char *img_origin, const char *path)
{
	return csp_build(out, size, host, img_origin, http_is_service_worker(path));
}

/* ---- caching ---- */

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int http_is_hashed(const char *path)
{
	const char *name = basename_of(path), *dash = NULL;
	size_t i;

	/* The hash is the 8 characters after the last '-' that is followed by 8 of [A-Z0-9]
	 * and a '.': find the first '.' after such a dash. */
	for (const char *p = name; *p; p++) {
		if (*p != '-' || p == name)
			continue;
		for (i = 1; i <= 8; i++)
			if (!(is_digit(p[i]) || (p[i] >= 'A' && p[i] <= 'Z')))
				break;
		if (i == 9 && p[9] == '.')
			dash = p;
	}
	if (!dash || !dash[10])
		return 0;
	for (const char *e = dash + 10; *e; e++)
		if (!is_alnum(*e) && *e != '.')
			return 0;
	return 1;
}

const char *http_cache_control(const char *path)
{
	const char *name;

	if (!path || !*path)
		return HTTP_CACHE_NONE;
	name = basename_of(path);
	if (!*name || !strcmp(name, "index.html"))
		return HTTP_CACHE_NONE;
	if (http_is_hashed(name))
		return HTTP_CACHE_IMMUTABLE;
	return HTTP_CACHE_REVALIDATE;
}

/* ---- precompressed files ---- */

/* RFC 9110's tchar: the characters of a token. */
static int is_tchar(char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads the qvalue of a weight at *p (RFC 9110: "0" ["." 0*3DIGIT] or "1" ["." 0*3"0"]);
 * *zero is 1 for a weight of 0. Returns 0, or -1 if it is not one. */
static int parse_qvalue(const char **p, int *zero)
{
	const char *s = *p;
	int one = *s == '1', n = 0;

	if (*s != '0' && *s != '1')
		return -1;
	*zero = !one;
	if (*++s == '.') {
		for (s++; is_digit(*s); s++, n++) {
			if (n == 3 || (one && *s != '0'))
				return -1;
			if (*s != '0')
				*zero = 0;
		}
	}
	*p = s;
	return 0;
}

int http_accepts_gzip(const char *accept_encoding)
{
	const char *p = accept_encoding;
	int gzip = -1, star = 0; /* gzip: -1 not named, 0 refused, 1 accepted */

	if (!p)
		return 0;
	for (;;) {
		const char *name;
		size_t len;
		int zero = 0;

		while (*p == ' ' || *p == '\t' || *p == ',') /* empty list elements are allowed */
			p++;
		if (!*p)
			break;
		for (name = p; is_tchar(*p); p++)
			;
		len = (size_t)(p - name);
		p = skip_ows(p);
		if (*p == ';') {
			p = skip_ows(p + 1);
			if ((*p != 'q' && *p != 'Q') || p[1] != '=')
				return 0;
			p += 2;
			if (parse_qvalue(&p, &zero))
				return 0;
			p = skip_ows(p);
		}
		if (!len || (*p && *p != ','))
			return 0;
		if ((len == 4 && !strncasecmp(name, "gzip", 4)) ||
		    (len == 6 && !strncasecmp(name, "x-gzip", 6)))
			gzip = gzip != 0 && !zero;
		else if (len == 1 && *name == '*')
			star = !zero;
	}
	return gzip >= 0 ? gzip : star;
}

int http_gzip_file(const char *path, char *out, size_t size)
{
	struct stat st;
	int n;

	if (!path)
		return 0;
	n = snprintf(out, size, "%s.gz", path);
	return n > 0 && (size_t)n < size && stat(out, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- tiles ---- */

int http_tiles_origin(const char *tmpl, char *origin, size_t size)
{
	static const char *const placeholders[] = {"{z}", "{x}", "{y}", "{-y}", "{r}"};
	const char *path, *p;
	int seen[5] = {0};
	int rc;

	if (!tmpl)
		return HTTP_EINVAL;
	if (strlen(tmpl) > HTTP_TILES_MAX)
		return HTTP_ETOOLONG;
	rc = split_origin(tmpl, origin, size, &path);
	if (rc != HTTP_OK)
		return rc;
	if (path[0] != '/')
		return HTTP_EINVAL;
	for (p = path; *p; p++) {
		size_t k;

		if (*p < 0x21 || *p > 0x7e || strchr("\"'\\<>`", *p))
			return HTTP_EINVAL;
		if (*p == '}')
			return HTTP_EINVAL; /* a '}' outside a placeholder */
		if (*p != '{')
			continue;
		for (k = 0; k < 5; k++)
			if (!strncmp(p, placeholders[k], strlen(placeholders[k])))
				break;
		if (k == 5)
			return HTTP_EINVAL; /* {s} and any other variable */
		seen[k] = 1;
		p += strlen(placeholders[k]) - 1;
	}
	if (!seen[0] || !seen[1] || !(seen[2] || seen[3]))
		return HTTP_EINVAL;
	return HTTP_OK;
}

/* ---- /config.js ---- */

size_t http_json_string(char *out, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

#define PUT(c)                                  \
	do {                                    \
		if (o + 1 >= size)              \
			return 0;               \
		out[o++] = (c);                 \
	} while (0)
#define PUT_U(cp)                               \
	do {                                    \
		PUT('\\');                      \
		PUT('u');                       \
		PUT(hex[((cp) >> 12) & 15]);    \
		PUT(hex[((cp) >> 8) & 15]);     \
		PUT(hex[((cp) >> 4) & 15]);     \
		PUT(hex[(cp) & 15]);            \
	} while (0)

	PUT('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) {
			PUT_U(c);
		} else if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
			   ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
			/* U+2028, U+2029: line terminators in older JavaScript strings */
			PUT_U((unsigned)(0x2000 | (unsigned char)s[i + 2]) - 0x80);
			i += 2;
		} else {
			PUT((char)c);
		}
	}
	PUT('"');
	out[o] = '\0';
	return o;
#undef PUT_U
#undef PUT
}

int http_config_js(char *out, size_t size, size_t *len, const char *tiles,
		   const char *attribution, unsigned lock_seconds, unsigned maraude_lock_seconds)
{
	char t[6 * HTTP_TILES_MAX + 3], a[6 * HTTP_ATTRIBUTION_MAX + 3];
	size_t alen = attribution ? strlen(attribution) : 0;
	int n;

	if (lock_seconds == 0 || lock_seconds > HTTP_LOCK_SECONDS_MAX ||
	    maraude_lock_seconds == 0 || maraude_lock_seconds > HTTP_LOCK_SECONDS_MAX)
		return HTTP_EINVAL;
	if ((tiles && strlen(tiles) > HTTP_TILES_MAX) || alen > HTTP_ATTRIBUTION_MAX)
		return HTTP_ETOOLONG;
	if (alen && !codec_utf8_valid(attribution, alen))
		return HTTP_EINVAL;
	if (tiles) {
		if (!codec_utf8_valid(tiles, strlen(tiles)) ||
		    !http_json_string(t, sizeof(t), tiles, strlen(tiles)))
			return HTTP_EINVAL;
	} else {
		snprintf(t, sizeof(t), "null");
	}
	if (!http_json_string(a, sizeof(a), attribution ? attribution : "", alen))
		return HTTP_EINVAL;
	n = snprintf(out, size,
		     "export default {\"tiles\":%s,\"tilesAttribution\":%s,\"lockSeconds\":%u,"
		     "\"maraudeLockSeconds\":%u};\n",
		     t, a, lock_seconds, maraude_lock_seconds);
	if (n < 0 || (size_t)n >= size)
		return HTTP_ETOOLONG;
	*len = (size_t)n;
	return HTTP_OK;
}

/* ---- serving (libwebsockets) ---- */

/* Content types, looked up before lws' own table (which lacks .mjs, .webmanifest, .wasm and
 * .map, says application/font-woff2 for .woff2 and gives text types no charset). lws answers
 * 415 for a file whose type is in neither. */
static const struct lws_protocol_vhost_options mimetypes[] = {
	{&mimetypes[1], NULL, ".html", "text/html; charset=utf-8"},
	{&mimetypes[2], NULL, ".js", "text/javascript; charset=utf-8"},
	{&mimetypes[3], NULL, ".mjs", "text/javascript; charset=utf-8"},
	{&mimetypes[4], NULL, ".css", "text/css; charset=utf-8"},
	{&mimetypes[5], NULL, ".json", "application/json"},
	{&mimetypes[6], NULL, ".map", "application/json"},
	{&mimetypes[7], NULL, ".geojson", "application/geo+json"},
	{&mimetypes[8], NULL, ".webmanifest", "application/manifest+json"},
	{&mimetypes[9], NULL, ".wasm", "application/wasm"},
	{&mimetypes[10], NULL, ".svg", "image/svg+xml"},
	{&mimetypes[11], NULL, ".png", "image/png"},
	{&mimetypes[12], NULL, ".ico", "image/x-icon"},
	{&mimetypes[13], NULL, ".woff2", "font/woff2"},
	{&mimetypes[14], NULL, ".woff", "font/woff"},
	{NULL, NULL, ".txt", "text/plain; charset=utf-8"},
};

/* The headers that do not depend on the request: lws adds them to every answer it starts
 * with a status line, its own (404, 403, 304, 415...) included. */
static const struct lws_protocol_vhost_options fixed_headers[] = {
	{&fixed_headers[1], NULL, "X-Content-Type-Options:", "nosniff"},
	{&fixed_headers[2], NULL, "Referrer-Policy:", "no-referrer"},
	{&fixed_headers[3], NULL, "X-Frame-Options:", "DENY"},
	{&fixed_headers[4], NULL, "Cross-Origin-Opener-Policy:", "same-origin"},
	/* A file may go out gzip-compressed or not, by the request's Accept-Encoding: caches
	 * keep the two apart. */
	{NULL, NULL, "Vary:", "Accept-Encoding"},
};

#define HEAD_MAX 4096 /* the headers of one dynamic answer */
#define BODY_MAX 8192 /* the body of one dynamic answer */

struct http {
	const struct config *cfg;
	char img_origin[HTTP_ORIGIN_MAX + 1]; /* the tiles' origin, "" without tiles */
	char config_js[HTTP_CONFIG_JS_MAX];
	size_t config_js_len;
	char allow[CONFIG_MAX_ORIGINS][HTTP_ORIGIN_MAX + 1];
	const char *allow_list[CONFIG_MAX_ORIGINS];
	size_t n_allow;
	struct lws_http_mount mounts[3];
	/* lws' file operations with open_file as open (http_files), and what it needs */
	struct lws_plat_file_ops fops;
	lws_fop_fd_t (*platform_open)(const struct lws_plat_file_ops *fops, const char *filename,
				      const char *vpath, lws_fop_flags_t *flags);
	/* The request being served accepts gzip: set in LWS_CALLBACK_CHECK_ACCESS_RIGHTS, read by
	 * the open_file calls lws makes for that request right after, in the same call (lws
	 * serves from one thread). */
	int gzip;
};

_Static_assert(HTTP_CONFIG_JS_MAX <= BODY_MAX, "/config.js fits one write");

/* The dynamic answers. */
enum route { ROUTE_NONE, ROUTE_CONFIG, ROUTE_SIGNOUT, ROUTE_NOT_FOUND, ROUTE_METHOD,
	     ROUTE_FORBIDDEN };

/* Per HTTP request (lws' per-session data of the "http" protocol, zeroed at each bind). */
struct http_req {
	unsigned char route;     /* enum route; ROUTE_NONE: no answer of ours pending */
	unsigned char head_only; /* HEAD: headers only */
	unsigned char headers_sent;
	char host[HTTP_HOST_MAX + 1]; /* the Host header, "" if absent or too long */
};

struct answer {
	unsigned status;
	const char *type; /* NULL: no body */
	const char *body;
	size_t len;
	int close; /* hang up once written (the request may have a body we did not read) */
};

static void answer_for(const struct http *h, enum route route, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	switch (route) {
	case ROUTE_CONFIG:
		a->status = HTTP_STATUS_OK;
		a->type = "text/javascript; charset=utf-8";
		a->body = h->config_js;
		a->len = h->config_js_len;
		break;
	case ROUTE_SIGNOUT:
		a->status = HTTP_STATUS_SEE_OTHER;
		break;
	case ROUTE_METHOD:
		a->status = HTTP_STATUS_METHOD_NOT_ALLOWED;
		a->type = "text/plain; charset=utf-8";
		a->body = "method not allowed\n";
		a->close = 1;
		break;
	case ROUTE_FORBIDDEN:
		a->status = HTTP_STATUS_FORBIDDEN;
		a->type = "text/plain; charset=utf-8";
		a->body = "origin not allowed\n";
		break;
	case ROUTE_NONE:
	case ROUTE_NOT_FOUND:
	default:
		a->status = HTTP_STATUS_NOT_FOUND;
		a->type = "text/plain; charset=utf-8";
		a->body = "not found\n";
		break;
	}
	if (a->body && !a->len)
		a->len = strlen(a->body);
}

static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
		      unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					   (const unsigned char *)value, (int)strlen(value), p, end);
}

/* The per-request headers: the CSP, whose connect-src names the request's Host, and the
 * cache. The fixed ones come from lws (fixed_headers). */
static int add_policy(struct lws *wsi, const struct http *h, const char *host, const char *path,
		      const char *cache, unsigned char **p, unsigned char *end)
{
	char csp[HTTP_CSP_MAX];

	if (http_csp_path(csp, sizeof(csp), host, h->img_origin, path) != HTTP_OK)
		return -1;
	if (add_header(wsi, "Content-Security-Policy:", csp, p, end) ||
	    add_header(wsi, "Cache-Control:", cache, p, end))
		return -1;
	return 0;
}

static void read_host(struct lws *wsi, char *host, size_t size)
{
	if (lws_hdr_copy(wsi, host, (int)size, WSI_TOKEN_HOST) <= 0)
		host[0] = '\0';
}

/* Writes the status line and headers of a dynamic answer. 0, or -1: hang up. */
static int write_head(struct lws *wsi, const struct http *h, const char *host,
		      enum route route, const struct answer *a)
{
	unsigned char buf[LWS_PRE + HEAD_MAX], *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof(buf);

	if (lws_add_http_common_headers(wsi, a->status, a->type, a->len, &p, end) ||
	    add_policy(wsi, h, host, NULL, HTTP_CACHE_NONE, &p, end))
		return -1;
	/* Sign-out: the browser drops its HTTP cache of this origin (not its storage: on a
	 * shared terminal the other professionals' wrapped keys stay; the app deletes what it
	 * wrote itself), then loads the app again. */
	if (route == ROUTE_SIGNOUT &&
	    (add_header(wsi, "Location:", "/", &p, end) ||
	     add_header(wsi, "Clear-Site-Data:", "\"cache\"", &p, end)))
		return -1;
	if (route == ROUTE_METHOD && add_header(wsi, "Allow:", "GET, HEAD", &p, end))
		return -1;
	if (a->close && add_header(wsi, "Connection:", "close", &p, end))
		return -1;
	return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

/* Writes the body of a dynamic answer in one lws_write. 0, or -1: hang up. */
static int write_body(struct lws *wsi, const struct answer *a)
{
	unsigned char buf[LWS_PRE + BODY_MAX];

	if (a->len > BODY_MAX)
		return -1;
	memcpy(buf + LWS_PRE, a->body, a->len);
	if (lws_write(wsi, buf + LWS_PRE, a->len, LWS_WRITE_HTTP_FINAL) < (int)a->len)
		return -1;
	return 0;
}

static int accepts_gzip(struct lws *wsi)
{
	char ae[HTTP_ACCEPT_ENCODING_MAX + 1];

	return lws_hdr_copy(wsi, ae, sizeof(ae), WSI_TOKEN_HTTP_ACCEPT_ENCODING) > 0 &&
	       http_accepts_gzip(ae);
}

/* lws' open of a file, for every file it serves from --web: the precompressed twin
 * (http_gzip_file) when the request accepts gzip, flagged so that lws says Content-Encoding:
 * gzip; the Content-Length and the ETag are then the twin's, the Content-Type and the rest
 * still the file's (lws reads them from the name it asked for). lws asks for a directory
 * first ("maraude/"), then for its index.html: a directory has no twin. */
static lws_fop_fd_t open_file(const struct lws_plat_file_ops *fops, const char *filename,
			      const char *vpath, lws_fop_flags_t *flags)
{
	struct http *h = (struct http *)((const char *)fops - offsetof(struct http, fops));
	char gz[PATH_MAX];
	lws_fop_flags_t f = *flags | LWS_FOP_FLAG_COMPR_ACCEPTABLE_GZIP | LWS_FOP_FLAG_COMPR_IS_GZIP;
	lws_fop_fd_t fd;

	if (h->gzip && (*flags & LWS_FOP_FLAGS_MASK) == LWS_O_RDONLY &&
	    http_gzip_file(filename, gz, sizeof(gz))) {
		fd = h->platform_open(fops, gz, vpath, &f);
		if (fd) {
			fd->flags = *flags = f;
			return fd;
		}
	}
	return h->platform_open(fops, filename, vpath, flags);
}

/* LWS_CALLBACK_HTTP: a request for /config.js or /signout, for a file that is not there, or
 * with a method the file mount does not serve. Decides the answer; it leaves from
 * LWS_CALLBACK_HTTP_WRITEABLE. */
static int on_request(struct lws *wsi, struct http_req *r)
{
	char *uri = NULL;
	int len = 0, meth = lws_http_get_uri_and_method(wsi, &uri, &len);

	memset(r, 0, sizeof(*r));
	read_host(wsi, r->host, sizeof(r->host));
	if (meth != LWSHUMETH_GET && meth != LWSHUMETH_HEAD)
		r->route = ROUTE_METHOD;
	else if (len == 10 && !memcmp(uri, "/config.js", 10))
		r->route = ROUTE_CONFIG;
	else if (len == 8 && !memcmp(uri, "/signout", 8))
		r->route = ROUTE_SIGNOUT;
	else
		r->route = ROUTE_NOT_FOUND;
	r->head_only = meth == LWSHUMETH_HEAD;
	lws_callback_on_writable(wsi);
	return 0;
}

/* LWS_CALLBACK_HTTP_WRITEABLE: the headers, then (at the next one) the body. */
static int on_writable(struct lws *wsi, const struct http *h, struct http_req *r)
{
	struct answer a;

	answer_for(h, (enum route)r->route, &a);
	if (!r->headers_sent) {
		if (write_head(wsi, h, r->host, (enum route)r->route, &a))
			return -1;
		r->headers_sent = 1;
		if (a.len && !r->head_only) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	} else if (write_body(wsi, &a)) {
		return -1;
	}
	r->route = ROUTE_NONE;
	if (a.close || lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: a browser's WebSocket handshake must come from an
 * allowed origin (http.h, http_origin_allowed); without an Origin header it is a native
 * client (libveille, the CLI), accepted as before. Returns 0 to go on, 1 once a 403 was
 * written, -1 to hang up. The 403 is written here, not from a WRITEABLE callback: lws asks
 * for the refusal's answer before this callback returns. */
static int on_upgrade(struct lws *wsi, const struct http *h, const char *upgrade)
{
	char origin[HTTP_ORIGIN_MAX + 2], host[HTTP_HOST_MAX + 1];
	struct answer a;

	if (!upgrade || strcasecmp(upgrade, "websocket") != 0)
		return 0;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) == 0)
		return 0;
	read_host(wsi, host, sizeof(host));
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) > 0 &&
	    http_origin_allowed(origin, host, h->allow_list, h->n_allow))
		return 0;
	/* No value in the line: an origin is chosen by whoever sends it. */
	log_warn("http: refused a WebSocket handshake from an origin not allowed "
		 "(--allow-origin)");
	answer_for(h, ROUTE_FORBIDDEN, &a);
	if (write_head(wsi, h, host, ROUTE_FORBIDDEN, &a) || write_body(wsi, &a))
		return -1;
	return 1;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	const struct lws_protocols *proto = lws_get_protocol(wsi);
	struct http *h = proto ? proto->user : NULL;
	struct http_req *r = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* A WebSocket upgrade that asked for no subprotocol: lws binds it to this first
		 * protocol; only veille.v1 speaks WebSocket. */
		return 1;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return h ? on_upgrade(wsi, h, in) : -1;
	case LWS_CALLBACK_CHECK_ACCESS_RIGHTS:
		/* A request for one of our mounts, before lws opens its file (open_file). */
		if (h)
			h->gzip = accepts_gzip(wsi);
		return 0;
	case LWS_CALLBACK_ADD_HEADERS: {
		/* A file of the mount at /, about to be sent: its CSP and cache. */
		struct lws_process_html_args *args = in;
		unsigned char *p = (unsigned char *)args->p, *end = p + args->max_len;
		char host[HTTP_HOST_MAX + 1], *uri = NULL;
		int ulen = 0;

		if (!h || lws_http_get_uri_and_method(wsi, &uri, &ulen) < 0)
			return -1;
		read_host(wsi, host, sizeof(host));
		if (add_policy(wsi, h, host, uri, http_cache_control(uri), &p, end))
			return -1;
		args->p = (char *)p;
		return 0;
	}
	case LWS_CALLBACK_HTTP:
		return r && h ? on_request(wsi, r) : -1;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (r && h && r->route != ROUTE_NONE)
			return on_writable(wsi, h, r);
		break;
	case LWS_CALLBACK_HTTP_BODY:
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (r && r->route != ROUTE_NONE)
			return 0; /* a body we do not read: our answer ends the connection */
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int http_new(struct http **out, const struct config *cfg)
{
	struct http *h;
	int rc = HTTP_OK;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return HTTP_ENOMEM;
	h->cfg = cfg;
	if (cfg->tiles)
		rc = http_tiles_origin(cfg->tiles, h->img_origin, sizeof(h->img_origin));
	if (rc == HTTP_OK)
		rc = http_config_js(h->config_js, sizeof(h->config_js), &h->config_js_len,
				    cfg->tiles, cfg->tiles_attribution, cfg->lock_seconds,
				    cfg->maraude_lock_seconds);
	for (unsigned i = 0; rc == HTTP_OK && i < cfg->n_allow_origin; i++) {
		rc = http_origin_parse(cfg->allow_origin[i], h->allow[i], sizeof(h->allow[i]));
		h->allow_list[i] = h->allow[i];
		h->n_allow = i + 1;
	}
	if (rc != HTTP_OK) {
		free(h);
		return rc;
	}
	/* The app's files at /; lws calls this protocol to add the headers of each one
	 * (ADD_HEADERS) and to answer what it does not find (HTTP). */
	h->mounts[0] = (struct lws_http_mount){
		.mount_next = &h->mounts[1],
		.mountpoint = "/",
		.origin = cfg->web_dir,
		.def = "index.html",
		.protocol = "http",
		.extra_mimetypes = mimetypes,
		.origin_protocol = LWSMPRO_FILE,
		.mountpoint_len = 1,
	};
	h->mounts[1] = (struct lws_http_mount){
		.mount_next = &h->mounts[2],
		.mountpoint = "/config.js",
		.origin = "http",
		.origin_protocol = LWSMPRO_CALLBACK,
		.mountpoint_len = 10,
	};
	h->mounts[2] = (struct lws_http_mount){
		.mountpoint = "/signout",
		.origin = "http",
		.origin_protocol = LWSMPRO_CALLBACK,
		.mountpoint_len = 8,
	};
	*out = h;
	return HTTP_OK;
}

void http_vhost(struct http *h, struct lws_context_creation_info *info,
		struct lws_protocols *proto)
{
	*proto = (struct lws_protocols){"http", http_callback, sizeof(struct http_req), 0, 0, h,
					0};
	info->mounts = h->mounts;
	info->headers = fixed_headers;
}

void http_files(struct http *h, struct lws_context *ctx)
{
	const struct lws_plat_file_ops *platform = lws_get_fops(ctx);

	h->fops = *platform;
	h->platform_open = platform->LWS_FOP_OPEN;
	h->fops.LWS_FOP_OPEN = open_file;
	lws_set_fops(ctx, &h->fops);
}

void http_free(struct http *h)
{
	free(h);
}
