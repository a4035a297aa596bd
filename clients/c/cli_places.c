/*
 * cli_places: `veille places declare CATEGORY=N...` (a responsable de centre declares the
 * centre's vacancies) and `veille places watch [--category C]... [--max-seconds N]` (the
 * territory's places live, one JSON object per line: each centre of a snapshot, then each
 * change). Watching keeps the device in sync like `veille sync --follow` (docs/places.md).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"

#define MAX_CATEGORIES 7

/* {"homme_seul":10,...} */
static void print_counts(Veille__V1__CategoryCount *const *cc, size_t n)
{
	char name[32];

	putchar('{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			putchar(',');
		cli_json_string(names_lower(&veille__v1__place_category__descriptor,
					    (int)cc[i]->category, name, sizeof name));
		printf(":%u", cc[i]->count);
	}
	putchar('}');
}

static void print_centre(const char *type, uint64_t seq, const Veille__V1__CentrePlaces *c)
{
	char kind[32];

	printf("{\"type\":\"%s\",\"seq\":%llu,\"structure_id\":", type, (unsigned long long)seq);
	cli_json_string(c->structure_id);
	printf(",\"name\":");
	cli_json_string(c->name);
	printf(",\"kind\":");
	cli_json_string(names_lower(&veille__v1__structure_kind__descriptor, (int)c->kind, kind,
				    sizeof kind));
	printf(",\"territory\":");
	cli_json_string(c->territory);
	printf(",\"capacity\":");
	print_counts(c->capacity, c->n_capacity);
	printf(",\"vacancies\":");
	print_counts(c->vacancies, c->n_vacancies);
	printf(",\"held\":");
	print_counts(c->held, c->n_held);
	printf(",\"free\":");
	print_counts(c->free, c->n_free);
	printf(",\"declared_at_ms\":%llu,\"period_ms\":%llu,\"stale\":%s",
	       (unsigned long long)c->declared_at_ms, (unsigned long long)c->period_ms,
	       c->stale ? "true" : "false");
	/* Where it is: the address if any, the point only if located. */
	printf(",\"address\":");
	cli_json_string(c->address);
	if (c->located)
		printf(",\"latitude\":%.6f,\"longitude\":%.6f", c->latitude, c->longitude);
	printf("}\n");
}

static void on_snapshot(const Veille__V1__PlacesSnapshot *snap, void *arg)
{
	(void)arg;
	for (size_t t = 0; t < snap->n_territories; t++) {
		const Veille__V1__TerritoryPlaces *tp = snap->territories[t];

		for (size_t i = 0; i < tp->n_centres; i++)
			print_centre("snapshot", tp->seq, tp->centres[i]);
		printf("{\"type\":\"snapshot_end\",\"territory\":");
		cli_json_string(tp->territory);
		printf(",\"seq\":%llu,\"centres\":%zu}\n", (unsigned long long)tp->seq,
		       tp->n_centres);
	}
	fflush(stdout);
}

static void on_delta(const Veille__V1__PlacesDelta *d, void *arg)
{
	(void)arg;
	if (d->centre)
		print_centre("delta", d->seq, d->centre);
	fflush(stdout);
}

/* CATEGORY=N words into counts. Returns 0 or prints why and returns CLI_USAGE. */
static int parse_counts(int argc, char **argv, Veille__V1__CategoryCount *cc, size_t *n)
{
	uint32_t seen = 0;

	*n = 0;
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		char name[32];
		uint64_t count;
		int cat;

		if (!eq || (size_t)(eq - argv[i]) >= sizeof name)
			return cli_usage_error("places declare: expected CATEGORY=N, got '%s'",
					       argv[i]);
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		if (names_parse(&veille__v1__place_category__descriptor, name, &cat) != 0 ||
		    (seen & (1u << cat)))
			return cli_usage_error("places declare: unknown or repeated category '%s'",
					       name);
		if (cli_parse_u64(eq + 1, 100000, &count) != 0)
			return cli_usage_error("places declare: '%s': N is 0 to 100000", argv[i]);
		seen |= 1u << cat;
		veille__v1__category_count__init(&cc[*n]);
		cc[*n].category = (Veille__V1__PlaceCategory)cat;
		cc[*n].count = (uint32_t)count;
		(*n)++;
	}
	return 0;
}

static int cmd_declare(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_GLOBAL_OPTIONS, { NULL, 0, NULL, 0 } };
	Veille__V1__CategoryCount cc[MAX_CATEGORIES], *ptrs[MAX_CATEGORIES];
	struct veille_client *c = NULL;
	uint64_t seq = 0;
	size_t n;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK)
			return rc;
	if ((rc = parse_counts(argc - optind, argv + optind, cc, &n)))
		return rc;
	for (size_t i = 0; i < n; i++)
		ptrs[i] = &cc[i];
	if ((rc = cli_connect(cli, &c)))
		return rc;
	rc = veille_declare_vacancies(c, ptrs, n, &seq);
	if (rc == 0)
		printf("declared seq=%llu\n", (unsigned long long)seq);
	rc = rc ? cli_fail(c, rc) : CLI_OK;
	veille_close(c);
	return rc;
}

static int cmd_watch(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "category", required_argument, NULL, 'c' },
		{ "max-seconds", required_argument, NULL, 'm' },
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	Veille__V1__PlaceCategory cats[MAX_CATEGORIES];
	struct veille_places_opts po = { .categories = cats, .on_snapshot = on_snapshot,
					 .on_delta = on_delta };
	struct veille_follow_opts fo = { .places = &po, .on_retry = cli_print_retry };
	struct veille_client *c = NULL;
	uint64_t max_s = 0;
	int opt, rc, cat;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'c') {
			if (names_parse(&veille__v1__place_category__descriptor, optarg, &cat) != 0)
				return cli_usage_error("--category: unknown category '%s'", optarg);
			if (po.n_categories == MAX_CATEGORIES)
				return cli_usage_error("--category: at most %d", MAX_CATEGORIES);
			cats[po.n_categories++] = (Veille__V1__PlaceCategory)cat;
		} else if (opt == 'm') {
			if (cli_parse_u64(optarg, UINT32_MAX, &max_s) != 0 || max_s == 0)
				return cli_usage_error("--max-seconds: expected 1 to %u", UINT32_MAX);
		} else if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK) {
			return rc;
		}
	}
	if (optind < argc)
		return cli_usage_error("places watch: unexpected argument '%s'", argv[optind]);
	if ((rc = cli_open(cli, &c)))
		return rc;
	fo.max_ms = max_s * 1000;
	rc = cli_follow(c, &fo, NULL);
	veille_close(c);
	return rc;
}

int cmd_places(struct cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "declare") == 0)
		return cmd_declare(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "watch") == 0)
		return cmd_watch(cli, argc - 1, argv + 1);
	return cli_usage_error("places: declare or watch");
}
