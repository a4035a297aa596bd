/*
 * Fault: connections cut mid-batch (issue 3, fault test 2; docs/sync.md).
 *
 * 10 devices of one structure reach veilled only through cutproxy, which resets each
 * connection after a number of bytes drawn uniformly in [300, 60000] (seeded): handshakes,
 * authentications, pushes and pull pages all die at random points, as on a phone in the metro.
 * The devices enrol through the proxy too (their saved url is the proxy's), with a fresh pairing
 * code after each cut enrolment. Each queues 300 encounters, then, all at once, each one's
 * thread (one libveille client per thread) syncs again and again until its outbox is empty;
 * then until one sync, push and pull, goes through whole. Every loop is bounded.
 *
 * Then the server holds every record exactly once at version 1 (a fresh device pulls them
 * directly), and every device holds the same set, at version 1, with its cursor at the
 * server's last change, an empty outbox and no problem.
 */
#include <pthread.h>
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

#define TEAM "maraude-69-guillotiere"
#define CLIENTS 10
#define OPS 300
#define CUT_MIN 300
#define CUT_MAX 60000
#define PULL_LIMIT_MIN 50   /* changes per page, drawn per device: a page must fit in a cut */
#define PULL_LIMIT_MAX 150
#define ENROL_ATTEMPTS 30
#define SYNC_ATTEMPTS 400   /* per device and phase */
#define CLIENT_TIMEOUT_MS 15000

struct phone {
	int index;
	struct hx_device d;
	char ids[OPS][33];
	struct fault_rng rng;
	uint32_t pull_limit;
	/* What the thread did, read once it is joined. */
	int phase;                /* 1: until the outbox is empty; 2: until a whole sync */
	int attempts[3], failures[3];
	int rc;                   /* 0, or the failure that ended the thread */
	char why[300];
	struct veille_sync_stats sum;
};

/* Enrols phone p through the proxy url: a cut enrolment is tried again with a fresh code
 * (the server may have used the first one up before the cut). */
static int enrol_retries;

static void enrol(struct hx_env *e, const char *url, struct phone *p)
{
	char name[32], pro[65], code[32], label[32];
	struct veille_principal pr;
	struct veille_error err;
	struct veille_info info;
	int rc = -1;

	snprintf(name, sizeof name, "Maraudeuse %d", p->index);
	snprintf(label, sizeof label, "phone %d", p->index);
	snprintf(p->d.dir, sizeof p->d.dir, "%s/phone%d", e->tmp, p->index);
	assert_int_equal(hx_professional_add(e, TEAM, name, "maraudeur", NULL, 0, pro, code), 0);
	for (int k = 0; k < ENROL_ATTEMPTS; k++) {
		assert_int_equal(veille_open(&p->d.c, p->d.dir, &err), 0);
		veille_set_timeout(p->d.c, CLIENT_TIMEOUT_MS);
		rc = veille_enrol(p->d.c, url, code, label, &pr);
		if (rc == 0)
			break;
		/* Anything but a cut is a failure of its own. */
		if (rc != VEILLE_ECONN && rc != VEILLE_ECLOSED)
			print_message("phone %d: enrol: %s (%s: %s)\n", p->index,
				      veille_strerror(rc),
				      veille_error_code_name(veille_last_error(p->d.c)->code),
				      veille_last_error(p->d.c)->message);
		assert_true(rc == VEILLE_ECONN || rc == VEILLE_ECLOSED);
		hx_device_close(&p->d);
		assert_int_equal(hx_professional_pair(e, pro, 0, code), 0);
		enrol_retries++;
	}
	assert_int_equal(rc, 0);
	veille_info(p->d.c, &info);
	assert_string_equal(info.server_url, url);
	snprintf(p->d.device_hex, sizeof p->d.device_hex, "%s", info.device_id);
}

static void queue_ops(struct phone *p)
{
	struct hx_batch *b;
	char prefix[32];

	snprintf(prefix, sizeof prefix, "cut-%d", p->index);
	b = hx_batch_new(OPS, NULL, prefix);
	assert_non_null(b);
	assert_int_equal(veille_outbox_add_many(p->d.c, b->ptrs, OPS), 0);
	for (int j = 0; j < OPS; j++)
		snprintf(p->ids[j], sizeof p->ids[j], "%s", b->muts[j].record_id);
	hx_batch_free(b);
}

/* What a cut connection may look like to the client. */
static int cut_like(int rc)
{
	return rc == VEILLE_ECONN || rc == VEILLE_ECLOSED || rc == VEILLE_ETIMEOUT;
}

static void add_stats(struct veille_sync_stats *sum, const struct veille_sync_stats *st)
{
	sum->pushed += st->pushed;
	sum->applied += st->applied;
	sum->duplicate += st->duplicate;
	sum->conflict += st->conflict;
	sum->rejected += st->rejected;
	sum->pulled += st->pulled;
}

/* The thread of one phone: syncs until its phase's goal, bounded; no assert here (cmocka's
 * asserts belong to the main thread): the result is left in p. */
static void *run_phone(void *arg)
{
	struct phone *p = arg;
	struct veille_sync_opts so = { .pull_limit = p->pull_limit };

	p->rc = -1;
	snprintf(p->why, sizeof p->why, "did not get there in %d syncs", SYNC_ATTEMPTS);
	for (int k = 0; k < SYNC_ATTEMPTS; k++) {
		struct veille_sync_stats st;
		size_t outbox = 1;
		int rc;

		p->attempts[p->phase]++;
		rc = veille_sync_ex(p->d.c, &so, &st);
		add_stats(&p->sum, &st);
		if (rc && !cut_like(rc)) {
			p->rc = rc;
			snprintf(p->why, sizeof p->why, "sync: %s (%s: %s)", veille_strerror(rc),
				 veille_error_code_name(veille_last_error(p->d.c)->code),
				 veille_last_error(p->d.c)->message);
			break;
		}
		p->failures[p->phase] += rc != 0;
		if (veille_outbox_count(p->d.c, &outbox) != 0) {
			snprintf(p->why, sizeof p->why, "outbox unreadable");
			break;
		}
		if ((p->phase == 1 && outbox == 0) || (p->phase == 2 && rc == 0)) {
			p->rc = 0;
			break;
		}
		hx_sleep_ms((unsigned)fault_between(&p->rng, 0, 10));
	}
	return NULL;
}

static void run_phase(struct phone *ph, int phase)
{
	pthread_t th[CLIENTS];

	for (int i = 0; i < CLIENTS; i++) {
		ph[i].phase = phase;
		assert_int_equal(pthread_create(&th[i], NULL, run_phone, &ph[i]), 0);
	}
	for (int i = 0; i < CLIENTS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < CLIENTS; i++) {
		if (ph[i].rc)
			print_message("phone %d, phase %d: %s\n", i, phase, ph[i].why);
		assert_int_equal(ph[i].rc, 0);
	}
}

static void test_cuts_converge(void **state)
{
	struct phone *ph = calloc(CLIENTS, sizeof *ph);
	struct fault_ids all = { 0 }, held = { 0 };
	struct veille_sync_stats sum = { 0 };
	struct fault_proxy proxy;
	struct hx_changes cs = { 0 };
	struct hx_device fresh;
	struct fault_rng rng;
	struct hx_env *e;
	uint64_t seed;
	int conns = 0, cuts = 0, attempts[3] = { 0 }, failures[3] = { 0 };

	(void)state;
	seed = fault_seed("cuts_converge");
	fault_rng_init(&rng, seed);
	assert_non_null(ph);
	assert_non_null(e = hx_env_new());
	assert_int_equal(hx_structure_add(e, TEAM, "Maraude Guillotière", "equipe_mobile", "69"),
			 0);
	assert_int_equal(hx_server_start(e, (char *)NULL), 0);
	assert_int_equal(fault_proxy_start(&proxy, e, fault_next(&rng), CUT_MIN, CUT_MAX), 0);

	for (int i = 0; i < CLIENTS; i++) {
		ph[i].index = i;
		fault_rng_init(&ph[i].rng, fault_next(&rng));
		ph[i].pull_limit = (uint32_t)fault_between(&rng, PULL_LIMIT_MIN, PULL_LIMIT_MAX);
		enrol(e, proxy.url, &ph[i]);
		queue_ops(&ph[i]);
		for (int j = 0; j < OPS; j++)
			assert_int_equal(fault_ids_add(&all, ph[i].ids[j]), 0);
	}
	assert_int_equal(fault_ids_sort(&all), 0);
	print_message("enrolled through the proxy; enrolments cut and redone: %d\n",
		      enrol_retries);

	run_phase(ph, 1); /* every outbox empty */
	run_phase(ph, 2); /* then one whole sync each: every page pulled */
	assert_int_equal(fault_proxy_stop(&proxy, &conns, &cuts), 0);
	for (int i = 0; i < CLIENTS; i++) {
		add_stats(&sum, &ph[i].sum);
		for (int k = 1; k <= 2; k++) {
			attempts[k] += ph[i].attempts[k];
			failures[k] += ph[i].failures[k];
		}
	}
	print_message("cutproxy: %d connections, %d cut; syncs: %d (%d failed) until the outboxes "
		      "were empty, then %d (%d failed); results: applied %llu, duplicate %llu, "
		      "conflict %llu, rejected %llu; changes pulled %llu\n",
		      conns, cuts, attempts[1], failures[1], attempts[2], failures[2],
		      (unsigned long long)sum.applied, (unsigned long long)sum.duplicate,
		      (unsigned long long)sum.conflict, (unsigned long long)sum.rejected,
		      (unsigned long long)sum.pulled);
	assert_true(cuts > 0);
	assert_int_equal(sum.applied + sum.duplicate, CLIENTS * OPS);
	assert_int_equal(sum.conflict + sum.rejected, 0);

	/* The server: every record once, at version 1. */
	assert_int_equal(hx_new_device(e, TEAM, "Coordinateur", &fresh), 0);
	assert_int_equal(hx_pull_all(fresh.c, 0, 1000, &cs), 0);
	assert_int_equal(cs.n, CLIENTS * OPS);
	for (size_t k = 0; k < cs.n; k++) {
		assert_int_equal(cs.v[k].version, 1);
		assert_int_equal(fault_ids_add(&held, cs.v[k].record_id), 0);
	}
	assert_int_equal(fault_ids_sort(&held), 0);
	assert_true(fault_ids_equal(&held, &all));

	/* Every device: the same set, at version 1, nothing pending, cursor at the last change. */
	for (int i = 0; i < CLIENTS; i++) {
		struct veille_info info;
		size_t outbox = 1;

		for (size_t k = 0; k < all.n; k++) {
			Veille__V1__Change *ch = NULL;
			size_t pending = 1;

			assert_int_equal(veille_record_get(ph[i].d.c, all.v[k], &ch, &pending), 0);
			assert_int_equal(ch->version, 1);
			assert_int_equal(pending, 0);
			assert_true(ch->seq > 0);
			veille_change_free(ch);
		}
		assert_int_equal(veille_outbox_count(ph[i].d.c, &outbox), 0);
		assert_int_equal(outbox, 0);
		veille_info(ph[i].d.c, &info);
		assert_int_equal(info.pull_cursor, cs.cursor);
		assert_int_equal(info.problems, 0);
		assert_string_equal(info.server_url, proxy.url);
		hx_device_close(&ph[i].d);
	}
	hx_changes_free(&cs);
	fault_ids_free(&held);
	fault_ids_free(&all);
	hx_device_close(&fresh);
	assert_int_equal(hx_env_free(e), 0);
	free(ph);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cuts_converge),
	};

	return cmocka_run_group_tests_name("fault_cut_connections", tests, NULL, NULL);
}
