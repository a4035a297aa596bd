/* log: the one way veille programs write diagnostics.
 *
 * Lines go to stderr as "<program>: <level>: <message>". Never pass a record field value,
 * a key, a pairing code or a token to these functions: logs are not sealed. */
#ifndef VEILLE_LOG_H
#define VEILLE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Sets the program name shown in each line (borrowed: must outlive all logging). */
void log_init(const char *program, enum log_level level);
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
