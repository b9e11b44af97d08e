/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the POST /v1/events tests: event builders, requests, and
 * assertions on ingest replies and stored conversations.
 */
#include "ingest.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- building events ------------------------------------------------- */

json_t *ingest_ev_started(const char *id, const char *conv, const char *ts)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "id", id, "type",
			 "conversation.started", "conversation_id", conv, "ts",
			 ts);
}

json_t *ingest_ev_message(const char *id, const char *conv, const char *ts,
			  const char *author)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "type",
			 "message", "conversation_id", conv, "ts", ts, "author",
			 author);
}

json_t *ingest_ev_typed(const char *id, const char *type, const char *conv,
			const char *ts, const char *fields)
{
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "type", type,
			       "conversation_id", conv, "ts", ts);
	json_t *own = json_loads(fields, 0, NULL);

	cr_assert_not_null(own, "bad JSON in the test: %s", fields);
	json_object_update(ev, own);
	json_decref(own);
	return ev;
}

json_t *ingest_ev_many(const char *prefix, const char *conv, size_t n)
{
	json_t *arr = json_array();
	char id[64], ts[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s-%04zu", prefix, i);
		snprintf(ts, sizeof(ts), "2026-11-21T%02zu:%02zu:%02zuZ",
			 i / 3600 % 24, i / 60 % 60, i % 60);
		json_array_append_new(
		    arr,
		    ingest_ev_message(id, conv, ts, i % 2 ? "ai" : "customer"));
	}
	return arr;
}

char *ingest_text_of(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	if (!s)
		cr_assert_fail("cannot serialize JSON");
	return s;
}

char *ingest_ndjson_of(const json_t *arr)
{
	size_t i, len = 0;
	char *out = NULL, *line;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		line = ingest_text_of(v);
		out = realloc(out, len + strlen(line) + 2);
		cr_assert_not_null(out);
		memcpy(out + len, line, strlen(line));
		len += strlen(line);
		out[len++] = '\n';
		out[len] = '\0';
		free(line);
	}
	return out;
}

char *ingest_padded_batch(const json_t *batch, size_t len)
{
	char *text = ingest_text_of(batch), *body;
	size_t n = strlen(text);

	cr_assert_lt(n, len, "the batch alone is %zu bytes", n);
	body = malloc(len + 1);
	cr_assert_not_null(body);
	memcpy(body, text, n);
	memset(body + n, ' ', len - n);
	body[len] = '\0';
	free(text);
	return body;
}

/* -- requests -------------------------------------------------------- */

void ingest_post_json(struct harness *h, json_t *j, struct http_resp *r)
{
	char *body = ingest_text_of(j);

	http_post_events(h, body, r);
	free(body);
	json_decref(j);
}

void ingest_post_body(struct harness *h, const char *ctype, const char *body,
		      size_t len, struct http_resp *r)
{
	http_call(h, "POST", "/v1/events", h->key, ctype, body, len, r);
}

void ingest_post_started(struct harness *h, const char *key, const char *ctype,
			 const char *conv, struct http_resp *r)
{
	json_t *ev = json_pack("{s:s+, s:s, s:s, s:s}", "id", "ev-", conv,
			       "type", "conversation.started",
			       "conversation_id", conv, "ts", INGEST_TS);
	char *body = ingest_text_of(ev);

	http_call(h, "POST", "/v1/events", key,
		  ctype ? ctype : "application/json", body, strlen(body), r);
	free(body);
	json_decref(ev);
}

void ingest_get_conv(struct harness *h, const char *key, const char *conv,
		     struct http_resp *r)
{
	char path[1024];
	char *esc = curl_easy_escape(NULL, conv, 0);

	if (!esc)
		cr_assert_fail("cannot URL-encode '%s'", conv);
	snprintf(path, sizeof(path), "/v1/conversations/%s", esc);
	curl_free(esc);
	http_call(h, "GET", path, key, NULL, NULL, 0, r);
}

/* -- looking at replies ---------------------------------------------- */

const char *ingest_str_or_none(const json_t *j)
{
	const char *s = json_string_value(j);

	return s ? s : "(none)";
}

const char *ingest_error_code(const struct http_resp *r)
{
	return ingest_str_or_none(
	    json_object_get(json_object_get(r->json, "error"), "code"));
}

const char *ingest_error_message(const struct http_resp *r)
{
	return ingest_str_or_none(
	    json_object_get(json_object_get(r->json, "error"), "message"));
}

int ingest_field_is(const json_t *err, const char *want)
{
	json_t *f = json_object_get(err, "field");

	if (!*want && json_is_null(f))
		return 1;
	return json_is_string(f) && strcmp(json_string_value(f), want) == 0;
}

json_int_t ingest_count_of(const struct http_resp *r, const char *key)
{
	json_t *v = json_object_get(r->json, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

json_t *ingest_rejected_of(const struct http_resp *r)
{
	return json_object_get(r->json, "rejected");
}

void ingest_assert_counts(struct http_resp *r, json_int_t accepted,
			  json_int_t duplicates, size_t rejected)
{
	cr_assert_eq(r->status, 200, "status %ld, body: %s", r->status,
		     r->body);
	cr_assert_eq(ingest_count_of(r, "accepted"), accepted, "body: %s",
		     r->body);
	cr_assert_eq(ingest_count_of(r, "duplicates"), duplicates, "body: %s",
		     r->body);
	cr_assert(json_is_array(ingest_rejected_of(r)), "body: %s", r->body);
	cr_assert_eq(json_array_size(ingest_rejected_of(r)), rejected,
		     "body: %s", r->body);
	http_resp_free(r);
}

void ingest_assert_error(struct http_resp *r, long status, const char *code)
{
	cr_assert_eq(r->status, status, "status %ld, body: %s", r->status,
		     r->body);
	cr_assert_str_eq(ingest_error_code(r), code, "body: %s", r->body);
	http_resp_free(r);
}

void ingest_assert_rejection(const json_t *rej, json_int_t index,
			     const char *id, const char *code,
			     const char *field)
{
	json_t *err = json_object_get(rej, "error");
	json_t *jid = json_object_get(rej, "id");

	cr_assert(json_is_integer(json_object_get(rej, "index")));
	cr_assert_eq(json_integer_value(json_object_get(rej, "index")), index);
	if (id)
		cr_assert_str_eq(ingest_str_or_none(jid), id);
	else
		cr_assert(!jid || json_is_null(jid), "no id was sent");
	cr_assert_str_eq(ingest_str_or_none(json_object_get(err, "code")),
			 code);
	cr_assert(ingest_field_is(err, field), "field %s, not '%s'",
		  ingest_str_or_none(json_object_get(err, "field")), field);
}

json_t *ingest_conv_events(struct harness *h, const char *conv, size_t n)
{
	struct http_resp r;
	json_t *out;

	ingest_get_conv(h, h->key, conv, &r);
	cr_assert_eq(r.status, 200, "GET conversation '%s': %ld %s", conv,
		     r.status, r.body);
	out = json_incref(r.json);
	http_resp_free(&r);
	cr_assert_eq(json_array_size(json_object_get(out, "events")), n,
		     "events of '%s'", conv);
	cr_assert_eq(json_integer_value(json_object_get(
			 json_object_get(out, "conversation"), "events")),
		     (json_int_t)n, "facts.events of '%s'", conv);
	return out;
}

void ingest_assert_conv_count(struct harness *h, const char *conv, size_t n)
{
	json_decref(ingest_conv_events(h, conv, n));
}

void ingest_assert_absent(struct harness *h, const char *conv)
{
	struct http_resp r;

	ingest_get_conv(h, h->key, conv, &r);
	cr_assert_eq(r.status, 404, "conversation '%s' exists: %ld %s", conv,
		     r.status, r.body);
	cr_assert(ingest_field_is(json_object_get(r.json, "error"),
				  "conversation_id"),
		  "a 404 for the conversation, not the route: %s", r.body);
	http_resp_free(&r);
}

const char *ingest_started_at(const json_t *conv_reply)
{
	return ingest_str_or_none(json_object_get(
	    json_object_get(conv_reply, "conversation"), "started_at"));
}

json_t *ingest_event_by_id(const json_t *conv_reply, const char *id)
{
	json_t *events = json_object_get(conv_reply, "events"), *ev;
	size_t i;

	json_array_foreach(events, i, ev)
	{
		if (strcmp(ingest_str_or_none(json_object_get(ev, "id")), id) ==
		    0)
			return ev;
	}
	return NULL;
}

void ingest_expect_same_event(json_t *got, json_t *want, const char *what)
{
	char *a, *b;

	if (got && json_equal(got, want))
		return;
	a = got ? json_canon(got) : strdup("(missing)");
	b = json_canon(want);
	cr_expect_fail("%s: stored %s, sent %s", what, a, b);
	free(a);
	free(b);
}