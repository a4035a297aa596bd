/*
 * Fault: veilled killed with SIGKILL in the middle of a burst of syncs (issue 3, fault test 1;
 * the contract is docs/sync.md: "no acknowledged op is lost, no op is applied twice").
 *
 * 20 devices of one structure each queue 500 encounters in their outbox (10,000 ops); then 20
 * `veille sync` processes (as 20 phones coming back into coverage) start at once, and at a
 * seeded moment of the burst veilled gets kill -9. Once every phone has given up, veilled
 * restarts on the same data directory and port, and a fresh device of the structure pulls
 * everything: every op a phone removed from its outbox (acknowledged) must be there, readable,
 * at version 1. Then every phone syncs until its outbox is empty: the server then holds
 * exactly the 10,000 records, each once and at version 1, and no phone has a problem (a
 * CONFLICT would mean an op applied twice).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault.h"

#define TEAM "maraude-69-presquile"
#define DEVICES 20
#define OPS 500
#define KILL_MIN_MS 20
#define KILL_MAX_MS 400
#define SYNC_TIMEOUT_MS 120000
#define ROUNDS 10

struct phone {
	struct hx_device d;
	char ids[OPS][33];
	char out[PATH_MAX], err[PATH_MAX];
	pid_t pid;
	int status;
	int done;
};

/* The note of op j of phone i: what a pull must give back. */
static void note_of(char *buf, size_t n, int i, int j)
{
	snprintf(buf, n, "phone-%d-%d", i, j);
}

static void queue_ops(struct phone *p, int i)
{
	struct hx_batch *b;
	char prefix[32];

	snprintf(prefix, sizeof prefix, "phone-%d", i);
	b = hx_batch_new(OPS, NULL, prefix);
	assert_non_null(b);
	assert_int_equal(veille_outbox_add_many(p->d.c, b->ptrs, OPS), 0);
	for (int j = 0; j < OPS; j++)
		snprintf(p->ids[j], sizeof p->ids[j], "%s", b->muts[j].record_id);
	hx_batch_free(b);
}

/* Starts `veille sync` on every phone not done yet. */
static void start_syncs(struct hx_env *e, struct phone *ph, int round)
{
	for (int i = 0; i < DEVICES; i++) {
		if (ph[i].done)
			continue;
		snprintf(ph[i].out, sizeof ph[i].out, "%s/sync-%d-%d.out", e->tmp, i, round);
		snprintf(ph[i].err, sizeof ph[i].err, "%s/sync-%d-%d.err", e->tmp, i, round);
		ph[i].pid = fault_cli_spawn(ph[i].d.dir, ph[i].out, ph[i].err, "sync", (char *)NULL);
		assert_true(ph[i].pid > 0);
	}
}

/* Waits for every sync started; each must end by itself, with success or, the server being
 * gone, a connection failure (3), and without a sanitizer report. */
static void wait_syncs(struct phone *ph, int *ok)
{
	*ok = 0;
	for (int i = 0; i < DEVICES; i++) {
		if (ph[i].done || ph[i].pid <= 0)
			continue;
		ph[i].status = fault_wait(ph[i].pid, SYNC_TIMEOUT_MS);
		ph[i].pid = 0;
		if (ph[i].status != 0 && ph[i].status != 3) {
			uint8_t *text = NULL;
			size_t len = 0;

			hx_read_file(ph[i].err, &text, &len);
			print_message("phone %d: veille sync status %d: %s\n", i, ph[i].status,
				      text ? (char *)text : "");
			free(text);
		}
		assert_true(ph[i].status == 0 || ph[i].status == 3);
		assert_true(fault_file_clean(ph[i].err));
		*ok += ph[i].status == 0;
	}
}

/* The server's records, as a fresh device of the structure pulls them from the start. */
static void server_records(struct hx_device *fresh, struct hx_changes *cs,
			   struct fault_ids *ids)
{
	memset(cs, 0, sizeof *cs);
	memset(ids, 0, sizeof *ids);
	assert_int_equal(hx_pull_all(fresh->c, 0, 1000, cs), 0);
	for (size_t k = 0; k < cs->n; k++)
		assert_int_equal(fault_ids_add(ids, cs->v[k].record_id), 0);
	/* One change per record: a second version would be an op applied twice. */
	assert_int_equal(fault_ids_sort(ids), 0);
	for (size_t k = 0; k < cs->n; k++)
		assert_int_equal(cs->v[k].version, 1);
	fault_changes_sort(cs);
}

/*
 * What phone i holds about its ops once its sync process is gone: an op still in the outbox
 * (pending) was not acknowledged; any other op was, and must be on the server, readable.
 */
static size_t check_acknowledged(struct phone *p, int i, const struct hx_changes *cs)
{
	struct veille_error err;
	struct veille_info info;
	size_t acked = 0, queued = 0, outbox = 0;
	char note[64];

	assert_int_equal(veille_open(&p->d.c, p->d.dir, &err), 0);
	for (int j = 0; j < OPS; j++) {
		Veille__V1__Change *ch = NULL;
		size_t pending = 0;
		int rc = veille_record_get(p->d.c, p->ids[j], &ch, &pending);
		const struct hx_change *got;

		assert_true(rc == 0 || rc == VEILLE_ENOTFOUND);
		veille_change_free(ch);
		if (rc == 0 && pending > 0) {
			queued++;
			continue;
		}
		acked++;
		got = fault_changes_find(cs, p->ids[j]);
		if (!got)
			print_message("phone %d: acknowledged op %d (%s) missing on the server\n", i,
				      j, p->ids[j]);
		assert_non_null(got);
		note_of(note, sizeof note, i, j);
		assert_string_equal(got->note, note);
		assert_int_equal(got->version, 1);
		assert_string_equal(got->team_id, TEAM);
	}
	assert_int_equal(veille_outbox_count(p->d.c, &outbox), 0);
	assert_int_equal(outbox, queued);
	veille_info(p->d.c, &info);
	assert_int_equal(info.problems, 0);
	hx_device_close(&p->d);
	return acked;
}

static void test_kill9_during_burst(void **state)
{
	struct phone *ph = calloc(DEVICES, sizeof *ph);
	struct fault_ids all = { 0 }, held = { 0 }, final_ids = { 0 };
	struct hx_changes cs, final_cs;
	struct hx_device fresh;
	struct fault_rng rng;
	struct hx_env *e;
	uint64_t seed, kill_ms, t0;
	size_t acked = 0;
	int ok, done, round;

	(void)state;
	seed = fault_seed("kill9_during_burst");
	fault_rng_init(&rng, seed);
	assert_non_null(ph);
	assert_non_null(e = hx_env_new());
	assert_int_equal(hx_structure_add(e, TEAM, "Maraude Presqu'ile", "equipe_mobile", "69"),
			 0);
	assert_int_equal(hx_server_start(e, (char *)NULL), 0);
	for (int i = 0; i < DEVICES; i++) {
		char name[32];

		snprintf(name, sizeof name, "Maraudeur %d", i);
		assert_int_equal(hx_new_device(e, TEAM, name, &ph[i].d), 0);
		queue_ops(&ph[i], i);
		for (int j = 0; j < OPS; j++)
			assert_int_equal(fault_ids_add(&all, ph[i].ids[j]), 0);
		hx_device_close(&ph[i].d); /* the phones' processes own the directories now */
	}
	assert_int_equal(fault_ids_sort(&all), 0);

	/* The burst, and the kill at a seeded moment of it. */
	kill_ms = fault_between(&rng, KILL_MIN_MS, KILL_MAX_MS);
	t0 = hx_mono_ms();
	start_syncs(e, ph, 0);
	while (hx_mono_ms() < t0 + kill_ms)
		hx_sleep_ms(1);
	assert_int_equal(fault_server_kill9(e), 0);
	wait_syncs(ph, &ok);
	print_message("kill -9 at %llu ms into the burst; %d of %d syncs had completed\n",
		      (unsigned long long)kill_ms, ok, DEVICES);

	/* Back on the same data and port: nothing acknowledged is lost. */
	assert_int_equal(hx_server_restart(e), 0);
	assert_int_equal(hx_new_device(e, TEAM, "Coordinatrice", &fresh), 0);
	server_records(&fresh, &cs, &held);
	for (size_t k = 0; k < held.n; k++)
		assert_true(fault_ids_has(&all, held.v[k])); /* nothing made up either */
	for (int i = 0; i < DEVICES; i++)
		acked += check_acknowledged(&ph[i], i, &cs);
	print_message("after the restart: %zu ops acknowledged, %zu on the server (an op applied "
		      "whose answer was lost is on the server, not acknowledged)\n",
		      acked, held.n);
	assert_true(held.n >= acked);
	hx_changes_free(&cs);
	fault_ids_free(&held);

	/* Every phone syncs until its outbox is empty (bounded). */
	for (round = 1, done = 0; round <= ROUNDS && done < DEVICES; round++) {
		start_syncs(e, ph, round);
		wait_syncs(ph, &ok);
		for (int i = 0; i < DEVICES; i++) {
			struct veille_error err;
			size_t outbox = 1;

			if (ph[i].done || ph[i].status != 0)
				continue;
			assert_int_equal(veille_open(&ph[i].d.c, ph[i].d.dir, &err), 0);
			assert_int_equal(veille_outbox_count(ph[i].d.c, &outbox), 0);
			hx_device_close(&ph[i].d);
			if (outbox == 0) {
				ph[i].done = 1;
				done++;
			}
		}
	}
	assert_int_equal(done, DEVICES);
	print_message("every outbox empty after %d sync rounds\n", round - 1);

	/* Exactly the 10,000 records, each once, at version 1; no phone has a problem. */
	server_records(&fresh, &final_cs, &final_ids);
	assert_int_equal(final_cs.n, DEVICES * OPS);
	assert_true(fault_ids_equal(&final_ids, &all));
	for (int i = 0; i < DEVICES; i++) {
		struct veille_error err;
		struct veille_info info;
		size_t outbox = 1;

		assert_int_equal(veille_open(&ph[i].d.c, ph[i].d.dir, &err), 0);
		assert_int_equal(veille_outbox_count(ph[i].d.c, &outbox), 0);
		assert_int_equal(outbox, 0);
		veille_info(ph[i].d.c, &info);
		assert_int_equal(info.problems, 0);
		assert_int_equal(info.op_counter, OPS);
		hx_device_close(&ph[i].d);
	}
	hx_changes_free(&final_cs);
	fault_ids_free(&final_ids);
	fault_ids_free(&all);
	hx_device_close(&fresh);
	assert_int_equal(hx_env_free(e), 0);
	free(ph);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_during_burst),
	};

	return cmocka_run_group_tests_name("fault_kill_server", tests, NULL, NULL);
}
