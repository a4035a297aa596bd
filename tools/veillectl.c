/* veillectl: administration of a veilled data directory.
 *
 * Works directly on the store (LMDB allows several processes; veilled may be running), so every
 * change goes through the same directory and store code as the server's. Output is one
 * `key=value` or one tab-separated row per line, easy to read and to script. */
#include "clock.h"
#include "codec.h"
#include "directory.h"
#include "keyring.h"
#include "log.h"
#include "pairing.h"
#include "audit.h"
#include "circle.h"
#include "places.h"
#include "records.h"
#include "policy.h"
#include "stats.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_PAIRING_TTL_S (24 * 3600)

struct ctl {
	const char *data_dir;
	struct keyring *kr;
	struct store *st;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veillectl --data DIR COMMAND [ARGS]\n"
		"       veillectl access-rules   (who may receive which fields: the policy's table,\n"
		"                                 as Markdown; docs/access-rules.md)\n"
		"  init\n"
		"  structure add --id ID --name NAME --kind KIND --territory DEP\n"
		"                [--lat DEG --lon DEG] [--address TEXT]   (WGS84; where the maps\n"
		"                                                   show a centre)\n"
		"  structure set --id ID [--name NAME] [--lat DEG --lon DEG] [--address TEXT]\n"
		"  structure list\n"
		"  professional add --structure ID --name NAME --role ROLE [--id ID] [--pairing-ttl SECONDS]\n"
		"  professional pair ID [--pairing-ttl SECONDS]\n"
		"  professional revoke ID\n"
		"  professional list\n"
		"  device list\n"
		"  device revoke DEVICE_ID\n"
		"  centre capacity --structure ID CATEGORY=N...   (categories left out: none)\n"
		"  territory period --territory DEP --hours H | --seconds S   (vacancy declaration\n"
		"                                                   periodicity; default 24 h)\n"
		"  places list --territory DEP\n"
		"  retention run [--days N | --seconds N]   (erases the persons about whom nothing\n"
		"                           was recorded for N days; default 730)\n"
		"  audit verify | audit list   (the MAC-chained log of administrative actions and\n"
		"                           of disclosures of personal data)\n"
		"  audit person PERSON_ID   (who received that person's data: each disclosure, and\n"
		"                           the actions about them; oldest first)\n"
		"  audit prune [--days N | --seconds N]   (removes the audit entries older than N\n"
		"                           days, default 365, and re-anchors the chain)\n"
		"  person circle PERSON_ID  (the person's care circle: who takes part, why, until when)\n"
		"  person erase PERSON_ID   (destroys the person's data key: their records become\n"
		"                           unreadable everywhere)\n"
		"  backup OUT_DIR           (a copy of the store, without the person keys, taken\n"
		"                           while veilled serves; docs/operations.md)\n"
		"  backup-keys OUT_DIR      (a copy of the key ring: keep it for a shorter time)\n"
		"  stats --territory DEP --from YYYY-MM-DD --to YYYY-MM-DD   (activity indicators,\n"
		"                                                   CSV, aggregates only)\n"
		"KIND: siao equipe_mobile accueil_de_jour sao chrs chu cph prefecture\n"
		"ROLE: maraudeur accueillant ecoutant_115 coordinateur_siao responsable_centre\n"
		"      travailleur_social professionnel_sante superviseur administrateur\n"
		"CATEGORY: homme_seul femme_seule couple famille jeune_18_25 pmr animal\n");
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "veillectl: %s: %s\n", what, store_strerror(rc));
	return 1;
}

static int open_store(struct ctl *c)
{
	int rc = keyring_load(&c->kr, c->data_dir);

	if (rc != KEYRING_OK) {
		fprintf(stderr, "veillectl: %s: %s\n", c->data_dir, keyring_strerror(rc));
		return 1;
	}
	rc = store_open(&c->st, c->data_dir, c->kr, NULL);
	return rc == STORE_OK ? 0 : fail("open store", rc);
}

/* "2026-11-24T15:00:00Z" */
static const char *iso(uint64_t ms, char buf[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static int territory_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 2)
		return (t[0] >= '0' && t[0] <= '9' && t[1] >= '0' && t[1] <= '9' &&
			strcmp(t, "00") != 0 && strcmp(t, "20") != 0) ||
		       !strcmp(t, "2A") || !strcmp(t, "2B");
	return n == 3 && !strncmp(t, "97", 2) && t[2] >= '1' && t[2] <= '6';
}

static int cmd_init(struct ctl *c)
{
	uint8_t id[16];
	char hex[33];
	struct store_txn *t;
	int rc;

	if (mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "veillectl: cannot create %s: %s\n", c->data_dir, strerror(errno));
		return 1;
	}
	rc = keyring_create(c->data_dir);
	if (rc != KEYRING_OK) {
		fprintf(stderr, "veillectl: %s: %s\n", c->data_dir, keyring_strerror(rc));
		return 1;
	}
	if (open_store(c))
		return 1;
	randombytes_buf(id, sizeof(id));
	rc = store_begin(c->st, 1, &t);
	if (rc == STORE_OK)
		rc = store_put_plain(t, STORE_DB_META, "server_id", 9, id, sizeof(id),
				     STORE_NOOVERWRITE);
	if (rc == STORE_OK)
		rc = store_commit(t);
	else
		store_abort(t);
	if (rc != STORE_OK)
		return fail("init", rc);
	sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
	printf("data_dir=%s\nserver_id=%s\n", c->data_dir, hex);
	return 0;
}

/* Options shared by the add/pair commands. */
struct args {
	const char *id, *name, *kind, *territory, *structure, *role, *from, *to;
	const char *lat, *lon, *address;
	unsigned long ttl_s;
	unsigned long period_s;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"name", required_argument, NULL, 'n'},
		{"kind", required_argument, NULL, 'k'},
		{"territory", required_argument, NULL, 't'},
		{"structure", required_argument, NULL, 's'},
		{"role", required_argument, NULL, 'r'},
		{"pairing-ttl", required_argument, NULL, 'T'},
		{"hours", required_argument, NULL, 'H'},
		{"days", required_argument, NULL, 'D'},
		{"seconds", required_argument, NULL, 'S'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'U'},
		{"lat", required_argument, NULL, 'y'},
		{"lon", required_argument, NULL, 'x'},
		{"address", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int o;

	memset(a, 0, sizeof(*a));
	a->ttl_s = DEFAULT_PAIRING_TTL_S;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'i': a->id = optarg; break;
		case 'n': a->name = optarg; break;
		case 'k': a->kind = optarg; break;
		case 't': a->territory = optarg; break;
		case 's': a->structure = optarg; break;
		case 'r': a->role = optarg; break;
		case 'F': a->from = optarg; break;
		case 'U': a->to = optarg; break;
		case 'y': a->lat = optarg; break;
		case 'x': a->lon = optarg; break;
		case 'a': a->address = optarg; break;
		case 'T':
			a->ttl_s = strtoul(optarg, &end, 10);
			if (*end || a->ttl_s == 0 || a->ttl_s > 30 * 86400) {
				fprintf(stderr, "veillectl: --pairing-ttl: 1 to 2592000 seconds\n");
				return -1;
			}
			break;
		case 'D':
			a->period_s = strtoul(optarg, &end, 10) * 86400ul;
			if (*end || a->period_s == 0 || a->period_s > 36500ul * 86400) {
				fprintf(stderr, "veillectl: --days: 1 to 36500\n");
				return -1;
			}
			break;
		case 'H':
		case 'S':
			a->period_s = strtoul(optarg, &end, 10) * (o == 'H' ? 3600 : 1);
			if (*end || a->period_s == 0 || a->period_s > 366ul * 86400) {
				fprintf(stderr, "veillectl: --hours or --seconds: 1 s to 366 days\n");
				return -1;
			}
			break;
		default: return -1;
		}
	}
	return 0;
}

/* Every administrative action is appended to the audit log in its own transaction. */
static int audited(struct store_txn *t, const char *action, const char *subject)
{
	return audit_append(t, clock_now_ms(), "veillectl", action, subject);
}

struct admin {
	store_write_fn fn;
	void *arg;
	const char *action, *subject;
	const uint8_t *person; /* an action about one person (16 bytes), or NULL */
};

static int admin_txn(struct store_txn *t, void *arg)
{
	const struct admin *a = arg;
	int rc = a->fn(t, a->arg);

	return rc != STORE_OK ? rc
			      : audit_append_about(t, clock_now_ms(), "veillectl", a->action,
						   a->subject, a->person);
}

/* store_write of fn, with the action's audit entry in the same transaction; person: the
 * person the action is about (NULL: none), under whom the entry is indexed. */
static int admin_write_about(struct ctl *c, const char *action, const char *subject,
			     const uint8_t *person, store_write_fn fn, void *arg)
{
	struct admin a = {fn, arg, action, subject, person};

	return store_write(c->st, admin_txn, &a);
}

static int admin_write(struct ctl *c, const char *action, const char *subject, store_write_fn fn,
		       void *arg)
{
	return admin_write_about(c, action, subject, NULL, fn, arg);
}

static int name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= CODEC_MAX_NAME && codec_utf8_valid(s, n);
}

/* Degrees as typed: an optional sign, digits, an optional decimal point and digits; nothing
 * else (no exponent, no "nan"), within -max..max. */
static int degrees(const char *text, double max, double *out)
{
	size_t i = text[0] == '-' || text[0] == '+', digits = 0, dots = 0;
	char *end;

	for (; text[i]; i++) {
		if (text[i] == '.')
			dots++;
		else if (text[i] >= '0' && text[i] <= '9')
			digits++;
		else
			return -1;
	}
	if (!digits || dots > 1 || i > 32)
		return -1;
	*out = strtod(text, &end);
	return *end == '\0' && *out >= -max && *out <= max ? 0 : -1;
}

/* Parses --lat, --lon and --address into s (address borrowed from a; what is not given is
 * left as it is); 0, or 2 after saying why on stderr. */
static int set_location(const struct args *a, Veille__Store__V1__Structure *s)
{
	if (!a->lat != !a->lon) {
		fprintf(stderr, "veillectl: --lat and --lon go together (a point: both or neither)\n");
		return 2;
	}
	if (a->lat && degrees(a->lat, 90, &s->latitude) != 0) {
		fprintf(stderr, "veillectl: --lat: decimal degrees from -90 to 90 (WGS84, e.g. "
				"48.8566)\n");
		return 2;
	}
	if (a->lon && degrees(a->lon, 180, &s->longitude) != 0) {
		fprintf(stderr, "veillectl: --lon: decimal degrees from -180 to 180 (WGS84, e.g. "
				"2.3522)\n");
		return 2;
	}
	s->located = a->lat ? 1 : s->located;
	if (a->address)
		s->address = (char *)a->address;
	if (!directory_location_valid(s)) {
		fprintf(stderr, "veillectl: --address: at most %d bytes of UTF-8, on one line (no "
				"tab or control character)\n", DIRECTORY_MAX_ADDRESS);
		return 2;
	}
	return 0;
}

static int cmd_structure_add(struct ctl *c, struct args *a)
{
	Veille__Store__V1__Structure s = VEILLE__STORE__V1__STRUCTURE__INIT;
	struct store_txn *t;
	int rc;

	if (!a->id || !directory_id_valid(a->id) || !name_valid(a->name) || !a->kind ||
	    !directory_kind_value(a->kind) || !a->territory || !territory_valid(a->territory)) {
		fprintf(stderr, "veillectl: structure add needs --id (a-z 0-9 -), --name, a known "
				"--kind and a département --territory (e.g. 75, 2A, 971)\n");
		return 2;
	}
	if ((rc = set_location(a, &s)) != 0)
		return rc;
	if (open_store(c))
		return 1;
	s.id = (char *)a->id;
	s.name = (char *)a->name;
	s.kind = directory_kind_value(a->kind);
	s.territory = (char *)a->territory;
	s.created_at_ms = clock_now_ms();
	rc = store_begin(c->st, 1, &t);
	if (rc == STORE_OK && (rc = directory_structure_add(t, &s)) == STORE_OK &&
	    (rc = audited(t, "structure add", a->id)) == STORE_OK)
		rc = store_commit(t);
	else
		store_abort(t);
	if (rc == STORE_EEXISTS) {
		fprintf(stderr, "veillectl: structure %s already exists\n", a->id);
		return 1;
	}
	if (rc != STORE_OK)
		return fail("structure add", rc);
	printf("structure_id=%s\n", a->id);
	return 0;
}

/* structure set: the changes asked for (checked: a location as set_location parsed it),
 * applied in the transaction to the stored entry. */
struct structure_set {
	const struct args *a;
	const Veille__Store__V1__Structure *loc;
};

static int structure_set_txn(struct store_txn *t, void *arg)
{
	const struct structure_set *ss = arg;
	Veille__Store__V1__Structure *st, s;
	int rc = directory_structure_get(t, ss->a->id, &st);

	if (rc != STORE_OK)
		return rc;
	s = *st; /* st's own strings stay st's to free; s borrows them and the arguments' */
	if (ss->a->name)
		s.name = (char *)ss->a->name;
	if (ss->a->address)
		s.address = ss->loc->address;
	if (ss->a->lat) {
		s.located = 1;
		s.latitude = ss->loc->latitude;
		s.longitude = ss->loc->longitude;
	}
	if ((rc = directory_structure_put(t, &s)) == STORE_OK)
		rc = places_describe(t, &s);
	codec_stored_free(&st->base);
	return rc;
}

/* structure set --id ID [--name] [--lat --lon] [--address]: changes what is given; a centre's
 * places show it at once to new subscribers, and to those subscribed at veilled's next sweep. */
static int cmd_structure_set(struct ctl *c, struct args *a)
{
	Veille__Store__V1__Structure loc = VEILLE__STORE__V1__STRUCTURE__INIT;
	struct structure_set ss = {a, &loc};
	int rc;

	if (!a->id || !directory_id_valid(a->id) || (a->name && !name_valid(a->name)) ||
	    a->kind || a->territory || (!a->name && !a->lat && !a->lon && !a->address)) {
		fprintf(stderr, "veillectl: structure set needs --id and what changes: --name, "
				"--lat with --lon, --address (the kind and territory stay)\n");
		return 2;
	}
	if ((rc = set_location(a, &loc)) != 0)
		return rc;
	if (open_store(c))
		return 1;
	rc = admin_write(c, "structure set", a->id, structure_set_txn, &ss);
	if (rc == STORE_ENOTFOUND) {
		fprintf(stderr, "veillectl: no such structure %s\n", a->id);
		return 1;
	}
	if (rc != STORE_OK)
		return fail("structure set", rc);
	printf("structure_id=%s\n", a->id);
	return 0;
}

/* Writes a fresh pairing code for a professional, inside t. */
static int print_pairing(struct store_txn *t, const char *pro_id, unsigned long ttl_s,
			 char code[16], uint64_t *expires)
{
	uint64_t now = clock_now_ms();

	*expires = now + (uint64_t)ttl_s * 1000;
	return directory_pairing_create(t, pro_id, now, (uint64_t)ttl_s * 1000, code);
}

static int commit_and_print_code(struct ctl *c, struct store_txn *t, int rc, const char *pro_id,
				 const char *code, uint64_t expires)
{
	char when[32];

	if (rc == STORE_OK)
		rc = store_commit(t);
	else
		store_abort(t);
	if (rc == STORE_EEXISTS) {
		fprintf(stderr, "veillectl: professional %s already exists\n", pro_id);
		return 1;
	}
	if (rc == STORE_ENOTFOUND) {
		fprintf(stderr, "veillectl: no such professional or structure\n");
		return 1;
	}
	if (rc != STORE_OK)
		return fail("professional", rc);
	(void)c;
	printf("professional_id=%s\npairing_code=%s\npairing_expires=%s\n", pro_id, code,
	       iso(expires, when));
	return 0;
}

static int cmd_professional_add(struct ctl *c, struct args *a)
{
	Veille__Store__V1__Professional p = VEILLE__STORE__V1__PROFESSIONAL__INIT;
	struct store_txn *t;
	char idbuf[32], code[16] = "";
	uint8_t r[6];
	uint64_t expires = 0;
	int rc;

	if (!a->structure || !name_valid(a->name) || !a->role || !directory_role_value(a->role) ||
	    (a->id && !directory_id_valid(a->id))) {
		fprintf(stderr, "veillectl: professional add needs --structure, --name and a known "
				"--role (and --id, if given, of a-z 0-9 -)\n");
		return 2;
	}
	if (open_store(c))
		return 1;
	if (!a->id) {
		randombytes_buf(r, sizeof(r));
		memcpy(idbuf, "pro-", 4);
		sodium_bin2hex(idbuf + 4, sizeof(idbuf) - 4, r, sizeof(r));
	}
	p.id = a->id ? (char *)a->id : idbuf;
	p.display_name = (char *)a->name;
	p.structure_id = (char *)a->structure;
	p.role = directory_role_value(a->role);
	p.created_at_ms = clock_now_ms();
	rc = store_begin(c->st, 1, &t);
	if (rc == STORE_OK && (rc = directory_professional_add(t, &p)) == STORE_OK &&
	    (rc = print_pairing(t, p.id, a->ttl_s, code, &expires)) == STORE_OK)
		rc = audited(t, "professional add", p.id);
	return commit_and_print_code(c, t, rc, p.id, code, expires);
}

static int cmd_professional_pair(struct ctl *c, const char *id, struct args *a)
{
	struct store_txn *t;
	char code[16] = "";
	uint64_t expires = 0;
	int rc;

	if (open_store(c))
		return 1;
	rc = store_begin(c->st, 1, &t);
	if (rc == STORE_OK && (rc = print_pairing(t, id, a->ttl_s, code, &expires)) == STORE_OK)
		rc = audited(t, "professional pair", id);
	return commit_and_print_code(c, t, rc, id, code, expires);
}

struct revoke_ctx {
	const char *pro_id;
	const uint8_t *device_id;
};

static int revoke_txn(struct store_txn *t, void *arg)
{
	const struct revoke_ctx *r = arg;

	return r->pro_id ? directory_professional_revoke(t, r->pro_id, clock_now_ms())
			 : directory_device_revoke(t, r->device_id, clock_now_ms());
}

static int cmd_professional_revoke(struct ctl *c, const char *id)
{
	struct revoke_ctx r = {id, NULL};
	int rc;

	if (open_store(c))
		return 1;
	rc = admin_write(c, "professional revoke", id, revoke_txn, &r);
	if (rc == STORE_ENOTFOUND) {
		fprintf(stderr, "veillectl: no such professional\n");
		return 1;
	}
	if (rc != STORE_OK)
		return fail("professional revoke", rc);
	printf("revoked professional_id=%s\n", id);
	return 0;
}

/* "48.856600\t2.352200", or "-\t-" without a location. */
static const char *lat_lon(int located, double lat, double lon, char buf[64])
{
	if (!located)
		return "-\t-";
	snprintf(buf, 64, "%.6f\t%.6f", lat, lon);
	return buf;
}

static int print_structure(const ProtobufCMessage *m, void *arg)
{
	const Veille__Store__V1__Structure *s = (const void *)m;
	char ll[64];

	(void)arg;
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", s->id, directory_kind_name(s->kind), s->territory,
	       s->name, lat_lon(s->located, s->latitude, s->longitude, ll),
	       s->address[0] ? s->address : "-");
	return 0;
}

static int print_professional(const ProtobufCMessage *m, void *arg)
{
	const Veille__Store__V1__Professional *p = (const void *)m;

	(void)arg;
	printf("%s\t%s\t%s\t%s\t%s\n", p->id, p->structure_id, directory_role_name(p->role),
	       p->revoked_at_ms ? "revoked" : "active", p->display_name);
	return 0;
}

static int print_device(const ProtobufCMessage *m, void *arg)
{
	const Veille__Store__V1__Device *d = (const void *)m;
	char hex[33], when[32];

	(void)arg;
	sodium_bin2hex(hex, sizeof(hex), d->id.data, d->id.len);
	printf("%s\t%s\t%s\t%s\t%s\n", hex, d->professional_id, iso(d->enrolled_at_ms, when),
	       d->revoked_at_ms ? "revoked" : "active", d->label);
	return 0;
}

static int cmd_list(struct ctl *c, enum store_db db, directory_visit_fn fn, const char *header)
{
	struct store_txn *t;
	int rc;

	if (open_store(c))
		return 1;
	rc = store_begin(c->st, 0, &t);
	if (rc != STORE_OK)
		return fail("list", rc);
	printf("%s\n", header);
	rc = directory_list(t, db, fn, NULL);
	store_abort(t);
	return rc == STORE_OK ? 0 : fail("list", rc);
}

static int cmd_device_revoke(struct ctl *c, const char *hex)
{
	uint8_t id[16];
	struct revoke_ctx r = {NULL, id};
	size_t n = 0;
	int rc;

	if (strlen(hex) != 32 || sodium_hex2bin(id, sizeof(id), hex, 32, NULL, &n, NULL) != 0 ||
	    n != 16) {
		fprintf(stderr, "veillectl: a device id is 32 hex characters (see `device list`)\n");
		return 2;
	}
	if (open_store(c))
		return 1;
	rc = admin_write(c, "device revoke", hex, revoke_txn, &r);
	if (rc == STORE_ENOTFOUND) {
		fprintf(stderr, "veillectl: no such device\n");
		return 1;
	}
	if (rc != STORE_OK)
		return fail("device revoke", rc);
	printf("revoked device_id=%s\n", hex);
	return 0;
}

struct capacity {
	const char *structure;
	Veille__V1__CategoryCount counts[CODEC_MAX_CATEGORIES];
	Veille__V1__CategoryCount *ptrs[CODEC_MAX_CATEGORIES];
	size_t n;
};

static int capacity_txn(struct store_txn *t, void *arg)
{
	struct capacity *cap = arg;

	return places_set_capacity(t, cap->structure, cap->ptrs, cap->n);
}

/* centre capacity --structure ID CATEGORY=N...: argv holds the CATEGORY=N words. */
static int cmd_centre_capacity(struct ctl *c, struct args *a, int argc, char **argv)
{
	struct capacity cap;
	uint32_t seen = 0;
	int rc;

	memset(&cap, 0, sizeof(cap));
	cap.structure = a->structure;
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		char name[32], *end;
		unsigned long n;
		int cat;

		if (!eq || (size_t)(eq - argv[i]) >= sizeof(name))
			goto bad;
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		cat = directory_category_value(name);
		n = strtoul(eq + 1, &end, 10);
		if (!cat || *end || eq[1] == '\0' || n > PLACES_MAX_CAPACITY || (seen & (1u << cat)))
			goto bad;
		seen |= 1u << cat;
		veille__v1__category_count__init(&cap.counts[cap.n]);
		cap.counts[cap.n].category = (Veille__V1__PlaceCategory)cat;
		cap.counts[cap.n].count = (uint32_t)n;
		cap.ptrs[cap.n] = &cap.counts[cap.n];
		cap.n++;
	}
	if (!a->structure)
		goto bad;
	if (open_store(c))
		return 1;
	rc = admin_write(c, "centre capacity", a->structure, capacity_txn, &cap);
	if (rc == STORE_ENOTFOUND) {
		fprintf(stderr, "veillectl: no such structure %s\n", a->structure);
		return 1;
	}
	if (rc == PLACES_NOT_A_CENTRE) {
		fprintf(stderr, "veillectl: %s is not a centre (chrs, chu or cph): it has no places\n",
			a->structure);
		return 1;
	}
	if (rc != STORE_OK)
		return fail("centre capacity", rc);
	printf("structure_id=%s\n", a->structure);
	for (size_t i = 0; i < cap.n; i++)
		printf("capacity %s=%u\n", directory_category_name((int)cap.counts[i].category),
		       cap.counts[i].count);
	return 0;
bad:
	fprintf(stderr, "veillectl: centre capacity needs --structure ID and CATEGORY=N words "
			"(each category once, N at most %d)\n", PLACES_MAX_CAPACITY);
	return 2;
}

struct period {
	const char *territory;
	uint64_t ms;
};

static int period_txn(struct store_txn *t, void *arg)
{
	struct period *p = arg;

	return places_set_period(t, p->territory, p->ms);
}

static int cmd_territory_period(struct ctl *c, struct args *a)
{
	struct period p = { a->territory, (uint64_t)a->period_s * 1000 };
	int rc;

	if (!a->territory || !territory_valid(a->territory) || !a->period_s) {
		fprintf(stderr, "veillectl: territory period needs --territory DEP and --hours H "
				"or --seconds S\n");
		return 2;
	}
	if (open_store(c))
		return 1;
	rc = admin_write(c, "territory period", a->territory, period_txn, &p);
	if (rc != STORE_OK)
		return fail("territory period", rc);
	printf("territory=%s\nperiod_seconds=%lu\n", a->territory, a->period_s);
	return 0;
}

/* One line per centre and category: structure, category, capacity, vacant, held by
 * proposals, free, declared, stale, and where the centre is. */
static int print_centre(Veille__V1__CentrePlaces *cp, void *arg)
{
	char when[32] = "never", ll[64];

	(void)arg;
	if (cp->declared_at_ms)
		iso(cp->declared_at_ms, when);
	for (size_t i = 0; i < cp->n_capacity; i++) {
		int cat = (int)cp->capacity[i]->category;

		printf("%s\t%s\t%u\t%u\t%u\t%u\t%s\t%s\t%s\t%s\n", cp->structure_id,
		       directory_category_name(cat), cp->capacity[i]->count,
		       places_count(cp->vacancies, cp->n_vacancies, cat),
		       places_count(cp->held, cp->n_held, cat), places_count(cp->free, cp->n_free, cat),
		       when, cp->stale ? "stale" : "fresh",
		       lat_lon(cp->located, cp->latitude, cp->longitude, ll),
		       cp->address[0] ? cp->address : "-");
	}
	codec_stored_free(&cp->base);
	return 0;
}

static int cmd_places_list(struct ctl *c, struct args *a)
{
	struct store_txn *t;
	int rc;

	if (!a->territory || !territory_valid(a->territory)) {
		fprintf(stderr, "veillectl: places list needs --territory DEP\n");
		return 2;
	}
	if (open_store(c))
		return 1;
	rc = store_begin(c->st, 0, &t);
	if (rc != STORE_OK)
		return fail("places list", rc);
	printf("# structure\tcategory\tcapacity\tvacant\theld\tfree\tdeclared\tstate\tlatitude\t"
	       "longitude\taddress\n");
	rc = places_each(t, a->territory, clock_now_ms(), print_centre, NULL);
	store_abort(t);
	return rc == STORE_OK ? 0 : fail("places list", rc);
}

/* "YYYY-MM-DD" */
static int day_valid(const char *d)
{
	if (!d || strlen(d) != 10 || d[4] != '-' || d[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
			return 0;
	return 1;
}

static int print_stat(const char *day, const char *indicator, const char *detail,
		      uint64_t count, void *arg)
{
	printf("%s,%s,%s,%s,%llu\n", day, (const char *)arg, indicator, detail,
	       (unsigned long long)count);
	return 0;
}

/* The préfet's activity indicators (docs/orientations.md), from the counters only. */
static int cmd_stats(struct ctl *c, struct args *a)
{
	struct store_txn *t;
	int rc;

	if (!a->territory || !territory_valid(a->territory) || !day_valid(a->from) ||
	    !day_valid(a->to) || strcmp(a->from, a->to) > 0) {
		fprintf(stderr, "veillectl: stats needs --territory DEP --from YYYY-MM-DD "
				"--to YYYY-MM-DD (from <= to)\n");
		return 2;
	}
	if (open_store(c))
		return 1;
	rc = store_begin(c->st, 0, &t);
	if (rc != STORE_OK)
		return fail("stats", rc);
	printf("date,territory,indicator,detail,count\n");
	rc = stats_each(t, a->territory, a->from, a->to, print_stat, (void *)a->territory);
	store_abort(t);
	return rc == STORE_OK ? 0 : fail("stats", rc);
}

static int erase_txn(struct store_txn *t, void *arg)
{
	return records_erase(t, arg);
}

/* Erasure by key destruction (docs/threat-model.md): the person's data key is destroyed, so
 * every sealed value about them, in this store, cannot be opened any more. */
static int cmd_person_erase(struct ctl *c, const char *hex)
{
	uint8_t pid[STORE_ID_BYTES];
	int rc;

	if (records_parse_id(hex, pid) != 0) {
		fprintf(stderr, "veillectl: person erase: PERSON_ID is 32 lowercase hex characters\n");
		return 2;
	}
	if (open_store(c))
		return 1;
	rc = admin_write_about(c, "person erase", hex, pid, erase_txn, pid);
	if (rc == STORE_ENOTFOUND) {
		fprintf(stderr, "veillectl: person erase: no data about %s\n", hex);
		return 1;
	}
	if (rc != STORE_OK)
		return fail("person erase", rc);
	printf("erased person_id=%s\n", hex);
	return 0;
}

static int print_member(const char *reason, const char *structure_id, uint64_t from_ms,
			uint64_t until_ms, void *arg)
{
	char from[32], until[32];

	fprintf(arg, "%s\t%s\t%s\t%s\n", reason, structure_id[0] ? structure_id : "-",
		from_ms ? iso(from_ms, from) : "-", until_ms ? iso(until_ms, until) : "-");
	return 0;
}

struct circle_listing {
	const uint8_t *pid;
	FILE *out;
};

static int circle_txn(struct store_txn *t, void *arg)
{
	struct circle_listing *l = arg;

	rewind(l->out);
	return circle_each(t, l->pid, print_member, l->out);
}

/* person circle: the person's care circle (circle.h), as a read audited like every action:
 * printed once the audit entry is committed. */
static int cmd_person_circle(struct ctl *c, const char *hex)
{
	uint8_t pid[STORE_ID_BYTES];
	char *text = NULL;
	size_t len = 0;
	struct circle_listing l = {pid, NULL};
	int rc;

	if (records_parse_id(hex, pid) != 0) {
		fprintf(stderr, "veillectl: person circle: PERSON_ID is 32 lowercase hex characters\n");
		return 2;
	}
	if (open_store(c))
		return 1;
	if (!(l.out = open_memstream(&text, &len)))
		return fail("person circle", STORE_ENOMEM);
	rc = admin_write(c, "person circle", hex, circle_txn, &l);
	fclose(l.out);
	if (rc == STORE_OK)
		printf("# reason\tstructure\tfrom\tuntil\n%s", text);
	free(text);
	return rc == STORE_OK ? 0 : fail("person circle", rc);
}

/* The directory a copy goes to: made (0700) if missing, refused if it holds anything, so that
 * a copy never lands beside another one. */
static int backup_dir_ready(const char *dir)
{
	struct dirent *e;
	int empty = 1;
	DIR *d;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST || !(d = opendir(dir))) {
		fprintf(stderr, "veillectl: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while (empty && (e = readdir(d)) != NULL)
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	if (!empty)
		fprintf(stderr, "veillectl: %s is not empty: a backup goes to a new or empty "
				"directory\n", dir);
	return !empty;
}

static int nothing_txn(struct store_txn *t, void *arg)
{
	(void)t;
	(void)arg;
	return STORE_OK;
}

/* backup OUT_DIR: a consistent copy of the store, taken while veilled serves, without the
 * person keys, so that an erasure reaches it (docs/operations.md); backup-keys OUT_DIR: a copy
 * of the key ring, which does not. Each is in the audit log once it is made. */
static int cmd_backup(struct ctl *c, const char *dir_out, int keys)
{
	const char *action = keys ? "backup-keys" : "backup";
	int rc;

	if (open_store(c) || backup_dir_ready(dir_out))
		return 1;
	rc = keys ? store_backup_keys(c->st, dir_out) : store_backup(c->st, dir_out);
	if (rc == STORE_OK)
		rc = admin_write(c, action, dir_out, nothing_txn, NULL);
	if (rc != STORE_OK)
		return fail(action, rc);
	printf("%s=%s\n", keys ? "backup_keys" : "backup", dir_out);
	return 0;
}

/* "given_name,birth_year": the names of the fields a disclosure lists (numbers if unknown). */
static const char *field_names(const Veille__Store__V1__AuditDisclosure *d, char *buf,
			       size_t n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < d->n_fields && at < n; i++) {
		const char *name = policy_field_name((int)d->record_kind, d->fields[i]);
		int w = name ? snprintf(buf + at, n - at, "%s%s", i ? "," : "", name)
			     : snprintf(buf + at, n - at, "%s%u", i ? "," : "", d->fields[i]);

		at += w > 0 ? (size_t)w : 0;
	}
	return buf[0] ? buf : "-";
}

/* "Encounter/author": the rule row (record kind x relation) that let a disclosure through. */
static const char *rule_name(const Veille__Store__V1__AuditDisclosure *d, char *buf, size_t n)
{
	const char *kind = policy_kind_name((int)d->record_kind);
	const char *rel = policy_relation_name((int)d->relation);

	if (kind && rel)
		snprintf(buf, n, "%s/%s", kind, rel);
	else
		snprintf(buf, n, "kind %u/relation %u", d->record_kind, d->relation);
	return buf;
}

static const char *hex16(const ProtobufCBinaryData *b, char out[33])
{
	if (b->len != 16)
		return "-";
	sodium_bin2hex(out, 33, b->data, 16);
	return out;
}

/* audit list: one line per entry; a disclosure, one line per record version it disclosed. */
static int print_entry(const Veille__Store__V1__AuditEntry *e, void *arg)
{
	char when[32], dev[33], pid[33], fields[1024], rule[160];

	(void)arg;
	iso(e->at_ms, when);
	if (!e->n_disclosures) {
		printf("%llu\t%s\t%s\t%s\t%s\n", (unsigned long long)e->seq, when, e->actor,
		       e->action, e->subject);
		return 0;
	}
	for (size_t i = 0; i < e->n_disclosures; i++) {
		const Veille__Store__V1__AuditDisclosure *d = e->disclosures[i];

		printf("%llu\t%s\t%s\t%s\t%s device=%s structure=%s role=%s record=%s version=%llu "
		       "person=%s fields=%s rule=%s\n",
		       (unsigned long long)e->seq, when, e->actor, e->action, e->subject,
		       hex16(&e->device_id, dev), e->structure_id, directory_role_name(e->role),
		       d->record_id, (unsigned long long)d->version, hex16(&d->person_id, pid),
		       field_names(d, fields, sizeof(fields)), rule_name(d, rule, sizeof(rule)));
	}
	return 0;
}

/* audit person: one line per version of the person's records disclosed, and per action about
 * them. */
static int print_person_entry(const Veille__Store__V1__AuditEntry *e, void *arg)
{
	const uint8_t *person = arg;
	char when[32], fields[1024], rule[160];

	iso(e->at_ms, when);
	if (!e->n_disclosures) {
		printf("%llu\t%s\t%s\t-\t-\t%s\t-\t-\t-\t-\n", (unsigned long long)e->seq, when,
		       e->actor, e->action);
		return 0;
	}
	for (size_t i = 0; i < e->n_disclosures; i++) {
		const Veille__Store__V1__AuditDisclosure *d = e->disclosures[i];

		if (d->person_id.len != 16 || memcmp(d->person_id.data, person, 16) != 0)
			continue;
		printf("%llu\t%s\t%s\t%s\t%s\t%s\t%s\t%llu\t%s\t%s\n", (unsigned long long)e->seq,
		       when, e->actor, e->structure_id, directory_role_name(e->role), e->action,
		       d->record_id, (unsigned long long)d->version,
		       field_names(d, fields, sizeof(fields)), rule_name(d, rule, sizeof(rule)));
	}
	return 0;
}

/* audit person ID: the person's access report, through the person index. */
static int cmd_audit_person(struct ctl *c, const char *hex)
{
	uint8_t pid[STORE_ID_BYTES];
	struct store_txn *t;
	int rc;

	if (records_parse_id(hex, pid) != 0) {
		fprintf(stderr, "veillectl: audit person: PERSON_ID is 32 lowercase hex characters\n");
		return 2;
	}
	if (open_store(c))
		return 1;
	if ((rc = store_begin(c->st, 0, &t)) != STORE_OK)
		return fail("audit person", rc);
	printf("# seq\tat\tprofessional\tstructure\trole\taction\trecord\tversion\tfields\t"
	       "rule\n");
	rc = audit_person(t, pid, print_person_entry, pid);
	store_abort(t);
	if (rc == STORE_EFORGED) {
		fprintf(stderr, "veillectl: audit person: an entry of this person is altered or "
				"missing (audit verify)\n");
		return 1;
	}
	return rc == STORE_OK ? 0 : fail("audit person", rc);
}

#define AUDIT_RETENTION_DEFAULT_DAYS 365 /* DOMAIN.md rule 7: access logs, 6 to 12 months */
#define AUDIT_PRUNE_BATCH 10000          /* entries removed per transaction at most */

/* What is older than a retention duration, removed in batches (audit prune, retention run):
 * each batch is its own audited transaction. */
struct older_than {
	uint64_t before_ms;
	size_t done; /* removed by the last batch */
};

/* Runs fn (over a struct older_than) in batches of `batch` until a batch is not full; the
 * cut-off is keep_ms before now, written into when. Returns the store result, the total in
 * *total. */
static int older_than_run(struct ctl *c, const char *action, uint64_t keep_ms, size_t batch,
			  store_write_fn fn, size_t *total, char when[32])
{
	struct older_than o = {0, 0};
	char subject[64];
	int rc;

	*total = 0;
	o.before_ms = clock_now_ms() > keep_ms ? clock_now_ms() - keep_ms : 0;
	snprintf(subject, sizeof subject, "before %s", iso(o.before_ms, when));
	do {
		rc = admin_write(c, action, subject, fn, &o);
		*total += rc == STORE_OK ? o.done : 0;
	} while (rc == STORE_OK && o.done == batch);
	return rc;
}

static int audit_prune_txn(struct store_txn *t, void *arg)
{
	struct older_than *o = arg;

	return audit_prune(t, o->before_ms, AUDIT_PRUNE_BATCH, &o->done);
}

/* audit prune: removes the entries older than --days N (default 365) or --seconds N; each
 * batch re-anchors the chain and is itself an audited action. */
static int cmd_audit_prune(struct ctl *c, struct args *a)
{
	uint64_t keep_ms = a->period_s ? (uint64_t)a->period_s * 1000
				       : (uint64_t)AUDIT_RETENTION_DEFAULT_DAYS * 86400 * 1000;
	char when[32];
	size_t total;
	int rc;

	if (open_store(c))
		return 1;
	rc = older_than_run(c, "audit prune", keep_ms, AUDIT_PRUNE_BATCH, audit_prune_txn, &total,
			    when);
	if (rc == STORE_EFORGED) {
		fprintf(stderr, "veillectl: audit prune: the log is broken in what would be removed: "
				"nothing removed (audit verify)\n");
		return 1;
	}
	if (rc != STORE_OK)
		return fail("audit prune", rc);
	printf("pruned=%zu before=%s\n", total, when);
	return 0;
}

/* audit verify: walks the chain; audit list: prints it (after checking it). */
static int cmd_audit(struct ctl *c, int list)
{
	struct audit_report r;
	struct store_txn *t;
	int rc;

	if (open_store(c))
		return 1;
	if ((rc = store_begin(c->st, 0, &t)) != STORE_OK)
		return fail("audit", rc);
	if (list)
		printf("# seq\tat\tactor\taction\tsubject\n");
	rc = list ? audit_each(t, print_entry, NULL) : audit_verify(t, &r);
	store_abort(t);
	if (list && rc == STORE_EFORGED) {
		fprintf(stderr, "veillectl: audit list: the log is broken there (audit verify)\n");
		return 1;
	}
	if (rc != STORE_OK)
		return fail("audit", rc);
	if (list)
		return 0;
	if (r.bad_seq) {
		printf("audit=broken entries=%llu first_bad=%llu why=%s\n",
		       (unsigned long long)r.entries, (unsigned long long)r.bad_seq, r.why);
		return 1;
	}
	if (r.first_seq > 1)
		printf("audit=ok entries=%llu first_seq=%llu\n", (unsigned long long)r.entries,
		       (unsigned long long)r.first_seq);
	else
		printf("audit=ok entries=%llu\n", (unsigned long long)r.entries);
	return 0;
}

#define RETENTION_DEFAULT_DAYS 730 /* DOMAIN.md rule 7: about two years after the last contact */
#define RETENTION_BATCH 100000      /* persons erased per transaction at most */

/* Each person erased is in the audit log under their id: their access report shows it. */
static int retention_erased(struct store_txn *t, const uint8_t pid[STORE_ID_BYTES], void *arg)
{
	char hex[2 * STORE_ID_BYTES + 1];

	(void)arg;
	sodium_bin2hex(hex, sizeof(hex), pid, STORE_ID_BYTES);
	return audit_append_about(t, clock_now_ms(), "veillectl", "retention erase", hex, pid);
}

static int retention_txn(struct store_txn *t, void *arg)
{
	struct older_than *o = arg;

	return records_expire(t, o->before_ms, RETENTION_BATCH, &o->done, retention_erased, NULL);
}

/* retention run: erases (key destruction) every person about whom nothing was recorded for
 * the retention duration; --days N or --seconds N (default 730 days). */
static int cmd_retention_run(struct ctl *c, struct args *a)
{
	uint64_t keep_ms = a->period_s ? (uint64_t)a->period_s * 1000
				       : (uint64_t)RETENTION_DEFAULT_DAYS * 86400 * 1000;
	char when[32];
	size_t total;
	int rc;

	if (open_store(c))
		return 1;
	rc = older_than_run(c, "retention run", keep_ms, RETENTION_BATCH, retention_txn, &total,
			    when);
	if (rc != STORE_OK)
		return fail("retention run", rc);
	printf("erased=%zu before=%s\n", total, when);
	return 0;
}

static int run(struct ctl *c, int argc, char **argv)
{
	const char *cmd = argc > 0 ? argv[0] : "", *sub = argc > 1 ? argv[1] : "";
	struct args a;

	if (!strcmp(cmd, "init") && argc == 1)
		return cmd_init(c);
	if (!strcmp(cmd, "structure") && !strcmp(sub, "list"))
		return cmd_list(c, STORE_DB_STRUCTURES, print_structure,
				"# id\tkind\tterritory\tname\tlatitude\tlongitude\taddress");
	if (!strcmp(cmd, "professional") && !strcmp(sub, "list"))
		return cmd_list(c, STORE_DB_PROFESSIONALS, print_professional,
				"# id\tstructure\trole\tstatus\tname");
	if (!strcmp(cmd, "device") && !strcmp(sub, "list"))
		return cmd_list(c, STORE_DB_DEVICES, print_device,
				"# device_id\tprofessional\tenrolled\tstatus\tlabel");
	if (!strcmp(cmd, "device") && !strcmp(sub, "revoke") && argc == 3)
		return cmd_device_revoke(c, argv[2]);
	if (!strcmp(cmd, "professional") && !strcmp(sub, "revoke") && argc == 3)
		return cmd_professional_revoke(c, argv[2]);
	if (!strcmp(cmd, "audit") && (!strcmp(sub, "verify") || !strcmp(sub, "list")) && argc == 2)
		return cmd_audit(c, !strcmp(sub, "list"));
	if (!strcmp(cmd, "audit") && !strcmp(sub, "person") && argc == 3)
		return cmd_audit_person(c, argv[2]);
	if (!strcmp(cmd, "person") && !strcmp(sub, "erase") && argc == 3)
		return cmd_person_erase(c, argv[2]);
	if (!strcmp(cmd, "person") && !strcmp(sub, "circle") && argc == 3)
		return cmd_person_circle(c, argv[2]);
	if ((!strcmp(cmd, "backup") || !strcmp(cmd, "backup-keys")) && argc == 2)
		return cmd_backup(c, argv[1], !strcmp(cmd, "backup-keys"));
	if (!strcmp(cmd, "stats")) {
		if (parse_args(argc, argv, &a) != 0 || optind != argc) {
			usage(stderr);
			return 2;
		}
		return cmd_stats(c, &a);
	}
	if (argc >= 2 && parse_args(argc - 1, argv + 1, &a) != 0) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "structure") && !strcmp(sub, "add") && optind == argc - 1)
		return cmd_structure_add(c, &a);
	if (!strcmp(cmd, "structure") && !strcmp(sub, "set") && optind == argc - 1)
		return cmd_structure_set(c, &a);
	if (!strcmp(cmd, "professional") && !strcmp(sub, "add") && optind == argc - 1)
		return cmd_professional_add(c, &a);
	if (!strcmp(cmd, "professional") && !strcmp(sub, "pair") && optind == argc - 2)
		return cmd_professional_pair(c, argv[argc - 1], &a);
	if (!strcmp(cmd, "centre") && !strcmp(sub, "capacity"))
		return cmd_centre_capacity(c, &a, argc - 1 - optind, argv + 1 + optind);
	if (!strcmp(cmd, "retention") && !strcmp(sub, "run") && optind == argc - 1)
		return cmd_retention_run(c, &a);
	if (!strcmp(cmd, "audit") && !strcmp(sub, "prune") && optind == argc - 1)
		return cmd_audit_prune(c, &a);
	if (!strcmp(cmd, "territory") && !strcmp(sub, "period") && optind == argc - 1)
		return cmd_territory_period(c, &a);
	if (!strcmp(cmd, "places") && !strcmp(sub, "list") && optind == argc - 1)
		return cmd_places_list(c, &a);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct ctl c = {0};
	struct rlimit nocore = {0, 0};
	int rc;

	log_init("veillectl", LOG_WARN);
	setrlimit(RLIMIT_CORE, &nocore);
	if (sodium_init() < 0)
		return 1;
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "access-rules")) {
		policy_print_rules(stdout); /* no store: the rules are the code's */
		return fflush(stdout) != 0 || ferror(stdout) ? 1 : 0;
	}
	if (argc < 4 || strcmp(argv[1], "--data") != 0) {
		usage(stderr);
		return 2;
	}
	c.data_dir = argv[2];
	rc = run(&c, argc - 3, argv + 3);
	store_close(c.st);
	keyring_free(c.kr);
	return rc;
}
