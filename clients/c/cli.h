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

/* Prints "veille: <fmt>" to stderr and returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a decimal number in [0, max]. Returns 0, or -1 if s is not one. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Writes s to f with control characters shown as '?', so one line stays one line. */
void cli_put_line_text(FILE *f, const char *s);

int cmd_encounter(struct cli *cli, int argc, char **argv);
int cmd_pull(struct cli *cli, int argc, char **argv);

#endif
