/*
 * cli_json: records as JSON for `veille pull` (one object per line, JSON Lines) and
 * `veille person show`.
 *
 * JSON strings are escaped here (quotes, backslash, control characters as \u00XX); UTF-8 is
 * passed through as is, the server having checked it. Enum values are shown by their short
 * lower-case names, from the protobuf descriptors.
 */
#include <sodium.h>

#include "cli.h"
#include "names.h"
#include "veille/v1/records.pb-c.h"

void cli_json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_names(const char *key, const ProtobufCEnumDescriptor *d, const int *values,
		       size_t n)
{
	char name[64];
	size_t i;

	printf(",\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		cli_json_string(names_lower(d, values[i], name, sizeof name));
	}
	putchar(']');
}

static void print_encounter(const Veille__V1__Encounter *e)
{
	const Veille__V1__Location *loc = e->location;

	printf(",\"kind\":\"encounter\",\"person_id\":");
	cli_json_string(e->person_id);
	printf(",\"team_id\":");
	cli_json_string(e->team_id);
	printf(",\"author_id\":");
	cli_json_string(e->author_id);
	printf(",\"occurred_at_ms\":%lld,\"area\":", (long long)e->occurred_at_ms);
	cli_json_string(loc ? loc->area : "");
	printf(",\"geohash\":");
	cli_json_string(loc ? loc->geohash : "");
	/* protobuf-c stores enum arrays as int-sized enums: read them as int. */
	json_names("needs", &veille__v1__need__descriptor, (const int *)e->needs, e->n_needs);
	json_names("services", &veille__v1__service__descriptor, (const int *)e->services,
		   e->n_services);
	printf(",\"note\":");
	cli_json_string(e->note);
	printf(",\"health_note\":");
	cli_json_string(e->health_note);
}

/* "fields":{"nickname":{"value":"Jo","wall_ms":1,"counter":0,"device_id":"..."},...} */
static void print_fields(const Veille__V1__Person *p)
{
	char name[64], hex[2 * 16 + 1];
	size_t i;

	printf(",\"fields\":{");
	for (i = 0; p && i < p->n_fields; i++) {
		const Veille__V1__PersonFieldValue *v = p->fields[i];
		const Veille__V1__Hlc *h = v->hlc;

		if (i)
			putchar(',');
		cli_json_string(names_lower(&veille__v1__person_field__descriptor, (int)v->field,
					    name, sizeof name));
		printf(":{\"value\":");
		if (v->cleared || v->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE__NOT_SET)
			printf("null");
		else if (v->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT)
			cli_json_string(v->text);
		else if (v->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE_NUMBER)
			printf("%lld", (long long)v->number);
		else
			printf("%s", v->flag ? "true" : "false");
		if (v->cleared)
			printf(",\"cleared\":true");
		hex[0] = '\0';
		if (h && h->device_id.len <= 16)
			sodium_bin2hex(hex, sizeof hex, h->device_id.data, h->device_id.len);
		printf(",\"wall_ms\":%llu,\"counter\":%u,\"device_id\":\"%s\"}",
		       (unsigned long long)(h ? h->wall_ms : 0), (unsigned)(h ? h->counter : 0),
		       hex);
	}
	putchar('}');
}

static void print_person(const Veille__V1__Person *p)
{
	printf(",\"kind\":\"person\",\"team_id\":");
	cli_json_string(p ? p->team_id : "");
	print_fields(p);
}

/* ,"name":"lower_case_value" */
static void json_enum(const char *key, const ProtobufCEnumDescriptor *d, int value)
{
	char name[64];

	printf(",\"%s\":", key);
	cli_json_string(names_lower(d, value, name, sizeof name));
}

static void json_str(const char *key, const char *value)
{
	printf(",\"%s\":", key);
	cli_json_string(value);
}

static void print_request(const Veille__V1__Request *q)
{
	printf(",\"kind\":\"request\"");
	json_str("person_id", q->person_id);
	json_str("requester_id", q->requester_id);
	json_str("requester_name", q->requester_name); /* "" if stored before it existed */
	json_str("author_id", q->author_id);
	printf(",\"household_adults\":%u,\"household_children\":%u", q->household_adults,
	       q->household_children);
	printf(",\"reduced_mobility\":%s,\"animal\":%s", q->reduced_mobility ? "true" : "false",
	       q->animal ? "true" : "false");
	json_str("languages", q->languages);
	json_enum("urgency", &veille__v1__urgency__descriptor, q->urgency);
	json_names("categories", &veille__v1__place_category__descriptor,
		   (const int *)q->categories, q->n_categories);
	json_str("note", q->note);
	json_str("territory", q->territory);
	printf(",\"withdrawn\":%s,\"requested_at_ms\":%llu", q->withdrawn ? "true" : "false",
	       (unsigned long long)q->requested_at_ms);
}

static void print_proposal(const Veille__V1__Proposal *p)
{
	printf(",\"kind\":\"proposal\"");
	json_str("request_id", p->request_id);
	json_str("centre_id", p->centre_id);
	json_enum("category", &veille__v1__place_category__descriptor, p->category);
	json_str("siao_id", p->siao_id);
	json_str("author_id", p->author_id);
	printf(",\"hold_until_ms\":%llu", (unsigned long long)p->hold_until_ms);
	json_enum("status", &veille__v1__proposal_status__descriptor, p->status);
}

static void print_decision(const Veille__V1__Decision *d)
{
	char name[64];

	printf(",\"kind\":\"decision\"");
	json_enum("decision", &veille__v1__decision_kind__descriptor, d->kind);
	json_str("proposal_id", d->proposal_id);
	json_str("request_id", d->request_id);
	json_str("centre_id", d->centre_id);
	json_str("centre_name", d->centre_name);
	json_enum("category", &veille__v1__place_category__descriptor, d->category);
	if (d->motive)
		json_enum("motive", &veille__v1__refusal_motive__descriptor, d->motive);
	json_str("motive_text", d->motive_text);
	printf(",\"start_ms\":%llu,\"end_ms\":%llu,\"decided_at_ms\":%llu",
	       (unsigned long long)d->start_ms, (unsigned long long)d->end_ms,
	       (unsigned long long)d->decided_at_ms);
	printf(",\"extension_requested\":%s,\"extension_deemed_accepted\":%s",
	       d->extension_requested ? "true" : "false",
	       d->extension_deemed_accepted ? "true" : "false");
	printf(",\"reminders\":[");
	for (size_t i = 0; i < d->n_reminders; i++) {
		printf("%s{\"kind\":", i ? "," : "");
		cli_json_string(names_lower(&veille__v1__reminder_kind__descriptor,
					    (int)d->reminders[i]->kind, name, sizeof name));
		printf(",\"due_ms\":%llu}", (unsigned long long)d->reminders[i]->due_ms);
	}
	putchar(']');
}

int cli_print_change(const Veille__V1__Change *ch)
{
	printf("{\"seq\":%llu,\"record_id\":", (unsigned long long)ch->seq);
	cli_json_string(ch->record_id);
	printf(",\"version\":%llu", (unsigned long long)ch->version);
	if (ch->record_case == VEILLE__V1__CHANGE__RECORD_ENCOUNTER)
		print_encounter(ch->encounter);
	else if (ch->record_case == VEILLE__V1__CHANGE__RECORD_PERSON)
		print_person(ch->person);
	else if (ch->record_case == VEILLE__V1__CHANGE__RECORD_REQUEST)
		print_request(ch->request);
	else if (ch->record_case == VEILLE__V1__CHANGE__RECORD_PROPOSAL)
		print_proposal(ch->proposal);
	else if (ch->record_case == VEILLE__V1__CHANGE__RECORD_DECISION)
		print_decision(ch->decision);
	else if (ch->withdrawn)
		printf(",\"withdrawn\":true"); /* no longer this device's: dropped */
	else
		printf(",\"kind\":\"unknown\""); /* a record kind newer than this client */
	printf("}\n");
	return ferror(stdout) ? -1 : 0;
}

int cli_print_person(const char *person_id, const Veille__V1__Change *ch, size_t pending)
{
	printf("{\"person_id\":");
	cli_json_string(person_id);
	printf(",\"version\":%llu,\"pending_ops\":%zu,\"team_id\":",
	       (unsigned long long)ch->version, pending);
	cli_json_string(ch->person ? ch->person->team_id : "");
	print_fields(ch->person);
	printf("}\n");
	return fflush(stdout) != 0 || ferror(stdout) ? -1 : 0;
}
