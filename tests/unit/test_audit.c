/* test_audit: the MAC-chained audit log. Every byte of an entry tampered with, an entry
 * removed, moved or forged is reported where the chain breaks, for administrative actions and
 * disclosures alike; a person's entries are found through the person index; a pruned log is
 * re-anchored and still checked from there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit.h"
#include "unit.h"

#define N 5

static void fill(struct store_txn *t)
{
	static const char *const actions[N] = {"structure add", "professional add",
					       "professional pair", "device revoke", "person erase"};

	for (int i = 0; i < N; i++)
		assert_int_equal(audit_append(t, 1000 + i, "veillectl", actions[i], "maraude-75"),
				 STORE_OK);
}

static uint64_t broken_at(struct store_txn *t)
{
	struct audit_report r;

	assert_int_equal(audit_verify(t, &r), STORE_OK);
	return r.bad_seq;
}

/* The stored bytes of entry seq (copied). */
static uint8_t *get(struct store_txn *t, uint64_t seq, size_t *len)
{
	uint8_t key[8], *copy;
	const void *val;

	store_be64_put(key, seq);
	assert_int_equal(store_get_plain(t, STORE_DB_AUDIT, key, 8, &val, len), STORE_OK);
	copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, val, *len);
	return copy;
}

static void put(struct store_txn *t, uint64_t seq, const uint8_t *val, size_t len)
{
	uint8_t key[8];

	store_be64_put(key, seq);
	assert_int_equal(store_put_plain(t, STORE_DB_AUDIT, key, 8, val, len, 0), STORE_OK);
}

static void test_whole_chain_verifies(void **state)
{
	struct unit_txn *f = *state;
	struct audit_report r;

	fill(f->t);
	assert_int_equal(audit_verify(f->t, &r), STORE_OK);
	assert_int_equal(r.entries, N);
	assert_int_equal(r.bad_seq, 0);
}

/* Bad input: each byte of entry 3 in turn, flipped. */
static void test_every_byte_tampered_is_reported(void **state)
{
	struct unit_txn *f = *state;
	size_t len;
	uint8_t *orig;

	fill(f->t);
	orig = get(f->t, 3, &len);
	for (size_t i = 0; i < len; i++) {
		uint8_t *bad = malloc(len);

		memcpy(bad, orig, len);
		bad[i] ^= 0x01;
		put(f->t, 3, bad, len);
		assert_int_equal(broken_at(f->t), 3);
		free(bad);
	}
	put(f->t, 3, orig, len);
	assert_int_equal(broken_at(f->t), 0);
	free(orig);
}

static void test_removed_entry_is_reported(void **state)
{
	struct unit_txn *f = *state;
	uint8_t key[8];

	fill(f->t);
	store_be64_put(key, 3);
	assert_int_equal(store_del(f->t, STORE_DB_AUDIT, key, 8), STORE_OK);
	assert_int_equal(broken_at(f->t), 3);
}

/* Bad input: the last entry removed. What is left is a whole chain, but the next entry chains
 * from the removed one (its MAC is kept apart, in META): the break shows at the next append. */
static void test_removed_last_entry_shows_at_next_append(void **state)
{
	struct unit_txn *f = *state;
	uint8_t key[8];

	fill(f->t);
	store_be64_put(key, N);
	assert_int_equal(store_del(f->t, STORE_DB_AUDIT, key, 8), STORE_OK);
	assert_int_equal(broken_at(f->t), 0);
	assert_int_equal(audit_append(f->t, 2000, "veillectl", "device revoke", "d"), STORE_OK);
	assert_int_equal(broken_at(f->t), N); /* where entry N was */
}

static void test_reordered_entries_are_reported(void **state)
{
	struct unit_txn *f = *state;
	size_t l2, l3;
	uint8_t *e2, *e3;

	fill(f->t);
	e2 = get(f->t, 2, &l2);
	e3 = get(f->t, 3, &l3);
	put(f->t, 2, e3, l3);
	put(f->t, 3, e2, l2);
	assert_int_equal(broken_at(f->t), 2);
	free(e2);
	free(e3);
}

/* Bad input: an entry inserted (a copy of entry 2 in place of 3, the rest moved up). */
static void test_inserted_entry_is_reported(void **state)
{
	struct unit_txn *f = *state;
	uint8_t *e[N + 1];
	size_t l[N + 1];

	fill(f->t);
	for (uint64_t s = 1; s <= N; s++)
		e[s] = get(f->t, s, &l[s]);
	put(f->t, 3, e[2], l[2]);
	for (uint64_t s = 3; s <= N; s++)
		put(f->t, s + 1, e[s], l[s]);
	assert_int_equal(broken_at(f->t), 3);
	for (uint64_t s = 1; s <= N; s++)
		free(e[s]);
}

/* ---- disclosures ---- */

static const uint8_t P[16] = {0xaa, 1}, Q[16] = {0xbb, 2}, DEVICE[16] = {0xdd};

/* Appends one page disclosing record r1 (about P, an encounter, 3 fields) and r2 (about Q, a
 * person profile, 2 values) to a maraudeur, at at_ms. */
static void disclose(struct store_txn *t, uint64_t at_ms)
{
	static const struct policy_grant enc = {VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER,
						 POLICY_REL_AUTHOR, 0x0f, {1, 2, 8}, 3};
	static const struct policy_grant per = {VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON,
						 POLICY_REL_AUTHOR, 0x0f, {1, 4}, 2};
	const struct audit_recipient who = {"pro-marc", DEVICE, "maraude-75",
					    VEILLE__V1__ROLE__ROLE_MARAUDEUR};
	const struct audit_disclosure d[3] = {
		{"0123456789abcdef0123456789abcdef", 1, P, &enc},
		{"bb020000000000000000000000000000", 2, Q, &per},
		{"0123456789abcdef0123456789abcdee", 1, P, &enc},
	};

	assert_int_equal(audit_append_disclosures(t, at_ms, "pull", &who, d, 3), STORE_OK);
}

struct seen {
	size_t n;
	uint64_t seq[8];
	char action[8][32];
};

static int see(const Veille__Store__V1__AuditEntry *e, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->seq[s->n] = e->seq;
		snprintf(s->action[s->n], sizeof(s->action[0]), "%s", e->action);
	}
	s->n++;
	return 0;
}

/*
 * A page's disclosures are one entry: who (professional, device, structure, role) and, per
 * version, record id, version, person, kind, rule and field numbers; the chain covers it; the
 * person index lists P's disclosure and the action about P (oldest first), Q's disclosure for
 * Q, nothing for a third person.
 */
static void test_disclosures_chained_and_indexed(void **state)
{
	struct unit_txn *f = *state;
	const uint8_t nobody[16] = {0xcc};
	struct audit_report r;
	struct seen s;
	Veille__Store__V1__AuditEntry *e;
	const void *val;
	size_t len;
	uint8_t key[8];

	fill(f->t);
	disclose(f->t, 2000);
	assert_int_equal(audit_append_about(f->t, 3000, "veillectl", "person erase", "aa01", P),
			 STORE_OK);
	assert_int_equal(audit_verify(f->t, &r), STORE_OK);
	assert_int_equal(r.entries, N + 2);
	assert_int_equal(r.bad_seq, 0);

	store_be64_put(key, N + 1);
	assert_int_equal(store_get_plain(f->t, STORE_DB_AUDIT, key, 8, &val, &len), STORE_OK);
	e = (Veille__Store__V1__AuditEntry *)codec_unpack(
		&veille__store__v1__audit_entry__descriptor, val, len);
	assert_non_null(e);
	assert_string_equal(e->action, "disclose");
	assert_string_equal(e->actor, "pro-marc");
	assert_string_equal(e->structure_id, "maraude-75");
	assert_int_equal(e->role, VEILLE__V1__ROLE__ROLE_MARAUDEUR);
	assert_int_equal(e->device_id.len, 16);
	assert_int_equal(e->n_disclosures, 3);
	assert_string_equal(e->disclosures[1]->record_id, "bb020000000000000000000000000000");
	assert_int_equal(e->disclosures[1]->version, 2);
	assert_int_equal(e->disclosures[1]->record_kind,
			 VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON);
	assert_int_equal(e->disclosures[1]->relation, POLICY_REL_AUTHOR);
	assert_int_equal(e->disclosures[1]->n_fields, 2);
	assert_int_equal(e->disclosures[1]->fields[1], 4);
	assert_memory_equal(e->disclosures[1]->person_id.data, Q, 16);
	codec_stored_free(&e->base);

	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_person(f->t, P, see, &s), STORE_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seq[0], N + 1);
	assert_string_equal(s.action[0], "disclose");
	assert_int_equal(s.seq[1], N + 2);
	assert_string_equal(s.action[1], "person erase");
	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_person(f->t, Q, see, &s), STORE_OK);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_person(f->t, nobody, see, &s), STORE_OK);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_each(f->t, see, &s), STORE_OK);
	assert_int_equal(s.n, N + 2);
}

/* Bad input: each byte of a disclosure entry in turn, flipped: verify reports it, and so does
 * the person's listing (which reads that entry alone). */
static void test_every_byte_of_a_disclosure_tampered_is_reported(void **state)
{
	struct unit_txn *f = *state;
	struct seen s;
	size_t len;
	uint8_t *orig;

	fill(f->t);
	disclose(f->t, 2000);
	disclose(f->t, 2001);
	orig = get(f->t, N + 1, &len);
	for (size_t i = 0; i < len; i++) {
		uint8_t *bad = malloc(len);

		memcpy(bad, orig, len);
		bad[i] ^= 0x01;
		put(f->t, N + 1, bad, len);
		assert_int_equal(broken_at(f->t), N + 1);
		memset(&s, 0, sizeof(s));
		assert_int_not_equal(audit_person(f->t, Q, see, &s), STORE_OK);
		free(bad);
	}
	put(f->t, N + 1, orig, len);
	assert_int_equal(broken_at(f->t), 0);
	free(orig);
}

/* Bad input: a person's index row removed (to hide a disclosure from their report); an entry
 * removed under an index row. */
static void test_index_tampering_is_reported(void **state)
{
	struct unit_txn *f = *state;
	uint8_t key[24];
	struct seen s;

	fill(f->t);
	disclose(f->t, 2000);
	disclose(f->t, 2001);
	memcpy(key, Q, 16);
	store_be64_put(key + 16, N + 1);
	assert_int_equal(store_del(f->t, STORE_DB_AUDIT_PERSONS, key, 24), STORE_OK);
	assert_int_equal(broken_at(f->t), N + 1);
	assert_int_equal(store_put_plain(f->t, STORE_DB_AUDIT_PERSONS, key, 24, "", 0, 0),
			 STORE_OK);
	assert_int_equal(broken_at(f->t), 0);
	store_be64_put(key, N + 2);
	assert_int_equal(store_del(f->t, STORE_DB_AUDIT, key, 8), STORE_OK);
	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_person(f->t, Q, see, &s), STORE_EFORGED);
}

/* ---- retention ---- */

static void prune(struct store_txn *t, uint64_t before_ms, size_t max, size_t expect)
{
	size_t removed = 99;

	assert_int_equal(audit_prune(t, before_ms, max, &removed), STORE_OK);
	assert_int_equal(removed, expect);
}

/*
 * Entries at 1000..1004 and a disclosure at 2000: pruning before 1003 removes the first three
 * (with at most 2 per call: two calls), re-anchors at 4: the rest verifies from there, entries
 * appended later too; the pruned disclosure leaves the person's listing with the prune of
 * everything.
 */
static void test_prune_reanchors(void **state)
{
	struct unit_txn *f = *state;
	struct audit_report r;
	struct seen s;

	fill(f->t);
	disclose(f->t, 2000);
	prune(f->t, 1003, 2, 2);
	prune(f->t, 1003, 2, 1);
	prune(f->t, 1003, 2, 0);
	assert_int_equal(audit_verify(f->t, &r), STORE_OK);
	assert_int_equal(r.bad_seq, 0);
	assert_int_equal(r.first_seq, 4);
	assert_int_equal(r.entries, N + 1 - 3);
	assert_int_equal(audit_append(f->t, 3000, "veillectl", "audit prune", "before"), STORE_OK);
	assert_int_equal(broken_at(f->t), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_person(f->t, P, see, &s), STORE_OK);
	assert_int_equal(s.n, 1);
	/* Everything, then a new entry: it chains from the anchor. */
	prune(f->t, 10000, 100, 4);
	memset(&s, 0, sizeof(s));
	assert_int_equal(audit_person(f->t, P, see, &s), STORE_OK);
	assert_int_equal(s.n, 0);
	assert_int_equal(audit_append(f->t, 20000, "veillectl", "audit prune", "before"), STORE_OK);
	assert_int_equal(audit_verify(f->t, &r), STORE_OK);
	assert_int_equal(r.bad_seq, 0);
	assert_int_equal(r.first_seq, N + 3);
	assert_int_equal(r.entries, 1);
}

/* Bad input after a prune: the first kept entry altered, removed; the anchor altered, removed
 * (verify would start at 1 and find 4); a broken log is not pruned. */
static void test_pruned_log_tampering_is_reported(void **state)
{
	struct unit_txn *f = *state;
	uint8_t key[8], *e4, *anchor;
	const void *val;
	size_t l4, alen, removed = 99;

	fill(f->t);
	prune(f->t, 1003, 100, 3);
	e4 = get(f->t, 4, &l4);
	e4[l4 - 1] ^= 1;
	put(f->t, 4, e4, l4);
	assert_int_equal(broken_at(f->t), 4);
	e4[l4 - 1] ^= 1;
	put(f->t, 4, e4, l4);
	assert_int_equal(broken_at(f->t), 0);
	store_be64_put(key, 4);
	assert_int_equal(store_del(f->t, STORE_DB_AUDIT, key, 8), STORE_OK);
	assert_int_equal(broken_at(f->t), 4);
	/* A broken log is not pruned: nothing removed. */
	assert_int_equal(audit_prune(f->t, 1005, 100, &removed), STORE_EFORGED);
	assert_int_equal(removed, 0);
	put(f->t, 4, e4, l4);
	assert_int_equal(broken_at(f->t), 0);

	assert_int_equal(store_get_plain(f->t, STORE_DB_META, "audit_anchor", 12, &val, &alen),
			 STORE_OK);
	anchor = malloc(alen);
	memcpy(anchor, val, alen);
	for (size_t i = 0; i < alen; i++) {
		anchor[i] ^= 0x80;
		assert_int_equal(store_put_plain(f->t, STORE_DB_META, "audit_anchor", 12, anchor,
						 alen, 0), STORE_OK);
		assert_int_not_equal(broken_at(f->t), 0);
		anchor[i] ^= 0x80;
	}
	assert_int_equal(store_del(f->t, STORE_DB_META, "audit_anchor", 12), STORE_OK);
	assert_int_equal(broken_at(f->t), 1);
	assert_int_equal(store_put_plain(f->t, STORE_DB_META, "audit_anchor", 12, anchor, alen, 0),
			 STORE_OK);
	assert_int_equal(broken_at(f->t), 0);
	free(anchor);
	free(e4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_chain_verifies, unit_txn_setup,
						unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_every_byte_tampered_is_reported,
						unit_txn_setup, unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_removed_entry_is_reported, unit_txn_setup,
						unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_removed_last_entry_shows_at_next_append,
						unit_txn_setup, unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_reordered_entries_are_reported, unit_txn_setup,
						unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_inserted_entry_is_reported, unit_txn_setup,
						unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_disclosures_chained_and_indexed,
						unit_txn_setup, unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_every_byte_of_a_disclosure_tampered_is_reported,
						unit_txn_setup, unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_index_tampering_is_reported, unit_txn_setup,
						unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_prune_reanchors, unit_txn_setup,
						unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_log_tampering_is_reported,
						unit_txn_setup, unit_txn_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
