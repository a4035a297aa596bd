/* auth: see auth.h. */
#include "auth.h"

#include "clock.h"
#include "directory.h"
#include "log.h"
#include "pairing.h"
#include "ratelimit.h"
#include "server.h"
#include "session.h"
#include "store.h"

#include <libwebsockets.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define CTX_AUTH_LEN (sizeof(AUTH_CONTEXT) - 1)
#define CTX_ENROL_LEN (sizeof(ENROL_CONTEXT) - 1)

int auth_proof_verify(const uint8_t public_key[32], const uint8_t nonce[32],
		      const uint8_t server_id[16], const uint8_t device_id[16],
		      const uint8_t sig[64])
{
	uint8_t m[CTX_AUTH_LEN + 32 + 16 + 16];

	memcpy(m, AUTH_CONTEXT, CTX_AUTH_LEN);
	memcpy(m + CTX_AUTH_LEN, nonce, 32);
	memcpy(m + CTX_AUTH_LEN + 32, server_id, 16);
	memcpy(m + CTX_AUTH_LEN + 48, device_id, 16);
	return crypto_sign_verify_detached(sig, m, sizeof(m), public_key) == 0 ? 0 : -1;
}

int auth_enrol_verify(const uint8_t public_key[32], const char *normalised_code,
		      const uint8_t sig[64])
{
	uint8_t m[CTX_ENROL_LEN + 32 + PAIRING_CHARS];
	size_t n = strlen(normalised_code);

	if (n != PAIRING_CHARS)
		return -1;
	memcpy(m, ENROL_CONTEXT, CTX_ENROL_LEN);
	memcpy(m + CTX_ENROL_LEN, public_key, 32);
	memcpy(m + CTX_ENROL_LEN + 32, normalised_code, n);
	return crypto_sign_verify_detached(sig, m, sizeof(m), public_key) == 0 ? 0 : -1;
}

/* Rate-limit keys: "ip:<addr>" and "dev:<16 bytes>". */
static size_t ip_key(const struct session *s, char *buf, size_t n)
{
	return (size_t)snprintf(buf, n, "ip:%s", s->peer);
}

static size_t dev_key(const uint8_t device_id[16], uint8_t buf[20])
{
	memcpy(buf, "dev:", 4);
	memcpy(buf + 4, device_id, 16);
	return 20;
}

/* Fails the request with RATE_LIMITED and closes if the address or device is blocked. */
static int blocked(struct session *s, uint64_t request_id, const uint8_t *device_id)
{
	char ik[80];
	uint8_t dk[20];
	uint64_t now = clock_mono_ms(), wait;

	wait = ratelimit_check(s->srv->rl, ik, ip_key(s, ik, sizeof(ik)), now);
	if (!wait && device_id)
		wait = ratelimit_check(s->srv->rl, dk, dev_key(device_id, dk), now);
	if (!wait)
		return 0;
	log_info("auth: %s rate-limited for %llu ms", s->peer, (unsigned long long)wait);
	session_fail(s, request_id, VEILLE_ERR(RATE_LIMITED), "too many failed attempts",
		     (uint32_t)wait, LWS_CLOSE_STATUS_POLICY_VIOLATION);
	return 1;
}

static void count_failure(struct session *s, const uint8_t *device_id)
{
	char ik[80];
	uint8_t dk[20];
	uint64_t now = clock_mono_ms();

	ratelimit_fail(s->srv->rl, ik, ip_key(s, ik, sizeof(ik)), now);
	if (device_id)
		ratelimit_fail(s->srv->rl, dk, dev_key(device_id, dk), now);
}

void auth_on_hello(struct session *s, const Veille__V1__Envelope *env)
{
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__Challenge ch = VEILLE__V1__CHALLENGE__INIT;
	const Veille__V1__Hello *h = env->hello;

	if (s->state == SESSION_AUTHENTICATED) {
		session_error(s, env->request_id, VEILLE_ERR(BAD_STATE), "already authenticated", 0);
		return;
	}
	if (h->protocol_version != 1) {
		session_error(s, env->request_id, VEILLE_ERR(UNSUPPORTED_VERSION),
			      "this server speaks protocol version 1", 0);
		return;
	}
	if (blocked(s, env->request_id, h->device_id.data))
		return;
	memcpy(s->device_id, h->device_id.data, 16);
	randombytes_buf(s->nonce, sizeof(s->nonce));
	s->challenge_expires_ms = clock_mono_ms() + s->srv->cfg.challenge_ttl_ms;
	s->state = SESSION_CHALLENGED;
	ch.nonce.data = s->nonce;
	ch.nonce.len = sizeof(s->nonce);
	ch.server_id.data = s->srv->server_id;
	ch.server_id.len = SERVER_ID_BYTES;
	ch.expires_in_ms = (uint32_t)s->srv->cfg.challenge_ttl_ms;
	out.request_id = env->request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_CHALLENGE;
	out.challenge = &ch;
	session_reply(s, &out);
}

/* Fills a Principal from the directory; strings borrowed from p and st. */
static void fill_principal(Veille__V1__Principal *pr, const Veille__Store__V1__Professional *p,
			   const Veille__Store__V1__Structure *st)
{
	pr->professional_id = p->id;
	pr->display_name = p->display_name;
	pr->structure_id = st->id;
	pr->structure_name = st->name;
	pr->role = p->role;
	pr->territory = st->territory;
	pr->structure_kind = st->kind;
}

/* Loads a professional and their structure for a reply. Returns a STORE_* code. */
static int load_principal(struct store_txn *t, const char *professional_id,
			  Veille__Store__V1__Professional **p, Veille__Store__V1__Structure **st)
{
	int rc = directory_professional_get(t, professional_id, p);

	*st = NULL;
	if (rc == STORE_OK)
		rc = directory_structure_get(t, (*p)->structure_id, st);
	return rc;
}

void auth_on_proof(struct session *s, const Veille__V1__Envelope *env)
{
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__AuthOk ok = VEILLE__V1__AUTH_OK__INIT;
	Veille__V1__Principal pr = VEILLE__V1__PRINCIPAL__INIT;
	Veille__Store__V1__Device *d = NULL;
	Veille__Store__V1__Professional *p = NULL;
	Veille__Store__V1__Structure *st = NULL;
	struct store_txn *t = NULL;
	int stale, rc;

	if (blocked(s, env->request_id, s->device_id))
		return;
	/* The challenge is consumed by this attempt, good or bad: a proof is never reusable. */
	stale = clock_mono_ms() > s->challenge_expires_ms;
	s->state = SESSION_CONNECTED;
	rc = store_begin(s->srv->store, 0, &t);
	if (rc == STORE_OK)
		rc = directory_device_get(t, s->device_id, &d);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND) {
		session_error(s, env->request_id, VEILLE_ERR(INTERNAL), "storage failure", 0);
		goto out;
	}
	if (stale || !d ||
	    auth_proof_verify(d->public_key.data, s->nonce, s->srv->server_id, s->device_id,
			      env->auth_proof->signature.data) != 0) {
		count_failure(s, s->device_id);
		log_info("auth: failed proof from %s%s", s->peer, stale ? " (stale challenge)" : "");
		session_error(s, env->request_id, VEILLE_ERR(AUTH_FAILED),
			      stale ? "challenge expired" : "authentication failed", 0);
		goto out;
	}
	if (auth_still_active(s, env->request_id, t) != 0)
		goto out;
	rc = load_principal(t, d->professional_id, &p, &st);
	if (rc != STORE_OK) {
		session_error(s, env->request_id, VEILLE_ERR(INTERNAL), "directory inconsistent", 0);
		goto out;
	}
	{
		uint8_t dk[20];
		ratelimit_reset(s->srv->rl, dk, dev_key(s->device_id, dk));
	}
	snprintf(s->professional_id, sizeof(s->professional_id), "%s", p->id);
	snprintf(s->structure_id, sizeof(s->structure_id), "%s", st->id);
	s->role = p->role;
	s->state = SESSION_AUTHENTICATED;
	fill_principal(&pr, p, st);
	ok.principal = &pr;
	ok.server_time_ms = clock_now_ms();
	ok.lease_until_ms = ok.server_time_ms + s->srv->cfg.lease_ms;
	out.request_id = env->request_id;
	out.body_case = VEILLE__V1__ENVELOPE__BODY_AUTH_OK;
	out.auth_ok = &ok;
	session_reply(s, &out);
	log_info("auth: professional %s authenticated from %s", s->professional_id, s->peer);
out:
	sodium_memzero(s->nonce, sizeof(s->nonce));
	store_abort(t);
	if (d)
		codec_stored_free(&d->base);
	if (p)
		codec_stored_free(&p->base);
	if (st)
		codec_stored_free(&st->base);
}

int auth_device_active(struct store_txn *t, const uint8_t device_id[16])
{
	Veille__Store__V1__Device *d = NULL;
	Veille__Store__V1__Professional *p = NULL;
	int rc, active;

	rc = directory_device_get(t, device_id, &d);
	if (rc == STORE_OK)
		rc = directory_professional_get(t, d->professional_id, &p);
	active = rc == STORE_OK && d->revoked_at_ms == 0 && p->revoked_at_ms == 0;
	if (d)
		codec_stored_free(&d->base);
	if (p)
		codec_stored_free(&p->base);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return -rc;
	return active;
}

int auth_still_active(struct session *s, uint64_t request_id, struct store_txn *t)
{
	if (auth_device_active(t, s->device_id) == 1)
		return 0;
	log_info("auth: refused revoked device from %s", s->peer);
	session_fail(s, request_id, VEILLE_ERR(DEVICE_REVOKED), "device or professional revoked",
		     0, LWS_CLOSE_STATUS_POLICY_VIOLATION);
	return -1;
}

struct enrol_ctx {
	const char *code;
	const Veille__V1__Enrol *e;
	uint8_t device_id[16];
	char pro_id[65];
	Veille__Store__V1__Professional *p;
	Veille__Store__V1__Structure *st;
};

static void enrol_ctx_clear(struct enrol_ctx *c)
{
	if (c->p)
		codec_stored_free(&c->p->base);
	if (c->st)
		codec_stored_free(&c->st->base);
	c->p = NULL;
	c->st = NULL;
}

/* One transaction: use up the code and create the device. */
static int enrol_txn(struct store_txn *t, void *arg)
{
	struct enrol_ctx *c = arg;
	Veille__Store__V1__Device d = VEILLE__STORE__V1__DEVICE__INIT;
	int rc;

	enrol_ctx_clear(c);
	rc = directory_pairing_redeem(t, c->code, clock_now_ms(), c->pro_id);
	if (rc == STORE_OK)
		rc = load_principal(t, c->pro_id, &c->p, &c->st);
	if (rc == STORE_OK && c->p->revoked_at_ms != 0)
		rc = STORE_ENOTFOUND;
	if (rc != STORE_OK)
		return rc;
	randombytes_buf(c->device_id, sizeof(c->device_id));
	d.id.data = c->device_id;
	d.id.len = sizeof(c->device_id);
	d.public_key = c->e->public_key;
	d.professional_id = c->pro_id;
	d.label = c->e->label;
	d.enrolled_at_ms = clock_now_ms();
	return directory_device_put(t, &d);
}

void auth_on_enrol(struct session *s, const Veille__V1__Envelope *env)
{
	const Veille__V1__Enrol *e = env->enrol;
	Veille__V1__Envelope out = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__EnrolOk ok = VEILLE__V1__ENROL_OK__INIT;
	Veille__V1__Principal pr = VEILLE__V1__PRINCIPAL__INIT;
	struct enrol_ctx c = {0};
	char norm[PAIRING_CHARS + 1];
	int rc = STORE_ENOTFOUND;

	if (s->state == SESSION_AUTHENTICATED) {
		session_error(s, env->request_id, VEILLE_ERR(BAD_STATE), "already authenticated", 0);
		return;
	}
	if (blocked(s, env->request_id, NULL))
		return;
	c.code = norm;
	c.e = e;
	if (pairing_normalise(e->pairing_code, norm) == 0 &&
	    auth_enrol_verify(e->public_key.data, norm, e->signature.data) == 0)
		rc = store_write(s->srv->store, enrol_txn, &c);
	if (rc == STORE_ENOTFOUND) {
		count_failure(s, NULL);
		log_info("auth: refused pairing code from %s", s->peer);
		session_error(s, env->request_id, VEILLE_ERR(PAIRING_INVALID),
			      "pairing code unknown, expired or already used", 0);
	} else if (rc != STORE_OK) {
		session_error(s, env->request_id, VEILLE_ERR(INTERNAL), "storage failure", 0);
	} else {
		fill_principal(&pr, c.p, c.st);
		ok.device_id.data = c.device_id;
		ok.device_id.len = sizeof(c.device_id);
		ok.server_id.data = s->srv->server_id;
		ok.server_id.len = SERVER_ID_BYTES;
		ok.principal = &pr;
		out.request_id = env->request_id;
		out.body_case = VEILLE__V1__ENVELOPE__BODY_ENROL_OK;
		out.enrol_ok = &ok;
		session_reply(s, &out);
		log_info("auth: device enrolled for professional %s from %s", c.pro_id, s->peer);
	}
	sodium_memzero(norm, sizeof(norm));
	enrol_ctx_clear(&c);
}

#define REVOCATION_LOOK_MS 1000

void auth_tick(struct server *srv)
{
	uint64_t mono = clock_mono_ms(), count = 0;
	struct store_txn *t;
	const void *val;
	size_t vlen;
	int rc;

	if (mono < srv->revocations.next_look_ms)
		return;
	srv->revocations.next_look_ms = mono + REVOCATION_LOOK_MS;
	if (store_begin(srv->store, 0, &t) != STORE_OK)
		return;
	rc = store_get_plain(t, STORE_DB_META, DIRECTORY_REVOCATIONS, strlen(DIRECTORY_REVOCATIONS),
			     &val, &vlen);
	if (rc == STORE_OK && vlen == 8)
		count = store_be64_get(val);
	if (count != srv->revocations.seen) {
		/* Something was revoked: every live session is checked once. */
		for (struct session *s = srv->sessions; s; s = s->next)
			if (s->state == SESSION_AUTHENTICATED && auth_device_active(t, s->device_id) == 0) {
				log_info("auth: closing the session of a revoked device from %s",
					 s->peer);
				session_fail(s, 0, VEILLE_ERR(DEVICE_REVOKED),
					     "device or professional revoked", 0,
					     LWS_CLOSE_STATUS_POLICY_VIOLATION);
			}
		srv->revocations.seen = count;
	}
	store_abort(t);
}
