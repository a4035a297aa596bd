/*
 * Integration: shared secrecy (issue 5, docs/access-rules.md) against a real veilled, real
 * devices. The care-circle rules of orientations are in test_orient.c; this file grows with
 * the rest of the table.
 *
 * Maraude 75 with Marc (maraudeur) and Hélène (professionnelle de santé); a superviseur of the
 * same maraude; a maraude of département 93 (Nadia). The audit of disclosures (who received
 * which version, which fields, by which rule) is checked here too, through the real veillectl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "harness.h"

#define MARAUDE "maraude-75"
#define MARAUDE_93 "maraude-93"
#define HEALTH_NOTE "plaie infectée à la jambe, à revoir dans 48 h"

struct fixture {
	struct hx_env *e;
	struct hx_device marc, helene, sup, nadia;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, MARAUDE, "Maraude Paris Centre", "equipe_mobile", "75") ||
	    hx_structure_add(f->e, MARAUDE_93, "Maraude 93", "equipe_mobile", "93") ||
	    hx_server_start(f->e, (char *)NULL) ||
	    hx_new_device_as(f->e, MARAUDE, "Marc Maraudeur", "maraudeur", &f->marc) ||
	    hx_new_device_as(f->e, MARAUDE, "Hélène Infirmière", "professionnel_sante", &f->helene) ||
	    hx_new_device_as(f->e, MARAUDE, "Sylvie Superviseuse", "superviseur", &f->sup) ||
	    hx_new_device_as(f->e, MARAUDE_93, "Nadia Maraudeuse", "maraudeur", &f->nadia))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	hx_device_close(&f->marc);
	hx_device_close(&f->helene);
	hx_device_close(&f->sup);
	hx_device_close(&f->nadia);
	rc = hx_env_free(f->e);
	free(f);
	return rc;
}

struct seen {
	size_t n;
	char note[128], health_note[128];
};

static int keep(const Veille__V1__Change *ch, void *arg)
{
	struct seen *s = arg;

	if (ch->record_case == VEILLE__V1__CHANGE__RECORD_ENCOUNTER) {
		snprintf(s->note, sizeof s->note, "%s", ch->encounter->note);
		snprintf(s->health_note, sizeof s->health_note, "%s", ch->encounter->health_note);
	}
	s->n++;
	return 0;
}

static struct seen pull(struct hx_device *d)
{
	struct seen s;
	uint64_t next = 0;
	int more = 0;

	memset(&s, 0, sizeof s);
	assert_int_equal(veille_pull(d->c, 0, 0, keep, &s, &next, &more), 0);
	assert_int_equal(more, 0);
	return s;
}

/*
 * Hélène records an encounter with a health observation. Marc, of the same maraude, receives
 * the encounter and its team note but not the health note (HEALTH: health professionals
 * only); Hélène receives it whole; the maraude's superviseur receives nothing (no personal
 * record for supervision roles); Nadia, in another département, nothing.
 */
static void test_health_fields_only_to_health_professionals(void **state)
{
	struct fixture *f = *state;
	struct hx_mut m;
	struct veille_op_result r;
	Veille__V1__Mutation *mp = &m.m;
	struct seen s;

	assert_int_equal(hx_mut_init(&m, NULL, "rencontré rue de Rivoli"), 0);
	m.e.health_note = (char *)HEALTH_NOTE;
	assert_int_equal(veille_push(f->helene.c, &mp, 1, &r), 0);
	assert_int_equal(r.status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);

	s = pull(&f->marc);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.note, "rencontré rue de Rivoli");
	assert_string_equal(s.health_note, "");
	s = pull(&f->helene);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.health_note, HEALTH_NOTE);
	s = pull(&f->sup);
	assert_int_equal(s.n, 0);
	s = pull(&f->nadia);
	assert_int_equal(s.n, 0);
	hx_mut_free(&m);
}

/* Every change a pull from the start gives, with its health note (a few at most). */
struct versions {
	size_t n;
	struct {
		char record_id[33];
		uint64_t version;
		char health_note[128];
	} v[8];
};

static int keep_version(const Veille__V1__Change *ch, void *arg)
{
	struct versions *vs = arg;

	if (vs->n == sizeof vs->v / sizeof *vs->v)
		return 1;
	snprintf(vs->v[vs->n].record_id, sizeof vs->v[0].record_id, "%s", ch->record_id);
	vs->v[vs->n].version = ch->version;
	if (ch->record_case == VEILLE__V1__CHANGE__RECORD_ENCOUNTER)
		snprintf(vs->v[vs->n].health_note, sizeof vs->v[0].health_note, "%s",
			 ch->encounter->health_note);
	vs->n++;
	return 0;
}

static struct versions pull_versions(struct hx_device *d)
{
	struct versions vs;
	uint64_t next = 0;
	int more = 0;

	memset(&vs, 0, sizeof vs);
	assert_int_equal(veille_pull(d->c, 0, 0, keep_version, &vs, &next, &more), 0);
	assert_int_equal(more, 0);
	return vs;
}

/* The health note of record_id at version in vs, or NULL if vs does not hold that version. */
static const char *health_of(const struct versions *vs, const char *record_id, uint64_t version)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].record_id, record_id) && vs->v[i].version == version)
			return vs->v[i].health_note;
	return NULL;
}

static void expect_health_refused(const struct veille_op_result *r)
{
	assert_int_equal(r->status, VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED);
	assert_int_equal(r->code, VEILLE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN);
}

#define HEALTH_REFUSAL "health fields are for health professionals"
#define HEALTH_NOTE_2 "plaie propre, pansement refait"

/*
 * Issue 13: health notes are written by health professionals only. Bad input: Marc (maraudeur)
 * pushes a batch of two encounters about P, the first with a health note: it is REJECTED
 * FORBIDDEN with the reason, the second (its health note empty) is APPLIED; the connection
 * stays up (the next pushes go on it: libveille does not reconnect by itself). Sent again with
 * its counter, the refused op gets its first answer. Bad input: Marc's correction of his
 * encounter adding a health note is refused too, and the record stays at version 1. Hélène
 * (professionnelle de santé, same maraude) records an encounter about P with a health note and
 * corrects it: both APPLIED. Hélène reads her notes back, Marc receives both encounters but no
 * health note, and nothing of his refused ops.
 */
static void test_health_fields_written_by_health_professionals_only(void **state)
{
	struct fixture *f = *state;
	struct hx_mut bad, plain, fix, hel;
	Veille__V1__Mutation *muts[2];
	struct veille_op_result r[2];
	struct versions vs;

	assert_int_equal(hx_mut_init(&bad, NULL, "rencontré rue de Rivoli"), 0);
	bad.e.health_note = (char *)HEALTH_NOTE;
	assert_int_equal(hx_mut_init(&plain, bad.person_id, "rencontré quai de la Tournelle"), 0);
	muts[0] = &bad.m;
	muts[1] = &plain.m;
	assert_int_equal(veille_push(f->marc.c, muts, 2, r), 0);
	expect_health_refused(&r[0]);
	assert_string_equal(r[0].reason, HEALTH_REFUSAL);
	assert_int_equal(r[1].status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);
	assert_int_equal(r[1].version, 1);
	/* The refused op again, its counter kept: the same answer, nothing applied. */
	assert_int_equal(veille_push(f->marc.c, muts, 1, r), 0);
	expect_health_refused(&r[0]);

	/* A correction (version 2 of Marc's plain encounter) adding a health note. */
	assert_int_equal(hx_mut_init(&fix, bad.person_id, "rencontré quai de la Tournelle"), 0);
	memcpy(fix.record_id, plain.record_id, sizeof fix.record_id);
	fix.m.base_version = 1;
	fix.e.health_note = (char *)HEALTH_NOTE;
	muts[0] = &fix.m;
	assert_int_equal(veille_push(f->marc.c, muts, 1, r), 0);
	expect_health_refused(&r[0]);
	assert_string_equal(r[0].reason, HEALTH_REFUSAL);

	/* Hélène writes one, then corrects it: both applied. */
	assert_int_equal(hx_mut_init(&hel, bad.person_id, "vue avec Marc"), 0);
	hel.e.health_note = (char *)HEALTH_NOTE;
	muts[0] = &hel.m;
	assert_int_equal(veille_push(f->helene.c, muts, 1, r), 0);
	assert_int_equal(r[0].status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);
	hel.m.op_counter = 0; /* a new op: the correction */
	hel.m.base_version = 1;
	hel.e.health_note = (char *)HEALTH_NOTE_2;
	assert_int_equal(veille_push(f->helene.c, muts, 1, r), 0);
	assert_int_equal(r[0].status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);
	assert_int_equal(r[0].version, 2);

	vs = pull_versions(&f->helene);
	assert_int_equal(vs.n, 3); /* Marc's plain encounter, Hélène's two versions */
	assert_non_null(health_of(&vs, plain.record_id, 1));
	assert_string_equal(health_of(&vs, plain.record_id, 1), "");
	assert_string_equal(health_of(&vs, hel.record_id, 1), HEALTH_NOTE);
	assert_string_equal(health_of(&vs, hel.record_id, 2), HEALTH_NOTE_2);
	assert_null(health_of(&vs, bad.record_id, 1));
	assert_null(health_of(&vs, plain.record_id, 2));

	vs = pull_versions(&f->marc);
	assert_int_equal(vs.n, 3);
	assert_null(health_of(&vs, bad.record_id, 1));
	assert_null(health_of(&vs, plain.record_id, 2));
	for (size_t i = 0; i < vs.n; i++)
		assert_string_equal(vs.v[i].health_note, "");
	hx_mut_free(&bad);
	hx_mut_free(&plain);
	hx_mut_free(&fix);
	hx_mut_free(&hel);
}

/*
 * `veillectl person erase P` while veilled serves: P's data key is destroyed. Marc's encounters
 * about P no longer come in a pull from the start (another person's still do); a new
 * encounter about P is REJECTED FORBIDDEN; erasing P again is harmless; an unknown person or
 * a malformed id fails.
 */
static void test_person_erased(void **state)
{
	struct fixture *f = *state;
	struct hx_mut p1, p2, other;
	Veille__V1__Mutation *muts[2];
	struct veille_op_result r[2];
	struct hx_out out;
	struct seen s;
	char unknown[33];

	assert_int_equal(hx_mut_init(&p1, NULL, "première rencontre"), 0);
	assert_int_equal(hx_mut_init(&p2, p1.person_id, "deuxième rencontre"), 0);
	assert_int_equal(hx_mut_init(&other, NULL, "une autre personne"), 0);
	muts[0] = &p1.m;
	muts[1] = &other.m;
	assert_int_equal(veille_push(f->marc.c, muts, 2, r), 0);
	assert_int_equal(pull(&f->marc).n, 2);

	assert_int_equal(hx_ctl(f->e, &out, "person", "erase", p1.person_id, (char *)NULL), 0);
	assert_non_null(strstr(out.out, "erased person_id="));
	hx_out_free(&out);
	s = pull(&f->marc);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.note, "une autre personne");
	muts[0] = &p2.m;
	assert_int_equal(veille_push(f->marc.c, muts, 1, r), 0);
	assert_int_equal(r[0].status, VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED);
	assert_int_equal(r[0].code, VEILLE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN);
	/* Erasing again changes nothing (and succeeds). Bad input: an unknown person; not an id. */
	assert_int_equal(hx_ctl(f->e, NULL, "person", "erase", p1.person_id, (char *)NULL), 0);
	assert_int_equal(veille_new_record_id(unknown), 0);
	assert_int_not_equal(hx_ctl(f->e, NULL, "person", "erase", unknown, (char *)NULL), 0);
	assert_int_not_equal(hx_ctl(f->e, NULL, "person", "erase", "P1", (char *)NULL), 0);
	hx_mut_free(&p1);
	hx_mut_free(&p2);
	hx_mut_free(&other);
}

/*
 * Every administrative action of veillectl (structures, professionals and their pairing
 * codes, a revocation) is in the audit log, whose chain `veillectl audit verify` finds
 * whole; the log holds ids and action names only (no professional's name).
 */
static void test_admin_actions_audited(void **state)
{
	struct fixture *f = *state;
	struct hx_out out;

	assert_int_equal(hx_ctl(f->e, NULL, "device", "revoke", f->nadia.device_hex, (char *)NULL),
			 0);
	assert_int_equal(hx_ctl(f->e, &out, "audit", "list", (char *)NULL), 0);
	assert_int_equal(hx_count_lines(out.out, "1\t"), 1);
	assert_non_null(strstr(out.out, "\tveillectl\tstructure add\t" MARAUDE "\n"));
	assert_non_null(strstr(out.out, "\tveillectl\tprofessional add\t"));
	assert_non_null(strstr(out.out, "\tveillectl\tdevice revoke\t"));
	assert_null(strstr(out.out, "Hélène"));
	assert_null(strstr(out.out, "Infirmière"));
	hx_out_free(&out);
	assert_int_equal(hx_ctl(f->e, &out, "audit", "verify", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "audit=ok entries="));
	hx_out_free(&out);
}

/*
 * `veillectl retention run --seconds 1`, 1.5 s after an encounter about P and just after one
 * about Q: P is erased (nothing recorded about them for over a second), Q is kept; the run is
 * in the audit log, and each person it erased in their access report. Bad input: --days 0.
 */
static void test_retention_run(void **state)
{
	struct fixture *f = *state;
	struct hx_mut p, q;
	Veille__V1__Mutation *mp;
	struct veille_op_result r;
	struct hx_out out;
	struct seen s;

	assert_int_equal(hx_mut_init(&p, NULL, "personne P"), 0);
	assert_int_equal(hx_mut_init(&q, NULL, "personne Q"), 0);
	mp = &p.m;
	assert_int_equal(veille_push(f->marc.c, &mp, 1, &r), 0);
	hx_sleep_ms(1500);
	mp = &q.m;
	assert_int_equal(veille_push(f->marc.c, &mp, 1, &r), 0);
	assert_int_equal(hx_ctl(f->e, &out, "retention", "run", "--seconds", "1", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "erased=1 "));
	hx_out_free(&out);
	s = pull(&f->marc);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.note, "personne Q");
	assert_int_equal(hx_ctl(f->e, &out, "audit", "list", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "\tveillectl\tretention run\tbefore "));
	hx_out_free(&out);
	/* P's access report shows the erasure; Q's does not. */
	assert_int_equal(hx_ctl(f->e, &out, "audit", "person", p.person_id, (char *)NULL), 0);
	assert_non_null(strstr(out.out, "retention erase"));
	hx_out_free(&out);
	assert_int_equal(hx_ctl(f->e, &out, "audit", "person", q.person_id, (char *)NULL), 0);
	assert_null(strstr(out.out, "retention erase"));
	hx_out_free(&out);
	assert_int_not_equal(hx_ctl(f->e, NULL, "retention", "run", "--days", "0", (char *)NULL), 0);
	hx_mut_free(&p);
	hx_mut_free(&q);
}

/*
 * Backups that erasure reaches (docs/operations.md). Marc records two encounters about P and
 * two about Q; `veillectl backup OUT` while veilled serves; then a third encounter about Q,
 * and P is erased. veilled is stopped, OUT put in place as the data directory's store (the
 * live key ring, DATA/keys, kept) and veilled started again. A pull from the start has Q's
 * two encounters of before the backup (the store is the backup's: the third is gone) and
 * nothing about P: the backup holds P's records but not P's key, which the erasure destroyed.
 * A new encounter about P is still refused. Both backups are in the audit log. Bad input: a
 * backup into a directory that is not empty.
 */
static void test_erasure_reaches_backup(void **state)
{
	struct fixture *f = *state;
	struct hx_batch *p = hx_batch_new(2, NULL, "personne P avant la sauvegarde");
	struct hx_batch *q = hx_batch_new(2, NULL, "personne Q avant la sauvegarde");
	struct hx_batch *q_after = NULL, *p_again = NULL;
	char out_dir[PATH_MAX + 32], keys_dir[PATH_MAX + 32], store[PATH_MAX + 32],
		old[PATH_MAX + 32];
	struct hx_changes cs;
	struct hx_out out;

	assert_non_null(p);
	assert_non_null(q);
	assert_non_null(q_after = hx_batch_new(1, q->muts[0].person_id, "Q après la sauvegarde"));
	assert_non_null(p_again = hx_batch_new(1, p->muts[0].person_id, "P après l'effacement"));
	assert_int_equal(hx_push(&f->marc, p), 0);
	assert_int_equal(hx_push(&f->marc, q), 0);

	snprintf(out_dir, sizeof out_dir, "%s/backup", f->e->tmp);
	snprintf(keys_dir, sizeof keys_dir, "%s/backup-keys", f->e->tmp);
	assert_int_equal(hx_ctl(f->e, &out, "backup", out_dir, (char *)NULL), 0);
	assert_non_null(strstr(out.out, "backup="));
	hx_out_free(&out);
	assert_int_equal(hx_ctl(f->e, &out, "backup-keys", keys_dir, (char *)NULL), 0);
	assert_non_null(strstr(out.out, "backup_keys="));
	hx_out_free(&out);
	/* Bad input: a directory that already holds something. */
	assert_int_not_equal(hx_ctl(f->e, NULL, "backup", out_dir, (char *)NULL), 0);
	assert_int_not_equal(hx_ctl(f->e, NULL, "backup-keys", out_dir, (char *)NULL), 0);
	assert_int_equal(hx_ctl(f->e, &out, "audit", "list", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "\tveillectl\tbackup\t"));
	assert_non_null(strstr(out.out, "\tveillectl\tbackup-keys\t"));
	hx_out_free(&out);

	assert_int_equal(hx_push(&f->marc, q_after), 0);
	assert_int_equal(q_after->res[0].status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);
	assert_int_equal(hx_ctl(f->e, NULL, "person", "erase", p->muts[0].person_id, (char *)NULL),
			 0);

	/* The restore: veilled stopped, the backup in place of DATA/store, DATA/keys kept. */
	assert_int_equal(hx_server_stop(f->e), 0);
	snprintf(store, sizeof store, "%s/store", f->e->data);
	snprintf(old, sizeof old, "%s/store-before-restore", f->e->tmp);
	assert_int_equal(rename(store, old), 0);
	assert_int_equal(rename(out_dir, store), 0);
	assert_int_equal(hx_server_start_again(f->e), 0);

	assert_int_equal(veille_connect(f->marc.c, -1), 0);
	memset(&cs, 0, sizeof cs);
	assert_int_equal(hx_pull_all(f->marc.c, 0, 0, &cs), 0);
	assert_int_equal(cs.n, 2);
	for (size_t i = 0; i < q->n; i++) {
		const struct hx_change *ch = hx_changes_find(&cs, q->muts[i].record_id, 1);

		assert_non_null(ch);
		assert_string_equal(ch->note, q->muts[i].note);
	}
	for (size_t i = 0; i < cs.n; i++)
		assert_string_not_equal(cs.v[i].person_id, p->muts[0].person_id);
	hx_changes_free(&cs);
	assert_int_equal(hx_push(&f->marc, p_again), 0);
	assert_int_equal(p_again->res[0].status, VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED);
	assert_int_equal(p_again->res[0].code, VEILLE__V1__ERROR_CODE__ERROR_CODE_FORBIDDEN);
	hx_batch_free(p);
	hx_batch_free(q);
	hx_batch_free(q_after);
	hx_batch_free(p_again);
}

/* The lines of text that contain needle. */
static size_t count_containing(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *at = text; (at = strstr(at, needle)) != NULL; at += strlen(needle))
		n++;
	return n;
}

/* The line of text holding both a and b (NULL if none), copied into line. */
static const char *line_with(const char *text, const char *a, const char *b, char *line,
			    size_t n)
{
	for (const char *at = text; at && *at;) {
		const char *end = strchr(at, '\n');
		size_t len = end ? (size_t)(end - at) : strlen(at);

		if (len < n) {
			memcpy(line, at, len);
			line[len] = '\0';
			if (strstr(line, a) && strstr(line, b))
				return line;
		}
		at = end ? end + 1 : NULL;
	}
	return NULL;
}

#define NICKNAME "Jojo-des-quais"
#define SITUATION "dort sous le pont Marie depuis mars"
#define NOTE "rencontré quai de la Tournelle"

/*
 * The audit of disclosures (issue 5): Hélène pushes an encounter about P (a team note and a
 * health note: she is a health professional) and Marc P's profile (a nickname, a situation).
 * Hélène, of the same maraude, pulls them: `veillectl audit person P` lists her disclosure of each, with record id, version,
 * field names and rule; no field value appears in `audit list`. Nadia, in another
 * département, pulls nothing of P: nothing is listed for her. The chain is whole after the
 * pulls; a pull that finds nothing adds no entry.
 */
static void test_disclosures_audited(void **state)
{
	struct fixture *f = *state;
	struct hx_mut enc;
	Veille__V1__Mutation per = VEILLE__V1__MUTATION__INIT, *muts[2];
	Veille__V1__Person person = VEILLE__V1__PERSON__INIT;
	Veille__V1__PersonFieldValue v[2], *vp[2];
	Veille__V1__Hlc hlc = VEILLE__V1__HLC__INIT;
	struct veille_op_result r[2];
	struct hx_out out, list, verify;
	char line[2048], entries_before[32], entries_after[32];
	struct seen s;

	assert_int_equal(hx_mut_init(&enc, NULL, NOTE), 0);
	enc.e.health_note = (char *)HEALTH_NOTE;
	hlc.wall_ms = hx_now_ms();
	hlc.device_id.data = f->marc.device_id;
	hlc.device_id.len = 16;
	for (int i = 0; i < 2; i++) {
		veille__v1__person_field_value__init(&v[i]);
		v[i].hlc = &hlc;
		v[i].value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
		vp[i] = &v[i];
	}
	v[0].field = VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME;
	v[0].text = (char *)NICKNAME;
	v[1].field = VEILLE__V1__PERSON_FIELD__PERSON_FIELD_SITUATION;
	v[1].text = (char *)SITUATION;
	person.n_fields = 2;
	person.fields = vp;
	per.record_id = enc.person_id; /* a profile's record id is the person's id */
	per.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	per.person = &person;
	muts[0] = &enc.m;
	muts[1] = &per;
	assert_int_equal(veille_push(f->helene.c, &muts[0], 1, &r[0]), 0);
	assert_int_equal(veille_push(f->marc.c, &muts[1], 1, &r[1]), 0);
	assert_int_equal(r[0].status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);
	assert_int_equal(r[1].status, VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED);

	s = pull(&f->helene);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.health_note, HEALTH_NOTE);
	assert_int_equal(hx_ctl(f->e, &verify, "audit", "verify", (char *)NULL), 0);
	assert_int_equal(hx_kv(verify.out, "audit=ok entries", entries_before,
			       sizeof entries_before), 0);
	hx_out_free(&verify);
	/* Nadia's pull finds nothing she may see: no entry. */
	assert_int_equal(pull(&f->nadia).n, 0);
	assert_int_equal(hx_ctl(f->e, &verify, "audit", "verify", (char *)NULL), 0);
	assert_int_equal(hx_kv(verify.out, "audit=ok entries", entries_after,
			       sizeof entries_after), 0);
	assert_string_equal(entries_before, entries_after);
	hx_out_free(&verify);

	assert_int_equal(hx_ctl(f->e, &out, "audit", "person", enc.person_id, (char *)NULL), 0);
	/* Hélène's disclosure of the encounter: her structure, role, the record and version,
	 * the fields she received (the health note among them: she is a health professional),
	 * the rule. */
	assert_non_null(line_with(out.out, f->helene.professional_id, enc.record_id, line,
				  sizeof line));
	assert_non_null(strstr(line, "\t" MARAUDE "\tprofessionnel_sante\tdisclose\t"));
	assert_non_null(strstr(line, "\t1\t"));
	assert_non_null(strstr(line, "note"));
	assert_non_null(strstr(line, "health_note"));
	assert_non_null(strstr(line, "Encounter/author"));
	/* ... and of the profile: its two fields by name. */
	{
		char rec[64];

		snprintf(rec, sizeof rec, "\t%s\t1\t", enc.person_id);
		assert_non_null(line_with(out.out, f->helene.professional_id, rec, line,
					  sizeof line));
		assert_non_null(strstr(line, "nickname,situation"));
		assert_non_null(strstr(line, "Person/author"));
	}
	assert_null(strstr(out.out, f->nadia.professional_id));
	assert_null(strstr(out.out, "maraude-93"));
	hx_out_free(&out);

	/* No field value anywhere in the log. */
	assert_int_equal(hx_ctl(f->e, &list, "audit", "list", (char *)NULL), 0);
	assert_true(count_containing(list.out, "\tdisclose\t") >= 2);
	assert_null(strstr(list.out, NICKNAME));
	assert_null(strstr(list.out, SITUATION));
	assert_null(strstr(list.out, NOTE));
	assert_null(strstr(list.out, "plaie"));
	/* Nadia is in the log (her professional was added) but received nothing. */
	assert_null(line_with(list.out, f->nadia.professional_id, "\tdisclose\t", line,
			      sizeof line));
	hx_out_free(&list);
	assert_int_equal(hx_ctl(f->e, &verify, "audit", "verify", (char *)NULL), 0);
	assert_non_null(strstr(verify.out, "audit=ok entries="));
	hx_out_free(&verify);
	/* Bad input: not a person id. */
	assert_int_not_equal(hx_ctl(f->e, NULL, "audit", "person", "P1", (char *)NULL), 0);
	hx_mut_free(&enc);
}

/*
 * `veillectl audit prune --seconds 1`, 1.5 s after a disclosure: the old entries go, the
 * chain verifies from its new anchor, the prune is itself in the log, and the person's report
 * no longer holds the pruned disclosure. Bad input: --days 0.
 */
static void test_audit_prune(void **state)
{
	struct fixture *f = *state;
	struct hx_mut enc;
	Veille__V1__Mutation *mp = &enc.m;
	struct veille_op_result r;
	struct hx_out out;

	assert_int_equal(hx_mut_init(&enc, NULL, "à revoir"), 0);
	assert_int_equal(veille_push(f->marc.c, &mp, 1, &r), 0);
	assert_int_equal(pull(&f->marc).n, 1);
	assert_int_equal(hx_ctl(f->e, &out, "audit", "person", enc.person_id, (char *)NULL), 0);
	assert_int_equal(count_containing(out.out, "\tdisclose\t"), 1);
	hx_out_free(&out);
	hx_sleep_ms(1500);
	assert_int_equal(hx_ctl(f->e, &out, "audit", "prune", "--seconds", "1", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "pruned="));
	assert_null(strstr(out.out, "pruned=0 "));
	hx_out_free(&out);
	assert_int_equal(hx_ctl(f->e, &out, "audit", "verify", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "audit=ok entries=1 first_seq="));
	hx_out_free(&out);
	assert_int_equal(hx_ctl(f->e, &out, "audit", "list", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "\tveillectl\taudit prune\tbefore "));
	hx_out_free(&out);
	assert_int_equal(hx_ctl(f->e, &out, "audit", "person", enc.person_id, (char *)NULL), 0);
	assert_int_equal(count_containing(out.out, "\tdisclose\t"), 0);
	hx_out_free(&out);
	assert_int_not_equal(hx_ctl(f->e, NULL, "audit", "prune", "--days", "0", (char *)NULL), 0);
	hx_mut_free(&enc);
}

/* ---- the audit log tampered with on disk ---- */

/* The data directory's store opened with LMDB itself (veilled stopped), its audit database. */
struct raw_audit {
	MDB_env *env;
	MDB_dbi dbi;
};

static void raw_open(struct fixture *f, struct raw_audit *r)
{
	char path[PATH_MAX + 16];
	MDB_txn *txn;

	snprintf(path, sizeof path, "%s/store", f->e->data);
	assert_int_equal(mdb_env_create(&r->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(r->env, 64), 0);
	assert_int_equal(mdb_env_open(r->env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(r->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "audit", 0, &r->dbi), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
}

/* Writes val under key (NULL val: deletes key). */
static void raw_put(struct raw_audit *r, const uint8_t key[8], const void *val, size_t len)
{
	MDB_val k = {8, (void *)key}, v = {len, (void *)val};
	MDB_txn *txn;

	assert_int_equal(mdb_txn_begin(r->env, NULL, 0, &txn), 0);
	assert_int_equal(val ? mdb_put(txn, r->dbi, &k, &v, 0) : mdb_del(txn, r->dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
}

/* A copy of the entry at key (the caller frees it). */
static uint8_t *raw_get(struct raw_audit *r, const uint8_t key[8], size_t *len)
{
	MDB_val k = {8, (void *)key}, v;
	MDB_txn *txn;
	uint8_t *copy;

	assert_int_equal(mdb_txn_begin(r->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_get(txn, r->dbi, &k, &v), 0);
	copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	*len = v.mv_size;
	mdb_txn_abort(txn);
	return copy;
}

/* `veillectl audit verify` finds the chain broken (exit 1, "audit=broken"). */
static void verify_broken(struct fixture *f)
{
	struct hx_out out;

	assert_int_equal(hx_ctl(f->e, &out, "audit", "verify", (char *)NULL), -1);
	assert_int_equal(out.status, 1);
	assert_non_null(strstr(out.out, "audit=broken"));
	hx_out_free(&out);
}

static void verify_whole(struct fixture *f)
{
	struct hx_out out;

	assert_int_equal(hx_ctl(f->e, &out, "audit", "verify", (char *)NULL), 0);
	assert_non_null(strstr(out.out, "audit=ok"));
	hx_out_free(&out);
}

/*
 * Bad input: the audit log edited on disk, as someone with access to the server's files could,
 * with veilled stopped. After Hélène pulls Marc's encounter (a disclosure entry) and a
 * revocation (an administrative action), bytes spread over the whole disclosure entry are
 * flipped one at a time in the real LMDB file: each time `veillectl audit verify` reports the
 * chain broken (exit 1), and whole again once the byte is restored. The administrative entry
 * removed, then moved (two entries swapped), is reported too.
 */
static void test_audit_tampered_on_disk(void **state)
{
	struct fixture *f = *state;
	struct hx_mut m;
	struct veille_op_result res;
	Veille__V1__Mutation *mp = &m.m;
	struct raw_audit r;
	uint8_t disclosure[8], action[8], *dv, *av;
	size_t dlen, alen, flips = 0;

	assert_int_equal(hx_mut_init(&m, NULL, "rencontré quai de Valmy"), 0);
	assert_int_equal(veille_push(f->marc.c, &mp, 1, &res), 0);
	assert_int_equal(pull(&f->helene).n, 1);
	hx_mut_free(&m);
	assert_int_equal(hx_ctl(f->e, NULL, "device", "revoke", f->nadia.device_hex, (char *)NULL),
			 0);
	verify_whole(f);
	assert_int_equal(hx_server_stop(f->e), 0);
	raw_open(f, &r);
	{ /* the last two entries: the revocation, and the pull's disclosure before it */
		MDB_txn *txn;
		MDB_cursor *cur;
		MDB_val k, v;

		assert_int_equal(mdb_txn_begin(r.env, NULL, MDB_RDONLY, &txn), 0);
		assert_int_equal(mdb_cursor_open(txn, r.dbi, &cur), 0);
		assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_LAST), 0);
		memcpy(action, k.mv_data, 8);
		assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_PREV), 0);
		memcpy(disclosure, k.mv_data, 8);
		mdb_cursor_close(cur);
		mdb_txn_abort(txn);
	}
	dv = raw_get(&r, disclosure, &dlen);
	av = raw_get(&r, action, &alen);
	for (size_t i = 0; i < dlen; i += 1 + dlen / 12, flips++) {
		dv[i] ^= 0x01;
		raw_put(&r, disclosure, dv, dlen);
		verify_broken(f);
		dv[i] ^= 0x01;
		raw_put(&r, disclosure, dv, dlen);
	}
	assert_true(flips >= 10);
	verify_whole(f);
	raw_put(&r, action, NULL, 0); /* removed: the last entry alone is not detectable, so */
	raw_put(&r, disclosure, av, alen); /* the action takes the disclosure's place: moved */
	verify_broken(f);
	raw_put(&r, disclosure, dv, dlen);
	raw_put(&r, action, av, alen);
	verify_whole(f);
	raw_put(&r, disclosure, NULL, 0); /* an entry inside the chain removed */
	verify_broken(f);
	mdb_env_close(r.env);
	free(dv);
	free(av);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_health_fields_only_to_health_professionals,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_health_fields_written_by_health_professionals_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_person_erased, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_actions_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erasure_reaches_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disclosures_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_tampered_on_disk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
