/* local_fixture: a fresh sealed local store in a temporary directory, for the client unit
 * tests that work on it (test_local, test_outbox). Header-only: each test binary is one
 * translation unit. cmocka and local.h must be included before this file. */
#ifndef VEILLE_TEST_LOCAL_FIXTURE_H
#define VEILLE_TEST_LOCAL_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fx {
	char dir[64];
	struct local *l;
};

/* cmocka setup body: *state receives a struct fx with the store open under key. */
static inline int local_fixture_open(void **state, const uint8_t key[LOCAL_KEY_BYTES])
{
	struct fx *f = calloc(1, sizeof *f);

	*state = f;
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/veille-local-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	return local_open(&f->l, f->dir, key, NULL);
}

/* cmocka teardown: closes and removes the store and its directory. */
static inline int local_fixture_close(void **state)
{
	struct fx *f = *state;

	local_close(f->l);
	local_remove(f->dir, NULL);
	rmdir(f->dir);
	free(f);
	return 0;
}

#endif
