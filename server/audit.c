/* audit: see audit.h. */
#include "audit.h"

#include "codec.h"
#include "keyring.h"
#include "store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAC_BYTES 32

/* The MAC of entry e (its mac field ignored) chained to prev. */
static int entry_mac(struct store_txn *t, const Veille__Store__V1__AuditEntry *e,
		     uint8_t out[MAC_BYTES])
{
	Veille__Store__V1__AuditEntry copy = *e;
	crypto_generichash_state st;
	uint8_t *buf;
	size_t len;

	copy.mac.data = NULL;
	copy.mac.len = 0;
	if (codec_pack(&copy.base, &buf, &len) != 0)
		return STORE_ENOMEM;
	crypto_generichash_init(&st, keyring_key(store_txn_keyring(t), KEYRING_AUDIT),
				KEYRING_KEY_BYTES, MAC_BYTES);
	crypto_generichash_update(&st, buf, len);
	crypto_generichash_final(&st, out, MAC_BYTES);
	free(buf);
	return STORE_OK;
}

/* The last entry's seq and mac (0 and zeros if the log is empty). */
struct last {
	uint64_t seq;
	uint8_t mac[MAC_BYTES];
};

static int get_last(struct store_txn *t, struct last *l)
{
	Veille__Store__V1__AuditEntry *e;
	const void *key, *val;
	size_t klen, vlen;
	int rc = store_last_plain(t, STORE_DB_AUDIT, &key, &klen, &val, &vlen);

	memset(l, 0, sizeof(*l));
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	e = (Veille__Store__V1__AuditEntry *)codec_unpack(
		&veille__store__v1__audit_entry__descriptor, val, vlen);
	/* A broken last entry still gets a successor (an action, a revocation above all, is
	 * never refused for the log's sake); audit_verify reports the break. */
	if (klen == 8)
		l->seq = store_be64_get(key);
	if (e && e->mac.len == MAC_BYTES)
		memcpy(l->mac, e->mac.data, MAC_BYTES);
	codec_stored_free(e ? &e->base : NULL);
	return STORE_OK;
}

int audit_append(struct store_txn *t, uint64_t now_ms, const char *actor, const char *action,
		 const char *subject)
{
	Veille__Store__V1__AuditEntry e = VEILLE__STORE__V1__AUDIT_ENTRY__INIT;
	struct last l;
	uint8_t key[8], mac[MAC_BYTES], *buf;
	size_t len;
	int rc;

	if ((rc = get_last(t, &l)) != STORE_OK)
		return rc;
	e.seq = l.seq + 1;
	e.at_ms = now_ms;
	e.actor = (char *)actor;
	e.action = (char *)action;
	e.subject = (char *)(subject ? subject : "");
	e.prev.data = l.mac;
	e.prev.len = MAC_BYTES;
	if ((rc = entry_mac(t, &e, mac)) != STORE_OK)
		return rc;
	e.mac.data = mac;
	e.mac.len = MAC_BYTES;
	if (codec_pack(&e.base, &buf, &len) != 0)
		return STORE_ENOMEM;
	store_be64_put(key, e.seq);
	rc = store_put_plain(t, STORE_DB_AUDIT, key, sizeof(key), buf, len, STORE_APPEND);
	free(buf);
	return rc;
}

struct walk {
	struct store_txn *t;
	struct audit_report *r;
	uint8_t prev[MAC_BYTES];
	audit_fn fn;
	void *arg;
};

static int check_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct walk *w = arg;
	Veille__Store__V1__AuditEntry *e;
	uint8_t mac[MAC_BYTES];
	uint64_t pos = ++w->r->entries;
	int rc = 0;

	if (klen != 8) {
		w->r->why = "an entry's key is not a sequence number";
		goto bad;
	}
	e = (Veille__Store__V1__AuditEntry *)codec_unpack(
		&veille__store__v1__audit_entry__descriptor, val, vlen);
	if (!e) {
		w->r->why = "an entry does not decode";
		goto bad;
	}
	if (store_be64_get(key) != pos || e->seq != pos)
		w->r->why = "an entry is missing, inserted or out of order";
	else if (e->prev.len != MAC_BYTES || sodium_memcmp(e->prev.data, w->prev, MAC_BYTES))
		w->r->why = "an entry does not follow the previous one";
	else if (e->mac.len != MAC_BYTES || entry_mac(w->t, e, mac) != STORE_OK ||
		 sodium_memcmp(mac, e->mac.data, MAC_BYTES))
		w->r->why = "an entry was altered";
	else {
		memcpy(w->prev, e->mac.data, MAC_BYTES);
		if (w->fn)
			rc = w->fn(e->seq, e->at_ms, e->actor, e->action, e->subject, w->arg);
		codec_stored_free(&e->base);
		return rc;
	}
	codec_stored_free(&e->base);
bad:
	w->r->bad_seq = pos;
	return 1;
}

static int walk(struct store_txn *t, struct audit_report *r, audit_fn fn, void *arg)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	memset(r, 0, sizeof(*r));
	w.t = t;
	w.r = r;
	w.fn = fn;
	w.arg = arg;
	rc = store_scan(t, STORE_DB_AUDIT, NULL, 0, NULL, 0, check_one, &w);
	return rc < 0 ? -rc : STORE_OK;
}

int audit_verify(struct store_txn *t, struct audit_report *report)
{
	return walk(t, report, NULL, NULL);
}

int audit_each(struct store_txn *t, audit_fn fn, void *arg)
{
	struct audit_report r;
	int rc = walk(t, &r, fn, arg);

	return rc == STORE_OK && r.bad_seq ? STORE_EFORGED : rc;
}
