/*
 * Fault: a client killed during a long pull (issue 3, fault test 3; docs/sync.md, "Pull and
 * the cursor": a page's changes and the cursor after it are stored in one local transaction).
 *
 * Device A records 3,000 encounters, corrects 300 of them (version 2) and 50 of those again
 * (version 3): 3,350 changes in the feed. Device B, a `veille pull` or `veille sync` process
 * with small pages (seeded), is killed with SIGKILL five times, and started again each time.
 * Each kill comes at a seeded moment: a delay after the start, or, if that comes first, once
 * B's saved cursor (watched through a second handle on its directory) passes a seeded point
 * of the rest of the feed, so that the kill lands mid-pull however fast the machine is. After each kill, B's local store must be exactly the
 * feed up to B's saved cursor: every record whose changes up to the cursor are known held at
 * the newest of them, no record of a later change, and the cursor never goes back. At the end,
 * after a pull left alone, B holds every record at its newest version, its cursor at the last
 * change.
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

#define TEAM "maraude-69-vaise"
#define RECORDS 3000
#define CORRECTED 300      /* to version 2 */
#define CORRECTED_AGAIN 50 /* of those, to version 3 */
#define KILLS 5
#define KILL_MIN_MS 20
#define KILL_MAX_MS 300
#define LIMIT_MIN 1        /* changes per page of B's killed pulls: small, so that a pull lasts */
#define LIMIT_MAX 8        /* longer than the moment of its kill */
#define BATCH 1000

struct rec {
	char id[33];
	char person[33];
	uint64_t version; /* newest */
};

/* Queues corrections of recs[idx[0..n-1]] (each to its version + 1) and syncs them. */
static void correct(struct hx_device *a, struct rec *recs, const size_t *idx, size_t n)
{
	for (size_t from = 0; from < n; from += BATCH) {
		size_t m = n - from < BATCH ? n - from : BATCH;
		struct hx_batch *b = hx_batch_new(m, NULL, "correction");
		struct veille_sync_stats st;

		assert_non_null(b);
		for (size_t k = 0; k < m; k++) {
			struct rec *r = &recs[idx[from + k]];
			struct hx_mut *x = &b->muts[k];

			snprintf(x->record_id, sizeof x->record_id, "%s", r->id);
			snprintf(x->person_id, sizeof x->person_id, "%s", r->person);
			x->m.base_version = r->version;
			r->version++;
		}
		assert_int_equal(veille_outbox_add_many(a->c, b->ptrs, m), 0);
		hx_batch_free(b);
		assert_int_equal(veille_sync(a->c, &st), 0);
		assert_int_equal(st.applied, m);
	}
}

/* Finds recs' entry of id (recs sorted by id). */
static const struct rec *find_rec(const struct rec *recs, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(recs[mid].id, id);

		if (!d)
			return &recs[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_rec(const void *x, const void *y)
{
	return strcmp(((const struct rec *)x)->id, ((const struct rec *)y)->id);
}

/*
 * B's local store against the feed (feed: the server's changes in seq order): for every
 * record, the newest version among its changes up to cursor (0: none) is what B must hold.
 */
static void check_prefix(const char *dir, const struct hx_changes *feed, const struct rec *recs,
			 size_t n, uint64_t *cursor)
{
	uint64_t *want = calloc(n, sizeof *want);
	struct veille_client *c = NULL;
	struct veille_error err;
	struct veille_info info;

	assert_non_null(want);
	assert_int_equal(veille_open(&c, dir, &err), 0);
	veille_info(c, &info);
	*cursor = info.pull_cursor;
	assert_int_equal(info.pending_ops, 0);
	for (size_t k = 0; k < feed->n && feed->v[k].seq <= info.pull_cursor; k++) {
		const struct rec *r = find_rec(recs, n, feed->v[k].record_id);

		assert_non_null(r);
		if (feed->v[k].version > want[r - recs])
			want[r - recs] = feed->v[k].version;
	}
	for (size_t i = 0; i < n; i++) {
		Veille__V1__Change *ch = NULL;
		int rc = veille_record_get(c, recs[i].id, &ch, NULL);

		if (want[i] == 0) {
			if (rc != VEILLE_ENOTFOUND)
				print_message("B holds %s (version %llu) past its cursor %llu\n",
					      recs[i].id, ch ? (unsigned long long)ch->version : 0ull,
					      (unsigned long long)info.pull_cursor);
			assert_int_equal(rc, VEILLE_ENOTFOUND);
			continue;
		}
		if (rc != 0 || ch->version != want[i])
			print_message("B: %s: rc %d, version %llu, expected %llu at cursor %llu\n",
				      recs[i].id, rc, ch ? (unsigned long long)ch->version : 0ull,
				      (unsigned long long)want[i],
				      (unsigned long long)info.pull_cursor);
		assert_int_equal(rc, 0);
		assert_int_equal(ch->version, want[i]);
		assert_string_equal(ch->encounter->person_id, recs[i].person);
		veille_change_free(ch);
	}
	veille_close(c);
	free(want);
}

static void test_kill_during_pull(void **state)
{
	struct rec *recs = calloc(RECORDS, sizeof *recs);
	size_t *idx = calloc(RECORDS, sizeof *idx);
	struct hx_changes feed = { 0 };
	struct hx_device a, b;
	struct fault_rng rng;
	struct hx_env *e;
	struct hx_out out;
	uint64_t seed, cursor = 0, last = 0;
	char b_dir[PATH_MAX], text[64];
	int killed = 0;

	(void)state;
	seed = fault_seed("kill_during_pull");
	fault_rng_init(&rng, seed);
	assert_non_null(recs);
	assert_non_null(idx);
	assert_non_null(e = hx_env_new());
	assert_int_equal(hx_structure_add(e, TEAM, "Maraude Vaise", "equipe_mobile", "69"), 0);
	assert_int_equal(hx_server_start(e, (char *)NULL), 0);
	assert_int_equal(hx_new_device(e, TEAM, "Alice", &a), 0);
	assert_int_equal(hx_new_device(e, TEAM, "Bruno", &b), 0);
	snprintf(b_dir, sizeof b_dir, "%s", b.dir);
	hx_device_close(&b); /* B is a CLI process from here on */

	/* A: 3,000 encounters, 300 corrected, 50 of those corrected again. */
	for (size_t from = 0; from < RECORDS; from += BATCH) {
		struct hx_batch *bt = hx_batch_new(BATCH, NULL, "rencontre");
		struct veille_sync_stats st;

		assert_non_null(bt);
		assert_int_equal(veille_outbox_add_many(a.c, bt->ptrs, BATCH), 0);
		for (size_t k = 0; k < BATCH; k++) {
			snprintf(recs[from + k].id, sizeof recs[0].id, "%s", bt->muts[k].record_id);
			snprintf(recs[from + k].person, sizeof recs[0].person, "%s",
				 bt->muts[k].person_id);
			recs[from + k].version = 1;
		}
		hx_batch_free(bt);
		assert_int_equal(veille_sync(a.c, &st), 0);
		assert_int_equal(st.applied, BATCH);
	}
	for (size_t i = 0; i < RECORDS; i++)
		idx[i] = i;
	for (size_t i = 0; i < CORRECTED; i++) { /* the first CORRECTED of a seeded shuffle */
		size_t j = i + (size_t)fault_between(&rng, 0, RECORDS - 1 - i), t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
	correct(&a, recs, idx, CORRECTED);
	correct(&a, recs, idx, CORRECTED_AGAIN);

	/* The feed, as the server gives it. */
	assert_int_equal(hx_pull_all(a.c, 0, 1000, &feed), 0);
	assert_int_equal(feed.n, RECORDS + CORRECTED + CORRECTED_AGAIN);
	qsort(recs, RECORDS, sizeof *recs, cmp_rec);
	hx_device_close(&a);

	/* B, killed five times while pulling. */
	for (int k = 0; k < KILLS; k++) {
		const char *cmd = fault_between(&rng, 0, 1) ? "pull" : "sync";
		uint64_t limit = fault_between(&rng, LIMIT_MIN, LIMIT_MAX);
		uint64_t after = fault_between(&rng, KILL_MIN_MS, KILL_MAX_MS), t0, now = 0;
		uint64_t target = fault_between(&rng, last + 1, feed.cursor - 1);
		struct veille_client *watch = NULL;
		struct veille_error err;
		struct veille_info info;
		char lim[16], out_path[PATH_MAX + 32], err_path[PATH_MAX + 32];
		int status = -1, ended = 0;
		pid_t pid;

		snprintf(lim, sizeof lim, "%llu", (unsigned long long)limit);
		snprintf(out_path, sizeof out_path, "%s/b-%d.out", e->tmp, k);
		snprintf(err_path, sizeof err_path, "%s/b-%d.err", e->tmp, k);
		assert_int_equal(veille_open(&watch, b_dir, &err), 0);
		t0 = hx_mono_ms();
		pid = fault_cli_spawn(b_dir, out_path, err_path, cmd, "--limit", lim, (char *)NULL);
		assert_true(pid > 0);
		for (;;) {
			if ((ended = fault_poll(pid, &status)))
				break;
			veille_info(watch, &info);
			now = hx_mono_ms() - t0;
			if (now >= after || info.pull_cursor >= target)
				break;
			hx_sleep_ms(1);
		}
		if (!ended)
			status = fault_kill(pid); /* 137, or its own status if it ended meanwhile */
		veille_close(watch);
		if (status != 128 + 9) {
			assert_int_equal(status, 0);
			assert_true(fault_file_clean(err_path));
		}
		killed += status == 128 + 9;
		check_prefix(b_dir, &feed, recs, RECORDS, &cursor);
		print_message("B: `veille %s --limit %s` %s after %llu ms (kill planned at %llu ms or "
			      "cursor %llu): cursor %llu of %llu\n", cmd, lim,
			      status ? "killed" : "had ended", (unsigned long long)now,
			      (unsigned long long)after, (unsigned long long)target,
			      (unsigned long long)cursor, (unsigned long long)feed.cursor);
		assert_true(cursor >= last); /* the cursor never goes back */
		last = cursor;
	}
	print_message("B was killed %d times of %d mid-pull\n", killed, KILLS);

	/* Left alone, B's pull ends, and B holds exactly the server's records. */
	assert_int_equal(fault_cli(&out, b_dir, "pull", (char *)NULL), 0);
	snprintf(text, sizeof text, "cursor %llu", (unsigned long long)feed.cursor);
	assert_non_null(strstr(out.err, text));
	hx_out_free(&out);
	check_prefix(b_dir, &feed, recs, RECORDS, &cursor);
	assert_int_equal(cursor, feed.cursor);
	/* ...each at the version A made last (not only what the feed says). */
	{
		struct veille_client *c = NULL;
		struct veille_error err;

		assert_int_equal(veille_open(&c, b_dir, &err), 0);
		for (size_t i = 0; i < RECORDS; i++) {
			Veille__V1__Change *ch = NULL;
			size_t pending = 1;

			assert_int_equal(veille_record_get(c, recs[i].id, &ch, &pending), 0);
			assert_int_equal(ch->version, recs[i].version);
			assert_int_equal(pending, 0);
			veille_change_free(ch);
		}
		veille_close(c);
	}
	hx_changes_free(&feed);
	assert_int_equal(hx_env_free(e), 0);
	free(recs);
	free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_during_pull),
	};

	return cmocka_run_group_tests_name("fault_kill_pull", tests, NULL, NULL);
}
