/* test_policy: what of a record version a recipient may receive (docs/orientations.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether anything of rv leaves for this recipient (encounters: all or nothing today). */
static int policy_may_see(const char *structure_id, int role,
			  const Veille__Store__V1__RecordVersion *rv)
{
	struct policy_out out;

	return policy_project(structure_id, role, 0, rv, &out);
}

struct rec {
	Veille__Store__V1__RecordVersion rv;
	Veille__V1__Encounter e;
};

static void rec_init(struct rec *r, const char *team)
{
	veille__store__v1__record_version__init(&r->rv);
	veille__v1__encounter__init(&r->e);
	r->e.team_id = (char *)team;
	r->e.author_id = "camille";
	r->rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER;
	r->rv.encounter = &r->e;
}

/* Roles that work with people in the field or in a centre. */
static const int FIELD_ROLES[] = {
	VEILLE__V1__ROLE__ROLE_MARAUDEUR,          VEILLE__V1__ROLE__ROLE_ACCUEILLANT,
	VEILLE__V1__ROLE__ROLE_ECOUTANT_115,       VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO,
	VEILLE__V1__ROLE__ROLE_RESPONSABLE_CENTRE, VEILLE__V1__ROLE__ROLE_TRAVAILLEUR_SOCIAL,
	VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE,
};

static void test_same_structure_sees(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, "maraude-13");
	for (size_t i = 0; i < sizeof(FIELD_ROLES) / sizeof(FIELD_ROLES[0]); i++)
		assert_int_equal(policy_may_see("maraude-13", FIELD_ROLES[i], &r.rv), 1);
}

static void test_other_structure_does_not_see(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, "maraude-13");
	for (size_t i = 0; i < sizeof(FIELD_ROLES) / sizeof(FIELD_ROLES[0]); i++) {
		assert_int_equal(policy_may_see("accueil-1", FIELD_ROLES[i], &r.rv), 0);
		/* Near misses: a prefix, an extension, another case. */
		assert_int_equal(policy_may_see("maraude-1", FIELD_ROLES[i], &r.rv), 0);
		assert_int_equal(policy_may_see("maraude-13x", FIELD_ROLES[i], &r.rv), 0);
		assert_int_equal(policy_may_see("Maraude-13", FIELD_ROLES[i], &r.rv), 0);
		assert_int_equal(policy_may_see("", FIELD_ROLES[i], &r.rv), 0);
	}
}

static void test_superviseur_and_administrateur_do_not_see(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, "maraude-13");
	/* Even in the record's own structure. */
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_SUPERVISEUR, &r.rv), 0);
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR, &r.rv),
			 0);
	/* Bad input: no role at all. */
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_UNSPECIFIED, &r.rv), 0);
}

/* The indicators (aggregates) go to the SIAO's desks, supervisors and administrators only. */
static void test_who_reads_the_indicators(void **state)
{
	(void)state;
	assert_true(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO));
	assert_true(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_ECOUTANT_115));
	assert_true(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_SUPERVISEUR));
	assert_true(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR));
	assert_false(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_MARAUDEUR));
	assert_false(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_ACCUEILLANT));
	assert_false(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_RESPONSABLE_CENTRE));
	assert_false(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_TRAVAILLEUR_SOCIAL));
	assert_false(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE));
	/* Bad input: no role, an unknown one. */
	assert_false(policy_may_read_stats(VEILLE__V1__ROLE__ROLE_UNSPECIFIED));
	assert_false(policy_may_read_stats(99));
}

static void test_unknown_record_kind_is_not_seen(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, "maraude-13");
	/* Bad input: a record version without a record (a kind this version does not know). */
	r.rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD__NOT_SET;
	r.rv.encounter = NULL;
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_MARAUDEUR, &r.rv), 0);
}

static void test_empty_team_is_seen_by_nobody(void **state)
{
	struct rec r;

	(void)state;
	/* Bad input: an encounter with no team (the server always fills it on apply). */
	rec_init(&r, "");
	assert_int_equal(policy_may_see("maraude-13", VEILLE__V1__ROLE__ROLE_MARAUDEUR, &r.rv), 0);
}

/* ---- the table, field by field, against a model written here independently ---- */

/* The model: what each relation and role may receive, by field name, from the rules as
 * docs/orientations.md states them in words. */
static int model(const char *kind, const char *field, int rel, int role)
{
	int person_data = role != VEILLE__V1__ROLE__ROLE_SUPERVISEUR &&
			  role != VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR &&
			  role != VEILLE__V1__ROLE__ROLE_UNSPECIFIED;
	static const char *const request_decision[] = {
		"household_adults", "household_children", "reduced_mobility", "animal",
		"languages", "urgency", "categories", NULL};
	static const char *const request_workflow[] = {"requester_id", "requester_name",
						       "author_id", "territory", "withdrawn",
						       "requested_at_ms", NULL};

	if (!person_data)
		return 0;
	if (!strcmp(kind, "Encounter") || !strcmp(kind, "Person")) {
		/* The team's own, and the admitting centre's for the stay, nobody else's;
		 * health observations to their health professionals only. */
		int holder = rel == POLICY_REL_AUTHOR || rel == POLICY_REL_ADMITTED;

		if (!strcmp(field, "health_note"))
			return holder && role == VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE;
		return holder;
	}
	if (!strcmp(kind, "Request")) {
		int decision = 0, workflow = 0;

		for (int i = 0; request_decision[i]; i++)
			decision |= !strcmp(field, request_decision[i]);
		for (int i = 0; request_workflow[i]; i++)
			workflow |= !strcmp(field, request_workflow[i]);
		if (rel == POLICY_REL_AUTHOR || rel == POLICY_REL_ADMITTED) /* in full */
			return 1;
		if (rel == POLICY_REL_SIAO) /* all but the requester's note */
			return strcmp(field, "note") != 0;
		if (rel == POLICY_REL_CENTRE) /* the decision's fields and the workflow's */
			return decision || workflow;
		return 0;
	}
	/* Proposals and decisions: whole, to the structures they name. */
	return rel == POLICY_REL_PARTY;
}

/* Sets field f of msg to a non-default value (what it allocates is listed in storage). */
static void fill_field(void *msg, const ProtobufCFieldDescriptor *f, void *submsg_storage[8],
		       size_t *n_storage)
{
	static const char *const text = "x";
	static int ints[1] = {1};
	char *at = (char *)msg + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		*(size_t *)((char *)msg + f->quantifier_offset) = 1;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessageDescriptor *sd = f->descriptor;
			void **arr = calloc(1, sizeof(void *));
			void *sub = calloc(1, sd->sizeof_message);

			sd->message_init(sub);
			arr[0] = sub;
			*(void ***)at = arr;
			submsg_storage[(*n_storage)++] = sub;
			submsg_storage[(*n_storage)++] = arr;
		} else {
			*(int **)at = ints;
		}
		return;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: *(const char **)at = text; break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *sd = f->descriptor;
		void *sub = calloc(1, sd->sizeof_message);

		sd->message_init(sub);
		*(void **)at = sub;
		submsg_storage[(*n_storage)++] = sub;
		break;
	}
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_UINT64: *(uint64_t *)at = 7; break;
	case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)at = 1; break;
	case PROTOBUF_C_TYPE_BYTES: break;
	default: *(uint32_t *)at = 1; break;
	}
}

/* Sets every field of msg (a zeroed message of desc) to a non-default value. */
static void fill_all(ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
		     void *submsg_storage[8], size_t *n_storage)
{
	for (unsigned i = 0; i < desc->n_fields; i++)
		fill_field(msg, &desc->fields[i], submsg_storage, n_storage);
}

/* Whether field f of msg still holds the value fill_all gave it. */
static int kept(const void *msg, const ProtobufCFieldDescriptor *f)
{
	const char *at = (const char *)msg + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)((const char *)msg + f->quantifier_offset) != 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: return (*(const char *const *)at)[0] != 0;
	case PROTOBUF_C_TYPE_MESSAGE: return *(void *const *)at != NULL;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_UINT64: return *(const uint64_t *)at != 0;
	case PROTOBUF_C_TYPE_BOOL: return *(const protobuf_c_boolean *)at != 0;
	default: return *(const uint32_t *)at != 0;
	}
}

static const int ALL_ROLES[] = {
	VEILLE__V1__ROLE__ROLE_UNSPECIFIED,        VEILLE__V1__ROLE__ROLE_MARAUDEUR,
	VEILLE__V1__ROLE__ROLE_ACCUEILLANT,        VEILLE__V1__ROLE__ROLE_ECOUTANT_115,
	VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO,  VEILLE__V1__ROLE__ROLE_RESPONSABLE_CENTRE,
	VEILLE__V1__ROLE__ROLE_TRAVAILLEUR_SOCIAL, VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE,
	VEILLE__V1__ROLE__ROLE_SUPERVISEUR,        VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR,
};

/*
 * Every record kind (except Person, below), every relation, every role, every field: the
 * projection keeps exactly the fields the model says. The relation is made by naming the
 * recipient in the record (author, party) or passed in as the store's state gives it (SIAO,
 * centre of a request, admitting centre of the person).
 */
static void test_table_against_model(void **state)
{
	static const struct {
		const char *name;
		const ProtobufCMessageDescriptor *desc;
		int record_case;
	} kinds[] = {
		{"Encounter", &veille__v1__encounter__descriptor,
		 VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER},
		{"Request", &veille__v1__request__descriptor,
		 VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST},
		{"Proposal", &veille__v1__proposal__descriptor,
		 VEILLE__STORE__V1__RECORD_VERSION__RECORD_PROPOSAL},
		{"Decision", &veille__v1__decision__descriptor,
		 VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION},
	};
	size_t checked = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++)
		for (int rel = POLICY_REL_NONE; rel < POLICY__RELATIONS; rel++)
			for (size_t r = 0; r < sizeof(ALL_ROLES) / sizeof(*ALL_ROLES); r++) {
				Veille__Store__V1__RecordVersion rv =
					VEILLE__STORE__V1__RECORD_VERSION__INIT;
				void *storage[8];
				size_t n_storage = 0;
				void *msg = calloc(1, kinds[k].desc->sizeof_message);
				int request = !strcmp(kinds[k].name, "Request");
				int named = !strcmp(kinds[k].name, "Proposal") ||
					    !strcmp(kinds[k].name, "Decision");
				/* fill_all names every structure "x": the recipient is "x" when the
				 * relation comes from being named (the author of an encounter or a
				 * request, a party of a proposal or a decision), else "y", with the
				 * relation passed in as the orientation state would give it. */
				int by_name = (rel == POLICY_REL_AUTHOR && !named) ||
					      (rel == POLICY_REL_PARTY && named);
				int effective = by_name ? rel
						: (request && (rel == POLICY_REL_SIAO ||
							       rel == POLICY_REL_CENTRE)) ||
								  (!named && rel == POLICY_REL_ADMITTED)
							? rel
							: POLICY_REL_NONE;
				struct policy_out out;
				int got;

				kinds[k].desc->message_init(msg);
				fill_all(msg, kinds[k].desc, storage, &n_storage);
				rv.record_case = kinds[k].record_case;
				rv.encounter = msg; /* the union of record pointers */
				got = policy_project(by_name ? "x" : "y", ALL_ROLES[r], POLICY_BIT(rel),
						     &rv, &out);
				for (unsigned i = 0; i < kinds[k].desc->n_fields; i++) {
					const ProtobufCFieldDescriptor *f = &kinds[k].desc->fields[i];
					int want = model(kinds[k].name, f->name, effective, ALL_ROLES[r]);
					int have = got && kept(out.record, f);

					if (want != have)
						fail_msg("%s.%s relation %d role %d: model %d, policy %d",
							 kinds[k].name, f->name, effective, ALL_ROLES[r],
							 want, have);
					checked++;
				}
				for (size_t i = 0; i < n_storage; i++)
					free(storage[i]);
				free(msg);
			}
	assert_true(checked > 500);
}

/* A person's values go by their field's class: all to the author team and to the admitting
 * centre during the stay, none elsewhere, none to supervision roles. */
static void test_person_values(void **state)
{
	enum { N = 11 }; /* PersonField values 1 to 11 */
	Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__V1__Person p = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue v[N], *vp[N];
	struct policy_out out;

	(void)state;
	for (int i = 0; i < N; i++) {
		veille__v1__person_field_value__init(&v[i]);
		v[i].field = (Veille__V1__PersonField)(i + 1);
		vp[i] = &v[i];
	}
	p.n_fields = N;
	p.fields = vp;
	p.team_id = "maraude-13";
	rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON;
	rv.person = &p;
	assert_int_equal(policy_project("maraude-13", VEILLE__V1__ROLE__ROLE_MARAUDEUR, 0, &rv,
					&out), 1);
	assert_int_equal(out.copy.person.n_fields, N);
	assert_int_equal(policy_project("maraude-14", VEILLE__V1__ROLE__ROLE_MARAUDEUR, 0, &rv,
					&out), 0);
	assert_int_equal(policy_project("chrs-1", VEILLE__V1__ROLE__ROLE_TRAVAILLEUR_SOCIAL,
					POLICY_BIT(POLICY_REL_ADMITTED), &rv, &out), 1);
	assert_int_equal(out.copy.person.n_fields, N);
	/* The SIAO or a centre deciding on a request get nothing of the profile itself. */
	assert_int_equal(policy_project("siao-13", VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO,
					POLICY_BIT(POLICY_REL_SIAO) | POLICY_BIT(POLICY_REL_CENTRE),
					&rv, &out), 0);
	assert_int_equal(policy_project("maraude-13", VEILLE__V1__ROLE__ROLE_SUPERVISEUR, 0, &rv,
					&out), 0);
	/* Bad input: a value of an unknown field is shown to nobody but health roles (the
	 * strictest class), never to a maraudeur. */
	v[0].field = (Veille__V1__PersonField)99;
	assert_int_equal(policy_project("maraude-13", VEILLE__V1__ROLE__ROLE_MARAUDEUR, 0, &rv,
					&out), 1);
	assert_int_equal(out.copy.person.n_fields, N - 1);
}

/* 1 if g lists field. */
static int granted(const struct policy_grant *g, unsigned field)
{
	for (size_t i = 0; i < g->n_fields; i++)
		if (g->fields[i] == field)
			return 1;
	return 0;
}

/*
 * The audit's account of a disclosure (policy_grant) is what the projection kept: for every
 * record kind, relation passed in, recipient and role, policy_grant answers as policy_project
 * and lists exactly the fields left set in the projection (all of them filled), and the
 * relation it names is the row that let them through. A person: the values kept.
 */
static void test_grant_lists_what_projection_kept(void **state)
{
	static const struct {
		const ProtobufCMessageDescriptor *desc;
		int record_case;
	} kinds[] = {
		{&veille__v1__encounter__descriptor, VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER},
		{&veille__v1__request__descriptor, VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST},
		{&veille__v1__proposal__descriptor, VEILLE__STORE__V1__RECORD_VERSION__RECORD_PROPOSAL},
		{&veille__v1__decision__descriptor, VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION},
	};
	static const char *const recipients[] = {"x", "y"};
	Veille__Store__V1__RecordVersion prv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
	Veille__V1__Person p = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue v[10], *vp[10];
	struct policy_grant g;
	struct policy_out out;
	size_t checked = 0, shown = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++)
		for (int rel = POLICY_REL_NONE; rel < POLICY__RELATIONS; rel++)
			for (size_t r = 0; r < sizeof(ALL_ROLES) / sizeof(*ALL_ROLES); r++)
				for (size_t who = 0; who < 2; who++) {
					Veille__Store__V1__RecordVersion rv =
						VEILLE__STORE__V1__RECORD_VERSION__INIT;
					void *storage[8];
					size_t n_storage = 0;
					void *msg = calloc(1, kinds[k].desc->sizeof_message);
					int got, granted_any;

					kinds[k].desc->message_init(msg);
					fill_all(msg, kinds[k].desc, storage, &n_storage);
					rv.record_case = kinds[k].record_case;
					rv.encounter = msg;
					got = policy_project(recipients[who], ALL_ROLES[r],
							     POLICY_BIT(rel), &rv, &out);
					granted_any = policy_grant(recipients[who], ALL_ROLES[r],
								   POLICY_BIT(rel), &rv, &g);
					assert_int_equal(got, granted_any);
					for (unsigned i = 0; got && i < kinds[k].desc->n_fields; i++) {
						const ProtobufCFieldDescriptor *f = &kinds[k].desc->fields[i];

						if (kept(out.record, f) != granted(&g, f->id))
							fail_msg("%s.%s relation %d role %d: kept %d, "
								 "granted %d", kinds[k].desc->name,
								 f->name, rel, ALL_ROLES[r],
								 kept(out.record, f), granted(&g, f->id));
						assert_non_null(policy_field_name(rv.record_case, f->id));
						checked++;
					}
					if (got) {
						assert_int_equal(g.record_case, rv.record_case);
						assert_non_null(policy_relation_name(g.relation));
						assert_true(g.relation != POLICY_REL_NONE);
						assert_true(g.classes != 0);
						shown++;
					}
					for (size_t i = 0; i < n_storage; i++)
						free(storage[i]);
					free(msg);
				}
	assert_true(checked > 200);
	assert_true(shown > 20);

	for (int i = 0; i < 10; i++) {
		veille__v1__person_field_value__init(&v[i]);
		v[i].field = (Veille__V1__PersonField)(i + 1);
		vp[i] = &v[i];
	}
	v[9].field = (Veille__V1__PersonField)99; /* unknown: strictest class */
	p.n_fields = 10;
	p.fields = vp;
	p.team_id = "maraude-13";
	prv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON;
	prv.person = &p;
	assert_int_equal(policy_grant("maraude-13", VEILLE__V1__ROLE__ROLE_MARAUDEUR, 0, &prv, &g),
			 1);
	assert_int_equal(policy_project("maraude-13", VEILLE__V1__ROLE__ROLE_MARAUDEUR, 0, &prv,
					&out), 1);
	assert_int_equal(g.n_fields, out.copy.person.n_fields);
	for (size_t i = 0; i < g.n_fields; i++)
		assert_int_equal(g.fields[i], out.copy.person.fields[i]->field);
	assert_false(granted(&g, 99));
	assert_string_equal(policy_field_name(prv.record_case, 1), "given_name");
	assert_string_equal(policy_kind_name(prv.record_case), "Person");
	assert_string_equal(policy_relation_name(g.relation), "author");
	assert_int_equal(policy_grant("maraude-14", VEILLE__V1__ROLE__ROLE_MARAUDEUR, 0, &prv, &g),
			 0);
	/* The admitting centre during the stay: the rule told is the stay's. */
	assert_int_equal(policy_grant("chrs-1", VEILLE__V1__ROLE__ROLE_TRAVAILLEUR_SOCIAL,
				      POLICY_BIT(POLICY_REL_ADMITTED), &prv, &g), 1);
	assert_int_equal(g.relation, POLICY_REL_ADMITTED);
	assert_null(policy_field_name(prv.record_case, 99));
}

/* ---- writing follows reading (issue 13) ---- */

#define HEALTH_REFUSAL "health fields are for health professionals"

/* The record kinds a push carries, with their RecordVersion case for the same record stored. */
static const struct {
	const char *name;
	const ProtobufCMessageDescriptor *desc;
	int mutation_case, record_case;
} PUSHED[] = {
	{"Encounter", &veille__v1__encounter__descriptor, VEILLE__V1__MUTATION__RECORD_ENCOUNTER,
	 VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER},
	{"Request", &veille__v1__request__descriptor, VEILLE__V1__MUTATION__RECORD_REQUEST,
	 VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST},
	{"Proposal", &veille__v1__proposal__descriptor, VEILLE__V1__MUTATION__RECORD_PROPOSAL,
	 VEILLE__STORE__V1__RECORD_VERSION__RECORD_PROPOSAL},
	{"Decision", &veille__v1__decision__descriptor, VEILLE__V1__MUTATION__RECORD_DECISION,
	 VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION},
};

/*
 * Every record kind (Person below), every role, every field written alone: the push is
 * refused exactly when the field is a health observation and the writer is not a health
 * professional (the words of issue 13, written here without the table), with FORBIDDEN's
 * reason and the field named. Then every field at once: the same, through the health note.
 */
static void test_may_write_field_by_field(void **state)
{
	size_t checked = 0, refused = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(PUSHED) / sizeof(*PUSHED); k++)
		for (size_t r = 0; r < sizeof(ALL_ROLES) / sizeof(*ALL_ROLES); r++)
			for (unsigned i = 0; i <= PUSHED[k].desc->n_fields; i++) {
				/* i == n_fields: every field at once */
				int all = i == PUSHED[k].desc->n_fields;
				Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
				void *storage[8];
				size_t n_storage = 0;
				void *msg = calloc(1, PUSHED[k].desc->sizeof_message);
				int health = 0, may;
				unsigned field = 0;
				const char *why = NULL;

				PUSHED[k].desc->message_init(msg);
				if (all) {
					fill_all(msg, PUSHED[k].desc, storage, &n_storage);
					for (unsigned j = 0; j < PUSHED[k].desc->n_fields; j++)
						health |= !strcmp(PUSHED[k].desc->fields[j].name,
								  "health_note");
				} else {
					fill_field(msg, &PUSHED[k].desc->fields[i], storage,
						   &n_storage);
					health = !strcmp(PUSHED[k].desc->fields[i].name,
							 "health_note");
				}
				m.record_case = PUSHED[k].mutation_case;
				m.encounter = msg; /* the union of record pointers */
				may = policy_may_write(ALL_ROLES[r], &m, &field, &why);
				if (may != !(health && ALL_ROLES[r] !=
							      VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE))
					fail_msg("%s.%s role %d: may_write %d", PUSHED[k].name,
						 all ? "(all)" : PUSHED[k].desc->fields[i].name,
						 ALL_ROLES[r], may);
				if (!may) {
					assert_string_equal(policy_field_name(PUSHED[k].record_case,
									      field),
							    "health_note");
					assert_string_equal(why, HEALTH_REFUSAL);
					refused++;
				}
				checked++;
				for (size_t j = 0; j < n_storage; j++)
					free(storage[j]);
				free(msg);
			}
	assert_true(checked > 500);
	assert_int_equal(refused, 2 * 9); /* health_note alone and with all, 9 roles */
}

/*
 * The same decision as reading: for every role, a health note may be written exactly when the
 * projection of the stored encounter, for its author's structure and that role, keeps it.
 */
static void test_may_write_what_is_read_back(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(ALL_ROLES) / sizeof(*ALL_ROLES); r++) {
		Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
		Veille__Store__V1__RecordVersion rv = VEILLE__STORE__V1__RECORD_VERSION__INIT;
		Veille__V1__Encounter e = VEILLE__V1__ENCOUNTER__INIT;
		struct policy_out out;
		int read_back;

		e.team_id = "maraude-13"; /* as the server stores it: the writer's structure */
		e.note = "rencontré rue de Rivoli";
		e.health_note = "plaie à la jambe";
		m.record_case = VEILLE__V1__MUTATION__RECORD_ENCOUNTER;
		m.encounter = &e;
		rv.record_case = VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER;
		rv.encounter = &e;
		read_back = policy_project("maraude-13", ALL_ROLES[r], 0, &rv, &out) &&
			    out.copy.encounter.health_note[0];
		assert_int_equal(policy_may_write(ALL_ROLES[r], &m, NULL, NULL), read_back);
	}
}

/* An empty health note writes nothing: a maraudeur's plain encounter (and a correction of it)
 * goes through. Bad input: a health note by a maraudeur, the same in a correction, by a
 * superviseur, by an unknown role. */
static void test_empty_health_note_is_not_written(void **state)
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Encounter e = VEILLE__V1__ENCOUNTER__INIT;
	unsigned field = 0;
	const char *why = NULL;

	(void)state;
	e.person_id = "0123456789abcdef0123456789abcdef";
	e.occurred_at_ms = 1700000000000;
	e.note = "café, duvet";
	m.record_case = VEILLE__V1__MUTATION__RECORD_ENCOUNTER;
	m.encounter = &e;
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_MARAUDEUR, &m, &field, &why), 1);
	assert_null(why);
	m.base_version = 1; /* a correction, judged the same way */
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_MARAUDEUR, &m, NULL, NULL), 1);
	e.health_note = NULL; /* as a hand-built message may leave it */
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_MARAUDEUR, &m, NULL, NULL), 1);
	e.health_note = "tousse beaucoup";
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_MARAUDEUR, &m, &field, &why), 0);
	assert_int_equal(field, 9);
	assert_string_equal(why, HEALTH_REFUSAL);
	m.base_version = 0;
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_MARAUDEUR, &m, NULL, NULL), 0);
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_SUPERVISEUR, &m, NULL, NULL), 0);
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_UNSPECIFIED, &m, NULL, NULL), 0);
	assert_int_equal(policy_may_write(99, &m, NULL, NULL), 0);
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE, &m, NULL,
					  NULL), 1);
	/* Bad input: a kind the table does not know, a kind without its record: the policy has
	 * nothing to refuse (records.c refuses them as INVALID_ARGUMENT). */
	m.record_case = VEILLE__V1__MUTATION__RECORD__NOT_SET;
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_MARAUDEUR, &m, NULL, NULL), 1);
	m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	m.person = NULL;
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_MARAUDEUR, &m, NULL, NULL), 1);
}

/*
 * A person's values: every field the profile has today may be written by every role that
 * writes profiles. A value of a field the table classes HEALTH may not, set or cleared; the
 * profile has none yet, so the stand-in is a field the table does not class (the strictest
 * class, HEALTH, as for reading): what a future HEALTH field of the profile gets.
 */
static void test_may_write_person_values(void **state)
{
	enum { N = 11 }; /* PersonField values 1 to 11 */
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Person p = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue v[N + 1], *vp[N + 1];
	unsigned field = 0;
	const char *why = NULL;

	(void)state;
	for (int i = 0; i <= N; i++) {
		veille__v1__person_field_value__init(&v[i]);
		v[i].field = (Veille__V1__PersonField)(i + 1);
		vp[i] = &v[i];
	}
	p.n_fields = N;
	p.fields = vp;
	m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	m.person = &p;
	for (size_t r = 0; r < sizeof(ALL_ROLES) / sizeof(*ALL_ROLES); r++)
		assert_int_equal(policy_may_write(ALL_ROLES[r], &m, NULL, NULL), 1);
	v[N].field = (Veille__V1__PersonField)99; /* bad input: after the known ones */
	p.n_fields = N + 1;
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_MARAUDEUR, &m, &field, &why), 0);
	assert_int_equal(field, 99);
	assert_string_equal(why, HEALTH_REFUSAL);
	v[N].cleared = 1; /* clearing it blind is writing it too */
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_TRAVAILLEUR_SOCIAL, &m, NULL, NULL),
			 0);
	assert_int_equal(policy_may_write(VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE, &m, NULL,
					  NULL), 1);
}

/* docs/access-rules.md is the table as `veillectl access-rules` prints it. */
static void test_docs_print_the_table(void **state)
{
	char *printed = NULL, *file = NULL;
	size_t plen = 0, flen = 0;
	FILE *f = open_memstream(&printed, &plen);
	FILE *d = fopen(VEILLE_SOURCE_DIR "/docs/access-rules.md", "r");

	(void)state;
	assert_non_null(f);
	policy_print_rules(f);
	fclose(f);
	assert_non_null(d);
	file = malloc(plen + 2);
	flen = fread(file, 1, plen + 1, d);
	fclose(d);
	if (flen != plen || memcmp(file, printed, plen) != 0)
		fail_msg("docs/access-rules.md differs from the table: run "
			 "`veillectl access-rules > docs/access-rules.md`");
	free(file);
	free(printed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_structure_sees),
		cmocka_unit_test(test_table_against_model),
		cmocka_unit_test(test_person_values),
		cmocka_unit_test(test_grant_lists_what_projection_kept),
		cmocka_unit_test(test_may_write_field_by_field),
		cmocka_unit_test(test_may_write_what_is_read_back),
		cmocka_unit_test(test_empty_health_note_is_not_written),
		cmocka_unit_test(test_may_write_person_values),
		cmocka_unit_test(test_docs_print_the_table),
		cmocka_unit_test(test_other_structure_does_not_see),
		cmocka_unit_test(test_superviseur_and_administrateur_do_not_see),
		cmocka_unit_test(test_who_reads_the_indicators),
		cmocka_unit_test(test_unknown_record_kind_is_not_seen),
		cmocka_unit_test(test_empty_team_is_seen_by_nobody),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
