/*
 * cli_pull: `veille pull`: pulls pages until the server has no more, prints each change as
 * one JSON object per line (JSON Lines, for scripts and tests), and saves the cursor after
 * each page once its lines are out, so an interrupted pull resumes without losing changes.
 *
 * JSON strings are escaped here (quotes, backslash, control characters as \u00XX); UTF-8 is
 * passed through as is, the server having checked it.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"
#include "veille/v1/records.pb-c.h"

#define OUTPUT_FAILED 1000 /* on_change's stop value: outside the VEILLE_E* codes */

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void json_names(const char *key, const ProtobufCEnumDescriptor *d, const int *values,
		       size_t n)
{
	char name[64];
	size_t i;

	printf(",\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		json_string(names_lower(d, values[i], name, sizeof name));
	}
	putchar(']');
}

static void print_encounter(const Veille__V1__Encounter *e)
{
	const Veille__V1__Location *loc = e->location;

	printf(",\"kind\":\"encounter\",\"person_id\":");
	json_string(e->person_id);
	printf(",\"team_id\":");
	json_string(e->team_id);
	printf(",\"author_id\":");
	json_string(e->author_id);
	printf(",\"occurred_at_ms\":%lld,\"area\":", (long long)e->occurred_at_ms);
	json_string(loc ? loc->area : "");
	printf(",\"geohash\":");
	json_string(loc ? loc->geohash : "");
	/* protobuf-c stores enum arrays as int-sized enums: read them as int. */
	json_names("needs", &veille__v1__need__descriptor, (const int *)e->needs, e->n_needs);
	json_names("services", &veille__v1__service__descriptor, (const int *)e->services,
		   e->n_services);
	printf(",\"note\":");
	json_string(e->note);
}

static int print_change(const Veille__V1__Change *ch, void *arg)
{
	uint64_t *count = arg;

	printf("{\"seq\":%llu,\"record_id\":", (unsigned long long)ch->seq);
	json_string(ch->record_id);
	printf(",\"version\":%llu", (unsigned long long)ch->version);
	if (ch->record_case == VEILLE__V1__CHANGE__RECORD_ENCOUNTER)
		print_encounter(ch->encounter);
	else
		printf(",\"kind\":\"unknown\""); /* a record kind newer than this client */
	printf("}\n");
	++*count;
	return ferror(stdout) ? OUTPUT_FAILED : 0;
}

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'l' },
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct veille_client *c = NULL;
	struct veille_info info;
	uint64_t from = 0, limit = 0, cursor, count = 0;
	int opt, rc, has_from = 0, more;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'f') {
			if (cli_parse_u64(optarg, UINT64_MAX, &from) != 0)
				return cli_usage_error("--from: expected a cursor, got '%s'", optarg);
			has_from = 1;
		} else if (opt == 'l') {
			if (cli_parse_u64(optarg, VEILLE_MAX_PULL_LIMIT, &limit) != 0)
				return cli_usage_error("--limit: expected 0 to %d", VEILLE_MAX_PULL_LIMIT);
		} else if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK) {
			return rc;
		}
	}
	if (optind < argc)
		return cli_usage_error("pull: unexpected argument '%s'", argv[optind]);
	if ((rc = cli_connect(cli, &c)))
		return rc;
	veille_info(c, &info);
	cursor = has_from ? from : info.pull_cursor;
	do {
		uint64_t next;

		rc = veille_pull(c, cursor, (uint32_t)limit, print_change, &count, &next, &more);
		if (rc == 0 && fflush(stdout) != 0)
			rc = OUTPUT_FAILED;
		if (rc == OUTPUT_FAILED) {
			fprintf(stderr, "veille: cannot write the changes to stdout\n");
			rc = CLI_FAILED;
			goto out;
		}
		if (rc == 0 && next != info.pull_cursor)
			rc = veille_set_cursor(c, next);
		if (rc) {
			rc = cli_fail(c, rc);
			goto out;
		}
		cursor = info.pull_cursor = next;
	} while (more);
	fprintf(stderr, "pulled %llu changes, cursor %llu\n", (unsigned long long)count,
		(unsigned long long)cursor);
	rc = CLI_OK;
out:
	veille_close(c);
	return rc;
}
