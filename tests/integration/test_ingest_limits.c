/* SPDX-License-Identifier: MIT */
/*
 * POST /v1/events at its edges: size and count limits, bodies that are not
 * events, NDJSON, media types, keys, timestamps and commit visibility.
 */
#include "harness.h"
#include "ingest.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY 1048576 /* max_body_bytes default */
#define MAX_EVENTS 1000	 /* max_batch_events default */
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

TestSuite(ingest_limits, .init = setup, .fini = teardown);

/* -- size limits ----------------------------------------------------- */

/* POSTs 50 small events of c-mib padded with blanks to len bytes. */
static void post_padded(size_t len, struct http_resp *r)
{
	json_t *batch = ingest_ev_many("mib", "c-mib", 50);
	char *body = ingest_padded_batch(batch, len);

	ingest_post_body(&h, "application/json", body, len, r);
	free(body);
	json_decref(batch);
}

Test(ingest_limits, body_of_exactly_1_mib_is_accepted)
{
	struct http_resp r;

	post_padded(MAX_BODY, &r);
	ingest_assert_counts(&r, 50, 0, 0);
	ingest_assert_conv_count(&h, "c-mib", 50);
}

Test(ingest_limits, body_one_byte_over_1_mib_is_413_and_stores_nothing)
{
	struct http_resp r;

	post_padded(MAX_BODY + 1, &r);
	ingest_assert_error(&r, 413, "payload_too_large");
	ingest_assert_absent(&h, "c-mib");
}

Test(ingest_limits, batch_of_long_comments_over_1_mib_is_413_and_stores_nothing)
{
	json_t *batch = json_array();
	struct http_resp r;
	char id[32], *comment, *body;
	size_t i;

	comment = malloc(3901);
	cr_assert_not_null(comment);
	memset(comment, 'w', 3900);
	comment[3900] = '\0';
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "lc-%03zu", i);
		json_array_append_new(
		    batch,
		    json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "id", id,
			      "type", "feedback", "conversation_id", "c-long",
			      "ts", TS, "csat", 3, "comment", comment));
	}
	free(comment);
	body = ingest_text_of(batch);
	json_decref(batch);
	cr_assert_gt(strlen(body), MAX_BODY);
	http_post_events(&h, body, &r);
	free(body);
	ingest_assert_error(&r, 413, "payload_too_large");
	ingest_assert_absent(&h, "c-long");
}

Test(ingest_limits, batch_of_1000_events_is_accepted)
{
	struct http_resp r;

	ingest_post_json(&h, ingest_ev_many("k", "c-1000", MAX_EVENTS), &r);
	ingest_assert_counts(&r, MAX_EVENTS, 0, 0);
	ingest_assert_conv_count(&h, "c-1000", MAX_EVENTS);
}

Test(ingest_limits, batch_of_1001_events_is_413_and_stores_nothing)
{
	struct http_resp r;

	ingest_post_json(&h, ingest_ev_many("k", "c-1001", MAX_EVENTS + 1), &r);
	ingest_assert_error(&r, 413, "too_many_events");
	ingest_assert_absent(&h, "c-1001");
}

Test(ingest_limits, ndjson_of_1001_lines_is_413_and_stores_nothing)
{
	json_t *batch = ingest_ev_many("k", "c-nd1001", MAX_EVENTS + 1);
	struct http_resp r;
	char *body = ingest_ndjson_of(batch);

	ingest_post_body(&h, "application/x-ndjson", body, strlen(body), &r);
	free(body);
	json_decref(batch);
	ingest_assert_error(&r, 413, "too_many_events");
	ingest_assert_absent(&h, "c-nd1001");
}

/* -- bodies that are not events -------------------------------------- */

Test(ingest_limits, body_that_is_not_json_is_400_and_stores_nothing)
{
#define NJ_EVENT                                                               \
	"{\"id\": \"nj-1\", \"type\": \"conversation.started\", "              \
	"\"conversation_id\": \"c-nj\", \"ts\": \"2026-11-21T10:00:00Z\"}"
	static const struct {
		const char *name;
		const char *body;
	} cases[] = {
	    {"plain text", "conversation c-nj started at " TS},
	    {"form encoded",
	     "id=nj-1&type=conversation.started&conversation_id=c-nj"},
	    {"unterminated object",
	     "{\"id\": \"nj-1\", \"type\": \"conversation.started\", "
	     "\"conversation_id\": \"c-nj\", \"ts\": "
	     "\"2026-11-21T10:00:00Z\""},
	    {"single quotes",
	     "{'id': 'nj-1', 'type': 'conversation.started', "
	     "'conversation_id': 'c-nj', 'ts': '2026-11-21T10:00:00Z'}"},
	    {"object then garbage", NJ_EVENT " trailing"},
	    {"two objects as application/json", NJ_EVENT "\n" NJ_EVENT},
	    {"array then garbage", "[" NJ_EVENT "] x"},
	    {"array with a trailing comma", "[" NJ_EVENT ",]"},
	    {"array with two closing brackets", "[" NJ_EVENT "]]"},
	    {"array elements without a comma", "[" NJ_EVENT " " NJ_EVENT "]"},
	    /* found by tests/fuzz/fuzz_ndjson.c: '}' passed for a comma */
	    {"array elements parted by a brace", "[" NJ_EVENT "}" NJ_EVENT "]"},
	};
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ingest_post_body(&h, "application/json", cases[i].body,
				 strlen(cases[i].body), &r);
		cr_expect_eq(r.status, 400, "case '%s': %ld %s", cases[i].name,
			     r.status, r.body);
		cr_expect_str_eq(ingest_error_code(&r), "invalid_json",
				 "case '%s': %s", cases[i].name, r.body);
		http_resp_free(&r);
	}
	ingest_assert_absent(&h, "c-nj");
#undef NJ_EVENT
}

Test(ingest_limits, truncated_array_stores_not_even_its_valid_first_element)
{
	json_t *ev = ingest_ev_started("tr-1", "c-trunc", TS);
	struct http_resp r;
	char *text = ingest_text_of(ev), body[512];

	snprintf(body, sizeof(body), "[%s, {", text);
	free(text);
	json_decref(ev);
	ingest_post_body(&h, "application/json", body, strlen(body), &r);
	ingest_assert_error(&r, 400, "invalid_json");
	ingest_assert_absent(&h, "c-trunc");
}

Test(ingest_limits, empty_blank_or_scalar_body_is_400)
{
	static const char *const bodies[] = {
	    "", "   \r\n\t\n", "42", "\"an event\"", "null", "true", " 3.5 ",
	};
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		ingest_post_body(&h, "application/json", bodies[i],
				 strlen(bodies[i]), &r);
		cr_expect_eq(r.status, 400, "body '%s': %ld %s", bodies[i],
			     r.status, r.body);
		cr_expect_str_eq(ingest_error_code(&r), "invalid_json",
				 "body '%s'", bodies[i]);
		http_resp_free(&r);
	}
}

/* -- NDJSON ---------------------------------------------------------- */

Test(ingest_limits, ndjson_lines_with_blank_lines_are_three_events)
{
	json_t *a = ingest_ev_started("nd-1", "c-nd", "2026-11-21T10:00:00Z");
	json_t *b = ingest_ev_message("nd-2", "c-nd", "2026-11-21T10:00:01Z",
				      "customer");
	json_t *c =
	    ingest_ev_message("nd-3", "c-nd", "2026-11-21T10:00:02Z", "ai");
	char *ta = ingest_text_of(a), *tb = ingest_text_of(b),
	     *tc = ingest_text_of(c), body[1024];
	struct http_resp r;
	json_t *out;

	/* a blank line, a CRLF line end and no final newline */
	snprintf(body, sizeof(body), "%s\n\n%s\r\n  \n%s", ta, tb, tc);
	ingest_post_body(&h, "application/x-ndjson", body, strlen(body), &r);
	ingest_assert_counts(&r, 3, 0, 0);
	out = ingest_conv_events(&h, "c-nd", 3);
	ingest_expect_same_event(ingest_event_by_id(out, "nd-1"), a, "line 1");
	ingest_expect_same_event(ingest_event_by_id(out, "nd-2"), b, "line 3");
	ingest_expect_same_event(ingest_event_by_id(out, "nd-3"), c, "line 5");
	json_decref(out);
	free(ta);
	free(tb);
	free(tc);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

Test(ingest_limits, ndjson_malformed_line_is_400_naming_it_and_stores_nothing)
{
	json_t *a = ingest_ev_started("ndm-1", "c-ndm", TS);
	json_t *b = ingest_ev_message("ndm-2", "c-ndm", TS, "customer");
	char *ta = ingest_text_of(a), *tb = ingest_text_of(b), body[1024];
	struct http_resp r;

	snprintf(body, sizeof(body), "%s\n\n%s\n{\"id\": \"ndm-3\",\n%s\n", ta,
		 tb, ta);
	ingest_post_body(&h, "application/x-ndjson", body, strlen(body), &r);
	cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
	cr_assert_str_eq(ingest_error_code(&r), "invalid_json");
	cr_assert(strstr(ingest_error_message(&r), "line 4"),
		  "the message names line 4: %s", r.body);
	http_resp_free(&r);
	ingest_assert_absent(&h, "c-ndm");
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
}

Test(ingest_limits, ndjson_invalid_event_line_is_rejected_alone)
{
	json_t *lines =
	    json_pack("[o, o, o]", ingest_ev_started("ndi-1", "c-ndi", TS),
		      ingest_ev_message("ndi-2", "c-ndi", TS, "robot"),
		      ingest_ev_message("ndi-3", "c-ndi", TS, "ai"));
	char *body = ingest_ndjson_of(lines);
	struct http_resp r;

	ingest_post_body(&h, "application/x-ndjson", body, strlen(body), &r);
	free(body);
	json_decref(lines);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	cr_assert_eq(ingest_count_of(&r, "accepted"), 2, "%s", r.body);
	cr_assert_eq(json_array_size(ingest_rejected_of(&r)), 1, "%s", r.body);
	ingest_assert_rejection(json_array_get(ingest_rejected_of(&r), 0), 1,
				"ndi-2", "invalid_field", "author");
	http_resp_free(&r);
	ingest_assert_conv_count(&h, "c-ndi", 2);
}

/* -- media types ----------------------------------------------------- */

Test(ingest_limits, text_plain_is_415_and_stores_nothing)
{
	struct http_resp r;

	ingest_post_started(&h, h.key, "text/plain", "c-tp", &r);
	ingest_assert_error(&r, 415, "unsupported_media_type");
	ingest_assert_absent(&h, "c-tp");
}

Test(ingest_limits, content_types_with_parameters_or_other_case_are_accepted)
{
	static const char *const ctypes[] = {
	    "application/json; charset=utf-8",
	    "Application/JSON",
	    "application/x-ndjson; charset=utf-8",
	    "application/ndjson",
	};
	struct http_resp r;
	char conv[32];
	size_t i;

	for (i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
		snprintf(conv, sizeof(conv), "c-ct-%zu", i);
		ingest_post_started(&h, h.key, ctypes[i], conv, &r);
		cr_expect(
		    r.status == 200 && ingest_count_of(&r, "accepted") == 1,
		    "Content-Type '%s': %ld %s", ctypes[i], r.status, r.body);
		http_resp_free(&r);
		ingest_assert_conv_count(&h, conv, 1);
	}
}

/* -- keys ------------------------------------------------------------ */

Test(ingest_limits, no_key_is_401_and_stores_nothing)
{
	struct http_resp r;

	ingest_post_started(&h, NULL, NULL, "c-nokey", &r);
	ingest_assert_error(&r, 401, "unauthorized");
	ingest_assert_absent(&h, "c-nokey");
}

Test(ingest_limits, wrong_key_is_401_and_stores_nothing)
{
	struct http_resp r;
	char wrong[96];
	size_t n;

	/* right shape, one character off */
	snprintf(wrong, sizeof(wrong), "%s", h.key);
	n = strlen(wrong);
	cr_assert_gt(n, 0);
	wrong[n - 1] = wrong[n - 1] == 'a' ? 'b' : 'a';
	ingest_post_started(&h, wrong, NULL, "c-wrongkey", &r);
	ingest_assert_error(&r, 401, "unauthorized");
	ingest_post_started(&h, "not-a-key", NULL, "c-wrongkey", &r);
	ingest_assert_error(&r, 401, "unauthorized");
	ingest_assert_absent(&h, "c-wrongkey");
}

Test(ingest_limits, read_only_key_is_403_and_stores_nothing)
{
	struct http_resp r;
	char key[96];

	harness_key(&h, "read", key);
	ingest_post_started(&h, key, NULL, "c-readonly", &r);
	ingest_assert_error(&r, 403, "forbidden");
	ingest_assert_absent(&h, "c-readonly");
}

Test(ingest_limits, ingest_only_key_posts_but_cannot_read)
{
	struct http_resp r;
	char key[96];

	harness_key(&h, "ingest", key);
	ingest_post_started(&h, key, NULL, "c-ingest", &r);
	ingest_assert_counts(&r, 1, 0, 0);
	ingest_get_conv(&h, key, "c-ingest", &r);
	ingest_assert_error(&r, 403, "forbidden");
	ingest_get_conv(&h, key, "x", &r);
	ingest_assert_error(&r, 403, "forbidden");
	ingest_assert_conv_count(&h, "c-ingest", 1);
}

/* -- timestamps ------------------------------------------------------ */

Test(ingest_limits, ts_is_stored_in_utc_truncated_to_the_millisecond)
{
	json_t *a, *b, *out;
	struct http_resp r;

	a = ingest_ev_started("ts-1", "c-ts-1",
			      "2026-11-21T10:00:00.123456789+02:00");
	b = ingest_ev_started("ts-2", "c-ts-2",
			      "2026-12-31T23:59:59.9999999-00:00");
	ingest_post_json(&h, json_pack("[O, O]", a, b), &r);
	ingest_assert_counts(&r, 2, 0, 0);
	out = ingest_conv_events(&h, "c-ts-1", 1);
	cr_expect_str_eq(ingest_started_at(out), "2026-11-21T08:00:00.123Z");
	ingest_expect_same_event(
	    json_array_get(json_object_get(out, "events"), 0), a,
	    "the event keeps its ts as sent");
	json_decref(out);
	out = ingest_conv_events(&h, "c-ts-2", 1);
	cr_expect_str_eq(ingest_started_at(out), "2026-12-31T23:59:59.999Z",
			 "truncated, not rounded into the next year");
	json_decref(out);
	json_decref(a);
	json_decref(b);
}

/*
 * 0001-01-01T00:30:00+01:00 is a valid RFC 3339 time whose UTC instant
 * falls in year 0. Whether it is stored or rejected as a bad 'ts', it must
 * not fail the whole batch.
 */
Test(ingest_limits, ts_before_year_one_in_utc_does_not_fail_the_batch)
{
	struct http_resp r;

	ingest_post_json(
	    &h,
	    json_pack(
		"[o, o]",
		ingest_ev_started("y-1", "c-y1", "0001-01-01T00:30:00+01:00"),
		ingest_ev_started("y-2", "c-y2", TS)),
	    &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	cr_assert_eq(ingest_count_of(&r, "accepted") +
			 (json_int_t)json_array_size(ingest_rejected_of(&r)),
		     2, "%s", r.body);
	if (json_array_size(ingest_rejected_of(&r)))
		ingest_assert_rejection(
		    json_array_get(ingest_rejected_of(&r), 0), 0, "y-1",
		    "invalid_field", "ts");
	http_resp_free(&r);
	ingest_assert_conv_count(&h, "c-y2", 1);
}

/* -- durability ------------------------------------------------------ */

Test(ingest_limits, reply_is_sent_after_commit)
{
	struct http_resp r;
	char prefix[16];
	json_t *out;
	size_t round;

	for (round = 0; round < 10; round++) {
		snprintf(prefix, sizeof(prefix), "cm%zu", round);
		ingest_post_json(&h, ingest_ev_many(prefix, "c-commit", 3), &r);
		ingest_assert_counts(&r, 3, 0, 0);
		out = ingest_conv_events(&h, "c-commit", 3 * (round + 1));
		json_decref(out);
	}
}

/* Stores an event of conv and reads it back with conv URL-encoded. */
static void assert_reads_back(const char *conv)
{
	json_t *ev = ingest_ev_started("ue-1", conv, TS), *out;
	struct http_resp r;

	ingest_post_json(&h, json_incref(ev), &r);
	ingest_assert_counts(&r, 1, 0, 0);
	out = ingest_conv_events(&h, conv, 1);
	ingest_expect_same_event(
	    json_array_get(json_object_get(out, "events"), 0), ev, "the event");
	json_decref(out);
	json_decref(ev);
}

Test(ingest_limits, conversation_id_needing_url_encoding_reads_back)
{
	assert_reads_back("chat #1 ä?x=1&y=%20+z");
}

/* A '/' is addressed as %2F: path parameters are decoded after routing. */
Test(ingest_limits, conversation_id_with_a_slash_reads_back)
{
	assert_reads_back("zendesk/12345");
}

/* Characters that mean something in PostgreSQL array literals. */
Test(ingest_limits, conversation_id_with_quotes_braces_and_backslashes)
{
	assert_reads_back("a\"b\\c,{d} e");
}
