/* policy: see policy.h. */
#include "policy.h"

#include <string.h>

static int is(const char *a, const char *b)
{
	return a && a[0] && strcmp(a, b) == 0;
}

enum policy_view policy_view(const char *structure_id, int role, int relation,
			     const Veille__Store__V1__RecordVersion *rv)
{
	if (role == VEILLE__V1__ROLE__ROLE_SUPERVISEUR ||
	    role == VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR || role == VEILLE__V1__ROLE__ROLE_UNSPECIFIED)
		return POLICY_NONE;
	switch (rv->record_case) {
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER:
		return is(rv->encounter->team_id, structure_id) ? POLICY_FULL : POLICY_NONE;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON:
		return is(rv->person->team_id, structure_id) ? POLICY_FULL : POLICY_NONE;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_REQUEST:
		if (is(rv->request->requester_id, structure_id))
			return POLICY_FULL;
		if (relation == POLICY_REL_SIAO)
			return POLICY_SHARED;
		if (relation == POLICY_REL_CENTRE)
			return POLICY_DECISION;
		return POLICY_NONE;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_PROPOSAL:
		return is(rv->proposal->siao_id, structure_id) ||
				       is(rv->proposal->centre_id, structure_id) ||
				       is(rv->proposal->request_team_id, structure_id)
			       ? POLICY_FULL
			       : POLICY_NONE;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_DECISION:
		return is(rv->decision->centre_id, structure_id) ||
				       is(rv->decision->siao_id, structure_id) ||
				       is(rv->decision->request_team_id, structure_id)
			       ? POLICY_FULL
			       : POLICY_NONE;
	default:
		return POLICY_NONE;
	}
}

const Veille__V1__Request *policy_request(enum policy_view view, const Veille__V1__Request *in,
					  Veille__V1__Request *buf)
{
	static char empty[] = "";

	if (view == POLICY_FULL)
		return in;
	*buf = *in;
	buf->note = empty; /* TEAM: the requester's working note */
	if (view == POLICY_DECISION) {
		buf->person_id = empty;
		buf->author_id = empty;
	}
	return buf;
}
