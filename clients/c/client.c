/*
 * client: the connection and identity part of libveille's API (veille.h), on top of identity
 * (state directory), local (the local store), proof (what to sign), wire (request/reply) and
 * conn (WebSocket). sync.c and offline.c hold the rest.
 *
 * Design: the client keeps the loaded device.state in memory and writes it back whenever it
 * changes. Counters and the cursor live in the local store, whose transactions save them
 * before anything leaves (an op counter is durable before a push is sent). The secret key is
 * read from disk only for the moment it is needed, into sodium_malloc() memory, and freed
 * (zeroed) right after signing or deriving the local store's key. Any transport failure drops
 * the connection, so the state is simple: either an authenticated connection or none.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"

#include <time.h>

#include "errors.h"
#include "outbox.h"
#include "proof.h"

#ifndef VEILLE_VERSION
#define VEILLE_VERSION "0"
#endif
#define SUBPROTOCOL "veille.v1"
#define PROTOCOL_VERSION 1
#define LABEL_MAX 64
/* crypto_kdf context and subkey id of the local store's sealing key (8 bytes, no NUL). */
#define LOCAL_KDF_CONTEXT "vlocal01"
#define LOCAL_KDF_ID 1

uint64_t client_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t client_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int client_need_local(struct veille_client *c)
{
	if (c->local)
		return 0;
	if (c->lease_expired)
		return errors_set(&c->last_error, VEILLE_ELEASE,
				  "the device has not authenticated within its lease: its local "
				  "store stays locked until veille_connect() succeeds");
	return errors_set(&c->last_error, VEILLE_ENOTENROLLED,
			  "%s holds no enrolled device; enrol first", c->dir);
}

struct migrate_ctx {
	const struct identity *id;
	int done;
};

/* First open of the local store: take over the counters an earlier version kept in
 * device.state (0 for a new device). */
static int migrate_txn(struct local_txn *t, void *arg)
{
	struct migrate_ctx *m = arg;
	int rc, found;
	uint64_t v;

	if ((rc = local_get_u64(t, LOCAL_META_OP_COUNTER, &v, &found)) || found)
		return rc;
	if ((rc = local_put_u64(t, LOCAL_META_OP_COUNTER, m->id->legacy_op_counter)) ||
	    (rc = local_put_u64(t, LOCAL_META_PULL_CURSOR, m->id->legacy_pull_cursor)))
		return rc;
	m->done = 1;
	return 0;
}

/*
 * Opens the local store with a key derived from the device's secret key sk (read from
 * device.key when NULL). The key is the Ed25519 seed through crypto_kdf with its own context,
 * so it is independent of the signing key.
 */
#define LEASE_NAME "lease_until"

/* The device lease's end on this device's clock (0: none yet), from the local store. */
static int lease_get_txn(struct local_txn *t, void *arg)
{
	int found = 0;

	return local_get_u64(t, LEASE_NAME, arg, &found);
}

static int lease_put_txn(struct local_txn *t, void *arg)
{
	return local_put_u64(t, LEASE_NAME, *(const uint64_t *)arg);
}

/* A lease that ran out locks the store (closes it) until the next authentication: veille_open
 * calls this; veille_connect opens the store again (renew_lease). */
static int check_lease(struct veille_client *c, struct veille_error *err)
{
	uint64_t until = 0;
	int rc = local_read(c->local, lease_get_txn, &until, err);

	if (rc == 0 && until && client_wall_ms() > until) {
		local_close(c->local);
		c->local = NULL;
		c->lease_expired = 1;
	}
	return rc;
}

static int open_local(struct veille_client *c, const uint8_t *sk, struct veille_error *err);

/* After an authentication: the local store opens if the lease had locked it, and the new
 * lease is kept, converted to this device's clock (the server's lease is in its time). */
static int renew_lease(struct veille_client *c, const uint8_t *sk, const Veille__V1__AuthOk *ok)
{
	uint64_t until;
	int rc;

	if (!c->local) {
		if ((rc = open_local(c, sk, &c->last_error)))
			return rc;
		c->lease_expired = 0; /* the old lease is renewed just below */
	}
	if (!ok->lease_until_ms || ok->lease_until_ms <= ok->server_time_ms)
		return 0;
	until = client_wall_ms() + (ok->lease_until_ms - ok->server_time_ms);
	return local_write(c->local, lease_put_txn, &until, &c->last_error);
}

static int open_local(struct veille_client *c, const uint8_t *sk, struct veille_error *err)
{
	struct migrate_ctx m = { &c->id, 0 };
	uint8_t *own = NULL, *key = NULL;
	int rc;

	key = sodium_malloc(LOCAL_KEY_BYTES);
	if (!key)
		return errors_set(err, VEILLE_ENOMEM, "out of memory");
	if (!sk) {
		own = sodium_malloc(PROOF_SECRET_KEY);
		if (!own) {
			rc = errors_set(err, VEILLE_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = identity_key_load(c->dir, own, err)))
			goto out;
		sk = own;
	}
	crypto_kdf_derive_from_key(key, LOCAL_KEY_BYTES, LOCAL_KDF_ID, LOCAL_KDF_CONTEXT, sk);
	if ((rc = local_open(&c->local, c->dir, key, err)))
		goto out;
	if ((rc = local_write(c->local, migrate_txn, &m, err))) {
		local_close(c->local);
		c->local = NULL;
		goto out;
	}
	/* The counters are in the local store now: device.state no longer holds them (a failure
	 * here is harmless: they are not read again once the local store has its own). */
	if (c->id.has_legacy && identity_save(c->dir, &c->id, NULL) == 0)
		c->id.has_legacy = 0;
out:
	sodium_free(own);
	sodium_free(key);
	return rc;
}

int veille_open(struct veille_client **out, const char *dir, struct veille_error *err)
{
	struct veille_client *c;
	int rc;

	errors_clear(err);
	if (!out)
		return errors_set(err, VEILLE_EARG, "no place for the client");
	*out = NULL;
	if (!dir || !*dir)
		return errors_set(err, VEILLE_EARG, "no state directory");
	if (sodium_init() < 0)
		return errors_set(err, VEILLE_EIO, "libsodium cannot initialise");
	c = calloc(1, sizeof *c);
	if (!c)
		return errors_set(err, VEILLE_ENOMEM, "out of memory");
	c->lock_fd = -1;
	c->timeout_ms = VEILLE_DEFAULT_TIMEOUT_MS;
	c->dir = strdup(dir);
	if (!c->dir) {
		rc = errors_set(err, VEILLE_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = identity_lock(dir, &c->lock_fd, err)) || (rc = identity_load(dir, &c->id, err)))
		goto fail;
	if (c->id.enrolled && ((rc = open_local(c, NULL, err)) || (rc = check_lease(c, err))))
		goto fail;
	*out = c;
	return 0;
fail:
	veille_close(c);
	return rc;
}

void client_drop(struct veille_client *c)
{
	conn_close(c->conn);
	c->conn = NULL;
	c->authenticated = 0;
	c->places_live = 0;
}

void veille_close(struct veille_client *c)
{
	if (!c)
		return;
	client_drop(c);
	local_close(c->local);
	identity_unlock(c->lock_fd);
	free(c->dir);
	free(c);
}

void veille_set_timeout(struct veille_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms >= 0 ? timeout_ms : 0;
}

static int open_conn(struct veille_client *c, const char *url, int timeout_ms)
{
	char why[sizeof c->last_error.message];
	int rc;

	client_drop(c);
	rc = conn_open_detail(&c->conn, url, SUBPROTOCOL, timeout_ms, why, sizeof why);
	if (rc)
		return errors_set(&c->last_error, rc, "%s", why);
	c->conn_timeout_ms = timeout_ms;
	return 0;
}

int client_revoked(struct veille_client *c, int rc)
{
	if (rc != VEILLE_ESERVER ||
	    c->last_error.code != VEILLE__V1__ERROR_CODE__ERROR_CODE_DEVICE_REVOKED)
		return rc;
	client_drop(c);
	if (c->local) {
		local_close(c->local);
		c->local = NULL;
	}
	/* The key first: without it the local store's values cannot be opened, even if
	 * removing its files fails. */
	identity_forget(c->dir, NULL);
	local_remove(c->dir, NULL);
	sodium_memzero(&c->id, sizeof(c->id));
	c->has_principal = 0;
	return errors_set(&c->last_error, VEILLE_EREVOKED,
			  "this device or its professional was revoked: its local data was wiped");
}

int client_call(struct veille_client *c, Veille__V1__Envelope *req,
		Veille__V1__Envelope__BodyCase expect, Veille__V1__Envelope **reply)
{
	int rc = wire_call(c->conn, &c->next_request_id, req, expect, c->conn_timeout_ms, reply,
			   &c->news, &c->last_error);

	if (rc && rc != VEILLE_ESERVER)
		client_drop(c);
	return client_revoked(c, rc);
}

/* Copies an id; one that does not fit is the server's mistake. */
static int copy_id(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= size)
		return VEILLE_EPROTO;
	memcpy(dst, src ? src : "", n + 1);
	return 0;
}

void client_copy_text(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static int copy_principal(struct veille_client *c, struct veille_principal *dst,
			  const Veille__V1__Principal *src)
{
	memset(dst, 0, sizeof *dst);
	if (!src || copy_id(dst->professional_id, sizeof dst->professional_id,
			    src->professional_id) ||
	    copy_id(dst->structure_id, sizeof dst->structure_id, src->structure_id) ||
	    copy_id(dst->territory, sizeof dst->territory, src->territory))
		return errors_set(&c->last_error, VEILLE_EPROTO, "malformed principal from the server");
	client_copy_text(dst->display_name, sizeof dst->display_name, src->display_name);
	client_copy_text(dst->structure_name, sizeof dst->structure_name, src->structure_name);
	dst->role = (int)src->role;
	dst->structure_kind = (int)src->structure_kind;
	return 0;
}

/* Sets the principal fields of id from p; returns whether anything changed. */
static int note_principal(struct identity *id, const struct veille_principal *p)
{
	int changed = strcmp(id->professional_id, p->professional_id) ||
		      strcmp(id->display_name, p->display_name) ||
		      strcmp(id->structure_id, p->structure_id) ||
		      strcmp(id->structure_name, p->structure_name);

	strcpy(id->professional_id, p->professional_id);
	strcpy(id->display_name, p->display_name);
	strcpy(id->structure_id, p->structure_id);
	strcpy(id->structure_name, p->structure_name);
	return changed;
}

int veille_enrol(struct veille_client *c, const char *url, const char *pairing_code,
		 const char *label, struct veille_principal *out)
{
	Veille__V1__Envelope req = VEILLE__V1__ENVELOPE__INIT, *reply = NULL;
	Veille__V1__Enrol enrol = VEILLE__V1__ENROL__INIT;
	uint8_t pk[PROOF_PUBLIC_KEY], sig[PROOF_SIGNATURE], *sk = NULL;
	char code[PROOF_CODE_MAX + 1];
	struct veille_principal p;
	struct identity id, before = c->id;
	int key_written = 0, exclusive = 0, rc;

	errors_clear(&c->last_error);
	if (!url || !pairing_code)
		return errors_set(&c->last_error, VEILLE_EARG, "url and pairing code are required");
	if (c->id.enrolled)
		return errors_set(&c->last_error, VEILLE_EEXIST,
				  "%s already holds an enrolled device; use another directory",
				  c->dir);
	if (proof_normalise_code(pairing_code, code) != 0)
		return errors_set(&c->last_error, VEILLE_EARG,
				  "pairing code: expected letters and digits, as XXXX-XXXX-XXXX");
	if (label && strlen(label) > LABEL_MAX)
		return errors_set(&c->last_error, VEILLE_EARG, "label: at most %d bytes", LABEL_MAX);
	if (strlen(url) >= sizeof id.server_url)
		return errors_set(&c->last_error, VEILLE_EARG, "url too long");

	/* No other process may use the directory while its device changes. */
	if ((rc = identity_lock_mode(c->dir, c->lock_fd, 1, &c->last_error)))
		return rc;
	exclusive = 1;
	sk = sodium_malloc(PROOF_SECRET_KEY);
	if (!sk) {
		rc = errors_set(&c->last_error, VEILLE_ENOMEM, "out of memory");
		goto out;
	}
	/* A key without state is what an interrupted enrolment leaves: it serves no device; nor
	 * does a local store sealed with a key that is gone. */
	if ((rc = identity_key_remove(c->dir, &c->last_error)) ||
	    (rc = local_remove(c->dir, &c->last_error)) ||
	    (rc = identity_key_create(c->dir, sk, pk, &c->last_error)))
		goto out;
	key_written = 1;
	if ((rc = open_conn(c, url, c->timeout_ms)))
		goto out;
	if (proof_enrol(sk, pk, code, sig) != 0) {
		rc = errors_set(&c->last_error, VEILLE_EIO, "cannot sign");
		goto out;
	}
	enrol.pairing_code = code;
	enrol.public_key.data = pk;
	enrol.public_key.len = sizeof pk;
	enrol.label = (char *)(label ? label : "");
	enrol.signature.data = sig;
	enrol.signature.len = sizeof sig;
	req.body_case = VEILLE__V1__ENVELOPE__BODY_ENROL;
	req.enrol = &enrol;
	if ((rc = client_call(c, &req, VEILLE__V1__ENVELOPE__BODY_ENROL_OK, &reply)))
		goto out;
	if (reply->enrol_ok->device_id.len != PROOF_ID || reply->enrol_ok->server_id.len != PROOF_ID) {
		rc = errors_set(&c->last_error, VEILLE_EPROTO, "malformed EnrolOk from the server");
		goto out;
	}
	if ((rc = copy_principal(c, &p, reply->enrol_ok->principal)))
		goto out;

	memset(&id, 0, sizeof id);
	id.enrolled = 1;
	strcpy(id.server_url, url);
	memcpy(id.device_id, reply->enrol_ok->device_id.data, PROOF_ID);
	memcpy(id.server_id, reply->enrol_ok->server_id.data, PROOF_ID);
	note_principal(&id, &p);
	/* The local store first (open_local reads c->id: a new device, counters from 0), then
	 * device.state, which makes the directory an enrolled device. */
	c->id = id;
	if ((rc = open_local(c, sk, &c->last_error)) ||
	    (rc = identity_save(c->dir, &id, &c->last_error))) {
		c->id = before;
		goto out;
	}
	c->principal = p;
	c->has_principal = 1;
	if (out)
		*out = p;
out:
	wire_free(reply);
	client_drop(c);
	if (rc && c->local) {
		local_close(c->local);
		c->local = NULL;
	}
	if (rc && key_written) {
		local_remove(c->dir, NULL);
		identity_key_remove(c->dir, NULL);
	}
	if (exclusive)
		identity_lock_mode(c->dir, c->lock_fd, 0, NULL);
	sodium_free(sk);
	return rc;
}

int veille_connect(struct veille_client *c, int timeout_ms)
{
	Veille__V1__Envelope req = VEILLE__V1__ENVELOPE__INIT, *reply = NULL;
	Veille__V1__Hello hello = VEILLE__V1__HELLO__INIT;
	Veille__V1__AuthProof proof = VEILLE__V1__AUTH_PROOF__INIT;
	const Veille__V1__Challenge *ch;
	uint8_t sig[PROOF_SIGNATURE], *sk = NULL;
	struct veille_principal p;
	int rc;

	errors_clear(&c->last_error);
	client_drop(c);
	if (!c->id.enrolled)
		return errors_set(&c->last_error, VEILLE_ENOTENROLLED,
				  "%s holds no enrolled device; enrol first", c->dir);
	sk = sodium_malloc(PROOF_SECRET_KEY);
	if (!sk)
		return errors_set(&c->last_error, VEILLE_ENOMEM, "out of memory");
	if ((rc = identity_key_load(c->dir, sk, &c->last_error)) ||
	    (rc = open_conn(c, c->id.server_url, timeout_ms < 0 ? c->timeout_ms : timeout_ms)))
		goto out;

	hello.protocol_version = PROTOCOL_VERSION;
	hello.device_id.data = c->id.device_id;
	hello.device_id.len = PROOF_ID;
	hello.client = "libveille/" VEILLE_VERSION;
	req.body_case = VEILLE__V1__ENVELOPE__BODY_HELLO;
	req.hello = &hello;
	if ((rc = client_call(c, &req, VEILLE__V1__ENVELOPE__BODY_CHALLENGE, &reply)))
		goto out;
	ch = reply->challenge;
	if (ch->nonce.len != PROOF_NONCE || ch->server_id.len != PROOF_ID) {
		rc = errors_set(&c->last_error, VEILLE_EPROTO, "malformed Challenge from the server");
		goto out;
	}
	/* Never sign for another server: the url now leads elsewhere, or its data was reset. */
	if (memcmp(ch->server_id.data, c->id.server_id, PROOF_ID) != 0) {
		rc = errors_set(&c->last_error, VEILLE_EPROTO,
				"%s is not the server this device enrolled with (server id differs)",
				c->id.server_url);
		goto out;
	}
	if (proof_auth(sk, ch->nonce.data, ch->server_id.data, c->id.device_id, sig) != 0) {
		rc = errors_set(&c->last_error, VEILLE_EIO, "cannot sign");
		goto out;
	}
	sodium_free(sk);
	sk = NULL;
	wire_free(reply);
	reply = NULL;

	proof.signature.data = sig;
	proof.signature.len = sizeof sig;
	req = (Veille__V1__Envelope)VEILLE__V1__ENVELOPE__INIT;
	req.body_case = VEILLE__V1__ENVELOPE__BODY_AUTH_PROOF;
	req.auth_proof = &proof;
	if ((rc = client_call(c, &req, VEILLE__V1__ENVELOPE__BODY_AUTH_OK, &reply)) ||
	    (rc = copy_principal(c, &p, reply->auth_ok->principal)))
		goto out;
	c->principal = p;
	c->has_principal = 1;
	if (note_principal(&c->id, &p) && (rc = identity_save(c->dir, &c->id, &c->last_error)))
		goto out;
	if ((rc = renew_lease(c, sk, reply->auth_ok)))
		goto out;
	c->authenticated = 1;
out:
	wire_free(reply);
	if (rc)
		client_drop(c);
	sodium_free(sk); /* NULL is a no-op */
	return rc;
}

const struct veille_principal *veille_principal(const struct veille_client *c)
{
	return c->has_principal ? &c->principal : NULL;
}

struct info_ctx {
	struct veille_info *out;
};

static int info_txn(struct local_txn *t, void *arg)
{
	struct veille_info *out = ((struct info_ctx *)arg)->out;
	size_t pending = 0, problems = 0;
	int rc;

	if ((rc = local_get_u64(t, LOCAL_META_OP_COUNTER, &out->op_counter, NULL)) ||
	    (rc = local_get_u64(t, LOCAL_META_PULL_CURSOR, &out->pull_cursor, NULL)) ||
	    (rc = local_get_u64(t, LOCAL_META_LAST_SYNC, &out->last_sync_ms, NULL)) ||
	    (rc = local_count(t, LOCAL_OUTBOX, &pending)) ||
	    (rc = local_count(t, LOCAL_PROBLEMS, &problems)))
		return rc;
	out->pending_ops = pending;
	out->problems = problems;
	return 0;
}

void veille_info(const struct veille_client *c, struct veille_info *out)
{
	struct info_ctx ctx = { out };

	memset(out, 0, sizeof *out);
	out->enrolled = c->id.enrolled;
	strcpy(out->server_url, c->id.server_url);
	if (c->id.enrolled) {
		sodium_bin2hex(out->device_id, sizeof out->device_id, c->id.device_id, PROOF_ID);
		sodium_bin2hex(out->server_id, sizeof out->server_id, c->id.server_id, PROOF_ID);
	}
	strcpy(out->professional_id, c->id.professional_id);
	strcpy(out->display_name, c->id.display_name);
	strcpy(out->structure_id, c->id.structure_id);
	strcpy(out->structure_name, c->id.structure_name);
	if (c->local && local_read(c->local, info_txn, &ctx, NULL) != 0) {
		out->op_counter = out->pull_cursor = out->last_sync_ms = 0;
		out->pending_ops = out->problems = 0;
	}
}

static int counter_txn(struct local_txn *t, void *arg)
{
	return local_get_u64(t, LOCAL_META_OP_COUNTER, arg, NULL);
}

int client_push(struct veille_client *c, Veille__V1__Mutation **muts, size_t n,
		struct veille_op_result *results)
{
	Veille__V1__Envelope req = VEILLE__V1__ENVELOPE__INIT, *reply = NULL;
	Veille__V1__PushRequest push = VEILLE__V1__PUSH_REQUEST__INIT;
	const Veille__V1__PushResult *res;
	size_t i;
	int rc;

	if (!c->authenticated)
		return errors_set(&c->last_error, VEILLE_ENOTCONN, "not connected");
	push.n_mutations = n;
	push.mutations = muts;
	req.body_case = VEILLE__V1__ENVELOPE__BODY_PUSH;
	req.push = &push;
	if ((rc = client_call(c, &req, VEILLE__V1__ENVELOPE__BODY_PUSH_RESULT, &reply)))
		goto out;
	res = reply->push_result;
	if (res->n_results != n) {
		rc = errors_set(&c->last_error, VEILLE_EPROTO, "push: %zu results for %zu mutations",
				res->n_results, n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const Veille__V1__OpResult *r = res->results[i];

		if (r->op_counter != muts[i]->op_counter) {
			rc = errors_set(&c->last_error, VEILLE_EPROTO,
					"push: result %zu is for another op", i);
			goto out;
		}
		memset(&results[i], 0, sizeof results[i]);
		results[i].op_counter = r->op_counter;
		results[i].status = (int)r->status;
		results[i].version = r->version;
		results[i].code = (int)r->code;
		client_copy_text(results[i].reason, sizeof results[i].reason, r->reason);
	}
out:
	wire_free(reply);
	return rc;
}

int veille_push(struct veille_client *c, Veille__V1__Mutation **muts, size_t n,
		struct veille_op_result *results)
{
	uint64_t counter = 0, first;
	size_t i, fresh = 0;
	int rc;

	errors_clear(&c->last_error);
	if (!muts || !results || n == 0 || n > VEILLE_MAX_PUSH)
		return errors_set(&c->last_error, VEILLE_EARG, "push: 1 to %d mutations",
				  VEILLE_MAX_PUSH);
	if ((rc = client_need_local(c)) ||
	    (rc = local_read(c->local, counter_txn, &counter, &c->last_error)))
		return rc;
	for (i = 0; i < n; i++) {
		if (!muts[i])
			return errors_set(&c->last_error, VEILLE_EARG, "push: mutation %zu is NULL", i);
		if (muts[i]->op_counter > counter)
			return errors_set(&c->last_error, VEILLE_EARG,
					  "push: mutation %zu has op_counter %llu, never handed out", i,
					  (unsigned long long)muts[i]->op_counter);
		fresh += muts[i]->op_counter == 0;
	}
	if (!c->authenticated)
		return errors_set(&c->last_error, VEILLE_ENOTCONN, "not connected");
	/* New counters are saved before anything leaves: never reused for other content. */
	if (fresh) {
		if ((rc = outbox_reserve(c->local, fresh, &first, &c->last_error)))
			return rc;
		for (i = 0; i < n; i++)
			if (muts[i]->op_counter == 0)
				muts[i]->op_counter = first++;
	}
	return client_push(c, muts, n, results);
}

int veille_new_record_id(char out[33])
{
	unsigned char raw[16];

	if (sodium_init() < 0)
		return VEILLE_EIO;
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(out, 33, raw, sizeof raw);
	return 0;
}

/* Checks a page: a server that says "more" without moving would keep a pull loop spinning. */
static int check_page(struct veille_client *c, uint64_t cursor, Veille__V1__Envelope **reply)
{
	const Veille__V1__PullResult *res = (*reply)->pull_result;
	const char *why = NULL;

	if (res->has_more && res->next_cursor <= cursor)
		why = "pull: has_more but the cursor did not advance";
	for (size_t i = 0; !why && i < res->n_changes; i++)
		if (!res->changes[i]->record_id || !*res->changes[i]->record_id)
			why = "pull: a change without a record id";
	if (!why)
		return 0;
	wire_free(*reply);
	*reply = NULL;
	return errors_set(&c->last_error, VEILLE_EPROTO, "%s", why);
}

int client_pull_page(struct veille_client *c, uint64_t cursor, uint32_t limit, uint32_t pages,
		     Veille__V1__Envelope **reply)
{
	Veille__V1__Envelope req = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PullRequest pull = VEILLE__V1__PULL_REQUEST__INIT;
	int rc;

	*reply = NULL;
	if (limit > VEILLE_MAX_PULL_LIMIT)
		return errors_set(&c->last_error, VEILLE_EARG, "pull: limit at most %d",
				  VEILLE_MAX_PULL_LIMIT);
	if (!c->authenticated)
		return errors_set(&c->last_error, VEILLE_ENOTCONN, "not connected");
	pull.cursor = cursor;
	pull.limit = limit;
	pull.pages = pages;
	req.body_case = VEILLE__V1__ENVELOPE__BODY_PULL;
	req.pull = &pull;
	if ((rc = client_call(c, &req, VEILLE__V1__ENVELOPE__BODY_PULL_RESULT, reply)))
		return rc;
	c->pull_request_id = req.request_id;
	return check_page(c, cursor, reply);
}

int client_pull_next_page(struct veille_client *c, uint64_t cursor, Veille__V1__Envelope **reply)
{
	int rc = wire_await(c->conn, c->pull_request_id, VEILLE__V1__ENVELOPE__BODY_PULL_RESULT,
			    c->conn_timeout_ms, reply, &c->news, &c->last_error);

	if (rc) {
		if (rc != VEILLE_ESERVER)
			client_drop(c);
		return client_revoked(c, rc);
	}
	return check_page(c, cursor, reply);
}

int veille_pull(struct veille_client *c, uint64_t cursor, uint32_t limit,
		int (*on_change)(const Veille__V1__Change *change, void *arg), void *arg,
		uint64_t *next_cursor, int *has_more)
{
	return veille_pull_pages(c, cursor, limit, 1, on_change, arg, next_cursor, has_more);
}

int veille_pull_pages(struct veille_client *c, uint64_t cursor, uint32_t limit, uint32_t pages,
		      int (*on_change)(const Veille__V1__Change *change, void *arg), void *arg,
		      uint64_t *next_cursor, int *has_more)
{
	Veille__V1__Envelope *reply = NULL;
	const Veille__V1__PullResult *res;
	int rc;

	errors_clear(&c->last_error);
	if (!next_cursor || !has_more || pages == 0)
		return errors_set(&c->last_error, VEILLE_EARG, "pull: no place for the cursor");
	rc = client_pull_page(c, cursor, limit, pages, &reply);
	for (uint32_t got = 1; rc == 0; got++) {
		res = reply->pull_result;
		for (size_t i = 0; i < res->n_changes && rc == 0; i++)
			if (on_change)
				rc = on_change(res->changes[i], arg);
		if (rc == 0) {
			cursor = *next_cursor = res->next_cursor;
			*has_more = res->has_more ? 1 : 0;
		}
		wire_free(reply);
		reply = NULL;
		if (rc || !*has_more || got == pages)
			break;
		rc = client_pull_next_page(c, cursor, &reply);
	}
	/* Stopped early by on_change: pages still on their way would be read as replies to the
	 * next request; a new connection is simpler than draining them. */
	if (rc && c->authenticated)
		client_drop(c);
	return rc;
}

static int set_cursor_txn(struct local_txn *t, void *arg)
{
	return local_put_u64(t, LOCAL_META_PULL_CURSOR, *(const uint64_t *)arg);
}

int veille_set_cursor(struct veille_client *c, uint64_t cursor)
{
	int rc;

	errors_clear(&c->last_error);
	if ((rc = client_need_local(c)))
		return rc;
	return local_write(c->local, set_cursor_txn, &cursor, &c->last_error);
}

const struct veille_error *veille_last_error(const struct veille_client *c)
{
	return &c->last_error;
}
