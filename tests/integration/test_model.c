/*
 * Integration: the whole access table (docs/access-rules.md, docs/orientations.md) against a
 * small reference model written here, independently of server/policy.c (issue 5).
 *
 * What it sends: random but valid scenarios, drawn from a seeded PRNG, against a real veilled
 * (--hold-seconds 4) with real enrolled devices: two territories (75, 93), each with a SIAO,
 * one or two maraudes or accueils de jour, one or two CHRS/CHU with capacities and declared
 * vacancies; professionals of every role (superviseur and administrateur included). Steps:
 * person profiles (fields of every class, sometimes objects_to_sharing), encounters (note,
 * needs, services, location, a health note from health professionals) and their corrections,
 * requests (with a household, sometimes a note) and their withdrawal, proposals by the SIAO,
 * decisions (admission for a stay that ends within the test or months later, refusal with
 * motive and text, emergency admission, sometimes of a person of the other territory), an
 * objection set or lifted, a device or a professional revoked (`veillectl device revoke` /
 * `professional revoke`), waits for holds and short stays to end. No bad input: every op
 * must be APPLIED (a rejection fails the test, naming the op), except the revoked device's
 * pulls, which must fail (VEILLE_EREVOKED at the latest on reconnection).
 *
 * What it checks, at checkpoints: for every active professional, (1) a pull from cursor 0,
 * folded in sequence order (a change replaces what is held of its record, a withdrawn change
 * drops it), and (2) the device's previous fold moved on by an incremental pull from its
 * previous cursor, are each exactly the model's projection: the same set of records, each at
 * its latest version, each field equal to the model's value when the viewer may receive its
 * class and empty (protobuf default) otherwise. (2) is what a device holds: a record the
 * model says was lost must have come as a withdrawn change, a record whose projection shrank
 * must have come again.
 *
 * The model (model_* below) is the docs in code: classes of every field, relations from the
 * care circle and the orientation state, the role filter (superviseur, administrateur: nothing;
 * HEALTH: professionnels de santé only), territories as tenants for requests. Checkpoints are
 * taken only when no hold or short stay ends near them (the server's sweep runs once a second):
 * see settle().
 *
 * Seeds: VEILLE_MODEL_SEED (decimal or 0x hex) runs that one scenario; otherwise three fixed
 * seeds. The seed draws the world, the steps and the record ids; which holds are still open
 * when a decision is drawn depends on timing, so a replay may differ after such a step.
 * VEILLE_MODEL_STEPS changes the number of steps (default 40); VEILLE_MODEL_TRACE=1 prints each
 * step. A failure prints the seed and every mismatch (checkpoint, professional, record, field,
 * expected, got), and whether a withdrawn change came for the record.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define ST(x) VEILLE__V1__OP_STATUS__OP_STATUS_##x
#define KIND(x) VEILLE__V1__DECISION_KIND__DECISION_KIND_##x
#define HOLD_SECONDS 4
#define DEFAULT_STEPS 40
#define CHECK_EVERY 8
#define MAX_DEFER 8 /* steps a due checkpoint may wait for a safe moment */

/* Timing of checkpoints (ms): a checkpoint is valid if no deadline (hold end, stay end) falls
 * within [start - SETTLE, start + AHEAD]; the sweep runs once a second. */
#define AHEAD_MS 1000
#define SETTLE_MS 2500
#define DECIDE_MARGIN_MS 1500 /* a decision is pushed only this long before the hold's end */
#define SHORT_STAY_MS 3000    /* short stays: 3 to 6 s */

#define MAX_STRUCT 10
#define MAX_PRO 16
#define MAX_PERSON 48
#define MAX_ENC 96
#define MAX_REQ 32
#define MAX_PROP 32
#define MAX_DEC 32
#define MAX_REVOKED 2
#define MAX_REPORTED 40 /* mismatches printed in full per scenario */

/* Sharing classes (docs/access-rules.md). */
#define C_OP 1u
#define C_ID 2u
#define C_DEC 4u
#define C_TEAM 8u
#define C_HEALTH 16u
#define C_ALL (C_OP | C_ID | C_DEC | C_TEAM | C_HEALTH)

/* ---- a seeded PRNG (splitmix64) ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- text buffers ---- */

struct sb {
	char *p;
	size_t n, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		va_start(ap, fmt);
		k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		assert_true(k >= 0);
		if (b->p && b->n + (size_t)k < b->cap)
			break;
		b->cap = (b->cap + (size_t)k + 256) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	b->n += (size_t)k;
}

/* Expected-value patterns: an exact value, or one of these (first byte \x01). */
#define PAT_SET "\x01" "SET"  /* any non-default value (server-set: a time, a list) */
#define PAT_ANY "\x01" "ANY"  /* anything, default included */
#define PAT_EITHER "\x01" "EITHER:" /* PAT_EITHER "a" "\x1f" "b": one of the two */

/* One line "name=value": the value when visible, else the protobuf default. */
static void want_s(struct sb *b, const char *name, int visible, const char *value)
{
	sb_printf(b, "%s=%s\n", name, visible ? value : "");
}

static void want_u(struct sb *b, const char *name, int visible, uint64_t value)
{
	sb_printf(b, "%s=%" PRIu64 "\n", name, visible ? value : 0);
}

static void want_pat(struct sb *b, const char *name, int visible, const char *pattern)
{
	sb_printf(b, "%s=%s\n", name, visible ? pattern : "0");
}

/* As want_pat, for a string field whose default is "". */
static void want_pat_s(struct sb *b, const char *name, int visible, const char *pattern)
{
	sb_printf(b, "%s=%s\n", name, visible ? pattern : "");
}

/* ---- what a device holds: record id -> rendered latest change ---- */

struct view {
	char id[33];
	char *text;
};

struct views {
	struct view *v;
	size_t n, cap;
};

static struct view *views_find(const struct views *vs, const char *id)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].id, id))
			return &vs->v[i];
	return NULL;
}

/* Stores text (taken) under id, replacing what was there. */
static void views_put(struct views *vs, const char *id, char *text)
{
	struct view *v = views_find(vs, id);

	if (v) {
		free(v->text);
		v->text = text;
		return;
	}
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? vs->cap * 2 : 64;
		vs->v = realloc(vs->v, vs->cap * sizeof *vs->v);
		assert_non_null(vs->v);
	}
	v = &vs->v[vs->n++];
	snprintf(v->id, sizeof v->id, "%s", id);
	v->text = text;
}

static void views_del(struct views *vs, const char *id)
{
	struct view *v = views_find(vs, id);

	if (!v)
		return;
	free(v->text);
	*v = vs->v[--vs->n];
}

static void views_free(struct views *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		free(vs->v[i].text);
	free(vs->v);
	memset(vs, 0, sizeof *vs);
}

/* ---- rendering a received change, field by field ---- */

static const char *const person_field_names[] = {
	"", "given_name", "family_name", "nickname", "birth_year", "household_adults",
	"household_children", "reduced_mobility", "animal", "situation", "languages",
	"objects_to_sharing",
};
#define N_PERSON_FIELDS 11

static void render_enums(struct sb *b, const char *name, const int *v, size_t n)
{
	sb_printf(b, "%s=", name);
	for (size_t i = 0; i < n; i++)
		sb_printf(b, "%s%d", i ? "," : "", v[i]);
	sb_printf(b, "\n");
}

static void render_encounter(struct sb *b, const Veille__V1__Encounter *e)
{
	sb_printf(b, "kind=encounter\nperson_id=%s\nteam_id=%s\nauthor_id=%s\noccurred_at_ms=%" PRId64
		  "\n", e->person_id, e->team_id, e->author_id, e->occurred_at_ms);
	sb_printf(b, "location.area=%s\nlocation.geohash=%s\n", e->location ? e->location->area : "",
		  e->location ? e->location->geohash : "");
	render_enums(b, "needs", (const int *)e->needs, e->n_needs);
	render_enums(b, "services", (const int *)e->services, e->n_services);
	sb_printf(b, "note=%s\nhealth_note=%s\n", e->note, e->health_note);
}

static void render_person(struct sb *b, const Veille__V1__Person *p)
{
	sb_printf(b, "kind=person\nteam_id=%s\n", p->team_id);
	for (int f = 1; f <= N_PERSON_FIELDS; f++) {
		const Veille__V1__PersonFieldValue *v = NULL;
		int count = 0;

		for (size_t i = 0; i < p->n_fields; i++)
			if ((int)p->fields[i]->field == f) {
				v = p->fields[i];
				count++;
			}
		sb_printf(b, "%s=", person_field_names[f]);
		if (count > 1)
			sb_printf(b, "DUPLICATED");
		else if (v) {
			if (v->cleared)
				sb_printf(b, "cleared");
			else if (v->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT)
				sb_printf(b, "t:%s", v->text);
			else if (v->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE_NUMBER)
				sb_printf(b, "n:%" PRId64, v->number);
			else if (v->value_case == VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG)
				sb_printf(b, "f:%d", (int)v->flag);
			else
				sb_printf(b, "none");
			sb_printf(b, "@");
			if (v->hlc) {
				sb_printf(b, "%" PRIu64 "/%u/", v->hlc->wall_ms, v->hlc->counter);
				for (size_t k = 0; k < v->hlc->device_id.len; k++)
					sb_printf(b, "%02x", v->hlc->device_id.data[k]);
			}
		}
		sb_printf(b, "\n");
	}
	for (size_t i = 0; i < p->n_fields; i++)
		if (p->fields[i]->field < 1 || p->fields[i]->field > N_PERSON_FIELDS)
			sb_printf(b, "unknown_field=%d\n", (int)p->fields[i]->field);
}

static void render_request(struct sb *b, const Veille__V1__Request *q)
{
	sb_printf(b, "kind=request\nperson_id=%s\nrequester_id=%s\nauthor_id=%s\n", q->person_id,
		  q->requester_id, q->author_id);
	sb_printf(b, "household_adults=%u\nhousehold_children=%u\nreduced_mobility=%d\nanimal=%d\n",
		  q->household_adults, q->household_children, (int)q->reduced_mobility,
		  (int)q->animal);
	sb_printf(b, "languages=%s\nurgency=%d\n", q->languages, (int)q->urgency);
	render_enums(b, "categories", (const int *)q->categories, q->n_categories);
	sb_printf(b, "note=%s\nterritory=%s\nwithdrawn=%d\nrequested_at_ms=%" PRIu64 "\n", q->note,
		  q->territory, (int)q->withdrawn, q->requested_at_ms);
	sb_printf(b, "requester_name=%s\n", q->requester_name);
}

static void render_proposal(struct sb *b, const Veille__V1__Proposal *p)
{
	sb_printf(b, "kind=proposal\nrequest_id=%s\ncentre_id=%s\ncategory=%d\nsiao_id=%s\n",
		  p->request_id, p->centre_id, (int)p->category, p->siao_id);
	sb_printf(b, "author_id=%s\nhold_until_ms=%" PRIu64 "\nstatus=%d\nrequest_team_id=%s\n",
		  p->author_id, p->hold_until_ms, (int)p->status, p->request_team_id);
	sb_printf(b, "request_team_name=%s\n", p->request_team_name);
}

static void render_decision(struct sb *b, const Veille__V1__Decision *d)
{
	sb_printf(b, "kind=decision\nproposal_id=%s\ndecision_kind=%d\nmotive=%d\nmotive_text=%s\n",
		  d->proposal_id, (int)d->kind, (int)d->motive, d->motive_text);
	sb_printf(b, "start_ms=%" PRIu64 "\nend_ms=%" PRIu64 "\nperson_id=%s\ncategory=%d\n",
		  d->start_ms, d->end_ms, d->person_id, (int)d->category);
	sb_printf(b, "extension_requested=%d\nextension_motive=%s\ncentre_id=%s\nauthor_id=%s\n",
		  (int)d->extension_requested, d->extension_motive, d->centre_id, d->author_id);
	sb_printf(b, "request_id=%s\nsiao_id=%s\nrequest_team_id=%s\ndecided_at_ms=%" PRIu64 "\n",
		  d->request_id, d->siao_id, d->request_team_id, d->decided_at_ms);
	sb_printf(b, "extension_requested_at_ms=%" PRIu64 "\nextension_deemed_accepted=%d\n",
		  d->extension_requested_at_ms, (int)d->extension_deemed_accepted);
	sb_printf(b, "reminders=%zu\n", d->n_reminders);
	sb_printf(b, "centre_name=%s\nrequest_team_name=%s\n", d->centre_name,
		  d->request_team_name);
}

/* The change as lines "name=value", its version first. Caller frees. */
static char *render_change(const Veille__V1__Change *ch)
{
	struct sb b = {0};

	sb_printf(&b, "version=%" PRIu64 "\n", ch->version);
	switch (ch->record_case) {
	case VEILLE__V1__CHANGE__RECORD_ENCOUNTER: render_encounter(&b, ch->encounter); break;
	case VEILLE__V1__CHANGE__RECORD_PERSON: render_person(&b, ch->person); break;
	case VEILLE__V1__CHANGE__RECORD_REQUEST: render_request(&b, ch->request); break;
	case VEILLE__V1__CHANGE__RECORD_PROPOSAL: render_proposal(&b, ch->proposal); break;
	case VEILLE__V1__CHANGE__RECORD_DECISION: render_decision(&b, ch->decision); break;
	default: sb_printf(&b, "kind=none\n"); break;
	}
	return b.p;
}

/* ---- the world and the model's state ---- */

struct structure {
	char id[24];
	char name[48]; /* its display name in the directory (not its id) */
	const char *kind;
	const char *territory;
	int siao, centre;
	unsigned cats; /* bit c: the centre has capacity in PlaceCategory c */
};

struct pro {
	const char *role;
	int s;
	char name[48];
	struct hx_device dev;
	int enrolled, active;
	struct views mirror; /* what the device holds: its folds of incremental pulls */
	uint64_t cursor;
};

struct pfield {
	int set;
	char text[48];
	int64_t number;
	int flag;
	uint64_t wall;
	uint32_t counter;
	int pro; /* whose device stamped it */
};

struct person {
	char id[33];
	int creator; /* structure holding the profile, -1: no profile */
	uint64_t version;
	struct pfield f[N_PERSON_FIELDS + 1];
};

struct encounter {
	char id[33];
	int person, team, author;
	uint64_t version;
	int64_t occurred;
	char area[24], geohash[8];
	int needs[3], services[2];
	size_t n_needs, n_services;
	char note[64], health[64];
};

struct request {
	char id[33];
	int person, team, author;
	uint64_t version;
	unsigned adults, children;
	int reduced, animal, urgency;
	char languages[32];
	int cats[2];
	size_t n_cats;
	char note[64];
	int withdrawn, admitted; /* closed by a withdrawal, or by an admission */
};

struct proposal {
	char id[33];
	int request, centre, category, siao, author;
	uint64_t hold_lo, hold_hi; /* the hold's end lies within [hold_lo, hold_hi] */
	int decided;
};

struct decision {
	char id[33];
	int kind, proposal, request, centre, siao, author, person, category, motive;
	char text[64];
	uint64_t start_lo, end; /* stay: from the push (start 0: now) to end */
};

struct world {
	uint64_t seed, rng;
	int steps;
	struct hx_env *e;
	struct structure s[MAX_STRUCT];
	int ns;
	struct pro p[MAX_PRO];
	int np;
	struct person per[MAX_PERSON];
	int nper;
	struct encounter enc[MAX_ENC];
	int nenc;
	struct request req[MAX_REQ];
	int nreq;
	struct proposal prop[MAX_PROP];
	int nprop;
	struct decision dec[MAX_DEC];
	int ndec;
	uint32_t hlc_counter;
	unsigned text_seq;
	int revoked, step, checkpoint;
	unsigned mismatches, reported;
	unsigned stat[16]; /* steps done, by kind (for the summary) */
};

static unsigned rnd(struct world *w, unsigned n)
{
	return n ? (unsigned)(rng_next(&w->rng) % n) : 0;
}

static int chance(struct world *w, unsigned pct)
{
	return rnd(w, 100) < pct;
}

static int tracing(void)
{
	const char *t = getenv("VEILLE_MODEL_TRACE");

	return t && *t && strcmp(t, "0") != 0;
}

/* With VEILLE_MODEL_TRACE=1, one line per step done (to follow a replayed seed). */
static void trace(const struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(const struct world *w, const char *fmt, ...)
{
	va_list ap;

	if (!tracing())
		return;
	fprintf(stderr, "  step %d t=%" PRIu64 ": ", w->step, hx_now_ms() % 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static int role_is(const struct pro *p, const char *role)
{
	return !strcmp(p->role, role);
}

/* Roles that write encounters and profiles in these scenarios. */
static int writes_records(const struct pro *p)
{
	return role_is(p, "maraudeur") || role_is(p, "accueillant") || role_is(p, "ecoutant_115") ||
	       role_is(p, "travailleur_social") || role_is(p, "professionnel_sante");
}

/* Roles allowed to make a request (docs/orientations.md). */
static int makes_requests(const struct pro *p)
{
	return role_is(p, "maraudeur") || role_is(p, "accueillant") || role_is(p, "ecoutant_115") ||
	       role_is(p, "coordinateur_siao") || role_is(p, "travailleur_social");
}

static const char *pro_id(const struct world *w, int i)
{
	return w->p[i].dev.professional_id;
}

static const char *territory_of(const struct world *w, int s)
{
	return w->s[s].territory;
}

static int siao_of(const struct world *w, const char *territory)
{
	for (int i = 0; i < w->ns; i++)
		if (w->s[i].siao && !strcmp(w->s[i].territory, territory))
			return i;
	return -1;
}

/* A random active professional satisfying ok(w, i, arg), or -1. */
static int pick_pro(struct world *w, int (*ok)(const struct world *, int, const void *),
		    const void *arg)
{
	int cand[MAX_PRO], n = 0;

	for (int i = 0; i < w->np; i++)
		if (w->p[i].active && ok(w, i, arg))
			cand[n++] = i;
	return n ? cand[rnd(w, (unsigned)n)] : -1;
}

static int ok_writer(const struct world *w, int i, const void *arg)
{
	(void)arg;
	return writes_records(&w->p[i]);
}

static int ok_writer_of(const struct world *w, int i, const void *arg)
{
	return writes_records(&w->p[i]) && w->p[i].s == *(const int *)arg;
}

static int ok_requester(const struct world *w, int i, const void *arg)
{
	(void)arg;
	return makes_requests(&w->p[i]);
}

static int ok_requester_of(const struct world *w, int i, const void *arg)
{
	return makes_requests(&w->p[i]) && w->p[i].s == *(const int *)arg;
}

static int ok_role_of(const struct world *w, int i, const void *arg)
{
	const struct {
		const char *role;
		int s;
	} *want = arg;

	return role_is(&w->p[i], want->role) && w->p[i].s == want->s;
}

static int ok_role(const struct world *w, int i, const void *arg)
{
	return role_is(&w->p[i], (const char *)arg);
}

static int pro_of_role(struct world *w, const char *role, int s)
{
	const struct {
		const char *role;
		int s;
	} want = {role, s};

	return pick_pro(w, ok_role_of, &want);
}

/* ---- the reference model (the docs, in code) ---- */

/* The profile's objects_to_sharing flag (docs/access-rules.md). */
static int model_objects(const struct world *w, int person)
{
	const struct pfield *f = &w->per[person].f[11];

	return f->set && f->flag;
}

/* Whether centre s admitted the person for a stay running at t (admission or emergency). */
static int model_in_stay(const struct world *w, int s, int person, uint64_t t)
{
	for (int i = 0; i < w->ndec; i++) {
		const struct decision *d = &w->dec[i];

		if (d->kind != KIND(REFUSAL) && d->centre == s && d->person == person &&
		    d->start_lo <= t && t < d->end)
			return 1;
	}
	return 0;
}

/* The care circle's "admitted" relation: the stay runs and the person does not object. */
static int model_has_file(const struct world *w, int s, int person, uint64_t t)
{
	return model_in_stay(w, s, person, t) && !model_objects(w, person);
}

/* Holds are settled at checkpoints: t is either after the hold's latest end or before its
 * earliest. */
static int model_pending(const struct proposal *p, uint64_t t)
{
	return !p->decided && t < p->hold_lo;
}

static int model_expired(const struct proposal *p, uint64_t t)
{
	return !p->decided && t > p->hold_hi;
}

static const struct decision *decision_on(const struct world *w, int proposal)
{
	for (int i = 0; i < w->ndec; i++)
		if (w->dec[i].proposal == proposal)
			return &w->dec[i];
	return NULL;
}

static int model_request_open(const struct request *q)
{
	return !q->withdrawn && !q->admitted;
}

/* "centre (proposal pending, or admitted)": until it refuses, the hold ends, or the stay ends. */
static int model_centre_of_request(const struct world *w, int s, int r, uint64_t t)
{
	for (int i = 0; i < w->nprop; i++) {
		const struct proposal *p = &w->prop[i];
		const struct decision *d;

		if (p->request != r || p->centre != s)
			continue;
		if (model_pending(p, t))
			return 1;
		d = decision_on(w, i);
		if (d && d->kind == KIND(ADMISSION) && d->start_lo <= t && t < d->end)
			return 1;
	}
	return 0;
}

static unsigned model_encounter_classes(const struct world *w, int s, int i, uint64_t t)
{
	const struct encounter *e = &w->enc[i];

	/* The admitting centre: the file as written in its own département (tenants). */
	if (e->team == s || (!strcmp(territory_of(w, s), territory_of(w, e->team)) &&
			     model_has_file(w, s, e->person, t)))
		return C_ALL;
	return 0;
}

static unsigned model_person_classes(const struct world *w, int s, int i, uint64_t t)
{
	const struct person *p = &w->per[i];

	if (p->creator < 0)
		return 0;
	if (p->creator == s || (!strcmp(territory_of(w, s), territory_of(w, p->creator)) &&
				model_has_file(w, s, i, t)))
		return C_ALL;
	return 0;
}

static unsigned model_request_classes(const struct world *w, int s, int r, uint64_t t)
{
	const struct request *q = &w->req[r];
	unsigned c = 0;

	if (q->team == s)
		c |= C_OP | C_ID | C_DEC | C_TEAM;
	/* Territories are tenants: nothing of a request reaches another département. */
	if (strcmp(territory_of(w, s), territory_of(w, q->team)) != 0)
		return c;
	if (w->s[s].siao && model_request_open(q))
		c |= C_OP | C_ID | C_DEC;
	if (model_centre_of_request(w, s, r, t))
		c |= C_OP | C_DEC;
	if (model_has_file(w, s, q->person, t))
		c |= C_OP | C_ID | C_DEC | C_TEAM;
	return c;
}

static unsigned model_proposal_classes(const struct world *w, int s, int i)
{
	const struct proposal *p = &w->prop[i];

	return s == p->siao || s == p->centre || s == w->req[p->request].team ? C_OP : 0;
}

static unsigned model_decision_classes(const struct world *w, int s, int i)
{
	const struct decision *d = &w->dec[i];

	if (s == d->centre || s == d->siao || (d->request >= 0 && s == w->req[d->request].team))
		return C_OP | C_ID | C_DEC;
	return 0;
}

/* The role filter, after the relations: supervision roles get no personal record, HEALTH
 * goes to health professionals only. */
static unsigned model_role_filter(const struct pro *p, unsigned c)
{
	if (role_is(p, "superviseur") || role_is(p, "administrateur"))
		return 0;
	if (!role_is(p, "professionnel_sante"))
		c &= ~C_HEALTH;
	return c;
}

/* ---- the model's projection of each record, as lines in render_*'s order ---- */

static void expect_encounter(struct sb *b, const struct world *w, const struct encounter *e,
			     unsigned c)
{
	char v[64];
	int ints[3];

	sb_printf(b, "version=%" PRIu64 "\nkind=encounter\n", e->version);
	want_s(b, "person_id", c & C_ID, w->per[e->person].id);
	want_s(b, "team_id", c & C_OP, w->s[e->team].id);
	want_s(b, "author_id", c & C_OP, pro_id(w, e->author));
	snprintf(v, sizeof v, "%" PRId64, e->occurred);
	sb_printf(b, "occurred_at_ms=%s\n", c & C_OP ? v : "0");
	want_s(b, "location.area", c & C_TEAM, e->area);
	want_s(b, "location.geohash", c & C_TEAM, e->geohash);
	render_enums(b, "needs", e->needs, c & C_DEC ? e->n_needs : 0);
	for (size_t i = 0; i < e->n_services; i++)
		ints[i] = e->services[i];
	render_enums(b, "services", ints, c & C_TEAM ? e->n_services : 0);
	want_s(b, "note", c & C_TEAM, e->note);
	want_s(b, "health_note", c & C_HEALTH, e->health);
}

/* The class of each person field (docs/access-rules.md, "The sharing class of every field"). */
static unsigned person_field_class(int f)
{
	if (f >= 1 && f <= 4)
		return C_ID;
	if (f == 9 || f == 11)
		return C_TEAM;
	return C_DEC;
}

static char person_field_kind(int f)
{
	if (f == 4 || f == 5 || f == 6)
		return 'n';
	if (f == 7 || f == 8 || f == 11)
		return 'f';
	return 't';
}

static void expect_person(struct sb *b, const struct world *w, const struct person *p, unsigned c)
{
	sb_printf(b, "version=%" PRIu64 "\nkind=person\n", p->version);
	want_s(b, "team_id", c & C_OP, w->s[p->creator].id);
	for (int f = 1; f <= N_PERSON_FIELDS; f++) {
		const struct pfield *v = &p->f[f];

		sb_printf(b, "%s=", person_field_names[f]);
		if (v->set && (c & person_field_class(f))) {
			char k = person_field_kind(f);

			if (k == 't')
				sb_printf(b, "t:%s", v->text);
			else if (k == 'n')
				sb_printf(b, "n:%" PRId64, v->number);
			else
				sb_printf(b, "f:%d", v->flag);
			sb_printf(b, "@%" PRIu64 "/%u/%s", v->wall, v->counter,
				  w->p[v->pro].dev.device_hex);
		}
		sb_printf(b, "\n");
	}
}

static void expect_request(struct sb *b, const struct world *w, const struct request *q,
			   unsigned c)
{
	sb_printf(b, "version=%" PRIu64 "\nkind=request\n", q->version);
	want_s(b, "person_id", c & C_ID, w->per[q->person].id);
	want_s(b, "requester_id", c & C_OP, w->s[q->team].id);
	want_s(b, "author_id", c & C_OP, pro_id(w, q->author));
	want_u(b, "household_adults", c & C_DEC, q->adults);
	want_u(b, "household_children", c & C_DEC, q->children);
	want_u(b, "reduced_mobility", c & C_DEC, (uint64_t)q->reduced);
	want_u(b, "animal", c & C_DEC, (uint64_t)q->animal);
	want_s(b, "languages", c & C_DEC, q->languages);
	want_u(b, "urgency", c & C_DEC, (uint64_t)q->urgency);
	render_enums(b, "categories", q->cats, c & C_DEC ? q->n_cats : 0);
	want_s(b, "note", c & C_TEAM, q->note);
	want_s(b, "territory", c & C_OP, territory_of(w, q->team));
	want_u(b, "withdrawn", c & C_OP, (uint64_t)q->withdrawn);
	want_pat(b, "requested_at_ms", c & C_OP, PAT_SET);
	want_s(b, "requester_name", c & C_OP, w->s[q->team].name);
}

static void expect_proposal(struct sb *b, const struct world *w, const struct proposal *p,
			    unsigned c, uint64_t t)
{
	int expired = model_expired(p, t);

	/* The sweep's EXPIRED version (docs/orientations.md, "Holds"). */
	sb_printf(b, "version=%d\nkind=proposal\n", expired ? 2 : 1);
	want_s(b, "request_id", c & C_OP, w->req[p->request].id);
	want_s(b, "centre_id", c & C_OP, w->s[p->centre].id);
	want_u(b, "category", c & C_OP, (uint64_t)p->category);
	want_s(b, "siao_id", c & C_OP, w->s[p->siao].id);
	want_s(b, "author_id", c & C_OP, pro_id(w, p->author));
	want_pat(b, "hold_until_ms", c & C_OP, PAT_SET);
	want_u(b, "status", c & C_OP,
	       expired ? VEILLE__V1__PROPOSAL_STATUS__PROPOSAL_STATUS_EXPIRED
		       : VEILLE__V1__PROPOSAL_STATUS__PROPOSAL_STATUS_HELD);
	want_s(b, "request_team_id", c & C_OP, w->s[w->req[p->request].team].id);
	want_s(b, "request_team_name", c & C_OP, w->s[w->req[p->request].team].name);
}

static void expect_decision(struct sb *b, const struct world *w, const struct decision *d,
			    unsigned c)
{
	int emergency = d->kind == KIND(EMERGENCY_ADMISSION), refusal = d->kind == KIND(REFUSAL);
	char either[128];

	sb_printf(b, "version=1\nkind=decision\n");
	want_s(b, "proposal_id", c & C_OP, emergency ? "" : w->prop[d->proposal].id);
	want_u(b, "decision_kind", c & C_DEC, (uint64_t)d->kind);
	want_u(b, "motive", c & C_DEC, (uint64_t)d->motive);
	want_s(b, "motive_text", c & C_DEC, d->text);
	/* start_ms was sent as 0 ("now"): the server may keep 0 or write the time. */
	want_pat(b, "start_ms", (c & C_OP) && !refusal, PAT_ANY);
	want_u(b, "end_ms", c & C_OP, d->end);
	/* The person: named by an emergency admission; the docs leave open whether the server
	 * copies the request's person into a decision on a proposal. */
	if (emergency)
		want_s(b, "person_id", c & C_ID, w->per[d->person].id);
	else {
		snprintf(either, sizeof either, "%s%s\x1f", PAT_EITHER, w->per[d->person].id);
		want_pat_s(b, "person_id", c & C_ID, either);
	}
	want_u(b, "category", c & C_OP, (uint64_t)d->category);
	want_u(b, "extension_requested", c & C_DEC, 0);
	want_s(b, "extension_motive", c & C_DEC, "");
	want_s(b, "centre_id", c & C_OP, w->s[d->centre].id);
	want_s(b, "author_id", c & C_OP, pro_id(w, d->author));
	want_s(b, "request_id", c & C_OP, d->request >= 0 ? w->req[d->request].id : "");
	/* An emergency admission informs the territory's SIAO; whether siao_id names it is not
	 * written down. */
	if (emergency) {
		snprintf(either, sizeof either, "%s%s\x1f", PAT_EITHER, w->s[d->siao].id);
		want_pat_s(b, "siao_id", c & C_OP, either);
	} else
		want_s(b, "siao_id", c & C_OP, w->s[d->siao].id);
	want_s(b, "request_team_id", c & C_OP, d->request >= 0 ? w->s[w->req[d->request].team].id : "");
	want_pat(b, "decided_at_ms", c & C_OP, PAT_SET);
	want_u(b, "extension_requested_at_ms", c & C_OP, 0);
	want_u(b, "extension_deemed_accepted", c & C_OP, 0);
	want_pat(b, "reminders", (c & C_OP) && !refusal, PAT_SET);
	want_s(b, "centre_name", c & C_OP, w->s[d->centre].name);
	want_s(b, "request_team_name", c & C_OP,
	       d->request >= 0 ? w->s[w->req[d->request].team].name : "");
}

/* Everything professional i must hold at time t, as views (the model's projection). */
static void model_expected(const struct world *w, int i, uint64_t t, struct views *out)
{
	const struct pro *p = &w->p[i];
	int s = p->s;
	unsigned c;
	struct sb b;

	for (int k = 0; k < w->nper; k++)
		if ((c = model_role_filter(p, model_person_classes(w, s, k, t)))) {
			memset(&b, 0, sizeof b);
			expect_person(&b, w, &w->per[k], c);
			views_put(out, w->per[k].id, b.p);
		}
	for (int k = 0; k < w->nenc; k++)
		if ((c = model_role_filter(p, model_encounter_classes(w, s, k, t)))) {
			memset(&b, 0, sizeof b);
			expect_encounter(&b, w, &w->enc[k], c);
			views_put(out, w->enc[k].id, b.p);
		}
	for (int k = 0; k < w->nreq; k++)
		if ((c = model_role_filter(p, model_request_classes(w, s, k, t)))) {
			memset(&b, 0, sizeof b);
			expect_request(&b, w, &w->req[k], c);
			views_put(out, w->req[k].id, b.p);
		}
	for (int k = 0; k < w->nprop; k++)
		if ((c = model_role_filter(p, model_proposal_classes(w, s, k)))) {
			memset(&b, 0, sizeof b);
			expect_proposal(&b, w, &w->prop[k], c, t);
			views_put(out, w->prop[k].id, b.p);
		}
	for (int k = 0; k < w->ndec; k++)
		if ((c = model_role_filter(p, model_decision_classes(w, s, k)))) {
			memset(&b, 0, sizeof b);
			expect_decision(&b, w, &w->dec[k], c);
			views_put(out, w->dec[k].id, b.p);
		}
}

/* ---- comparing what arrived with the model ---- */

static int value_matches(const char *pat, const char *got)
{
	if (pat[0] != '\x01')
		return !strcmp(pat, got);
	if (!strcmp(pat, PAT_SET))
		return got[0] && strcmp(got, "0") != 0;
	if (!strcmp(pat, PAT_ANY))
		return 1;
	if (!strncmp(pat, PAT_EITHER, strlen(PAT_EITHER))) {
		const char *a = pat + strlen(PAT_EITHER), *sep = strchr(a, '\x1f');

		return (sep && strlen(got) == (size_t)(sep - a) && !strncmp(a, got, (size_t)(sep - a))) ||
		       (sep && !strcmp(sep + 1, got));
	}
	return 0;
}

/* A pattern as a reader sees it. */
static void pattern_text(const char *pat, char *out, size_t n)
{
	if (pat[0] != '\x01')
		snprintf(out, n, "\"%s\"", pat);
	else if (!strcmp(pat, PAT_SET))
		snprintf(out, n, "(any non-empty value)");
	else if (!strcmp(pat, PAT_ANY))
		snprintf(out, n, "(anything)");
	else {
		const char *a = pat + strlen(PAT_EITHER), *sep = strchr(a, '\x1f');

		snprintf(out, n, "\"%.*s\" or \"%s\"", (int)(sep ? sep - a : 0), a, sep ? sep + 1 : "");
	}
}

struct check {
	struct world *w;
	int pro;
	const char *how;           /* "pull from 0" or "incremental" */
	const struct views *gone;  /* the records a withdrawn change came for in that pull */
	uint64_t t;                /* the checkpoint's time */
};

static const char *kind_of_text(const char *text)
{
	static const char *const kinds[] = {"encounter", "person", "request", "proposal", "decision"};
	const char *k = strstr(text, "kind=");

	for (size_t i = 0; k && i < sizeof kinds / sizeof *kinds; i++)
		if (!strncmp(k + 5, kinds[i], strlen(kinds[i])))
			return kinds[i];
	return "?";
}

static void mismatch(const struct check *ck, const char *record_id, const char *kind,
		     const char *field, const char *want, const char *got)
{
	struct world *w = ck->w;
	const struct pro *p = &w->p[ck->pro];
	char wt[192];

	pattern_text(want, wt, sizeof wt);
	w->mismatches++;
	if (w->reported++ >= MAX_REPORTED)
		return;
	fprintf(stderr,
		"MODEL MISMATCH seed=0x%016" PRIx64 " checkpoint=%d step=%d %s: %s (%s, %s) %s %s: "
		"%s: expected %s, got \"%s\"\n",
		w->seed, w->checkpoint, w->step, ck->how,
		p->name, p->role, w->s[p->s].id, kind, record_id, field, wt, got);
	if (!strcmp(field, "(record)"))
		fprintf(stderr, "  (%s in this pull)\n",
			views_find(ck->gone, record_id) ? "a withdrawn change came for it"
							: "no withdrawn change for it");
}

/* Compares one record, line by line (the same field names in the same order). */
static void compare_record(const struct check *ck, const char *id, const char *want,
			   const char *got)
{
	const char *kind = kind_of_text(want);

	while (*want || *got) {
		const char *wn = strchr(want, '\n'), *gn = strchr(got, '\n');
		const char *weq = strchr(want, '='), *geq = strchr(got, '=');
		char name[64], wv[512], gv[512];
		size_t wl, gl;

		if (!wn || !gn || !weq || !geq || weq > wn || geq > gn ||
		    (size_t)(weq - want) != (size_t)(geq - got) || strncmp(want, got, (size_t)(weq - want))) {
			mismatch(ck, id, kind, "(record shape)", want, got);
			return;
		}
		snprintf(name, sizeof name, "%.*s", (int)(weq - want), want);
		wl = (size_t)(wn - weq - 1);
		gl = (size_t)(gn - geq - 1);
		snprintf(wv, sizeof wv, "%.*s", (int)wl, weq + 1);
		snprintf(gv, sizeof gv, "%.*s", (int)gl, geq + 1);
		if (!value_matches(wv, gv))
			mismatch(ck, id, kind, name, wv, gv);
		want = wn + 1;
		got = gn + 1;
	}
}

/* got must be exactly want: no extra record, no missing one, every field as the model says. */
static void compare_views(const struct check *ck, const struct views *want, const struct views *got)
{
	for (size_t i = 0; i < want->n; i++) {
		const struct view *g = views_find(got, want->v[i].id);

		if (!g)
			mismatch(ck, want->v[i].id, kind_of_text(want->v[i].text), "(record)",
				 "present", "absent");
		else
			compare_record(ck, want->v[i].id, want->v[i].text, g->text);
	}
	for (size_t i = 0; i < got->n; i++)
		if (!views_find(want, got->v[i].id)) {
			char present[64];

			snprintf(present, sizeof present, "present, %.*s", (int)strcspn(got->v[i].text, "\n"),
				 got->v[i].text);
			mismatch(ck, got->v[i].id, kind_of_text(got->v[i].text), "(record)", "absent",
				 present);
		}
}

/* ---- talking to the server ---- */

static int is_transport_error(int rc)
{
	return rc == VEILLE_ECONN || rc == VEILLE_ECLOSED || rc == VEILLE_ENOTCONN ||
	       rc == VEILLE_ETIMEOUT;
}

struct fold {
	struct views *vs;   /* what the device holds */
	struct views *gone; /* the records a withdrawn change came for (may be NULL) */
};

/* Folds a change into a device's views: a withdrawn change drops the record. */
static int fold_change(const Veille__V1__Change *ch, void *arg)
{
	struct fold *f = arg;

	if (ch->withdrawn) {
		views_del(f->vs, ch->record_id);
		if (f->gone)
			views_put(f->gone, ch->record_id, strdup("kind=withdrawn\n"));
	} else
		views_put(f->vs, ch->record_id, render_change(ch));
	return 0;
}

/* Pulls every page after *cursor into vs (noting withdrawals in gone, may be NULL); *cursor
 * moves on. 0 or a veille_pull code. */
static int pull_into(struct hx_device *d, uint64_t *cursor, struct views *vs, struct views *gone)
{
	struct fold f = {vs, gone};

	uint64_t next = 0;
	int more = 1, rc = 0;

	for (int i = 0; more && i < 100; i++) {
		rc = veille_pull(d->c, *cursor, 0, fold_change, &f, &next, &more);
		if (rc)
			return rc;
		if (next > *cursor)
			*cursor = next;
	}
	return more ? VEILLE_EPROTO : 0;
}

/* pull_into, reconnecting once after a transport failure (an idle connection may drop). */
static int pull_retry(struct hx_device *d, uint64_t *cursor, struct views *vs, struct views *gone)
{
	uint64_t start = *cursor;
	int rc = pull_into(d, cursor, vs, gone);

	if (is_transport_error(rc) && veille_connect(d->c, -1) == 0) {
		*cursor = start;
		rc = pull_into(d, cursor, vs, gone);
	}
	return rc;
}

/* Pushes one op as professional i; the op must be APPLIED. Returns the version. Records the
 * time around the push in *t0, *t1 (may be NULL). */
static uint64_t push_applied(struct world *w, int i, Veille__V1__Mutation *m, const char *what,
			     uint64_t *t0, uint64_t *t1)
{
	struct veille_op_result r;
	uint64_t before = hx_now_ms();
	int rc;

	memset(&r, 0, sizeof r);
	rc = veille_push(w->p[i].dev.c, &m, 1, &r);
	if (is_transport_error(rc) && veille_connect(w->p[i].dev.c, -1) == 0)
		rc = veille_push(w->p[i].dev.c, &m, 1, &r); /* same counter: DUPLICATE if it was applied */
	if (rc != 0 || (r.status != ST(APPLIED) && r.status != ST(DUPLICATE)))
		fprintf(stderr,
			"MODEL seed=0x%016" PRIx64 " step=%d: %s by %s (%s, %s) not applied: rc=%s "
			"status=%d code=%s reason=%s\n",
			w->seed, w->step, what, w->p[i].name, w->p[i].role, w->s[w->p[i].s].id,
			veille_strerror(rc), r.status, veille_error_code_name(r.code), r.reason);
	assert_int_equal(rc, 0);
	assert_true(r.status == ST(APPLIED) || r.status == ST(DUPLICATE));
	if (t0)
		*t0 = before;
	if (t1)
		*t1 = hx_now_ms();
	return r.version;
}

/* A fresh record or person id, from the scenario's PRNG: a replayed seed makes the same ids. */
static void new_id(struct world *w, char id[33])
{
	for (int k = 0; k < 2; k++)
		snprintf(id + 16 * k, 17, "%016" PRIx64, rng_next(&w->rng));
}

static void text_of(struct world *w, char *out, size_t n, const char *prefix)
{
	static const char *const words[] = {"gare de l'Est", "sous le pont", "square Villemin",
					    "près du canal", "porte de la Chapelle", "métro Stalingrad",
					    "parvis de la mairie", "halles"};

	snprintf(out, n, "%s-%u %s", prefix, ++w->text_seq, words[rnd(w, 8)]);
}

/* ---- the world ---- */

static const char *const category_names[] = {"", "homme_seul", "femme_seule", "couple", "famille",
					     "jeune_18_25", "pmr", "animal"};
static const int centre_categories[] = {1, 2, 4, 5};

static int add_structure(struct world *w, const char *id, const char *kind, const char *territory)
{
	struct structure *s = &w->s[w->ns];

	snprintf(s->id, sizeof s->id, "%s", id);
	snprintf(s->name, sizeof s->name, "Structure « %s »", id);
	s->kind = kind;
	s->territory = territory;
	s->siao = !strcmp(kind, "siao");
	s->centre = !strcmp(kind, "chrs") || !strcmp(kind, "chu");
	if (s->centre) {
		for (int k = 0; k < 4; k++)
			if (chance(w, 60))
				s->cats |= 1u << centre_categories[k];
		if (!s->cats)
			s->cats = 1u << 1;
	}
	return w->ns++;
}

static void add_pro(struct world *w, int s, const char *role)
{
	struct pro *p = &w->p[w->np++];

	p->role = role;
	p->s = s;
	snprintf(p->name, sizeof p->name, "%s-%d", role, w->np);
}

/* Draws the structures and professionals of the scenario. */
static void draw_world(struct world *w)
{
	int s;

	s = add_structure(w, "siao-75", "siao", "75");
	add_pro(w, s, "coordinateur_siao");
	if (chance(w, 60))
		add_pro(w, s, "ecoutant_115");
	if (chance(w, 40))
		add_pro(w, s, "administrateur");
	s = add_structure(w, "maraude-75", "equipe_mobile", "75");
	add_pro(w, s, "maraudeur");
	if (chance(w, 70))
		add_pro(w, s, "professionnel_sante");
	if (chance(w, 50))
		add_pro(w, s, "superviseur");
	if (chance(w, 50)) {
		s = add_structure(w, "adj-75", "accueil_de_jour", "75");
		add_pro(w, s, "accueillant");
	}
	s = add_structure(w, "chrs-75a", "chrs", "75");
	add_pro(w, s, "responsable_centre");
	if (chance(w, 70))
		add_pro(w, s, "travailleur_social");
	if (chance(w, 60))
		add_pro(w, s, "professionnel_sante");
	if (chance(w, 50)) {
		s = add_structure(w, "chu-75b", "chu", "75");
		add_pro(w, s, "responsable_centre");
	}
	s = add_structure(w, "siao-93", "siao", "93");
	add_pro(w, s, "coordinateur_siao");
	if (chance(w, 50)) {
		s = add_structure(w, "maraude-93", "equipe_mobile", "93");
		add_pro(w, s, "maraudeur");
	} else {
		s = add_structure(w, "adj-93", "accueil_de_jour", "93");
		add_pro(w, s, "accueillant");
	}
	s = add_structure(w, "chrs-93", "chrs", "93");
	add_pro(w, s, "responsable_centre");
	if (chance(w, 50))
		add_pro(w, s, "professionnel_sante");
}

/* Registers the world with veillectl, starts veilled, enrols the devices, declares vacancies
 * (every place of the capacity). 0 or -1. */
static int build_world(struct world *w)
{
	if (!(w->e = hx_env_new()))
		return -1;
	for (int i = 0; i < w->ns; i++) {
		struct structure *s = &w->s[i];
		char caps[4][24];
		int n = 0;

		if (hx_structure_add(w->e, s->id, s->name, s->kind, s->territory))
			return -1;
		if (!s->centre)
			continue;
		for (int c = 1; c <= 7; c++)
			if (s->cats & (1u << c))
				snprintf(caps[n++], sizeof caps[0], "%s=20", category_names[c]);
		if (hx_ctl(w->e, NULL, "centre", "capacity", "--structure", s->id, caps[0],
			   n > 1 ? caps[1] : NULL, n > 2 ? caps[2] : NULL, n > 3 ? caps[3] : NULL,
			   (char *)NULL))
			return -1;
	}
	if (hx_server_start(w->e, "--hold-seconds", "4", (char *)NULL))
		return -1;
	for (int i = 0; i < w->np; i++) {
		struct pro *p = &w->p[i];

		if (hx_new_device_as(w->e, w->s[p->s].id, p->name, p->role, &p->dev))
			return -1;
		p->enrolled = p->active = 1;
		if (role_is(p, "responsable_centre")) {
			Veille__V1__CategoryCount cc[4], *ccp[4];
			size_t n = 0;

			for (int c = 1; c <= 7; c++)
				if (w->s[p->s].cats & (1u << c)) {
					veille__v1__category_count__init(&cc[n]);
					cc[n].category = (Veille__V1__PlaceCategory)c;
					cc[n].count = 20;
					ccp[n] = &cc[n];
					n++;
				}
			if (veille_declare_vacancies(p->dev.c, ccp, n, NULL))
				return -1;
		}
	}
	return 0;
}

/* ---- steps ---- */

enum {
	STEP_PROFILE, STEP_ENCOUNTER, STEP_CORRECTION, STEP_REQUEST, STEP_WITHDRAW, STEP_PROPOSAL,
	STEP_DECISION, STEP_EMERGENCY, STEP_OBJECTION, STEP_REVOKE, STEP_WAIT, N_STEPS
};
static const char *const step_names[] = {"profile", "encounter", "correction", "request",
					 "withdrawal", "proposal", "decision", "emergency",
					 "objection", "revocation", "wait"};

/* Whether structure s holds a record about the person (met them, or asked for them). */
static int knows_person(const struct world *w, int s, int person)
{
	if (w->per[person].creator == s)
		return 1;
	for (int i = 0; i < w->nenc; i++)
		if (w->enc[i].person == person && w->enc[i].team == s)
			return 1;
	for (int i = 0; i < w->nreq; i++)
		if (w->req[i].person == person && w->req[i].team == s)
			return 1;
	return 0;
}

/* A person structure s knows (most of the time), or any known person, or -1. */
static int pick_person(struct world *w, int s, unsigned known_pct)
{
	int cand[MAX_PERSON], n = 0;

	if (!w->nper)
		return -1;
	if (chance(w, known_pct)) {
		for (int i = 0; i < w->nper; i++)
			if (knows_person(w, s, i))
				cand[n++] = i;
		if (n)
			return cand[rnd(w, (unsigned)n)];
	}
	return (int)rnd(w, (unsigned)w->nper);
}

static int new_person(struct world *w)
{
	struct person *p;

	if (w->nper == MAX_PERSON)
		return -1;
	p = &w->per[w->nper];
	memset(p, 0, sizeof *p);
	new_id(w, p->id);
	p->creator = -1;
	return w->nper++;
}

/* Sets field f of a Person mutation's value v and of the model's profile, stamped now by i. */
static void person_value(struct world *w, int i, struct person *per, int f,
			 Veille__V1__PersonFieldValue *v, Veille__V1__Hlc *hlc, const char *text,
			 int64_t number)
{
	struct pfield *m = &per->f[f];

	veille__v1__person_field_value__init(v);
	veille__v1__hlc__init(hlc);
	hlc->wall_ms = hx_now_ms();
	hlc->counter = ++w->hlc_counter;
	hlc->device_id.data = w->p[i].dev.device_id;
	hlc->device_id.len = 16;
	v->field = (Veille__V1__PersonField)f;
	v->hlc = hlc;
	m->set = 1;
	m->wall = hlc->wall_ms;
	m->counter = hlc->counter;
	m->pro = i;
	switch (person_field_kind(f)) {
	case 't':
		snprintf(m->text, sizeof m->text, "%s", text);
		v->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
		v->text = m->text;
		break;
	case 'n':
		m->number = number;
		v->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_NUMBER;
		v->number = number;
		break;
	default:
		m->flag = number != 0;
		v->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
		v->flag = number != 0;
		break;
	}
}

/* A new profile, with fields of every class; sometimes the person objects to sharing. */
static int step_profile(struct world *w)
{
	static const char *const given[] = {"Jean", "Fatou", "Ali", "Marie", "Dragan", "Inès"};
	static const char *const family[] = {"Martin", "Diallo", "Haddad", "Petit", "Novak"};
	static const char *const langs[] = {"français", "arabe, français", "wolof", "roumain"};
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Person body = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue v[N_PERSON_FIELDS], *vp[N_PERSON_FIELDS];
	Veille__V1__Hlc hlc[N_PERSON_FIELDS];
	int i = pick_pro(w, ok_writer, NULL), k, n = 0;
	struct person *per;
	char text[48];

	if (i < 0 || (k = new_person(w)) < 0)
		return 0;
	per = &w->per[k];
	per->creator = w->p[i].s;
	for (int f = 1; f <= N_PERSON_FIELDS; f++) {
		if (f == 11 && chance(w, 40))
			continue; /* no objection field at all */
		if (f != 3 && f != 5 && f != 9 && f != 11 && chance(w, 20))
			continue; /* some fields left out */
		switch (f) {
		case 1: snprintf(text, sizeof text, "%s", given[rnd(w, 6)]); break;
		case 2: snprintf(text, sizeof text, "%s", family[rnd(w, 5)]); break;
		case 3: text_of(w, text, sizeof text, "surnom"); break;
		case 9: text_of(w, text, sizeof text, "situation"); break;
		case 10: snprintf(text, sizeof text, "%s", langs[rnd(w, 4)]); break;
		default: text[0] = 0; break;
		}
		person_value(w, i, per, f, &v[n], &hlc[n], text,
			     f == 4   ? (int64_t)(1950 + rnd(w, 50))
			     : f == 5 ? (int64_t)(1 + rnd(w, 3))
			     : f == 6 ? (int64_t)rnd(w, 4)
				      : (int64_t)chance(w, 50));
		vp[n] = &v[n];
		n++;
	}
	body.n_fields = (size_t)n;
	body.fields = vp;
	m.record_id = per->id;
	m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	m.person = &body;
	per->version = push_applied(w, i, &m, "profile", NULL, NULL);
	trace(w, "profile %s by %s (%s) objects=%d", per->id, w->p[i].name, w->s[per->creator].id,
	      model_objects(w, k));
	return 1;
}

static void fill_encounter(struct world *w, struct encounter *e)
{
	static const char gh[] = "0123456789bcdefghjkmnpqrstuvwxyz";
	unsigned used = 0;

	e->occurred = (int64_t)(hx_now_ms() - rnd(w, 3600000));
	snprintf(e->area, sizeof e->area, "secteur-%u", rnd(w, 20));
	for (int k = 0; k < 5; k++)
		e->geohash[k] = gh[rnd(w, 32)];
	e->geohash[5] = 0;
	e->n_needs = 1 + rnd(w, 3);
	for (size_t k = 0; k < e->n_needs; k++) {
		int need;

		do
			need = 1 + (int)rnd(w, 8);
		while (used & (1u << need));
		used |= 1u << need;
		e->needs[k] = need;
	}
	e->n_services = rnd(w, 3);
	for (size_t k = 0; k < e->n_services; k++)
		e->services[k] = 1 + (int)rnd(w, 11);
	text_of(w, e->note, sizeof e->note, "rencontre");
	e->health[0] = 0;
	/* Health notes by health professionals only: from anyone else the op is refused
	 * (docs/access-rules.md), and this test sends no bad input. A colleague's correction
	 * replaces the whole event, so one by another role drops the note. */
	if (role_is(&w->p[e->author], "professionnel_sante") && chance(w, 70))
		text_of(w, e->health, sizeof e->health, "santé");
}

/* The Encounter mutation of the model's e. */
static void encounter_mutation(const struct world *w, struct encounter *e, Veille__V1__Mutation *m,
			       Veille__V1__Encounter *body, Veille__V1__Location *loc,
			       Veille__V1__Need *needs, Veille__V1__Service *services)
{
	veille__v1__mutation__init(m);
	veille__v1__encounter__init(body);
	veille__v1__location__init(loc);
	loc->area = e->area;
	loc->geohash = e->geohash;
	for (size_t k = 0; k < e->n_needs; k++)
		needs[k] = (Veille__V1__Need)e->needs[k];
	for (size_t k = 0; k < e->n_services; k++)
		services[k] = (Veille__V1__Service)e->services[k];
	body->person_id = (char *)w->per[e->person].id;
	body->occurred_at_ms = e->occurred;
	body->location = loc;
	body->n_needs = e->n_needs;
	body->needs = needs;
	body->n_services = e->n_services;
	body->services = services;
	body->note = e->note;
	body->health_note = e->health;
	m->record_id = e->id;
	m->base_version = e->version;
	m->record_case = VEILLE__V1__MUTATION__RECORD_ENCOUNTER;
	m->encounter = body;
}

static int step_encounter(struct world *w)
{
	Veille__V1__Mutation m;
	Veille__V1__Encounter body;
	Veille__V1__Location loc;
	Veille__V1__Need needs[3];
	Veille__V1__Service services[2];
	int i = pick_pro(w, ok_writer, NULL), person;
	struct encounter *e;

	if (i < 0 || w->nenc == MAX_ENC)
		return 0;
	person = chance(w, 25) ? new_person(w) : pick_person(w, w->p[i].s, 70);
	if (person < 0 && (person = new_person(w)) < 0)
		return 0;
	e = &w->enc[w->nenc];
	memset(e, 0, sizeof *e);
	new_id(w, e->id);
	e->person = person;
	e->team = w->p[i].s;
	e->author = i;
	fill_encounter(w, e);
	encounter_mutation(w, e, &m, &body, &loc, needs, services);
	e->version = push_applied(w, i, &m, "encounter", NULL, NULL);
	trace(w, "encounter %s about %s by %s (%s)%s", e->id, w->per[person].id, w->p[i].name,
	      w->s[e->team].id, e->health[0] ? " with health note" : "");
	w->nenc++;
	return 1;
}

/* A colleague of the author's structure corrects an encounter (new version). */
static int step_correction(struct world *w)
{
	Veille__V1__Mutation m;
	Veille__V1__Encounter body;
	Veille__V1__Location loc;
	Veille__V1__Need needs[3];
	Veille__V1__Service services[2];
	struct encounter *e, saved;
	int i;

	if (!w->nenc)
		return 0;
	e = &w->enc[rnd(w, (unsigned)w->nenc)];
	if ((i = pick_pro(w, ok_writer_of, &e->team)) < 0)
		return 0;
	saved = *e;
	e->author = i;
	fill_encounter(w, e);
	encounter_mutation(w, e, &m, &body, &loc, needs, services);
	e->version = push_applied(w, i, &m, "encounter correction", NULL, NULL);
	if (e->version != saved.version + 1) {
		fprintf(stderr, "MODEL seed=0x%016" PRIx64 ": correction made version %" PRIu64 "\n",
			w->seed, e->version);
		fail();
	}
	return 1;
}

static void request_mutation(const struct world *w, struct request *q, Veille__V1__Mutation *m,
			     Veille__V1__Request *body, Veille__V1__PlaceCategory *cats)
{
	veille__v1__mutation__init(m);
	veille__v1__request__init(body);
	body->person_id = (char *)w->per[q->person].id;
	body->household_adults = q->adults;
	body->household_children = q->children;
	body->reduced_mobility = q->reduced;
	body->animal = q->animal;
	body->languages = q->languages;
	body->urgency = (Veille__V1__Urgency)q->urgency;
	for (size_t k = 0; k < q->n_cats; k++)
		cats[k] = (Veille__V1__PlaceCategory)q->cats[k];
	body->n_categories = q->n_cats;
	body->categories = cats;
	body->note = q->note;
	body->withdrawn = q->withdrawn;
	m->record_id = q->id;
	m->base_version = q->version;
	m->record_case = VEILLE__V1__MUTATION__RECORD_REQUEST;
	m->request = body;
}

static int step_request(struct world *w)
{
	static const char *const langs[] = {"français", "anglais", "arabe", "tigrinya, anglais"};
	Veille__V1__Mutation m;
	Veille__V1__Request body;
	Veille__V1__PlaceCategory cats[2];
	int i = pick_pro(w, ok_requester, NULL), person;
	unsigned offered = 0;
	struct request *q;

	if (i < 0 || w->nreq == MAX_REQ || (person = pick_person(w, w->p[i].s, 80)) < 0)
		return 0;
	q = &w->req[w->nreq];
	memset(q, 0, sizeof *q);
	new_id(w, q->id);
	q->person = person;
	q->team = w->p[i].s;
	q->author = i;
	q->adults = 1 + rnd(w, 2);
	q->children = rnd(w, 3);
	q->reduced = chance(w, 30);
	q->animal = chance(w, 30);
	q->urgency = 1 + (int)rnd(w, 3);
	snprintf(q->languages, sizeof q->languages, "%s", langs[rnd(w, 4)]);
	/* What would fit: mostly categories the territory's centres have. */
	for (int s = 0; s < w->ns; s++)
		if (w->s[s].centre && !strcmp(w->s[s].territory, territory_of(w, q->team)))
			offered |= w->s[s].cats;
	q->n_cats = 1 + rnd(w, 2);
	for (size_t k = 0; k < q->n_cats; k++) {
		int c;

		do
			c = centre_categories[rnd(w, 4)];
		while ((k == 1 && c == q->cats[0]) || (chance(w, 85) && !(offered & (1u << c))));
		q->cats[k] = c;
	}
	if (chance(w, 60))
		text_of(w, q->note, sizeof q->note, "demande");
	request_mutation(w, q, &m, &body, cats);
	q->version = push_applied(w, i, &m, "request", NULL, NULL);
	trace(w, "request %s about %s by %s (%s)", q->id, w->per[person].id, w->p[i].name,
	      w->s[q->team].id);
	w->nreq++;
	return 1;
}

/* Whether a proposal for request r is undecided and its hold not clearly over (sweep
 * included) at t: the request then holds a proposal, or may still. */
static int request_busy(const struct world *w, int r, uint64_t t)
{
	for (int i = 0; i < w->nprop; i++)
		if (w->prop[i].request == r && !w->prop[i].decided &&
		    t <= w->prop[i].hold_hi + SETTLE_MS)
			return 1;
	return 0;
}

/* The requester's structure withdraws an open request without a proposal awaiting. */
static int step_withdraw(struct world *w)
{
	Veille__V1__Mutation m;
	Veille__V1__Request body;
	Veille__V1__PlaceCategory cats[2];
	uint64_t now = hx_now_ms();
	int cand[MAX_REQ], n = 0, i;
	struct request *q;

	for (int r = 0; r < w->nreq; r++)
		if (model_request_open(&w->req[r]) && !request_busy(w, r, now))
			cand[n++] = r;
	if (!n)
		return 0;
	q = &w->req[cand[rnd(w, (unsigned)n)]];
	if ((i = pick_pro(w, ok_requester_of, &q->team)) < 0)
		return 0;
	q->withdrawn = 1;
	request_mutation(w, q, &m, &body, cats);
	q->version = push_applied(w, i, &m, "request withdrawal", NULL, NULL);
	q->author = i; /* the author of the latest version (the server's author_id) */
	trace(w, "request %s withdrawn by %s", q->id, w->p[i].name);
	return 1;
}

static int step_proposal(struct world *w)
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Proposal body = VEILLE__V1__PROPOSAL__INIT;
	uint64_t now = hx_now_ms(), t0, t1;
	int cand[MAX_REQ], n = 0, r, siao, i, centres[MAX_STRUCT], nc = 0, centre, cat;
	struct proposal *p;
	unsigned wanted = 0;

	if (w->nprop == MAX_PROP)
		return 0;
	for (int k = 0; k < w->nreq; k++)
		if (model_request_open(&w->req[k]) && !request_busy(w, k, now))
			cand[n++] = k;
	if (!n)
		return 0;
	r = cand[rnd(w, (unsigned)n)];
	siao = siao_of(w, territory_of(w, w->req[r].team));
	if ((i = pro_of_role(w, "coordinateur_siao", siao)) < 0)
		return 0;
	for (size_t k = 0; k < w->req[r].n_cats; k++)
		wanted |= 1u << w->req[r].cats[k];
	for (int s = 0; s < w->ns; s++)
		if (w->s[s].centre && !strcmp(w->s[s].territory, w->s[siao].territory) &&
		    (w->s[s].cats & wanted))
			centres[nc++] = s;
	if (!nc)
		return 0;
	centre = centres[rnd(w, (unsigned)nc)];
	do
		cat = (int)w->req[r].cats[rnd(w, (unsigned)w->req[r].n_cats)];
	while (!(w->s[centre].cats & (1u << cat)));
	p = &w->prop[w->nprop];
	memset(p, 0, sizeof *p);
	new_id(w, p->id);
	p->request = r;
	p->centre = centre;
	p->category = cat;
	p->siao = siao;
	p->author = i;
	body.request_id = w->req[r].id;
	body.centre_id = w->s[centre].id;
	body.category = (Veille__V1__PlaceCategory)cat;
	m.record_id = p->id;
	m.record_case = VEILLE__V1__MUTATION__RECORD_PROPOSAL;
	m.proposal = &body;
	push_applied(w, i, &m, "proposal", &t0, &t1);
	p->hold_lo = t0 + HOLD_SECONDS * 1000;
	p->hold_hi = t1 + HOLD_SECONDS * 1000;
	trace(w, "proposal %s of request %s to %s (category %d), hold ends by %" PRIu64, p->id,
	      w->req[r].id, w->s[centre].id, cat, p->hold_hi % 1000000);
	w->nprop++;
	return 1;
}

static uint64_t stay_end(struct world *w)
{
	if (chance(w, 35))
		return hx_now_ms() + SHORT_STAY_MS + rnd(w, 3000);
	return hx_now_ms() + (30 + (uint64_t)rnd(w, 300)) * 86400000ull;
}

/* The centre decides on a proposal whose hold surely runs: admission or refusal. */
static int step_decision(struct world *w)
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Decision body = VEILLE__V1__DECISION__INIT;
	uint64_t now = hx_now_ms(), t0;
	int cand[MAX_PROP], n = 0, k, i;
	struct proposal *p;
	struct decision *d;

	if (w->ndec == MAX_DEC)
		return 0;
	for (k = 0; k < w->nprop; k++)
		if (!w->prop[k].decided && now + DECIDE_MARGIN_MS < w->prop[k].hold_lo)
			cand[n++] = k;
	if (!n)
		return 0;
	k = cand[rnd(w, (unsigned)n)];
	p = &w->prop[k];
	if ((i = pro_of_role(w, "responsable_centre", p->centre)) < 0)
		return 0;
	d = &w->dec[w->ndec];
	memset(d, 0, sizeof *d);
	new_id(w, d->id);
	d->proposal = k;
	d->request = p->request;
	d->centre = p->centre;
	d->siao = p->siao;
	d->author = i;
	d->person = w->req[p->request].person;
	d->category = p->category;
	if (chance(w, 55)) {
		d->kind = KIND(ADMISSION);
		d->end = stay_end(w);
	} else {
		d->kind = KIND(REFUSAL);
		d->motive = 1 + (int)rnd(w, 6);
		text_of(w, d->text, sizeof d->text, "motif");
	}
	body.proposal_id = p->id;
	body.kind = (Veille__V1__DecisionKind)d->kind;
	body.motive = (Veille__V1__RefusalMotive)d->motive;
	body.motive_text = d->text;
	body.end_ms = d->end;
	m.record_id = d->id;
	m.record_case = VEILLE__V1__MUTATION__RECORD_DECISION;
	m.decision = &body;
	push_applied(w, i, &m, d->kind == KIND(ADMISSION) ? "admission" : "refusal", &t0, NULL);
	d->start_lo = t0;
	p->decided = 1;
	if (d->kind == KIND(ADMISSION))
		w->req[p->request].admitted = 1;
	trace(w, "%s %s on proposal %s by %s (%s), person %s, stay ends %" PRIu64,
	      d->kind == KIND(ADMISSION) ? "admission" : "refusal", d->id, p->id, w->p[i].name,
	      w->s[d->centre].id, w->per[d->person].id, d->end % 1000000);
	w->ndec++;
	return 1;
}

/* A centre's emergency admission (L345-2-7), of a person known in its territory, sometimes of
 * the other territory. */
static int step_emergency(struct world *w)
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Decision body = VEILLE__V1__DECISION__INIT;
	int i = pick_pro(w, ok_role, "responsable_centre"), cand[MAX_PERSON], n = 0, cat;
	struct decision *d;
	uint64_t t0;

	if (i < 0 || w->ndec == MAX_DEC || !w->nper)
		return 0;
	for (int k = 0; k < w->nper; k++)
		for (int s = 0; s < w->ns; s++)
			if (!strcmp(w->s[s].territory, territory_of(w, w->p[i].s)) &&
			    knows_person(w, s, k)) {
				cand[n++] = k;
				break;
			}
	d = &w->dec[w->ndec];
	memset(d, 0, sizeof *d);
	new_id(w, d->id);
	d->kind = KIND(EMERGENCY_ADMISSION);
	d->proposal = -1;
	d->request = -1;
	d->centre = w->p[i].s;
	d->siao = siao_of(w, territory_of(w, d->centre));
	d->author = i;
	d->person = n && chance(w, 85) ? cand[rnd(w, (unsigned)n)] : (int)rnd(w, (unsigned)w->nper);
	do
		cat = 1 + (int)rnd(w, 7);
	while (!(w->s[d->centre].cats & (1u << cat)));
	d->category = cat;
	d->end = stay_end(w);
	body.kind = KIND(EMERGENCY_ADMISSION);
	body.person_id = w->per[d->person].id;
	body.category = (Veille__V1__PlaceCategory)cat;
	body.end_ms = d->end;
	m.record_id = d->id;
	m.record_case = VEILLE__V1__MUTATION__RECORD_DECISION;
	m.decision = &body;
	push_applied(w, i, &m, "emergency admission", &t0, NULL);
	d->start_lo = t0;
	trace(w, "emergency admission %s by %s (%s) of person %s, stay ends %" PRIu64, d->id,
	      w->p[i].name, w->s[d->centre].id, w->per[d->person].id, d->end % 1000000);
	w->ndec++;
	return 1;
}

/* The profile's team records the person's objection to sharing, or its end. */
static int step_objection(struct world *w)
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Person body = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue v, *vp = &v;
	Veille__V1__Hlc hlc;
	int cand[MAX_PERSON], n = 0, k, i;

	for (k = 0; k < w->nper; k++)
		if (w->per[k].creator >= 0)
			cand[n++] = k;
	if (!n)
		return 0;
	k = cand[rnd(w, (unsigned)n)];
	if ((i = pick_pro(w, ok_writer_of, &w->per[k].creator)) < 0)
		return 0;
	person_value(w, i, &w->per[k], 11, &v, &hlc, "", !model_objects(w, k));
	body.n_fields = 1;
	body.fields = &vp;
	m.record_id = w->per[k].id;
	m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	m.person = &body;
	w->per[k].version = push_applied(w, i, &m, "objection", NULL, NULL);
	trace(w, "objection of %s now %d (by %s)", w->per[k].id, model_objects(w, k), w->p[i].name);
	return 1;
}

/* `veillectl device revoke` or `professional revoke` of a professional who is neither the
 * coordinator nor a responsable (they keep the workflow going); their pulls must then fail. */
static int step_revoke(struct world *w)
{
	int cand[MAX_PRO], n = 0, i, rc = 0;
	struct pro *p;
	uint64_t end, cursor;
	struct views scratch = {0};
	const char *how;

	if (w->revoked >= MAX_REVOKED)
		return 0;
	for (i = 0; i < w->np; i++)
		if (w->p[i].active && !role_is(&w->p[i], "coordinateur_siao") &&
		    !role_is(&w->p[i], "responsable_centre"))
			cand[n++] = i;
	if (n < 3)
		return 0;
	i = cand[rnd(w, (unsigned)n)];
	p = &w->p[i];
	if ((how = chance(w, 50) ? "device" : "professional")[0] == 'd')
		assert_int_equal(hx_ctl(w->e, NULL, "device", "revoke", p->dev.device_hex, (char *)NULL), 0);
	else
		assert_int_equal(hx_ctl(w->e, NULL, "professional", "revoke", p->dev.professional_id,
					(char *)NULL),
				 0);
	/* veilled closes the device's sessions within a second; pulls then fail, and the next
	 * connection is told DEVICE_REVOKED (libveille wipes the device). */
	end = hx_mono_ms() + HX_TIMEOUT_MS;
	while (hx_mono_ms() < end) {
		cursor = 0;
		rc = pull_into(&p->dev, &cursor, &scratch, NULL);
		views_free(&scratch);
		if (rc)
			break;
		hx_sleep_ms(100);
	}
	if (rc != VEILLE_EREVOKED)
		rc = veille_connect(p->dev.c, -1);
	if (rc != VEILLE_EREVOKED)
		fprintf(stderr, "MODEL seed=0x%016" PRIx64 ": revoked %s still connects: %s\n", w->seed,
			p->name, veille_strerror(rc));
	assert_int_equal(rc, VEILLE_EREVOKED);
	cursor = 0;
	assert_int_not_equal(pull_into(&p->dev, &cursor, &scratch, NULL), 0);
	views_free(&scratch);
	p->active = 0;
	views_free(&p->mirror);
	trace(w, "%s revoke of %s (%s): pulls fail", how, p->name, w->s[p->s].id);
	w->revoked++;
	return 1;
}

/* The next deadline of the scenario (a hold or a short stay's end) still to come, or 0. */
static uint64_t next_deadline(const struct world *w, uint64_t now)
{
	uint64_t best = 0;

	for (int i = 0; i < w->nprop; i++)
		if (!w->prop[i].decided && w->prop[i].hold_hi > now &&
		    (!best || w->prop[i].hold_hi < best))
			best = w->prop[i].hold_hi;
	for (int i = 0; i < w->ndec; i++)
		if (w->dec[i].kind != KIND(REFUSAL) && w->dec[i].end > now &&
		    w->dec[i].end < now + 60000 && (!best || w->dec[i].end < best))
			best = w->dec[i].end;
	return best;
}

/* Waits for the next hold or short stay to end (and the sweep to see it). */
static int step_wait(struct world *w)
{
	uint64_t now = hx_now_ms(), d = next_deadline(w, now);

	if (!d)
		return 0;
	hx_sleep_ms((unsigned)(d - now + SETTLE_MS));
	return 1;
}

/* ---- checkpoints ---- */

/* The latest end of a deadline too near t for a checkpoint at t, or 0 if t is safe: every hold
 * and short stay ends either SETTLE_MS before t or AHEAD_MS after. */
static uint64_t unsafe_until(const struct world *w, uint64_t t)
{
	uint64_t until = 0;

	for (int i = 0; i < w->nprop; i++) {
		const struct proposal *p = &w->prop[i];

		if (!p->decided && t + AHEAD_MS >= p->hold_lo && t <= p->hold_hi + SETTLE_MS &&
		    p->hold_hi + SETTLE_MS > until)
			until = p->hold_hi + SETTLE_MS;
	}
	for (int i = 0; i < w->ndec; i++) {
		const struct decision *d = &w->dec[i];

		if (d->kind != KIND(REFUSAL) && t + AHEAD_MS >= d->end && t <= d->end + SETTLE_MS &&
		    d->end + SETTLE_MS > until)
			until = d->end + SETTLE_MS;
	}
	return until;
}

/* Waits (bounded) until a checkpoint is safe; returns its time. */
static uint64_t settle(const struct world *w)
{
	for (int k = 0; k < 20; k++) {
		uint64_t now = hx_now_ms(), until = unsafe_until(w, now);

		if (!until)
			return now;
		hx_sleep_ms((unsigned)(until - now + 50));
	}
	fail_msg("no safe time for a checkpoint");
	return 0;
}

/* For every active professional: a pull from 0 and the device's incremental fold are each the
 * model's projection at t. */
static void checkpoint(struct world *w)
{
	uint64_t t = settle(w), took;

	w->checkpoint++;
	for (int i = 0; i < w->np; i++) {
		struct pro *p = &w->p[i];
		struct views want = {0}, full = {0}, gone = {0};
		struct check ck = {w, i, NULL, NULL, t};
		uint64_t cursor = 0;
		int rc;

		if (!p->active)
			continue;
		model_expected(w, i, t, &want);
		rc = pull_retry(&p->dev, &cursor, &full, &gone);
		if (rc)
			fprintf(stderr, "MODEL seed=0x%016" PRIx64 ": %s cannot pull: %s\n", w->seed,
				p->name, veille_strerror(rc));
		assert_int_equal(rc, 0);
		ck.how = "pull from 0";
		ck.gone = &gone;
		compare_views(&ck, &want, &full);
		views_free(&gone);
		rc = pull_retry(&p->dev, &p->cursor, &p->mirror, &gone);
		assert_int_equal(rc, 0);
		ck.how = "incremental";
		compare_views(&ck, &want, &p->mirror);
		views_free(&want);
		views_free(&full);
		views_free(&gone);
	}
	took = hx_now_ms() - t;
	trace(w, "checkpoint %d at %" PRIu64 " took %" PRIu64 " ms", w->checkpoint, t % 1000000, took);
	if (took > AHEAD_MS)
		fprintf(stderr,
			"MODEL seed=0x%016" PRIx64 ": checkpoint %d took %" PRIu64
			" ms (over %d ms: a deadline may have passed during it)\n",
			w->seed, w->checkpoint, took, AHEAD_MS);
}

/* ---- scenarios ---- */

static int draw_step(struct world *w)
{
	static const unsigned weight[N_STEPS] = {12, 20, 6, 13, 4, 12, 16, 5, 8, 4, 2};
	unsigned total = 0, x;

	for (int k = 0; k < N_STEPS; k++)
		total += weight[k];
	x = rnd(w, total);
	for (int k = 0; k < N_STEPS; k++) {
		if (x < weight[k])
			return k;
		x -= weight[k];
	}
	return STEP_ENCOUNTER;
}

static int run_step(struct world *w, int k)
{
	switch (k) {
	case STEP_PROFILE: return step_profile(w);
	case STEP_ENCOUNTER: return step_encounter(w);
	case STEP_CORRECTION: return step_correction(w);
	case STEP_REQUEST: return step_request(w);
	case STEP_WITHDRAW: return step_withdraw(w);
	case STEP_PROPOSAL: return step_proposal(w);
	case STEP_DECISION: return step_decision(w);
	case STEP_EMERGENCY: return step_emergency(w);
	case STEP_OBJECTION: return step_objection(w);
	case STEP_REVOKE: return step_revoke(w);
	case STEP_WAIT: return step_wait(w);
	}
	return 0;
}

static void print_summary(const struct world *w, uint64_t ms)
{
	int active = 0;

	for (int i = 0; i < w->np; i++)
		active += w->p[i].active;
	fprintf(stderr,
		"model seed=0x%016" PRIx64 ": %d structures, %d professionals (%d revoked), %d "
		"checkpoints, %" PRIu64 " ms; steps:",
		w->seed, w->ns, w->np, w->np - active, w->checkpoint, ms);
	for (int k = 0; k < N_STEPS; k++)
		fprintf(stderr, " %s=%u", step_names[k], w->stat[k]);
	fprintf(stderr, "; records: %d persons, %d encounters, %d requests, %d proposals, %d "
			"decisions; mismatches=%u\n",
		w->nper, w->nenc, w->nreq, w->nprop, w->ndec, w->mismatches);
}

static int steps_from_env(void)
{
	const char *s = getenv("VEILLE_MODEL_STEPS");
	long n = s ? strtol(s, NULL, 10) : 0;

	return n > 0 && n <= 500 ? (int)n : DEFAULT_STEPS;
}

static void run_scenario(uint64_t seed)
{
	struct world *w = calloc(1, sizeof *w);
	uint64_t started = hx_mono_ms();
	unsigned bad;
	int since_check = 0, rc;

	assert_non_null(w);
	w->seed = w->rng = seed;
	w->steps = steps_from_env();
	fprintf(stderr, "model: seed=0x%016" PRIx64 " (replay: VEILLE_MODEL_SEED=0x%016" PRIx64 ")\n",
		seed, seed);
	draw_world(w);
	assert_int_equal(build_world(w), 0);
	trace(w, "world ready after %" PRIu64 " ms", hx_mono_ms() - started);
	for (w->step = 1; w->step <= w->steps; w->step++) {
		/* A step that cannot be done now (nothing to decide...) is drawn again. */
		for (int tries = 0; tries < 4; tries++) {
			int k = draw_step(w);

			if (run_step(w, k)) {
				w->stat[k]++;
				break;
			}
		}
		/* A checkpoint when due, at a safe moment: deferred (a few steps at most) rather
		 * than waited for while a hold or a short stay is about to end. */
		if (++since_check >= CHECK_EVERY &&
		    (!unsafe_until(w, hx_now_ms()) || since_check >= CHECK_EVERY + MAX_DEFER)) {
			checkpoint(w);
			since_check = 0;
		}
	}
	checkpoint(w);
	print_summary(w, hx_mono_ms() - started);
	bad = w->mismatches;
	for (int i = 0; i < w->np; i++) {
		views_free(&w->p[i].mirror);
		if (w->p[i].enrolled)
			hx_device_close(&w->p[i].dev);
	}
	rc = hx_env_free(w->e);
	free(w);
	if (bad)
		fail_msg("%u mismatches with the model (seed 0x%016" PRIx64
			 "; replay with VEILLE_MODEL_SEED=0x%016" PRIx64 ")",
			 bad, seed, seed);
	assert_int_equal(rc, 0);
}

static void test_model(void **state)
{
	run_scenario(*(const uint64_t *)*state);
}

int main(void)
{
	/* The default seed and two more, chosen so that together they cover every kind of step
	 * (withdrawals, short stays and holds ending, both revocations, objections). */
	static uint64_t seeds[3] = {0x2, 0x9, 0x1};
	const char *env = getenv("VEILLE_MODEL_SEED");
	struct CMUnitTest tests[3];
	size_t n = 3;

	if (env && *env) {
		seeds[0] = strtoull(env, NULL, 0);
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate(test_model, &seeds[i]);
		tests[i].name = i == 0 ? "model_seed_a" : i == 1 ? "model_seed_b" : "model_seed_c";
	}
	return _cmocka_run_group_tests("integration_model", tests, n, NULL, NULL);
}
