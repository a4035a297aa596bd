/* test_http: the decisions behind veilled's HTTP answers: the CSP built from a Host, the
 * cache of a path, gzip or not (Accept-Encoding, the precompressed twin), the tiles' origin,
 * --allow-origin, the Origin check of /sync, and the JSON of /config.js. Each hostile case
 * says what it sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http.h"
#include "unit.h"

#define CSP_HEAD                                                                            \
	"default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "      \
	"img-src 'self' data:"
#define CSP_TAIL "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static void test_host_valid(void **state)
{
	static const char *const good[] = {
		"localhost", "127.0.0.1", "127.0.0.1:8080", "veille.example.org",
		"veille-93.example.org:443", "[::1]", "[::1]:8080", "[2001:db8::1]:65535", "A.B",
	};
	/* Hostile or broken Host headers: empty, a quote, a directive separator, a space, a
	 * path, user info, a scheme, bad or empty ports, a half IPv6 literal, CR LF. */
	static const char *const bad[] = {
		"", "ho'st", "host;script-src *", "host name", "host/sync", "user@host",
		"http://host", "host:", "host:0", "host:65536", "host:123456", "host:80a", "[::1",
		"[::1]x", "[]", "[zz::1]", "host\r\nX-Evil: 1", ".host", "-host", ":8080", "host,evil",
	};
	char longest[HTTP_HOST_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_true(http_host_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (http_host_valid(bad[i]))
			fail_msg("accepted Host \"%s\"", bad[i]);
	}
	assert_false(http_host_valid(NULL));
	/* Bad input: a Host one byte over the bound. */
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_false(http_host_valid(longest));
	longest[HTTP_HOST_MAX] = '\0';
	assert_true(http_host_valid(longest));
}

static void test_csp_text(void **state)
{
	char csp[HTTP_CSP_MAX];

	(void)state;
	assert_int_equal(http_csp(csp, sizeof(csp), "veille.example.org:8443", NULL), HTTP_OK);
	assert_string_equal(csp, CSP_HEAD "; worker-src 'self'; connect-src "
				 "ws://veille.example.org:8443/sync wss://veille.example.org:8443/sync; "
				 CSP_TAIL);
	assert_int_equal(http_csp(csp, sizeof(csp), "[::1]:80", "https://tile.example.org"),
			 HTTP_OK);
	assert_string_equal(csp, CSP_HEAD " https://tile.example.org; worker-src 'self'; "
				 "connect-src ws://[::1]:80/sync wss://[::1]:80/sync; " CSP_TAIL);
	/* Bad input: a Host that would add a source to connect-src; no Host at all. */
	assert_int_equal(http_csp(csp, sizeof(csp), "evil.example * ", ""), HTTP_OK);
	assert_string_equal(csp, CSP_HEAD "; worker-src 'self'; connect-src 'none'; " CSP_TAIL);
	assert_null(strstr(csp, "evil"));
	assert_int_equal(http_csp(csp, sizeof(csp), NULL, NULL), HTTP_OK);
	assert_non_null(strstr(csp, "connect-src 'none';"));
	/* Bad input: an img origin that is not an origin; a buffer too small. */
	assert_int_equal(http_csp(csp, sizeof(csp), "h", "https://t.org; script-src *"),
			 HTTP_EINVAL);
	assert_int_equal(http_csp(csp, 40, "h", NULL), HTTP_ETOOLONG);
	/* A service worker's script may fetch the app's own files (its precache); pages not. */
	assert_int_equal(http_csp_path(csp, sizeof(csp), "h:1", NULL, "/maraude/sw.js"), HTTP_OK);
	assert_non_null(strstr(csp, "; connect-src 'self' ws://h:1/sync wss://h:1/sync;"));
	assert_int_equal(http_csp_path(csp, sizeof(csp), "h:1", NULL, "/maraude/"), HTTP_OK);
	assert_non_null(strstr(csp, "; connect-src 'self' ws://h:1/sync wss://h:1/sync;"));
	assert_int_equal(http_csp_path(csp, sizeof(csp), "h:1", NULL, "/index.html"), HTTP_OK);
	assert_non_null(strstr(csp, "; connect-src ws://h:1/sync wss://h:1/sync;"));
	assert_int_equal(http_csp_path(csp, sizeof(csp), "h:1", NULL, "/notsw.js"), HTTP_OK);
	assert_null(strstr(csp, "'self' ws:"));
	assert_int_equal(http_csp_path(csp, sizeof(csp), "h:1", NULL, "/maraudex/a.js"), HTTP_OK);
	assert_null(strstr(csp, "'self' ws:"));
	assert_int_equal(http_csp_path(csp, sizeof(csp), "h:1", NULL, NULL), HTTP_OK);
	assert_null(strstr(csp, "'self' ws:"));
}

static void test_csp_longest_fits(void **state)
{
	char host[HTTP_HOST_MAX + 1], origin[HTTP_ORIGIN_MAX + 1], csp[HTTP_CSP_MAX];

	(void)state;
	memset(host, 'h', HTTP_HOST_MAX - 6);
	memcpy(host + HTTP_HOST_MAX - 6, ":65535", 7);
	assert_true(http_host_valid(host));
	snprintf(origin, sizeof(origin), "https://%s", host);
	assert_int_equal(http_csp(csp, sizeof(csp), host, origin), HTTP_OK);
	assert_int_equal(http_csp_path(csp, sizeof(csp), host, origin, "/maraude/sw.js"), HTTP_OK);
}

static void test_hashed_names(void **state)
{
	static const char *const hashed[] = {
		"app-7QZ4K2MB.js", "/app-7QZ4K2MB.css", "/assets/chunk-ABCDEFGH.js",
		"keys-worker-12345678.js", "app-7QZ4K2MB.js.map", "font-ZZZZZZZZ.woff2",
	};
	static const char *const plain[] = {
		"app.js", "-7QZ4K2MB.js", "app-7qz4k2mb.js", "app-7QZ4K2M.js", "app-7QZ4K2MBX.js",
		"app-7QZ4K2MB", "app-7QZ4K2MB.", "app-7QZ4K2MB.j-s", "/app-7QZ4K2MB.js/", "",
		"7QZ4K2MB.js", "app_7QZ4K2MB.js",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hashed) / sizeof(*hashed); i++)
		if (!http_is_hashed(hashed[i]))
			fail_msg("not seen as hashed: %s", hashed[i]);
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++)
		if (http_is_hashed(plain[i]))
			fail_msg("seen as hashed: %s", plain[i]);
}

static void test_cache_control(void **state)
{
	(void)state;
	assert_string_equal(http_cache_control("/"), HTTP_CACHE_NONE);
	assert_string_equal(http_cache_control("/index.html"), HTTP_CACHE_NONE);
	assert_string_equal(http_cache_control("/sub/"), HTTP_CACHE_NONE);
	assert_string_equal(http_cache_control("/sub/index.html"), HTTP_CACHE_NONE);
	assert_string_equal(http_cache_control(""), HTTP_CACHE_NONE);
	assert_string_equal(http_cache_control(NULL), HTTP_CACHE_NONE);
	assert_string_equal(http_cache_control("/app-7QZ4K2MB.js"), HTTP_CACHE_IMMUTABLE);
	assert_string_equal(http_cache_control("/geo/93-ABCDEFGH.js"), HTTP_CACHE_IMMUTABLE);
	assert_string_equal(http_cache_control("/manifest.webmanifest"), HTTP_CACHE_REVALIDATE);
	assert_string_equal(http_cache_control("/app.css"), HTTP_CACHE_REVALIDATE);
	assert_string_equal(http_cache_control("/index.html.bak"), HTTP_CACHE_REVALIDATE);
}

static void test_accepts_gzip(void **state)
{
	/* What browsers and tools send, and the grammar's corners: case, x-gzip, the wildcard,
	 * weights with up to 3 decimals, white space, empty list elements. */
	static const char *const yes[] = {
		"gzip", "gzip, deflate, br, zstd", "deflate, gzip", "GZIP", "x-gzip", "gzip;q=1",
		"gzip;q=1.000", "gzip;q=0.001", "gzip ; q=0.5", "gzip;Q=0.5", "gzip;q=1.",
		"*", "br, *;q=0.1", ", gzip ,, br", "\tgzip\t", "br;q=1.0, gzip;q=0.8, *;q=0",
	};
	/* Refusals: no gzip named, gzip or "*" weighted 0 (in every spelling of 0), gzip refused
	 * beside a wildcard or another gzip; and bad input, refused as a whole: weights out of
	 * the grammar (over 1, four decimals, a sign, empty, not a number), a parameter other
	 * than q, two weights, two codings without a comma, a name with a character no token
	 * holds, a quoted string, an element that is only a weight. */
	static const char *const no[] = {
		"", " ", ",", "br", "deflate, br", "identity", "gzipx", "gzi", "xgzip", "gzip;q=0",
		"gzip;q=0.0", "gzip;q=0.000", "gzip; q=0", "*;q=0", "*, gzip;q=0", "gzip;q=0, *",
		"gzip, gzip;q=0", "gzip;q=0, gzip", "gzip;q=1.001", "gzip;q=2", "gzip;q=0.0000",
		"gzip;q=-1", "gzip;q=", "gzip;q=.5", "gzip;q=abc", "gzip;level=9", "gzip;q=0.5;q=1",
		"gzip br", "gzip/1", "\"gzip\"", ";q=1", "gzip;", "gzip\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (!http_accepts_gzip(yes[i]))
			fail_msg("gzip not accepted by \"%s\"", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (http_accepts_gzip(no[i]))
			fail_msg("gzip accepted by \"%s\"", no[i]);
	assert_false(http_accepts_gzip(NULL)); /* no header */
}

static void test_gzip_file(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], out[PATH_MAX], small[8];
	FILE *f;

	(void)state;
	unit_mkdtemp(dir);
	/* app.js and its twin; style.css alone; a directory named like a twin. */
	unit_path(path, dir, "app.js");
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	unit_path(path, dir, "app.js.gz");
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	unit_path(path, dir, "style.css");
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	unit_path(path, dir, "sub.gz");
	assert_int_equal(mkdir(path, 0700), 0);

	unit_path(path, dir, "app.js");
	assert_true(http_gzip_file(path, out, sizeof(out)));
	unit_path(path, dir, "app.js.gz");
	assert_string_equal(out, path);
	unit_path(path, dir, "style.css"); /* no twin */
	assert_false(http_gzip_file(path, out, sizeof(out)));
	unit_path(path, dir, "sub"); /* the twin is a directory */
	assert_false(http_gzip_file(path, out, sizeof(out)));
	unit_path(path, dir, "app.js"); /* the twin's name does not fit */
	assert_false(http_gzip_file(path, small, sizeof(small)));
	assert_false(http_gzip_file(NULL, out, sizeof(out)));
	unit_rmtree(dir);
}

static void test_tiles_origin(void **state)
{
	char o[HTTP_ORIGIN_MAX + 1], big[HTTP_TILES_MAX + 64];

	(void)state;
	assert_int_equal(http_tiles_origin("https://tile.openstreetmap.org/{z}/{x}/{y}.png", o,
					   sizeof(o)),
			 HTTP_OK);
	assert_string_equal(o, "https://tile.openstreetmap.org");
	assert_int_equal(http_tiles_origin("HTTP://Tiles.Example:8081/t/{z}/{x}/{-y}{r}.png?k=1&v=2",
					   o, sizeof(o)),
			 HTTP_OK);
	assert_string_equal(o, "http://tiles.example:8081");
	assert_int_equal(http_tiles_origin("http://[::1]:9/{z}/{y}/{x}", o, sizeof(o)), HTTP_OK);
	assert_string_equal(o, "http://[::1]:9");

	/* Bad input, each refused: another scheme, no path, a missing {y}, {s} subdomains in
	 * the host or path, an unknown variable, a stray '}', user info, a quote, a space,
	 * '<', a CSP separator in the host, a port out of range. */
	static const char *const bad[] = {
		"ftp://t.org/{z}/{x}/{y}", "javascript:alert(1)//{z}{x}{y}", "https://t.org",
		"https://t.org/{z}/{x}.png", "https://{s}.t.org/{z}/{x}/{y}.png",
		"https://t.org/{s}/{z}/{x}/{y}.png", "https://t.org/{z}/{x}/{y}/{foo}",
		"https://t.org/{z}/{x}/{y}}", "https://user@t.org/{z}/{x}/{y}",
		"https://t.org/{z}/{x}/{y}\".png", "https://t.org/{z}/{x}/{y} .png",
		"https://t.org/{z}/{x}/{y}<b>", "https://t.org;script-src/{z}/{x}/{y}",
		"https://t.org:0/{z}/{x}/{y}", "https:///{z}/{x}/{y}", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (http_tiles_origin(bad[i], o, sizeof(o)) == HTTP_OK)
			fail_msg("accepted --tiles %s", bad[i]);
	assert_int_equal(http_tiles_origin(NULL, o, sizeof(o)), HTTP_EINVAL);
	/* Bad input: a template over HTTP_TILES_MAX bytes. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "https://t.org/{z}/{x}/{y}/", 26);
	assert_int_equal(http_tiles_origin(big, o, sizeof(o)), HTTP_ETOOLONG);
}

static void test_origin_parse(void **state)
{
	char o[HTTP_ORIGIN_MAX + 1];

	(void)state;
	assert_int_equal(http_origin_parse("https://Veille.Example.org", o, sizeof(o)), HTTP_OK);
	assert_string_equal(o, "https://veille.example.org");
	assert_int_equal(http_origin_parse("http://127.0.0.1:8080/", o, sizeof(o)), HTTP_OK);
	assert_string_equal(o, "http://127.0.0.1:8080");
	/* Bad input: a path, a query, two slashes, another scheme, no host, user info, the
	 * serialised opaque origin "null", a trailing space. */
	static const char *const bad[] = {
		"https://v.org/app", "https://v.org?x", "https://v.org//", "wss://v.org",
		"https://", "https://u@v.org", "null", "https://v.org ", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (http_origin_parse(bad[i], o, sizeof(o)) == HTTP_OK)
			fail_msg("accepted --allow-origin %s", bad[i]);
	/* Bad input: an output buffer too small for the origin. */
	assert_int_equal(http_origin_parse("https://veille.example.org", o, 10), HTTP_ETOOLONG);
}

static void test_origin_allowed(void **state)
{
	const char *allowed[] = {"https://veille.example.org", "http://localhost:8080"};

	(void)state;
	/* No --allow-origin: the server's own origin, from Host. */
	assert_true(http_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", NULL, 0));
	assert_true(http_origin_allowed("https://veille.example.org", "veille.example.org", NULL,
					0));
	assert_true(http_origin_allowed("HTTPS://VEILLE.example.org", "veille.EXAMPLE.org",
					NULL, 0));
	/* Bad input: an origin elsewhere, another port, a prefix of the host, a suffix of it,
	 * the opaque "null", a Host that is no host (then nothing matches). */
	assert_false(http_origin_allowed("https://evil.example", "veille.example.org", NULL, 0));
	assert_false(http_origin_allowed("http://127.0.0.1:8081", "127.0.0.1:8080", NULL, 0));
	assert_false(http_origin_allowed("http://127.0.0.1", "127.0.0.1:8080", NULL, 0));
	assert_false(http_origin_allowed("http://127.0.0.1:80800", "127.0.0.1:8080", NULL, 0));
	assert_false(http_origin_allowed("null", "127.0.0.1:8080", NULL, 0));
	assert_false(http_origin_allowed("http://a b", "a b", NULL, 0));
	assert_false(http_origin_allowed("http://", "", NULL, 0));
	assert_false(http_origin_allowed("http://x", NULL, NULL, 0));
	assert_false(http_origin_allowed(NULL, "x", NULL, 0));
	/* With --allow-origin: exactly those, whatever the Host. */
	assert_true(http_origin_allowed("https://veille.example.org", "127.0.0.1:8080", allowed,
					2));
	assert_true(http_origin_allowed("http://LOCALHOST:8080", "x", allowed, 2));
	/* Bad input: the server's own origin is no longer enough once a list is given. */
	assert_false(http_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", allowed, 2));
	assert_false(http_origin_allowed("https://veille.example.org.evil", "h", allowed, 2));
}

static void test_json_string(void **state)
{
	char out[256];
	size_t n;

	(void)state;
	n = http_json_string(out, sizeof(out), "plain", 5);
	assert_string_equal(out, "\"plain\"");
	assert_int_equal(n, 7);
	/* Bad input: a quote, a backslash, a newline, a NUL, "</script>", '&', U+2028 and
	 * U+2029; a multi-byte character (é) passes as UTF-8. */
	static const char hostile[] = "a\"b\\c\nd\0e</script>&\xe2\x80\xa8\xe2\x80\xa9\xc3\xa9";
	n = http_json_string(out, sizeof(out), hostile, sizeof(hostile) - 1);
	assert_string_equal(out, "\"a\\\"b\\\\c\\u000ad\\u0000e\\u003c/script\\u003e\\u0026"
				 "\\u2028\\u2029\xc3\xa9\"");
	assert_int_equal(n, strlen(out));
	/* Bad input: an output buffer too small, by one byte, for the escaped text. */
	assert_int_equal(http_json_string(out, 7, "plain", 5), 0);
	assert_int_equal(http_json_string(out, 8, "plain", 5), 7);
	assert_int_equal(http_json_string(out, 4, "\"", 1), 0);
	assert_int_equal(http_json_string(out, 5, "\"", 1), 4);
}

static void test_config_js(void **state)
{
	char js[HTTP_CONFIG_JS_MAX], big[HTTP_ATTRIBUTION_MAX + 2];
	size_t len;

	(void)state;
	assert_int_equal(http_config_js(js, sizeof(js), &len, NULL, NULL, 300, 120), HTTP_OK);
	assert_string_equal(js, "export default {\"tiles\":null,\"tilesAttribution\":\"\","
				"\"lockSeconds\":300,\"maraudeLockSeconds\":120};\n");
	assert_int_equal(len, strlen(js));
	assert_int_equal(http_config_js(js, sizeof(js), &len,
					"https://t.org/{z}/{x}/{y}.png?a=1&b=2",
					"© contributeurs \"OSM\" <ODbL>", 42, 7),
			 HTTP_OK);
	assert_string_equal(js, "export default {\"tiles\":\"https://t.org/{z}/{x}/{y}.png?a=1"
				"\\u0026b=2\",\"tilesAttribution\":\"© contributeurs \\\"OSM\\\" "
				"\\u003cODbL\\u003e\",\"lockSeconds\":42,\"maraudeLockSeconds\":7};\n");
	/* Bad input: an attribution that is not UTF-8; a lock (desk or phone) of 0 s or over a
	 * day; an attribution over its bound; an output buffer too small. */
	assert_int_equal(http_config_js(js, sizeof(js), &len, NULL, "\xff\xfe", 300, 120), HTTP_EINVAL);
	assert_int_equal(http_config_js(js, sizeof(js), &len, NULL, NULL, 0, 120), HTTP_EINVAL);
	assert_int_equal(http_config_js(js, sizeof(js), &len, NULL, NULL, 300, 0), HTTP_EINVAL);
	assert_int_equal(http_config_js(js, sizeof(js), &len, NULL, NULL,
					HTTP_LOCK_SECONDS_MAX + 1, 120),
			 HTTP_EINVAL);
	assert_int_equal(http_config_js(js, sizeof(js), &len, NULL, NULL, 300,
					HTTP_LOCK_SECONDS_MAX + 1),
			 HTTP_EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(http_config_js(js, sizeof(js), &len, NULL, big, 300, 120), HTTP_ETOOLONG);
	assert_int_equal(http_config_js(js, 20, &len, NULL, NULL, 300, 120), HTTP_ETOOLONG);
	/* The largest inputs, every byte escaped, fit HTTP_CONFIG_JS_MAX. */
	memset(big, '<', HTTP_ATTRIBUTION_MAX);
	big[HTTP_ATTRIBUTION_MAX] = '\0';
	assert_int_equal(http_config_js(js, sizeof(js), &len, NULL, big, HTTP_LOCK_SECONDS_MAX,
					HTTP_LOCK_SECONDS_MAX),
			 HTTP_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_valid),
		cmocka_unit_test(test_csp_text),
		cmocka_unit_test(test_csp_longest_fits),
		cmocka_unit_test(test_hashed_names),
		cmocka_unit_test(test_cache_control),
		cmocka_unit_test(test_accepts_gzip),
		cmocka_unit_test(test_gzip_file),
		cmocka_unit_test(test_tiles_origin),
		cmocka_unit_test(test_origin_parse),
		cmocka_unit_test(test_origin_allowed),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_config_js),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
