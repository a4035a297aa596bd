/* test_audit: the MAC-chained audit log. Every byte of an entry tampered with, an entry
 * removed, moved or forged is reported where the chain breaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_chain_verifies, unit_txn_setup,
						unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_every_byte_tampered_is_reported,
						unit_txn_setup, unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_removed_entry_is_reported, unit_txn_setup,
						unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_reordered_entries_are_reported, unit_txn_setup,
						unit_txn_teardown),
		cmocka_unit_test_setup_teardown(test_inserted_entry_is_reported, unit_txn_setup,
						unit_txn_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
