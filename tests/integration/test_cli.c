/*
 * Integration: the real `veille` command-line client against a real veilled, as a person or a
 * script would use it: enrol two devices of one team, record encounters on the first, pull
 * them as JSON lines on the second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#ifndef VEILLE_CLI_PATH
#error "VEILLE_CLI_PATH must be defined by the build"
#endif

#define TEAM "maraude-13-vieux-port"
#define NOTE "soupe chaude, sac de couchage, orientée vers l'accueil de jour"
#define CLI_TIMEOUT_MS 30000

struct fixture {
	struct hx_env *e;
	char code_a[32], code_b[32];
	char dir_a[PATH_MAX], dir_b[PATH_MAX], dir_c[PATH_MAX];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	*state = f;
	if (!f || !(f->e = hx_env_new()) ||
	    hx_structure_add(f->e, TEAM, "Maraude Vieux-Port", "equipe_mobile", "13") ||
	    hx_server_start(f->e, (char *)NULL) ||
	    hx_professional_add(f->e, TEAM, "Alice Martin", "maraudeur", NULL, 0, NULL,
				f->code_a) ||
	    hx_professional_add(f->e, TEAM, "Bob Durand", "maraudeur", NULL, 0, NULL, f->code_b))
		return -1;
	snprintf(f->dir_a, sizeof f->dir_a, "%s/cli-a", f->e->tmp);
	snprintf(f->dir_b, sizeof f->dir_b, "%s/cli-b", f->e->tmp);
	snprintf(f->dir_c, sizeof f->dir_c, "%s/cli-c", f->e->tmp);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (!f)
		return 0;
	rc = hx_env_free(f->e);
	free(f);
	return rc;
}

/* Runs `veille --dir DIR args...` (NULL-terminated) and expects exit status `expect`. */
#define veille(out, expect, ...) \
	assert_int_equal(hx_veille(out, expect, CLI_TIMEOUT_MS, __VA_ARGS__), expect)

/* The "seq" of the last JSON line of a pull's output. */
static unsigned long long last_seq(const char *text)
{
	unsigned long long seq = 0;
	const char *p = text;

	while ((p = strstr(p, "{\"seq\":"))) {
		seq = strtoull(p + 7, NULL, 10);
		p += 7;
	}
	return seq;
}

/*
 * `veille enrol` for Alice's and Bob's devices (same team); `encounter add --new-person
 * --count 100` on Alice's: exit 0 and 100 "applied" lines; `pull` on Bob's: 100 JSON lines
 * holding the note, the team and Alice as author; `pull` again: 0 lines (the cursor was
 * saved); `status` shows that cursor. Enrolling a third directory with Alice's used code
 * exits 2 with PAIRING_INVALID.
 */
static void test_enrol_add_pull_status(void **state)
{
	struct fixture *f = *state;
	struct hx_out out;
	char person[40], cursor[32], device[40], line_note[200];
	unsigned long long seq;

	veille(&out, 0, f->dir_a, "enrol", "--server", f->e->url, "--code",
	       f->code_a, "--label", "CLI test A", (char *)NULL);
	assert_non_null(strstr(out.out, "enrolled as Alice Martin"));
	assert_int_equal(hx_kv(out.out, "device_id", device, sizeof device), 0);
	assert_int_equal(strlen(device), 32);
	hx_out_free(&out);
	veille(&out, 0, f->dir_b, "enrol", "--server", f->e->url, "--code",
	       f->code_b, (char *)NULL);
	assert_non_null(strstr(out.out, "enrolled as Bob Durand"));
	hx_out_free(&out);

	veille(&out, 0, f->dir_a, "encounter", "add", "--new-person", "--note", NOTE,
	       "--need", "food", "--service", "hot_drink", "--count", "100",
	       (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "applied record_id="), 100);
	assert_int_equal(hx_count_lines(out.out, "applied "), 100);
	assert_int_equal(hx_kv(out.out, "person_id", person, sizeof person), 0);
	assert_int_equal(strlen(person), 32);
	hx_out_free(&out);

	veille(&out, 0, f->dir_b, "pull", (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "{"), 100);
	assert_int_equal(hx_count_lines(out.out, ""), 100); /* nothing else on stdout */
	snprintf(line_note, sizeof line_note, "\"note\":\"%s\"", NOTE);
	assert_non_null(strstr(out.out, line_note));
	assert_non_null(strstr(out.out, "\"team_id\":\"" TEAM "\""));
	assert_non_null(strstr(out.out, person));
	assert_non_null(strstr(out.out, "\"needs\":[\"food\"]"));
	assert_non_null(strstr(out.out, "\"services\":[\"hot_drink\"]"));
	assert_non_null(strstr(out.err, "pulled 100 changes"));
	seq = last_seq(out.out);
	assert_true(seq > 0);
	hx_out_free(&out);

	veille(&out, 0, f->dir_b, "pull", (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "{"), 0);
	assert_non_null(strstr(out.err, "pulled 0 changes"));
	hx_out_free(&out);

	veille(&out, 0, f->dir_b, "status", (char *)NULL);
	assert_int_equal(hx_kv(out.out, "cursor", cursor, sizeof cursor), 0);
	assert_int_equal(strtoull(cursor, NULL, 10), seq);
	assert_non_null(strstr(out.out, "structure=Maraude Vieux-Port [" TEAM "]"));
	hx_out_free(&out);

	/* Alice's code was used by the first enrolment. */
	veille(&out, 2, f->dir_c, "enrol", "--server", f->e->url, "--code",
	       f->code_a, (char *)NULL);
	assert_non_null(strstr(out.err, "PAIRING_INVALID"));
	hx_out_free(&out);
}

/*
 * A note holding a double quote, a backslash and a tab travels through `encounter add` and
 * comes out of `pull` as one valid JSON line, escaped (\", \\, \u0009).
 */
static void test_pull_escapes_json(void **state)
{
	struct fixture *f = *state;
	struct hx_out out;

	veille(&out, 0, f->dir_a, "enrol", "--server", f->e->url, "--code",
	       f->code_a, (char *)NULL);
	hx_out_free(&out);
	veille(&out, 0, f->dir_b, "enrol", "--server", f->e->url, "--code",
	       f->code_b, (char *)NULL);
	hx_out_free(&out);
	veille(&out, 0, f->dir_a, "encounter", "add", "--new-person", "--note",
	       "il a dit \"merci\"\tC:\\abri", (char *)NULL);
	hx_out_free(&out);
	veille(&out, 0, f->dir_b, "pull", (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "{"), 1);
	assert_non_null(strstr(out.out, "\"note\":\"il a dit \\\"merci\\\"\\u0009C:\\\\abri\","));
	hx_out_free(&out);
}

#define HEALTH_NOTE "toux depuis une semaine, à revoir"

/*
 * Issue 13, through the CLI. Bad input: Alice (maraudeur) runs `encounter add --health-note`:
 * exit 2, one "rejected ... code=FORBIDDEN reason=health fields are for health professionals"
 * line and no "applied", and `problems` keeps it. The same command without the health note is
 * applied. Chloé (professionnelle de santé, same team) records one with a health note about
 * the same person (exit 0) and reads it back in her pull; Bob (maraudeur) receives her
 * encounter with an empty health note, and nothing of Alice's refused one.
 */
static void test_health_note_refused_to_maraudeur(void **state)
{
	struct fixture *f = *state;
	struct hx_out out;
	char person[40], refused[40], code_c[32];

	assert_int_equal(hx_professional_add(f->e, TEAM, "Chloé Infirmière", "professionnel_sante",
					     NULL, 0, NULL, code_c), 0);
	veille(&out, 0, f->dir_a, "enrol", "--server", f->e->url, "--code", f->code_a,
	       (char *)NULL);
	hx_out_free(&out);
	veille(&out, 0, f->dir_b, "enrol", "--server", f->e->url, "--code", f->code_b,
	       (char *)NULL);
	hx_out_free(&out);
	veille(&out, 0, f->dir_c, "enrol", "--server", f->e->url, "--code", code_c, (char *)NULL);
	hx_out_free(&out);

	veille(&out, 2, f->dir_a, "encounter", "add", "--new-person", "--note", NOTE,
	       "--health-note", HEALTH_NOTE, (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "rejected record_id="), 1);
	assert_int_equal(hx_count_lines(out.out, "applied "), 0);
	assert_non_null(strstr(out.out, " code=FORBIDDEN reason=health fields are for health "
					"professionals\n"));
	assert_int_equal(hx_kv(out.out, "person_id", person, sizeof person), 0);
	{
		const char *at = strstr(out.out, "rejected record_id=");

		assert_non_null(at);
		snprintf(refused, sizeof refused, "%.32s", at + strlen("rejected record_id="));
		assert_int_equal(strlen(refused), 32);
	}
	hx_out_free(&out);
	veille(&out, 0, f->dir_a, "problems", (char *)NULL);
	assert_non_null(strstr(out.out, refused));
	assert_non_null(strstr(out.out, "code=FORBIDDEN reason=health fields are for health "
					"professionals"));
	hx_out_free(&out);
	veille(&out, 0, f->dir_a, "encounter", "add", "--person", person, "--note", NOTE,
	       (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "applied record_id="), 1);
	hx_out_free(&out);

	veille(&out, 0, f->dir_c, "encounter", "add", "--person", person, "--note", "vue par Chloé",
	       "--health-note", HEALTH_NOTE, (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "applied record_id="), 1);
	hx_out_free(&out);
	veille(&out, 0, f->dir_c, "pull", "--from", "0", (char *)NULL); /* add synced already */
	assert_int_equal(hx_count_lines(out.out, "{"), 2);
	assert_non_null(strstr(out.out, "\"health_note\":\"" HEALTH_NOTE "\""));
	assert_null(strstr(out.out, refused));
	hx_out_free(&out);
	veille(&out, 0, f->dir_b, "pull", "--from", "0", (char *)NULL);
	assert_int_equal(hx_count_lines(out.out, "{"), 2);
	{ /* both encounters, each with an empty health note */
		size_t n = 0;

		for (const char *at = out.out; (at = strstr(at, "\"health_note\":")); at++, n++)
			assert_memory_equal(at, "\"health_note\":\"\"", 16);
		assert_int_equal(n, 2);
	}
	assert_null(strstr(out.out, HEALTH_NOTE));
	assert_null(strstr(out.out, refused));
	hx_out_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enrol_add_pull_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_escapes_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_note_refused_to_maraudeur, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("integration_cli", tests, NULL, NULL);
}
