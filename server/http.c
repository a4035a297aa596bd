/* http: see http.h.
 *
 * Every header value we build from a request (the Host in connect-src) or from the command
 * line (the tiles' origin in img-src, the origins of --allow-origin) passes a whitelist of
 * characters first: a value that could end a directive (';'), a header (CR, LF) or a source
 * list (' ', ',') is refused, never escaped. */
#include "http.h"

#include "codec.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

int http_csp(char *out, size_t size, const char *host, const char *img_origin)
{
	char check[HTTP_ORIGIN_MAX + 1], connect[2 * HTTP_HOST_MAX + 32];
	int n;

	if (img_origin && *img_origin &&
	    (http_origin_parse(img_origin, check, sizeof(check)) != HTTP_OK ||
	     strcmp(check, img_origin) != 0))
		return HTTP_EINVAL;
	if (http_host_valid(host))
		snprintf(connect, sizeof(connect), "ws://%s/sync wss://%s/sync", host, host);
	else
		snprintf(connect, sizeof(connect), "'none'");
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
		   const char *attribution, unsigned lock_seconds)
{
	char t[6 * HTTP_TILES_MAX + 3], a[6 * HTTP_ATTRIBUTION_MAX + 3];
	size_t alen = attribution ? strlen(attribution) : 0;
	int n;

	if (lock_seconds == 0 || lock_seconds > HTTP_LOCK_SECONDS_MAX)
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
		     "export default {\"tiles\":%s,\"tilesAttribution\":%s,\"lockSeconds\":%u};\n",
		     t, a, lock_seconds);
	if (n < 0 || (size_t)n >= size)
		return HTTP_ETOOLONG;
	*len = (size_t)n;
	return HTTP_OK;
}
