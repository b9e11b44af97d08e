/* SPDX-License-Identifier: MIT */
/*
 * GET /v1/conversations/{id} and GET /v1/conversations: events as sent in
 * (ts, id) order, tenant isolation, list order, filters and pagination.
 */
#include "harness.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-21T10:00:00Z */
#define T0_MS 1795255200000LL
#define MIN_MS 60000LL

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

TestSuite(conversations, .init = setup, .fini = teardown);

struct tenant {
	char name[64];
	char id[37];
	char key[96];
};

/* T0 + minutes, as RFC 3339 UTC text in buf (TIME_BUF_LEN bytes). */
static const char *at(long minutes, char *buf)
{
	return time_format_ms(T0_MS + minutes * MIN_MS, buf);
}

/*
 * Appends an event to batch: the envelope plus the fields of extra (a
 * new reference that this takes over; may be NULL).
 */
static void add(json_t *batch, const char *conv, const char *id,
		const char *type, long minutes, json_t *extra)
{
	char ts[TIME_BUF_LEN];
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "type", type,
			       "conversation_id", conv, "ts", at(minutes, ts));

	if (extra) {
		json_object_update(ev, extra);
		json_decref(extra);
	}
	json_array_append_new(batch, ev);
}

/* POSTs a body with key; asserts 200 and no rejections; returns accepted. */
static long post_body(const char *key, const char *body)
{
	struct http_resp r;
	long accepted;

	http_call(&h, "POST", "/v1/events", key, "application/json", body,
		  strlen(body), &r);
	cr_assert_eq(r.status, 200, "POST /v1/events: %ld %s", r.status,
		     r.body);
	cr_assert_eq(json_array_size(json_object_get(r.json, "rejected")), 0,
		     "events rejected: %s", r.body);
	accepted =
	    (long)json_integer_value(json_object_get(r.json, "accepted"));
	http_resp_free(&r);
	return accepted;
}

/* POSTs batch (taken over) with key. */
static void post(const char *key, json_t *batch)
{
	char *body = json_dumps(batch, JSON_COMPACT);

	cr_assert_not_null(body);
	post_body(key, body);
	free(body);
	json_decref(batch);
}

/* GET path with key into r; asserts the status. */
static void get(const char *key, const char *path, long status,
		struct http_resp *r)
{
	http_call(&h, "GET", path, key, NULL, NULL, 0, r);
	cr_assert_eq(r->status, status, "GET %.300s: %ld, want %ld: %s", path,
		     r->status, status, r->body);
}

/* The conversation ids of a list reply, in order, as one string. */
static void ids_of(json_t *reply, char *out, size_t len)
{
	json_t *c;
	size_t i, used = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(reply, "conversations"), i, c)
	    used += (size_t)snprintf(
		out + used, used < len ? len - used : 0, "%s%s", i ? "," : "",
		json_string_value(json_object_get(c, "conversation_id")));
}

/* Asserts GET path lists exactly want ("a,b,c", in order), one page. */
static void assert_list(const char *key, const char *path, const char *want)
{
	struct http_resp r;
	char got[4096];

	get(key, path, 200, &r);
	ids_of(r.json, got, sizeof(got));
	cr_assert_str_eq(got, want, "GET %s listed [%s], want [%s]", path, got,
			 want);
	cr_assert(json_is_null(json_object_get(r.json, "next_cursor")),
		  "GET %s: next_cursor should be null: %s", path, r.body);
	http_resp_free(&r);
}

static void assert_error(const char *key, const char *path, long status,
			 const char *code, const char *field)
{
	struct http_resp r;
	json_t *e;

	get(key, path, status, &r);
	e = json_object_get(r.json, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "code")), code,
			 "GET %s: %s", path, r.body);
	if (field)
		cr_assert_str_eq(json_string_value(json_object_get(e, "field")),
				 field, "GET %s: %s", path, r.body);
	cr_assert_str_eq(json_string_value(json_object_get(e, "request_id")),
			 r.request_id);
	http_resp_free(&r);
}

/* Starts conversation conv at T0 + minutes with one event. */
static void start(const char *key, const char *conv, long minutes)
{
	json_t *b = json_array();
	char id[37];

	util_uuid(id);
	add(b, conv, id, "conversation.started", minutes, NULL);
	post(key, b);
}

/* -- one conversation -------------------------------------------------- */

Test(conversations, unknown_conversation_is_404_not_found)
{
	start(h.key, "known", 0);
	assert_error(h.key, "/v1/conversations/unknown", 404, "not_found",
		     NULL);
	/* ids are exact: no case folding */
	assert_error(h.key, "/v1/conversations/KNOWN", 404, "not_found", NULL);
	assert_error(h.key, "/v1/conversations/know", 404, "not_found", NULL);
}

Test(conversations, events_come_back_in_ts_then_id_order)
{
	const char *first =
	    "["
	    "{\"id\":\"x\",\"type\":\"message\",\"conversation_id\":\"ord\","
	    "\"ts\":\"2026-11-21T10:00:07.1239Z\",\"author\":\"ai\"},"
	    "{\"id\":\"a\",\"type\":\"reopened\",\"conversation_id\":\"ord\","
	    "\"ts\":\"2026-11-21T10:00:05Z\"},"
	    "{\"id\":\"n9\",\"type\":\"message\",\"conversation_id\":\"ord\","
	    "\"ts\":\"2026-11-21T10:00:09Z\",\"author\":\"customer\"},"
	    "{\"id\":\"h0\",\"type\":\"tool_call\",\"conversation_id\":"
	    "\"ord\",\"ts\":\"2026-11-21T10:00:10Z\",\"name\":\"t\","
	    "\"ok\":true}"
	    "]";
	const char *second =
	    "["
	    "{\"id\":\"m\",\"type\":\"message\",\"conversation_id\":\"ord\","
	    "\"ts\":\"2026-11-21T12:00:03+02:00\",\"author\":\"customer\"},"
	    "{\"id\":\"h\",\"type\":\"tool_call\",\"conversation_id\":\"ord\","
	    "\"ts\":\"2026-11-21T10:00:10Z\",\"name\":\"t\",\"ok\":false},"
	    "{\"id\":\"B\",\"type\":\"resolved\",\"conversation_id\":\"ord\","
	    "\"ts\":\"2026-11-21T10:00:05Z\",\"by\":\"ai\"},"
	    "{\"id\":\"y\",\"type\":\"message\",\"conversation_id\":\"ord\","
	    "\"ts\":\"2026-11-21T10:00:07.1231Z\",\"author\":\"customer\"},"
	    "{\"id\":\"n10\",\"type\":\"message\",\"conversation_id\":\"ord\","
	    "\"ts\":\"2026-11-21T10:00:09Z\",\"author\":\"ai\"},"
	    "{\"id\":\"z\",\"type\":\"conversation.started\","
	    "\"conversation_id\":\"ord\",\"ts\":\"2026-11-21T10:00:00Z\"}"
	    "]";
	/*
	 * m is 10:00:03Z written with +02:00; B < a byte-wise; .1239 and
	 * .1231 are the same millisecond, so x < y; n10 < n9; h < h0.
	 */
	const char *want[] = {"z", "m",	  "B",	"a", "x",
			      "y", "n10", "n9", "h", "h0"};
	struct http_resp r;
	json_t *events;
	size_t i;

	post_body(h.key, first);
	post_body(h.key, second);
	get(h.key, "/v1/conversations/ord", 200, &r);
	events = json_object_get(r.json, "events");
	cr_assert_eq(json_array_size(events), 10, "%s", r.body);
	for (i = 0; i < 10; i++)
		cr_assert_str_eq(json_string_value(json_object_get(
				     json_array_get(events, i), "id")),
				 want[i], "event %zu: %s", i, r.body);
	/* ordered by stored time, not by the text of ts */
	cr_assert_str_eq(
	    json_string_value(json_object_get(
		json_object_get(r.json, "conversation"), "started_at")),
	    "2026-11-21T10:00:00.000Z");
	http_resp_free(&r);
}

Test(conversations, events_come_back_exactly_as_sent)
{
	const char *body =
	    "[\n"
	    "  {\"type\": \"conversation.started\", \"id\": \"as-1\","
	    " \"conversation_id\": \"as\","
	    " \"ts\": \"2026-11-21T12:00:00.123456+02:00\","
	    " \"customer_id\": \"c\\u00e9-1\","
	    " \"segment\": {\"topic\": \"r\\u00e9seau \\u2713\","
	    " \"channel\": \"chat\"}, \"agent_version\": \"v2\","
	    " \"cost_usd\": 1.50},\n"
	    "  {\"id\": \"as-2\", \"type\": \"tool_call\","
	    " \"conversation_id\": \"as\", \"ts\": \"2026-11-21T10:00:01Z\","
	    " \"name\": \"lookup \\\"x\\\"\", \"ok\": false,"
	    " \"latency_ms\": 120, \"cost_usd\": 0}\n,"
	    "  {\"id\": \"as-3\", \"type\": \"feedback\","
	    " \"conversation_id\": \"as\", \"ts\": \"2026-11-21t10:00:02z\","
	    " \"csat\": 4, \"comment\": \"line1\\nline2 \\ud83d\\ude00\"},\n"
	    "  {\"id\": \"as-4\", \"type\": \"message\","
	    " \"conversation_id\": \"as\", \"ts\": \"2026-11-21T10:00:03Z\","
	    " \"author\": \"customer\", \"sentiment\": -0.25,"
	    " \"clarification\": true}\n"
	    "]";
	json_t *sent = json_loads(body, 0, NULL), *got, *want;
	struct http_resp r;
	size_t i;
	char *a, *b;

	cr_assert_not_null(sent);
	cr_assert_eq(post_body(h.key, body), 4);
	get(h.key, "/v1/conversations/as", 200, &r);
	got = json_object_get(r.json, "events");
	cr_assert_eq(json_array_size(got), 4, "%s", r.body);
	for (i = 0; i < 4; i++) {
		want = json_array_get(sent, i);
		/* strict: 120 stays an integer, 1.50 a real, ts untouched */
		if (!json_equal(want, json_array_get(got, i))) {
			a = json_canon(want);
			b = json_canon(json_array_get(got, i));
			cr_assert_fail(
			    "event %zu changed:\n sent: %s\n got:  %s", i, a,
			    b);
		}
	}
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(got, 0), "ts")),
	    "2026-11-21T12:00:00.123456+02:00");
	/* and with the members in the order they were sent */
	a = json_dumps(sent, JSON_COMPACT);
	b = json_dumps(got, JSON_COMPACT);
	cr_assert_str_eq(b, a, "member order changed");
	free(a);
	free(b);
	http_resp_free(&r);
	json_decref(sent);
}

Test(conversations, repeated_event_id_keeps_the_first_version)
{
	struct http_resp r;
	json_t *events, *conv;

	post_body(h.key, "{\"id\":\"rep-1\",\"type\":\"feedback\","
			 "\"conversation_id\":\"rep\","
			 "\"ts\":\"2026-11-21T10:00:00Z\",\"csat\":5,"
			 "\"comment\":\"first\"}");
	cr_assert_eq(post_body(h.key,
			       "{\"id\":\"rep-1\",\"type\":\"feedback\","
			       "\"conversation_id\":\"rep\","
			       "\"ts\":\"2026-11-21T09:00:00Z\",\"csat\":1,"
			       "\"comment\":\"second\"}"),
		     0, "a repeated id is a duplicate");
	get(h.key, "/v1/conversations/rep", 200, &r);
	events = json_object_get(r.json, "events");
	conv = json_object_get(r.json, "conversation");
	cr_assert_eq(json_array_size(events), 1);
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(events, 0), "comment")),
			 "first");
	cr_assert_eq(json_integer_value(json_object_get(conv, "csat")), 5);
	cr_assert_eq(json_integer_value(json_object_get(conv, "events")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(conv, "started_at")),
			 "2026-11-21T10:00:00.000Z");
	http_resp_free(&r);
}

/* GET path answers conversation id (stored first under that id). */
static void assert_reachable(const char *id, const char *path)
{
	struct http_resp r;
	json_t *b = json_array();

	add(b, id, id, "conversation.started", 0, NULL);
	post(h.key, b);
	get(h.key, path, 200, &r);
	cr_assert_str_eq(
	    json_string_value(json_object_get(
		json_object_get(r.json, "conversation"), "conversation_id")),
	    id, "GET %s", path);
	cr_assert_eq(json_array_size(json_object_get(r.json, "events")), 1);
	http_resp_free(&r);
}

Test(conversations, ids_with_reserved_characters_are_reachable_encoded)
{
	assert_reachable("a b", "/v1/conversations/a%20b");
	assert_reachable("caf\xc3\xa9", "/v1/conversations/caf%C3%A9");
	assert_reachable("q?x=1&y", "/v1/conversations/q%3Fx%3D1%26y");
	assert_reachable("100%", "/v1/conversations/100%25");
	assert_reachable("#1", "/v1/conversations/%231");
}

/* Any 1-256 character string is a conversation id, '/' included. */
Test(conversations, id_with_a_slash_is_reachable_encoded)
{
	assert_reachable("org/42", "/v1/conversations/org%2F42");
}

/* -- tenants ----------------------------------------------------------- */

Test(conversations, other_tenant_gets_404)
{
	struct tenant b;

	harness_tenant(&h, "b", b.name, b.id, b.key);
	start(h.key, "only-a", 0);
	assert_error(b.key, "/v1/conversations/only-a", 404, "not_found", NULL);
	assert_list(b.key, "/v1/conversations", "");
	assert_list(h.key, "/v1/conversations", "only-a");
}

Test(conversations, same_conversation_id_in_two_tenants_stays_apart)
{
	json_t *ba = json_array(), *bb = json_array(), *conv;
	struct http_resp r;
	struct tenant b;

	harness_tenant(&h, "b", b.name, b.id, b.key);
	add(ba, "shared", "shared/1", "message", 0,
	    json_pack("{s:s}", "author", "ai"));
	add(ba, "shared", "shared/2", "resolved", 5,
	    json_pack("{s:s}", "by", "ai"));
	post(h.key, ba);
	/* same event ids too: ids are unique per tenant only */
	add(bb, "shared", "shared/1", "message", 60,
	    json_pack("{s:s}", "author", "human"));
	add(bb, "shared", "shared/3", "abandoned", 70, NULL);
	add(bb, "b-only", "b-only/1", "message", 80,
	    json_pack("{s:s}", "author", "customer"));
	post(b.key, bb);

	get(h.key, "/v1/conversations/shared", 200, &r);
	conv = json_object_get(r.json, "conversation");
	cr_assert_str_eq(json_string_value(json_object_get(conv, "stream")),
			 "ai_only");
	cr_assert_str_eq(json_string_value(json_object_get(conv, "status")),
			 "resolved");
	cr_assert_eq(json_array_size(json_object_get(r.json, "events")), 2);
	http_resp_free(&r);

	get(b.key, "/v1/conversations/shared", 200, &r);
	conv = json_object_get(r.json, "conversation");
	cr_assert_str_eq(json_string_value(json_object_get(conv, "stream")),
			 "human_only");
	cr_assert_str_eq(json_string_value(json_object_get(conv, "status")),
			 "abandoned");
	cr_assert_str_eq(json_string_value(json_object_get(conv, "started_at")),
			 "2026-11-21T11:00:00.000Z");
	cr_assert_eq(json_array_size(json_object_get(r.json, "events")), 2);
	http_resp_free(&r);

	assert_list(h.key, "/v1/conversations", "shared");
	assert_list(b.key, "/v1/conversations", "b-only,shared");
	assert_list(h.key, "/v1/conversations?status=abandoned", "");
	assert_list(b.key, "/v1/conversations?stream=ai_only", "");
	assert_error(h.key, "/v1/conversations/b-only", 404, "not_found", NULL);
}

/* -- the list ---------------------------------------------------------- */

Test(conversations, empty_tenant_lists_nothing)
{
	struct http_resp r;

	get(h.key, "/v1/conversations", 200, &r);
	cr_assert(json_is_array(json_object_get(r.json, "conversations")));
	cr_assert_eq(json_array_size(json_object_get(r.json, "conversations")),
		     0);
	cr_assert(json_is_null(json_object_get(r.json, "next_cursor")), "%s",
		  r.body);
	http_resp_free(&r);
}

Test(conversations, list_is_newest_first_by_started_at)
{
	json_t *b = json_array();

	start(h.key, "c2", 120);
	start(h.key, "c0", 0);
	start(h.key, "c4", 240);
	start(h.key, "c1", 60);
	start(h.key, "c3", 180);
	assert_list(h.key, "/v1/conversations", "c4,c3,c2,c1,c0");
	/* a late event earlier than the rest moves c4 back in time */
	add(b, "c4", "c4/early", "message", 30,
	    json_pack("{s:s}", "author", "customer"));
	post(h.key, b);
	assert_list(h.key, "/v1/conversations", "c3,c2,c1,c4,c0");
}

/*
 * One conversation of every stream and status; "reopened" ends open.
 * Minutes set started_at so that the list order is known.
 */
static void hand_built(const char *key)
{
	json_t *b = json_array();

	add(b, "ai", "ai/1", "message", 0,
	    json_pack("{s:s}", "author", "customer"));
	add(b, "ai", "ai/2", "message", 1, json_pack("{s:s}", "author", "ai"));
	add(b, "ai", "ai/3", "resolved", 2, json_pack("{s:s}", "by", "ai"));

	add(b, "hybrid", "hy/1", "message", 10,
	    json_pack("{s:s}", "author", "ai"));
	add(b, "hybrid", "hy/2", "handoff", 11,
	    json_pack("{s:s}", "reason", "policy"));
	add(b, "hybrid", "hy/3", "message", 12,
	    json_pack("{s:s}", "author", "human"));
	add(b, "hybrid", "hy/4", "abandoned", 13, NULL);

	add(b, "human", "hu/1", "message", 20,
	    json_pack("{s:s}", "author", "human"));
	add(b, "human", "hu/2", "resolved", 21,
	    json_pack("{s:s, s:b}", "by", "human", "confirmed", 1));

	add(b, "none", "no/1", "message", 30,
	    json_pack("{s:s}", "author", "customer"));

	add(b, "reopened", "re/1", "message", 40,
	    json_pack("{s:s}", "author", "ai"));
	add(b, "reopened", "re/2", "resolved", 41,
	    json_pack("{s:s}", "by", "ai"));
	add(b, "reopened", "re/3", "reopened", 101, NULL);

	add(b, "handoff-only", "ho/1", "handoff", 50,
	    json_pack("{s:s, s:s}", "reason", "customer_requested",
		      "initiated_by", "ai"));
	post(key, b);
}

Test(conversations, stream_filter_lists_each_stream)
{
	hand_built(h.key);
	assert_list(h.key, "/v1/conversations",
		    "handoff-only,reopened,none,human,hybrid,ai");
	assert_list(h.key, "/v1/conversations?stream=ai_only", "reopened,ai");
	assert_list(h.key, "/v1/conversations?stream=hybrid", "hybrid");
	assert_list(h.key, "/v1/conversations?stream=human_only",
		    "handoff-only,human");
	assert_list(h.key, "/v1/conversations?stream=none", "none");
}

Test(conversations, status_filter_lists_each_status)
{
	hand_built(h.key);
	assert_list(h.key, "/v1/conversations?status=open",
		    "handoff-only,reopened,none");
	assert_list(h.key, "/v1/conversations?status=resolved", "human,ai");
	assert_list(h.key, "/v1/conversations?status=abandoned", "hybrid");
}

Test(conversations, filters_combine)
{
	hand_built(h.key);
	assert_list(h.key, "/v1/conversations?status=open&stream=ai_only",
		    "reopened");
	assert_list(h.key, "/v1/conversations?stream=human_only&status=open",
		    "handoff-only");
	assert_list(h.key, "/v1/conversations?status=resolved&stream=hybrid",
		    "");
	assert_list(h.key,
		    "/v1/conversations?stream=ai_only"
		    "&from=2026-11-21T10:05:00Z",
		    "reopened");
	assert_list(h.key,
		    "/v1/conversations?status=open"
		    "&to=2026-11-21T10:50:00Z&from=2026-11-21T10:30:00Z",
		    "reopened,none");
}

/* Facts of hand-built conversations, read through the list. */
Test(conversations, hand_built_facts_of_every_stream_and_status)
{
	static const struct {
		const char *id, *stream, *status;
		int escalated, ever_resolved;
	} want[] = {
	    {"ai", "ai_only", "resolved", 0, 1},
	    {"hybrid", "hybrid", "abandoned", 1, 0},
	    {"human", "human_only", "resolved", 0, 1},
	    {"none", "none", "open", 0, 0},
	    {"reopened", "ai_only", "open", 0, 1},
	    {"handoff-only", "human_only", "open", 1, 0},
	};
	json_t *list, *f, *by_id = json_object();
	struct http_resp r;
	size_t i;

	hand_built(h.key);
	get(h.key, "/v1/conversations", 200, &r);
	list = json_object_get(r.json, "conversations");
	json_array_foreach(list, i, f) json_object_set(
	    by_id, json_string_value(json_object_get(f, "conversation_id")), f);
	cr_assert_eq(json_object_size(by_id), 6, "%s", r.body);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		f = json_object_get(by_id, want[i].id);
		cr_assert_not_null(f, "%s missing", want[i].id);
		cr_expect_str_eq(
		    json_string_value(json_object_get(f, "stream")),
		    want[i].stream, "%s", want[i].id);
		cr_expect_str_eq(
		    json_string_value(json_object_get(f, "status")),
		    want[i].status, "%s", want[i].id);
		cr_expect_eq(json_is_true(json_object_get(f, "escalated")),
			     want[i].escalated, "%s", want[i].id);
		cr_expect_eq(json_is_true(json_object_get(f, "ever_resolved")),
			     want[i].ever_resolved, "%s", want[i].id);
	}
	f = json_object_get(by_id, "reopened");
	cr_expect(json_is_null(json_object_get(f, "resolved_at")));
	cr_expect(json_is_null(json_object_get(f, "resolved_by")));
	cr_expect_eq(json_integer_value(json_object_get(f, "reopen_gap_ms")),
		     60 * MIN_MS);
	f = json_object_get(by_id, "human");
	cr_expect_str_eq(json_string_value(json_object_get(f, "resolved_at")),
			 "2026-11-21T10:21:00.000Z");
	cr_expect(json_is_true(json_object_get(f, "confirmed")));
	f = json_object_get(by_id, "hybrid");
	cr_expect_str_eq(
	    json_string_value(json_object_get(f, "escalation_reason")),
	    "policy");
	cr_expect_str_eq(json_string_value(json_object_get(f, "escalated_at")),
			 "2026-11-21T10:11:00.000Z");
	json_decref(by_id);
	http_resp_free(&r);
}

Test(conversations, list_shows_the_same_facts_as_get)
{
	json_t *f, *one;
	struct http_resp r, g;
	char path[300];
	size_t i;

	hand_built(h.key);
	get(h.key, "/v1/conversations", 200, &r);
	json_array_foreach(json_object_get(r.json, "conversations"), i, f)
	{
		snprintf(
		    path, sizeof(path), "/v1/conversations/%s",
		    json_string_value(json_object_get(f, "conversation_id")));
		get(h.key, path, 200, &g);
		one = json_object_get(g.json, "conversation");
		cr_assert(json_equal(f, one), "%s: list and get differ", path);
		http_resp_free(&g);
	}
	http_resp_free(&r);
}

Test(conversations, from_is_inclusive_and_to_is_exclusive)
{
	int k;
	char conv[16];

	for (k = 0; k < 5; k++) {
		snprintf(conv, sizeof(conv), "h%d", k);
		start(h.key, conv, k * 60L);
	}
	assert_list(h.key, "/v1/conversations?from=2026-11-21T11:00:00Z",
		    "h4,h3,h2,h1");
	assert_list(h.key, "/v1/conversations?to=2026-11-21T13:00:00Z",
		    "h2,h1,h0");
	assert_list(h.key,
		    "/v1/conversations?from=2026-11-21T11:00:00Z"
		    "&to=2026-11-21T13:00:00Z",
		    "h2,h1");
	assert_list(h.key,
		    "/v1/conversations?from=2026-11-21T12:00:00Z"
		    "&to=2026-11-21T12:00:00Z",
		    "");
	/* one millisecond past a start leaves it out */
	assert_list(h.key, "/v1/conversations?from=2026-11-21T11:00:00.001Z",
		    "h4,h3,h2");
	assert_list(h.key, "/v1/conversations?to=2026-11-21T11:00:00.001Z",
		    "h1,h0");
}

Test(conversations, from_and_to_honour_offsets)
{
	int k;
	char conv[16];

	for (k = 0; k < 5; k++) {
		snprintf(conv, sizeof(conv), "h%d", k);
		start(h.key, conv, k * 60L);
	}
	/* 13:00+02:00 is 11:00Z; 08:00-05:00 is 13:00Z */
	assert_list(h.key, "/v1/conversations?from=2026-11-21T13:00:00%2B02:00",
		    "h4,h3,h2,h1");
	assert_list(h.key, "/v1/conversations?to=2026-11-21T08:00:00-05:00",
		    "h2,h1,h0");
}

Test(conversations, limit_caps_the_page)
{
	struct http_resp r;
	char ids[256];
	int k;
	char conv[16];

	for (k = 0; k < 5; k++) {
		snprintf(conv, sizeof(conv), "l%d", k);
		start(h.key, conv, k);
	}
	get(h.key, "/v1/conversations?limit=2", 200, &r);
	ids_of(r.json, ids, sizeof(ids));
	cr_assert_str_eq(ids, "l4,l3");
	cr_assert(json_is_string(json_object_get(r.json, "next_cursor")),
		  "a next page exists: %s", r.body);
	http_resp_free(&r);
	assert_list(h.key, "/v1/conversations?limit=5", "l4,l3,l2,l1,l0");
	assert_list(h.key, "/v1/conversations?limit=1000", "l4,l3,l2,l1,l0");
}

/*
 * Follows next_cursor from GET base (which ends in '?' or '&'), page
 * sizes into sizes; returns every conversation id, in order.
 */
static json_t *walk(const char *key, const char *base, int *sizes,
		    int max_pages, int *pages)
{
	json_t *all = json_array(), *c, *next;
	struct http_resp r;
	char path[4096];
	char *cursor = NULL;
	size_t i;

	for (*pages = 0;; (*pages)++) {
		cr_assert_lt(*pages, max_pages, "too many pages from %s", base);
		if (cursor)
			snprintf(path, sizeof(path), "%scursor=%s", base,
				 cursor);
		else
			snprintf(path, sizeof(path), "%s", base);
		free(cursor);
		cursor = NULL;
		get(key, path, 200, &r);
		sizes[*pages] = (int)json_array_size(
		    json_object_get(r.json, "conversations"));
		json_array_foreach(json_object_get(r.json, "conversations"), i,
				   c)
		    json_array_append(all,
				      json_object_get(c, "conversation_id"));
		next = json_object_get(r.json, "next_cursor");
		cr_assert(json_is_string(next) || json_is_null(next),
			  "next_cursor: %s", r.body);
		if (json_is_string(next))
			cursor = xstrdup(json_string_value(next));
		http_resp_free(&r);
		if (!cursor)
			break;
	}
	(*pages)++;
	return all;
}

/* Asserts the walk equals the one-page list of GET one_page. */
static void assert_walk_matches(const char *key, json_t *walked,
				const char *one_page)
{
	json_t *seen = json_object(), *v;
	struct http_resp r;
	char *a, *b;
	size_t i;

	json_array_foreach(walked, i, v)
	{
		cr_assert_null(json_object_get(seen, json_string_value(v)),
			       "%s listed twice", json_string_value(v));
		json_object_set(seen, json_string_value(v), json_true());
	}
	json_decref(seen);
	get(key, one_page, 200, &r);
	v = json_array();
	json_array_foreach(json_object_get(r.json, "conversations"), i, seen)
	    json_array_append(v, json_object_get(seen, "conversation_id"));
	a = json_canon(walked);
	b = json_canon(v);
	cr_assert_str_eq(a, b, "pages walked != one page");
	free(a);
	free(b);
	json_decref(v);
	http_resp_free(&r);
}

Test(conversations, cursor_walks_every_conversation_once_with_ties)
{
	json_t *all, *f;
	struct http_resp r;
	int sizes[8], pages, k;
	char conv[16], prev[TIME_BUF_LEN] = "9999";
	size_t i;

	/* 25 conversations, three to a started_at: ties cross pages */
	for (k = 0; k < 25; k++) {
		snprintf(conv, sizeof(conv), "p%02d", (k * 7) % 25);
		start(h.key, conv, k / 3);
	}
	all = walk(h.key, "/v1/conversations?limit=10&", sizes, 8, &pages);
	cr_assert_eq(pages, 3);
	cr_assert_eq(sizes[0], 10);
	cr_assert_eq(sizes[1], 10);
	cr_assert_eq(sizes[2], 5);
	cr_assert_eq(json_array_size(all), 25);
	assert_walk_matches(h.key, all, "/v1/conversations?limit=100");
	get(h.key, "/v1/conversations?limit=100", 200, &r);
	json_array_foreach(json_object_get(r.json, "conversations"), i, f)
	{
		const char *s =
		    json_string_value(json_object_get(f, "started_at"));

		cr_assert_leq(strcmp(s, prev), 0, "not newest first at %zu", i);
		snprintf(prev, sizeof(prev), "%s", s);
	}
	http_resp_free(&r);
	json_decref(all);
}

Test(conversations, cursor_one_at_a_time_through_equal_starts)
{
	json_t *all;
	int sizes[16], pages, k;
	char conv[16];

	/* every conversation starts at the same instant */
	for (k = 0; k < 7; k++) {
		snprintf(conv, sizeof(conv), "%c%d", k % 2 ? 'T' : 't', k);
		start(h.key, conv, 0);
	}
	all = walk(h.key, "/v1/conversations?limit=1&", sizes, 16, &pages);
	cr_assert_eq(pages, 7);
	cr_assert_eq(json_array_size(all), 7);
	assert_walk_matches(h.key, all, "/v1/conversations");
	json_decref(all);
}

Test(conversations, exact_multiple_of_limit_has_no_empty_last_page)
{
	json_t *all;
	int sizes[8], pages, k;
	char conv[16];

	for (k = 0; k < 20; k++) {
		snprintf(conv, sizeof(conv), "e%02d", k);
		start(h.key, conv, k);
	}
	all = walk(h.key, "/v1/conversations?limit=10&", sizes, 8, &pages);
	cr_assert_eq(pages, 2, "pages: %d", pages);
	cr_assert_eq(sizes[1], 10);
	cr_assert_eq(json_array_size(all), 20);
	json_decref(all);
}

Test(conversations, cursor_pages_keep_the_filters)
{
	json_t *b = json_array(), *all;
	int sizes[8], pages, k;
	char conv[16], id[32];

	for (k = 0; k < 20; k++) {
		snprintf(conv, sizeof(conv), "f%02d", k);
		snprintf(id, sizeof(id), "f%02d/r", k);
		if (k % 3)
			add(b, conv, id, "resolved", k,
			    json_pack("{s:s}", "by", "ai"));
		else
			add(b, conv, id, "abandoned", k, NULL);
	}
	post(h.key, b);
	all = walk(h.key,
		   "/v1/conversations?status=resolved&from=2026-11-21T10:02:00Z"
		   "&limit=4&",
		   sizes, 8, &pages);
	/* resolved: k % 3 != 0, k >= 2: 2,4,5,7,8,10,11,13,14,16,17,19 */
	cr_assert_eq(json_array_size(all), 12);
	cr_assert_eq(pages, 3);
	assert_walk_matches(h.key, all,
			    "/v1/conversations?status=resolved"
			    "&from=2026-11-21T10:02:00Z");
	cr_assert_str_eq(json_string_value(json_array_get(all, 11)), "f02");
	json_decref(all);
}

/* Ids of up to 256 characters, written in three-byte letters. */
Test(conversations, cursor_works_for_long_non_ascii_ids)
{
	json_t *all;
	int sizes[8], pages, k, i;
	char conv[3 * 256 + 4];

	for (k = 0; k < 3; k++) {
		/* 255 x U+20AC then a digit: 256 characters, 766 bytes */
		for (i = 0; i < 255; i++)
			memcpy(conv + 3 * i, "\xe2\x82\xac", 3);
		conv[765] = (char)('0' + k);
		conv[766] = '\0';
		start(h.key, conv, k);
	}
	all = walk(h.key, "/v1/conversations?limit=1&", sizes, 8, &pages);
	cr_assert_eq(json_array_size(all), 3);
	json_decref(all);
}

Test(conversations, invalid_parameters_are_400_naming_the_parameter)
{
	static const struct {
		const char *query, *field;
	} bad[] = {
	    {"status=bogus", "status"},
	    {"status=reopened", "status"},
	    {"status=", "status"},
	    {"stream=bogus", "stream"},
	    {"stream=AI_ONLY", "stream"},
	    {"from=notatime", "from"},
	    {"from=2026-11-21", "from"},
	    {"from=2026-02-30T00:00:00Z", "from"},
	    {"to=2026-11-21T10:00:00", "to"},
	    {"limit=0", "limit"},
	    {"limit=1001", "limit"},
	    {"limit=-5", "limit"},
	    {"limit=ten", "limit"},
	    {"limit=10x", "limit"},
	    {"cursor=zz", "cursor"},
	    {"cursor=abc", "cursor"},
	    {"cursor=6162", "cursor"},
	    {"foo=1", "foo"},
	    {"status=open&Limit=5", "Limit"},
	};
	char path[256];
	size_t i;

	start(h.key, "x", 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "/v1/conversations?%s",
			 bad[i].query);
		assert_error(h.key, path, 400, "invalid_parameter",
			     bad[i].field);
	}
}

Test(conversations, limit_bounds_are_accepted)
{
	start(h.key, "x", 0);
	assert_list(h.key, "/v1/conversations?limit=1", "x");
	assert_list(h.key, "/v1/conversations?limit=1000", "x");
}
