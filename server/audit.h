/* audit: the append-only, MAC-chained audit log (issue 5; docs/threat-model.md).
 *
 * Each entry is appended in the same transaction as the action it records, and holds the MAC
 * (keyed BLAKE2b-256, key KEYRING_AUDIT derived from the master key) of itself, the previous
 * entry's MAC included. audit_verify walks the chain: an entry edited (any byte), removed,
 * inserted or moved breaks it there. Entries hold ids, numbers and action names, never a field
 * value.
 *
 * What is audited:
 *  - veillectl's administrative actions (actor "veillectl"); one about a person (person erase)
 *    names them in person_id;
 *  - every disclosure of personal data by a pull: one entry per page that discloses at least
 *    one record version ("disclose", actor the professional, with the device, structure and
 *    role), listing for each version its record id, version, person, record kind, the
 *    relation of the rule row that let it through, the classes and the field numbers shown
 *    (policy_grant). It is appended in the write transaction that reads the page (sync.c, on
 *    the commit writer), so a page is sent only if its entry is committed.
 * Not audited: pages that disclose nothing (empty, or withdrawals only: a record id the
 * device already had); places and aggregates (no personal data); the fields a person profile
 * always carries (its team_id, OPERATIONAL). What a device does with what it received is out of
 * the server's sight.
 *
 * Index: STORE_DB_AUDIT_PERSONS holds person id | seq for every entry naming the person
 * (disclosures and admin actions), so audit_person reads that person's entries only. It is not
 * MACed: audit_verify checks that every entry's persons have their index row (a row removed to
 * hide a disclosure from the person's report is found there), and audit_person reads only
 * what the entries themselves say about the person (a row added shows nothing false).
 *
 * Retention (DOMAIN.md rule 7): audit_prune removes the entries older than a date and
 * re-anchors the chain: STORE_DB_META "audit_anchor" = first kept seq (8) | the MAC the first
 * kept entry chains from (32) | MAC of both (32, same key, its own domain). audit_verify
 * starts there, so every later edit, removal, insertion or move is still found; the anchor
 * itself removed or altered is found too.
 *
 * The last entry's seq and MAC are also kept in STORE_DB_META "audit_last": the next entry
 * chains from them, so the removal of the LAST entries shows as a break at the next append.
 * Not detected: that removal with "audit_last" rewritten to match (plain bytes, read off the
 * entry left last), and before any append; an anchor outside the store (the last MAC noted
 * elsewhere) is needed for that. Someone holding the master key can rewrite everything. */
#ifndef VEILLE_AUDIT_H
#define VEILLE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "policy.h"

struct store_txn;

/* Appends an entry for actor's action on subject at now_ms. Storage errors. */
int audit_append(struct store_txn *t, uint64_t now_ms, const char *actor, const char *action,
		 const char *subject);

/* As audit_append, for an action about one person (16 bytes; NULL: none), which is indexed
 * under them for audit_person. Storage errors. */
int audit_append_about(struct store_txn *t, uint64_t now_ms, const char *actor,
		       const char *action, const char *subject, const uint8_t *person_id);

/* Who received a disclosure (borrowed). */
struct audit_recipient {
	const char *professional_id;
	const uint8_t *device_id; /* 16 bytes */
	const char *structure_id;
	int role;                 /* Veille__V1__Role */
};

/* One record version disclosed (borrowed). */
struct audit_disclosure {
	const char *record_id;
	uint64_t version;
	const uint8_t *person_id; /* 16 bytes */
	const struct policy_grant *grant;
};

/* Appends one "disclose" entry for the n (> 0) versions of d disclosed to r by how ("pull"),
 * and indexes it under each of their persons. Storage errors. */
int audit_append_disclosures(struct store_txn *t, uint64_t now_ms, const char *how,
			     const struct audit_recipient *r, const struct audit_disclosure *d,
			     size_t n);

/* What audit_verify found. */
struct audit_report {
	uint64_t entries;   /* entries read */
	uint64_t first_seq; /* where the chain starts: 1, or the anchor's seq after a prune */
	uint64_t bad_seq;   /* 0 if the chain is whole; else the seq where it breaks */
	const char *why;    /* with bad_seq: what is wrong (static text) */
};

/* Walks the whole log from its anchor. STORE_OK with report->bad_seq 0: whole. Storage errors
 * otherwise. */
int audit_verify(struct store_txn *t, struct audit_report *report);

/* Calls fn for each entry in order (for `veillectl audit list`), after checking it chains;
 * fn returns 0 to go on. e is borrowed for the call. STORE_EFORGED where the chain breaks
 * (entries before it were passed), storage errors. */
typedef int (*audit_fn)(const Veille__Store__V1__AuditEntry *e, void *arg);
int audit_each(struct store_txn *t, audit_fn fn, void *arg);

/* Calls fn, oldest first, for each entry naming person_id (16 bytes: a disclosure of their
 * data or an action about them), read through the person index (no scan of the log). Each
 * entry passed is checked: its own MAC, its seq, and that it chains from the entry before it
 * (or the anchor); the whole chain is audit_verify's. fn returns 0 to go on. STORE_EFORGED at
 * the first entry that fails those checks, storage errors. */
int audit_person(struct store_txn *t, const uint8_t person_id[16], audit_fn fn, void *arg);

/* Removes, oldest first, at most max entries older than before_ms, after checking that they
 * chain (a broken log is not pruned: STORE_EFORGED, nothing removed), with their index rows,
 * and re-anchors the chain at the first entry kept. *removed: how many. The caller appends
 * its own record of the prune in the same transaction. Storage errors. */
int audit_prune(struct store_txn *t, uint64_t before_ms, size_t max, size_t *removed);

#endif
