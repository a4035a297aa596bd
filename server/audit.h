/* audit: the append-only, MAC-chained audit log (issue 5; docs/threat-model.md).
 *
 * Each entry is appended in the same transaction as the action it records, and holds the MAC
 * (keyed BLAKE2b-256, key KEYRING_AUDIT derived from the master key) of the previous entry's
 * MAC and of itself. audit_verify walks the chain: an entry edited (any byte), removed,
 * inserted or moved breaks it there. Entries hold ids and action names, never a field value.
 *
 * Today: veillectl's administrative actions. Disclosures (who received which record version
 * and which fields) are to come (issue 5). Not detected: the removal of the LAST entries
 * together with nothing else (the chain that is left is whole); an anchor outside the store
 * (the last MAC noted elsewhere) is needed for that. */
#ifndef VEILLE_AUDIT_H
#define VEILLE_AUDIT_H

#include <stdint.h>

struct store_txn;

/* Appends an entry for actor's action on subject at now_ms. Storage errors. */
int audit_append(struct store_txn *t, uint64_t now_ms, const char *actor, const char *action,
		 const char *subject);

/* What audit_verify found. */
struct audit_report {
	uint64_t entries;   /* entries read */
	uint64_t bad_seq;   /* 0 if the chain is whole; else the first entry (position) that breaks */
	const char *why;    /* with bad_seq: what is wrong (static text) */
};

/* Walks the whole log. STORE_OK with report->bad_seq 0: whole. Storage errors otherwise. */
int audit_verify(struct store_txn *t, struct audit_report *report);

/* Calls fn for each entry in order (for `veillectl audit list`); fn returns 0 to go on. */
typedef int (*audit_fn)(uint64_t seq, uint64_t at_ms, const char *actor, const char *action,
			const char *subject, void *arg);
int audit_each(struct store_txn *t, audit_fn fn, void *arg);

#endif
