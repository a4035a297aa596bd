/*
 * cli: what the `veille` command's files share: global options, opening the client, and
 * turning a library error into a message on stderr and an exit status.
 *
 * Exit status: 0 ok, 1 usage (including "not enrolled" and "already enrolled"), 2 refused by
 * the server (typed error or rejected op), 3 connection or I/O failure.
 */
#ifndef VEILLE_CLI_H
#define VEILLE_CLI_H

#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "veille.h"

enum cli_exit { CLI_OK = 0, CLI_USAGE = 1, CLI_REFUSED = 2, CLI_FAILED = 3 };

struct cli {
	const char *dir;           /* --dir, else resolved by cli_open() */
	int timeout_ms;            /* --timeout */
	char dir_buf[PATH_MAX];
};

/* Long options every command accepts, so they may follow the command too. */
#define CLI_GLOBAL_OPTIONS                                  \
	{ "dir", required_argument, NULL, 'D' },            \
	{ "timeout", required_argument, NULL, 'T' },        \
	{ "help", no_argument, NULL, 'h' }

/*
 * Handles an option of CLI_GLOBAL_OPTIONS; any other opt (getopt's '?') is reported as a
 * usage error naming argv[optind - 1]. Returns CLI_OK to go on, else the exit status.
 */
int cli_global_option(struct cli *cli, int opt, const char *arg, char **argv);

/* Opens the state directory (--dir, $VEILLE_DIR, $HOME/.veille). Prints errors; returns an
 * exit status. */
int cli_open(struct cli *cli, struct veille_client **out);

/* cli_open(), then connect and authenticate. Prints errors; returns an exit status. On
 * failure *out is NULL. */
int cli_connect(struct cli *cli, struct veille_client **out);

/* Prints "veille: ..." for rc (with the server's error code name for VEILLE_ESERVER) and
 * returns the exit status for it. c may be NULL. */
int cli_fail(const struct veille_client *c, int rc);

/* Same as cli_fail, from an error description (e may be NULL). */
int cli_fail_error(const struct veille_error *e, int rc);

/* Writes what rc and e say to stderr, on one line but without "veille: " nor the newline. */
void cli_describe(const struct veille_error *e, int rc);

/* Prints "veille: <fmt>" to stderr and returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a decimal number in [0, max]. Returns 0, or -1 if s is not one. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Writes s to f with control characters shown as '?', so one line stays one line. */
void cli_put_line_text(FILE *f, const char *s);

/* Formats Unix milliseconds as ISO 8601 UTC ("2024-01-31T21:30:00.123Z"); 0 as "never". */
const char *cli_time(uint64_t ms, char *buf, size_t size);

/* ---- JSON output (cli_json.c) ---- */

/* Writes s as a JSON string (quotes, backslash and control characters escaped). */
void cli_json_string(const char *s);

/* Prints change as one JSON object on one line (encounters, persons; other kinds as
 * "unknown"). Returns 0, or -1 if stdout failed. */
int cli_print_change(const Veille__V1__Change *change);

/* Prints the profile of person_id held in change as one JSON object on one line. */
int cli_print_person(const char *person_id, const Veille__V1__Change *change, size_t pending);

/* ---- queueing and sending ops (cli_sync.c) ---- */

/* What a command that writes records does after queueing its ops. */
enum cli_send_mode {
	CLI_SEND_TRY,   /* default: push at once; if the server is unreachable, leave them queued */
	CLI_SEND_QUEUE, /* --no-sync: only queue */
	CLI_SEND_SYNC   /* --sync: push at once; an unreachable server is a failure */
};

/* The state of a command that queues ops and sends them (encounter add, person set). */
struct cli_sender {
	struct veille_client *c;
	enum cli_send_mode mode;
	int offline;                /* the server was found unreachable: only queue from now */
	uint64_t queued_offline;    /* ops of this command left queued by that */
	uint64_t refused;           /* ops answered CONFLICT or REJECTED */
	uint64_t first, n;          /* op counters of the ops being sent: [first, first + n) */
	unsigned char done[VEILLE_MAX_PUSH]; /* their results came */
};

/* Starts a sender on the open client c (not connected yet). */
void cli_sender_init(struct cli_sender *s, struct veille_client *c, enum cli_send_mode mode);

/*
 * Queues muts (1 to VEILLE_MAX_PUSH) in one local transaction, then, unless queueing only or
 * offline, pushes the outbox, printing one line per op result ("applied record_id=...
 * version=N", "rejected ... code=... reason=..."); ops left queued are printed as "queued
 * record_id=... op=N". Returns CLI_OK or an exit status (error printed).
 */
int cli_sender_send(struct cli_sender *s, Veille__V1__Mutation **muts, size_t n);

/* Ends the command: pulls (a complete sync) if online, notes ops left queued on stderr, and
 * returns the exit status (CLI_REFUSED if any op was refused). */
int cli_sender_finish(struct cli_sender *s);

/* Adds the --sync / --no-sync options to a command's option table. */
#define CLI_SEND_OPTIONS                                    \
	{ "sync", no_argument, NULL, 'Y' },                 \
	{ "no-sync", no_argument, NULL, 'Q' }

/* Prints the problems (up to max, 0: all) as "problem op=N ..." lines. Returns an exit
 * status. */
int cli_print_problems(struct veille_client *c, size_t max);

/* Parses milliseconds since the epoch, or ISO 8601 "YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM]"
 * (a time without an offset is local time). 0 or -1. */
int cli_parse_time(const char *s, int64_t *ms);

int cmd_encounter(struct cli *cli, int argc, char **argv);
int cmd_request(struct cli *cli, int argc, char **argv);
int cmd_propose(struct cli *cli, int argc, char **argv);
int cmd_decide(struct cli *cli, int argc, char **argv);
int cmd_person(struct cli *cli, int argc, char **argv);
int cmd_pull(struct cli *cli, int argc, char **argv);
int cmd_places(struct cli *cli, int argc, char **argv);
int cmd_sync(struct cli *cli, int argc, char **argv);

/* Runs veille_follow(c, fo, total) until SIGINT, SIGTERM or fo->max_ms (it sets fo->stop);
 * returns an exit status (errors printed). */
int cli_follow(struct veille_client *c, struct veille_follow_opts *fo,
	       struct veille_sync_stats *total);

/* A veille_follow on_retry that says on stderr what failed and when it tries again. */
void cli_print_retry(int rc, const struct veille_error *e, uint32_t wait_ms, void *arg);
int cmd_problems(struct cli *cli, int argc, char **argv);

#endif
