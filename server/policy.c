/* policy: see policy.h. */
#include "policy.h"

#include <string.h>

#define OP POLICY_OPERATIONAL
#define ID POLICY_IDENTITY
#define DE POLICY_DECISION
#define TE POLICY_TEAM
#define HE POLICY_HEALTH

/* ---- the table: record kind x sharing class x relation -> visible ---- */

struct rule {
	enum policy_kind kind;
	enum policy_relation rel;
	unsigned classes; /* bit per policy_class shown */
	const char *basis; /* the text it rests on */
};

#define C(x) (1u << (x))

static const struct rule rules[] = {
	{POLICY_ENCOUNTER, POLICY_REL_AUTHOR, C(OP) | C(ID) | C(DE) | C(TE) | C(HE),
	 "L345-1 CASF: the team that met the person keeps its own record (HEALTH: its health "
	 "professionals only, L1110-4 CSP)"},
	{POLICY_PERSON, POLICY_REL_AUTHOR, C(OP) | C(ID) | C(DE) | C(TE) | C(HE),
	 "L345-1 CASF: the team that created the profile (HEALTH: its health professionals only, "
	 "L1110-4 CSP)"},
	{POLICY_REQUEST, POLICY_REL_AUTHOR, C(OP) | C(ID) | C(DE) | C(TE),
	 "L345-1 CASF: the requester's own record"},
	{POLICY_REQUEST, POLICY_REL_SIAO, C(OP) | C(ID) | C(DE),
	 "L345-2-10 CASF: the SIAO decides the orientation while the request is open; the "
	 "requester's working notes are not needed for it"},
	{POLICY_REQUEST, POLICY_REL_CENTRE, C(OP) | C(DE),
	 "R345-4 and L345-1 CASF: a centre receiving a proposal gets what its admission decision "
	 "strictly needs, until it refuses or the hold ends (if it admits: until the stay ends)"},
	{POLICY_ENCOUNTER, POLICY_REL_ADMITTED, C(OP) | C(ID) | C(DE) | C(TE) | C(HE),
	 "R345-4 and L345-1 CASF: the centre that admitted the person supports them for the stay "
	 "and receives their file in full, unless they object (HEALTH: its health professionals "
	 "only, L1110-4 CSP)"},
	{POLICY_PERSON, POLICY_REL_ADMITTED, C(OP) | C(ID) | C(DE) | C(TE) | C(HE),
	 "R345-4 and L345-1 CASF: the admitting centre, for the stay, unless the person objects "
	 "(HEALTH: its health professionals only, L1110-4 CSP)"},
	{POLICY_REQUEST, POLICY_REL_ADMITTED, C(OP) | C(ID) | C(DE) | C(TE),
	 "R345-4 and L345-1 CASF: the admitting centre, for the stay, unless the person objects"},
	{POLICY_PROPOSAL, POLICY_REL_PARTY, C(OP),
	 "R345-4 CASF: the SIAO's proposal, to the centre, known to the requester"},
	{POLICY_DECISION_RECORD, POLICY_REL_PARTY, C(OP) | C(ID) | C(DE),
	 "R345-4 CASF: a refusal is notified with its reasons to the SIAO (and to the person, "
	 "through the requester); an emergency admission informs the SIAO"},
};

/* ---- the sharing class of every field ---- */

struct field_class {
	unsigned field;
	enum policy_class cls;
	const char *name;
};

static const struct field_class encounter_fields[] = {
	{1, ID, "person_id"},  {2, OP, "team_id"},  {3, OP, "author_id"},
	{4, OP, "occurred_at_ms"}, {5, TE, "location"}, {6, DE, "needs"},
	{7, TE, "services"},   {8, TE, "note"},       {9, HE, "health_note"},
};
static const struct field_class person_fields[] = { /* by PersonField */
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_GIVEN_NAME, ID, "given_name"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_FAMILY_NAME, ID, "family_name"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME, ID, "nickname"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_BIRTH_YEAR, ID, "birth_year"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_ADULTS, DE, "household_adults"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_CHILDREN, DE, "household_children"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_REDUCED_MOBILITY, DE, "reduced_mobility"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_ANIMAL, DE, "animal"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_SITUATION, TE, "situation"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_LANGUAGES, DE, "languages"},
	{VEILLE__V1__PERSON_FIELD__PERSON_FIELD_OBJECTS_TO_SHARING, TE, "objects_to_sharing"},
};
static const struct field_class request_fields[] = {
	{1, ID, "person_id"},        {2, OP, "requester_id"},   {3, OP, "author_id"},
	{4, DE, "household_adults"}, {5, DE, "household_children"},
	{6, DE, "reduced_mobility"}, {7, DE, "animal"},         {8, DE, "languages"},
	{9, DE, "urgency"},          {10, DE, "categories"},    {11, TE, "note"},
	{12, OP, "territory"},       {13, OP, "withdrawn"},     {14, OP, "requested_at_ms"},
	{15, OP, "requester_name"}, /* a structure's, not a person's: as requester_id */
};
static const struct field_class proposal_fields[] = {
	{1, OP, "request_id"}, {2, OP, "centre_id"},     {3, OP, "category"},
	{4, OP, "siao_id"},    {5, OP, "author_id"},     {6, OP, "hold_until_ms"},
	{7, OP, "status"},     {8, OP, "request_team_id"},
	{9, OP, "request_team_name"}, /* names, as the ids they name */
};
static const struct field_class decision_fields[] = {
	{1, OP, "proposal_id"},         {2, DE, "kind"},
	{3, DE, "motive"},              {4, DE, "motive_text"},
	{5, OP, "start_ms"},            {6, OP, "end_ms"},
	{7, ID, "person_id"},           {8, OP, "category"},
	{9, DE, "extension_requested"}, {10, DE, "extension_motive"},
	{11, OP, "centre_id"},          {12, OP, "author_id"},
	{13, OP, "request_id"},         {14, OP, "siao_id"},
	{15, OP, "request_team_id"},    {16, OP, "decided_at_ms"},
	{17, OP, "extension_requested_at_ms"}, {18, OP, "extension_deemed_accepted"},
	{19, OP, "reminders"},
	{20, OP, "centre_name"},        {21, OP, "request_team_name"}, /* as the ids they name */
};

static const struct kind_info {
	const char *name;
	const struct field_class *fields;
	size_t n;
	const ProtobufCMessageDescriptor *desc;
	int change_case;
} kinds[POLICY__KINDS] = {
	[POLICY_ENCOUNTER] = {"Encounter", encounter_fields,
			      sizeof(encounter_fields) / sizeof(*encounter_fields),
			      &veille__v1__encounter__descriptor, VEILLE__V1__CHANGE__RECORD_ENCOUNTER},
	[POLICY_PERSON] = {"Person", person_fields, sizeof(person_fields) / sizeof(*person_fields),
			   &veille__v1__person__descriptor, VEILLE__V1__CHANGE__RECORD_PERSON},
	[POLICY_REQUEST] = {"Request", request_fields,
			    sizeof(request_fields) / sizeof(*request_fields),
			    &veille__v1__request__descriptor, VEILLE__V1__CHANGE__RECORD_REQUEST},
	[POLICY_PROPOSAL] = {"Proposal", proposal_fields,
			     sizeof(proposal_fields) / sizeof(*proposal_fields),
			     &veille__v1__proposal__descriptor, VEILLE__V1__CHANGE__RECORD_PROPOSAL},
	[POLICY_DECISION_RECORD] = {"Decision", decision_fields,
				    sizeof(decision_fields) / sizeof(*decision_fields),
				    &veille__v1__decision__descriptor,
				    VEILLE__V1__CHANGE__RECORD_DECISION},
};

/* The sharing class of field number `field` of kind's message (for a person, the
 * Veille__V1__PersonField of one value). */
static enum policy_class field_class(enum policy_kind kind, unsigned field)
{
	for (size_t i = 0; kind < POLICY__KINDS && i < kinds[kind].n; i++)
		if (kinds[kind].fields[i].field == field)
			return kinds[kind].fields[i].cls;
	return POLICY_HEALTH; /* a field without a class gets the strictest one */
}

/* ---- projection ---- */

static int is(const char *a, const char *b)
{
	return a && a[0] && strcmp(a, b) == 0;
}

/* The relations (POLICY_BIT) of structure_id to rv: those read from the record (its author,
 * the parties it names) and those the caller read from the store's state. */
static unsigned relations_to(const char *structure_id, const Veille__Store__V1__RecordVersion *rv,
			     unsigned state_relations)
{
	unsigned rels = state_relations & (POLICY_BIT(POLICY_REL_SIAO) |
					   POLICY_BIT(POLICY_REL_CENTRE) |
					   POLICY_BIT(POLICY_REL_ADMITTED));
	int author = 0, party = 0;

	switch (rv->record_case) {
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER:
		author = is(rv->encounter->team_id, structure_id);
		break;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON:
		author = is(rv->person->team_id, structure_id);
		break;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST:
		author = is(rv->request->requester_id, structure_id);
		break;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_PROPOSAL:
		party = is(rv->proposal->siao_id, structure_id) ||
			is(rv->proposal->centre_id, structure_id) ||
			is(rv->proposal->request_team_id, structure_id);
		break;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION:
		party = is(rv->decision->centre_id, structure_id) ||
			is(rv->decision->siao_id, structure_id) ||
			is(rv->decision->request_team_id, structure_id);
		break;
	default:
		return 0;
	}
	return rels | (author ? POLICY_BIT(POLICY_REL_AUTHOR) : 0) |
	       (party ? POLICY_BIT(POLICY_REL_PARTY) : 0);
}

/* The classes a role may receive at all (the gate before the table). */
static unsigned role_classes(int role)
{
	switch (role) {
	case VEILLE__V1__ROLE__ROLE_MARAUDEUR:
	case VEILLE__V1__ROLE__ROLE_ACCUEILLANT:
	case VEILLE__V1__ROLE__ROLE_ECOUTANT_115:
	case VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO:
	case VEILLE__V1__ROLE__ROLE_RESPONSABLE_CENTRE:
	case VEILLE__V1__ROLE__ROLE_TRAVAILLEUR_SOCIAL:
		return C(OP) | C(ID) | C(DE) | C(TE);
	case VEILLE__V1__ROLE__ROLE_PROFESSIONNEL_SANTE:
		return C(OP) | C(ID) | C(DE) | C(TE) | C(HE);
	default: /* superviseur, administrateur, unknown: places and aggregates only */
		return 0;
	}
}

int policy_may_read_stats(int role)
{
	switch (role) {
	case VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO:
	case VEILLE__V1__ROLE__ROLE_ECOUTANT_115:
	case VEILLE__V1__ROLE__ROLE_SUPERVISEUR:
	case VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR:
		return 1;
	default:
		return 0;
	}
}

static enum policy_kind kind_of(int record_case)
{
	switch (record_case) {
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER: return POLICY_ENCOUNTER;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON: return POLICY_PERSON;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST: return POLICY_REQUEST;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_PROPOSAL: return POLICY_PROPOSAL;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION: return POLICY_DECISION_RECORD;
	default: return POLICY__KINDS;
	}
}

/* Empties one field of a message copy (its default value: 0, "", no list, no submessage). */
static void clear_field(void *msg, const ProtobufCFieldDescriptor *f)
{
	char *at = (char *)msg + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		*(size_t *)((char *)msg + f->quantifier_offset) = 0;
		*(void **)at = NULL;
		return;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: *(const char **)at = protobuf_c_empty_string; break;
	case PROTOBUF_C_TYPE_MESSAGE: *(void **)at = NULL; break;
	case PROTOBUF_C_TYPE_BYTES: memset(at, 0, sizeof(ProtobufCBinaryData)); break;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		memset(at, 0, 8);
		break;
	case PROTOBUF_C_TYPE_BOOL: memset(at, 0, sizeof(protobuf_c_boolean)); break;
	default: memset(at, 0, 4); break; /* 32-bit scalars and enums */
	}
}

unsigned policy_classes(const char *structure_id, unsigned state_relations,
			const Veille__Store__V1__RecordVersion *rv)
{
	enum policy_kind kind = kind_of(rv->record_case);
	unsigned rels, shown = 0;

	if (kind == POLICY__KINDS)
		return 0;
	rels = relations_to(structure_id, rv, state_relations);
	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++)
		if (rules[i].kind == kind && (rels & POLICY_BIT(rules[i].rel)))
			shown |= rules[i].classes;
	return shown;
}

int policy_state_matters(const char *structure_id, const Veille__Store__V1__RecordVersion *rv)
{
	const unsigned state = POLICY_BIT(POLICY_REL_SIAO) | POLICY_BIT(POLICY_REL_CENTRE) |
			       POLICY_BIT(POLICY_REL_ADMITTED);

	return policy_classes(structure_id, state, rv) != policy_classes(structure_id, 0, rv);
}

int policy_project(const char *structure_id, int role, unsigned state_relations,
		   const Veille__Store__V1__RecordVersion *rv, struct policy_out *out)
{
	enum policy_kind kind = kind_of(rv->record_case);
	unsigned shown = policy_classes(structure_id, state_relations, rv) & role_classes(role);
	const void *src;

	if (!shown)
		return 0;
	switch (kind) {
	case POLICY_ENCOUNTER: src = rv->encounter; break;
	case POLICY_PERSON: src = rv->person; break;
	case POLICY_REQUEST: src = rv->request; break;
	case POLICY_PROPOSAL: src = rv->proposal; break;
	default: src = rv->decision; break;
	}
	memcpy(&out->copy, src, kinds[kind].desc->sizeof_message);
	out->record = &out->copy;
	out->record_case = kinds[kind].change_case;
	for (unsigned i = 0; i < kinds[kind].desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &kinds[kind].desc->fields[i];
		/* A person's own fields: team_id (OPERATIONAL) and the values, which are sorted
		 * one by one below. */
		enum policy_class cls =
			kind == POLICY_PERSON ? POLICY_OPERATIONAL : field_class(kind, f->id);

		if (!(shown & C(cls)))
			clear_field(&out->copy, f);
	}
	if (kind == POLICY_PERSON) {
		size_t n = 0;

		for (size_t i = 0; i < rv->person->n_fields && n < CODEC_MAX_LIST; i++)
			if (shown & C(field_class(POLICY_PERSON, rv->person->fields[i]->field)))
				out->fields[n++] = rv->person->fields[i];
		out->copy.person.fields = out->fields;
		out->copy.person.n_fields = n;
	}
	return 1;
}

/* ---- the printed table ---- */

static const char *const class_names[POLICY__CLASSES] = {"OPERATIONAL", "IDENTITY", "DECISION",
							  "TEAM", "HEALTH"};
static const char *const relation_names[POLICY__RELATIONS] = {
	"none", "author", "SIAO of the open request", "centre (proposal pending, or admitted)",
	"party (named by the proposal or decision)", "centre that admitted the person, for the stay"};

void policy_print_rules(FILE *f)
{
	fprintf(f, "# Access rules\n\n"
		   "Generated by `veillectl access-rules` from the table in `server/policy.c`, the one\n"
		   "place that decides what of a record leaves the server (a test keeps this file equal\n"
		   "to it). A relation not listed for a record kind sees nothing of it.\n\n"
		   "Before the table: superviseurs, administrateurs (and unknown roles) receive no\n"
		   "personal record, only places and aggregates; HEALTH fields go to professionnels de\n"
		   "santé only (L1110-4 CSP).\n\n"
		   "Writing follows reading: a push carrying a HEALTH field (a non-empty\n"
		   "`health_note`; a profile value of a HEALTH field, set or cleared) from a role the\n"
		   "table would not show it to, as the record's writer, is `REJECTED` with `FORBIDDEN`\n"
		   "(\"health fields are for health professionals\"), corrections included: nobody\n"
		   "writes what they could never read back (`policy_may_write`).\n\n"
		   "The relations come from the person's care circle (`server/circle.h`, listed by\n"
		   "`veillectl person circle ID`): the team that met them writes and keeps its own\n"
		   "records (author); the SIAO while a request is open and a centre while a proposal\n"
		   "waits see the request; the centre that admitted them has their file for the stay,\n"
		   "from its start to its end, as written in its own département (territories are\n"
		   "tenants), and only while the person does not object to sharing\n"
		   "(profile field `objects_to_sharing`): with an objection their records stay in the\n"
		   "author team, and only what they send with a request reaches the SIAO and the\n"
		   "centre deciding on it. Joining the circle sends the person's past records at the\n"
		   "next pull; leaving it withdraws them from the devices.\n\n"
		   "## Who sees which classes\n\n"
		   "| record | relation | OPERATIONAL | IDENTITY | DECISION | TEAM | HEALTH | rests on |\n"
		   "|---|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
		fprintf(f, "| %s | %s |", kinds[rules[i].kind].name, relation_names[rules[i].rel]);
		for (int c = 0; c < POLICY__CLASSES; c++)
			fprintf(f, " %s |", rules[i].classes & C(c) ? "yes" : "-");
		fprintf(f, " %s |\n", rules[i].basis);
	}
	fprintf(f, "\n## The sharing class of every field\n\n| record | field | class |\n|---|---|---|\n");
	for (int k = 0; k < POLICY__KINDS; k++)
		for (size_t i = 0; i < kinds[k].n; i++)
			fprintf(f, "| %s | %s%s | %s |\n", kinds[k].name,
				k == POLICY_PERSON ? "fields: " : "", kinds[k].fields[i].name,
				class_names[kinds[k].fields[i].cls]);
	fprintf(f, "| Person | team_id | OPERATIONAL |\n");
}

/* ---- what a projection disclosed, for the audit ---- */

/* The same decision as policy_project, from the same table and gates: a test keeps the two
 * equal (tests/unit/test_policy.c). */
int policy_grant(const char *structure_id, int role, unsigned state_relations,
		 const Veille__Store__V1__RecordVersion *rv, struct policy_grant *g)
{
	enum policy_kind kind = kind_of(rv->record_case);
	unsigned shown = policy_classes(structure_id, state_relations, rv) & role_classes(role);
	unsigned rels, best = 0;

	memset(g, 0, sizeof(*g));
	if (!shown)
		return 0;
	g->record_case = rv->record_case;
	g->classes = shown;
	rels = relations_to(structure_id, rv, state_relations);
	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
		unsigned covers = (unsigned)__builtin_popcount(rules[i].classes & shown);

		if (rules[i].kind == kind && (rels & POLICY_BIT(rules[i].rel)) && covers > best) {
			best = covers;
			g->relation = rules[i].rel;
		}
	}
	if (kind == POLICY_PERSON) {
		for (size_t i = 0; i < rv->person->n_fields && g->n_fields < POLICY_MAX_FIELDS; i++)
			if (shown & C(field_class(POLICY_PERSON, rv->person->fields[i]->field)))
				g->fields[g->n_fields++] = rv->person->fields[i]->field;
		return 1;
	}
	for (unsigned i = 0; i < kinds[kind].desc->n_fields && g->n_fields < POLICY_MAX_FIELDS; i++)
		if (shown & C(field_class(kind, kinds[kind].desc->fields[i].id)))
			g->fields[g->n_fields++] = kinds[kind].desc->fields[i].id;
	return 1;
}

/* ---- what a writer may write: what it could read back ---- */

/* The classes a professional may write only if the table lets them read them back. HEALTH:
 * a health note from a maraudeur reached the team's health professionals but never its
 * author, who could neither check nor correct it (issue 13). */
#define WRITE_GUARDED C(HE)

/* Why a field of a guarded class is refused, for the op's result. */
static const char *const write_refusals[POLICY__CLASSES] = {
	[POLICY_HEALTH] = "health fields are for health professionals",
};

/* The classes the table shows the structure writing a record of kind, as its writer: the
 * rows of its author (encounters, profiles, requests) and of its parties (proposals,
 * decisions), the relations whose ids the server sets from the session. */
static unsigned writer_classes(enum policy_kind kind)
{
	unsigned shown = 0;

	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++)
		if (rules[i].kind == kind &&
		    (rules[i].rel == POLICY_REL_AUTHOR || rules[i].rel == POLICY_REL_PARTY))
			shown |= rules[i].classes;
	return shown;
}

/* Whether field f of msg holds something other than its default (what a push writes). */
static int carries(const void *msg, const ProtobufCFieldDescriptor *f)
{
	const char *at = (const char *)msg + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)((const char *)msg + f->quantifier_offset) != 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)((const char *)msg + f->quantifier_offset) == f->id;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *str = *(const char *const *)at;

		return str && str[0];
	}
	case PROTOBUF_C_TYPE_MESSAGE: return *(void *const *)at != NULL;
	case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)at)->len != 0;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)at != 0;
	case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)at != 0;
	case PROTOBUF_C_TYPE_FLOAT: return *(const float *)at != 0;
	case PROTOBUF_C_TYPE_BOOL: return *(const protobuf_c_boolean *)at != 0;
	default: return *(const uint32_t *)at != 0; /* 32-bit scalars and enums */
	}
}

/* The first field msg (a record of kind) writes whose class is in classes: 1 with *field and
 * *cls set, or 0. A person's own fields are its team_id (OPERATIONAL) and its values, each
 * written, set or cleared, in its field's class. */
static int writes_class(enum policy_kind kind, const void *msg, unsigned classes,
			unsigned *field, enum policy_class *cls)
{
	if (kind == POLICY_PERSON) {
		const Veille__V1__Person *p = msg;

		for (size_t i = 0; i < p->n_fields; i++) {
			*field = p->fields[i]->field;
			*cls = field_class(POLICY_PERSON, *field);
			if (classes & C(*cls))
				return 1;
		}
		return 0;
	}
	for (unsigned i = 0; i < kinds[kind].desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &kinds[kind].desc->fields[i];

		*field = f->id;
		*cls = field_class(kind, f->id);
		if ((classes & C(*cls)) && carries(msg, f))
			return 1;
	}
	return 0;
}

int policy_may_write(int role, const Veille__V1__Mutation *m, unsigned *field,
		     const char **reason)
{
	enum policy_kind kind;
	enum policy_class cls = POLICY_HEALTH;
	const void *msg;
	unsigned refused, f = 0;

	switch (m->record_case) {
	case VEILLE__V1__MUTATION__RECORD_ENCOUNTER:
		kind = POLICY_ENCOUNTER;
		msg = m->encounter;
		break;
	case VEILLE__V1__MUTATION__RECORD_PERSON:
		kind = POLICY_PERSON;
		msg = m->person;
		break;
	case VEILLE__V1__MUTATION__RECORD_REQUEST:
		kind = POLICY_REQUEST;
		msg = m->request;
		break;
	case VEILLE__V1__MUTATION__RECORD_PROPOSAL:
		kind = POLICY_PROPOSAL;
		msg = m->proposal;
		break;
	case VEILLE__V1__MUTATION__RECORD_DECISION:
		kind = POLICY_DECISION_RECORD;
		msg = m->decision;
		break;
	default:
		return 1;
	}
	refused = WRITE_GUARDED & ~(writer_classes(kind) & role_classes(role));
	if (!msg || !refused || !writes_class(kind, msg, refused, &f, &cls))
		return 1;
	if (field)
		*field = f;
	if (reason)
		*reason = write_refusals[cls] ? write_refusals[cls] : "field not writable by this role";
	return 0;
}

const char *policy_kind_name(int record_case)
{
	enum policy_kind kind = kind_of(record_case);

	return kind == POLICY__KINDS ? NULL : kinds[kind].name;
}

const char *policy_field_name(int record_case, unsigned field)
{
	enum policy_kind kind = kind_of(record_case);

	for (size_t i = 0; kind < POLICY__KINDS && i < kinds[kind].n; i++)
		if (kinds[kind].fields[i].field == field)
			return kinds[kind].fields[i].name;
	return NULL;
}

const char *policy_relation_name(int relation)
{
	return relation >= 0 && relation < POLICY__RELATIONS ? relation_names[relation] : NULL;
}
