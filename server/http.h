/* http: what veilled answers over plain HTTP, and the headers of every answer.
 *
 * veilled serves the browser app (--web DIR) at /, two dynamic resources, GET /config.js (the
 * app's settings, from veilled's options) and GET /signout (a redirect that asks the browser
 * to drop its HTTP cache), and checks the Origin of the /sync WebSocket handshake. A browser
 * app that holds personal data needs every answer to carry a strict policy: the page may run
 * only its own scripts, talk only to its own /sync, be framed by nobody, and leak no URL.
 *
 * Design: the decisions are pure functions of a request's Host, path and Origin and of the
 * configuration (the first half of this header, unit-tested in tests/unit/test_http.c); the
 * second half is the libwebsockets glue that applies them: the fixed headers are lws vhost
 * headers (so lws' own answers, 404s and 304s included, carry them), the per-request ones
 * (the CSP, whose connect-src names the request's Host, and Cache-Control) are added through
 * LWS_CALLBACK_ADD_HEADERS for mounted files and written with the dynamic answers, which leave
 * from LWS_CALLBACK_HTTP_WRITEABLE. The one answer written inside another callback is the 403
 * refusing a /sync handshake: lws' way of refusing an upgrade with a status
 * (LWS_CALLBACK_HTTP_CONFIRM_UPGRADE) wants the answer written before the callback returns.
 * Compression: the web build writes a gzip twin ("app-X.js.gz") beside each text file, and lws
 * opens files through http.c's own file operations, which open the twin instead when the
 * request accepts gzip; nothing is compressed at run time.
 * docs/protocol.md ("HTTP") lists what is sent; docs/decisions.md says why. */
#ifndef VEILLE_HTTP_H
#define VEILLE_HTTP_H

#include <stddef.h>

#define HTTP_HOST_MAX 255        /* longest Host header used in connect-src */
#define HTTP_ORIGIN_MAX 300      /* longest origin: scheme "://" host [":" port] */
#define HTTP_CSP_MAX 1536        /* room for the longest policy http_csp writes */
#define HTTP_TILES_MAX 512       /* longest --tiles template */
#define HTTP_ATTRIBUTION_MAX 512 /* longest --tiles-attribution text, bytes */
#define HTTP_LOCK_SECONDS_MAX 86400
/* /config.js at its largest: every byte of both strings escaped as \uXXXX, and the rest. */
#define HTTP_CONFIG_JS_MAX (6 * (HTTP_TILES_MAX + HTTP_ATTRIBUTION_MAX) + 128)

enum http_err {
	HTTP_OK = 0,
	HTTP_EINVAL = 1,   /* a value of the wrong form */
	HTTP_ETOOLONG = 2, /* a value, or what it builds, over its bound */
	HTTP_ENOMEM = 3,
};

const char *http_strerror(int rc);

/* ---- decisions (pure) ---- */

/* 1 if host is a plain "host[:port]" as a Host header holds it: a name of letters, digits,
 * dots and hyphens, or a bracketed IPv6 literal, then an optional port of 1 to 5 digits
 * (1-65535); at most HTTP_HOST_MAX bytes. Anything else (empty, spaces, quotes, ';', a path,
 * user info) is 0: such a Host never reaches a header we write. */
int http_host_valid(const char *host);

/* Writes the Content-Security-Policy of an answer to a request with that Host (NULL: none)
 * into out (size bytes, NUL-terminated):
 *   default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self';
 *   img-src 'self' data: [img_origin]; worker-src 'self';
 *   connect-src ws://HOST/sync wss://HOST/sync; object-src 'none'; base-uri 'none';
 *   form-action 'self'; frame-ancestors 'none'
 * connect-src is 'none' when host is not http_host_valid. img_origin: the tiles' origin
 * (from http_tiles_origin), or NULL/"" for none. Errors: HTTP_ETOOLONG (out too small;
 * HTTP_CSP_MAX always suffices), HTTP_EINVAL (img_origin not a valid origin). */
int http_csp(char *out, size_t size, const char *host, const char *img_origin);
/* The CSP for the file at path: http_csp's, with connect-src 'self' added for the maraude
 * app (/maraude/...: its manifest icons) and a service worker's script (basename sw.js, whose
 * precaching fetches the app's files). */
int http_csp_path(char *out, size_t size, const char *host, const char *img_origin, const char *path);
int http_is_service_worker(const char *path);

#define HTTP_CACHE_NONE "no-store"
#define HTTP_CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define HTTP_CACHE_REVALIDATE "no-cache"

/* 1 if the last path component of path is an esbuild hashed name: "stem-XXXXXXXX.ext", stem
 * non-empty, XXXXXXXX 8 characters of [A-Z0-9], ext one or more of [A-Za-z0-9.] (so
 * "app-7QZ4K2MB.js" and "app-7QZ4K2MB.js.map", not "app.js" or "app-7qz4k2mb.js"). */
int http_is_hashed(const char *path);

/* The Cache-Control of the file served for a request path (no query): HTTP_CACHE_NONE for
 * "/" and every path ending in "/" or naming index.html (the app's entry: a new release must
 * be seen at once), HTTP_CACHE_IMMUTABLE for hashed names (their content never changes under
 * that name), HTTP_CACHE_REVALIDATE otherwise. A static string. */
const char *http_cache_control(const char *path);

/* ---- precompressed files ---- */

#define HTTP_ACCEPT_ENCODING_MAX 256 /* longest Accept-Encoding read; longer: the plain file */

/* 1 if an Accept-Encoding value (RFC 9110, 12.5.3) accepts gzip: a "gzip" (or "x-gzip")
 * element with a weight above 0, or, with no such element, "*" with a weight above 0; names
 * are case-insensitive. 0 for NULL (no header: veilled sends the plain file), for a value
 * refusing gzip ("gzip;q=0", "*;q=0", "br", "identity", "") and for any value that does not
 * follow the grammar (a bad weight "q=2" or "q=0.0000", a parameter other than q, two
 * codings without a comma): the plain file is always a right answer. An element "gzip;q=0"
 * refuses gzip even beside another "gzip". */
int http_accepts_gzip(const char *accept_encoding);

/* The precompressed twin of the file at path: writes path + ".gz" into out (size bytes) and
 * returns 1 if that is a regular file (the web build writes one beside each text asset);
 * 0 if there is none, it is not a regular file, or the name does not fit out. */
int http_gzip_file(const char *path, char *out, size_t size);

/* Checks a tile URL template (--tiles) and writes its origin ("https://tile.example.org",
 * "http://[::1]:8081"; scheme and host lower-cased) into origin (size bytes). The template
 * must be http:// or https://, a host as http_host_valid with no user info, then a path of
 * printable ASCII without quotes, backslash, '<', '>' or '`', holding {z}, {x} and {y} (or
 * {-y}); no other placeholder than those and {r} (so no {s} subdomains: the origin added to
 * img-src must be one host). At most HTTP_TILES_MAX bytes.
 * Errors: HTTP_EINVAL, HTTP_ETOOLONG (template or origin over its bound). */
int http_tiles_origin(const char *tmpl, char *origin, size_t size);

/* Checks an origin given to --allow-origin ("https://veille.example.org", one trailing '/'
 * tolerated) and writes it normalised (lower case, no trailing '/') into out.
 * Errors: HTTP_EINVAL (not http(s)://host[:port]), HTTP_ETOOLONG. */
int http_origin_parse(const char *in, char *out, size_t size);

/* The Origin check of a WebSocket handshake. origin: the Origin header's value (the caller
 * accepts a handshake without one: native clients send none); host: the request's Host
 * (NULL: none); allowed: n normalised origins (from http_origin_parse). With n > 0, 1 iff
 * origin is one of them; with n == 0, 1 iff host is valid and origin is http://HOST or
 * https://HOST (the server's own origin). Comparisons ignore case. */
int http_origin_allowed(const char *origin, const char *host, const char *const *allowed,
			size_t n);

/* Writes JSON's quoted form of the len bytes of s (UTF-8, checked by the caller) into out
 * (size bytes, NUL-terminated): '"' and '\' escaped, control characters, '<', '>', '&',
 * U+2028 and U+2029 as \uXXXX (the text can then sit in any script or HTML context).
 * Returns the length written, or 0 if out is too small (the shortest output, "", is 2). */
size_t http_json_string(char *out, size_t size, const char *s, size_t len);

/* Builds /config.js, a JavaScript module, into out (size bytes, NUL-terminated):
 *   export default {"tiles":null,"tilesAttribution":"","lockSeconds":300,
 *                   "maraudeLockSeconds":120};
 * tiles: the template or NULL (null); attribution: UTF-8 text or NULL (""); lock_seconds:
 * the desk's inactivity lock, maraude_lock_seconds the phone app's. *len receives its length.
 * HTTP_CONFIG_JS_MAX always suffices for bounded inputs.
 * Errors: HTTP_ETOOLONG (a string over its bound, or out too small), HTTP_EINVAL
 * (attribution not UTF-8, a lock of 0 or over HTTP_LOCK_SECONDS_MAX). */
int http_config_js(char *out, size_t size, size_t *len, const char *tiles,
		   const char *attribution, unsigned lock_seconds, unsigned maraude_lock_seconds);

/* ---- serving (libwebsockets) ---- */

struct config;
struct http;
struct lws_context;
struct lws_context_creation_info;
struct lws_protocols;

/* Prepares the HTTP side of the vhost from cfg (borrowed: it must outlive the http): the
 * tiles' origin, the allowed origins, the text of /config.js. Errors: HTTP_ENOMEM, or the
 * error of a setting that does not pass http_tiles_origin, http_origin_parse or
 * http_config_js (config_parse checks them first). */
int http_new(struct http **out, const struct config *cfg);

/* Fills what lws needs to serve HTTP: *proto becomes the "http" protocol (to be the vhost's
 * first: lws binds HTTP requests and WebSocket upgrades without a subprotocol to it; it
 * refuses the latter), info->mounts the mounts (--web DIR at /, /config.js, /signout) and
 * info->headers the headers every answer carries. Everything stays owned by h, which must
 * outlive the lws context. */
void http_vhost(struct http *h, struct lws_context_creation_info *info,
		struct lws_protocols *proto);

/* After lws_create_context: lws opens the files it serves through h, which answers a request
 * that accepts gzip (http_accepts_gzip) with a file's precompressed twin (http_gzip_file),
 * sent with Content-Encoding: gzip. */
void http_files(struct http *h, struct lws_context *ctx);

/* After lws_context_destroy. NULL is a no-op. */
void http_free(struct http *h);

#endif
