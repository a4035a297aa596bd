/* policy: the one place that decides whether a record may leave the server for a recipient.
 *
 * Pure: no I/O. Every path that sends record data (pull today; live push and exports later)
 * calls it per record and per recipient. The rule of this version: a professional sees the
 * records written by their own structure (the team that met the person, or that created the
 * person's profile), and nobody else's.
 * Superviseurs, administrateurs and the préfet's services see no personal records. The
 * shared-secrecy table (care circles, DECISION/HEALTH/IDENTITY classes) replaces this rule in
 * a later version; docs/access-rules.md will print it. */
#ifndef VEILLE_POLICY_H
#define VEILLE_POLICY_H

#include "codec.h"

/* 1 if a professional of structure_id with role may see this record version, else 0. */
int policy_may_see(const char *structure_id, int role,
		   const Veille__Store__V1__RecordVersion *rv);

#endif
