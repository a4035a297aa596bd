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

int cli_print_change(const Veille__V1__Change *ch)
{
	printf("{\"seq\":%llu,\"record_id\":", (unsigned long long)ch->seq);
	cli_json_string(ch->record_id);
	printf(",\"version\":%llu", (unsigned long long)ch->version);
	if (ch->record_case == VEILLE__V1__CHANGE__RECORD_ENCOUNTER)
		print_encounter(ch->encounter);
	else if (ch->record_case == VEILLE__V1__CHANGE__RECORD_PERSON)
		print_person(ch->person);
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
