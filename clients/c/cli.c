/*
 * cli: `veille`, the command-line client: main, the global options, and the small commands
 * (enrol, whoami, status). `encounter`, `person`, `pull` and `sync` have their own files.
 *
 * Every command parses its options with getopt_long (the global ones are accepted before or
 * after the command), calls libveille, prints results on stdout and one "veille: ..." line on
 * stderr for an error. Enum names shown or accepted come from the protobuf descriptors.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "names.h"
#include "veille/v1/auth.pb-c.h"
#include "veille/v1/records.pb-c.h"

#ifndef VEILLE_VERSION
#define VEILLE_VERSION "0"
#endif

static void list_names(FILE *f, const char *title, const ProtobufCEnumDescriptor *d)
{
	char name[64];
	unsigned i;

	fprintf(f, "%s:", title);
	for (i = 0; i < d->n_values; i++)
		if (d->values[i].value != 0)
			fprintf(f, " %s", names_lower(d, d->values[i].value, name, sizeof name));
	fputc('\n', f);
}

static void usage(FILE *f)
{
	fputs("usage: veille [--dir DIR] [--timeout MS] COMMAND [OPTIONS]\n"
	      "\n"
	      "commands:\n"
	      "  enrol --server ws://HOST:PORT --code CODE [--label TEXT]\n"
	      "  whoami\n"
	      "  encounter add (--person ID | --new-person) [--at MS|ISO8601] [--area TEXT]\n"
	      "                [--geohash G] [--need NAME]... [--service NAME]... [--note TEXT]\n"
	      "                [--health-note TEXT]   (health professionals only: refused from others)\n"
	      "                [--count N] [--sync | --no-sync]\n"
	      "  person set (--person ID | --new-person) [--given-name T] [--family-name T]\n"
	      "             [--nickname T] [--birth-year N] [--adults N] [--children N]\n"
	      "             [--reduced-mobility yes|no] [--animal yes|no] [--situation T]\n"
	      "             [--languages T] [--objection yes|no] [--clear FIELD]...\n"
	      "             [--sync | --no-sync]   (--objection: the person objects to sharing)\n"
	      "  person show ID\n"
	      "  sync [--follow [--max-seconds N]] [--limit N]\n"
	      "  places declare CATEGORY=N...     (responsable de centre: vacant places now)\n"
	      "  places watch [--category C]... [--max-seconds N]\n"
	      "  request add --person ID [--adults N] [--children N] [--reduced-mobility]\n"
	      "              [--animal] [--languages T] [--urgency U] [--category C]...\n"
	      "              [--note T] [--sync | --no-sync]   (demande d'hébergement)\n"
	      "  propose --request ID --centre ID --category C [--sync | --no-sync]\n"
	      "  decide (--proposal ID (--admit [--from T] --until T\n"
	      "                         | --refuse MOTIVE --motive-text TEXT)\n"
	      "         | --emergency --person ID --category C [--from T] --until T)\n"
	      "         [--sync | --no-sync]\n"
	      "  pull [--from CURSOR] [--limit N]\n"
	      "  status\n"
	      "  problems [--clear]\n"
	      "\n"
	      "encounter add, person set, request add, propose and decide queue their ops in the device's outbox (durable,\n"
	      "offline), then push them at once and print each result (applied record_id=...\n"
	      "version=N). If the server cannot be reached, the ops stay queued (queued\n"
	      "record_id=... op=N) and the command still exits 0: `veille sync` sends them later.\n"
	      "--no-sync only queues; --sync makes an unreachable server a failure (exit 3).\n"
	      "sync pushes the outbox and pulls what changed, printing one summary line;\n"
	      "--follow keeps doing so on each server poke and each new op, reconnecting with\n"
	      "backoff, until interrupted (SIGINT, SIGTERM) or --max-seconds.\n"
	      "\n"
	      "options:\n"
	      "  --dir DIR      state directory (default $VEILLE_DIR, else $HOME/.veille)\n"
	      "  --timeout MS   bound on each network wait (default 10000)\n"
	      "\n", f);
	list_names(f, "needs", &veille__v1__need__descriptor);
	list_names(f, "services", &veille__v1__service__descriptor);
	list_names(f, "person fields (for --clear)", &veille__v1__person_field__descriptor);
	fputs("\nexit status: 0 ok, 1 usage, 2 refused by the server, 3 connection or I/O failure\n",
	      f);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("veille: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see veille --help)\n", stderr);
	return CLI_USAGE;
}

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

void cli_put_line_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

int cli_global_option(struct cli *cli, int opt, const char *arg, char **argv)
{
	uint64_t v;

	switch (opt) {
	case 'D':
		cli->dir = arg;
		return CLI_OK;
	case 'T':
		if (cli_parse_u64(arg, INT_MAX, &v) != 0)
			return cli_usage_error("--timeout: expected milliseconds, got '%s'", arg);
		cli->timeout_ms = (int)v;
		return CLI_OK;
	case 'h':
		usage(stdout);
		exit(CLI_OK);
	default:
		return cli_usage_error("%s: unknown option or missing value", argv[optind - 1]);
	}
}

static int exit_status(int rc)
{
	switch (rc) {
	case VEILLE_OK:
		return CLI_OK;
	case VEILLE_ESERVER:
		return CLI_REFUSED;
	case VEILLE_EARG:
	case VEILLE_ENOTENROLLED:
	case VEILLE_EEXIST:
	case VEILLE_ENOTFOUND:
		return CLI_USAGE;
	default:
		return CLI_FAILED;
	}
}

int cli_fail(const struct veille_client *c, int rc)
{
	return cli_fail_error(c ? veille_last_error(c) : NULL, rc);
}

void cli_describe(const struct veille_error *e, int rc)
{
	if (rc == VEILLE_ESERVER && e) {
		fprintf(stderr, "server error %s: ", veille_error_code_name(e->code));
		cli_put_line_text(stderr, e->message);
		if (e->retry_after_ms)
			fprintf(stderr, " (retry after %u ms)", (unsigned)e->retry_after_ms);
	} else {
		fputs(veille_strerror(rc), stderr);
		if (e && e->message[0]) {
			fputs(": ", stderr);
			cli_put_line_text(stderr, e->message);
		}
	}
}

int cli_fail_error(const struct veille_error *e, int rc)
{
	fputs("veille: ", stderr);
	cli_describe(e, rc);
	fputc('\n', stderr);
	return exit_status(rc);
}

const char *cli_time(uint64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, size, "never");
		return buf;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ms % 1000));
	return buf;
}

int cli_open(struct cli *cli, struct veille_client **out)
{
	struct veille_error err;
	int rc;

	*out = NULL;
	if (!cli->dir) {
		const char *env = getenv("VEILLE_DIR"), *home = getenv("HOME");

		if (env && *env) {
			cli->dir = env;
		} else if (home && *home) {
			snprintf(cli->dir_buf, sizeof cli->dir_buf, "%s/.veille", home);
			cli->dir = cli->dir_buf;
		} else {
			return cli_usage_error("no state directory: use --dir, $VEILLE_DIR or $HOME");
		}
	}
	rc = veille_open(out, cli->dir, &err);
	if (rc)
		return cli_fail_error(&err, rc);
	veille_set_timeout(*out, cli->timeout_ms);
	return CLI_OK;
}

int cli_connect(struct cli *cli, struct veille_client **out)
{
	int rc = cli_open(cli, out);

	if (rc)
		return rc;
	rc = veille_connect(*out, cli->timeout_ms);
	if (rc) {
		rc = cli_fail(*out, rc);
		veille_close(*out);
		*out = NULL;
	}
	return rc;
}

static void print_principal(const char *prefix, const struct veille_principal *p)
{
	char role[64];

	printf("%s", prefix);
	cli_put_line_text(stdout, p->display_name);
	printf(" (%s), ", p->professional_id);
	cli_put_line_text(stdout, p->structure_name);
	printf(" [%s], role %s\n", p->structure_id,
	       names_lower(&veille__v1__role__descriptor, p->role, role, sizeof role));
}

/* Parses a command's options when it has none beyond the global ones. */
static int no_options(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_GLOBAL_OPTIONS, { NULL, 0, NULL, 0 } };
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK)
			return rc;
	if (optind < argc)
		return cli_usage_error("%s: unexpected argument '%s'", argv[0], argv[optind]);
	return CLI_OK;
}

static int cmd_enrol(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "code", required_argument, NULL, 'c' },
		{ "label", required_argument, NULL, 'l' },
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	const char *server = NULL, *code = NULL, *label = NULL;
	char host[48], default_label[64];
	struct veille_client *c = NULL;
	struct veille_principal p;
	struct veille_info info;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 's')
			server = optarg;
		else if (opt == 'c')
			code = optarg;
		else if (opt == 'l')
			label = optarg;
		else if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("enrol: unexpected argument '%s'", argv[optind]);
	if (!server || !code)
		return cli_usage_error("enrol: --server and --code are required");
	if (!label) {
		if (gethostname(host, sizeof host) != 0)
			strcpy(host, "unknown host");
		host[sizeof host - 1] = '\0';
		snprintf(default_label, sizeof default_label, "veille CLI on %s", host);
		label = default_label;
	}
	if ((rc = cli_open(cli, &c)))
		return rc;
	rc = veille_enrol(c, server, code, label, &p);
	if (rc) {
		rc = cli_fail(c, rc);
		goto out;
	}
	veille_info(c, &info);
	print_principal("enrolled as ", &p);
	printf("device_id=%s\n", info.device_id);
out:
	veille_close(c);
	return rc;
}

static int cmd_whoami(struct cli *cli, int argc, char **argv)
{
	struct veille_client *c = NULL;
	const struct veille_principal *p;
	struct veille_info info;
	char kind[64];
	int rc;

	if ((rc = no_options(cli, argc, argv)) || (rc = cli_connect(cli, &c)))
		return rc;
	p = veille_principal(c);
	veille_info(c, &info);
	print_principal("authenticated as ", p);
	printf("territory=%s structure_kind=%s\n", p->territory,
	       names_lower(&veille__v1__structure_kind__descriptor, p->structure_kind, kind,
			   sizeof kind));
	printf("device_id=%s\n", info.device_id);
	veille_close(c);
	return CLI_OK;
}

#define STATUS_MAX_PROBLEMS 20

static int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct veille_client *c = NULL;
	struct veille_info info;
	char last[40];
	int rc;

	if ((rc = no_options(cli, argc, argv)) || (rc = cli_open(cli, &c)))
		return rc;
	veille_info(c, &info);
	if (!info.enrolled) {
		fprintf(stderr, "veille: %s holds no enrolled device (see veille enrol)\n", cli->dir);
		veille_close(c);
		return CLI_USAGE;
	}
	printf("device_id=%s\nserver=%s\nserver_id=%s\nprofessional=", info.device_id,
	       info.server_url, info.server_id);
	cli_put_line_text(stdout, info.display_name);
	printf(" (%s)\nstructure=", info.professional_id);
	cli_put_line_text(stdout, info.structure_name);
	printf(" [%s]\nop_counter=%llu\ncursor=%llu\npending_ops=%llu\nlast_sync=%s\n"
	       "problems=%llu\n",
	       info.structure_id, (unsigned long long)info.op_counter,
	       (unsigned long long)info.pull_cursor, (unsigned long long)info.pending_ops,
	       cli_time(info.last_sync_ms, last, sizeof last), (unsigned long long)info.problems);
	rc = cli_print_problems(c, STATUS_MAX_PROBLEMS);
	if (rc == CLI_OK && info.problems > STATUS_MAX_PROBLEMS)
		printf("... %llu more (veille problems)\n",
		       (unsigned long long)(info.problems - STATUS_MAX_PROBLEMS));
	veille_close(c);
	return rc;
}

static const struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} commands[] = {
	{ "enrol", cmd_enrol },
	{ "whoami", cmd_whoami },
	{ "encounter", cmd_encounter },
	{ "person", cmd_person },
	{ "sync", cmd_sync },
	{ "pull", cmd_pull },
	{ "places", cmd_places },
	{ "request", cmd_request },
	{ "propose", cmd_propose },
	{ "decide", cmd_decide },
	{ "status", cmd_status },
	{ "problems", cmd_problems },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli cli = { .timeout_ms = VEILLE_DEFAULT_TIMEOUT_MS };
	size_t i;
	int opt, rc;

	/* A peer that goes away must fail a write, not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (opt == 'V') {
			printf("veille %s\n", VEILLE_VERSION);
			return CLI_OK;
		}
		if ((rc = cli_global_option(&cli, opt, optarg, argv)) != CLI_OK)
			return rc;
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].run(&cli, argc - optind, argv + optind);
	return cli_usage_error("unknown command '%s'", argv[optind]);
}
