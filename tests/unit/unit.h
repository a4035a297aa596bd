/* unit: helpers shared by the unit tests (temporary data directories, a fresh store).
 *
 * Header-only with static inline functions so each test binary stays one translation unit
 * and no helper is reported unused. cmocka must be included before this file. */
#ifndef VEILLE_TEST_UNIT_H
#define VEILLE_TEST_UNIT_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyring.h"
#include "store.h"

/* The asan preset builds with -fsanitize=address,undefined and halts on the first report, so
 * a test that would hit a known sanitizer finding must skip before it, not after. GCC has no
 * macro for UBSan; the presets always enable both together. */
#ifndef UNIT_SANITIZED
#if defined(__SANITIZE_ADDRESS__)
#define UNIT_SANITIZED 1
#else
#define UNIT_SANITIZED 0
#endif
#endif

/* out = a "/" b, which must fit in PATH_MAX. */
static inline void unit_path(char *out, const char *a, const char *b)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", a, b);

	assert_true(n > 0 && n < PATH_MAX);
}

/* Makes a fresh directory under $TMPDIR (or /tmp) into path (PATH_MAX bytes). */
static inline void unit_mkdtemp(char *path)
{
	const char *base = getenv("TMPDIR");

	if (!base || !*base)
		base = "/tmp";
	unit_path(path, base, "veille-unit-XXXXXX");
	assert_non_null(mkdtemp(path));
}

/* Removes path and everything under it (our trees are small: files and one subdirectory). */
static inline void unit_rmtree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char sub[PATH_MAX];
	struct stat st;

	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		unit_path(sub, path, e->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			unit_rmtree(sub);
		else
			unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

/* Reads a whole file into a malloc'd buffer (caller frees). */
static inline uint8_t *unit_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A fresh master key and store in a temporary directory. */
struct unit_store {
	char dir[PATH_MAX];
	struct keyring *kr;
	struct store *st;
};

static inline struct unit_store *unit_store_new(void)
{
	struct unit_store *u = calloc(1, sizeof(*u));
	struct store_options opt = {.map_size = 32u << 20};

	assert_non_null(u);
	unit_mkdtemp(u->dir);
	assert_int_equal(keyring_create(u->dir), KEYRING_OK);
	assert_int_equal(keyring_load(&u->kr, u->dir), KEYRING_OK);
	assert_int_equal(store_open(&u->st, u->dir, u->kr, &opt), STORE_OK);
	return u;
}

static inline void unit_store_free(struct unit_store *u)
{
	if (!u)
		return;
	store_close(u->st);
	keyring_free(u->kr);
	unit_rmtree(u->dir);
	free(u);
}

/* A fresh store with one write transaction open, which teardown aborts: for tests of the
 * modules that work inside a caller's transaction (directory, records). */
struct unit_txn {
	struct unit_store *u;
	struct store_txn *t;
};

static inline int unit_txn_setup(void **state)
{
	struct unit_txn *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->u = unit_store_new();
	assert_int_equal(store_begin(f->u->st, 1, &f->t), STORE_OK);
	*state = f;
	return 0;
}

static inline int unit_txn_teardown(void **state)
{
	struct unit_txn *f = *state;

	store_abort(f->t);
	unit_store_free(f->u);
	free(f);
	return 0;
}

#endif
