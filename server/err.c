/* SPDX-License-Identifier: MIT */
/*
 * The one table that maps API errors to HTTP statuses and code words.
 */
#include "err.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int status;
	const char *word;
} err_table[API_ERR_COUNT] = {
    [API_ERR_NONE] = {200, "ok"},
    [API_ERR_INVALID_FIELD] = {400, "invalid_field"},
    [API_ERR_MISSING_FIELD] = {400, "missing_field"},
    [API_ERR_UNKNOWN_FIELD] = {400, "unknown_field"},
    [API_ERR_INVALID_EVENT] = {400, "invalid_event"},
    [API_ERR_INVALID_JSON] = {400, "invalid_json"},
    [API_ERR_INVALID_PARAM] = {400, "invalid_parameter"},
    [API_ERR_UNAUTHORIZED] = {401, "unauthorized"},
    [API_ERR_FORBIDDEN] = {403, "forbidden"},
    [API_ERR_NOT_FOUND] = {404, "not_found"},
    [API_ERR_METHOD_NOT_ALLOWED] = {405, "method_not_allowed"},
    [API_ERR_CONFLICT] = {409, "conflict"},
    [API_ERR_PAYLOAD_TOO_LARGE] = {413, "payload_too_large"},
    [API_ERR_TOO_MANY_EVENTS] = {413, "too_many_events"},
    [API_ERR_UNSUPPORTED_MEDIA] = {415, "unsupported_media_type"},
    [API_ERR_UNPROCESSABLE] = {422, "unprocessable"},
    [API_ERR_URI_TOO_LONG] = {414, "uri_too_long"},
    [API_ERR_HEADERS_TOO_LARGE] = {431, "headers_too_large"},
    [API_ERR_TOO_MANY_PARAMS] = {400, "too_many_parameters"},
    [API_ERR_RATE_LIMITED] = {429, "rate_limited"},
    [API_ERR_INTERNAL] = {500, "internal"},
    [API_ERR_DB_UNAVAILABLE] = {503, "db_unavailable"},
    [API_ERR_NOT_READY] = {503, "not_ready"},
};

/*
 * Replaces each byte of s that does not begin a whole UTF-8 character
 * with '?'. Field and message go into JSON replies, which jansson builds
 * only from UTF-8, and they may quote raw bytes of a URL or end in a
 * character cut short by the buffer or a "%.40s".
 */
static void utf8_scrub(char *s)
{
	size_t n = strlen(s), i = 0, k;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)s[i];
		k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (k <= n - i && utf8_valid(s + i, k))
			i += k;
		else
			s[i++] = '?';
	}
}

int err_set(struct err *err, enum api_err code, const char *field,
	    const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	utf8_scrub(err->field);
	utf8_scrub(err->msg);
	return -1;
}

int err_http_status(enum api_err code)
{
	if (code < 0 || code >= API_ERR_COUNT)
		return 500;
	return err_table[code].status;
}

const char *err_code_word(enum api_err code)
{
	if (code < 0 || code >= API_ERR_COUNT)
		return "internal";
	return err_table[code].word;
}
