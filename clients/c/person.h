/*
 * person: person profiles as the device holds them (docs/sync.md, "Person profiles").
 *
 * Design: pure functions over the protobuf types, no I/O. A profile is a set of fields, each
 * with its Hlc stamp; two profiles merge field by field, the greater stamp winning (the first
 * profile on a tie: equal stamps are the same edit). The merge is commutative, associative and
 * idempotent, so the device may fold pulled profiles, its own acked edits and its pending ones
 * in any order and holds what the server holds once everything is synced. Fields this client
 * does not know (a newer server's) are merged by the same rule and kept.
 */
#ifndef VEILLE_PERSON_H
#define VEILLE_PERSON_H

#include <stddef.h>

#include "veille/v1/records.pb-c.h"

#define PERSON_MAX_FIELDS 16                     /* per Person (records.proto) */
#define PERSON_MAX_MERGED (2 * PERSON_MAX_FIELDS) /* what a merge of two may hold */

/* The kind of value a field holds. */
enum person_kind { PERSON_UNKNOWN, PERSON_TEXT, PERSON_NUMBER, PERSON_FLAG };
enum person_kind person_field_kind(int field);

/*
 * Checks the Person of a local edit: 1 to PERSON_MAX_FIELDS fields, each a known field at most
 * once, either cleared with no value or holding a value of the field's kind.
 * Returns NULL if fine, else a short English reason (static).
 */
const char *person_check_edit(const Veille__V1__Person *p);

/*
 * Merges b into a, field by field. out: receives pointers to the winning field values (into
 * a's and b's fields: borrowed while they live), in increasing field number; returns their
 * count (<= PERSON_MAX_MERGED). changed: set to whether any of b's values won over a's.
 * a or b may be NULL (an empty profile). Fields past PERSON_MAX_MERGED distinct numbers (only
 * a malformed profile has them) are dropped.
 */
size_t person_merge(const Veille__V1__Person *a, const Veille__V1__Person *b,
		    Veille__V1__PersonFieldValue *out[PERSON_MAX_MERGED], int *changed);

#endif
