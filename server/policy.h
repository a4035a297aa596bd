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
 * The relation is the recipient's structure's relation to the record: its author, the SIAO of
 * an open request, a centre with a proposal pending or that admitted, or a party named by a
 * proposal or decision. The relation to a request depends on the orientation's state, which
 * the caller reads from the store (orient_request_relation) and passes in. Role gates come
 * before the table: superviseurs, administrateurs and unknown roles receive no personal
 * record; HEALTH fields go to professionnels de santé only. */
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
	POLICY__RELATIONS
};

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

/* Projects rv for a professional of structure_id with role: returns 1 and fills out with the
 * fields the table lets through, or 0 if nothing of rv may leave for them. request_relation
 * is the relation the orientation state gives the structure to rv when rv is a request
 * (POLICY_REL_SIAO, _CENTRE or _NONE); ignored otherwise (the relation is then read from the
 * record: its author, the parties it names). */
int policy_project(const char *structure_id, int role, int request_relation,
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
 * policy_project returns 1 (g lists what it kept), 0 otherwise. */
int policy_grant(const char *structure_id, int role, int request_relation,
		 const Veille__Store__V1__RecordVersion *rv, struct policy_grant *g);

/* Names from the table, for listings (static text; NULL if unknown): a record kind by its
 * RecordVersion record case, one of its fields by number (a person: by PersonField), a
 * relation. */
const char *policy_kind_name(int record_case);
const char *policy_field_name(int record_case, unsigned field);
const char *policy_relation_name(int relation);

/* Prints the table and the classes of every field as Markdown (docs/access-rules.md). */
void policy_print_rules(FILE *f);

#endif
