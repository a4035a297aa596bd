/* policy: see policy.h. */
#include "policy.h"

#include <string.h>

int policy_may_see(const char *structure_id, int role, const Veille__Store__V1__RecordVersion *rv)
{
	if (role == VEILLE__V1__ROLE__ROLE_SUPERVISEUR ||
	    role == VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR || role == VEILLE__V1__ROLE__ROLE_UNSPECIFIED)
		return 0;
	switch (rv->record_case) {
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_ENCOUNTER:
		return strcmp(rv->encounter->team_id, structure_id) == 0;
	case VEILLE__STORE__V1__RECORD_VERSION__RECORD_PERSON:
		return strcmp(rv->person->team_id, structure_id) == 0;
	default:
		return 0;
	}
}
