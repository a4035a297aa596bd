/*
 * Integration: what veilled keeps on disk. Personal data must be sealed in the LMDB file, the
 * master key must be private and present for veilled to start, and applied pushes must
 * survive a restart.
 *
 * Each test gets a fresh data directory and server, a structure and a professional whose names
 * are distinctive strings (set through veillectl), and devices A (Alice, with a distinctive
 * label) and B (same team), enrolled and connected through libveille.
 */
#define _GNU_SOURCE /* memmem */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "harness.h"

#define TEAM "maraude-19-nord"
#define STRUCTURE_NAME "Maraude Quai-de-Valmy Épiphanie"
#define PRO_NAME "Zéphyrine Quillebœuf-Marchetti"
#define DEVICE_LABEL "téléphone-violet-ornithorynque"
#define NOTE_PREFIX "Observation confidentielle: dort sous le pont Grangé"
#define AREA "Square-Frédérick-Lemaître-Nord"
#define APPLIED VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED
#define DUPLICATE VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE

struct fixture {
	struct hx_env *e;
	struct hx_device a, b;
	char code_a[32];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char code_b[32];

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, TEAM, STRUCTURE_NAME, "equipe_mobile", "75") ||
	    hx_server_start(f->e, (char *)NULL) ||
	    hx_professional_add(f->e, TEAM, PRO_NAME, "maraudeur", NULL, 0, NULL, f->code_a) ||
	    hx_professional_add(f->e, TEAM, "Bruno Collègue", "maraudeur", NULL, 0, NULL,
				code_b) ||
	    hx_enrol(f->e, f->code_a, DEVICE_LABEL, &f->a) || veille_connect(f->a.c, -1) ||
	    hx_enrol_connect(f->e, code_b, &f->b))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	hx_device_close(&f->a);
	hx_device_close(&f->b);
	rc = hx_env_free(f->e);
	free(f);
	return rc;
}

static int contains(const uint8_t *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

/*
 * A pushes 50 encounters with distinctive notes and area; B pulls them back (they are
 * stored). After a clean stop, DATA/store/data.mdb read as bytes holds none of: the notes,
 * their common prefix, the area, the professional's and the structure's names, the device
 * label, the pairing code (as printed and normalised). As a control, the plain meta key
 * "server_id" is found in the same bytes.
 */
static void test_personal_data_sealed_on_disk(void **state)
{
	struct fixture *f = *state;
	Veille__V1__Location loc = VEILLE__V1__LOCATION__INIT;
	struct hx_batch *b = hx_batch_new(50, NULL, NOTE_PREFIX);
	struct hx_changes cs;
	char path[PATH_MAX + 32], norm[PROOF_CODE_MAX + 1];
	uint8_t *db = NULL;
	size_t len = 0;

	assert_non_null(b);
	loc.area = AREA;
	for (size_t i = 0; i < b->n; i++)
		b->muts[i].e.location = &loc;
	assert_int_equal(hx_push(&f->a, b), 0);
	for (size_t i = 0; i < b->n; i++)
		assert_int_equal(b->res[i].status, APPLIED);
	memset(&cs, 0, sizeof cs);
	assert_int_equal(hx_pull_all(f->b.c, 0, 0, &cs), 0);
	assert_int_equal(cs.n, 50);
	assert_string_equal(hx_changes_find(&cs, b->muts[7].record_id, 1)->note,
			    b->muts[7].note);
	hx_changes_free(&cs);

	assert_int_equal(hx_server_stop(f->e), 0);
	snprintf(path, sizeof path, "%s/store/data.mdb", f->e->data);
	assert_int_equal(hx_read_file(path, &db, &len), 0);
	assert_true(len > 0);
	assert_true(contains(db, len, "server_id")); /* the search does see plain bytes */

	for (size_t i = 0; i < b->n; i++)
		assert_false(contains(db, len, b->muts[i].note));
	assert_false(contains(db, len, NOTE_PREFIX));
	assert_false(contains(db, len, "dort sous le pont"));
	assert_false(contains(db, len, AREA));
	assert_false(contains(db, len, PRO_NAME));
	assert_false(contains(db, len, "Quillebœuf"));
	assert_false(contains(db, len, STRUCTURE_NAME));
	assert_false(contains(db, len, DEVICE_LABEL));
	assert_false(contains(db, len, f->code_a));
	assert_int_equal(proof_normalise_code(f->code_a, norm), 0);
	assert_false(contains(db, len, norm));
	free(db);
	hx_batch_free(b);
}

/* Runs veilled on the data directory and expects a refusal naming master.key. */
static void expect_refusal(struct fixture *f)
{
	struct hx_out out;

	assert_int_equal(hx_server_run_once(f->e, 10000, &out, (char *)NULL), 0);
	/* Exited on its own, with an error status, not by a signal (nor a sanitizer abort). */
	assert_true(out.status > 0 && out.status < 128);
	assert_non_null(strstr(out.err, "master.key"));
	assert_null(strstr(out.err, "Sanitizer"));
	hx_out_free(&out);
}

/*
 * master.key readable by others (chmod 0644), then by the group (0640): veilled refuses to
 * start, with a non-zero status and a message naming master.key. Back to 0600 it starts and
 * A authenticates.
 */
static void test_refuses_readable_master_key(void **state)
{
	struct fixture *f = *state;
	char key[PATH_MAX + 16];
	struct conn *c;

	assert_int_equal(hx_server_stop(f->e), 0);
	snprintf(key, sizeof key, "%s/master.key", f->e->data);
	assert_int_equal(chmod(key, 0644), 0);
	expect_refusal(f);
	assert_int_equal(chmod(key, 0640), 0);
	expect_refusal(f);

	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(hx_server_start(f->e, (char *)NULL), 0);
	c = hx_raw_open(f->e);
	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, &f->a), 0);
	conn_close(c);
}

/* master.key moved away: veilled refuses to start, naming master.key. Put back, it starts. */
static void test_refuses_missing_master_key(void **state)
{
	struct fixture *f = *state;
	char key[PATH_MAX + 16], aside[PATH_MAX + 16];
	struct conn *c;

	assert_int_equal(hx_server_stop(f->e), 0);
	snprintf(key, sizeof key, "%s/master.key", f->e->data);
	snprintf(aside, sizeof aside, "%s/master.key.aside", f->e->tmp);
	assert_int_equal(rename(key, aside), 0);
	expect_refusal(f);

	assert_int_equal(rename(aside, key), 0);
	assert_int_equal(hx_server_start(f->e, (char *)NULL), 0);
	c = hx_raw_open(f->e);
	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, &f->a), 0);
	conn_close(c);
}

/*
 * A pushes 50 encounters; B pulls them. veilled gets SIGTERM (exit 0) and starts again on the
 * same data directory and port. B reconnects and pulls the same 50 (ids, versions, notes,
 * sequence numbers); A pushing the same ops again gets DUPLICATE with the same versions (the
 * dedup index survived too), and a new encounter gets a sequence number after all of them.
 */
static void test_durable_across_restart(void **state)
{
	struct fixture *f = *state;
	struct hx_batch *b = hx_batch_new(50, NULL, "nuit du 14, rue de Crimée");
	struct hx_batch *more = hx_batch_new(1, NULL, "after the restart");
	struct hx_changes before, after;

	assert_non_null(b);
	assert_non_null(more);
	assert_int_equal(hx_push(&f->a, b), 0);
	for (size_t i = 0; i < b->n; i++)
		assert_int_equal(b->res[i].status, APPLIED);
	memset(&before, 0, sizeof before);
	assert_int_equal(hx_pull_all(f->b.c, 0, 0, &before), 0);
	assert_int_equal(before.n, 50);

	assert_int_equal(hx_server_restart(f->e), 0);

	assert_int_equal(veille_connect(f->b.c, -1), 0);
	memset(&after, 0, sizeof after);
	assert_int_equal(hx_pull_all(f->b.c, 0, 0, &after), 0);
	assert_int_equal(after.n, 50);
	for (size_t i = 0; i < before.n; i++) {
		const struct hx_change *ch = hx_changes_find(&after, before.v[i].record_id, 0);

		assert_non_null(ch);
		assert_int_equal(ch->version, before.v[i].version);
		assert_int_equal(ch->seq, before.v[i].seq);
		assert_string_equal(ch->note, before.v[i].note);
		assert_string_equal(ch->author_id, f->a.professional_id);
	}

	assert_int_equal(veille_connect(f->a.c, -1), 0);
	assert_int_equal(hx_push(&f->a, b), 0);
	for (size_t i = 0; i < b->n; i++) {
		assert_int_equal(b->res[i].status, DUPLICATE);
		assert_int_equal(b->res[i].version, 1);
	}
	assert_int_equal(hx_push(&f->a, more), 0);
	assert_int_equal(more->res[0].status, APPLIED);
	hx_changes_free(&after);
	memset(&after, 0, sizeof after);
	assert_int_equal(hx_pull_all(f->b.c, before.cursor, 0, &after), 0);
	assert_int_equal(after.n, 1);
	assert_string_equal(after.v[0].record_id, more->muts[0].record_id);
	assert_true(after.v[0].seq > before.cursor);

	hx_changes_free(&before);
	hx_changes_free(&after);
	hx_batch_free(b);
	hx_batch_free(more);
}

/* SIGTERM: a connected, authenticated device is told "going away" (close 1001) before the
 * server exits, and veilled exits 0 (hx_server_stop checks it). */
static void test_shutdown_says_going_away(void **state)
{
	struct fixture *f = *state;
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, &f->a), 0);
	assert_int_equal(hx_server_stop(f->e), 0);
	assert_int_equal(hx_raw_wait_close(c, HX_TIMEOUT_MS), 1001);
	conn_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_personal_data_sealed_on_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_readable_master_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_missing_master_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_across_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_says_going_away, setup, teardown),
	};

	return cmocka_run_group_tests_name("integration_at_rest", tests, NULL, NULL);
}
