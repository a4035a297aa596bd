/* test_keyring: master key file checks and the keys derived from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>

#include "keyring.h"
#include "unit.h"

struct fixture {
	char dir[PATH_MAX];
	char key[PATH_MAX];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	unit_mkdtemp(f->dir);
	unit_path(f->key, f->dir, KEYRING_FILE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unit_rmtree(f->dir);
	free(f);
	return 0;
}

/* Replaces master.key with content, mode 0600. */
static void write_key_file(const struct fixture *f, const char *content, size_t len)
{
	int fd;

	unlink(f->key);
	fd = open(f->key, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
}

static void test_create_then_load(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	struct stat st;

	assert_int_equal(keyring_create(f->dir), KEYRING_OK);
	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_OK);
	assert_non_null(kr);
	assert_int_equal(keyring_generation(kr), 1);
	keyring_free(kr);
}

static void test_create_twice_is_eexist(void **state)
{
	struct fixture *f = *state;
	struct keyring *a = NULL, *b = NULL;

	assert_int_equal(keyring_create(f->dir), KEYRING_OK);
	assert_int_equal(keyring_load(&a, f->dir), KEYRING_OK);
	/* Bad input: a second create over an existing master.key. */
	assert_int_equal(keyring_create(f->dir), KEYRING_EEXIST);
	/* ... and the existing key was left alone. */
	assert_int_equal(keyring_load(&b, f->dir), KEYRING_OK);
	assert_memory_equal(keyring_key(a, KEYRING_DIRECTORY), keyring_key(b, KEYRING_DIRECTORY),
			    KEYRING_KEY_BYTES);
	keyring_free(a);
	keyring_free(b);
}

static void test_mode_0644_is_eperms(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = (struct keyring *)1;

	assert_int_equal(keyring_create(f->dir), KEYRING_OK);
	/* Bad input: master.key readable by everyone. */
	assert_int_equal(chmod(f->key, 0644), 0);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_EPERMS);
	assert_null(kr);
}

static void test_mode_0640_is_eperms(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;

	assert_int_equal(keyring_create(f->dir), KEYRING_OK);
	/* Bad input: master.key readable by its group. */
	assert_int_equal(chmod(f->key, 0640), 0);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_EPERMS);
	/* Bad input: master.key writable by others only. */
	assert_int_equal(chmod(f->key, 0602), 0);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_EPERMS);
	/* 0400 is fine: only the owner can read. */
	assert_int_equal(chmod(f->key, 0400), 0);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_OK);
	keyring_free(kr);
}

static void test_missing_is_emissing(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;

	/* Bad input: a data directory without master.key. */
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_EMISSING);
	assert_null(kr);
}

static void test_garbage_is_ecorrupt(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	char hex[66];

	/* Bad input: 64 characters that are not hex. */
	memset(hex, 'z', 64);
	hex[64] = '\n';
	write_key_file(f, hex, 65);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_ECORRUPT);
	assert_null(kr);
	/* Bad input: 63 hex characters (too short). */
	memset(hex, 'a', 63);
	write_key_file(f, hex, 63);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_ECORRUPT);
	/* Bad input: 65 hex characters (too long, no newline after 64). */
	memset(hex, 'a', 65);
	write_key_file(f, hex, 65);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_ECORRUPT);
	/* Bad input: an empty file. */
	write_key_file(f, "", 0);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_ECORRUPT);
	/* Bad input: 62 hex characters and one non-hex byte in the middle. */
	memset(hex, 'a', 64);
	hex[31] = 'g';
	write_key_file(f, hex, 64);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_ECORRUPT);
	/* 64 hex characters without a newline are accepted. */
	memset(hex, 'a', 64);
	write_key_file(f, hex, 64);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_OK);
	keyring_free(kr);
}

static void test_purpose_keys_differ(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	const uint8_t *d, *w, *x;
	uint8_t zero[KEYRING_KEY_BYTES] = {0};

	assert_int_equal(keyring_create(f->dir), KEYRING_OK);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_OK);
	d = keyring_key(kr, KEYRING_DIRECTORY);
	w = keyring_key(kr, KEYRING_WRAP);
	x = keyring_key(kr, KEYRING_INDEX);
	assert_memory_not_equal(d, w, KEYRING_KEY_BYTES);
	assert_memory_not_equal(d, x, KEYRING_KEY_BYTES);
	assert_memory_not_equal(w, x, KEYRING_KEY_BYTES);
	assert_memory_not_equal(d, zero, KEYRING_KEY_BYTES);
	keyring_free(kr);
}

static void test_same_file_same_keys_other_file_other_keys(void **state)
{
	struct fixture *f = *state;
	struct keyring *a = NULL, *b = NULL, *c = NULL;
	char dir2[PATH_MAX];

	unit_mkdtemp(dir2);
	assert_int_equal(keyring_create(f->dir), KEYRING_OK);
	assert_int_equal(keyring_create(dir2), KEYRING_OK);
	assert_int_equal(keyring_load(&a, f->dir), KEYRING_OK);
	assert_int_equal(keyring_load(&b, f->dir), KEYRING_OK);
	assert_int_equal(keyring_load(&c, dir2), KEYRING_OK);
	assert_memory_equal(keyring_key(a, KEYRING_WRAP), keyring_key(b, KEYRING_WRAP),
			    KEYRING_KEY_BYTES);
	assert_memory_not_equal(keyring_key(a, KEYRING_WRAP), keyring_key(c, KEYRING_WRAP),
				KEYRING_KEY_BYTES);
	keyring_free(a);
	keyring_free(b);
	keyring_free(c);
	unit_rmtree(dir2);
}

static void test_blind_index(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	uint8_t a1[32], a2[32], b[32], shortb[16], longb[64];

	assert_int_equal(keyring_create(f->dir), KEYRING_OK);
	assert_int_equal(keyring_load(&kr, f->dir), KEYRING_OK);
	keyring_blind_index(kr, "maraude-paris-13", 16, a1, sizeof(a1));
	keyring_blind_index(kr, "maraude-paris-13", 16, a2, sizeof(a2));
	keyring_blind_index(kr, "maraude-paris-14", 16, b, sizeof(b));
	assert_memory_equal(a1, a2, sizeof(a1));
	assert_memory_not_equal(a1, b, sizeof(a1));
	/* Output lengths 16 and 64 both work and are not truncations of each other. */
	keyring_blind_index(kr, "maraude-paris-13", 16, shortb, sizeof(shortb));
	keyring_blind_index(kr, "maraude-paris-13", 16, longb, sizeof(longb));
	assert_memory_not_equal(shortb, a1, sizeof(shortb));
	/* It is keyed: not the unkeyed BLAKE2b of the input. */
	{
		uint8_t plain[32];

		crypto_generichash(plain, sizeof(plain), (const uint8_t *)"maraude-paris-13", 16,
				   NULL, 0);
		assert_memory_not_equal(plain, a1, sizeof(plain));
	}
	keyring_free(kr);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = KEYRING_OK; e <= KEYRING_ENOMEM; e++)
		assert_string_not_equal(keyring_strerror(e), "unknown keyring error");
	assert_string_equal(keyring_strerror(42), "unknown keyring error");
	keyring_free(NULL); /* no-op */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_then_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_twice_is_eexist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_0644_is_eperms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_0640_is_eperms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_is_emissing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_is_ecorrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purpose_keys_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_file_same_keys_other_file_other_keys,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_blind_index, setup, teardown),
		cmocka_unit_test(test_strerror),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
