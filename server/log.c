/* log: see log.h. One fprintf per line so lines from one process do not interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *prog = "veille";
static enum log_level threshold = LOG_INFO;
static const char *const names[] = {"error", "warning", "info", "debug"};

void log_init(const char *program, enum log_level level)
{
	prog = program;
	threshold = level;
}

void log_set_level(enum log_level level)
{
	threshold = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s: %s\n", prog, names[level], line);
}
