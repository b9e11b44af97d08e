/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_LOG_H
#define AGENTKPI_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Sets the minimum level printed; returns -1 for an unknown level name. */
int log_set_level_name(const char *name);
void log_set_level(enum log_level level);

/*
 * The request id that log lines of this thread carry (borrowed: the
 * caller keeps it alive until it sets another or NULL).
 */
void log_set_request_id(const char *rid);

/*
 * Prints one line to stderr: time, level, module, request id, message.
 * Never pass bodies, keys, passwords or message text.
 */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
