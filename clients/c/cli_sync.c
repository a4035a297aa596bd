/*
 * cli_sync: sending what the commands queue, and the commands about sync: `veille sync
 * [--follow]` and `veille problems`.
 *
 * Commands that write records (encounter add, person set) queue their ops in the outbox
 * first, always: then, by default, they push at once and print each result as the server
 * gave it; if the server cannot be reached, the ops stay queued ("queued record_id=... op=N")
 * and the command still succeeds, saying so on stderr. --no-sync only queues; --sync makes an
 * unreachable server a failure (exit 3), the ops staying queued all the same.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"

void cli_sender_init(struct cli_sender *s, struct veille_client *c, enum cli_send_mode mode)
{
	memset(s, 0, sizeof *s);
	s->c = c;
	s->mode = mode;
}

/* Failures that mean "offline" rather than "refused" or "broken". */
static int unreachable(int rc, const struct veille_error *e)
{
	return rc == VEILLE_ECONN || rc == VEILLE_ETIMEOUT || rc == VEILLE_ECLOSED ||
	       (rc == VEILLE_ESERVER && e->code == VEILLE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE);
}

static void print_result(const Veille__V1__Mutation *op, const struct veille_op_result *r,
			 void *arg)
{
	struct cli_sender *s = arg;
	char status[32];

	printf("%s record_id=%s version=%llu",
	       names_lower(&veille__v1__op_status__descriptor, r->status, status, sizeof status),
	       op->record_id, (unsigned long long)r->version);
	if (r->status == VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED) {
		printf(" code=%s reason=", veille_error_code_name(r->code));
		cli_put_line_text(stdout, r->reason);
	}
	putchar('\n');
	if (r->status != VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED &&
	    r->status != VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE)
		s->refused++;
	if (op->op_counter >= s->first && op->op_counter - s->first < s->n)
		s->done[op->op_counter - s->first] = 1;
}

/* Prints the ops of this batch whose result did not come; returns how many. */
static uint64_t print_queued(struct cli_sender *s, Veille__V1__Mutation **muts, size_t n)
{
	uint64_t left = 0;

	for (size_t i = 0; i < n; i++) {
		if (s->done[i])
			continue;
		printf("queued record_id=%s op=%llu\n", muts[i]->record_id,
		       (unsigned long long)muts[i]->op_counter);
		left++;
	}
	fflush(stdout);
	return left;
}

int cli_sender_send(struct cli_sender *s, Veille__V1__Mutation **muts, size_t n)
{
	struct veille_sync_opts so = { .what = VEILLE_SYNC_PUSH, .on_result = print_result,
				       .arg = s };
	const struct veille_error *e = veille_last_error(s->c);
	int rc;

	if ((rc = veille_outbox_add_many(s->c, muts, n)))
		return cli_fail(s->c, rc);
	s->first = muts[0]->op_counter; /* one transaction: consecutive counters */
	s->n = n;
	memset(s->done, 0, sizeof s->done);
	if (s->mode == CLI_SEND_QUEUE || s->offline) {
		s->queued_offline += s->offline ? n : 0;
		print_queued(s, muts, n);
		return CLI_OK;
	}
	rc = veille_sync_ex(s->c, &so, NULL);
	fflush(stdout);
	if (rc == 0) {
		print_queued(s, muts, n); /* none, unless another process sent some of them */
		return CLI_OK;
	}
	if (s->mode == CLI_SEND_TRY && unreachable(rc, e)) {
		fputs("veille: server unreachable: ", stderr);
		cli_describe(e, rc);
		fputc('\n', stderr);
		s->offline = 1;
		s->queued_offline += print_queued(s, muts, n);
		return CLI_OK;
	}
	print_queued(s, muts, n);
	return cli_fail(s->c, rc);
}

int cli_sender_finish(struct cli_sender *s)
{
	int rc;

	if (s->mode != CLI_SEND_QUEUE && !s->offline) {
		/* What is left of a sync: the pull (and ops queued meanwhile by others). */
		rc = veille_sync(s->c, NULL);
		if (rc && !(s->mode == CLI_SEND_TRY && unreachable(rc, veille_last_error(s->c))))
			return cli_fail(s->c, rc);
	}
	if (s->offline)
		fprintf(stderr, "veille: queued (offline): %llu ops wait in the outbox; "
			"`veille sync` sends them\n", (unsigned long long)s->queued_offline);
	return s->refused ? CLI_REFUSED : CLI_OK;
}

/* ---- veille sync ---- */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int should_stop(void *arg)
{
	(void)arg;
	return stop_requested;
}

static void report_problem(const Veille__V1__Mutation *op, const struct veille_op_result *r,
			   void *arg)
{
	char status[32];

	(void)arg;
	if (r->status == VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED ||
	    r->status == VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE)
		return;
	fprintf(stderr, "veille: op %llu record_id=%s: %s version=%llu",
		(unsigned long long)op->op_counter, op->record_id,
		names_lower(&veille__v1__op_status__descriptor, r->status, status, sizeof status),
		(unsigned long long)r->version);
	if (r->status == VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED) {
		fprintf(stderr, " code=%s reason=", veille_error_code_name(r->code));
		cli_put_line_text(stderr, r->reason);
	}
	fputc('\n', stderr);
}

static void print_summary(const struct veille_sync_stats *st, void *arg)
{
	(void)arg;
	printf("pushed %llu (applied %llu, duplicate %llu, conflict %llu, rejected %llu), "
	       "pulled %llu, cursor %llu\n",
	       (unsigned long long)st->pushed, (unsigned long long)st->applied,
	       (unsigned long long)st->duplicate, (unsigned long long)st->conflict,
	       (unsigned long long)st->rejected, (unsigned long long)st->pulled,
	       (unsigned long long)st->cursor);
	fflush(stdout);
}

void cli_print_retry(int rc, const struct veille_error *e, uint32_t wait_ms, void *arg)
{
	(void)arg;
	fputs("veille: sync failed: ", stderr);
	cli_describe(e, rc);
	fprintf(stderr, "; retrying in %u ms\n", (unsigned)wait_ms);
}

int cli_follow(struct veille_client *c, struct veille_follow_opts *fo,
	       struct veille_sync_stats *total)
{
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fo->stop = should_stop;
	rc = veille_follow(c, fo, total);
	return rc ? cli_fail(c, rc) : CLI_OK;
}

int cmd_sync(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ "limit", required_argument, NULL, 'l' },
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct veille_sync_opts so = { .on_result = report_problem };
	struct veille_follow_opts fo = { .sync = &so, .on_sync = print_summary,
					 .on_retry = cli_print_retry };
	struct veille_client *c = NULL;
	struct veille_sync_stats st;
	uint64_t max_s = 0, limit = 0;
	int opt, rc, follow = 0, has_max = 0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'f') {
			follow = 1;
		} else if (opt == 'm') {
			if (cli_parse_u64(optarg, UINT32_MAX, &max_s) != 0 || max_s == 0)
				return cli_usage_error("--max-seconds: expected 1 to %u",
						       UINT32_MAX);
			has_max = 1;
		} else if (opt == 'l') {
			if (cli_parse_u64(optarg, VEILLE_MAX_PULL_LIMIT, &limit) != 0)
				return cli_usage_error("--limit: expected 0 to %d",
						       VEILLE_MAX_PULL_LIMIT);
		} else if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK) {
			return rc;
		}
	}
	if (optind < argc)
		return cli_usage_error("sync: unexpected argument '%s'", argv[optind]);
	if (has_max && !follow)
		return cli_usage_error("sync: --max-seconds goes with --follow");
	so.pull_limit = (uint32_t)limit;
	if ((rc = cli_open(cli, &c)))
		return rc;
	if (!follow) {
		rc = veille_sync_ex(c, &so, &st);
		if (rc) {
			rc = cli_fail(c, rc);
			goto out;
		}
		print_summary(&st, NULL);
		rc = st.conflict || st.rejected ? CLI_REFUSED : CLI_OK;
		goto out;
	}
	fo.max_ms = max_s * 1000;
	rc = cli_follow(c, &fo, &st);
out:
	veille_close(c);
	return rc;
}

/* ---- veille problems ---- */

static int print_problem(const struct veille_problem *p, const Veille__V1__Mutation *op,
			 void *arg)
{
	char status[32], at[40];
	const char *kind = p->record_kind == VEILLE__V1__MUTATION__RECORD_ENCOUNTER ? "encounter"
			   : p->record_kind == VEILLE__V1__MUTATION__RECORD_PERSON  ? "person"
										  : "unknown";

	(void)op;
	(void)arg;
	printf("problem op=%llu record_id=%s kind=%s status=%s version=%llu",
	       (unsigned long long)p->op_counter, p->record_id, kind,
	       names_lower(&veille__v1__op_status__descriptor, p->result.status, status,
			   sizeof status),
	       (unsigned long long)p->result.version);
	if (p->result.status == VEILLE__V1__OP_STATUS__OP_STATUS_REJECTED) {
		printf(" code=%s reason=", veille_error_code_name(p->result.code));
		cli_put_line_text(stdout, p->result.reason);
	}
	printf(" at=%s\n", cli_time(p->at_ms, at, sizeof at));
	return 0;
}

int cli_print_problems(struct veille_client *c, size_t max)
{
	int rc = veille_problems(c, max, print_problem, NULL);

	return rc ? cli_fail(c, rc) : CLI_OK;
}

int cmd_problems(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "clear", no_argument, NULL, 'c' },
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct veille_client *c = NULL;
	struct veille_info info;
	int opt, rc, clear = 0;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'c')
			clear = 1;
		else if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("problems: unexpected argument '%s'", argv[optind]);
	if ((rc = cli_open(cli, &c)))
		return rc;
	if ((rc = cli_print_problems(c, 0)))
		goto out;
	if (clear) {
		veille_info(c, &info);
		if ((rc = veille_problems_clear(c))) {
			rc = cli_fail(c, rc);
			goto out;
		}
		fprintf(stderr, "cleared %llu problems\n", (unsigned long long)info.problems);
	}
out:
	veille_close(c);
	return rc;
}
