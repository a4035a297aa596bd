/* test_pairing: the shape of generated codes and the normalisation of typed ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "pairing.h"

static const char CROCKFORD[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void test_generated_form(void **state)
{
	char code[PAIRING_TEXT_BYTES], norm[PAIRING_CHARS + 1];

	(void)state;
	for (int round = 0; round < 200; round++) {
		pairing_generate(code);
		assert_int_equal(strlen(code), 14);
		for (size_t i = 0; i < 14; i++) {
			if (i == 4 || i == 9)
				assert_int_equal(code[i], '-');
			else
				assert_non_null(memchr(CROCKFORD, code[i], 32));
		}
		assert_int_equal(pairing_normalise(code, norm), 0);
		assert_int_equal(strlen(norm), PAIRING_CHARS);
		/* Normalising drops the dashes and nothing else. */
		assert_memory_equal(norm, code, 4);
		assert_memory_equal(norm + 4, code + 5, 4);
		assert_memory_equal(norm + 8, code + 10, 4);
	}
}

static void test_generated_codes_differ(void **state)
{
	char a[PAIRING_TEXT_BYTES], b[PAIRING_TEXT_BYTES];

	(void)state;
	pairing_generate(a);
	pairing_generate(b);
	assert_string_not_equal(a, b);
}

static void test_generated_uses_whole_alphabet(void **state)
{
	char code[PAIRING_TEXT_BYTES];
	int seen[32] = {0}, distinct = 0;

	(void)state;
	/* 500 codes = 6000 characters: every one of the 32 symbols appears (a missing one would
	 * mean fewer than 60 bits per code). */
	for (int round = 0; round < 500; round++) {
		pairing_generate(code);
		for (size_t i = 0; i < 14; i++) {
			const char *p = code[i] == '-' ? NULL : strchr(CROCKFORD, code[i]);

			if (p)
				seen[p - CROCKFORD] = 1;
		}
	}
	for (int i = 0; i < 32; i++)
		distinct += seen[i];
	assert_int_equal(distinct, 32);
}

static void expect_norm(const char *in, const char *want)
{
	char out[PAIRING_CHARS + 1];

	assert_int_equal(pairing_normalise(in, out), 0);
	assert_string_equal(out, want);
}

static void expect_bad(const char *in)
{
	char out[PAIRING_CHARS + 1];

	assert_int_equal(pairing_normalise(in, out), -1);
}

static void test_normalise(void **state)
{
	(void)state;
	expect_norm("ABCD-EFGH-JKMN", "ABCDEFGHJKMN");
	expect_norm("ABCDEFGHJKMN", "ABCDEFGHJKMN");
	expect_norm("abcd-efgh-jkmn", "ABCDEFGHJKMN");     /* lower case */
	expect_norm("abcd efgh jkmn", "ABCDEFGHJKMN");     /* spaces */
	expect_norm(" ab-cd  ef--gh jk mn ", "ABCDEFGHJKMN"); /* any dashes and spaces */
	expect_norm("IIII-LLLL-llll", "111111111111");     /* I and L read as 1 */
	expect_norm("iiii-oooo-OOOO", "111100000000");     /* O read as 0 */
	expect_norm("0123-4567-89XZ", "0123456789XZ");
}

static void test_normalise_bad(void **state)
{
	(void)state;
	/* Bad inputs: wrong lengths. */
	expect_bad("");
	expect_bad("----");
	expect_bad("ABCD-EFGH-JKM");      /* 11 characters */
	expect_bad("ABCD-EFGH-JKMNP");    /* 13 characters */
	expect_bad("ABCD-EFGH-JKMN-ABCD-EFGH"); /* far too long: must not overflow out */
	/* Bad inputs: characters outside Crockford base32 (U is excluded) and others. */
	expect_bad("ABCD-EFGH-JKMU");
	expect_bad("ABCD-EFGH-JKM!");
	expect_bad("ABCD_EFGH_JKMN");
	expect_bad("ABCD.EFGH.JKMN");
	expect_bad("ABCD-EFGH-JKM\t");
	expect_bad("ABCD-EFGH-JKM\xc3\xa9"); /* non-ASCII byte */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_form),
		cmocka_unit_test(test_generated_codes_differ),
		cmocka_unit_test(test_generated_uses_whole_alphabet),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_normalise_bad),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
