/* test_directory: structures, professionals, devices and one-time pairing codes in a real
 * store. Each test runs in one write transaction that teardown aborts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <sodium.h>

#include "directory.h"
#include "unit.h"

static void add_structure(struct store_txn *t, const char *id, const char *name)
{
	Veille__Store__V1__Structure s = VEILLE__STORE__V1__STRUCTURE__INIT;

	s.id = (char *)id;
	s.name = (char *)name;
	s.kind = VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_EQUIPE_MOBILE;
	s.territory = "75";
	s.created_at_ms = 1000;
	assert_int_equal(directory_structure_add(t, &s), STORE_OK);
}

static void add_professional(struct store_txn *t, const char *id, const char *structure_id)
{
	Veille__Store__V1__Professional p = VEILLE__STORE__V1__PROFESSIONAL__INIT;

	p.id = (char *)id;
	p.display_name = "Camille Martin";
	p.structure_id = (char *)structure_id;
	p.role = VEILLE__V1__ROLE__ROLE_MARAUDEUR;
	assert_int_equal(directory_professional_add(t, &p), STORE_OK);
}

static void test_structure_add_get_duplicate(void **state)
{
	struct unit_txn *f = *state;
	Veille__Store__V1__Structure s = VEILLE__STORE__V1__STRUCTURE__INIT;
	Veille__Store__V1__Structure *got = NULL;

	add_structure(f->t, "maraude-13", "Maraude Paris 13");
	assert_int_equal(directory_structure_get(f->t, "maraude-13", &got), STORE_OK);
	assert_non_null(got);
	assert_string_equal(got->id, "maraude-13");
	assert_string_equal(got->name, "Maraude Paris 13");
	assert_int_equal(got->kind, VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_EQUIPE_MOBILE);
	assert_string_equal(got->territory, "75");
	assert_int_equal(got->created_at_ms, 1000);
	codec_stored_free(&got->base);

	/* Bad input: a second structure with a taken id. */
	s.id = "maraude-13";
	s.name = "Another name";
	assert_int_equal(directory_structure_add(f->t, &s), STORE_EEXISTS);
	assert_int_equal(directory_structure_get(f->t, "maraude-13", &got), STORE_OK);
	assert_string_equal(got->name, "Maraude Paris 13");
	codec_stored_free(&got->base);

	/* Bad input: an id that was never added. */
	got = (Veille__Store__V1__Structure *)1;
	assert_int_equal(directory_structure_get(f->t, "maraude-14", &got), STORE_ENOTFOUND);
	assert_null(got);
}

/* A structure's location: stored with it, changed by structure_put (only of an existing
 * structure), and checked by directory_location_valid. */
static void test_structure_location_put(void **state)
{
	struct unit_txn *f = *state;
	Veille__Store__V1__Structure s = VEILLE__STORE__V1__STRUCTURE__INIT, *got = NULL;

	add_structure(f->t, "chrs-75-a", "CHRS A");
	s.id = "chrs-75-a";
	s.name = "CHRS A (rue Oberkampf)";
	s.kind = VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_CHRS;
	s.territory = "75";
	s.address = "12 rue Oberkampf, 75011 Paris";
	s.located = 1;
	s.latitude = 48.8649;
	s.longitude = 2.3735;
	assert_true(directory_location_valid(&s));
	assert_int_equal(directory_structure_put(f->t, &s), STORE_OK);
	assert_int_equal(directory_structure_get(f->t, "chrs-75-a", &got), STORE_OK);
	assert_string_equal(got->name, "CHRS A (rue Oberkampf)");
	assert_string_equal(got->address, "12 rue Oberkampf, 75011 Paris");
	assert_true(got->located);
	assert_true(got->latitude == 48.8649 && got->longitude == 2.3735);
	codec_stored_free(&got->base);

	/* Bad input: put never creates. */
	s.id = "chrs-75-b";
	assert_int_equal(directory_structure_put(f->t, &s), STORE_ENOTFOUND);
}

static void test_location_valid(void **state)
{
	Veille__Store__V1__Structure s = VEILLE__STORE__V1__STRUCTURE__INIT;
	char long_address[DIRECTORY_MAX_ADDRESS + 2];

	(void)state;
	assert_true(directory_location_valid(&s)); /* nothing: fine */
	s.located = 1;
	s.latitude = 90;
	s.longitude = -180;
	assert_true(directory_location_valid(&s));
	s.latitude = 90.0001;
	assert_false(directory_location_valid(&s));
	s.latitude = 0;
	s.longitude = 180.5;
	assert_false(directory_location_valid(&s));
	s.longitude = NAN;
	assert_false(directory_location_valid(&s));
	s.located = 0; /* a point without located is not a location */
	s.longitude = 2.35;
	assert_false(directory_location_valid(&s));
	s.longitude = 0;
	memset(long_address, 'a', sizeof long_address - 1);
	long_address[DIRECTORY_MAX_ADDRESS] = '\0';
	s.address = long_address;
	assert_true(directory_location_valid(&s));
	long_address[DIRECTORY_MAX_ADDRESS] = 'a';
	long_address[DIRECTORY_MAX_ADDRESS + 1] = '\0';
	assert_false(directory_location_valid(&s));
	s.address = "12 rue\tX";
	assert_false(directory_location_valid(&s));
	s.address = "\xc3\x28";
	assert_false(directory_location_valid(&s));
	s.address = "3 rue de l'\xc3\x89glise";
	assert_true(directory_location_valid(&s));
}

static void test_professional_add_unknown_structure(void **state)
{
	struct unit_txn *f = *state;
	Veille__Store__V1__Professional p = VEILLE__STORE__V1__PROFESSIONAL__INIT;
	Veille__Store__V1__Professional *got = NULL;

	p.id = "camille";
	p.display_name = "Camille Martin";
	p.structure_id = "no-such-structure";
	p.role = VEILLE__V1__ROLE__ROLE_MARAUDEUR;
	/* Bad input: a professional of a structure that does not exist. */
	assert_int_equal(directory_professional_add(f->t, &p), STORE_ENOTFOUND);
	assert_int_equal(directory_professional_get(f->t, "camille", &got), STORE_ENOTFOUND);
}

static void test_professional_add_get_put(void **state)
{
	struct unit_txn *f = *state;
	Veille__Store__V1__Professional *got = NULL;

	add_structure(f->t, "maraude-13", "Maraude Paris 13");
	add_professional(f->t, "camille", "maraude-13");
	assert_int_equal(directory_professional_get(f->t, "camille", &got), STORE_OK);
	assert_string_equal(got->display_name, "Camille Martin");
	assert_string_equal(got->structure_id, "maraude-13");
	assert_int_equal(got->role, VEILLE__V1__ROLE__ROLE_MARAUDEUR);
	assert_int_equal(got->revoked_at_ms, 0);

	/* Bad input: add with a taken id. */
	assert_int_equal(directory_professional_add(f->t, got), STORE_EEXISTS);
	/* put overwrites: revocation. */
	got->revoked_at_ms = 5000;
	assert_int_equal(directory_professional_put(f->t, got), STORE_OK);
	codec_stored_free(&got->base);
	assert_int_equal(directory_professional_get(f->t, "camille", &got), STORE_OK);
	assert_int_equal(got->revoked_at_ms, 5000);
	codec_stored_free(&got->base);
}

static void test_device_put_get(void **state)
{
	struct unit_txn *f = *state;
	Veille__Store__V1__Device d = VEILLE__STORE__V1__DEVICE__INIT;
	Veille__Store__V1__Device *got = NULL;
	uint8_t id[16], pk[32];

	randombytes_buf(id, sizeof(id));
	randombytes_buf(pk, sizeof(pk));
	d.id.data = id;
	d.id.len = 16;
	d.public_key.data = pk;
	d.public_key.len = 32;
	d.professional_id = "camille";
	d.label = "telephone maraude 2";
	assert_int_equal(directory_device_put(f->t, &d), STORE_OK);
	assert_int_equal(directory_device_get(f->t, id, &got), STORE_OK);
	assert_int_equal(got->public_key.len, 32);
	assert_memory_equal(got->public_key.data, pk, 32);
	assert_string_equal(got->label, "telephone maraude 2");
	codec_stored_free(&got->base);
	/* Bad input: a device id of 15 bytes. */
	d.id.len = 15;
	assert_int_equal(directory_device_put(f->t, &d), STORE_ETOOBIG);
	id[0] ^= 1;
	assert_int_equal(directory_device_get(f->t, id, &got), STORE_ENOTFOUND);
}

static int count_visit(const ProtobufCMessage *msg, void *arg)
{
	const Veille__Store__V1__Structure *s = (const Veille__Store__V1__Structure *)msg;
	char *order = arg;

	strcat(order, s->id);
	strcat(order, ",");
	return 0;
}

static void test_list_in_key_order(void **state)
{
	struct unit_txn *f = *state;
	char order[128] = "";

	add_structure(f->t, "siao-75", "SIAO de Paris");
	add_structure(f->t, "accueil-1", "Accueil de jour");
	add_structure(f->t, "maraude-13", "Maraude Paris 13");
	assert_int_equal(directory_list(f->t, STORE_DB_STRUCTURES, count_visit, order), STORE_OK);
	assert_string_equal(order, "accueil-1,maraude-13,siao-75,");
	/* Bad input: a database that holds no directory entries. */
	assert_int_equal(directory_list(f->t, STORE_DB_RECORDS, count_visit, order),
			 STORE_ENOTFOUND);
}

static void test_pairing_create_redeem(void **state)
{
	struct unit_txn *f = *state;
	char code[16], pro[65] = "";

	add_structure(f->t, "maraude-13", "Maraude Paris 13");
	add_professional(f->t, "camille", "maraude-13");
	assert_int_equal(directory_pairing_create(f->t, "camille", 1000, 60000, code), STORE_OK);
	assert_int_equal(strlen(code), 14);
	assert_int_equal(directory_pairing_redeem(f->t, code, 2000, pro), STORE_OK);
	assert_string_equal(pro, "camille");
}

static void test_pairing_single_use(void **state)
{
	struct unit_txn *f = *state;
	struct store_txn *t;
	char code[16], pro[65];

	add_structure(f->t, "maraude-13", "Maraude Paris 13");
	add_professional(f->t, "camille", "maraude-13");
	assert_int_equal(directory_pairing_create(f->t, "camille", 1000, 60000, code), STORE_OK);
	assert_int_equal(store_commit(f->t), STORE_OK);
	f->t = NULL;

	assert_int_equal(store_begin(f->u->st, 1, &t), STORE_OK);
	assert_int_equal(directory_pairing_redeem(t, code, 2000, pro), STORE_OK);
	assert_int_equal(store_commit(t), STORE_OK);
	/* Bad input: the same code a second time, in a later transaction. */
	assert_int_equal(store_begin(f->u->st, 1, &f->t), STORE_OK);
	assert_int_equal(directory_pairing_redeem(f->t, code, 3000, pro), STORE_ENOTFOUND);
}

static void test_pairing_expiry(void **state)
{
	struct unit_txn *f = *state;
	char a[16], b[16], pro[65];

	add_structure(f->t, "maraude-13", "Maraude Paris 13");
	add_professional(f->t, "camille", "maraude-13");
	assert_int_equal(directory_pairing_create(f->t, "camille", 1000, 500, a), STORE_OK);
	assert_int_equal(directory_pairing_create(f->t, "camille", 1000, 500, b), STORE_OK);
	/* Bad input: redeemed at now + ttl, the first instant it is expired. */
	assert_int_equal(directory_pairing_redeem(f->t, a, 1500, pro), STORE_ENOTFOUND);
	/* ... and long after. */
	assert_int_equal(directory_pairing_redeem(f->t, a, 1000000, pro), STORE_ENOTFOUND);
	/* One millisecond before expiry it still works. */
	assert_int_equal(directory_pairing_redeem(f->t, b, 1499, pro), STORE_OK);
}

static void test_pairing_typed_loosely(void **state)
{
	struct unit_txn *f = *state;
	char code[16], typed[32], pro[65] = "";
	size_t o = 0;

	add_structure(f->t, "maraude-13", "Maraude Paris 13");
	add_professional(f->t, "camille", "maraude-13");
	assert_int_equal(directory_pairing_create(f->t, "camille", 1000, 60000, code), STORE_OK);
	/* The code as typed on a phone: lower case, spaces instead of dashes, a leading space. */
	typed[o++] = ' ';
	for (size_t i = 0; code[i]; i++)
		typed[o++] = code[i] == '-' ? ' ' : (char)tolower((unsigned char)code[i]);
	typed[o] = '\0';
	assert_int_equal(directory_pairing_redeem(f->t, typed, 2000, pro), STORE_OK);
	assert_string_equal(pro, "camille");
}

static void test_pairing_unknown_codes(void **state)
{
	struct unit_txn *f = *state;
	char code[16], pro[65];

	add_structure(f->t, "maraude-13", "Maraude Paris 13");
	add_professional(f->t, "camille", "maraude-13");
	/* Bad input: a code for a professional that does not exist. */
	assert_int_equal(directory_pairing_create(f->t, "nobody", 1000, 60000, code),
			 STORE_ENOTFOUND);
	assert_int_equal(directory_pairing_create(f->t, "camille", 1000, 60000, code), STORE_OK);
	/* Bad input: a well-formed code that was never issued. */
	assert_int_equal(directory_pairing_redeem(f->t, "0000-0000-0000", 2000, pro),
			 STORE_ENOTFOUND);
	/* Bad input: malformed codes (too short, bad character, empty). */
	assert_int_equal(directory_pairing_redeem(f->t, "ABCD-EFGH", 2000, pro), STORE_ENOTFOUND);
	assert_int_equal(directory_pairing_redeem(f->t, "ABCD-EFGH-JKMU", 2000, pro),
			 STORE_ENOTFOUND);
	assert_int_equal(directory_pairing_redeem(f->t, "", 2000, pro), STORE_ENOTFOUND);
	/* The issued one still works. */
	assert_int_equal(directory_pairing_redeem(f->t, code, 2000, pro), STORE_OK);
}

static void test_role_and_kind_names(void **state)
{
	(void)state;
	assert_string_equal(directory_role_name(VEILLE__V1__ROLE__ROLE_MARAUDEUR), "maraudeur");
	assert_string_equal(directory_role_name(VEILLE__V1__ROLE__ROLE_ECOUTANT_115),
			    "ecoutant_115");
	assert_int_equal(directory_role_value("maraudeur"), VEILLE__V1__ROLE__ROLE_MARAUDEUR);
	assert_int_equal(directory_role_value("coordinateur_siao"),
			 VEILLE__V1__ROLE__ROLE_COORDINATEUR_SIAO);
	assert_int_equal(directory_role_value("MARAUDEUR"), VEILLE__V1__ROLE__ROLE_MARAUDEUR);
	/* Bad inputs: unknown names and values. */
	assert_int_equal(directory_role_value("pompier"), 0);
	assert_int_equal(directory_role_value(""), 0);
	assert_int_equal(directory_role_value("unspecified"), 0);
	assert_string_equal(directory_role_name(0), "?");
	assert_string_equal(directory_role_name(99), "?");
	assert_string_equal(directory_role_name(-1), "?");
	/* Bad input: a name longer than any buffer. */
	assert_int_equal(directory_role_value("maraudeur-maraudeur-maraudeur-maraudeur-maraudeur-"
					      "maraudeur-maraudeur-maraudeur-maraudeur"),
			 0);

	assert_string_equal(directory_kind_name(VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_EQUIPE_MOBILE),
			    "equipe_mobile");
	assert_int_equal(directory_kind_value("accueil_de_jour"),
			 VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_ACCUEIL_DE_JOUR);
	assert_int_equal(directory_kind_value("maraude"), 0);
	assert_string_equal(directory_kind_name(42), "?");

	/* Every value maps to a name that maps back to it. */
	for (int r = 1; r <= VEILLE__V1__ROLE__ROLE_ADMINISTRATEUR; r++) {
		char name[64];

		snprintf(name, sizeof(name), "%s", directory_role_name(r));
		assert_string_not_equal(name, "?");
		assert_int_equal(directory_role_value(name), r);
	}
	for (int k = 1; k <= VEILLE__V1__STRUCTURE_KIND__STRUCTURE_KIND_PREFECTURE; k++) {
		char name[64];

		snprintf(name, sizeof(name), "%s", directory_kind_name(k));
		assert_string_not_equal(name, "?");
		assert_int_equal(directory_kind_value(name), k);
	}
}

static void test_id_valid(void **state)
{
	char id[70];

	(void)state;
	assert_true(directory_id_valid("maraude-13"));
	assert_true(directory_id_valid("a"));
	assert_true(directory_id_valid("75-siao"));
	memset(id, 'a', 64);
	id[64] = '\0';
	assert_true(directory_id_valid(id));
	/* Bad inputs: too long, empty, leading dash, upper case, underscore, space, dot. */
	id[64] = 'a';
	id[65] = '\0';
	assert_false(directory_id_valid(id));
	assert_false(directory_id_valid(""));
	assert_false(directory_id_valid("-maraude"));
	assert_false(directory_id_valid("Maraude"));
	assert_false(directory_id_valid("maraude_13"));
	assert_false(directory_id_valid("maraude 13"));
	assert_false(directory_id_valid("../etc"));
	assert_false(directory_id_valid("caf\xc3\xa9"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, unit_txn_setup, unit_txn_teardown)
	const struct CMUnitTest tests[] = {
		T(test_structure_add_get_duplicate),
		T(test_structure_location_put),
		cmocka_unit_test(test_location_valid),
		T(test_professional_add_unknown_structure),
		T(test_professional_add_get_put),
		T(test_device_put_get),
		T(test_list_in_key_order),
		T(test_pairing_create_redeem),
		T(test_pairing_single_use),
		T(test_pairing_expiry),
		T(test_pairing_typed_loosely),
		T(test_pairing_unknown_codes),
		cmocka_unit_test(test_role_and_kind_names),
		cmocka_unit_test(test_id_valid),
	};
#undef T

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
