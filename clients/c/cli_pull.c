/*
 * cli_pull: `veille pull`: pulls pages until the server has no more, prints each change as
 * one JSON object per line (JSON Lines, for scripts and tests) and stores each page in the
 * local store with the cursor after it (veille_sync_ex, pull only), once its lines are out:
 * an interrupted pull resumes without losing changes (it may print a page again).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define OUTPUT_FAILED 1000 /* on_change's stop value: outside the VEILLE_E* codes */

static int print_change(const Veille__V1__Change *ch, void *arg)
{
	(void)arg;
	return cli_print_change(ch) ? OUTPUT_FAILED : 0;
}

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "limit", required_argument, NULL, 'l' },
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct veille_sync_opts so = { .what = VEILLE_SYNC_PULL, .on_change = print_change };
	struct veille_client *c = NULL;
	struct veille_sync_stats st;
	uint64_t from = 0, limit = 0;
	int opt, rc, has_from = 0;

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
	/* Each line leaves at its end: what was printed is out before its page is stored. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = cli_connect(cli, &c)))
		return rc;
	so.pull_limit = (uint32_t)limit;
	if (has_from && (rc = veille_set_cursor(c, from))) {
		rc = cli_fail(c, rc);
		goto out;
	}
	rc = veille_sync_ex(c, &so, &st);
	if (rc == 0 && fflush(stdout) != 0)
		rc = OUTPUT_FAILED;
	if (rc == OUTPUT_FAILED) {
		fprintf(stderr, "veille: cannot write the changes to stdout\n");
		rc = CLI_FAILED;
		goto out;
	}
	if (rc) {
		rc = cli_fail(c, rc);
		goto out;
	}
	fprintf(stderr, "pulled %llu changes, cursor %llu\n", (unsigned long long)st.pulled,
		(unsigned long long)st.cursor);
	rc = CLI_OK;
out:
	veille_close(c);
	return rc;
}
