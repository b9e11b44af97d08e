/* SPDX-License-Identifier: MIT */
/*
 * The Grafana JSON datasource (docs/grafana.md) apart from what /query
 * answers: keys and routing, /metrics and /search, variables, ad hoc
 * keys, payload options, and that another tenant's values never show.
 */
#include "grafana_client.h"
#include "util.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct grafana g;

static const char *const group_keys[] = {
    "channel", "topic",		"customer_tier", "language",   "product_area",
    "cohort",  "agent_version", "stream",	 "customer_id"};
#define NKEYS (sizeof(group_keys) / sizeof(group_keys[0]))

/* The metrics of docs/grafana.md with their stats, default first. */
#define RATE "value", "num", "den", "ci95_low", "ci95_high"
static const struct metric_def {
	const char *key;
	const char *stats[6];
} metrics[] = {
    {"involvement_rate", {RATE}},
    {"deflection_rate", {RATE}},
    {"containment_rate", {RATE}},
    {"true_resolution_rate", {RATE}},
    {"confirmed_resolution_rate", {RATE}},
    {"automation_rate", {RATE}},
    {"escalation_rate", {RATE}},
    {"abandonment_rate", {RATE}},
    {"reopen_rate", {RATE}},
    {"fcr_rate", {RATE}},
    {"clarification_rate", {RATE}},
    {"tool_failure_rate", {RATE}},
    {"hallucination_rate", {RATE}},
    {"resolution_accuracy", {RATE}},
    {"escalation_appropriateness", {RATE}},
    {"grading_coverage", {RATE}},
    {"conversations", {"value"}},
    {"by_stream", {"value"}},
    {"self_grading_gap", {"value"}},
    {"time_to_first_response_s", {"p50", "p90", "mean", "n"}},
    {"time_to_resolution_s", {"p50", "p90", "mean", "n"}},
    {"time_to_escalation_s", {"p50", "p90", "mean", "n"}},
    {"turns_per_resolution", {"mean", "p50", "n"}},
    {"csat", {"mean", "satisfied_rate", "response_rate", "n"}},
    {"csat_delta", {"value", "ci95_low", "ci95_high"}},
    {"sentiment_trajectory", {RATE}},
    {"cost_per_resolution", {"value"}},
    {"cost_per_successful_outcome", {"value"}},
    {"cost_by_stream", {"cost_per_successful_outcome", "cost_per_resolution"}},
    {"escalation_reasons", {"value"}},
    {"failure_categories", {"value"}},
    {"quality_score", {"mean", "n"}},
};
#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

static void setup(void)
{
	grafana_start(&g);
}

static void teardown(void)
{
	grafana_stop(&g);
}

TestSuite(grafana_meta, .init = setup, .fini = teardown, .timeout = 60);

/* -- helpers ------------------------------------------------------------ */

struct buf {
	char *data;
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	n *= size;
	b->data = xrealloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/*
 * One request with the header line authz ("Authorization: ...", NULL:
 * none) instead of http_call()'s Bearer key; fills status, body, json.
 */
static void call_authz(const char *method, const char *path, const char *authz,
		       const char *body, struct http_resp *r)
{
	struct curl_slist *hdrs = NULL;
	struct buf b = {NULL, 0};
	char url[512];
	CURL *c = curl_easy_init();

	memset(r, 0, sizeof(*r));
	cr_assert_not_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", g.h.port, path);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (authz)
		hdrs = curl_slist_append(hdrs, authz);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) != CURLE_OK)
		cr_assert_fail("%s %s failed", method, path);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = b.data ? b.data : xstrdup("");
	r->json = json_loads(r->body, JSON_DECODE_ANY, NULL);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

/* "Authorization: Basic base64(user:pass)" into out (256 bytes). */
static void basic_header(const char *user, const char *pass, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char in[160];
	size_t n, i;
	unsigned long v;
	char *o;

	n = (size_t)snprintf(in, sizeof(in), "%s:%s", user, pass);
	o = out + sprintf(out, "Authorization: Basic ");
	for (i = 0; i < n; i += 3) {
		v = (unsigned long)(unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)(unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
}
/* The strings of ans: member m of each element (NULL: the elements). */
static char *joined(json_t *ans, const char *m)
{
	char out[2048] = "";
	json_t *v;
	size_t i, len = 0;

	json_array_foreach(ans, i, v)
	{
		len += (size_t)snprintf(
		    out + len, sizeof(out) - len, "%s%s", i ? "," : "",
		    m ? grafana_str(v, m)
		      : (json_string_value(v) ? json_string_value(v)
					      : "(none)"));
		if (len >= sizeof(out))
			break;
	}
	return xstrdup(out);
}

/* Expects the m members of the elements of ans to be want, in order. */
static void expect_list(json_t *ans, const char *m, const char *want,
			const char *what)
{
	char *got = joined(ans, m);

	cr_expect_str_eq(got, want, "%s: got [%s], expected [%s]", what, got,
			 want);
	free(got);
}

/* Expects every string of want to be member m of some element of ans. */
static void expect_members(json_t *ans, const char *m, const char *const *want,
			   size_t n, const char *what)
{
	char *got = joined(ans, m), pad[2100];
	size_t i;

	snprintf(pad, sizeof(pad), ",%s,", got);
	for (i = 0; i < n; i++) {
		char one[160];

		snprintf(one, sizeof(one), ",%s,", want[i]);
		cr_expect(strstr(pad, one), "%s: no %s in [%s]", what, want[i],
			  got);
	}
	free(got);
}

/* -- authentication and routing ------------------------------------------ */

Test(grafana_meta, health_and_query_accept_bearer_and_basic_auth)
{
	const char *paths[] = {"/grafana", "/grafana/"};
	char basic[256];
	struct http_resp r;
	size_t i;

	for (i = 0; i < 2; i++) {
		http_call(&g.h, "GET", paths[i], g.h.key, "application/json",
			  NULL, 0, &r);
		cr_expect(r.status == 200 &&
			      strcmp(grafana_str(r.json, "status"), "ok") == 0,
			  "GET %s with Bearer: %ld %s", paths[i], r.status,
			  r.body);
		http_resp_free(&r);
	}
	basic_header("grafana", g.h.key, basic);
	call_authz("GET", "/grafana", basic, NULL, &r);
	cr_expect(r.status == 200 &&
		      strcmp(grafana_str(r.json, "status"), "ok") == 0,
		  "GET /grafana with Basic: %ld %s", r.status, r.body);
	http_resp_free(&r);
	basic_header("someone@example.com", g.h.key, basic);
	call_authz("GET", "/grafana/", basic, NULL, &r);
	cr_expect_eq(r.status, 200, "any user name: %ld %s", r.status, r.body);
	http_resp_free(&r);
	call_authz("POST", "/grafana/query", basic,
		   "{\"range\":{\"from\":\"" GRAFANA_FROM
		   "\",\"to\":\"" GRAFANA_TO "\"},"
		   "\"intervalMs\":86400000,\"maxDataPoints\":100,\"targets\":"
		   "[{\"refId\":\"A\",\"target\":\"conversations\"}]}",
		   &r);
	cr_expect(r.status == 200 && json_array_size(r.json) == 1,
		  "POST /grafana/query with Basic: %ld %s", r.status, r.body);
	http_resp_free(&r);
}

Test(grafana_meta, missing_wrong_and_underprivileged_keys_are_refused)
{
	static const char *const posts[] = {"/grafana/metrics",
					    "/grafana/search",
					    "/grafana/metric-payload-options",
					    "/grafana/query",
					    "/grafana/variable",
					    "/grafana/tag-keys",
					    "/grafana/tag-values"};
	char wrong[96], ingest_only[96], bearer_wrong[128], bearer_ingest[128];
	char basic_wrong[256], basic_ingest[256], what[512];
	const char *authz[] = {NULL,
			       bearer_wrong,
			       basic_wrong,
			       "Authorization: Basic !!notbase64",
			       "Authorization: Basic Z3JhZmFuYQ==", /* no : */
			       bearer_ingest,
			       basic_ingest};
	const long status[] = {401, 401, 401, 401, 401, 403, 403};
	struct http_resp r;
	size_t i, j;

	/* same length and prefix as a real key, unknown */
	snprintf(wrong, sizeof(wrong), "%s", g.h.key);
	memset(wrong + 3, '0', strlen(wrong) - 3);
	snprintf(bearer_wrong, sizeof(bearer_wrong), "Authorization: Bearer %s",
		 wrong);
	basic_header("grafana", wrong, basic_wrong);
	harness_key(&g.h, "ingest", ingest_only);
	snprintf(bearer_ingest, sizeof(bearer_ingest),
		 "Authorization: Bearer %s", ingest_only);
	basic_header("grafana", ingest_only, basic_ingest);

	for (i = 0; i < sizeof(status) / sizeof(status[0]); i++) {
		snprintf(what, sizeof(what), "GET /grafana with %s",
			 authz[i] ? authz[i] : "no Authorization");
		call_authz("GET", "/grafana", authz[i], NULL, &r);
		grafana_expect_error_reply(&r, status[i], NULL, what);
		http_resp_free(&r);
		for (j = 0; j < sizeof(posts) / sizeof(posts[0]); j++) {
			snprintf(what, sizeof(what), "POST %s with %s",
				 posts[j],
				 authz[i] ? authz[i] : "no Authorization");
			call_authz("POST", posts[j], authz[i], "{}", &r);
			grafana_expect_error_reply(&r, status[i], NULL, what);
			http_resp_free(&r);
		}
	}
}

Test(grafana_meta, unknown_routes_wrong_methods_and_doubled_slashes)
{
	struct http_resp r;
	json_t *ans;

	grafana_expect_error_text(&g, "/grafana/nope", "{}", 404, NULL);
	http_call(&g.h, "GET", "/grafana/nope", g.h.key, NULL, NULL, 0, &r);
	grafana_expect_error_reply(&r, 404, NULL, "GET /grafana/nope");
	http_resp_free(&r);

	http_call(&g.h, "GET", "/grafana/query", g.h.key, NULL, NULL, 0, &r);
	grafana_expect_error_reply(&r, 405, NULL, "GET /grafana/query");
	cr_expect(strstr(r.allow, "POST"), "Allow: '%s'", r.allow);
	http_resp_free(&r);

	grafana_post_text(&g, "/grafana", "{}", &r);
	grafana_expect_error_reply(&r, 405, NULL, "POST /grafana");
	cr_expect_str_eq(r.allow, "GET", "Allow: '%s'", r.allow);
	http_resp_free(&r);

	http_call(&g.h, "GET", "//grafana", g.h.key, NULL, NULL, 0, &r);
	cr_expect_eq(r.status, 200, "GET //grafana: %ld %s", r.status, r.body);
	http_resp_free(&r);
	ans = grafana_post_ok(
	    &g, "//grafana//query",
	    grafana_qreq(
		GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 100,
		json_pack("[o]", grafana_tgt("A", "conversations", NULL))));
	cr_expect_str_eq(grafana_str(json_array_get(ans, 0), "target"),
			 "conversations");
	json_decref(ans);
	ans = grafana_post_ok(&g, "/grafana//metrics", json_object());
	cr_expect_gt(json_array_size(ans), 0);
	json_decref(ans);
}

/* -- the metric list ----------------------------------------------------- */

/* The payload config called name in m's payloads, or NULL. */
static json_t *payload_cfg(json_t *m, const char *name)
{
	return grafana_find(json_object_get(m, "payloads"), "name", name);
}

static void expect_payload(json_t *m, const char *name, const char *type)
{
	json_t *p = payload_cfg(m, name);

	cr_expect(p, "%s: no payload '%s'", grafana_str(m, "value"), name);
	if (p)
		cr_expect_str_eq(grafana_str(p, "type"), type,
				 "%s: payload '%s' has type %s, expected %s",
				 grafana_str(m, "value"), name,
				 grafana_str(p, "type"), type);
}

/* Expects the inline options of payload name of m, if any, to be want. */
static void expect_options(json_t *m, const char *name, const char *want)
{
	json_t *opts = json_object_get(payload_cfg(m, name), "options");
	char what[128];

	if (!opts)
		return;
	snprintf(what, sizeof(what), "%s: inline options of '%s'",
		 grafana_str(m, "value"), name);
	expect_list(opts, "value", want, what);
}

static void check_metric(json_t *m, const struct metric_def *d)
{
	char want[256] = "";
	size_t i, n;

	cr_expect(json_is_string(json_object_get(m, "label")), "%s: no label",
		  d->key);
	for (i = 0; i < NKEYS; i++)
		expect_payload(m, group_keys[i],
			       strcmp(group_keys[i], "customer_id") == 0
				   ? "input"
				   : "multi-select");
	expect_payload(m, "group_by", "select");
	expect_payload(m, "window", "input");
	expect_payload(m, "format", "select");
	expect_payload(m, "interval", "select");
	expect_payload(m, "tz", "input");
	expect_payload(m, "alias", "input");
	expect_options(m, "format", "time_series,table");
	expect_options(m, "interval", "auto,1h,1d,1w");
	if (json_object_get(payload_cfg(m, "group_by"), "options"))
		expect_members(
		    json_object_get(payload_cfg(m, "group_by"), "options"),
		    "value", group_keys, NKEYS, d->key);
	if (json_object_get(payload_cfg(m, "stream"), "options"))
		expect_members(
		    json_object_get(payload_cfg(m, "stream"), "options"),
		    "value", grafana_streams, 4, d->key);
	for (n = 0; d->stats[n]; n++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 "%s%s", n ? "," : "", d->stats[n]);
	if (n > 1) {
		expect_payload(m, "stat", "select");
		expect_options(m, "stat", want);
	} else {
		cr_expect_null(payload_cfg(m, "stat"),
			       "%s has one stat: no 'stat' payload", d->key);
	}
	if (strcmp(d->key, "csat_delta") == 0)
		expect_payload(m, "baseline", "input");
	else
		cr_expect_null(payload_cfg(m, "baseline"),
			       "%s: 'baseline' is for csat_delta only", d->key);
}

static int has_string(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

Test(grafana_meta, metrics_lists_every_metric_with_its_payloads)
{
	json_t *ans, *again, *m, *card, *v;
	struct http_resp r;
	const char *key;
	char *all;
	size_t i;

	ans = grafana_post_ok(&g, "/grafana/metrics", json_object());
	all = grafana_dump(ans);
	cr_expect_eq(json_array_size(ans), NMETRICS + 1,
		     "%zu metrics, expected %zu and agent_versions: %s",
		     json_array_size(ans), NMETRICS, all);
	for (i = 0; i < NMETRICS; i++) {
		m = grafana_find(ans, "value", metrics[i].key);
		cr_expect(m, "no metric %s in %s", metrics[i].key, all);
		if (m)
			check_metric(m, &metrics[i]);
	}
	m = json_array_get(ans, json_array_size(ans) - 1);
	cr_expect(strcmp(grafana_str(m, "value"), "agent_versions") == 0 &&
		      json_array_size(json_object_get(m, "payloads")) == 0,
		  "agent_versions comes last, without payloads: %s", all);

	/* every metric of the scorecard is offered */
	card = grafana_rest(&g, "/v1/kpis?from=%s&to=%s", GRAFANA_FROM,
			    GRAFANA_TO);
	json_object_foreach(
	    grafana_at(json_array_get(json_object_get(card, "groups"), 0),
		       "metrics"),
	    key, v)
	{
		cr_expect(grafana_find(ans, "value", key),
			  "scorecard metric %s missing", key);
	}
	json_decref(card);

	/* the builder's body and an empty body get the same list */
	again = grafana_post_ok(&g, "/grafana/metrics",
				json_pack("{s:s,s:{s:s}}", "metric", "csat",
					  "payload", "stream", "ai_only"));
	cr_expect(json_equal(ans, again),
		  "the builder's body changes the list");
	json_decref(again);
	grafana_post_text(&g, "/grafana/metrics", NULL, &r);
	cr_expect(r.status == 200 && json_equal(ans, r.json),
		  "an empty body: %ld %.200s", r.status, r.body);
	http_resp_free(&r);
	free(all);
	json_decref(ans);
}

Test(grafana_meta, search_answers_the_metric_names_as_strings)
{
	json_t *ans, *v;
	size_t i;

	ans = grafana_post_ok(&g, "/grafana/search",
			      json_pack("{s:s}", "target", ""));
	json_array_foreach(ans, i, v)
	{
		cr_expect(json_is_string(v), "element %zu is not a string", i);
	}
	for (i = 0; i < NMETRICS; i++)
		cr_expect(has_string(ans, metrics[i].key), "no %s",
			  metrics[i].key);
	json_decref(ans);
}

/* -- variables, ad hoc keys and payload options ---------------------------- */

/* As expect_list(), then drops ans. */
static void expect_list_of(json_t *ans, const char *m, const char *want,
			   const char *what)
{
	expect_list(ans, m, want, what);
	json_decref(ans);
}

/* Expects member m of ans to be the four streams, then drops ans. */
static void expect_streams(json_t *ans, const char *m, const char *what)
{
	cr_expect_eq(json_array_size(ans), GRAFANA_NSTREAMS, "%s: %zu values",
		     what, json_array_size(ans));
	expect_members(ans, m, grafana_streams, GRAFANA_NSTREAMS, what);
	json_decref(ans);
}

/* Expects ans to be empty and drops it; what names it in the message. */
static void expect_empty(json_t *ans, const char *what)
{
	cr_expect_eq(json_array_size(ans), 0, "%s", what);
	json_decref(ans);
}

static json_t *tag_values(const char *key)
{
	return grafana_post_ok(&g, "/grafana/tag-values",
			       json_pack("{s:s}", "key", key));
}

static json_t *variable(const char *query_text)
{
	return grafana_post_ok(&g, "/grafana/variable",
			       json_pack("{s:{s:s},s:{s:s,s:s}}", "payload",
					 "target", query_text, "range", "from",
					 GRAFANA_FROM, "to", GRAFANA_TO));
}

Test(grafana_meta, variable_lists_the_tenants_values_sorted)
{
	static const char *const lists[][2] = {
	    {"topic", "account,billing,shipping"},
	    {"agent_version", "v0,v1,v2,v3,v4"}};
	const char *names[NMETRICS];
	json_t *ans;
	size_t i;

	grafana_ingest(&g, "events");
	grafana_ingest_other_tenant(&g);
	ans = variable("channel");
	expect_list(ans, "__value", "chat,email", "variable channel");
	expect_list(ans, "__text", "chat,email", "variable channel");
	json_decref(ans);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		expect_list_of(variable(lists[i][0]), "__value", lists[i][1],
			       lists[i][0]);
	expect_streams(variable("stream"), "__value", "stream");
	ans = variable("group_keys");
	cr_expect_eq(json_array_size(ans), NKEYS);
	expect_members(ans, "__value", group_keys, NKEYS, "group_keys");
	json_decref(ans);
	ans = variable("metrics");
	for (i = 0; i < NMETRICS; i++)
		names[i] = metrics[i].key;
	expect_members(ans, "__value", names, NMETRICS, "metrics");
	json_decref(ans);

	grafana_expect_error(
	    &g, "/grafana/variable",
	    json_pack("{s:{s:s}}", "payload", "target", "customer_id"), 400,
	    NULL);
	grafana_expect_error(
	    &g, "/grafana/variable",
	    json_pack("{s:{s:s}}", "payload", "target", "nonsense"), 400, NULL);
}

Test(grafana_meta, tag_keys_and_tag_values)
{
	json_t *ans, *v;
	struct http_resp r;
	size_t i;

	grafana_ingest(&g, "events");
	grafana_ingest_other_tenant(&g);
	ans = grafana_post_ok(&g, "/grafana/tag-keys", json_object());
	cr_expect_eq(json_array_size(ans), NKEYS);
	expect_members(ans, "text", group_keys, NKEYS, "tag-keys");
	json_array_foreach(ans, i, v)
	{
		cr_expect_str_eq(grafana_str(v, "type"), "string");
	}
	grafana_post_text(&g, "/grafana/tag-keys", NULL, &r);
	cr_expect(r.status == 200 && json_equal(r.json, ans),
		  "tag-keys with an empty body: %ld %s", r.status, r.body);
	http_resp_free(&r);
	grafana_post_text(
	    &g, "/grafana/tag-keys",
	    "{\"filters\": [], \"timeRange\": {\"from\": \"" GRAFANA_FROM
	    "\", \"to\": \"" GRAFANA_TO "\"}, \"queries\": []}",
	    &r);
	cr_expect(r.status == 200 && json_equal(r.json, ans),
		  "tag-keys with Grafana's options: %ld %s", r.status, r.body);
	http_resp_free(&r);
	json_decref(ans);

	expect_list_of(tag_values("agent_version"), "text", "v0,v1,v2,v3,v4",
		       "tag-values agent_version");
	expect_list_of(tag_values("channel"), "text", "chat,email",
		       "tag-values channel");
	expect_streams(tag_values("stream"), "text", "tag-values stream");
	expect_empty(tag_values("customer_id"), "tag-values customer_id");
	expect_empty(tag_values("region"), "tag-values region");
}

static json_t *options(const char *metric, const char *name)
{
	return grafana_post_ok(&g, "/grafana/metric-payload-options",
			       json_pack("{s:s,s:{},s:s}", "metric", metric,
					 "payload", "name", name));
}

Test(grafana_meta, metric_payload_options_offer_values_and_fixed_choices)
{
	static const struct {
		const char *metric, *name, *want, *what;
	} lists[] = {
	    {"csat", "agent_version", "v0,v1,v2,v3,v4", "csat agent_version"},
	    {"csat", "stat", "mean,satisfied_rate,response_rate,n",
	     "csat stat"},
	    {"time_to_resolution_s", "stat", "p50,p90,mean,n",
	     "time_to_resolution_s stat"},
	    {"csat", "format", "time_series,table", "format"},
	    {"csat", "interval", "auto,1h,1d,1w", "interval"},
	};
	json_t *ans, *v;
	size_t i;

	grafana_ingest(&g, "events");
	grafana_ingest_other_tenant(&g);
	ans = options("csat", "channel");
	expect_list(ans, "value", "chat,email", "csat channel");
	json_array_foreach(ans, i, v)
	{
		cr_expect(json_is_string(json_object_get(v, "label")),
			  "option %zu has no label", i);
	}
	json_decref(ans);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		expect_list_of(options(lists[i].metric, lists[i].name), "value",
			       lists[i].want, lists[i].what);
	ans = options("csat", "group_by");
	expect_members(ans, "value", group_keys, NKEYS, "group_by");
	json_decref(ans);
	expect_streams(options("csat", "stream"), "value", "stream");
	expect_empty(options("csat", "nonsense"), "an unknown name");
}

Test(grafana_meta, another_tenants_values_never_show)
{
	static const double zeros[] = {0, 0, 0, 0, 0};
	json_t *ans;

	grafana_ingest_other_tenant(&g);
	expect_empty(variable("channel"), "variable channel");
	expect_empty(variable("agent_version"), "variable agent_version");
	expect_empty(tag_values("agent_version"), "tag-values agent_version");
	expect_empty(options("conversations", "channel"),
		     "payload options channel");
	ans = grafana_query(
	    &g,
	    grafana_qreq(
		GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
		json_pack("[o]", grafana_tgt("Anno", "agent_versions", NULL))));
	cr_expect_eq(json_array_size(json_object_get(
			 grafana_only_table(ans, "Anno"), "rows")),
		     0, "annotations");
	json_decref(ans);
	ans = grafana_query_days(&g, "conversations", NULL);
	grafana_expect_days(&g, grafana_series(ans, "conversations"), zeros);
	json_decref(ans);
}
