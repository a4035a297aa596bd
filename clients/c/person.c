/*
 * person: merging person profiles (see person.h).
 */
#include "person.h"

#include "hlc.h"

enum person_kind person_field_kind(int field)
{
	switch (field) {
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_GIVEN_NAME:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_FAMILY_NAME:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_SITUATION:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_LANGUAGES:
		return PERSON_TEXT;
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_BIRTH_YEAR:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_ADULTS:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_CHILDREN:
		return PERSON_NUMBER;
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_REDUCED_MOBILITY:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_ANIMAL:
	case VEILLE__V1__PERSON_FIELD__PERSON_FIELD_OBJECTS_TO_SHARING:
		return PERSON_FLAG;
	default:
		return PERSON_UNKNOWN;
	}
}

static int kind_of_value(const Veille__V1__PersonFieldValue *v)
{
	switch (v->value_case) {
	case VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT:
		return v->text ? PERSON_TEXT : PERSON_UNKNOWN;
	case VEILLE__V1__PERSON_FIELD_VALUE__VALUE_NUMBER:
		return PERSON_NUMBER;
	case VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG:
		return PERSON_FLAG;
	default:
		return PERSON_UNKNOWN;
	}
}

const char *person_check_edit(const Veille__V1__Person *p)
{
	unsigned seen = 0;

	if (!p || p->n_fields == 0)
		return "a person edit needs at least one field";
	if (p->n_fields > PERSON_MAX_FIELDS)
		return "a person edit has more than 16 fields";
	for (size_t i = 0; i < p->n_fields; i++) {
		const Veille__V1__PersonFieldValue *v = p->fields[i];
		enum person_kind k;

		if (!v)
			return "a person field is NULL";
		k = person_field_kind((int)v->field);
		if (k == PERSON_UNKNOWN)
			return "unknown person field";
		if (seen & (1u << v->field))
			return "a person field is given twice";
		seen |= 1u << v->field;
		if (v->cleared && v->value_case != VEILLE__V1__PERSON_FIELD_VALUE__VALUE__NOT_SET)
			return "a cleared person field holds a value";
		if (!v->cleared && kind_of_value(v) != (int)k)
			return "a person field's value is not of the field's kind";
	}
	return NULL;
}

/* Index of field in out[0..n), or n. */
static size_t find(Veille__V1__PersonFieldValue *const *out, size_t n, int field)
{
	size_t i;

	for (i = 0; i < n && (int)out[i]->field != field; i++)
		;
	return i;
}

/* Folds p's fields into out; from_b marks b's, whose wins set *changed. */
static size_t fold(const Veille__V1__Person *p, Veille__V1__PersonFieldValue **out, size_t n,
		   int from_b, int *changed)
{
	if (!p)
		return n;
	for (size_t i = 0; i < p->n_fields; i++) {
		Veille__V1__PersonFieldValue *v = p->fields[i];
		size_t at;

		if (!v)
			continue;
		at = find(out, n, (int)v->field);
		if (at == n) {
			if (n == PERSON_MAX_MERGED)
				continue;
			out[n++] = v;
			*changed |= from_b;
		} else if (hlc_compare_pb(v->hlc, out[at]->hlc) > 0) {
			out[at] = v;
			*changed |= from_b;
		}
	}
	return n;
}

size_t person_merge(const Veille__V1__Person *a, const Veille__V1__Person *b,
		    Veille__V1__PersonFieldValue *out[PERSON_MAX_MERGED], int *changed)
{
	size_t n;

	*changed = 0;
	n = fold(a, out, 0, 0, changed);
	n = fold(b, out, n, 1, changed);
	/* Insertion sort by field number: at most PERSON_MAX_MERGED entries. */
	for (size_t i = 1; i < n; i++) {
		Veille__V1__PersonFieldValue *v = out[i];
		size_t j = i;

		for (; j > 0 && out[j - 1]->field > v->field; j--)
			out[j] = out[j - 1];
		out[j] = v;
	}
	return n;
}
