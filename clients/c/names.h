/*
 * names: the short names of the protocol's enums (Need, Service, Role, OpStatus, ErrorCode...),
 * read from the protobuf-c descriptors so that no table here can drift from the .proto files.
 *
 * An enum value NEED_HEALTH_CARE has the short name "HEALTH_CARE": its prefix is what the
 * enum's zero value (NEED_UNSPECIFIED) has before "UNSPECIFIED".
 */
#ifndef VEILLE_NAMES_H
#define VEILLE_NAMES_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/*
 * The short upper-case name of value in d (e.g. "HEALTH_CARE"), or NULL if d has no such
 * value. Points into the descriptor: static storage.
 */
const char *names_short(const ProtobufCEnumDescriptor *d, int value);

/*
 * Writes the short name of value in lower case into out (e.g. "health_care"); a value unknown
 * to d is written as its decimal number. Returns out.
 */
const char *names_lower(const ProtobufCEnumDescriptor *d, int value, char *out, size_t size);

/*
 * Finds the value whose short name is s, ignoring case ("health_care", "HEALTH_CARE"). The zero
 * value (..._UNSPECIFIED) is never matched. Returns 0 and sets *value, or -1 if none matches.
 */
int names_parse(const ProtobufCEnumDescriptor *d, const char *s, int *value);

#endif
