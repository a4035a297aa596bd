/* policy: the one place that decides what of a record may leave the server for a recipient.
 *
 * Pure: no I/O. Every path that sends record data (pull today; live push and exports later)
 * calls policy_project per record and per recipient, and sends only what it returns.
 *
 * The rules are ONE declarative table (policy.c, `rules`), printed in docs/access-rules.md
 * by `veillectl access-rules` with the article each row rests on:
 *   record kind x sharing class x relation -> visible
 * Every field of every record kind has a sharing class (policy.c, `*_fields`):
 *   OPERATIONAL  structure ids, dates, statuses: what the workflow itself runs on
 *   IDENTITY     who the person is: names, birth year, the pseudonymous person id
 *   DECISION     what an orientation or admission decision needs: household, constraints
 *   TEAM         the author team's working notes
 *   HEALTH       health observations (only health professionals, L1110-4 CSP)
 * The relations are the recipient's structure's relations to the record: its author, the
 * SIAO of an open request, a centre with a proposal pending or that admitted, a party named by
 * a proposal or decision, the centre that admitted the person (for the stay: the person's care
 * circle, circle.h). Author and party are read from the record itself; the others depend on
 * the store's state, which the caller reads (circle_relations) and passes in. A structure with
 * several relations sees what any of them shows. Role gates come before the table:
 * superviseurs, administrateurs and unknown roles receive no personal record; HEALTH fields go
 * to professionnels de santé only.
 * Pushes ask the same table (policy_may_write): a HEALTH field may be written only by who may
 * read it back as the record's writer, so that no one writes what they can never see. */
#ifndef VEILLE_POLICY_H
#define VEILLE_POLICY_H

#include <stdio.h>

#include "codec.h"

enum policy_class {
	POLICY_OPERATIONAL,
	POLICY_IDENTITY,
	POLICY_DECISION,
	POLICY_TEAM,
	POLICY_HEALTH,
	POLICY__CLASSES
};

/* A structure's relation to a record. */
enum policy_relation {
	POLICY_REL_NONE = 0,
	POLICY_REL_AUTHOR = 1, /* wrote it: the team that met the person, the requester */
	POLICY_REL_SIAO = 2,   /* the territory's SIAO, while the request is open */
	POLICY_REL_CENTRE = 3, /* a centre with a proposal pending for the request, or that admitted */
	POLICY_REL_PARTY = 4,  /* named by a proposal or decision: SIAO, centre, requester */
	POLICY_REL_ADMITTED = 5, /* the centre that admitted the person, during the stay */
	POLICY__RELATIONS
};

/* A set of relations: bit (1u << relation). */
#define POLICY_BIT(rel) (1u << (rel))

/* The record kinds, in the order of the table. */
enum policy_kind {
	POLICY_ENCOUNTER,
	POLICY_PERSON,
	POLICY_REQUEST,
	POLICY_PROPOSAL,
	POLICY_DECISION_RECORD,
	POLICY__KINDS
};

/* What policy_project returns: the record as the recipient may receive it. The copies borrow
 * the stored version's strings; valid while the version is. It points into itself (record,
 * a person's values): never copy or move a filled one. */
struct policy_out {
	int record_case; /* Veille__V1__Change__RecordCase */
	union {
		Veille__V1__Encounter encounter;
		Veille__V1__Person person;
		Veille__V1__Request request;
		Veille__V1__Proposal proposal;
		Veille__V1__Decision decision;
	} copy;
	Veille__V1__PersonFieldValue *fields[CODEC_MAX_LIST];
	void *record; /* points into copy */
};

/* The classes (bit per policy_class) of rv that the table shows to structure_id, roles aside,
 * given the relations the store's state gives it (state_relations: POLICY_BIT of
 * POLICY_REL_SIAO, _CENTRE, _ADMITTED; author and party bits are ignored there, they are read
 * from the record). 0: nothing of rv is for that structure. */
unsigned policy_classes(const char *structure_id, unsigned state_relations,
			const Veille__Store__V1__RecordVersion *rv);

/* Whether the store's state could show structure_id more of rv than the record alone does
 * (its author already sees all it may): if not, the caller need not read the state. */
int policy_state_matters(const char *structure_id, const Veille__Store__V1__RecordVersion *rv);

/* Projects rv for a professional of structure_id with role: returns 1 and fills out with the
 * fields the table lets through, or 0 if nothing of rv may leave for them. state_relations as
 * for policy_classes. */
int policy_project(const char *structure_id, int role, unsigned state_relations,
		   const Veille__Store__V1__RecordVersion *rv, struct policy_out *out);

#define POLICY_MAX_FIELDS 32 /* more than any record kind has */

/* What policy_project lets through of a record: the rule row that allowed it (record kind x
 * relation), the classes shown (after the role gates) and the fields kept. For the audit of
 * disclosures: ids and numbers only, never a value. */
struct policy_grant {
	int record_case;  /* Veille__Store__V1__RecordVersion__RecordCase */
	int relation;     /* enum policy_relation */
	unsigned classes; /* bit (1u << policy_class) per class shown */
	unsigned fields[POLICY_MAX_FIELDS]; /* field numbers shown; a person: the PersonField of
					     * each value shown (its team_id, OPERATIONAL,
					     * always goes and is not listed) */
	size_t n_fields;
};

/* The same decision as policy_project for the same arguments: returns 1 and fills g if
 * policy_project returns 1 (g lists what it kept), 0 otherwise. With several relations, the
 * rule told is the row that shows the most of what was kept (the first such row). */
int policy_grant(const char *structure_id, int role, unsigned state_relations,
		 const Veille__Store__V1__RecordVersion *rv, struct policy_grant *g);

/* Whether a professional of role may write everything mutation m carries: writing follows
 * reading. The writer's structure is the record's author (an encounter, a profile, a request)
 * or a party it names (a proposal, a decision): the server sets those ids from the session
 * (records.c, orient.c). So the table's rows for that relation, after the role gates, say what
 * the writer could read back of the record; a field of a guarded class (HEALTH) it could not
 * read back may not be written, whatever the record kind, at creation as in a correction. A
 * field carries something when it is not its default (an empty health_note writes nothing); a
 * person's value, set or cleared, writes its field, of its field's class (a field the table
 * does not class is of the strictest, HEALTH, as for reading). The other classes are left to
 * each kind's own rules.
 * Returns 1 if role may write all m carries (also for a record kind the table does not know:
 * records.c refuses those); 0 if not, with *field (if field is not NULL) the number of the
 * first field refused (a person: its PersonField) and *reason (if not NULL) why, static text
 * for the op's result. Pure: nothing about the store. */
int policy_may_write(int role, const Veille__V1__Mutation *m, unsigned *field,
		     const char **reason);

/* Whether a professional of role may read the territory's activity indicators (stats.c):
 * aggregates, nothing about a person. The SIAO's coordinators and écoutants (the day's
 * activity of the 115 and the orientations they run), superviseurs and administrateurs;
 * nobody else. */
int policy_may_read_stats(int role);

/* Names from the table, for listings (static text; NULL if unknown): a record kind by its
 * RecordVersion record case, one of its fields by number (a person: by PersonField), a
 * relation. */
const char *policy_kind_name(int record_case);
const char *policy_field_name(int record_case, unsigned field);
const char *policy_relation_name(int relation);

/* Prints the table and the classes of every field as Markdown (docs/access-rules.md). */
void policy_print_rules(FILE *f);

#endif
