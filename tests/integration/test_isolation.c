/* SPDX-License-Identifier: MIT */
/*
 * Tenant isolation (issue 6): on every route, a key of tenant A neither
 * reads nor changes anything of tenant B (a foreign id is the same 404 as
 * one never sent), and group keys, filter keys, metric names, intervals,
 * zones and stats reach SQL only through their whitelists.
 */
#include "harness.h"
#include "ingest.h"
#include "kpi.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCONV_MAX 4
#define RANGE "from=2026-03-01T00:00:00Z&to=2026-03-10T00:00:00Z"

/*
 * One tenant: its key and the values its events carry, each found in
 * no other tenant's data, so that a reply holding it leaked.
 */
struct tenant {
	char name[64], id[37], key[96];
	const char *prefix;		 /* of event ids */
	const char *vals[KPI_KEY_COUNT]; /* per kpi_key; stream unused */
	const char *convs[NCONV_MAX];
	int nconv;
};

static struct harness h;

static struct tenant ta = {
    .prefix = "aev",
    .vals = {"achan-albatross", "atopic-badger", "atier-condor", "alang-dingo",
	     "aarea-emu", "acohort-ferret", "aver-gecko-1", NULL,
	     "acust-heron-1"},
    .convs = {"a-conv-ibis-1", "a-conv-ibis-2", "a-conv-ibis-3"},
    .nconv = 3,
};

static struct tenant tb = {
    .prefix = "bev",
    .vals = {"bchan-xylophone", "btopic-quokka", "btier-zeppelin",
	     "blang-klingon", "barea-nebula", "bcohort-walrus", "bver-marmot-9",
	     NULL, "bcust-yeti-1"},
    .convs = {"b-conv-zq1", "b-conv-zq2", "b-conv-zq3", "b-conv-zq4"},
    .nconv = 4,
};

/* -- requests -------------------------------------------------------------- */

static void call(const struct tenant *t, const char *method, const char *path,
		 const char *body, struct http_resp *r)
{
	http_call(&h, method, path, t->key, body ? "application/json" : NULL,
		  body, body ? strlen(body) : 0, r);
}

/* GET or POST with t's key; asserts 200 and returns the reply text. */
static char *ok_text(const struct tenant *t, const char *method,
		     const char *path, const char *body)
{
	struct http_resp r;
	char *text;

	call(t, method, path, body, &r);
	cr_assert_eq(r.status, 200, "%s %s %s: %ld %s", method, path,
		     body ? body : "", r.status, r.body);
	text = r.body;
	r.body = NULL;
	http_resp_free(&r);
	return text;
}

/*
 * Expects that text (the reply to what, read with a key of tenant
 * "self") holds none of other's values or conversation ids.
 */
static void expect_nothing_of(const char *text, const struct tenant *other,
			      const char *what)
{
	int i;

	for (i = 0; i < KPI_KEY_COUNT; i++)
		if (other->vals[i])
			cr_expect(!strstr(text, other->vals[i]),
				  "%s shows '%s' of the other tenant: %.300s",
				  what, other->vals[i], text);
	for (i = 0; i < other->nconv; i++)
		cr_expect(!strstr(text, other->convs[i]),
			  "%s shows '%s' of the other tenant: %.300s", what,
			  other->convs[i], text);
}

/*
 * Sends the same request with A's and with B's key: each reply holds
 * the caller's own value own (when not NULL) and nothing of the other.
 */
static void both_ways(const char *method, const char *path, json_t *body,
		      int key, const char *what)
{
	const struct tenant *t[2] = {&ta, &tb};
	char *b = body ? ingest_text_of(body) : NULL, *text;
	int i;

	for (i = 0; i < 2; i++) {
		text = ok_text(t[i], method, path, b);
		if (key >= 0 && t[i]->vals[key])
			cr_expect(strstr(text, t[i]->vals[key]),
				  "%s with %s's key lacks its own '%s': %.300s",
				  what, t[i]->name, t[i]->vals[key], text);
		expect_nothing_of(text, t[1 - i], what);
		free(text);
	}
	json_decref(body);
	free(b);
}

/* -- data ------------------------------------------------------------------ */

/* The events of t's conversations, one a day from 2026-03-02. */
static json_t *events_of(const struct tenant *t)
{
	json_t *arr = json_array(), *seg;
	char id[64], ts[32];
	int c, e;

	for (c = 0; c < t->nconv; c++) {
		seg = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "channel",
				t->vals[KPI_KEY_CHANNEL], "topic",
				t->vals[KPI_KEY_TOPIC], "customer_tier",
				t->vals[KPI_KEY_CUSTOMER_TIER], "language",
				t->vals[KPI_KEY_LANGUAGE], "product_area",
				t->vals[KPI_KEY_PRODUCT_AREA], "cohort",
				t->vals[KPI_KEY_COHORT]);
		for (e = 0; e < 4; e++) {
			snprintf(id, sizeof(id), "%s-%d", t->prefix, c * 4 + e);
			snprintf(ts, sizeof(ts), "2026-03-%02dT10:%02d:00Z",
				 2 + c, e);
			if (e == 0)
				json_array_append_new(
				    arr,
				    json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}",
					      "id", id, "type",
					      "conversation.started",
					      "conversation_id", t->convs[c],
					      "ts", ts, "customer_id",
					      t->vals[KPI_KEY_CUSTOMER_ID],
					      "segment", seg));
			else if (e < 3)
				json_array_append_new(
				    arr,
				    json_pack("{s:s, s:s, s:s, s:s, s:s, "
					      "s:s}",
					      "id", id, "type", "message",
					      "conversation_id", t->convs[c],
					      "ts", ts, "author",
					      e == 1 ? "customer" : "ai",
					      "agent_version",
					      t->vals[KPI_KEY_AGENT_VERSION]));
			else
				json_array_append_new(
				    arr,
				    json_pack("{s:s, s:s, s:s, s:s, s:s}", "id",
					      id, "type", "resolved",
					      "conversation_id", t->convs[c],
					      "ts", ts, "by", "ai"));
		}
		json_decref(seg);
	}
	return arr;
}

static void post_events(const struct tenant *t, json_t *events,
			json_int_t accepted)
{
	char *body = ingest_text_of(events);
	struct http_resp r;

	json_decref(events);
	call(t, "POST", "/v1/events", body, &r);
	free(body);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	cr_assert_eq(ingest_count_of(&r, "accepted"), accepted, "%s", r.body);
	cr_assert_eq(ingest_count_of(&r, "duplicates"), 0, "%s", r.body);
	http_resp_free(&r);
}

static void setup(void)
{
	harness_start(&h);
	snprintf(ta.name, sizeof(ta.name), "%s", h.tenant);
	snprintf(ta.id, sizeof(ta.id), "%s", h.tenant_id);
	snprintf(ta.key, sizeof(ta.key), "%s", h.key);
	harness_tenant(&h, "b", tb.name, tb.id, tb.key);
	post_events(&tb, events_of(&tb), 4 * tb.nconv);
	post_events(&ta, events_of(&ta), 4 * ta.nconv);
}

static void teardown(void)
{
	harness_stop(&h);
}

/* The events stored for tenant t. */
static long events_stored(const struct tenant *t)
{
	char sql[160];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM events WHERE tenant_id = '%s'", t->id);
	return harness_sql_count(&h, sql);
}

/* conversations of the scorecard's only group, read with t's key. */
static json_int_t scorecard_count(const struct tenant *t, const char *query)
{
	char path[512], *text;
	json_t *j, *n;
	json_int_t count;

	snprintf(path, sizeof(path), "/v1/kpis?" RANGE "%s", query);
	text = ok_text(t, "GET", path, NULL);
	j = json_loads(text, 0, NULL);
	cr_assert_eq(json_array_size(json_object_get(j, "groups")), 1, "%s",
		     text);
	n = json_object_get(
	    json_object_get(json_array_get(json_object_get(j, "groups"), 0),
			    "metrics"),
	    "conversations");
	cr_assert(json_is_integer(n), "%s", text);
	count = json_integer_value(n);
	json_decref(j);
	free(text);
	return count;
}

TestSuite(isolation, .init = setup, .fini = teardown, .timeout = 120);

/* -- conversations ------------------------------------------------------------
 */

/* The conversation ids of a list reply, comma-joined, in list order. */
static void list_ids(const char *text, char *out, size_t n)
{
	json_t *j = json_loads(text, 0, NULL), *c;
	size_t i, len = 0;

	out[0] = '\0';
	cr_assert(json_is_array(json_object_get(j, "conversations")), "%s",
		  text);
	json_array_foreach(json_object_get(j, "conversations"), i, c)
	{
		len += snprintf(
		    out + len, n - len, "%s%s", i ? "," : "",
		    json_string_value(json_object_get(c, "conversation_id")));
	}
	json_decref(j);
}

/* The error of a reply without its request id and message. */
static char *error_shape(const struct http_resp *r)
{
	json_t *e = json_deep_copy(json_object_get(r->json, "error"));
	char *s;

	cr_assert(json_is_object(e), "%s", r->body);
	json_object_del(e, "request_id");
	json_object_del(e, "message");
	s = json_canon(e);
	json_decref(e);
	return s;
}

Test(isolation, conversation_lists_and_reads_show_only_the_callers_tenant)
{
	char ids[512], path[256], plain[64], cursor[160], *text, *shape_b;
	char *shape_none;
	struct http_resp r, never;
	int64_t ms;
	int i;

	text = ok_text(&ta, "GET", "/v1/conversations?limit=1000", NULL);
	list_ids(text, ids, sizeof(ids));
	cr_expect_str_eq(ids, "a-conv-ibis-3,a-conv-ibis-2,a-conv-ibis-1");
	expect_nothing_of(text, &tb, "GET /v1/conversations");
	free(text);
	/* every filter and every page */
	text = ok_text(
	    &ta, "GET",
	    "/v1/conversations?status=resolved&stream=ai_only&" RANGE, NULL);
	list_ids(text, ids, sizeof(ids));
	cr_expect_str_eq(ids, "a-conv-ibis-3,a-conv-ibis-2,a-conv-ibis-1");
	free(text);
	/* a cursor pointing past B's newest conversation still pages A's */
	time_parse_rfc3339("2026-03-05T10:00:00Z", &ms); /* B's newest */
	snprintf(plain, sizeof(plain), "%lld:b-conv-zq4", (long long)ms);
	hex_encode((const unsigned char *)plain, strlen(plain), cursor);
	snprintf(path, sizeof(path), "/v1/conversations?limit=1&cursor=%s",
		 cursor);
	text = ok_text(&ta, "GET", path, NULL);
	list_ids(text, ids, sizeof(ids));
	cr_expect_str_eq(ids, "a-conv-ibis-3");
	expect_nothing_of(text, &tb, "GET /v1/conversations?cursor");
	free(text);

	/* B's ids are, for A, exactly what a never-sent id is */
	http_call(&h, "GET", "/v1/conversations/c-never-sent-anywhere", ta.key,
		  NULL, NULL, 0, &never);
	cr_assert_eq(never.status, 404, "%s", never.body);
	shape_none = error_shape(&never);
	for (i = 0; i < tb.nconv; i++) {
		snprintf(path, sizeof(path), "/v1/conversations/%s",
			 tb.convs[i]);
		call(&ta, "GET", path, NULL, &r);
		cr_expect_eq(r.status, 404, "%s with A's key: %ld %s", path,
			     r.status, r.body);
		shape_b = error_shape(&r);
		cr_expect_str_eq(shape_b, shape_none,
				 "%s differs from a never-sent id", path);
		expect_nothing_of(r.body, &tb, path);
		free(shape_b);
		http_resp_free(&r);
		/* while B reads it */
		text = ok_text(&tb, "GET", path, NULL);
		cr_expect(strstr(text, tb.vals[KPI_KEY_CHANNEL]), "%s", text);
		free(text);
	}
	free(shape_none);
	http_resp_free(&never);
	/* health and readiness hold no tenant data at all */
	both_ways("GET", "/healthz", NULL, -1, "GET /healthz");
	both_ways("GET", "/readyz", NULL, -1, "GET /readyz");
}

/* -- KPIs -------------------------------------------------------------------
 */

Test(isolation, kpis_count_only_the_callers_conversations)
{
	char path[512], *text;
	json_t *j, *p;
	double sum = 0;
	size_t i;
	int k;

	cr_expect_eq(scorecard_count(&ta, ""), ta.nconv);
	cr_expect_eq(scorecard_count(&tb, ""), tb.nconv);
	for (k = 0; k < KPI_KEY_COUNT; k++) {
		if (k == KPI_KEY_STREAM)
			continue;
		/* B's values select nothing for A, A's everything */
		snprintf(path, sizeof(path), "&%s=%s", kpi_key_name(k),
			 tb.vals[k]);
		cr_expect_eq(scorecard_count(&ta, path), 0, "A filtering %s",
			     path);
		snprintf(path, sizeof(path), "&%s=%s", kpi_key_name(k),
			 ta.vals[k]);
		cr_expect_eq(scorecard_count(&ta, path), ta.nconv,
			     "A filtering %s", path);
		/* grouped, each sees its own values only */
		snprintf(path, sizeof(path), "/v1/kpis?" RANGE "&group_by=%s",
			 kpi_key_name(k));
		both_ways("GET", path, NULL, k, path);
		snprintf(path, sizeof(path),
			 "/v1/kpis/timeseries?metric=conversations&" RANGE
			 "&group_by=%s",
			 kpi_key_name(k));
		both_ways("GET", path, NULL, k, path);
	}
	text = ok_text(&ta, "GET",
		       "/v1/kpis/timeseries?metric=conversations&" RANGE, NULL);
	j = json_loads(text, 0, NULL);
	json_array_foreach(
	    json_object_get(json_array_get(json_object_get(j, "series"), 0),
			    "points"),
	    i, p)
	{
		sum += json_number_value(json_object_get(p, "value"));
	}
	cr_expect_eq(sum, ta.nconv, "A's series: %s", text);
	json_decref(j);
	free(text);
}

/* -- Grafana ------------------------------------------------------------------
 */

static json_t *query_body(json_t *targets)
{
	return json_pack("{s:{s:s, s:s}, s:i, s:i, s:o}", "range", "from",
			 "2026-03-01T00:00:00.000Z", "to",
			 "2026-03-10T00:00:00.000Z", "intervalMs", 86400000,
			 "maxDataPoints", 100, "targets", targets);
}

Test(isolation, grafana_routes_never_answer_the_other_tenants_values)
{
	char what[128];
	int k;

	both_ways("GET", "/grafana", NULL, -1, "GET /grafana");
	both_ways("POST", "/grafana/metrics", json_object(), -1, "metrics");
	both_ways("POST", "/grafana/tag-keys", json_object(), -1, "tag-keys");
	both_ways("POST", "/grafana/search", json_object(), -1, "search");
	for (k = 0; k < KPI_KEY_COUNT; k++) {
		const char *name = kpi_key_name(k);
		int own = k == KPI_KEY_CUSTOMER_ID ? -1 : k;

		snprintf(what, sizeof(what), "search %s", name);
		both_ways("POST", "/grafana/search",
			  json_pack("{s:s}", "target", name), own, what);
		snprintf(what, sizeof(what), "tag-values %s", name);
		both_ways("POST", "/grafana/tag-values",
			  json_pack("{s:s}", "key", name), own, what);
		snprintf(what, sizeof(what), "metric-payload-options %s", name);
		both_ways("POST", "/grafana/metric-payload-options",
			  json_pack("{s:s, s:s, s:{}}", "metric",
				    "conversations", "name", name, "payload"),
			  own, what);
		if (k != KPI_KEY_CUSTOMER_ID) {
			snprintf(what, sizeof(what), "variable %s", name);
			both_ways(
			    "POST", "/grafana/variable",
			    json_pack("{s:{s:s}}", "payload", "target", name),
			    k, what);
		}
		snprintf(what, sizeof(what), "query table by %s", name);
		both_ways("POST", "/grafana/query",
			  query_body(json_pack(
			      "[{s:s, s:s, s:{s:s, s:s}}]", "refId", "A",
			      "target", "conversations", "payload", "format",
			      "table", "group_by", name)),
			  k, what);
		snprintf(what, sizeof(what), "query series by %s", name);
		both_ways(
		    "POST", "/grafana/query",
		    query_body(json_pack("[{s:s, s:s, s:{s:s}}]", "refId", "A",
					 "target", "true_resolution_rate",
					 "payload", "group_by", name)),
		    k, what);
	}
	both_ways("POST", "/grafana/query",
		  query_body(json_pack("[{s:s, s:s}]", "refId", "A", "target",
				       "agent_versions")),
		  KPI_KEY_AGENT_VERSION, "annotations");
}

/* -- writes -----------------------------------------------------------------
 */

Test(isolation, writes_with_the_other_tenants_ids_stay_in_the_callers_tenant)
{
	char *before, *after, *kpis_before, *kpis_after;
	long b_events = events_stored(&tb);
	struct http_resp r;
	json_t *j;

	before = ok_text(&tb, "GET", "/v1/conversations/b-conv-zq1", NULL);
	kpis_before = ok_text(&tb, "GET", "/v1/kpis?" RANGE, NULL);
	/* bev-0 is B's id; bev-new is nobody's; b-conv-zq1 is B's */
	post_events(&ta,
		    json_pack("[o, o]",
			      ingest_ev_started("bev-0", "a-conv-new",
						"2026-03-05T10:00:00Z"),
			      ingest_ev_started("bev-new", "b-conv-zq1",
						"2026-03-05T11:00:00Z")),
		    2);
	/* A now has its own b-conv-zq1, with its one event only */
	j = ingest_conv_events(&h, "b-conv-zq1", 1);
	cr_expect_str_eq(ingest_started_at(j), "2026-03-05T11:00:00.000Z");
	json_decref(j);
	ingest_assert_conv_count(&h, "a-conv-new", 1);
	/* B's reads are exactly as before */
	after = ok_text(&tb, "GET", "/v1/conversations/b-conv-zq1", NULL);
	cr_expect_str_eq(after, before, "B's conversation changed");
	kpis_after = ok_text(&tb, "GET", "/v1/kpis?" RANGE, NULL);
	cr_expect_str_eq(kpis_after, kpis_before, "B's scorecard changed");
	cr_expect_eq(events_stored(&tb), b_events);
	/* and B's key, sent to A's conversation, finds nothing */
	call(&tb, "GET", "/v1/conversations/a-conv-new", NULL, &r);
	cr_expect_eq(r.status, 404, "%s", r.body);
	http_resp_free(&r);
	free(before);
	free(after);
	free(kpis_before);
	free(kpis_after);
}

/* -- the whitelist
 * -------------------------------------------------------------- */

static const struct {
	const char *path, *field;
} sqlish_params[] = {
    {"/v1/kpis?group_by=channel%3BDROP%20TABLE%20events", "group_by"},
    {"/v1/kpis?group_by=topic'%20OR%20'1'%3D'1", "group_by"},
    {"/v1/kpis?customer_id)%20--=x", "customer_id) --"},
    {"/v1/kpis?channel%3BDROP%20TABLE%20events=x", "channel;DROP TABLE events"},
    {"/v1/kpis?tz=UTC'%3BDROP%20TABLE%20events%3B--", "tz"},
    {"/v1/kpis?tz=pg_sleep(5)", "tz"},
    {"/v1/kpis/timeseries?metric=pg_sleep(5)", "metric"},
    {"/v1/kpis/timeseries?metric=conversations'%3B--", "metric"},
    {"/v1/kpis/timeseries?metric=conversations&interval=1d%3BDROP%20TABLE"
     "%20events",
     "interval"},
    {"/v1/kpis/timeseries?metric=conversations&group_by=pg_sleep(5)",
     "group_by"},
    {"/v1/conversations?status=open'%20OR%20'1'%3D'1", "status"},
    {"/v1/conversations?stream=ai_only%3BDROP%20TABLE%20events", "stream"},
    {"/v1/conversations?order_by=started_at%3BDROP%20TABLE%20events",
     "order_by"},
};

/* A /grafana/query target (stolen) answered 400 naming field. */
static void grafana_refused(json_t *body, const char *field)
{
	char *b = ingest_text_of(body);
	struct http_resp r;

	json_decref(body);
	call(&ta, "POST", "/grafana/query", b, &r);
	cr_expect_eq(r.status, 400, "%s: %ld %s", b, r.status, r.body);
	cr_expect_str_eq(ingest_error_code(&r), "invalid_parameter", "%s",
			 r.body);
	cr_expect_str_eq(ingest_str_or_none(json_object_get(
			     json_object_get(r.json, "error"), "field")),
			 field, "%s: %s", b, r.body);
	http_resp_free(&r);
	free(b);
}

static json_t *one_target(const char *metric, json_t *payload)
{
	return query_body(json_pack("[{s:s, s:s, s:o}]", "refId", "A", "target",
				    metric, "payload", payload));
}

Test(isolation, names_reach_sql_only_through_a_whitelist)
{
	long a_events = events_stored(&ta), b_events = events_stored(&tb);
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(sqlish_params) / sizeof(sqlish_params[0]); i++) {
		call(&ta, "GET", sqlish_params[i].path, NULL, &r);
		cr_expect_eq(r.status, 400, "%s: %ld %s", sqlish_params[i].path,
			     r.status, r.body);
		cr_expect_str_eq(ingest_error_code(&r), "invalid_parameter",
				 "%s: %s", sqlish_params[i].path, r.body);
		cr_expect_str_eq(
		    ingest_str_or_none(json_object_get(
			json_object_get(r.json, "error"), "field")),
		    sqlish_params[i].field, "%s: %s", sqlish_params[i].path,
		    r.body);
		http_resp_free(&r);
	}
	grafana_refused(one_target("pg_sleep(5)", json_object()), "targets[0]");
	grafana_refused(
	    one_target("conversations", json_pack("{s:s}", "group_by",
						  "channel;DROP TABLE events")),
	    "targets[0].payload.group_by");
	grafana_refused(
	    one_target("true_resolution_rate",
		       json_pack("{s:s}", "stat", "value; DROP TABLE events")),
	    "targets[0].payload.stat");
	grafana_refused(
	    one_target("conversations",
		       json_pack("{s:s}", "interval", "1d; DROP TABLE events")),
	    "targets[0].payload.interval");
	grafana_refused(
	    one_target("conversations",
		       json_pack("{s:s}", "channel) OR (1=1", "chat")),
	    "targets[0].payload.channel) OR (1=1");
	grafana_refused(
	    one_target("conversations",
		       json_pack("{s:s}", "tz", "UTC'; DROP TABLE events; --")),
	    "targets[0].payload.tz");
	{
		json_t *body = one_target("conversations", json_object());

		json_object_set_new(body, "filters",
				    json_pack("[{s:s, s:s, s:s}]", "key",
					      "channel) OR (1=1", "operator",
					      "=", "value", "x"));
		grafana_refused(body, "filters[0]");
	}
	call(&ta, "POST", "/grafana/variable",
	     "{\"payload\":{\"target\":\"channel; DROP TABLE events\"}}", &r);
	cr_expect_eq(r.status, 400, "%ld %s", r.status, r.body);
	cr_expect_str_eq(ingest_str_or_none(json_object_get(
			     json_object_get(r.json, "error"), "field")),
			 "payload.target", "%s", r.body);
	http_resp_free(&r);

	/* values are bound as values: they match nothing, break nothing */
	cr_expect_eq(scorecard_count(&ta, "&channel='%20OR%20'1'%3D'1"), 0);
	cr_expect_eq(scorecard_count(&ta, "&customer_id=x')%20OR%20true%20--"),
		     0);
	call(&ta, "GET", "/v1/conversations/'%20OR%20'1'%3D'1", NULL, &r);
	cr_expect_eq(r.status, 404, "%s", r.body);
	http_resp_free(&r);

	cr_expect_eq(events_stored(&ta), a_events);
	cr_expect_eq(events_stored(&tb), b_events);
	cr_expect_eq(scorecard_count(&ta, ""), ta.nconv);
}
