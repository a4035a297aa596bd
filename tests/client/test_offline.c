/*
 * Integration: libveille's outbox and sync against the real veilled (docs/sync.md). Ops
 * queued offline survive and go once the server is back; a poke brings a colleague's change
 * to a following device within a second; a following device reconnects after a restart; short
 * waits on an idle connection end on time; one bad op does not block the outbox; person
 * profiles edited offline on two devices converge; a state directory of the previous version
 * keeps its counters; the CLI queues offline and exits 0.
 *
 * Each test gets a fresh server with one structure and devices A and B (one professional
 * each), enrolled and connected through libveille (tests/integration/harness.h).
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

#include "harness.h"

#define TEAM "maraude-69-croix-rousse"
#define CLI_TIMEOUT_MS 30000

struct fixture {
	struct hx_env *e;
	struct hx_device a, b;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, TEAM, "Maraude Croix-Rousse", "equipe_mobile", "69") ||
	    hx_server_start(f->e, (char *)NULL) ||
	    hx_new_device(f->e, TEAM, "Alice Martin", &f->a) ||
	    hx_new_device(f->e, TEAM, "Bob Durand", &f->b))
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

/* Queues n encounters about one person on d in one transaction. */
static void queue(struct hx_device *d, size_t n, const char *note)
{
	struct hx_batch *b = hx_batch_new(n, NULL, note);

	assert_non_null(b);
	assert_int_equal(veille_outbox_add_many(d->c, b->ptrs, n), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(b->ptrs[i]->op_counter > 0);
	hx_batch_free(b);
}

static size_t pending(struct hx_device *d)
{
	size_t n = 99999;

	assert_int_equal(veille_outbox_count(d->c, &n), 0);
	return n;
}

/*
 * With the server down, A queues 1500 encounters (two push batches' worth): a sync fails
 * with a connection error and leaves all 1500 queued. Server back (same port): one sync
 * pushes them all (1500 APPLIED), empties the outbox and records the sync time; B's sync
 * pulls the 1500. A sync with nothing to do pushes nothing.
 */
static void test_queued_offline_then_synced(void **state)
{
	struct fixture *f = *state;
	struct veille_sync_stats st;
	struct veille_info info;
	int rc;

	assert_int_equal(hx_server_stop(f->e), 0);
	queue(&f->a, 1000, "hors ligne, quai Saint-Vincent");
	queue(&f->a, 500, "hors ligne, montée de la Grande-Côte");
	rc = veille_sync(f->a.c, &st);
	assert_true(rc == VEILLE_ECONN || rc == VEILLE_ECLOSED || rc == VEILLE_ETIMEOUT);
	assert_int_equal(st.pushed, 0);
	assert_int_equal(pending(&f->a), 1500);
	veille_info(f->a.c, &info);
	assert_int_equal(info.pending_ops, 1500);
	assert_int_equal(info.last_sync_ms, 0);

	assert_int_equal(hx_server_restart(f->e), 0);
	assert_int_equal(veille_sync(f->a.c, &st), 0);
	assert_int_equal(st.pushed, 1500);
	assert_int_equal(st.applied, 1500);
	assert_int_equal(st.pending, 0);
	assert_int_equal(pending(&f->a), 0);
	veille_info(f->a.c, &info);
	assert_true(info.last_sync_ms > 0);
	assert_int_equal(info.op_counter, 1500);

	assert_int_equal(veille_sync(f->b.c, &st), 0);
	assert_int_equal(st.pulled, 1500);
	assert_int_equal(st.pushed, 0);
	veille_info(f->b.c, &info);
	assert_int_equal(info.pull_cursor, st.cursor);

	assert_int_equal(veille_sync(f->a.c, &st), 0);
	assert_int_equal(st.pushed, 0);
}

/*
 * A queues an encounter whose note is over the server's limit between two good ones: the
 * server refuses such a push whole, the client finds the op at fault, keeps it as a REJECTED
 * problem (LIMIT_EXCEEDED) and the two others are applied.
 */
static void test_bad_op_does_not_block(void **state)
{
	struct fixture *f = *state;
	struct hx_mut good1, bad, good2;
	Veille__V1__Mutation *muts[3] = { &good1.m, &bad.m, &good2.m };
	struct veille_sync_stats st;
	struct veille_info info;
	char *note = malloc(5000);

	assert_non_null(note);
	memset(note, 'x', 4999);
	note[4999] = '\0';
	assert_int_equal(hx_mut_init(&good1, NULL, "bien"), 0);
	assert_int_equal(hx_mut_init(&bad, NULL, note), 0);
	assert_int_equal(hx_mut_init(&good2, NULL, "bien aussi"), 0);
	free(note);
	assert_int_equal(veille_outbox_add_many(f->a.c, muts, 3), 0);
	assert_int_equal(veille_sync(f->a.c, &st), 0);
	assert_int_equal(st.pushed, 3);
	assert_int_equal(st.applied, 2);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(pending(&f->a), 0);
	veille_info(f->a.c, &info);
	assert_int_equal(info.problems, 1);
	hx_mut_free(&good1);
	hx_mut_free(&bad);
	hx_mut_free(&good2);
}

struct follow_script {
	struct fixture *f;
	char cli_dir[PATH_MAX];
	int step;
	uint64_t started_ms, added_ms, restarted;
	uint64_t pulled, latency_ms;
	uint64_t syncs;
};

/* `veille --dir A encounter add --new-person --no-sync`: another process queueing. */
static void cli_add(const char *dir, const char *mode)
{
	char *argv[] = { VEILLE_CLI_PATH, "--dir", (char *)dir, "encounter", "add",
			 "--new-person", (char *)mode, NULL };
	struct hx_out out;

	assert_int_equal(hx_run(argv, CLI_TIMEOUT_MS, &out), 0);
	assert_int_equal(out.status, 0);
	hx_out_free(&out);
}

static void on_sync(const struct veille_sync_stats *st, void *arg)
{
	struct follow_script *s = arg;

	s->syncs++;
	s->pulled += st->pulled;
	if (s->step == 1 && st->pulled > 0) {
		s->latency_ms = hx_mono_ms() - s->added_ms;
		s->step = 2;
	}
}

/*
 * The script run from B's stop predicate (called between waits of at most 200 ms): once B
 * followed for a moment, A's CLI (another process, sharing A's directory with this one)
 * records an encounter, online; B must pull it on the poke. Then the server restarts; B
 * reconnects; A queues one and syncs it; B pulls it.
 */
static int follow_step(void *arg)
{
	struct follow_script *s = arg;
	uint64_t now = hx_mono_ms();

	switch (s->step) {
	case 0:
		if (now - s->started_ms < 500)
			return 0;
		s->added_ms = hx_mono_ms();
		cli_add(s->f->a.dir, "--sync");
		s->step = 1;
		return 0;
	case 2:
		assert_int_equal(hx_server_restart(s->f->e), 0);
		cli_add(s->f->a.dir, "--sync");
		s->restarted = s->pulled;
		s->step = 3;
		return 0;
	case 3:
		return s->pulled > s->restarted;
	default:
		return 0;
	}
}

static void test_follow_poke_and_reconnect(void **state)
{
	struct fixture *f = *state;
	struct follow_script s = { .f = f };
	struct veille_follow_opts fo = { .stop = follow_step, .on_sync = on_sync, .arg = &s,
					 .max_ms = 30000 };
	struct veille_sync_stats total;

	s.started_ms = hx_mono_ms();
	assert_int_equal(veille_follow(f->b.c, &fo, &total), 0);
	assert_int_equal(s.step, 3);
	assert_true(s.pulled >= 2);
	/* The poke, not a timer, woke B: well within a second on loopback. */
	print_message("poke-to-pull latency: %llu ms\n", (unsigned long long)s.latency_ms);
	assert_true(s.latency_ms < 1000);
	assert_true(hx_mono_ms() - s.started_ms < 30000);
	assert_int_equal(total.pulled, s.pulled);
}

/*
 * Waits of 0 to 3 ms on an idle, open connection, 3,000 of them: each ends with a timeout, at
 * once. Regression: libveille's wait armed an lws timer for the time left, and when that timer
 * ripened just as lws computed its poll() wait, lws slept until its own next timer, about 30 s
 * later; a following device then missed pokes for that long. The bound per wait (5 s) only
 * tells a hang from a slow machine.
 */
static void test_short_waits_end(void **state)
{
	struct fixture *f = *state;
	struct conn *c = hx_raw_open(f->e);
	uint64_t worst = 0;

	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, &f->a), 0);
	for (int i = 0; i < 3000; i++) {
		uint64_t t0 = hx_mono_ms(), took;
		uint8_t *msg = NULL;
		size_t len = 0;

		assert_int_equal(conn_recv(c, &msg, &len, i % 4), VEILLE_ETIMEOUT);
		took = hx_mono_ms() - t0;
		if (took > worst)
			worst = took;
		assert_true(took < 5000);
	}
	print_message("longest of 3000 short waits: %llu ms\n", (unsigned long long)worst);
	conn_close(c);
}

/* Sets one text field of person pid in a queued edit. */
static void edit_text(struct hx_device *d, const char *pid, int field, const char *text,
		      int flag_field)
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Person p = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue v[2], *ptr[2] = { &v[0], &v[1] };

	veille__v1__person_field_value__init(&v[0]);
	veille__v1__person_field_value__init(&v[1]);
	v[0].field = field;
	v[0].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
	v[0].text = (char *)text;
	v[1].field = flag_field;
	v[1].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
	v[1].flag = 1;
	p.n_fields = flag_field ? 2 : 1;
	p.fields = ptr;
	m.record_id = (char *)pid;
	m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	m.person = &p;
	assert_int_equal(veille_outbox_add(d->c, &m), 0);
	assert_true(m.op_counter > 0);
}

static const Veille__V1__PersonFieldValue *field_of(const Veille__V1__Change *ch, int field)
{
	for (size_t i = 0; ch->person && i < ch->person->n_fields; i++)
		if ((int)ch->person->fields[i]->field == field)
			return ch->person->fields[i];
	return NULL;
}

/*
 * docs/sync.md's example, live: the profile exists with NICKNAME "Jo"; offline, A sets
 * "Jojo", then B sets "Joe" and ANIMAL. After both sync (A first) and pull, A, B and the
 * server's feed hold the same profile: "Joe" (B's later stamp) and ANIMAL true.
 */
static void test_person_edits_converge(void **state)
{
	struct fixture *f = *state;
	const int nick = VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME;
	const int animal = VEILLE__V1__PERSON_FIELD__PERSON_FIELD_ANIMAL;
	struct veille_sync_stats st;
	Veille__V1__Change *ca = NULL, *cb = NULL;
	char pid[33];

	assert_int_equal(veille_new_record_id(pid), 0);
	edit_text(&f->a, pid, nick, "Jo", 0);
	assert_int_equal(veille_sync(f->a.c, &st), 0);
	assert_int_equal(st.applied, 1);
	assert_int_equal(veille_sync(f->b.c, &st), 0);

	assert_int_equal(hx_server_stop(f->e), 0);
	edit_text(&f->a, pid, nick, "Jojo", 0);
	hx_sleep_ms(5);
	edit_text(&f->b, pid, nick, "Joe", animal);
	/* Offline, each device sees its own edit. */
	assert_int_equal(veille_record_get(f->a.c, pid, &ca, NULL), 0);
	assert_string_equal(field_of(ca, nick)->text, "Jojo");
	veille_change_free(ca);
	assert_int_equal(hx_server_restart(f->e), 0);

	assert_int_equal(veille_sync(f->a.c, &st), 0);
	assert_int_equal(st.applied, 1);
	assert_int_equal(veille_sync(f->b.c, &st), 0);
	assert_int_equal(st.applied, 1);
	assert_int_equal(veille_sync(f->a.c, &st), 0);
	assert_int_equal(veille_record_get(f->a.c, pid, &ca, NULL), 0);
	assert_int_equal(veille_record_get(f->b.c, pid, &cb, NULL), 0);
	assert_string_equal(field_of(ca, nick)->text, "Joe");
	assert_string_equal(field_of(cb, nick)->text, "Joe");
	assert_true(field_of(ca, animal)->flag);
	assert_int_equal(field_of(ca, nick)->hlc->wall_ms, field_of(cb, nick)->hlc->wall_ms);
	assert_int_equal(ca->version, cb->version);
	assert_string_equal(ca->person->team_id, TEAM);
	veille_change_free(ca);
	veille_change_free(cb);
}

/*
 * A directory of the previous client version (counters in device.state, no local store)
 * keeps its counters: they move into the local store once, device.state no longer holds
 * them, and the next op gets the next counter.
 */
static void test_previous_version_directory(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX + 32];
	struct veille_error err;
	struct veille_info info;
	struct hx_mut m;
	uint8_t *text = NULL;
	size_t len;
	FILE *fp;

	hx_device_close(&f->a);
	snprintf(path, sizeof path, "%s/device.state", f->a.dir);
	fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("op_counter=41\npull_cursor=7\n", fp);
	fclose(fp);
	snprintf(path, sizeof path, "%s/local/data.mdb", f->a.dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof path, "%s/local/lock.mdb", f->a.dir);
	unlink(path);

	assert_int_equal(veille_open(&f->a.c, f->a.dir, &err), 0);
	veille_info(f->a.c, &info);
	assert_int_equal(info.op_counter, 41);
	assert_int_equal(info.pull_cursor, 7);
	snprintf(path, sizeof path, "%s/device.state", f->a.dir);
	assert_int_equal(hx_read_file(path, &text, &len), 0);
	assert_null(strstr((char *)text, "op_counter"));
	free(text);
	assert_int_equal(hx_mut_init(&m, NULL, NULL), 0);
	assert_int_equal(veille_outbox_add(f->a.c, &m.m), 0);
	assert_int_equal(m.m.op_counter, 42);
	hx_mut_free(&m);
}

/* Runs `veille --dir DIR args...` (NULL-terminated) and expects exit status `expect`. */
#define veille_cli(out, expect, ...) \
	assert_int_equal(hx_veille(out, expect, CLI_TIMEOUT_MS, __VA_ARGS__), expect)

/*
 * The CLI with the server down: `encounter add` queues, prints "queued", says "queued
 * (offline)" and exits 0; with --sync it exits 3; `status` counts 2 pending ops. Server
 * back: `veille sync` pushes both (applied 2) and `status` shows 0 pending and a sync time.
 */
static void test_cli_offline(void **state)
{
	struct fixture *f = *state;
	char code[32], dir[PATH_MAX], val[64];
	struct hx_out out;

	snprintf(dir, sizeof dir, "%s/cli-x", f->e->tmp);
	assert_int_equal(hx_professional_add(f->e, TEAM, "Xavier", "maraudeur", NULL, 0, NULL,
					     code), 0);
	veille_cli(&out, 0, dir, "enrol", "--server", f->e->url, "--code", code, (char *)NULL);
	hx_out_free(&out);
	assert_int_equal(hx_server_stop(f->e), 0);

	veille_cli(&out, 0, dir, "encounter", "add", "--new-person", (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "queued record_id="), 1);
	assert_non_null(strstr(out.err, "queued (offline)"));
	hx_out_free(&out);
	veille_cli(&out, 3, dir, "encounter", "add", "--new-person", "--sync", (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "queued record_id="), 1);
	hx_out_free(&out);
	veille_cli(&out, 0, dir, "status", (char *)NULL);
	assert_int_equal(hx_kv(out.out, "pending_ops", val, sizeof val), 0);
	assert_string_equal(val, "2");
	assert_int_equal(hx_kv(out.out, "last_sync", val, sizeof val), 0);
	assert_string_equal(val, "never");
	hx_out_free(&out);

	assert_int_equal(hx_server_restart(f->e), 0);
	veille_cli(&out, 0, dir, "sync", (char *)NULL);
	assert_non_null(
		strstr(out.out, "pushed 2 (applied 2, duplicate 0, conflict 0, rejected 0)"));
	hx_out_free(&out);
	veille_cli(&out, 0, dir, "status", (char *)NULL);
	assert_int_equal(hx_kv(out.out, "pending_ops", val, sizeof val), 0);
	assert_string_equal(val, "0");
	assert_int_equal(hx_kv(out.out, "last_sync", val, sizeof val), 0);
	assert_string_not_equal(val, "never");
	hx_out_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queued_offline_then_synced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_op_does_not_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_poke_and_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_waits_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_person_edits_converge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_previous_version_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_offline, setup, teardown),
	};

	return cmocka_run_group_tests_name("client_integration_offline", tests, NULL, NULL);
}
