/* SPDX-License-Identifier: MIT */
/*
 * POST /v1/events over HTTP against the real service: per-event checks,
 * batches and duplicates, read back with GET.
 */
#include "harness.h"
#include "ingest.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#define TS INGEST_TS

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

TestSuite(events, .init = setup, .fini = teardown);

/* -- invalid events -------------------------------------------------- */

/* Whether objects a and b have equal values for key (or neither has it). */
static bool same_member(json_t *a, json_t *b, const char *key)
{
	json_t *x = json_object_get(a, key), *y = json_object_get(b, key);

	return (!x && !y) || json_equal(x, y);
}

Test(events, each_invalid_event_alone_is_rejected_with_its_field)
{
	json_t *cases = load_test_data("invalid_events.json"), *c, *ev, *rej;
	json_t *err;
	const char *name;
	struct http_resp r;
	size_t i;

	cr_assert_gt(json_array_size(cases), 0);
	json_array_foreach(cases, i, c)
	{
		name = ingest_str_or_none(json_object_get(c, "name"));
		ev = json_object_get(c, "event");
		/* a body that is not an object is refused whole: send [ev] */
		if (json_is_object(ev))
			ingest_post_json(&h, json_incref(ev), &r);
		else
			ingest_post_json(&h, json_pack("[O]", ev), &r);
		rej = json_array_get(ingest_rejected_of(&r), 0);
		err = json_object_get(rej, "error");
		/* nothing accepted: 400, the error is the event's own */
		cr_expect(
		    r.status == 400 && ingest_count_of(&r, "accepted") == 0 &&
			json_array_size(ingest_rejected_of(&r)) == 1 &&
			json_is_integer(json_object_get(rej, "index")) &&
			json_integer_value(json_object_get(rej, "index")) == 0,
		    "case '%s': 400, one rejection at index 0, %ld %s", name,
		    r.status, r.body);
		cr_expect(same_member(json_object_get(r.json, "error"), err,
				      "code") &&
			      same_member(json_object_get(r.json, "error"), err,
					  "field"),
			  "case '%s': the reply's error is the event's, %s",
			  name, r.body);
		cr_expect_str_eq(
		    ingest_str_or_none(json_object_get(err, "code")),
		    json_string_value(json_object_get(c, "code")),
		    "case '%s': code, %s", name, r.body);
		cr_expect(
		    ingest_field_is(
			err, ingest_str_or_none(json_object_get(c, "field"))),
		    "case '%s': field, %s", name, r.body);
		cr_expect(strlen(ingest_str_or_none(
			      json_object_get(err, "message"))) > 6,
			  "case '%s': a message says what is wrong, %s", name,
			  r.body);
		http_resp_free(&r);
	}
	json_decref(cases);
	ingest_assert_absent(&h, "c-invalid");
}

Test(events, invalid_events_in_one_batch_keep_index_code_and_field)
{
	json_t *cases = load_test_data("invalid_events.json"), *batch, *c, *ev;
	json_t *rej, *err, *id;
	size_t i, n = json_array_size(cases), pos = n / 2, at, k;
	struct http_resp r;
	char *seen;
	const char *name;

	/* one valid event in the middle, so indexes shift after it */
	batch = json_array();
	json_array_foreach(cases, i, c)
	{
		if (i == pos)
			json_array_append_new(
			    batch, ingest_ev_started("batch-valid",
						     "c-batch-valid", TS));
		json_array_append(batch, json_object_get(c, "event"));
	}
	ingest_post_json(&h, batch, &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	cr_assert_eq(ingest_count_of(&r, "accepted"), 1, "%s", r.body);
	cr_assert_eq(json_array_size(ingest_rejected_of(&r)), n, "%s", r.body);
	seen = calloc(n + 1, 1);
	cr_assert_not_null(seen);
	json_array_foreach(ingest_rejected_of(&r), i, rej)
	{
		at = (size_t)json_integer_value(json_object_get(rej, "index"));
		cr_assert(json_is_integer(json_object_get(rej, "index")) &&
			      at <= n && at != pos && !seen[at],
			  "rejection %zu has a wrong or repeated index: %s", i,
			  r.body);
		seen[at] = 1;
		k = at < pos ? at : at - 1;
		c = json_array_get(cases, k);
		ev = json_object_get(c, "event");
		name = ingest_str_or_none(json_object_get(c, "name"));
		err = json_object_get(rej, "error");
		cr_expect_str_eq(
		    ingest_str_or_none(json_object_get(err, "code")),
		    json_string_value(json_object_get(c, "code")),
		    "case '%s' at %zu: code", name, at);
		cr_expect(
		    ingest_field_is(
			err, ingest_str_or_none(json_object_get(c, "field"))),
		    "case '%s' at %zu: field %s", name, at,
		    ingest_str_or_none(json_object_get(err, "field")));
		id = json_is_object(ev) ? json_object_get(ev, "id") : NULL;
		if (json_is_string(id))
			cr_expect_str_eq(
			    ingest_str_or_none(json_object_get(rej, "id")),
			    json_string_value(id), "case '%s' at %zu: id", name,
			    at);
		else
			cr_expect(!json_is_string(json_object_get(rej, "id")),
				  "case '%s' at %zu: id not sent", name, at);
	}
	free(seen);
	http_resp_free(&r);
	json_decref(cases);
	ingest_assert_conv_count(&h, "c-batch-valid", 1);
	ingest_assert_absent(&h, "c-invalid");
}

/* -- valid events ---------------------------------------------------- */

Test(events, each_valid_event_is_accepted_and_stored_as_sent)
{
	json_t *cases = load_test_data("valid_events.json"), *c, *ev, *out;
	json_t *seen_types = json_object();
	const char *name, *want_ts;
	struct http_resp r;
	char conv[300];
	size_t i;

	cr_assert_gt(json_array_size(cases), 0);
	json_array_foreach(cases, i, c)
	{
		name = ingest_str_or_none(json_object_get(c, "name"));
		want_ts = ingest_str_or_none(json_object_get(c, "ts_utc"));
		ev = json_deep_copy(json_object_get(c, "event"));
		/* a conversation of its own, so started_at is this ts */
		snprintf(
		    conv, sizeof(conv), "%s",
		    ingest_str_or_none(json_object_get(ev, "conversation_id")));
		if (strcmp(conv, "c-valid") == 0) {
			snprintf(conv, sizeof(conv), "cv-%03zu", i);
			json_object_set_new(ev, "conversation_id",
					    json_string(conv));
		}
		ingest_post_json(&h, json_incref(ev), &r);
		cr_expect(r.status == 200 &&
			      ingest_count_of(&r, "accepted") == 1 &&
			      ingest_count_of(&r, "duplicates") == 0 &&
			      json_array_size(ingest_rejected_of(&r)) == 0,
			  "case '%s': %ld %s", name, r.status, r.body);
		if (ingest_count_of(&r, "accepted") == 1)
			json_object_set_new(
			    seen_types,
			    ingest_str_or_none(json_object_get(ev, "type")),
			    json_true());
		http_resp_free(&r);
		ingest_get_conv(&h, h.key, conv, &r);
		cr_expect_eq(r.status, 200, "case '%s': GET %ld %s", name,
			     r.status, r.body);
		out = r.json;
		cr_expect_eq(json_array_size(json_object_get(out, "events")), 1,
			     "case '%s': %s", name, r.body);
		ingest_expect_same_event(
		    json_array_get(json_object_get(out, "events"), 0), ev,
		    name);
		cr_expect_str_eq(ingest_started_at(out), want_ts,
				 "case '%s': started_at", name);
		http_resp_free(&r);
		json_decref(ev);
	}
	cr_expect_eq(json_object_size(seen_types), 9,
		     "a valid event of each of the 9 types is accepted");
	json_decref(seen_types);
	json_decref(cases);
}

Test(events, valid_events_as_one_pretty_printed_batch_are_stored_as_sent)
{
	json_t *cases = load_test_data("valid_events.json"), *batch, *c, *ev;
	json_t *out;
	size_t i, n = json_array_size(cases), in_c_valid = 0;
	struct http_resp r;
	char *body;

	batch = json_array();
	json_array_foreach(cases, i, c)
	{
		ev = json_object_get(c, "event");
		json_array_append(batch, ev);
		if (strcmp(ingest_str_or_none(
			       json_object_get(ev, "conversation_id")),
			   "c-valid") == 0)
			in_c_valid++;
	}
	/* newlines and indentation between and inside the elements */
	body = json_dumps(batch, JSON_INDENT(2));
	cr_assert_not_null(body);
	http_post_events(&h, body, &r);
	free(body);
	ingest_assert_counts(&r, (json_int_t)n, 0, 0);
	out = ingest_conv_events(&h, "c-valid", in_c_valid);
	json_array_foreach(batch, i, ev)
	{
		if (strcmp(ingest_str_or_none(
			       json_object_get(ev, "conversation_id")),
			   "c-valid") != 0)
			continue;
		ingest_expect_same_event(
		    ingest_event_by_id(
			out, ingest_str_or_none(json_object_get(ev, "id"))),
		    ev,
		    ingest_str_or_none(
			json_object_get(json_array_get(cases, i), "name")));
	}
	json_decref(out);
	json_decref(batch);
	json_decref(cases);
}

/*
 * openapi.yaml: each event is returned byte for byte as it was sent (key
 * order, number spelling, inner whitespace), without surrounding blanks.
 */
Test(events, event_text_is_returned_byte_for_byte)
{
	static const char *const raw[] = {
	    "{\"ts\" : \"2026-11-21T12:00:00.50+02:00\",  \"id\":\"bb-1\","
	    "\n  \"type\":\"message\", \"conversation_id\":\"c-bb\","
	    "\"author\":\"ai\",\"confidence\":0.50,\"cost_usd\":1e-2}",
	    "{\"conversation_id\":\"c-bb\",\"id\":\"bb-2\",\"ts\":"
	    "\"2026-11-21T10:00:01Z\",\"type\":\"tool_call\",\"ok\":true,"
	    "\"name\":\"kb\\u002esearch\",\"latency_ms\":120.000}",
	};
	struct http_resp r;
	char body[1024];

	snprintf(body, sizeof(body), " [ %s ,\n\t%s\n] ", raw[0], raw[1]);
	ingest_post_body(&h, "application/json", body, strlen(body), &r);
	ingest_assert_counts(&r, 2, 0, 0);
	ingest_get_conv(&h, h.key, "c-bb", &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	cr_expect(strstr(r.body, raw[0]), "not verbatim: %s", r.body);
	cr_expect(strstr(r.body, raw[1]), "not verbatim: %s", r.body);
	cr_expect_eq(json_array_size(json_object_get(r.json, "events")), 2,
		     "the reply is JSON with both events: %s", r.body);
	http_resp_free(&r);
}

Test(events, every_event_type_in_one_batch_is_accepted)
{
	static const char *const types[][2] = {
	    {"conversation.started", "{}"},
	    {"message", "{\"author\": \"customer\", \"sentiment\": -0.5}"},
	    {"tool_call", "{\"name\": \"kb.search\", \"ok\": true}"},
	    {"handoff", "{\"reason\": \"ai_unable\"}"},
	    {"resolved", "{\"by\": \"human\"}"},
	    {"reopened", "{}"},
	    {"abandoned", "{}"},
	    {"feedback", "{\"csat\": 2}"},
	    {"quality", "{\"grader\": \"reviewer-1\", \"score\": 40}"},
	};
	json_t *batch = json_array(), *out;
	struct http_resp r;
	char id[16], ts[32];
	size_t i, n = sizeof(types) / sizeof(types[0]);

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "ty-%zu", i);
		snprintf(ts, sizeof(ts), "2026-11-21T10:00:%02zuZ", i);
		json_array_append_new(batch, ingest_ev_typed(id, types[i][0],
							     "c-types", ts,
							     types[i][1]));
	}
	ingest_post_json(&h, batch, &r);
	ingest_assert_counts(&r, (json_int_t)n, 0, 0);
	out = ingest_conv_events(&h, "c-types", n);
	for (i = 0; i < n; i++)
		cr_expect_str_eq(
		    ingest_str_or_none(json_object_get(
			json_array_get(json_object_get(out, "events"), i),
			"type")),
		    types[i][0], "event %zu", i);
	cr_expect_str_eq(ingest_str_or_none(json_object_get(
			     json_object_get(out, "conversation"), "status")),
			 "abandoned", "the latest of its events decides");
	json_decref(out);
}

/* -- duplicates ------------------------------------------------------ */

Test(events, resending_a_batch_only_counts_duplicates)
{
	json_t *batch = ingest_ev_many("rs", "c-resend", 3);
	struct http_resp r;

	ingest_post_json(&h, json_incref(batch), &r);
	ingest_assert_counts(&r, 3, 0, 0);
	ingest_post_json(&h, batch, &r);
	ingest_assert_counts(&r, 0, 3, 0);
	ingest_assert_conv_count(&h, "c-resend", 3);
}

Test(events, repeated_id_in_one_batch_is_one_accepted_one_duplicate)
{
	struct http_resp r;

	ingest_post_json(
	    &h,
	    json_pack("[o, o, o]", ingest_ev_started("rep-1", "c-rep", TS),
		      ingest_ev_message("rep-2", "c-rep", TS, "ai"),
		      ingest_ev_started("rep-1", "c-rep", TS)),
	    &r);
	ingest_assert_counts(&r, 2, 1, 0);
	ingest_assert_conv_count(&h, "c-rep", 2);
}

Test(events, first_of_a_repeated_id_in_one_batch_is_the_one_stored)
{
	json_t *first, *second, *out, *facts;
	struct http_resp r;

	first = ingest_ev_message("same", "c-first", "2026-11-21T10:00:00Z",
				  "customer");
	second =
	    ingest_ev_message("same", "c-first", "2026-11-21T09:00:00Z", "ai");
	ingest_post_json(&h, json_pack("[O, O]", first, second), &r);
	ingest_assert_counts(&r, 1, 1, 0);
	out = ingest_conv_events(&h, "c-first", 1);
	facts = json_object_get(out, "conversation");
	ingest_expect_same_event(
	    json_array_get(json_object_get(out, "events"), 0), first,
	    "the first occurrence");
	cr_expect_str_eq(ingest_started_at(out), "2026-11-21T10:00:00.000Z");
	cr_expect_eq(json_integer_value(json_object_get(facts, "ai_turns")), 0,
		     "the later copy's author is ignored");
	json_decref(out);
	json_decref(first);
	json_decref(second);
}

Test(events, duplicate_with_different_content_changes_nothing)
{
	json_t *first, *second, *before, *after;
	struct http_resp r;
	char *a, *b;

	first =
	    ingest_ev_typed("dc-1", "message", "c-dc", "2026-11-21T10:00:00Z",
			    "{\"author\": \"customer\", \"sentiment\": -0.5,"
			    " \"customer_id\": \"cust-1\"}");
	second =
	    ingest_ev_typed("dc-1", "message", "c-dc", "2026-11-21T09:00:00Z",
			    "{\"author\": \"ai\", \"confidence\": 0.9,"
			    " \"cost_usd\": 3, \"customer_id\": \"cust-2\"}");
	ingest_post_json(&h, json_incref(first), &r);
	ingest_assert_counts(&r, 1, 0, 0);
	before = ingest_conv_events(&h, "c-dc", 1);
	ingest_post_json(&h, json_incref(second), &r);
	ingest_assert_counts(&r, 0, 1, 0);
	after = ingest_conv_events(&h, "c-dc", 1);
	a = json_canon(json_object_get(before, "conversation"));
	b = json_canon(json_object_get(after, "conversation"));
	cr_expect_str_eq(b, a, "facts changed by a duplicate");
	free(a);
	free(b);
	ingest_expect_same_event(
	    json_array_get(json_object_get(after, "events"), 0), first,
	    "the first copy");
	json_decref(before);
	json_decref(after);
	json_decref(first);
	json_decref(second);
}

Test(events, duplicate_naming_another_conversation_creates_nothing)
{
	struct http_resp r;

	ingest_post_json(&h, ingest_ev_started("dx-1", "c-dx-a", TS), &r);
	ingest_assert_counts(&r, 1, 0, 0);
	ingest_post_json(&h, ingest_ev_started("dx-1", "c-dx-b", TS), &r);
	ingest_assert_counts(&r, 0, 1, 0);
	ingest_assert_absent(&h, "c-dx-b");
	ingest_assert_conv_count(&h, "c-dx-a", 1);
}

Test(events, event_ids_are_unique_per_tenant_not_across_tenants)
{
	char tenant[64], tenant_id[37], key[96], *body;
	json_t *mine, *theirs, *out;
	struct http_resp r;

	harness_tenant(&h, "other", tenant, tenant_id, key);
	mine = ingest_ev_message("shared-1", "c-shared", TS, "customer");
	theirs = ingest_ev_message("shared-1", "c-shared", TS, "ai");
	ingest_post_json(&h, json_incref(mine), &r);
	ingest_assert_counts(&r, 1, 0, 0);
	body = ingest_text_of(theirs);
	http_call(&h, "POST", "/v1/events", key, "application/json", body,
		  strlen(body), &r);
	free(body);
	ingest_assert_counts(&r, 1, 0, 0);
	out = ingest_conv_events(&h, "c-shared", 1);
	ingest_expect_same_event(
	    json_array_get(json_object_get(out, "events"), 0), mine,
	    "this tenant's event");
	json_decref(out);
	ingest_get_conv(&h, key, "c-shared", &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	ingest_expect_same_event(
	    json_array_get(json_object_get(r.json, "events"), 0), theirs,
	    "the other tenant's event");
	http_resp_free(&r);
	json_decref(mine);
	json_decref(theirs);
}

/* -- partial acceptance ---------------------------------------------- */

Test(events, batch_stores_the_valid_events_and_reports_the_others)
{
	json_t *out, *rej;
	struct http_resp r;

	/* valid, bad author, valid, no id, not an object */
	ingest_post_json(
	    &h,
	    json_pack("[o, o, o, {s:s, s:s, s:s}, i]",
		      ingest_ev_started("p-1", "c-part", TS),
		      ingest_ev_message("p-2", "c-part", TS, "robot"),
		      ingest_ev_message("p-3", "c-part", TS, "ai"), "type",
		      "reopened", "conversation_id", "c-part", "ts", TS, 42),
	    &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	cr_assert_eq(ingest_count_of(&r, "accepted"), 2, "%s", r.body);
	cr_assert_eq(json_array_size(ingest_rejected_of(&r)), 3, "%s", r.body);
	rej = ingest_rejected_of(&r);
	ingest_assert_rejection(json_array_get(rej, 0), 1, "p-2",
				"invalid_field", "author");
	ingest_assert_rejection(json_array_get(rej, 1), 3, NULL,
				"missing_field", "id");
	ingest_assert_rejection(json_array_get(rej, 2), 4, NULL,
				"invalid_event", "");
	http_resp_free(&r);
	out = ingest_conv_events(&h, "c-part", 2);
	cr_assert_not_null(ingest_event_by_id(out, "p-1"));
	cr_assert_not_null(ingest_event_by_id(out, "p-3"));
	json_decref(out);
}
