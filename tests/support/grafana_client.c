/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the Grafana datasource suites: the fixture tenant, /grafana
 * request builders, and accessors and expectations on the answers.
 */
#include "grafana_client.h"
#include "util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE "grafana_fixture.json"
#define CASES "grafana_cases.json"

const char *const grafana_streams[GRAFANA_NSTREAMS] = {"ai_only", "hybrid",
						       "human_only", "none"};

/* -- the fixture tenant --------------------------------------------------- */

void grafana_start(struct grafana *g)
{
	harness_start(&g->h);
	g->fixture = load_test_data(FIXTURE);
	g->cases = load_test_data(CASES);
	g->from_ms = grafana_ms(GRAFANA_FROM);
}

void grafana_stop(struct grafana *g)
{
	json_decref(g->fixture);
	json_decref(g->cases);
	g->fixture = g->cases = NULL;
	harness_stop(&g->h);
}

/* POSTs the fixture's member (an event array) with key, all accepted. */
static void ingest_with(struct grafana *g, const char *key, const char *member)
{
	json_t *events = json_object_get(g->fixture, member);
	char *body = grafana_dump(events);
	struct http_resp r;

	http_call(&g->h, "POST", "/v1/events", key, "application/json", body,
		  strlen(body), &r);
	free(body);
	cr_assert(r.status == 200 &&
		      json_integer_value(json_object_get(r.json, "accepted")) ==
			  (json_int_t)json_array_size(events),
		  "ingest %s: %ld %s", member, r.status, r.body);
	http_resp_free(&r);
}

void grafana_ingest(struct grafana *g, const char *member)
{
	ingest_with(g, g->h.key, member);
}

void grafana_ingest_other_tenant(struct grafana *g)
{
	char name[64], id[37], key[96];

	harness_tenant(&g->h, "graf-other", name, id, key);
	ingest_with(g, key, "other_tenant_events");
}

/* -- request bodies ------------------------------------------------------- */

json_t *grafana_tgt(const char *ref, const char *metric, json_t *payload)
{
	return json_pack(
	    "{s:s,s:s,s:o,s:s,s:{s:s,s:s}}", "refId", ref, "target", metric,
	    "payload", payload ? payload : json_object(), "editorMode", "code",
	    "datasource", "type", "simpod-json-datasource", "uid", "agentkpi");
}

json_t *grafana_qreq(const char *from, const char *to, json_int_t interval_ms,
		     json_int_t max_dp, json_t *targets)
{
	return json_pack("{s:{s:s,s:s,s:{s:s,s:s}},s:I,s:I,s:o,s:s,s:s,s:s,"
			 "s:{}}",
			 "range", "from", from, "to", to, "raw", "from",
			 "now-5d", "to", "now", "intervalMs", interval_ms,
			 "maxDataPoints", max_dp, "targets", targets,
			 "requestId", "Q42", "timezone", "browser", "app",
			 "dashboard", "scopedVars");
}

json_t *grafana_filter(const char *key, const char *op, const char *value)
{
	return json_pack("{s:s,s:s,s:s}", "key", key, "operator", op, "value",
			 value);
}

/* -- requests ------------------------------------------------------------- */

void grafana_post_text(struct grafana *g, const char *path, const char *body,
		       struct http_resp *r)
{
	http_call(&g->h, "POST", path, g->h.key, "application/json", body,
		  body ? strlen(body) : 0, r);
}

json_t *grafana_post_ok(struct grafana *g, const char *path, json_t *j)
{
	char *body = grafana_dump(j);
	struct http_resp r;
	json_t *out;

	json_decref(j);
	grafana_post_text(g, path, body, &r);
	cr_assert(r.status == 200 && json_is_array(r.json),
		  "POST %s %s\n  -> %ld %s", path, body, r.status, r.body);
	out = json_incref(r.json);
	http_resp_free(&r);
	free(body);
	return out;
}

json_t *grafana_query(struct grafana *g, json_t *req)
{
	return grafana_post_ok(g, "/grafana/query", req);
}

json_t *grafana_query_days(struct grafana *g, const char *metric,
			   json_t *payload)
{
	return grafana_query(
	    g,
	    grafana_qreq(GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
			 json_pack("[o]", grafana_tgt("A", metric, payload))));
}

double grafana_table_value(struct grafana *g, const char *metric,
			   json_t *payload, const char *fkey, json_t *filters)
{
	json_t *req, *ans, *t, *v;
	double out;

	if (!payload)
		payload = json_object();
	if (json_is_object(payload))
		json_object_set_new(payload, "format", json_string("table"));
	req = grafana_qreq(GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
			   json_pack("[o]", grafana_tgt("A", metric, payload)));
	if (filters)
		json_object_set_new(req, fkey, filters);
	ans = grafana_query(g, req);
	t = grafana_only_table(ans, "A");
	v = grafana_cell(t, 0, "value");
	cr_assert(json_array_size(json_object_get(t, "rows")) == 1 &&
		      json_is_number(v),
		  "%s: expected one row with a value", metric);
	out = json_number_value(v);
	json_decref(ans);
	return out;
}

json_t *grafana_rest(struct grafana *g, const char *fmt, ...)
{
	struct http_resp r;
	char path[1024];
	va_list ap;
	json_t *out;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	http_get(&g->h, path, &r);
	cr_assert(r.status == 200 && json_is_object(r.json), "GET %s: %ld %s",
		  path, r.status, r.body);
	out = json_incref(r.json);
	http_resp_free(&r);
	return out;
}

json_t *grafana_timeseries(struct grafana *g, const char *metric,
			   const char *extra)
{
	return grafana_rest(
	    g, "/v1/kpis/timeseries?metric=%s&interval=1d&from=%s&to=%s%s",
	    metric, GRAFANA_FROM, GRAFANA_TO, extra ? extra : "");
}

/* -- error replies -------------------------------------------------------- */

void grafana_expect_error_reply(const struct http_resp *r, long status,
				const char *needle, const char *what)
{
	const char *msg =
	    json_string_value(json_object_get(r->json, "message"));

	cr_expect_eq(r->status, status, "%s: status %ld, expected %ld: %s",
		     what, r->status, status, r->body);
	cr_expect(msg && *msg, "%s: no top-level \"message\": %s", what,
		  r->body);
	cr_expect(json_is_string(json_object_get(
		      json_object_get(r->json, "error"), "code")),
		  "%s: no error envelope: %s", what, r->body);
	if (needle && msg)
		cr_expect(strstr(msg, needle),
			  "%s: message does not name '%s': %s", what, needle,
			  r->body);
}

void grafana_expect_error_text(struct grafana *g, const char *path,
			       const char *body, long status,
			       const char *needle)
{
	struct http_resp r;
	char what[512];

	snprintf(what, sizeof(what), "POST %s %.400s", path,
		 body ? body : "(no body)");
	grafana_post_text(g, path, body, &r);
	grafana_expect_error_reply(&r, status, needle, what);
	http_resp_free(&r);
}

void grafana_expect_error(struct grafana *g, const char *path, json_t *j,
			  long status, const char *needle)
{
	char *body = grafana_dump(j);

	json_decref(j);
	grafana_expect_error_text(g, path, body, status, needle);
	free(body);
}

/* -- reading answers ------------------------------------------------------ */

const char *grafana_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(none)";
}

char *grafana_dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	cr_assert_not_null(s);
	return s;
}

int64_t grafana_ms(const char *t)
{
	int64_t ms;

	if (!t || time_parse_rfc3339(t, &ms) < 0)
		cr_assert_fail("not an RFC 3339 time: %s", t ? t : "(null)");
	return ms;
}

json_t *grafana_at(json_t *o, const char *path)
{
	char buf[128], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p && o;
	     p = strtok_r(NULL, ".", &save))
		o = json_object_get(o, p);
	return o;
}

json_t *grafana_find(json_t *arr, const char *key, const char *value)
{
	const char *s;
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e)
	{
		s = json_string_value(json_object_get(e, key));
		if (s && strcmp(s, value) == 0)
			return e;
	}
	return NULL;
}

json_t *grafana_series(json_t *ans, const char *name)
{
	json_t *s = grafana_find(ans, "target", name);
	char *all;

	if (!s) {
		all = grafana_dump(ans);
		cr_assert_fail("no series '%s' in %s", name, all);
	}
	return s;
}

json_t *grafana_only_table(json_t *ans, const char *ref)
{
	json_t *t = json_array_get(ans, 0);
	char *all = grafana_dump(ans);

	cr_assert(json_array_size(ans) == 1 &&
		      strcmp(grafana_str(t, "type"), "table") == 0 &&
		      strcmp(grafana_str(t, "refId"), ref) == 0 &&
		      json_is_array(json_object_get(t, "columns")) &&
		      json_is_array(json_object_get(t, "rows")),
		  "expected one table %s: %s", ref, all);
	free(all);
	return t;
}

long grafana_col(json_t *table, const char *text)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(table, "columns"), i, c)
	{
		if (strcmp(grafana_str(c, "text"), text) == 0)
			return (long)i;
	}
	return -1;
}

json_t *grafana_cell(json_t *table, size_t r, const char *text)
{
	long c = grafana_col(table, text);

	if (c < 0)
		return NULL;
	return json_array_get(json_array_get(json_object_get(table, "rows"), r),
			      (size_t)c);
}

json_t *grafana_rest_points(json_t *ts, json_t *key)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(ts, "series"), i, s)
	{
		if (!key || json_equal(json_object_get(s, "key"), key))
			return json_object_get(s, "points");
	}
	cr_assert_fail("no REST series with that key");
	return NULL;
}

/* -- expectations --------------------------------------------------------- */

int grafana_same(json_t *a, json_t *b)
{
	char path[256] = "";

	return a && b && json_equivalent(a, b, path, sizeof(path));
}

/*
 * Expects datapoint i of s to be [want, t] with an integer t; want NULL
 * means a JSON null value.
 */
static void expect_point(json_t *s, size_t i, json_t *want, int64_t t)
{
	json_t *dp = json_array_get(json_object_get(s, "datapoints"), i);
	json_t *v = json_array_get(dp, 0), *tm = json_array_get(dp, 1);
	char *got = dp ? grafana_dump(dp) : NULL;
	char *w = want ? grafana_dump(want) : NULL;

	cr_expect(json_array_size(dp) == 2 && json_is_integer(tm) &&
		      json_integer_value(tm) == t,
		  "%s: point %zu is %s, expected time %lld",
		  grafana_str(s, "target"), i, got ? got : "(missing)",
		  (long long)t);
	if (want)
		cr_expect(json_is_number(v) && grafana_same(v, want),
			  "%s: point %zu is %s, expected value %s",
			  grafana_str(s, "target"), i, got ? got : "(missing)",
			  w);
	else
		cr_expect(json_is_null(v), "%s: point %zu is %s, expected null",
			  grafana_str(s, "target"), i, got ? got : "(missing)");
	free(got);
	free(w);
}

void grafana_expect_values(json_t *s, const double *want, size_t n,
			   int64_t first, int64_t base, int64_t step)
{
	json_t *dps = json_object_get(s, "datapoints"), *v;
	char *all = grafana_dump(dps);
	size_t i;

	cr_expect_eq(json_array_size(dps), n,
		     "%s: %zu points, expected %zu: %s",
		     grafana_str(s, "target"), json_array_size(dps), n, all);
	free(all);
	for (i = 0; i < n && i < json_array_size(dps); i++) {
		v = isnan(want[i]) ? NULL : json_real(want[i]);
		expect_point(s, i, v, i ? base + (int64_t)i * step : first);
		json_decref(v);
	}
}

void grafana_expect_days(struct grafana *g, json_t *s, const double *want)
{
	grafana_expect_values(s, want, GRAFANA_NDAYS, g->from_ms, g->from_ms,
			      GRAFANA_DAY_MS);
}

void grafana_expect_rest(json_t *s, json_t *points, const char *path,
			 int zero_missing, int64_t start)
{
	json_t *p, *want, *zero = json_integer(0);
	int64_t t;
	size_t i;

	cr_expect_eq(json_array_size(json_object_get(s, "datapoints")),
		     json_array_size(points), "%s: %zu points, REST has %zu",
		     grafana_str(s, "target"),
		     json_array_size(json_object_get(s, "datapoints")),
		     json_array_size(points));
	json_array_foreach(points, i, p)
	{
		t = grafana_ms(json_string_value(json_object_get(p, "t")));
		want = grafana_at(p, path);
		if (!want && zero_missing)
			want = zero;
		expect_point(s, i, json_is_null(want) ? NULL : want,
			     t < start ? start : t);
	}
	json_decref(zero);
}
