/*
 * cli_orient: the orientation workflow from the command line (docs/orientations.md):
 *   veille request add --person ID [--adults N ...]     a demande d'hébergement (without
 *                                                        --adults: the household of the
 *                                                        person's profile)
 *   veille propose --request ID --centre ID --category C  the SIAO's proposal (holds a place)
 *   veille decide --proposal ID --admit --until TIME      the centre's admission
 *   veille decide --proposal ID --refuse MOTIVE --motive-text TEXT
 *   veille decide --emergency --person ID --category C --until TIME
 * Each builds one mutation, queues it in the outbox and sends it like `encounter add`
 * (cli_sync.c: at once by default; --no-sync only queues, e.g. offline). The server checks
 * the rules and answers a refusal per op ("rejected ... code=NO_PLACE ...").
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"

#define MAX_CATEGORIES 7

/* What every one of these commands ends with: one op queued and sent. */
static int send_one(struct cli *cli, Veille__V1__Mutation *m, enum cli_send_mode mode)
{
	struct veille_client *c = NULL;
	struct cli_sender sender;
	char id[33];
	int rc;

	veille_new_record_id(id);
	m->record_id = id;
	if ((rc = cli_open(cli, &c)))
		return rc;
	cli_sender_init(&sender, c, mode);
	rc = cli_sender_send(&sender, &m, 1);
	if (rc == CLI_OK)
		rc = cli_sender_finish(&sender);
	veille_close(c);
	return rc;
}

static int set_mode(enum cli_send_mode *mode, int opt, const char *cmd)
{
	if (*mode != CLI_SEND_TRY)
		return cli_usage_error("%s: --sync or --no-sync, not both", cmd);
	*mode = opt == 'Y' ? CLI_SEND_SYNC : CLI_SEND_QUEUE;
	return CLI_OK;
}

static int parse_enum(const ProtobufCEnumDescriptor *d, const char *s, const char *what,
		      int *out)
{
	if (names_parse(d, s, out) != 0)
		return cli_usage_error("%s: unknown value '%s'", what, s);
	return CLI_OK;
}

static int parse_count(const char *s, uint64_t max, const char *what, uint32_t *out)
{
	uint64_t v;

	if (cli_parse_u64(s, max, &v) != 0)
		return cli_usage_error("%s: expected 0 to %llu", what, (unsigned long long)max);
	*out = (uint32_t)v;
	return CLI_OK;
}

/* veille request add */
static int request_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "person", required_argument, NULL, 'p' },
		{ "adults", required_argument, NULL, 'a' },
		{ "children", required_argument, NULL, 'c' },
		{ "reduced-mobility", no_argument, NULL, 'm' },
		{ "animal", no_argument, NULL, 'A' },
		{ "languages", required_argument, NULL, 'l' },
		{ "urgency", required_argument, NULL, 'u' },
		{ "category", required_argument, NULL, 'k' },
		{ "note", required_argument, NULL, 't' },
		CLI_SEND_OPTIONS,
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Request q = VEILLE__V1__REQUEST__INIT;
	Veille__V1__PlaceCategory cats[MAX_CATEGORIES];
	enum cli_send_mode mode = CLI_SEND_TRY;
	int opt, rc = CLI_OK, v;

	optind = 0;
	while (rc == CLI_OK && (opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': q.person_id = optarg; break;
		case 'a': rc = parse_count(optarg, 1000, "--adults", &q.household_adults); break;
		case 'c': rc = parse_count(optarg, 1000, "--children", &q.household_children); break;
		case 'm': q.reduced_mobility = 1; break;
		case 'A': q.animal = 1; break;
		case 'l': q.languages = optarg; break;
		case 't': q.note = optarg; break;
		case 'u':
			rc = parse_enum(&veille__v1__urgency__descriptor, optarg, "--urgency", &v);
			q.urgency = (Veille__V1__Urgency)v;
			break;
		case 'k':
			if (q.n_categories == MAX_CATEGORIES)
				return cli_usage_error("--category: at most %d", MAX_CATEGORIES);
			rc = parse_enum(&veille__v1__place_category__descriptor, optarg,
					"--category", &v);
			cats[q.n_categories++] = (Veille__V1__PlaceCategory)v;
			break;
		case 'Y':
		case 'Q': rc = set_mode(&mode, opt, "request add"); break;
		default: rc = cli_global_option(cli, opt, optarg, argv);
		}
	}
	if (rc != CLI_OK)
		return rc;
	if (optind < argc)
		return cli_usage_error("request add: unexpected argument '%s'", argv[optind]);
	if (!q.person_id[0])
		return cli_usage_error("request add: give --person ID");
	q.categories = cats;
	m.record_case = VEILLE__V1__MUTATION__RECORD_REQUEST;
	m.request = &q;
	return send_one(cli, &m, mode);
}

int cmd_request(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "add") != 0)
		return cli_usage_error("request: expected 'request add'");
	return request_add(cli, argc - 1, argv + 1);
}

/* veille propose */
int cmd_propose(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "request", required_argument, NULL, 'r' },
		{ "centre", required_argument, NULL, 'c' },
		{ "category", required_argument, NULL, 'k' },
		CLI_SEND_OPTIONS,
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Proposal p = VEILLE__V1__PROPOSAL__INIT;
	enum cli_send_mode mode = CLI_SEND_TRY;
	int opt, rc = CLI_OK, v = 0;

	optind = 0;
	while (rc == CLI_OK && (opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': p.request_id = optarg; break;
		case 'c': p.centre_id = optarg; break;
		case 'k':
			rc = parse_enum(&veille__v1__place_category__descriptor, optarg,
					"--category", &v);
			p.category = (Veille__V1__PlaceCategory)v;
			break;
		case 'Y':
		case 'Q': rc = set_mode(&mode, opt, "propose"); break;
		default: rc = cli_global_option(cli, opt, optarg, argv);
		}
	}
	if (rc != CLI_OK)
		return rc;
	if (optind < argc)
		return cli_usage_error("propose: unexpected argument '%s'", argv[optind]);
	if (!p.request_id[0] || !p.centre_id[0] || !p.category)
		return cli_usage_error("propose: give --request ID --centre ID --category C");
	m.record_case = VEILLE__V1__MUTATION__RECORD_PROPOSAL;
	m.proposal = &p;
	return send_one(cli, &m, mode);
}

/* veille decide */
int cmd_decide(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "proposal", required_argument, NULL, 'p' },
		{ "admit", no_argument, NULL, 'a' },
		{ "refuse", required_argument, NULL, 'r' },
		{ "motive-text", required_argument, NULL, 't' },
		{ "emergency", no_argument, NULL, 'e' },
		{ "person", required_argument, NULL, 'P' },
		{ "category", required_argument, NULL, 'k' },
		{ "from", required_argument, NULL, 'f' },
		{ "until", required_argument, NULL, 'u' },
		CLI_SEND_OPTIONS,
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT;
	Veille__V1__Decision d = VEILLE__V1__DECISION__INIT;
	enum cli_send_mode mode = CLI_SEND_TRY;
	int opt, rc = CLI_OK, v = 0, kinds = 0;
	int64_t t;

	optind = 0;
	while (rc == CLI_OK && (opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': d.proposal_id = optarg; break;
		case 'a':
			d.kind = VEILLE__V1__DECISION_KIND__DECISION_KIND_ADMISSION;
			kinds++;
			break;
		case 'e':
			d.kind = VEILLE__V1__DECISION_KIND__DECISION_KIND_EMERGENCY_ADMISSION;
			kinds++;
			break;
		case 'r':
			d.kind = VEILLE__V1__DECISION_KIND__DECISION_KIND_REFUSAL;
			kinds++;
			rc = parse_enum(&veille__v1__refusal_motive__descriptor, optarg, "--refuse",
					&v);
			d.motive = (Veille__V1__RefusalMotive)v;
			break;
		case 't': d.motive_text = optarg; break;
		case 'P': d.person_id = optarg; break;
		case 'k':
			rc = parse_enum(&veille__v1__place_category__descriptor, optarg,
					"--category", &v);
			d.category = (Veille__V1__PlaceCategory)v;
			break;
		case 'f':
		case 'u':
			if (cli_parse_time(optarg, &t) != 0 || t <= 0)
				return cli_usage_error("--%s: expected milliseconds or ISO 8601 "
						       "(2027-03-31), got '%s'",
						       opt == 'f' ? "from" : "until", optarg);
			*(opt == 'f' ? &d.start_ms : &d.end_ms) = (uint64_t)t;
			break;
		case 'Y':
		case 'Q': rc = set_mode(&mode, opt, "decide"); break;
		default: rc = cli_global_option(cli, opt, optarg, argv);
		}
	}
	if (rc != CLI_OK)
		return rc;
	if (optind < argc)
		return cli_usage_error("decide: unexpected argument '%s'", argv[optind]);
	if (kinds != 1)
		return cli_usage_error("decide: give one of --admit, --refuse MOTIVE, --emergency");
	if (d.kind != VEILLE__V1__DECISION_KIND__DECISION_KIND_EMERGENCY_ADMISSION &&
	    !d.proposal_id[0])
		return cli_usage_error("decide: give --proposal ID");
	/* A refusal without --motive-text is sent as is: the server says why it is refused. */
	m.record_case = VEILLE__V1__MUTATION__RECORD_DECISION;
	m.decision = &d;
	return send_one(cli, &m, mode);
}
