/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_UTIL_H
#define AGENTKPI_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Allocation wrappers: on out-of-memory they print a message and abort,
 * so their results are never NULL and are not checked by callers.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Programmer errors only, never input: log file:line and abort. */
#define BUG(msg) util_bug(__FILE__, __LINE__, (msg))
void util_bug(const char *file, int line, const char *msg)
    __attribute__((noreturn));

/* Marks "no timestamp" in int64 millisecond fields. */
#define TIME_NONE INT64_MIN

/*
 * Parses an RFC 3339 date-time with a mandatory offset ("Z" or +hh:mm),
 * 'T' or 't' separator and any number of fraction digits into milliseconds
 * since the Unix epoch (UTC). Digits past the millisecond are truncated.
 * Returns 0 on success, -1 when the text is not such a time.
 */
int time_parse_rfc3339(const char *s, int64_t *ms);

/*
 * Formats ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf
 * (at least TIME_BUF_LEN bytes). Returns buf.
 */
#define TIME_BUF_LEN 32
char *time_format_ms(int64_t ms, char *buf);

/* Milliseconds since the epoch now (wall clock), and a monotonic clock. */
int64_t time_now_ms(void);
double time_mono_ms(void);

#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)

/* The start of the unit-long span (ms; UTC hours, days) holding t. */
int64_t time_floor_ms(int64_t t, int64_t unit);

/* Days since 1970-01-01 for a proleptic Gregorian date. */
int64_t days_from_civil(int y, int m, int d);

/* Writes a new random UUID (36 chars + NUL) into out. */
void util_uuid(char out[37]);

/*
 * Number of Unicode code points in a UTF-8 string of len bytes (jansson
 * hands us valid UTF-8), counting every byte that is not a continuation.
 */
size_t utf8_len(const char *s, size_t len);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates). */
bool utf8_valid(const char *s, size_t len);

/* The value of hex digit c (either case), or -1. */
int hex_digit(char c);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

/*
 * A PostgreSQL text[] literal ({"a","b\\"c"}) of the n strings v, for a
 * $n::text[] parameter; returns a new string (free() it).
 */
char *pg_text_array(const char *const *v, size_t n);

/* The same for a $n::timestamptz[] parameter of the n times t (ms). */
char *pg_time_array(const int64_t *t, size_t n);

/*
 * Decodes standard base64 (with or without '=' padding) of s[0..len) into
 * a new NUL-terminated buffer (free() it), its length in *out_len. NULL
 * when s is not base64.
 */
char *base64_decode(const char *s, size_t len, size_t *out_len);

/* Compact JSON text of j (doubles round-trip exactly); free() it. */
char *json_text(const json_t *j);

/*
 * The deepest nesting of arrays and objects in JSON text s[0..n),
 * brackets inside strings not counted ("{}" is 1, "[{}]" is 2). Cheap
 * enough to run before parsing, so that a hostile body never reaches the
 * parser's recursion.
 */
int json_text_depth(const char *s, size_t n);

/* Parses a whole decimal long; 0 on success, -1 on junk or overflow. */
int parse_long(const char *s, long *out);

#endif
