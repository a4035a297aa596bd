/*
 * Fault: two devices edit the same person offline, and the server receives the edits in both
 * orders (issue 3, fault test 4; docs/sync.md, "Person profiles: per-field last writer wins on
 * a hybrid logical clock").
 *
 * Each order runs in a fresh environment: devices A and B of one structure; A creates a person
 * (`veille person set --new-person --nickname Jo`), B pulls it; veilled stops; A sets NICKNAME
 * and FAMILY_NAME, B sets NICKNAME and ANIMAL (both `veille person set`, queued offline, real
 * clocks, which device edits first and the gap between them seeded). veilled restarts; in
 * scenario (i) A syncs then B, in scenario (ii) B then A; then both sync again. The stamps the
 * devices actually used are read from their outboxes before the sync, and the expected profile
 * computed from them by the documented rule (each field: the value of the greatest stamp,
 * comparing wall_ms, counter, device id bytewise). A's and B's `veille person show`, their
 * local stores and the server's feed must all hold that profile.
 *
 * Real clocks give different stamps in the two scenarios, so each environment also replays one
 * set of fixed stamps (pushed with veille_push, explicit Hlc) in both orders, on two persons:
 * the two orders must give the same profile, field by field, the one the rule gives; and
 * scenarios (i) and (ii) the same winner for every field (the tie on wall_ms and counter is
 * decided by the device ids, which each environment draws anew: checked against the rule).
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

#define TEAM "maraude-69-part-dieu"
#define F_GIVEN VEILLE__V1__PERSON_FIELD__PERSON_FIELD_GIVEN_NAME
#define F_FAMILY VEILLE__V1__PERSON_FIELD__PERSON_FIELD_FAMILY_NAME
#define F_NICK VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME
#define F_ANIMAL VEILLE__V1__PERSON_FIELD__PERSON_FIELD_ANIMAL
#define F_SITUATION VEILLE__V1__PERSON_FIELD__PERSON_FIELD_SITUATION
#define F_LANGUAGES VEILLE__V1__PERSON_FIELD__PERSON_FIELD_LANGUAGES
#define NFIELDS 16 /* PersonField numbers this test may see: 1 to 15 */
#define W0 1700000000000ull /* the fixed stamps' time: in the past, so the server takes them */

enum role { NOBODY = 0, BY_A, BY_B, BY_CREATION };

/* One field of a profile, copied out of its protobuf. */
struct fv {
	int present;
	int kind;               /* value_case */
	char text[300];
	int64_t number;
	int flag;
	uint64_t wall;
	uint32_t counter;
	uint8_t dev[16];
};

struct profile {
	uint64_t version;
	struct fv f[NFIELDS];
};

/* An edit as a device made it: the fields it set, with their stamp. */
struct edit {
	int n;
	int field[4];
	const char *text[4];    /* NULL: a flag set to true */
	uint64_t wall[4];
	uint32_t counter[4];
};

struct env {
	struct hx_env *e;
	struct hx_device a, b, f; /* f: a fresh device, the server's view */
	char pid[33];
};

/* ---- profiles ---- */

static void profile_of(const Veille__V1__Change *ch, struct profile *p)
{
	memset(p, 0, sizeof *p);
	assert_non_null(ch);
	assert_int_equal(ch->record_case, VEILLE__V1__CHANGE__RECORD_PERSON);
	p->version = ch->version;
	for (size_t i = 0; i < ch->person->n_fields; i++) {
		const Veille__V1__PersonFieldValue *v = ch->person->fields[i];
		struct fv *x;

		assert_true(v->field > 0 && v->field < NFIELDS);
		x = &p->f[v->field];
		assert_false(x->present); /* a field at most once */
		x->present = 1;
		x->kind = v->value_case;
		/* One value, of the kind value_case says (protobuf-c keeps a oneof in a union). */
		if (v->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT)
			snprintf(x->text, sizeof x->text, "%s", v->text);
		else if (v->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE_NUMBER)
			x->number = v->number;
		else if (v->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG)
			x->flag = v->flag;
		assert_non_null(v->hlc);
		x->wall = v->hlc->wall_ms;
		x->counter = v->hlc->counter;
		assert_int_equal(v->hlc->device_id.len, 16);
		memcpy(x->dev, v->hlc->device_id.data, 16);
	}
}

static void assert_same_profile(const struct profile *x, const struct profile *y,
				const char *what)
{
	for (int k = 1; k < NFIELDS; k++) {
		const struct fv *a = &x->f[k], *b = &y->f[k];
		int same = a->present == b->present &&
			   (!a->present ||
			    (a->kind == b->kind && !strcmp(a->text, b->text) &&
			     a->number == b->number && a->flag == b->flag && a->wall == b->wall &&
			     a->counter == b->counter && !memcmp(a->dev, b->dev, 16)));

		if (!same)
			print_message("%s: field %d differs: %s%s(kind %d)@%llu.%u.%02x vs "
				      "%s%s(kind %d)@%llu.%u.%02x\n", what, k,
				      a->present ? "" : "absent ", a->text, a->kind,
				      (unsigned long long)a->wall, a->counter, a->dev[0],
				      b->present ? "" : "absent ", b->text, b->kind,
				      (unsigned long long)b->wall, b->counter, b->dev[0]);
		assert_true(same);
	}
}

/* The rule, written out independently of the code under test. */
static int stamp_cmp(uint64_t wa, uint32_t ca, const uint8_t *da, uint64_t wb, uint32_t cb,
		     const uint8_t *db)
{
	int d;

	if (wa != wb)
		return wa < wb ? -1 : 1;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	d = memcmp(da, db, 16);
	return d < 0 ? -1 : d > 0;
}

/* Folds edit ed, made by device dev, into the expected profile p: each field goes to the
 * greater stamp. who[] records which role holds each field. */
static void expect_edit(struct profile *p, enum role *who, enum role by, const struct edit *ed,
			const uint8_t dev[16])
{
	for (int i = 0; i < ed->n; i++) {
		struct fv *x = &p->f[ed->field[i]];

		if (x->present && stamp_cmp(ed->wall[i], ed->counter[i], dev, x->wall, x->counter,
					    x->dev) <= 0)
			continue;
		memset(x, 0, sizeof *x);
		x->present = 1;
		if (ed->text[i]) {
			x->kind = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
			snprintf(x->text, sizeof x->text, "%s", ed->text[i]);
		} else {
			x->kind = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
			x->flag = 1;
		}
		x->wall = ed->wall[i];
		x->counter = ed->counter[i];
		memcpy(x->dev, dev, 16);
		who[ed->field[i]] = by;
	}
}

/* The profile d holds of person pid (after its sync). */
static void device_profile(struct hx_device *d, const char *pid, struct profile *p)
{
	Veille__V1__Change *ch = NULL;
	size_t pending = 1;

	assert_int_equal(veille_record_get(d->c, pid, &ch, &pending), 0);
	assert_int_equal(pending, 0);
	profile_of(ch, p);
	veille_change_free(ch);
}

struct newest {
	const char *pid;
	uint64_t seq;
	struct profile p;
	int found;
};

static int take_newest(const Veille__V1__Change *ch, void *arg)
{
	struct newest *n = arg;

	if (strcmp(ch->record_id, n->pid) == 0 && ch->seq > n->seq) {
		n->seq = ch->seq;
		profile_of(ch, &n->p);
		n->found = 1;
	}
	return 0;
}

/* The server's profile of pid: its newest change, as a fresh pull from 0 gives it. */
static void server_profile(struct env *v, const char *pid, struct profile *p)
{
	struct newest n = { pid, 0, { 0 }, 0 };
	uint64_t cursor = 0, next = 0;
	int more = 1;

	assert_int_equal(veille_connect(v->f.c, -1), 0); /* the server may have restarted */
	for (int page = 0; more && page < 1000; page++) {
		assert_int_equal(veille_pull(v->f.c, cursor, 0, take_newest, &n, &next, &more), 0);
		cursor = next;
	}
	assert_false(more);
	assert_true(n.found);
	*p = n.p;
}

/* ---- environments ---- */

static void env_new(struct env *v)
{
	memset(v, 0, sizeof *v);
	assert_non_null(v->e = hx_env_new());
	assert_int_equal(hx_structure_add(v->e, TEAM, "Maraude Part-Dieu", "equipe_mobile", "69"),
			 0);
	assert_int_equal(hx_server_start(v->e, (char *)NULL), 0);
	assert_int_equal(hx_new_device(v->e, TEAM, "Alice", &v->a), 0);
	assert_int_equal(hx_new_device(v->e, TEAM, "Bachir", &v->b), 0);
	assert_int_equal(hx_new_device(v->e, TEAM, "Fatou", &v->f), 0);
}

static void env_free(struct env *v)
{
	hx_device_close(&v->a);
	hx_device_close(&v->b);
	hx_device_close(&v->f);
	assert_int_equal(hx_env_free(v->e), 0);
}

static void cli_ok(struct hx_out *out, const char *dir, const char *what, ...)
{
	char *argv[24] = { NULL };
	const char *a;
	va_list ap;
	int n = 0, status;

	va_start(ap, what);
	while ((a = va_arg(ap, const char *)) && n < 23)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	/* fault_cli takes a NULL-terminated list: pass at most 12 arguments through. */
	status = fault_cli(out, dir, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5],
			   argv[6], argv[7], argv[8], argv[9], argv[10], argv[11], (char *)NULL);
	if (status != 0)
		print_message("veille %s: status %d\n%s%s", what, status, out->out ? out->out : "",
			      out->err ? out->err : "");
	assert_int_equal(status, 0);
}

/* The stamp d gave each field of its queued edit of pid (its local view folds the outbox in;
 * every field of one edit shares one stamp). */
static void queued_stamps(struct hx_device *d, const char *pid, struct edit *ed)
{
	Veille__V1__Change *ch = NULL;
	size_t pending = 0;
	struct profile p;

	assert_int_equal(veille_record_get(d->c, pid, &ch, &pending), 0);
	assert_int_equal(pending, 1);
	profile_of(ch, &p);
	veille_change_free(ch);
	for (int i = 0; i < ed->n; i++) {
		const struct fv *x = &p.f[ed->field[i]];

		assert_true(x->present);
		assert_memory_equal(x->dev, d->device_id, 16);
		ed->wall[i] = x->wall;
		ed->counter[i] = x->counter;
	}
}

/*
 * The scenario with the CLI and real clocks. first_a: A syncs first. edit_a_first, gap_ms:
 * the seeded order of the offline edits and the time between them.
 */
static void real_clocks(struct env *v, int first_a, int edit_a_first, unsigned gap_ms)
{
	struct edit ea = { 2, { F_NICK, F_FAMILY }, { "Jojo", "Martin" }, { 0 }, { 0 } };
	struct edit eb = { 2, { F_NICK, F_ANIMAL }, { "Joe", NULL }, { 0 }, { 0 } };
	enum role who[NFIELDS] = { NOBODY };
	struct profile want, pa, pb, ps, created;
	struct hx_device *first = first_a ? &v->a : &v->b, *second = first_a ? &v->b : &v->a;
	struct hx_out out, show_a, show_b;

	/* A creates the person, online; B pulls it. The CLI works on the directories now. */
	hx_device_close(&v->a);
	hx_device_close(&v->b);
	cli_ok(&out, v->a.dir, "person set", "person", "set", "--new-person", "--nickname", "Jo",
	       "--sync", (char *)NULL);
	assert_int_equal(hx_kv(out.out, "person_id", v->pid, sizeof v->pid), 0);
	hx_out_free(&out);
	cli_ok(&out, v->b.dir, "sync", "sync", (char *)NULL);
	hx_out_free(&out);

	/* Offline, both edit it; which first is seeded. */
	assert_int_equal(hx_server_stop(v->e), 0);
	for (int k = 0; k < 2; k++) {
		if ((k == 0) == (edit_a_first != 0))
			cli_ok(&out, v->a.dir, "person set", "person", "set", "--person", v->pid,
			       "--nickname", "Jojo", "--family-name", "Martin", (char *)NULL);
		else
			cli_ok(&out, v->b.dir, "person set", "person", "set", "--person", v->pid,
			       "--nickname", "Joe", "--animal", "yes", (char *)NULL);
		assert_non_null(strstr(out.out, "queued record_id="));
		hx_out_free(&out);
		if (k == 0)
			hx_sleep_ms(gap_ms);
	}

	/* The stamps they used, and what the rule makes of them. */
	assert_int_equal(veille_open(&v->a.c, v->a.dir, &(struct veille_error){ 0 }), 0);
	assert_int_equal(veille_open(&v->b.c, v->b.dir, &(struct veille_error){ 0 }), 0);
	queued_stamps(&v->a, v->pid, &ea);
	queued_stamps(&v->b, v->pid, &eb);
	print_message("stamps: A nickname/family_name %llu.%u, B nickname/animal %llu.%u "
		      "(%s edited first, %u ms before)\n",
		      (unsigned long long)ea.wall[0], ea.counter[0],
		      (unsigned long long)eb.wall[0], eb.counter[0], edit_a_first ? "A" : "B",
		      gap_ms);
	assert_int_equal(hx_server_restart(v->e), 0);
	server_profile(v, v->pid, &created);
	want = created;
	expect_edit(&want, who, BY_A, &ea, v->a.device_id);
	expect_edit(&want, who, BY_B, &eb, v->b.device_id);
	hx_device_close(&v->a);
	hx_device_close(&v->b);

	/* The server receives them in this scenario's order; then both pull. */
	cli_ok(&out, first->dir, "sync", "sync", (char *)NULL);
	hx_out_free(&out);
	cli_ok(&out, second->dir, "sync", "sync", (char *)NULL);
	hx_out_free(&out);
	cli_ok(&out, first->dir, "sync", "sync", (char *)NULL);
	hx_out_free(&out);
	cli_ok(&out, second->dir, "sync", "sync", (char *)NULL);
	hx_out_free(&out);

	/* `person show` on A and B: the same profile, byte for byte. */
	cli_ok(&show_a, v->a.dir, "person show", "person", "show", v->pid, (char *)NULL);
	cli_ok(&show_b, v->b.dir, "person show", "person", "show", v->pid, (char *)NULL);
	assert_string_equal(show_a.out, show_b.out);
	assert_non_null(strstr(show_a.out, "\"pending_ops\":0"));
	print_message("%s then %s: %s", first_a ? "A" : "B", first_a ? "B" : "A", show_a.out);
	{
		char expect[sizeof want.f[F_NICK].text + 64];

		snprintf(expect, sizeof expect, "\"nickname\":{\"value\":\"%s\"",
			 want.f[F_NICK].text);
		assert_non_null(strstr(show_a.out, expect));
		assert_non_null(strstr(show_a.out, "\"family_name\":{\"value\":\"Martin\""));
		assert_non_null(strstr(show_a.out, "\"animal\":{\"value\":true"));
	}
	hx_out_free(&show_a);
	hx_out_free(&show_b);

	/* Their stores and the server hold the rule's profile, stamps included. */
	assert_int_equal(veille_open(&v->a.c, v->a.dir, &(struct veille_error){ 0 }), 0);
	assert_int_equal(veille_open(&v->b.c, v->b.dir, &(struct veille_error){ 0 }), 0);
	device_profile(&v->a, v->pid, &pa);
	device_profile(&v->b, v->pid, &pb);
	server_profile(v, v->pid, &ps);
	assert_same_profile(&pa, &want, "A vs the rule");
	assert_same_profile(&pb, &want, "B vs the rule");
	assert_same_profile(&ps, &want, "server vs the rule");
	assert_int_equal(pa.version, ps.version);
	assert_int_equal(pb.version, ps.version);
	assert_int_equal(who[F_FAMILY], BY_A);
	assert_int_equal(who[F_ANIMAL], BY_B);
	assert_true(who[F_NICK] == BY_A || who[F_NICK] == BY_B);
	assert_int_equal(veille_connect(v->a.c, -1), 0);
	assert_int_equal(veille_connect(v->b.c, -1), 0);
}

/* ---- fixed stamps ---- */

/* The fixed edits: the person's creation by A, then A's and B's offline edits. Ties on
 * purpose: NICKNAME (same wall and counter: the device ids decide), LANGUAGES (same wall:
 * the counter decides), SITUATION (the wall decides against a greater counter). */
static const struct edit fixed_create = {
	1, { F_NICK }, { "Jo" }, { W0 + 1000 }, { 0 }
};
static const struct edit fixed_a = {
	4, { F_NICK, F_FAMILY, F_SITUATION, F_LANGUAGES }, { "Jojo", "Martin", "abri", "fr" },
	{ W0 + 5000, W0 + 5000, W0 + 6000, W0 + 5000 }, { 0, 0, 0, 2 }
};
static const struct edit fixed_b = {
	4, { F_NICK, F_ANIMAL, F_SITUATION, F_LANGUAGES }, { "Joe", NULL, "rue", "fr, ar" },
	{ W0 + 5000, W0 + 5000, W0 + 5000, W0 + 5000 }, { 0, 1, 9, 1 }
};

/* Pushes ed as d's person edit of pid with its own stamps, straight (veille_push). */
static void push_fixed(struct hx_device *d, const char *pid, const struct edit *ed)
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT, *mp = &m;
	Veille__V1__Person p = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue v[4], *vp[4];
	Veille__V1__Hlc h[4];
	struct veille_op_result r;

	for (int i = 0; i < ed->n; i++) {
		veille__v1__person_field_value__init(&v[i]);
		veille__v1__hlc__init(&h[i]);
		v[i].field = ed->field[i];
		if (ed->text[i]) {
			v[i].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
			v[i].text = (char *)ed->text[i];
		} else {
			v[i].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
			v[i].flag = 1;
		}
		h[i].wall_ms = ed->wall[i];
		h[i].counter = ed->counter[i];
		h[i].device_id.data = d->device_id;
		h[i].device_id.len = 16;
		v[i].hlc = &h[i];
		vp[i] = &v[i];
	}
	p.n_fields = (size_t)ed->n;
	p.fields = vp;
	m.record_id = (char *)pid;
	m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	m.person = &p;
	assert_int_equal(veille_push(d->c, &mp, 1, &r), 0);
	if (r.status != VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED)
		print_message("push: status %d code %d %s\n", r.status, r.code, r.reason);
	assert_int_equal(r.status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);
}

/* One person through the fixed edits, the server receiving A's first or B's; returns the
 * profile all three agree on, and who won each field. */
static void fixed_order(struct env *v, int a_first, struct profile *got, enum role *who)
{
	struct profile want, pa, pb, ps;
	struct veille_sync_stats st;
	char pid[33];

	assert_int_equal(veille_new_record_id(pid), 0);
	memset(&want, 0, sizeof want);
	memset(who, 0, NFIELDS * sizeof *who);
	expect_edit(&want, who, BY_CREATION, &fixed_create, v->a.device_id);
	expect_edit(&want, who, BY_A, &fixed_a, v->a.device_id);
	expect_edit(&want, who, BY_B, &fixed_b, v->b.device_id);

	push_fixed(&v->a, pid, &fixed_create);
	assert_int_equal(veille_sync(v->b.c, &st), 0); /* B has seen the creation */
	push_fixed(a_first ? &v->a : &v->b, pid, a_first ? &fixed_a : &fixed_b);
	push_fixed(a_first ? &v->b : &v->a, pid, a_first ? &fixed_b : &fixed_a);
	assert_int_equal(veille_sync(v->a.c, &st), 0);
	assert_int_equal(veille_sync(v->b.c, &st), 0);

	device_profile(&v->a, pid, &pa);
	device_profile(&v->b, pid, &pb);
	server_profile(v, pid, &ps);
	assert_same_profile(&pa, &want, "A vs the rule (fixed stamps)");
	assert_same_profile(&pb, &want, "B vs the rule (fixed stamps)");
	assert_same_profile(&ps, &want, "server vs the rule (fixed stamps)");
	assert_int_equal(pa.version, ps.version);
	assert_int_equal(pb.version, ps.version);
	*got = ps;
}

/* Both orders of the fixed edits in v: the same profile. who receives the winners. */
static void fixed_both_orders(struct env *v, enum role *who)
{
	struct profile ab, ba;
	enum role who_ba[NFIELDS];

	fixed_order(v, 1, &ab, who);
	fixed_order(v, 0, &ba, who_ba);
	assert_same_profile(&ab, &ba, "A then B vs B then A (fixed stamps)");
	assert_memory_equal(who, who_ba, NFIELDS * sizeof *who);
	/* The rule, field by field: FAMILY_NAME only A set, ANIMAL only B; SITUATION A's later
	 * wall; LANGUAGES A's greater counter; NICKNAME the greater device id. */
	assert_int_equal(who[F_FAMILY], BY_A);
	assert_int_equal(who[F_ANIMAL], BY_B);
	assert_int_equal(who[F_SITUATION], BY_A);
	assert_int_equal(who[F_LANGUAGES], BY_A);
	assert_int_equal(who[F_NICK],
			 memcmp(v->a.device_id, v->b.device_id, 16) > 0 ? BY_A : BY_B);
	assert_string_equal(ab.f[F_NICK].text, who[F_NICK] == BY_A ? "Jojo" : "Joe");
}

/* ---- the two scenarios ---- */

static void scenario(struct fault_rng *rng, int a_first, enum role *who_fixed)
{
	struct env v;
	int edit_a_first = (int)fault_between(rng, 0, 1);
	unsigned gap = (unsigned)fault_between(rng, 0, 20);

	env_new(&v);
	real_clocks(&v, a_first, edit_a_first, gap);
	fixed_both_orders(&v, who_fixed);
	env_free(&v);
}

static void test_person_edits_both_orders(void **state)
{
	enum role who_i[NFIELDS], who_ii[NFIELDS];
	struct fault_rng rng;

	(void)state;
	fault_rng_init(&rng, fault_seed("person_edits_both_orders"));
	scenario(&rng, 1, who_i);  /* (i): A syncs first */
	scenario(&rng, 0, who_ii); /* (ii): B syncs first, in a fresh environment */
	/* The same stamps give the same winners in both environments, except where the device
	 * ids decide (each environment has its own; checked against the rule above). */
	for (int k = 1; k < NFIELDS; k++)
		if (k != F_NICK)
			assert_int_equal(who_i[k], who_ii[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_person_edits_both_orders),
	};

	return cmocka_run_group_tests_name("fault_person_orders", tests, NULL, NULL);
}
