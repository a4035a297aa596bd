/*
 * Integration: the orientation workflow (docs/orientations.md) against a real veilled, with
 * real devices (libveille) and raw sessions for the live places.
 *
 * Territory 75: the SIAO (siao-75) with two coordinators, Sophie (S) and Samir (T); a maraude
 * (maraude-75) with Marc (M); two CHRS: chrs-a (homme_seul=2, famille=1) with its responsable
 * Rose (R), chrs-b (homme_seul=1) with Bruno (B). Territory 93: a maraude with Nadia (N).
 * veilled runs with --hold-seconds 2 so that a hold can expire within a test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define SIAO "siao-75"
#define MARAUDE "maraude-75"
#define CHRS_A "chrs-a"
#define CHRS_B "chrs-b"
#define MARAUDE_93 "maraude-93"
#define MARAUDE_NAME "Maraude Paris Sud" /* the directory's names */
#define CHRS_A_NAME "CHRS Les Acacias"
#define ERR(x) VEILLE__V1__ERROR_CODE__ERROR_CODE_##x
#define CAT(x) VEILLE__V1__PLACE_CATEGORY__PLACE_CATEGORY_##x
#define ST(x) VEILLE__V1__OP_STATUS__OP_STATUS_##x
#define HOLD_S "2"
#define NOTE "dort sous le pont Mirabeau, chien nerveux"
#define MOTIVE "le chien ne peut pas être accueilli cette semaine"

struct fixture {
	struct hx_env *e;
	struct hx_device s, t, m, r, b, n;
	uint64_t next_id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, SIAO, "SIAO de Paris", "siao", "75") ||
	    hx_structure_add(f->e, MARAUDE, MARAUDE_NAME, "equipe_mobile", "75") ||
	    hx_structure_add(f->e, CHRS_A, CHRS_A_NAME, "chrs", "75") ||
	    hx_structure_add(f->e, CHRS_B, "CHRS Le Bercail", "chrs", "75") ||
	    hx_structure_add(f->e, MARAUDE_93, "Maraude 93", "equipe_mobile", "93") ||
	    hx_ctl(f->e, NULL, "centre", "capacity", "--structure", CHRS_A, "homme_seul=2",
		   "famille=1", (char *)NULL) ||
	    hx_ctl(f->e, NULL, "centre", "capacity", "--structure", CHRS_B, "homme_seul=1",
		   (char *)NULL) ||
	    hx_server_start(f->e, "--hold-seconds", HOLD_S, (char *)NULL) ||
	    hx_new_device_as(f->e, SIAO, "Sophie Coordinatrice", "coordinateur_siao", &f->s) ||
	    hx_new_device_as(f->e, SIAO, "Samir Coordinateur", "coordinateur_siao", &f->t) ||
	    hx_new_device_as(f->e, MARAUDE, "Marc Maraudeur", "maraudeur", &f->m) ||
	    hx_new_device_as(f->e, CHRS_A, "Rose Directrice", "responsable_centre", &f->r) ||
	    hx_new_device_as(f->e, CHRS_B, "Bruno Directeur", "responsable_centre", &f->b) ||
	    hx_new_device_as(f->e, MARAUDE_93, "Nadia Maraudeuse", "maraudeur", &f->n))
		return -1;
	f->next_id = 1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	hx_device_close(&f->s);
	hx_device_close(&f->t);
	hx_device_close(&f->m);
	hx_device_close(&f->r);
	hx_device_close(&f->b);
	hx_device_close(&f->n);
	rc = hx_env_free(f->e);
	free(f);
	return rc;
}

/* ---- mutations ---- */

struct op {
	Veille__V1__Mutation m;
	Veille__V1__Request q;
	Veille__V1__Proposal p;
	Veille__V1__Decision d;
	Veille__V1__PlaceCategory cats[2];
	char id[33], person[33];
};

static void op_init(struct op *o)
{
	memset(o, 0, sizeof *o);
	veille__v1__mutation__init(&o->m);
	assert_int_equal(veille_new_record_id(o->id), 0);
	o->m.record_id = o->id;
}

/* A request for a man alone with a dog, about a fresh person. */
static Veille__V1__Mutation *request(struct op *o)
{
	op_init(o);
	assert_int_equal(veille_new_record_id(o->person), 0);
	veille__v1__request__init(&o->q);
	o->q.person_id = o->person;
	o->q.household_adults = 1;
	o->q.animal = 1;
	o->q.urgency = VEILLE__V1__URGENCY__URGENCY_TONIGHT;
	o->q.languages = "français, arabe";
	o->cats[0] = CAT(HOMME_SEUL);
	o->q.n_categories = 1;
	o->q.categories = o->cats;
	o->q.note = NOTE;
	o->m.record_case = VEILLE__V1__MUTATION__RECORD_REQUEST;
	o->m.request = &o->q;
	return &o->m;
}

static Veille__V1__Mutation *proposal(struct op *o, const char *request_id, const char *centre,
				      int category)
{
	op_init(o);
	veille__v1__proposal__init(&o->p);
	o->p.request_id = (char *)request_id;
	o->p.centre_id = (char *)centre;
	o->p.category = (Veille__V1__PlaceCategory)category;
	o->m.record_case = VEILLE__V1__MUTATION__RECORD_PROPOSAL;
	o->m.proposal = &o->p;
	return &o->m;
}

static Veille__V1__Mutation *decision(struct op *o, const char *proposal_id, int kind,
				      int motive, const char *motive_text)
{
	op_init(o);
	veille__v1__decision__init(&o->d);
	o->d.proposal_id = (char *)proposal_id;
	o->d.kind = (Veille__V1__DecisionKind)kind;
	o->d.motive = (Veille__V1__RefusalMotive)motive;
	o->d.motive_text = (char *)motive_text;
	if (kind != VEILLE__V1__DECISION_KIND__DECISION_KIND_REFUSAL)
		o->d.end_ms = hx_now_ms() + 90ull * 86400 * 1000; /* three months */
	o->m.record_case = VEILLE__V1__MUTATION__RECORD_DECISION;
	o->m.decision = &o->d;
	return &o->m;
}

#define ADMISSION VEILLE__V1__DECISION_KIND__DECISION_KIND_ADMISSION
#define REFUSAL VEILLE__V1__DECISION_KIND__DECISION_KIND_REFUSAL
#define EMERGENCY VEILLE__V1__DECISION_KIND__DECISION_KIND_EMERGENCY_ADMISSION

/* Pushes one op as d; returns its result (the push itself must succeed). */
static struct veille_op_result push1(struct hx_device *d, Veille__V1__Mutation *m)
{
	struct veille_op_result r;

	memset(&r, 0, sizeof r);
	assert_int_equal(veille_push(d->c, &m, 1, &r), 0);
	return r;
}

static void applied(struct hx_device *d, Veille__V1__Mutation *m)
{
	struct veille_op_result r = push1(d, m);

	if (r.status != ST(APPLIED))
		fprintf(stderr, "op refused: status %d code %s: %s\n", r.status,
			veille_error_code_name(r.code), r.reason);
	assert_int_equal(r.status, ST(APPLIED));
}

static void rejected(struct hx_device *d, Veille__V1__Mutation *m, int code)
{
	struct veille_op_result r = push1(d, m);

	if (r.status != ST(REJECTED) || r.code != code)
		fprintf(stderr, "expected %s, got status %d code %s: %s\n",
			veille_error_code_name(code), r.status, veille_error_code_name(r.code),
			r.reason);
	assert_int_equal(r.status, ST(REJECTED));
	assert_int_equal(r.code, code);
	assert_true(r.reason[0] != 0);
}

/* ---- what a device pulls ---- */

struct seen {
	char id[33];
	int kind; /* Veille__V1__Change__RecordCase */
	uint64_t version;
	char note[128], person[33], author[65], motive_text[128];
	char requester_name[129]; /* a request's requester_name; a proposal's or decision's
				   * request_team_name */
	char centre_name[129];    /* a decision's */
	uint32_t adults;
	int animal, status, decision_kind, motive;
	size_t reminders;
};

struct pulled {
	struct seen v[256];
	size_t n;
};

static int keep(const Veille__V1__Change *ch, void *arg)
{
	struct pulled *p = arg;
	struct seen *s;

	if (p->n == sizeof p->v / sizeof p->v[0] || ch->withdrawn)
		return 0; /* a withdrawal carries no record: "drop it" (tested with the store) */
	s = &p->v[p->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->id, sizeof s->id, "%s", ch->record_id);
	s->kind = ch->record_case;
	s->version = ch->version;
	switch (ch->record_case) {
	case VEILLE__V1__CHANGE__RECORD_REQUEST:
		snprintf(s->note, sizeof s->note, "%s", ch->request->note);
		snprintf(s->person, sizeof s->person, "%s", ch->request->person_id);
		snprintf(s->author, sizeof s->author, "%s", ch->request->author_id);
		snprintf(s->requester_name, sizeof s->requester_name, "%s",
			 ch->request->requester_name);
		s->adults = ch->request->household_adults;
		s->animal = ch->request->animal;
		break;
	case VEILLE__V1__CHANGE__RECORD_PROPOSAL:
		s->status = ch->proposal->status;
		snprintf(s->requester_name, sizeof s->requester_name, "%s",
			 ch->proposal->request_team_name);
		break;
	case VEILLE__V1__CHANGE__RECORD_DECISION:
		s->decision_kind = ch->decision->kind;
		snprintf(s->requester_name, sizeof s->requester_name, "%s",
			 ch->decision->request_team_name);
		snprintf(s->centre_name, sizeof s->centre_name, "%s", ch->decision->centre_name);
		s->motive = ch->decision->motive;
		snprintf(s->motive_text, sizeof s->motive_text, "%s", ch->decision->motive_text);
		s->reminders = ch->decision->n_reminders;
		break;
	default:
		break;
	}
	return 0;
}

/* Everything d may pull from the start. */
static void pull_all(struct hx_device *d, struct pulled *p)
{
	uint64_t cursor = 0, next = 0;
	int more = 1;

	p->n = 0;
	for (int i = 0; more && i < 100; i++) {
		assert_int_equal(veille_pull(d->c, cursor, 0, keep, p, &next, &more), 0);
		cursor = next;
	}
	assert_int_equal(more, 0);
}

/* The newest version of id pulled, or NULL. */
static const struct seen *find(const struct pulled *p, const char *id)
{
	const struct seen *best = NULL;

	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].id, id) && (!best || p->v[i].version > best->version))
			best = &p->v[i];
	return best;
}

/* ---- places, live ---- */

static void declare(struct hx_device *d, int cat, uint32_t count)
{
	Veille__V1__CategoryCount cc = VEILLE__V1__CATEGORY_COUNT__INIT, *ccp = &cc;

	cc.category = (Veille__V1__PlaceCategory)cat;
	cc.count = count;
	assert_int_equal(veille_declare_vacancies(d->c, &ccp, 1, NULL), 0);
}

static uint32_t count_of(Veille__V1__CategoryCount *const *v, size_t n, int cat)
{
	for (size_t i = 0; i < n; i++)
		if ((int)v[i]->category == cat)
			return v[i]->count;
	return 0;
}

/* A raw session as d, subscribed to its territory's places; the snapshot is discarded. */
static struct conn *watch(struct fixture *f, const struct hx_device *d)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT, *snap;
	Veille__V1__SubscribePlaces sp = VEILLE__V1__SUBSCRIBE_PLACES__INIT;
	struct conn *c = hx_raw_open(f->e);

	assert_non_null(c);
	assert_int_equal(hx_raw_auth(c, d), 0);
	env.request_id = f->next_id++;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_SUBSCRIBE_PLACES;
	env.subscribe_places = &sp;
	snap = hx_raw_call(c, &env, HX_TIMEOUT_MS);
	assert_non_null(snap);
	assert_int_equal(snap->body_case, VEILLE__V1__ENVELOPE__BODY_PLACES_SNAPSHOT);
	wire_free(snap);
	return c;
}

/* Waits (bounded) for a delta of centre whose held count of cat is held; 0 if it came. */
static int wait_held(struct conn *c, const char *centre, int cat, uint32_t held,
		     uint32_t *free_out)
{
	uint64_t end = hx_mono_ms() + HX_TIMEOUT_MS;

	while (hx_mono_ms() < end) {
		Veille__V1__Envelope *env = hx_raw_recv(c, 500);
		int found = 0;

		if (env && env->body_case == VEILLE__V1__ENVELOPE__BODY_PLACES_DELTA &&
		    !strcmp(env->places_delta->centre->structure_id, centre)) {
			const Veille__V1__CentrePlaces *cp = env->places_delta->centre;

			if (count_of(cp->held, cp->n_held, cat) == held) {
				found = 1;
				if (free_out)
					*free_out = count_of(cp->free, cp->n_free, cat);
			}
		}
		if (env)
			wire_free(env);
		if (found)
			return 0;
	}
	return -1;
}

/* ---- tests ---- */

/*
 * A maraude's request reaches the SIAO without the maraude's TEAM note, with the maraude's
 * name as the directory has it (whatever name the device sent); a proposal to chrs-a
 * gives Rose the request's DECISION and OPERATIONAL fields only (no note, no person id, the
 * requester's name) and holds a place, live; a refusal without a motive is rejected; one with
 * a motive reaches the SIAO and the maraude, and the centre no longer receives the request.
 * The proposal and the decision name the requester and the centre, for the views that keep
 * them after the request has gone. The maraude then withdraws the request: the new version
 * keeps the requester's name.
 */
static void test_request_proposal_refusal(void **state)
{
	struct fixture *f = *state;
	struct op rq, pr, dc;
	struct pulled p;
	const struct seen *s;
	struct conn *live;
	uint32_t free_places = 99;

	declare(&f->r, CAT(HOMME_SEUL), 2);
	live = watch(f, &f->m);
	request(&rq);
	rq.q.requester_name = "Maraude usurpée"; /* server-set: what the device sends is ignored */
	applied(&f->m, &rq.m);

	pull_all(&f->s, &p);
	assert_non_null(s = find(&p, rq.id));
	assert_int_equal(s->kind, VEILLE__V1__CHANGE__RECORD_REQUEST);
	assert_string_equal(s->note, "");           /* TEAM: stays in the maraude */
	assert_string_equal(s->person, rq.person);  /* the SIAO works with the person */
	assert_int_equal(s->adults, 1);
	assert_string_equal(s->requester_name, MARAUDE_NAME); /* the desk shows who asks */
	pull_all(&f->m, &p);
	assert_non_null(s = find(&p, rq.id));
	assert_string_equal(s->note, NOTE);          /* the requester keeps it all */
	assert_string_equal(s->requester_name, MARAUDE_NAME);
	pull_all(&f->r, &p);
	assert_null(find(&p, rq.id));                /* no proposal yet: the centre sees nothing */
	pull_all(&f->n, &p);
	assert_int_equal(p.n, 0);                    /* another département: nothing */

	/* Bad input: a maraudeur proposing; a proposal for a category the centre has not. */
	rejected(&f->m, proposal(&pr, rq.id, CHRS_A, CAT(HOMME_SEUL)), ERR(FORBIDDEN));
	rejected(&f->s, proposal(&pr, rq.id, CHRS_A, CAT(PMR)), ERR(NO_PLACE));
	rejected(&f->s, proposal(&pr, rq.id, MARAUDE, CAT(HOMME_SEUL)), ERR(INVALID_ARGUMENT));

	applied(&f->s, proposal(&pr, rq.id, CHRS_A, CAT(HOMME_SEUL)));
	assert_int_equal(wait_held(live, CHRS_A, CAT(HOMME_SEUL), 1, &free_places), 0);
	assert_int_equal(free_places, 1);
	pull_all(&f->r, &p);
	assert_non_null(s = find(&p, rq.id));
	assert_int_equal(s->adults, 1);              /* DECISION fields */
	assert_int_equal(s->animal, 1);
	assert_string_equal(s->note, "");
	assert_string_equal(s->person, "");         /* IDENTITY: not for the centre */
	assert_true(s->author[0] != 0);              /* OPERATIONAL: who to call back */
	assert_string_equal(s->requester_name, MARAUDE_NAME); /* and which structure */
	assert_non_null(s = find(&p, pr.id));
	assert_string_equal(s->requester_name, MARAUDE_NAME); /* request_team_name */
	pull_all(&f->b, &p);
	assert_int_equal(p.n, 0);                    /* the other centre: nothing */
	/* Rose's device stores what it pulled: the request is there. */
	{
		Veille__V1__Change *held = NULL;
		size_t pending = 0;

		assert_int_equal(veille_sync(f->r.c, NULL), 0);
		assert_int_equal(veille_record_get(f->r.c, rq.id, &held, &pending), 0);
		veille_change_free(held);
	}

	/* Bad input: a refusal without a motive, one with a motive but no text, one by
	 * another centre's responsable. */
	rejected(&f->r, decision(&dc, pr.id, REFUSAL, 0, ""), ERR(INVALID_ARGUMENT));
	rejected(&f->r,
		 decision(&dc, pr.id, REFUSAL, VEILLE__V1__REFUSAL_MOTIVE__REFUSAL_MOTIVE_AUTRE,
			  "  "),
		 ERR(INVALID_ARGUMENT));
	rejected(&f->b,
		 decision(&dc, pr.id, REFUSAL, VEILLE__V1__REFUSAL_MOTIVE__REFUSAL_MOTIVE_AUTRE,
			  MOTIVE),
		 ERR(FORBIDDEN));
	applied(&f->r, decision(&dc, pr.id, REFUSAL,
				VEILLE__V1__REFUSAL_MOTIVE__REFUSAL_MOTIVE_PUBLIC_NON_ADAPTE, MOTIVE));
	assert_int_equal(wait_held(live, CHRS_A, CAT(HOMME_SEUL), 0, &free_places), 0);
	assert_int_equal(free_places, 2);

	pull_all(&f->s, &p);
	assert_non_null(s = find(&p, dc.id));
	assert_int_equal(s->decision_kind, REFUSAL);
	assert_int_equal(s->motive, VEILLE__V1__REFUSAL_MOTIVE__REFUSAL_MOTIVE_PUBLIC_NON_ADAPTE);
	assert_string_equal(s->motive_text, MOTIVE);
	assert_string_equal(s->centre_name, CHRS_A_NAME);
	assert_string_equal(s->requester_name, MARAUDE_NAME);
	pull_all(&f->m, &p);
	assert_non_null(s = find(&p, dc.id));
	assert_string_equal(s->motive_text, MOTIVE);
	assert_string_equal(s->centre_name, CHRS_A_NAME);
	/* The refusal ended the centre's access to the request; it keeps its own decision. Its
	 * device drops the request at its next sync. */
	pull_all(&f->r, &p);
	assert_null(find(&p, rq.id));
	assert_non_null(s = find(&p, dc.id));
	assert_string_equal(s->requester_name, MARAUDE_NAME); /* the centre's own record */
	{
		Veille__V1__Change *held = NULL;
		size_t pending = 0;

		assert_int_equal(veille_sync(f->r.c, NULL), 0);
		assert_int_equal(veille_record_get(f->r.c, rq.id, &held, &pending), VEILLE_ENOTFOUND);
		assert_int_equal(veille_record_get(f->r.c, dc.id, &held, &pending), 0);
		veille_change_free(held);
	}
	/* Deciding again on the same proposal. */
	rejected(&f->r, decision(&dc, pr.id, ADMISSION, 0, ""), ERR(CLOSED));

	/* The maraude withdraws the request (no proposal awaits): version 2 keeps the name the
	 * first version was given, whatever the correction carried. */
	{
		struct op wd;

		request(&wd);
		snprintf(wd.id, sizeof wd.id, "%s", rq.id);
		snprintf(wd.person, sizeof wd.person, "%s", rq.person);
		wd.m.base_version = 1;
		wd.q.withdrawn = 1;
		wd.q.requester_name = "";
		applied(&f->m, &wd.m);
		pull_all(&f->m, &p);
		assert_non_null(s = find(&p, rq.id));
		assert_int_equal(s->version, 2);
		assert_string_equal(s->requester_name, MARAUDE_NAME);
	}
	conn_close(live);
}

/* The next message answering a request (pokes and deltas, request id 0, are skipped). */
static Veille__V1__Envelope *reply(struct conn *c)
{
	for (int i = 0; i < 100; i++) {
		Veille__V1__Envelope *env = hx_raw_recv(c, HX_TIMEOUT_MS);

		if (!env || env->request_id != 0)
			return env;
		wire_free(env);
	}
	return NULL;
}

/*
 * chrs-b has one place. Two coordinators propose it for two requests at the same moment,
 * from two sessions: one proposal is applied, the other is rejected NO_PLACE, and the place
 * is held once.
 */
static void test_two_proposals_for_the_last_place(void **state)
{
	struct fixture *f = *state;
	struct op rq1, rq2, p1, p2;
	Veille__V1__Envelope env1 = VEILLE__V1__ENVELOPE__INIT, env2 = VEILLE__V1__ENVELOPE__INIT;
	Veille__V1__PushRequest push1r = VEILLE__V1__PUSH_REQUEST__INIT,
				push2r = VEILLE__V1__PUSH_REQUEST__INIT;
	Veille__V1__Mutation *m1, *m2;
	Veille__V1__Envelope *a1, *a2;
	struct conn *c1, *c2, *live;
	int applied_n = 0, no_place = 0;

	declare(&f->b, CAT(HOMME_SEUL), 1);
	live = watch(f, &f->m);
	applied(&f->m, request(&rq1));
	applied(&f->m, request(&rq2));
	c1 = hx_raw_open(f->e);
	c2 = hx_raw_open(f->e);
	assert_non_null(c1);
	assert_non_null(c2);
	assert_int_equal(hx_raw_auth(c1, &f->s), 0);
	assert_int_equal(hx_raw_auth(c2, &f->t), 0);
	m1 = proposal(&p1, rq1.id, CHRS_B, CAT(HOMME_SEUL));
	m2 = proposal(&p2, rq2.id, CHRS_B, CAT(HOMME_SEUL));
	m1->op_counter = 1000; /* raw sessions: counters of our own, above libveille's */
	m2->op_counter = 1000;
	push1r.n_mutations = push2r.n_mutations = 1;
	push1r.mutations = &m1;
	push2r.mutations = &m2;
	env1.request_id = 1;
	env1.body_case = env2.body_case = VEILLE__V1__ENVELOPE__BODY_PUSH;
	env2.request_id = 2;
	env1.push = &push1r;
	env2.push = &push2r;
	/* Both sent before either answer is read. */
	assert_int_equal(hx_raw_send(c1, &env1), 0);
	assert_int_equal(hx_raw_send(c2, &env2), 0);
	a1 = reply(c1);
	a2 = reply(c2);
	assert_non_null(a1);
	assert_non_null(a2);
	assert_int_equal(a1->body_case, VEILLE__V1__ENVELOPE__BODY_PUSH_RESULT);
	assert_int_equal(a2->body_case, VEILLE__V1__ENVELOPE__BODY_PUSH_RESULT);
	for (int i = 0; i < 2; i++) {
		const Veille__V1__OpResult *r = (i ? a2 : a1)->push_result->results[0];

		applied_n += r->status == ST(APPLIED);
		no_place += r->status == ST(REJECTED) && r->code == ERR(NO_PLACE);
	}
	assert_int_equal(applied_n, 1);
	assert_int_equal(no_place, 1);
	assert_int_equal(wait_held(live, CHRS_B, CAT(HOMME_SEUL), 1, NULL), 0);
	wire_free(a1);
	wire_free(a2);
	conn_close(c1);
	conn_close(c2);
	conn_close(live);
}

/*
 * A proposal's hold ends after --hold-seconds without decision: the place comes back live,
 * the SIAO and the maraude get the proposal's EXPIRED version, and a decision after it is
 * rejected CLOSED.
 */
static void test_hold_expires(void **state)
{
	struct fixture *f = *state;
	struct op rq, pr, dc;
	struct pulled p;
	const struct seen *s;
	struct conn *live;
	uint32_t free_places = 99;

	declare(&f->r, CAT(FAMILLE), 1);
	live = watch(f, &f->s);
	applied(&f->m, request(&rq));
	applied(&f->s, proposal(&pr, rq.id, CHRS_A, CAT(FAMILLE)));
	assert_int_equal(wait_held(live, CHRS_A, CAT(FAMILLE), 1, &free_places), 0);
	assert_int_equal(free_places, 0);
	/* Nothing else may take it while held. */
	{
		struct op rq2, pr2;

		applied(&f->m, request(&rq2));
		rejected(&f->s, proposal(&pr2, rq2.id, CHRS_A, CAT(FAMILLE)), ERR(NO_PLACE));
	}
	/* The hold ends (2 s): the place is free again, live. */
	assert_int_equal(wait_held(live, CHRS_A, CAT(FAMILLE), 0, &free_places), 0);
	assert_int_equal(free_places, 1);
	pull_all(&f->s, &p);
	assert_non_null(s = find(&p, pr.id));
	assert_int_equal(s->version, 2);
	assert_int_equal(s->status, VEILLE__V1__PROPOSAL_STATUS__PROPOSAL_STATUS_EXPIRED);
	assert_string_equal(s->requester_name, MARAUDE_NAME); /* the sweep's version keeps it */
	pull_all(&f->m, &p);
	assert_non_null(s = find(&p, pr.id));
	assert_int_equal(s->status, VEILLE__V1__PROPOSAL_STATUS__PROPOSAL_STATUS_EXPIRED);
	/* The centre's access to the request ended with the hold. */
	pull_all(&f->r, &p);
	assert_null(find(&p, rq.id));
	rejected(&f->r, decision(&dc, pr.id, ADMISSION, 0, ""), ERR(CLOSED));
	/* The request is open again: a new proposal may be made. */
	applied(&f->s, proposal(&pr, rq.id, CHRS_A, CAT(FAMILLE)));
	conn_close(live);
}

static int has_problem(const struct veille_problem *pb, const Veille__V1__Mutation *op, void *arg)
{
	int *code = arg;

	(void)op;
	*code = pb->result.code;
	return 0;
}

/*
 * Sophie prepares a proposal offline (queued in her device's outbox) for chrs-b's place;
 * meanwhile the centre declares it taken. When her device syncs, the proposal is rejected
 * NO_PLACE, kept as a problem on the device, and nothing of it was applied: no hold.
 */
static void test_offline_proposal_for_a_vanished_place(void **state)
{
	struct fixture *f = *state;
	struct op rq, pr;
	struct veille_sync_stats st;
	struct pulled p;
	struct conn *live;
	int code = 0;
	uint32_t free_places = 99;

	declare(&f->b, CAT(HOMME_SEUL), 1);
	applied(&f->m, request(&rq));
	live = watch(f, &f->m);
	/* Offline: queued only. */
	assert_int_equal(veille_outbox_add(f->s.c, proposal(&pr, rq.id, CHRS_B, CAT(HOMME_SEUL))), 0);
	declare(&f->b, CAT(HOMME_SEUL), 0); /* the place went while Sophie was offline */
	assert_int_equal(wait_held(live, CHRS_B, CAT(HOMME_SEUL), 0, &free_places), 0);
	assert_int_equal(free_places, 0);
	memset(&st, 0, sizeof st);
	assert_int_equal(veille_sync(f->s.c, &st), 0);
	assert_int_equal(veille_problems(f->s.c, 0, has_problem, &code), 0);
	assert_int_equal(code, ERR(NO_PLACE));
	pull_all(&f->s, &p);
	assert_null(find(&p, pr.id)); /* never applied */
	pull_all(&f->b, &p);
	assert_int_equal(p.n, 0); /* the centre got nothing of it */
	conn_close(live);
}

/*
 * An admission takes the place (vacancies down by one, hold released), closes the request
 * (the SIAO no longer receives it, a new proposal is CLOSED) and carries its reminders;
 * an extension request needs a motive; an emergency admission by a centre informs the SIAO.
 */
static void test_admission_and_emergency(void **state)
{
	struct fixture *f = *state;
	struct op rq, pr, dc, ext, em, pr2;
	struct pulled p;
	const struct seen *s;
	struct conn *live;
	uint32_t free_places = 99;

	declare(&f->r, CAT(HOMME_SEUL), 2);
	live = watch(f, &f->m);
	applied(&f->m, request(&rq));
	applied(&f->s, proposal(&pr, rq.id, CHRS_A, CAT(HOMME_SEUL)));
	assert_int_equal(wait_held(live, CHRS_A, CAT(HOMME_SEUL), 1, &free_places), 0);
	assert_int_equal(free_places, 1);
	/* Bad input: an admission without a fixed duration. */
	decision(&dc, pr.id, ADMISSION, 0, "");
	dc.d.end_ms = 0;
	rejected(&f->r, &dc.m, ERR(INVALID_ARGUMENT));
	applied(&f->r, decision(&dc, pr.id, ADMISSION, 0, ""));
	assert_int_equal(wait_held(live, CHRS_A, CAT(HOMME_SEUL), 0, &free_places), 0);
	assert_int_equal(free_places, 1); /* 2 declared, 1 taken */

	pull_all(&f->m, &p);
	assert_non_null(s = find(&p, dc.id));
	assert_int_equal(s->decision_kind, ADMISSION);
	assert_true(s->reminders >= 2); /* extension deadline, end (3 months: no bilan yet) */
	pull_all(&f->s, &p);
	assert_non_null(find(&p, dc.id));
	assert_null(find(&p, rq.id)); /* the request is closed: the SIAO's access ended */
	rejected(&f->s, proposal(&pr2, rq.id, CHRS_B, CAT(HOMME_SEUL)), ERR(CLOSED));
	pull_all(&f->r, &p);
	/* The admitting centre has the person's file in full for the stay (test_circle.c),
	 * the request's note included. */
	assert_non_null(s = find(&p, rq.id));
	assert_string_equal(s->note, NOTE);

	/* An extension request: a later version with its motive. */
	op_init(&ext);
	veille__v1__decision__init(&ext.d);
	snprintf(ext.id, sizeof ext.id, "%s", dc.id);
	ext.m.base_version = 1;
	ext.d.kind = ADMISSION;
	ext.d.extension_requested = 1;
	ext.m.record_case = VEILLE__V1__MUTATION__RECORD_DECISION;
	ext.m.decision = &ext.d;
	rejected(&f->r, &ext.m, ERR(INVALID_ARGUMENT)); /* bad input: no motive */
	ext.m.op_counter = 0;
	ext.d.extension_motive = "projet de logement en cours, bail signé en mars";
	applied(&f->r, &ext.m);
	pull_all(&f->s, &p);
	assert_non_null(s = find(&p, dc.id));
	assert_int_equal(s->version, 2);
	assert_string_equal(s->centre_name, CHRS_A_NAME); /* kept by the extension's version */
	assert_string_equal(s->requester_name, MARAUDE_NAME);

	/* Emergency admission: no proposal; the SIAO is informed. */
	decision(&em, "", EMERGENCY, 0, "");
	em.d.category = CAT(HOMME_SEUL);
	em.d.person_id = rq.person; /* any pseudonymous id the centre uses */
	applied(&f->r, &em.m);
	assert_int_equal(wait_held(live, CHRS_A, CAT(HOMME_SEUL), 0, &free_places), 0);
	assert_int_equal(free_places, 0);
	pull_all(&f->s, &p);
	assert_non_null(s = find(&p, em.id));
	assert_int_equal(s->decision_kind, EMERGENCY);
	assert_string_equal(s->centre_name, CHRS_A_NAME);
	assert_string_equal(s->requester_name, ""); /* no request, no requester */
	pull_all(&f->m, &p);
	assert_null(find(&p, em.id)); /* not the maraude's business */
	conn_close(live);
}

/* What veillectl stats printed, as the rows' (indicator, detail, count). */
static uint64_t stat_of(const char *csv, const char *indicator, const char *detail)
{
	char want[160];
	const char *line;

	for (line = csv; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *p = strchr(line, ',');

		/* date,territory,indicator,detail,count */
		if (!p || !(p = strchr(p + 1, ',')))
			continue;
		snprintf(want, sizeof want, "%s,%s,", indicator, detail);
		if (!strncmp(p + 1, want, strlen(want)))
			return strtoull(p + 1 + strlen(want), NULL, 10);
	}
	return 0;
}

/* Runs veillectl stats for the days around today into out. */
static void stats_around_today(struct fixture *f, struct hx_out *out, char today[16])
{
	time_t now = time(NULL) + 86400, y = now - 3 * 86400;
	char from[16];
	struct tm tm;

	/* The server's day is the Paris date: a range around the UTC date covers it. */
	gmtime_r(&now, &tm);
	strftime(today, 16, "%Y-%m-%d", &tm);
	gmtime_r(&y, &tm);
	strftime(from, sizeof from, "%Y-%m-%d", &tm);
	assert_int_equal(hx_ctl(f->e, out, "stats", "--territory", "75", "--from", from, "--to",
				today, (char *)NULL),
			 0);
}

/*
 * A scripted day: 3 requests, 2 proposals, 1 admission, 1 refusal (motive securite), 2
 * encounters by the maraude, 2 declarations, the last of which goes stale (period 2 s).
 * `veillectl stats` prints those counts, an unmet-requests count of 2, and none of the
 * scenario's ids, names or texts.
 */
static void test_stats_csv(void **state)
{
	struct fixture *f = *state;
	struct op rq[3], pr[2], dc[2];
	struct hx_mut enc[2];
	Veille__V1__Mutation *em[2];
	struct veille_op_result er[2];
	struct hx_out out;
	char today[16];
	uint64_t end;

	assert_int_equal(hx_ctl(f->e, NULL, "territory", "period", "--territory", "75",
				"--seconds", "2", (char *)NULL),
			 0);
	declare(&f->r, CAT(HOMME_SEUL), 2);
	declare(&f->r, CAT(HOMME_SEUL), 2);
	for (int i = 0; i < 3; i++)
		applied(&f->m, request(&rq[i]));
	applied(&f->s, proposal(&pr[0], rq[0].id, CHRS_A, CAT(HOMME_SEUL)));
	applied(&f->s, proposal(&pr[1], rq[1].id, CHRS_A, CAT(HOMME_SEUL)));
	applied(&f->r, decision(&dc[0], pr[0].id, ADMISSION, 0, ""));
	applied(&f->r, decision(&dc[1], pr[1].id, REFUSAL,
				VEILLE__V1__REFUSAL_MOTIVE__REFUSAL_MOTIVE_SECURITE, MOTIVE));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hx_mut_init(&enc[i], rq[0].person, NOTE), 0);
		em[i] = &enc[i].m;
	}
	assert_int_equal(veille_push(f->m.c, em, 2, er), 0);
	assert_int_equal(er[0].status, ST(APPLIED));

	/* The last declaration goes stale after its 2 s period: veilled's sweep counts it. */
	end = hx_mono_ms() + HX_TIMEOUT_MS;
	for (;;) {
		stats_around_today(f, &out, today);
		if (stat_of(out.out, "places_stale", "") >= 1 || hx_mono_ms() > end)
			break;
		hx_out_free(&out);
		hx_sleep_ms(200);
	}
	assert_int_equal(stat_of(out.out, "places_stale", ""), 1);
	assert_true(!strncmp(out.out, "date,territory,indicator,detail,count\n", 38));
	assert_int_equal(stat_of(out.out, "requests", ""), 3);
	assert_int_equal(stat_of(out.out, "proposals", ""), 2);
	assert_int_equal(stat_of(out.out, "admissions", ""), 1);
	assert_int_equal(stat_of(out.out, "refusals", "securite"), 1);
	assert_int_equal(stat_of(out.out, "unmet_requests", ""), 2);
	assert_int_equal(stat_of(out.out, "encounters", MARAUDE), 2);
	assert_int_equal(stat_of(out.out, "places_declared", ""), 2);
	/* Nothing that identifies a person: no id, no text of the scenario. */
	for (int i = 0; i < 3; i++) {
		assert_null(strstr(out.out, rq[i].id));
		assert_null(strstr(out.out, rq[i].person));
	}
	for (int i = 0; i < 2; i++) {
		assert_null(strstr(out.out, pr[i].id));
		assert_null(strstr(out.out, dc[i].id));
		assert_null(strstr(out.out, enc[i].record_id));
	}
	assert_null(strstr(out.out, "Mirabeau"));
	assert_null(strstr(out.out, "chien"));
	assert_null(strstr(out.out, "Marc"));
	assert_null(strstr(out.out, "Sophie"));
	hx_out_free(&out);
	for (int i = 0; i < 2; i++)
		hx_mut_free(&enc[i]);
	/* Bad input: a range the wrong way round, a malformed date. */
	assert_int_not_equal(hx_ctl(f->e, NULL, "stats", "--territory", "75", "--from", today,
				    "--to", "2020-01-01", (char *)NULL),
			     0);
	assert_int_not_equal(hx_ctl(f->e, NULL, "stats", "--territory", "75", "--from", "hier",
				    "--to", today, (char *)NULL),
			     0);
}

/*
 * Bad input: ops whose record_id names a record of another kind (a request "correcting" an
 * encounter, an encounter "correcting" a request) are REJECTED INVALID_ARGUMENT, and the op
 * pushed with them in the same batch is applied: the group is not failed.
 */
static void test_record_kinds_do_not_mix(void **state)
{
	struct fixture *f = *state;
	struct op rq, wrong;
	struct hx_mut enc, bad_enc, good;
	Veille__V1__Mutation *muts[3];
	struct veille_op_result res[3];

	applied(&f->m, request(&rq));
	assert_int_equal(hx_mut_init(&enc, NULL, "rencontre"), 0);
	applied(&f->m, &enc.m);
	request(&wrong);
	snprintf(wrong.id, sizeof wrong.id, "%s", enc.record_id); /* the encounter's id */
	wrong.m.base_version = 1;
	assert_int_equal(hx_mut_init(&bad_enc, rq.person, "correction"), 0);
	snprintf(bad_enc.record_id, sizeof bad_enc.record_id, "%s", rq.id); /* the request's */
	bad_enc.m.base_version = 1;
	assert_int_equal(hx_mut_init(&good, NULL, "autre rencontre"), 0);
	muts[0] = &wrong.m;
	muts[1] = &bad_enc.m;
	muts[2] = &good.m;
	assert_int_equal(veille_push(f->m.c, muts, 3, res), 0);
	assert_int_equal(res[0].status, ST(REJECTED));
	assert_int_equal(res[0].code, ERR(INVALID_ARGUMENT));
	assert_int_equal(res[1].status, ST(REJECTED));
	assert_int_equal(res[1].code, ERR(INVALID_ARGUMENT));
	assert_int_equal(res[2].status, ST(APPLIED));
	hx_mut_free(&enc);
	hx_mut_free(&bad_enc);
	hx_mut_free(&good);
}

/* The record id of the "applied record_id=..." line of out into id; 0 or -1. */
static int applied_id(const char *out, char id[33])
{
	const char *p = strstr(out, "applied record_id=");

	if (!p || strlen(p) < 18 + 32)
		return -1;
	memcpy(id, p + 18, 32);
	id[32] = 0;
	return 0;
}

/*
 * The CLI end to end, each step its own `veille` process: Marc's `person set` then `request add`
 * without a household (copied from the profile by the server), Sophie's
 * `propose`, Rose's `decide --refuse securite` without a text (refused: exit 2, the reason
 * printed), then `decide --admit --until` a year from now; Marc's `pull` prints the admission
 * as JSON with its reminders (a bilan at six months, the extension deadline).
 */
static void test_cli_workflow(void **state)
{
	struct fixture *f = *state;
	struct hx_out out;
	char person[33], req[33], prop[33], until[16];
	time_t in_a_year = time(NULL) + 365 * 86400;
	struct tm tm;

	gmtime_r(&in_a_year, &tm);
	strftime(until, sizeof until, "%Y-%m-%d", &tm);
	declare(&f->r, CAT(HOMME_SEUL), 1);
	assert_int_equal(veille_new_record_id(person), 0);
	/* The household comes from the person's profile (no --adults). */
	assert_int_equal(hx_veille(&out, 0, 30000, f->m.dir, "person", "set", "--person", person,
				   "--adults", "1", "--animal", "yes", "--languages", "dari",
				   (char *)NULL),
			 0);
	hx_out_free(&out);
	assert_int_equal(hx_veille(&out, 0, 30000, f->m.dir, "request", "add", "--person", person,
				   "--urgency", "tonight", "--category", "homme_seul", "--note", NOTE,
				   (char *)NULL),
			 0);
	assert_int_equal(applied_id(out.out, req), 0);
	hx_out_free(&out);
	assert_int_equal(hx_veille(&out, 0, 30000, f->s.dir, "propose", "--request", req,
				   "--centre", CHRS_A, "--category", "homme_seul", (char *)NULL),
			 0);
	assert_int_equal(applied_id(out.out, prop), 0);
	hx_out_free(&out);
	/* Bad input: a refusal with a motive from the list but no text. */
	assert_int_equal(hx_veille(&out, 2, 30000, f->r.dir, "decide", "--proposal", prop,
				   "--refuse", "securite", (char *)NULL),
			 2);
	assert_non_null(strstr(out.out, "rejected record_id="));
	assert_non_null(strstr(out.out, "code=INVALID_ARGUMENT"));
	hx_out_free(&out);
	assert_int_equal(hx_veille(&out, 0, 30000, f->r.dir, "decide", "--proposal", prop,
				   "--admit", "--until", until, (char *)NULL),
			 0);
	assert_non_null(strstr(out.out, "applied record_id="));
	hx_out_free(&out);
	assert_int_equal(hx_veille(&out, 0, 30000, f->m.dir, "pull", "--from", "0", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "\"kind\":\"request\""));
	assert_non_null(strstr(out.out, "\"household_adults\":1,"));
	assert_non_null(strstr(out.out, "\"animal\":true"));
	assert_non_null(strstr(out.out, "\"languages\":\"dari\""));
	assert_non_null(strstr(out.out, "\"requester_name\":\"" MARAUDE_NAME "\""));
	assert_non_null(strstr(out.out, "\"kind\":\"proposal\""));
	assert_non_null(strstr(out.out, "\"decision\":\"admission\""));
	assert_non_null(strstr(out.out, "\"centre_name\":\"" CHRS_A_NAME "\""));
	assert_non_null(strstr(out.out, "{\"kind\":\"bilan\",\"due_ms\":"));
	assert_non_null(strstr(out.out, "{\"kind\":\"extension_deadline\",\"due_ms\":"));
	hx_out_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_proposal_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_proposals_for_the_last_place, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_proposal_for_a_vanished_place, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_admission_and_emergency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_workflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_kinds_do_not_mix, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
