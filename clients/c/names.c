/*
 * names: enum short names from protobuf-c descriptors (see names.h).
 */
#include "names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "veille.h"
#include "veille/v1/error.pb-c.h"

/* Length of the prefix shared by d's names, taken from its zero value "<PREFIX>UNSPECIFIED". */
static size_t prefix_len(const ProtobufCEnumDescriptor *d)
{
	static const char suffix[] = "UNSPECIFIED";
	const ProtobufCEnumValue *zero = protobuf_c_enum_descriptor_get_value(d, 0);
	size_t n;

	if (!zero)
		return 0;
	n = strlen(zero->name);
	if (n < sizeof suffix - 1 || strcmp(zero->name + n - (sizeof suffix - 1), suffix) != 0)
		return 0;
	return n - (sizeof suffix - 1);
}

const char *names_short(const ProtobufCEnumDescriptor *d, int value)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);

	return v ? v->name + prefix_len(d) : NULL;
}

const char *names_lower(const ProtobufCEnumDescriptor *d, int value, char *out, size_t size)
{
	const char *s = names_short(d, value);
	size_t i;

	if (size == 0)
		return out;
	if (!s) {
		snprintf(out, size, "%d", value);
		return out;
	}
	for (i = 0; s[i] && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
	return out;
}

int names_parse(const ProtobufCEnumDescriptor *d, const char *s, int *value)
{
	size_t skip = prefix_len(d);
	unsigned i;

	for (i = 0; i < d->n_values; i++) {
		if (d->values[i].value == 0)
			continue;
		if (strcasecmp(d->values[i].name + skip, s) == 0) {
			*value = d->values[i].value;
			return 0;
		}
	}
	return -1;
}

const char *veille_error_code_name(int code)
{
	const char *s = names_short(&veille__v1__error_code__descriptor, code);

	return s ? s : "UNKNOWN";
}
