/*
 * cli_encounter: `veille encounter add`: builds Encounter mutations from the options, queues
 * them in the outbox and sends them (cli_sync.c: at once by default, --no-sync to only queue),
 * in batches of at most VEILLE_MAX_PUSH (--count makes many identical ones, each with its own
 * record id, which is what load tests want).
 *
 * The CLI checks only what it needs to build the request (known need and service names,
 * number formats); the field limits are the server's to enforce, so a test can send an
 * overlong note and see it rejected.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "names.h"
#include "veille/v1/records.pb-c.h"

#define MAX_LIST 64              /* --need / --service given; the server allows 16 */
#define MAX_COUNT 10000000ull    /* --count */

struct encounter_args {
	const char *person;
	int new_person;
	int64_t at_ms;
	const char *area, *geohash, *note, *health_note;
	Veille__V1__Need needs[MAX_LIST];
	size_t n_needs;
	Veille__V1__Service services[MAX_LIST];
	size_t n_services;
	uint64_t count;
	enum cli_send_mode mode;
};

/* One push worth of mutations; they share the request's location, needs and services. */
struct batch {
	Veille__V1__Mutation *ptrs[VEILLE_MAX_PUSH];
	Veille__V1__Mutation muts[VEILLE_MAX_PUSH];
	Veille__V1__Encounter encs[VEILLE_MAX_PUSH];
	char record_ids[VEILLE_MAX_PUSH][33];
};

/* Reads exactly n digits at *p into *out. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

/* cli.h */
int cli_parse_time(const char *s, int64_t *ms)
{
	const char *p = s;
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, has_offset = 0, offset_min = 0;
	time_t t;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		uint64_t v;

		if (cli_parse_u64(s, INT64_MAX, &v) != 0)
			return -1;
		*ms = (int64_t)v;
		return 0;
	}
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.' || *p == ',') {
				int scale = 100;

				for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
	}
	if (*p == 'Z' || *p == 'z') {
		has_offset = 1;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;

		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		has_offset = 1;
		offset_min = sign * (oh * 60 + om);
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	t = has_offset ? timegm(&tm) - (time_t)offset_min * 60 : mktime(&tm);
	if (t == (time_t)-1 && !(y == 1969 || y == 1970))
		return -1;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_args(struct cli *cli, int argc, char **argv, struct encounter_args *a)
{
	static const struct option opts[] = {
		{ "person", required_argument, NULL, 'p' },
		{ "new-person", no_argument, NULL, 'N' },
		{ "at", required_argument, NULL, 'a' },
		{ "area", required_argument, NULL, 'r' },
		{ "geohash", required_argument, NULL, 'g' },
		{ "need", required_argument, NULL, 'n' },
		{ "service", required_argument, NULL, 's' },
		{ "note", required_argument, NULL, 't' },
		{ "health-note", required_argument, NULL, 'H' },
		{ "count", required_argument, NULL, 'c' },
		CLI_SEND_OPTIONS,
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	int opt, rc, have_at = 0, v;

	memset(a, 0, sizeof *a);
	a->count = 1;
	a->mode = CLI_SEND_TRY;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': a->person = optarg; break;
		case 'N': a->new_person = 1; break;
		case 'r': a->area = optarg; break;
		case 'g': a->geohash = optarg; break;
		case 't': a->note = optarg; break;
		case 'H': a->health_note = optarg; break;
		case 'a':
			if (cli_parse_time(optarg, &a->at_ms) != 0)
				return cli_usage_error("--at: expected milliseconds or ISO 8601 "
						       "(2024-01-31T21:30:00Z), got '%s'", optarg);
			have_at = 1;
			break;
		case 'n':
			if (names_parse(&veille__v1__need__descriptor, optarg, &v) != 0)
				return cli_usage_error("--need: unknown need '%s'", optarg);
			if (a->n_needs == MAX_LIST)
				return cli_usage_error("--need: at most %d", MAX_LIST);
			a->needs[a->n_needs++] = (Veille__V1__Need)v;
			break;
		case 's':
			if (names_parse(&veille__v1__service__descriptor, optarg, &v) != 0)
				return cli_usage_error("--service: unknown service '%s'", optarg);
			if (a->n_services == MAX_LIST)
				return cli_usage_error("--service: at most %d", MAX_LIST);
			a->services[a->n_services++] = (Veille__V1__Service)v;
			break;
		case 'c':
			if (cli_parse_u64(optarg, MAX_COUNT, &a->count) != 0 || a->count == 0)
				return cli_usage_error("--count: expected 1 to %llu", MAX_COUNT);
			break;
		case 'Y':
		case 'Q':
			if (a->mode != CLI_SEND_TRY)
				return cli_usage_error("encounter add: --sync or --no-sync, not both");
			a->mode = opt == 'Y' ? CLI_SEND_SYNC : CLI_SEND_QUEUE;
			break;
		default:
			if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK)
				return rc;
		}
	}
	if (optind < argc)
		return cli_usage_error("encounter add: unexpected argument '%s'", argv[optind]);
	if (!a->person == !a->new_person)
		return cli_usage_error("encounter add: give --person ID or --new-person");
	if (!have_at)
		a->at_ms = now_ms();
	return CLI_OK;
}

/* Fills b with n encounters built from a. */
static void fill_batch(struct batch *b, size_t n, const struct encounter_args *a,
		       const char *person, Veille__V1__Location *loc)
{
	size_t i;

	for (i = 0; i < n; i++) {
		Veille__V1__Encounter *e = &b->encs[i];
		Veille__V1__Mutation *m = &b->muts[i];

		*e = (Veille__V1__Encounter)VEILLE__V1__ENCOUNTER__INIT;
		e->person_id = (char *)person;
		e->occurred_at_ms = a->at_ms;
		e->location = loc;
		e->n_needs = a->n_needs;
		e->needs = (Veille__V1__Need *)a->needs;
		e->n_services = a->n_services;
		e->services = (Veille__V1__Service *)a->services;
		if (a->note)
			e->note = (char *)a->note;
		if (a->health_note)
			e->health_note = (char *)a->health_note;
		*m = (Veille__V1__Mutation)VEILLE__V1__MUTATION__INIT;
		veille_new_record_id(b->record_ids[i]);
		m->record_id = b->record_ids[i];
		m->record_case = VEILLE__V1__MUTATION__RECORD_ENCOUNTER;
		m->encounter = e;
		b->ptrs[i] = m;
	}
}

static int encounter_add(struct cli *cli, int argc, char **argv)
{
	Veille__V1__Location loc = VEILLE__V1__LOCATION__INIT;
	struct veille_client *c = NULL;
	struct cli_sender *sender = NULL;
	struct encounter_args a;
	struct batch *b = NULL;
	char new_person[33];
	const char *person;
	uint64_t done = 0;
	int rc;

	if ((rc = parse_args(cli, argc, argv, &a)))
		return rc;
	person = a.person;
	if (a.new_person) {
		veille_new_record_id(new_person);
		printf("person_id=%s\n", new_person);
		person = new_person;
	}
	if (a.area)
		loc.area = (char *)a.area;
	if (a.geohash)
		loc.geohash = (char *)a.geohash;
	b = malloc(sizeof *b);
	sender = malloc(sizeof *sender);
	if (!b || !sender) {
		fprintf(stderr, "veille: out of memory\n");
		rc = CLI_FAILED;
		goto out;
	}
	if ((rc = cli_open(cli, &c)))
		goto out;
	cli_sender_init(sender, c, a.mode);
	while (done < a.count) {
		size_t n = a.count - done > VEILLE_MAX_PUSH ? VEILLE_MAX_PUSH
							    : (size_t)(a.count - done);

		fill_batch(b, n, &a, person, a.area || a.geohash ? &loc : NULL);
		if ((rc = cli_sender_send(sender, b->ptrs, n)))
			goto out;
		done += n;
	}
	rc = cli_sender_finish(sender);
out:
	veille_close(c);
	free(sender);
	free(b);
	return rc;
}

int cmd_encounter(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "add") != 0)
		return cli_usage_error("encounter: expected 'encounter add'");
	return encounter_add(cli, argc - 1, argv + 1);
}
