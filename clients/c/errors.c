/*
 * errors: veille_strerror() and the helpers that fill struct veille_error.
 * The strings are indexed by code so that adding a code without its text fails to compile
 * (the array size is checked against VEILLE_NERR).
 */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const messages[] = {
	[VEILLE_OK] = "success",
	[VEILLE_EARG] = "invalid argument",
	[VEILLE_ENOMEM] = "out of memory",
	[VEILLE_EIO] = "local I/O error",
	[VEILLE_ECONN] = "connection failed",
	[VEILLE_ETIMEOUT] = "timed out",
	[VEILLE_ECLOSED] = "connection closed by the server",
	[VEILLE_ETOOBIG] = "message too big",
	[VEILLE_EPROTO] = "protocol error",
	[VEILLE_ESERVER] = "server error",
	[VEILLE_ENOTENROLLED] = "device not enrolled",
	[VEILLE_EEXIST] = "device already enrolled",
	[VEILLE_ENOTCONN] = "not connected",
	[VEILLE_EINSECURE] = "insecure key file",
	[VEILLE_ECORRUPT] = "corrupt local state",
	[VEILLE_EBUSY] = "state directory in use",
	[VEILLE_ENOTFOUND] = "not found on this device",
	[VEILLE_EREVOKED] = "device revoked: its local data was wiped",
	[VEILLE_ELEASE] = "device lease expired: connect to the server to unlock the local store",
};
_Static_assert(sizeof messages / sizeof messages[0] == VEILLE_NERR, "one message per code");

const char *veille_strerror(int err)
{
	if (err < 0 || err >= VEILLE_NERR || !messages[err])
		return "unknown error";
	return messages[err];
}

int errors_set(struct veille_error *e, int err, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return err;
	errors_clear(e);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return err;
}

void errors_clear(struct veille_error *e)
{
	if (e)
		memset(e, 0, sizeof *e);
}
