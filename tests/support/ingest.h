/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_TEST_INGEST_H
#define AGENTKPI_TEST_INGEST_H

/*
 * Helpers for the POST /v1/events tests: build events, post them, read
 * conversations back and assert on ingest replies and errors.
 */

#include "harness.h"

#include <jansson.h>
#include <stddef.h>

/* The ts of events whose time does not matter to the test. */
#define INGEST_TS "2026-11-21T10:00:00Z"

/*
 * Building events. Each returns a new reference (json_decref() it); none
 * keeps its string arguments.
 */

/* A conversation.started event. */
json_t *ingest_ev_started(const char *id, const char *conv, const char *ts);

/* A message event by author ("customer", "ai", ...). */
json_t *ingest_ev_message(const char *id, const char *conv, const char *ts,
			  const char *author);

/*
 * An event of type with the type's own fields given as JSON object text;
 * aborts the test if fields is not JSON.
 */
json_t *ingest_ev_typed(const char *id, const char *type, const char *conv,
			const char *ts, const char *fields);

/*
 * An array of n small messages "<prefix>-0000"... of conv, one second
 * apart, authors alternating customer and ai.
 */
json_t *ingest_ev_many(const char *prefix, const char *conv, size_t n);

/*
 * Request bodies. Each returns a malloc'd string (free() it) and aborts
 * the test on failure; j, arr and batch stay the caller's.
 */

/* Compact JSON text of j (any JSON value). */
char *ingest_text_of(const json_t *j);

/*
 * The elements of arr as NDJSON, one per line, each line ending in '\n';
 * NULL for an empty array.
 */
char *ingest_ndjson_of(const json_t *arr);

/*
 * The compact text of batch followed by blanks up to exactly len bytes;
 * aborts the test if the batch alone is not shorter than len.
 */
char *ingest_padded_batch(const json_t *batch, size_t len);

/*
 * Requests. Each fills r, which the caller releases with
 * http_resp_free() (the assertion helpers below do it for them).
 */

/* POSTs j as application/json with h's key; drops the reference to j. */
void ingest_post_json(struct harness *h, json_t *j, struct http_resp *r);

/* POSTs len bytes of body with Content-Type ctype and h's key. */
void ingest_post_body(struct harness *h, const char *ctype, const char *body,
		      size_t len, struct http_resp *r);

/*
 * POSTs one conversation.started event of conv (id "ev-<conv>", ts
 * INGEST_TS) with key (NULL: none) and content type ctype (NULL:
 * application/json).
 */
void ingest_post_started(struct harness *h, const char *key, const char *ctype,
			 const char *conv, struct http_resp *r);

/*
 * GET /v1/conversations/{conv} with conv URL-encoded, with key (NULL:
 * none).
 */
void ingest_get_conv(struct harness *h, const char *key, const char *conv,
		     struct http_resp *r);

/*
 * Looking at replies. The returned strings and JSON are borrowed from
 * their argument and live as long as it does.
 */

/* j's string value, or "(none)" when j is not a string. */
const char *ingest_str_or_none(const json_t *j);

/* error.code of an error reply, or "(none)". */
const char *ingest_error_code(const struct http_resp *r);

/* error.message of an error reply, or "(none)". */
const char *ingest_error_message(const struct http_resp *r);

/*
 * True when the error object err names field want; "" (no field) also
 * matches a null field.
 */
int ingest_field_is(const json_t *err, const char *want);

/* The integer member key of r's JSON, or -1 when it is not an integer. */
json_int_t ingest_count_of(const struct http_resp *r, const char *key);

/* The "rejected" array of an ingest reply, or NULL. */
json_t *ingest_rejected_of(const struct http_resp *r);

/* conversation.started_at of a GET conversation reply, or "(none)". */
const char *ingest_started_at(const json_t *conv_reply);

/* The event with this id in a GET conversation reply, or NULL. */
json_t *ingest_event_by_id(const json_t *conv_reply, const char *id);

/*
 * Assertions. The ingest_assert_* helpers abort the test on failure;
 * ingest_expect_same_event() only marks it failed.
 */

/*
 * Asserts a 200 ingest reply with these accepted and duplicates counts
 * and this many rejections, then frees r.
 */
void ingest_assert_counts(struct http_resp *r, json_int_t accepted,
			  json_int_t duplicates, size_t rejected);

/* Asserts an error reply with this status and error code, then frees r. */
void ingest_assert_error(struct http_resp *r, long status, const char *code);

/*
 * Asserts that the rejection rej has this index, id (NULL: none sent),
 * error code and field ("": none).
 */
void ingest_assert_rejection(const json_t *rej, json_int_t index,
			     const char *id, const char *code,
			     const char *field);

/*
 * Asserts that conv exists with n events (in its list and its facts) and
 * returns the GET reply's JSON, read with h's key; json_decref() it.
 */
json_t *ingest_conv_events(struct harness *h, const char *conv, size_t n);

/* As ingest_conv_events(), dropping the reply. */
void ingest_assert_conv_count(struct harness *h, const char *conv, size_t n);

/* Asserts that GET finds no conversation conv (nothing was stored). */
void ingest_assert_absent(struct harness *h, const char *conv);

/*
 * Expects got (NULL: missing) and want to be the same JSON, showing both
 * with what if not. Neither reference is taken.
 */
void ingest_expect_same_event(json_t *got, json_t *want, const char *what);

#endif
