/* audit: see audit.h. */
#include "audit.h"

#include "keyring.h"
#include "store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAC_BYTES 32
#define PID_BYTES 16
#define INDEX_KEY_BYTES (PID_BYTES + 8)
#define ANCHOR_KEY "audit_anchor"
#define LAST_KEY "audit_last" /* META: seq (8) | mac (32) of the last entry appended */
#define ANCHOR_BYTES (8 + MAC_BYTES + MAC_BYTES)
/* The anchor's MAC input starts with this text; a packed entry starts with field 1's tag
 * (0x08) or another small tag, never with 'v' (field 14, wire type 6, invalid): the two kinds
 * of MAC input cannot be taken for one another. */
#define ANCHOR_DOMAIN "veille.audit.anchor.v1"

static const uint8_t ZEROS[MAC_BYTES];

static int mac_bytes(struct store_txn *t, const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen, uint8_t out[MAC_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, keyring_key(store_txn_keyring(t), KEYRING_AUDIT),
				KEYRING_KEY_BYTES, MAC_BYTES);
	crypto_generichash_update(&st, a, alen);
	if (b)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, MAC_BYTES);
	return STORE_OK;
}

/* The MAC of entry e (its mac field ignored, its prev included). */
static int entry_mac(struct store_txn *t, const Veille__Store__V1__AuditEntry *e,
		     uint8_t out[MAC_BYTES])
{
	Veille__Store__V1__AuditEntry copy = *e;
	uint8_t *buf;
	size_t len;

	copy.mac.data = NULL;
	copy.mac.len = 0;
	if (codec_pack(&copy.base, &buf, &len) != 0)
		return STORE_ENOMEM;
	mac_bytes(t, buf, len, NULL, 0, out);
	free(buf);
	return STORE_OK;
}

/* ---- the anchor of a pruned log ---- */

struct anchor {
	uint64_t first_seq;     /* 1 if the log was never pruned */
	uint8_t prev[MAC_BYTES]; /* what entry first_seq chains from (zeros if never pruned) */
	int present, valid;
};

static void anchor_mac(struct store_txn *t, uint64_t first_seq, const uint8_t prev[MAC_BYTES],
		       uint8_t out[MAC_BYTES])
{
	uint8_t in[sizeof(ANCHOR_DOMAIN) + 8 + MAC_BYTES];

	memcpy(in, ANCHOR_DOMAIN, sizeof(ANCHOR_DOMAIN));
	store_be64_put(in + sizeof(ANCHOR_DOMAIN), first_seq);
	memcpy(in + sizeof(ANCHOR_DOMAIN) + 8, prev, MAC_BYTES);
	mac_bytes(t, in, sizeof(in), NULL, 0, out);
}

static int get_anchor(struct store_txn *t, struct anchor *a)
{
	const uint8_t *v;
	const void *val;
	size_t vlen;
	uint8_t mac[MAC_BYTES];
	int rc = store_get_plain(t, STORE_DB_META, ANCHOR_KEY, strlen(ANCHOR_KEY), &val, &vlen);

	memset(a, 0, sizeof(*a));
	a->first_seq = 1;
	a->valid = 1;
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	a->present = 1;
	a->valid = 0;
	if (vlen != ANCHOR_BYTES)
		return STORE_OK;
	v = val;
	a->first_seq = store_be64_get(v);
	memcpy(a->prev, v + 8, MAC_BYTES);
	anchor_mac(t, a->first_seq, a->prev, mac);
	a->valid = a->first_seq > 0 && sodium_memcmp(mac, v + 8 + MAC_BYTES, MAC_BYTES) == 0;
	return STORE_OK;
}

static int put_anchor(struct store_txn *t, uint64_t first_seq, const uint8_t prev[MAC_BYTES])
{
	uint8_t v[ANCHOR_BYTES];

	store_be64_put(v, first_seq);
	memcpy(v + 8, prev, MAC_BYTES);
	anchor_mac(t, first_seq, prev, v + 8 + MAC_BYTES);
	return store_put_plain(t, STORE_DB_META, ANCHOR_KEY, strlen(ANCHOR_KEY), v, sizeof(v), 0);
}

/* ---- appending ---- */

static Veille__Store__V1__AuditEntry *decode(const void *val, size_t vlen)
{
	return (Veille__Store__V1__AuditEntry *)codec_unpack(
		&veille__store__v1__audit_entry__descriptor, val, vlen);
}

/* The last entry's seq and mac (the anchor's, or 0 and zeros, if the log is empty). */
struct last {
	uint64_t seq;
	uint8_t mac[MAC_BYTES];
};

/* What the next entry chains from: kept in META by append, so that a page's disclosures do
 * not unpack the previous page's entry (a log of an older format falls back to reading its last
 * entry). An entry removed at the end then breaks the chain at the next append. */
static int get_last(struct store_txn *t, struct last *l)
{
	Veille__Store__V1__AuditEntry *e;
	struct anchor a;
	const void *key, *val;
	size_t klen, vlen;
	int rc = store_get_plain(t, STORE_DB_META, LAST_KEY, strlen(LAST_KEY), &val, &vlen);

	memset(l, 0, sizeof(*l));
	if (rc == STORE_OK && vlen == 8 + MAC_BYTES) {
		l->seq = store_be64_get(val);
		memcpy(l->mac, (const uint8_t *)val + 8, MAC_BYTES);
		return STORE_OK;
	}
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		return rc;
	rc = store_last_plain(t, STORE_DB_AUDIT, &key, &klen, &val, &vlen);
	if (rc == STORE_ENOTFOUND) {
		if ((rc = get_anchor(t, &a)) == STORE_OK && a.present) {
			l->seq = a.first_seq - 1;
			memcpy(l->mac, a.prev, MAC_BYTES);
		}
		return rc;
	}
	if (rc != STORE_OK)
		return rc;
	e = decode(val, vlen);
	/* A broken last entry still gets a successor (an action, a revocation above all, is
	 * never refused for the log's sake); audit_verify reports the break. */
	if (klen == 8)
		l->seq = store_be64_get(key);
	if (e && e->mac.len == MAC_BYTES)
		memcpy(l->mac, e->mac.data, MAC_BYTES);
	codec_stored_free(e ? &e->base : NULL);
	return STORE_OK;
}

static void index_key(uint8_t key[INDEX_KEY_BYTES], const uint8_t *pid, uint64_t seq)
{
	memcpy(key, pid, PID_BYTES);
	store_be64_put(key + PID_BYTES, seq);
}

/* Chains, MACs and writes e (seq, prev and mac set here), then its persons' index rows. */
static int append(struct store_txn *t, Veille__Store__V1__AuditEntry *e)
{
	struct last l;
	uint8_t key[8], ikey[INDEX_KEY_BYTES], mac[MAC_BYTES], *buf;
	const uint8_t *done = NULL;
	size_t len;
	int rc;

	if ((rc = get_last(t, &l)) != STORE_OK)
		return rc;
	e->seq = l.seq + 1;
	e->prev.data = l.mac;
	e->prev.len = MAC_BYTES;
	if ((rc = entry_mac(t, e, mac)) != STORE_OK)
		return rc;
	e->mac.data = mac;
	e->mac.len = MAC_BYTES;
	if (codec_pack(&e->base, &buf, &len) != 0)
		return STORE_ENOMEM;
	store_be64_put(key, e->seq);
	rc = store_put_plain(t, STORE_DB_AUDIT, key, sizeof(key), buf, len, STORE_APPEND);
	free(buf);
	if (rc == STORE_OK) {
		uint8_t last[8 + MAC_BYTES];

		store_be64_put(last, e->seq);
		memcpy(last + 8, mac, MAC_BYTES);
		rc = store_put_plain(t, STORE_DB_META, LAST_KEY, strlen(LAST_KEY), last,
				     sizeof(last), 0);
	}
	if (rc == STORE_OK && e->person_id.len == PID_BYTES) {
		index_key(ikey, e->person_id.data, e->seq);
		rc = store_put_plain(t, STORE_DB_AUDIT_PERSONS, ikey, sizeof(ikey), "", 0, 0);
	}
	for (size_t i = 0; rc == STORE_OK && i < e->n_disclosures; i++) {
		const uint8_t *pid = e->disclosures[i]->person_id.data;

		if (e->disclosures[i]->person_id.len != PID_BYTES ||
		    (done && memcmp(done, pid, PID_BYTES) == 0))
			continue; /* a page often holds several records of one person in a row */
		index_key(ikey, pid, e->seq);
		rc = store_put_plain(t, STORE_DB_AUDIT_PERSONS, ikey, sizeof(ikey), "", 0, 0);
		done = pid;
	}
	return rc;
}

int audit_append_about(struct store_txn *t, uint64_t now_ms, const char *actor,
		       const char *action, const char *subject, const uint8_t *person_id)
{
	Veille__Store__V1__AuditEntry e = VEILLE__STORE__V1__AUDIT_ENTRY__INIT;

	e.at_ms = now_ms;
	e.actor = (char *)actor;
	e.action = (char *)action;
	e.subject = (char *)(subject ? subject : "");
	if (person_id) {
		e.person_id.data = (uint8_t *)person_id;
		e.person_id.len = PID_BYTES;
	}
	return append(t, &e);
}

int audit_append(struct store_txn *t, uint64_t now_ms, const char *actor, const char *action,
		 const char *subject)
{
	return audit_append_about(t, now_ms, actor, action, subject, NULL);
}

int audit_append_disclosures(struct store_txn *t, uint64_t now_ms, const char *how,
			     const struct audit_recipient *r, const struct audit_disclosure *d,
			     size_t n)
{
	Veille__Store__V1__AuditEntry e = VEILLE__STORE__V1__AUDIT_ENTRY__INIT;
	Veille__Store__V1__AuditDisclosure *ds = calloc(n ? n : 1, sizeof(*ds));
	Veille__Store__V1__AuditDisclosure **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	int rc = STORE_ENOMEM;

	if (!ds || !ptrs)
		goto out;
	for (size_t i = 0; i < n; i++) {
		veille__store__v1__audit_disclosure__init(&ds[i]);
		ds[i].record_id = (char *)d[i].record_id;
		ds[i].version = d[i].version;
		ds[i].person_id.data = (uint8_t *)d[i].person_id;
		ds[i].person_id.len = PID_BYTES;
		ds[i].record_kind = (uint32_t)d[i].grant->record_case;
		ds[i].relation = (uint32_t)d[i].grant->relation;
		ds[i].classes = d[i].grant->classes;
		ds[i].n_fields = d[i].grant->n_fields;
		ds[i].fields = (uint32_t *)d[i].grant->fields;
		ptrs[i] = &ds[i];
	}
	e.at_ms = now_ms;
	e.actor = (char *)r->professional_id;
	e.action = "disclose";
	e.subject = (char *)how;
	e.device_id.data = (uint8_t *)r->device_id;
	e.device_id.len = 16;
	e.structure_id = (char *)r->structure_id;
	e.role = (Veille__V1__Role)r->role;
	e.n_disclosures = n;
	e.disclosures = ptrs;
	rc = append(t, &e);
out:
	free(ds);
	free(ptrs);
	return rc;
}

/* ---- checking ---- */

/* Whether every person e names has its index row. */
static int indexed(struct store_txn *t, const Veille__Store__V1__AuditEntry *e)
{
	uint8_t key[INDEX_KEY_BYTES];
	const void *val;
	size_t vlen;

	if (e->person_id.len == PID_BYTES) {
		index_key(key, e->person_id.data, e->seq);
		if (store_get_plain(t, STORE_DB_AUDIT_PERSONS, key, sizeof(key), &val, &vlen))
			return 0;
	}
	for (size_t i = 0; i < e->n_disclosures; i++) {
		if (e->disclosures[i]->person_id.len != PID_BYTES)
			return 0;
		index_key(key, e->disclosures[i]->person_id.data, e->seq);
		if (store_get_plain(t, STORE_DB_AUDIT_PERSONS, key, sizeof(key), &val, &vlen))
			return 0;
	}
	return 1;
}

/* Why entry e, read under key seq, does not follow prev (NULL if it does). */
static const char *broken(struct store_txn *t, const Veille__Store__V1__AuditEntry *e,
			  uint64_t seq, const uint8_t prev[MAC_BYTES])
{
	uint8_t mac[MAC_BYTES];

	if (e->seq != seq)
		return "an entry is missing, inserted or out of order";
	if (e->prev.len != MAC_BYTES || sodium_memcmp(e->prev.data, prev, MAC_BYTES))
		return "an entry does not follow the previous one";
	if (e->mac.len != MAC_BYTES || entry_mac(t, e, mac) != STORE_OK ||
	    sodium_memcmp(mac, e->mac.data, MAC_BYTES))
		return "an entry was altered";
	return NULL;
}

struct walk {
	struct store_txn *t;
	struct audit_report *r;
	uint8_t prev[MAC_BYTES];
	uint64_t before_ms; /* audit_prune: stop at the first entry at or after it (0: never) */
	size_t max;         /* audit_prune: at most this many */
	audit_fn fn;
	void *arg;
};

static int check_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct walk *w = arg;
	Veille__Store__V1__AuditEntry *e;
	uint64_t pos = w->r->first_seq + w->r->entries;
	int rc = 0;

	if (klen != 8) {
		w->r->why = "an entry's key is not a sequence number";
		goto bad;
	}
	if (!(e = decode(val, vlen))) {
		w->r->why = "an entry does not decode";
		goto bad;
	}
	if (w->before_ms && (e->at_ms >= w->before_ms || w->r->entries >= w->max)) {
		codec_stored_free(&e->base);
		return 1; /* audit_prune: the rest is kept */
	}
	if (store_be64_get(key) != pos)
		w->r->why = "an entry is missing, inserted or out of order";
	else if (!(w->r->why = broken(w->t, e, pos, w->prev)) && !w->before_ms &&
		 !indexed(w->t, e))
		w->r->why = "a person's index row of an entry is missing";
	if (w->r->why) {
		codec_stored_free(&e->base);
		goto bad;
	}
	w->r->entries++;
	memcpy(w->prev, e->mac.data, MAC_BYTES);
	if (w->fn)
		rc = w->fn(e, w->arg);
	codec_stored_free(&e->base);
	return rc;
bad:
	w->r->bad_seq = pos;
	return 1;
}

/* Walks the log from its anchor (see struct walk for audit_prune's bounds). */
static int walk(struct store_txn *t, struct audit_report *r, struct walk *w)
{
	struct anchor a;
	uint8_t start[8];
	int rc;

	memset(r, 0, sizeof(*r));
	w->t = t;
	w->r = r;
	if ((rc = get_anchor(t, &a)) != STORE_OK)
		return rc;
	r->first_seq = a.first_seq;
	if (!a.valid) {
		r->bad_seq = a.first_seq ? a.first_seq : 1;
		r->why = "the anchor of the pruned log was altered";
		return STORE_OK;
	}
	memcpy(w->prev, a.prev, MAC_BYTES);
	store_be64_put(start, a.first_seq);
	rc = store_scan(t, STORE_DB_AUDIT, NULL, 0, start, sizeof(start), check_one, w);
	return rc < 0 ? -rc : STORE_OK;
}

int audit_verify(struct store_txn *t, struct audit_report *report)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	return walk(t, report, &w);
}

int audit_each(struct store_txn *t, audit_fn fn, void *arg)
{
	struct audit_report r;
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.fn = fn;
	w.arg = arg;
	rc = walk(t, &r, &w);
	return rc == STORE_OK && r.bad_seq ? STORE_EFORGED : rc;
}

/* The entry stored under seq (caller frees), or NULL with STORE_ENOTFOUND / an error. */
static int get_entry(struct store_txn *t, uint64_t seq, Veille__Store__V1__AuditEntry **out)
{
	uint8_t key[8];
	const void *val;
	size_t vlen;
	int rc;

	*out = NULL;
	store_be64_put(key, seq);
	if ((rc = store_get_plain(t, STORE_DB_AUDIT, key, sizeof(key), &val, &vlen)) != STORE_OK)
		return rc;
	*out = decode(val, vlen);
	return *out ? STORE_OK : STORE_EFORGED;
}

static int names(const Veille__Store__V1__AuditEntry *e, const uint8_t *pid)
{
	if (e->person_id.len == PID_BYTES && !memcmp(e->person_id.data, pid, PID_BYTES))
		return 1;
	for (size_t i = 0; i < e->n_disclosures; i++)
		if (e->disclosures[i]->person_id.len == PID_BYTES &&
		    !memcmp(e->disclosures[i]->person_id.data, pid, PID_BYTES))
			return 1;
	return 0;
}

struct person_walk {
	struct store_txn *t;
	const uint8_t *pid;
	struct anchor a;
	audit_fn fn;
	void *arg;
	int rc;
};

static int person_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct person_walk *p = arg;
	Veille__Store__V1__AuditEntry *e = NULL, *before = NULL;
	uint64_t seq;
	const uint8_t *prev = ZEROS;
	int rc;

	(void)val;
	(void)vlen;
	if (klen != INDEX_KEY_BYTES)
		return -STORE_EFORGED;
	seq = store_be64_get((const uint8_t *)key + PID_BYTES);
	if (seq < p->a.first_seq)
		return 0; /* pruned */
	if ((rc = get_entry(p->t, seq, &e)) != STORE_OK)
		return rc == STORE_ENOTFOUND ? -STORE_EFORGED : -rc; /* removed */
	if (seq == p->a.first_seq) {
		prev = p->a.prev;
	} else if ((rc = get_entry(p->t, seq - 1, &before)) != STORE_OK) {
		codec_stored_free(&e->base);
		return rc == STORE_ENOTFOUND ? -STORE_EFORGED : -rc;
	} else {
		prev = before->mac.len == MAC_BYTES ? before->mac.data : ZEROS;
	}
	rc = broken(p->t, e, seq, prev) ? -STORE_EFORGED
	     : names(e, p->pid) && p->fn(e, p->arg) ? 1 : 0;
	codec_stored_free(&e->base);
	if (before)
		codec_stored_free(&before->base);
	return rc;
}

int audit_person(struct store_txn *t, const uint8_t person_id[16], audit_fn fn, void *arg)
{
	struct person_walk p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.t = t;
	p.pid = person_id;
	p.fn = fn;
	p.arg = arg;
	if ((rc = get_anchor(t, &p.a)) != STORE_OK)
		return rc;
	if (!p.a.valid)
		return STORE_EFORGED;
	rc = store_scan(t, STORE_DB_AUDIT_PERSONS, person_id, PID_BYTES, NULL, 0, person_one, &p);
	return rc < 0 ? -rc : STORE_OK;
}

/* ---- retention ---- */

/* Deletes entry seq and its persons' index rows. */
static int remove_entry(struct store_txn *t, uint64_t seq)
{
	Veille__Store__V1__AuditEntry *e;
	uint8_t key[8], ikey[INDEX_KEY_BYTES];
	int rc = get_entry(t, seq, &e);

	if (rc != STORE_OK)
		return rc;
	if (e->person_id.len == PID_BYTES) {
		index_key(ikey, e->person_id.data, seq);
		rc = store_del(t, STORE_DB_AUDIT_PERSONS, ikey, sizeof(ikey));
	}
	for (size_t i = 0; (rc == STORE_OK || rc == STORE_ENOTFOUND) && i < e->n_disclosures; i++) {
		if (e->disclosures[i]->person_id.len != PID_BYTES)
			continue;
		index_key(ikey, e->disclosures[i]->person_id.data, seq);
		rc = store_del(t, STORE_DB_AUDIT_PERSONS, ikey, sizeof(ikey));
	}
	codec_stored_free(&e->base);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND) /* a person's rows repeat in one entry */
		return rc;
	store_be64_put(key, seq);
	return store_del(t, STORE_DB_AUDIT, key, sizeof(key));
}

int audit_prune(struct store_txn *t, uint64_t before_ms, size_t max, size_t *removed)
{
	struct audit_report r;
	struct walk w;
	int rc;

	*removed = 0;
	if (!before_ms || !max)
		return STORE_OK;
	memset(&w, 0, sizeof(w));
	w.before_ms = before_ms;
	w.max = max;
	if ((rc = walk(t, &r, &w)) != STORE_OK)
		return rc;
	if (r.bad_seq)
		return STORE_EFORGED; /* the evidence of a break is not removed */
	for (uint64_t s = r.first_seq; rc == STORE_OK && s < r.first_seq + r.entries; s++)
		rc = remove_entry(t, s);
	if (rc == STORE_OK && r.entries)
		rc = put_anchor(t, r.first_seq + r.entries, w.prev);
	if (rc == STORE_OK)
		*removed = (size_t)r.entries;
	return rc;
}
