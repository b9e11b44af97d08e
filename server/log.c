/* SPDX-License-Identifier: MIT */
/*
 * One-line log records on stderr, gated by level, tagged with the module
 * and the request id of the calling thread.
 */
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum log_level min_level = LOG_INFO;
static _Thread_local const char *thread_rid;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_set_level_name(const char *name)
{
	int i;

	for (i = 0; i <= LOG_DEBUG; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			min_level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_set_level(enum log_level level)
{
	min_level = level;
}

void log_set_request_id(const char *rid)
{
	thread_rid = rid;
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[1024], ts[TIME_BUF_LEN];
	va_list ap;
	int n;

	if (level > min_level)
		return;
	n = snprintf(line, sizeof(line), "%s %s %s%s%s ",
		     time_format_ms(time_now_ms(), ts), level_names[level],
		     module, thread_rid ? " request_id=" : "",
		     thread_rid ? thread_rid : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
