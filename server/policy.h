/* policy: the one place that decides what of a record may leave the server for a recipient.
 *
 * Pure: no I/O. Every path that sends record data (pull today; live push and exports later)
 * calls it per record and per recipient. The rules of this version (docs/orientations.md,
 * "Who sees what"):
 * - encounters and person profiles: the structure that wrote them, in full, nobody else;
 * - a request (demande d'hébergement): the requester's structure in full; the territory's
 *   SIAO while the request is open, without the requester's TEAM note; a centre that received
 *   a proposal for it, until it refuses or the hold expires (and after an admission), its
 *   DECISION fields only (household, constraints, urgency, categories: not the person id,
 *   not the author, not the note);
 * - a proposal or a decision: the SIAO, the centre and the requester's structure it names;
 * - superviseurs, administrateurs (and any unknown role) see no personal record.
 * The relation of a recipient to a request depends on the orientation's state, which the
 * caller reads from the store (orient_request_relation) and passes in. The shared-secrecy
 * table (care circles, DECISION/HEALTH/IDENTITY classes) replaces these rules in a later
 * version; docs/access-rules.md will print it. */
#ifndef VEILLE_POLICY_H
#define VEILLE_POLICY_H

#include "codec.h"

/* What a recipient may receive of a record version. */
enum policy_view {
	POLICY_NONE = 0,     /* nothing */
	POLICY_FULL = 1,     /* every field */
	POLICY_SHARED = 2,   /* a request without its TEAM note (the SIAO) */
	POLICY_DECISION = 3, /* a request's DECISION fields only (a centre) */
};

/* A structure's relation to a request (orient.c reads it from the orientation state). */
enum policy_relation {
	POLICY_REL_NONE = 0,
	POLICY_REL_REQUESTER = 1, /* the structure that made the request */
	POLICY_REL_SIAO = 2,      /* the territory's SIAO, while the request is open */
	POLICY_REL_CENTRE = 3,    /* a centre with a proposal pending, or that admitted */
};

/* What a professional of structure_id with role may receive of rv. relation is the
 * structure's relation to rv when rv is a request (ignored otherwise). */
enum policy_view policy_view(const char *structure_id, int role, int relation,
			     const Veille__Store__V1__RecordVersion *rv);

/* The request as view allows: in itself (FULL), or a copy in buf that borrows in's
 * strings and leaves out what view withholds. */
const Veille__V1__Request *policy_request(enum policy_view view, const Veille__V1__Request *in,
					  Veille__V1__Request *buf);

#endif
