/* SPDX-License-Identifier: MIT */
/*
 * The Grafana dashboard docker/grafana/dashboards/agentkpi.json against the
 * live /grafana routes: every metric, payload key, variable and annotation
 * it uses exists, and every panel's queries answer.
 */
#include "grafana_client.h"
#include "harness.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Tests run from the repository root. AGENTKPI_DASHBOARD names another
 * dashboard file instead, e.g. a deliberately broken copy.
 */
#define DASHBOARD "docker/grafana/dashboards/agentkpi.json"
#define DATASOURCES "docker/grafana/provisioning/datasources/agentkpi.yaml"
#define PLUGIN "simpod-json-datasource"
#define DS_UID "agentkpi"
#define RANGE_FROM "2026-11-01T00:00:00.000Z"
#define RANGE_TO "2026-11-04T00:00:00.000Z"

/* The dashboard's variables: the payload filters every target passes. */
static const char *const dash_vars[] = {"channel", "topic", "customer_tier",
					"language", "agent_version"};
#define NVARS (sizeof(dash_vars) / sizeof(dash_vars[0]))

/* One seeded value per variable, as the events below carry them. */
static const char *const seeded[NVARS] = {"chat", "billing", "pro", "en", "v1"};

/*
 * Two conversations inside the range, so that variables have values, the
 * annotation has versions to show and panels compute something.
 */
static const char events[] =
    "["
    "{\"id\":\"gd-1\",\"type\":\"conversation.started\","
    "\"conversation_id\":\"gd-c1\",\"ts\":\"2026-11-02T10:00:00Z\","
    "\"customer_id\":\"gd-cust-1\",\"agent_version\":\"v1\","
    "\"segment\":{\"channel\":\"chat\",\"topic\":\"billing\","
    "\"customer_tier\":\"pro\",\"language\":\"en\"}},"
    "{\"id\":\"gd-2\",\"type\":\"message\",\"conversation_id\":\"gd-c1\","
    "\"ts\":\"2026-11-02T10:00:30Z\",\"author\":\"ai\",\"cost_usd\":0.05},"
    "{\"id\":\"gd-3\",\"type\":\"tool_call\",\"conversation_id\":\"gd-c1\","
    "\"ts\":\"2026-11-02T10:01:00Z\",\"name\":\"kb.search\",\"ok\":true},"
    "{\"id\":\"gd-4\",\"type\":\"resolved\",\"conversation_id\":\"gd-c1\","
    "\"ts\":\"2026-11-02T10:05:00Z\",\"by\":\"ai\",\"confirmed\":true},"
    "{\"id\":\"gd-5\",\"type\":\"feedback\",\"conversation_id\":\"gd-c1\","
    "\"ts\":\"2026-11-02T10:06:00Z\",\"csat\":5},"
    "{\"id\":\"gd-6\",\"type\":\"quality\",\"conversation_id\":\"gd-c1\","
    "\"ts\":\"2026-11-02T12:00:00Z\",\"grader\":\"reviewer-1\","
    "\"resolution_correct\":true,\"hallucination\":false},"
    "{\"id\":\"gd-7\",\"type\":\"conversation.started\","
    "\"conversation_id\":\"gd-c2\",\"ts\":\"2026-11-03T09:00:00Z\","
    "\"customer_id\":\"gd-cust-2\",\"agent_version\":\"v2\","
    "\"segment\":{\"channel\":\"email\",\"topic\":\"shipping\","
    "\"customer_tier\":\"free\",\"language\":\"de\"}},"
    "{\"id\":\"gd-8\",\"type\":\"message\",\"conversation_id\":\"gd-c2\","
    "\"ts\":\"2026-11-03T09:01:00Z\",\"author\":\"ai\",\"cost_usd\":0.1},"
    "{\"id\":\"gd-9\",\"type\":\"handoff\",\"conversation_id\":\"gd-c2\","
    "\"ts\":\"2026-11-03T09:02:00Z\",\"reason\":\"ai_unable\"},"
    "{\"id\":\"gd-10\",\"type\":\"message\",\"conversation_id\":\"gd-c2\","
    "\"ts\":\"2026-11-03T09:10:00Z\",\"author\":\"human\",\"cost_usd\":1.5},"
    "{\"id\":\"gd-11\",\"type\":\"resolved\",\"conversation_id\":\"gd-c2\","
    "\"ts\":\"2026-11-03T09:30:00Z\",\"by\":\"human\"},"
    "{\"id\":\"gd-12\",\"type\":\"feedback\",\"conversation_id\":\"gd-c2\","
    "\"ts\":\"2026-11-03T09:31:00Z\",\"csat\":3}"
    "]";

static struct harness h;
static json_t *dash;	/* the dashboard */
static json_t *metrics; /* the answer of POST /grafana/metrics */
static json_t *panels;	/* every panel that is not a row, rows flattened */

/* POSTs the JSON text body to path with h's key. */
static void post(const char *path, const char *body, struct http_resp *resp)
{
	http_call(&h, "POST", path, h.key, "application/json", body,
		  strlen(body), resp);
}

/* POSTs the JSON value body (borrowed) to path with h's key. */
static void post_json(const char *path, json_t *body, struct http_resp *resp)
{
	char *text = json_dumps(body, JSON_COMPACT);

	cr_assert(text, "cannot serialize a request body");
	post(path, text, resp);
	free(text);
}

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

/* Appends every panel of list that is not a row, and those inside rows. */
static void collect_panels(json_t *list)
{
	json_t *p;
	size_t i;

	json_array_foreach(list, i, p)
	{
		if (strcmp(str(p, "type"), "row") == 0)
			collect_panels(json_object_get(p, "panels"));
		else
			json_array_append(panels, p);
	}
}

static void setup(void)
{
	const char *path = getenv("AGENTKPI_DASHBOARD");
	struct http_resp resp;
	json_error_t jerr;

	harness_start(&h);
	if (!path)
		path = DASHBOARD;
	dash = json_load_file(path, 0, &jerr);
	cr_assert(dash, "cannot load %s: %s (line %d)", path, jerr.text,
		  jerr.line);
	panels = json_array();
	collect_panels(json_object_get(dash, "panels"));
	cr_assert_gt(json_array_size(panels), 0, "%s has no panels", path);

	http_post_events(&h, events, &resp);
	cr_assert_eq(resp.status, 200, "seeding events: %ld %s", resp.status,
		     resp.body);
	http_resp_free(&resp);

	post("/grafana/metrics", "{}", &resp);
	cr_assert_eq(resp.status, 200, "POST /grafana/metrics: %ld %s",
		     resp.status, resp.body);
	cr_assert(json_is_array(resp.json),
		  "POST /grafana/metrics is not an array: %s", resp.body);
	metrics = json_incref(resp.json);
	http_resp_free(&resp);
}

static void teardown(void)
{
	json_decref(metrics);
	json_decref(panels);
	json_decref(dash);
	metrics = panels = dash = NULL;
	harness_stop(&h);
}

TestSuite(grafana_dashboard, .init = setup, .fini = teardown);

/* The entry of /grafana/metrics whose value is name, or NULL. */
static json_t *metric_find(const char *name)
{
	json_t *m;
	size_t i;

	json_array_foreach(metrics, i, m)
	{
		if (json_is_string(m) &&
		    strcmp(json_string_value(m), name) == 0)
			return m;
		if (strcmp(str(m, "value"), name) == 0)
			return m;
	}
	return NULL;
}

/* True when metric m offers a payload called name. */
static int metric_has_payload(json_t *m, const char *name)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(m, "payloads"), i, p)
	{
		if (strcmp(str(p, "name"), name) == 0)
			return 1;
	}
	return 0;
}

/* Length of the variable reference ($name or ${name}) at s, or 0. */
static size_t var_ref_len(const char *s)
{
	size_t i, n;

	for (i = 0; i < NVARS; i++) {
		n = strlen(dash_vars[i]);
		if (s[1] == '{' && strncmp(s + 2, dash_vars[i], n) == 0 &&
		    s[2 + n] == '}')
			return n + 3;
		if (strncmp(s + 1, dash_vars[i], n) == 0 &&
		    !(s[1 + n] == '_' || (s[1 + n] >= 'a' && s[1 + n] <= 'z') ||
		      (s[1 + n] >= 'A' && s[1 + n] <= 'Z') ||
		      (s[1 + n] >= '0' && s[1 + n] <= '9')))
			return n + 1;
	}
	return 0;
}

/*
 * The target's payload as Grafana sends it with every variable on All:
 * the stored JSON text with each variable replaced by "*", then parsed.
 * Returns a new reference, or NULL (and a failed expectation) when the
 * payload is missing, not a string or not an object after substitution.
 */
static json_t *target_payload(json_t *panel, json_t *t)
{
	const char *text = json_string_value(json_object_get(t, "payload"));
	json_error_t jerr;
	size_t len = 0, n;
	json_t *obj;
	char *out;

	if (!text) {
		cr_expect_fail("panel '%s' target %s: payload is not a string",
			       str(panel, "title"), str(t, "refId"));
		return NULL;
	}
	out = xmalloc(strlen(text) + 1); /* a reference is longer than * */
	while (*text) {
		if (*text == '$' && (n = var_ref_len(text)) > 0) {
			out[len++] = '*';
			text += n;
		} else {
			out[len++] = *text++;
		}
	}
	out[len] = '\0';
	obj = json_loads(out, 0, &jerr);
	if (!json_is_object(obj)) {
		cr_expect_fail("panel '%s' target %s: payload %s is not a JSON "
			       "object after substitution (%s)",
			       str(panel, "title"), str(t, "refId"), out,
			       obj ? "not an object" : jerr.text);
		json_decref(obj);
		obj = NULL;
	}
	free(out);
	return obj;
}

/* True when ref (a datasource reference) names agentkpi's plugin and uid. */
static int is_agentkpi(json_t *ref)
{
	return strcmp(str(ref, "type"), PLUGIN) == 0 &&
	       strcmp(str(ref, "uid"), DS_UID) == 0;
}

Test(grafana_dashboard, every_panel_has_agentkpi_code_targets)
{
	json_t *p, *t, *targets;
	size_t i, j;

	json_array_foreach(panels, i, p)
	{
		targets = json_object_get(p, "targets");
		cr_expect(json_array_size(targets) > 0,
			  "panel '%s' has no target", str(p, "title"));
		json_array_foreach(targets, j, t)
		{
			cr_expect(is_agentkpi(json_object_get(t, "datasource")),
				  "panel '%s' target %zu: datasource is not "
				  "{type: %s, uid: %s}",
				  str(p, "title"), j, PLUGIN, DS_UID);
			cr_expect_str_eq(str(t, "editorMode"), "code",
					 "panel '%s' target %zu: editorMode",
					 str(p, "title"), j);
			cr_expect(str(t, "refId")[0],
				  "panel '%s' target %zu has no refId",
				  str(p, "title"), j);
		}
	}
}

Test(grafana_dashboard, targets_are_listed_metrics_with_their_payloads)
{
	json_t *p, *t, *m, *payload, *v;
	const char *key;
	size_t i, j, k;

	json_array_foreach(panels, i, p)
	{
		json_array_foreach(json_object_get(p, "targets"), j, t)
		{
			m = metric_find(str(t, "target"));
			cr_expect(m,
				  "panel '%s' target %s: '%s' is not listed "
				  "by POST /grafana/metrics",
				  str(p, "title"), str(t, "refId"),
				  str(t, "target"));
			payload = target_payload(p, t);
			if (!m || !payload) {
				json_decref(payload);
				continue;
			}
			json_object_foreach(payload, key, v)
			{
				cr_expect(metric_has_payload(m, key),
					  "panel '%s' target %s: '%s' offers "
					  "no payload '%s'",
					  str(p, "title"), str(t, "refId"),
					  str(t, "target"), key);
			}
			for (k = 0; k < NVARS; k++)
				cr_expect(
				    json_object_get(payload, dash_vars[k]),
				    "panel '%s' target %s does not pass "
				    "the variable '%s'",
				    str(p, "title"), str(t, "refId"),
				    dash_vars[k]);
			json_decref(payload);
		}
	}
}

/* True when answer (a /grafana/variable array) has the value want. */
static int has_value(json_t *answer, const char *want)
{
	json_t *o;
	size_t i;

	json_array_foreach(answer, i, o)
	{
		if (strcmp(str(o, "__value"), want) == 0)
			return 1;
	}
	return 0;
}

Test(grafana_dashboard, every_variable_is_answered)
{
	json_t *vars =
	    json_object_get(json_object_get(dash, "templating"), "list");
	json_t *var, *query, *body;
	struct http_resp resp;
	const char *name;
	size_t i, k, seen = 0;

	json_array_foreach(vars, i, var)
	{
		name = str(var, "name");
		query = json_object_get(var, "query");
		cr_expect(is_agentkpi(json_object_get(var, "datasource")),
			  "variable '%s' is not on the agentkpi datasource",
			  name);
		cr_expect(json_is_true(json_object_get(var, "includeAll")) &&
			      strcmp(str(var, "allValue"), "*") == 0 &&
			      json_is_false(json_object_get(var, "multi")),
			  "variable '%s' needs includeAll, allValue \"*\" and "
			  "multi false",
			  name);
		cr_expect_str_eq(str(query, "format"), "string",
				 "variable '%s': query format", name);
		body = json_pack("{s:{s:s}}", "payload", "target",
				 str(query, "query"));
		post_json("/grafana/variable", body, &resp);
		json_decref(body);
		cr_expect_eq(resp.status, 200,
			     "variable '%s': /grafana/variable '%s' answered "
			     "%ld %s",
			     name, str(query, "query"), resp.status, resp.body);
		cr_expect(json_is_array(resp.json),
			  "variable '%s': not an array: %s", name, resp.body);
		for (k = 0; k < NVARS; k++) {
			if (strcmp(name, dash_vars[k]) != 0)
				continue;
			seen++;
			cr_expect(has_value(resp.json, seeded[k]),
				  "variable '%s' lacks the seeded value '%s': "
				  "%s",
				  name, seeded[k], resp.body);
		}
		http_resp_free(&resp);
	}
	cr_expect_eq(seen, NVARS, "the dashboard has %zu of the %zu variables",
		     seen, NVARS);
}

/* The /grafana/query body for targets, with payloads as Grafana sends. */
static json_t *query_body(json_t *panel, json_t *targets)
{
	json_t *list = json_array(), *t, *copy, *payload;
	size_t i;

	json_array_foreach(targets, i, t)
	{
		copy = json_deep_copy(t);
		payload = target_payload(panel, t);
		json_object_set_new(copy, "payload",
				    payload ? payload : json_object());
		json_array_append_new(list, copy);
	}
	return json_pack("{s:{s:s,s:s,s:{s:s,s:s}},s:s,s:i,s:i,s:o}", "range",
			 "from", RANGE_FROM, "to", RANGE_TO, "raw", "from",
			 RANGE_FROM, "to", RANGE_TO, "interval", "1h",
			 "intervalMs", 3600000, "maxDataPoints", 500, "targets",
			 list);
}

/*
 * Checks the shape of a /grafana/query answer to the targets of panel:
 * each element answers one of them, a table target gets a table and a
 * time series target series with a point per bucket of the range (empty
 * buckets included, so never none).
 */
static void check_answer(json_t *panel, json_t *targets, json_t *answer)
{
	const char *title = str(panel, "title"), *format;
	json_t *e, *t;
	size_t i;

	json_array_foreach(answer, i, e)
	{
		t = grafana_find(targets, "refId", str(e, "refId"));
		cr_expect(t,
			  "panel '%s': answer %zu has refId '%s' of no target",
			  title, i, str(e, "refId"));
		if (!t)
			continue;
		format = str(json_object_get(t, "payload"), "format");
		if (strcmp(format, "table") == 0) {
			cr_expect(
			    json_is_array(json_object_get(e, "columns")) &&
				json_is_array(json_object_get(e, "rows")),
			    "panel '%s' target %s: not a table", title,
			    str(t, "refId"));
		} else {
			cr_expect(json_array_size(
				      json_object_get(e, "datapoints")) > 0,
				  "panel '%s' target %s: series '%s' has no "
				  "datapoints",
				  title, str(t, "refId"), str(e, "target"));
		}
	}
}

Test(grafana_dashboard, every_panel_query_answers)
{
	struct http_resp resp;
	json_t *p, *body;
	size_t i;

	json_array_foreach(panels, i, p)
	{
		body = query_body(p, json_object_get(p, "targets"));
		post_json("/grafana/query", body, &resp);
		cr_expect_eq(resp.status, 200,
			     "panel '%s': /grafana/query answered %ld %s",
			     str(p, "title"), resp.status, resp.body);
		cr_expect(json_is_array(resp.json),
			  "panel '%s': /grafana/query answer is not an array: "
			  "%s",
			  str(p, "title"), resp.body);
		if (resp.status == 200)
			check_answer(p, json_object_get(body, "targets"),
				     resp.json);
		json_decref(body);
		http_resp_free(&resp);
	}
}

Test(grafana_dashboard, version_annotation_is_listed_and_answers)
{
	json_t *annos =
	    json_object_get(json_object_get(dash, "annotations"), "list");
	json_t *a, *t, *targets, *body, *table;
	struct http_resp resp;
	size_t i, found = 0;

	json_array_foreach(annos, i, a)
	{
		if (!is_agentkpi(json_object_get(a, "datasource")))
			continue;
		found++;
		t = json_object_get(a, "target");
		cr_expect(json_is_true(json_object_get(a, "enable")),
			  "annotation '%s' is not enabled", str(a, "name"));
		cr_expect_str_eq(str(t, "target"), "agent_versions",
				 "annotation '%s': target", str(a, "name"));
		cr_expect(metric_find(str(t, "target")),
			  "annotation '%s': '%s' is not listed by POST "
			  "/grafana/metrics",
			  str(a, "name"), str(t, "target"));

		targets = json_pack("[O]", t);
		body = query_body(a, targets);
		json_decref(targets);
		post_json("/grafana/query", body, &resp);
		json_decref(body);
		cr_expect_eq(resp.status, 200,
			     "annotation '%s': /grafana/query answered %ld %s",
			     str(a, "name"), resp.status, resp.body);
		table = json_array_get(resp.json, 0);
		cr_expect(json_is_array(resp.json) &&
			      json_array_size(json_object_get(table, "rows")) ==
				  2,
			  "annotation '%s': want one row per version first "
			  "seen in the range (v1, v2): %s",
			  str(a, "name"), resp.body);
		http_resp_free(&resp);
	}
	cr_expect_eq(found, 1, "want one annotation on agentkpi, found %zu",
		     found);
}

Test(grafana_dashboard, provisioned_datasource_has_the_panels_uid)
{
	char line[512], uid[128] = "", type[128] = "";
	FILE *f = fopen(DATASOURCES, "r");
	char *s, *e;

	cr_assert(f, "cannot open %s", DATASOURCES);
	while (fgets(line, sizeof(line), f)) {
		for (s = line; *s == ' ' || *s == '-'; s++)
			;
		if (strncmp(s, "uid:", 4) == 0)
			sscanf(s + 4, " %127s", uid);
		else if (strncmp(s, "type:", 5) == 0)
			sscanf(s + 5, " %127s", type);
	}
	fclose(f);
	/* Unquote "agentkpi" and 'agentkpi'. */
	for (s = uid; *s == '"' || *s == '\''; s++)
		;
	e = s + strlen(s);
	while (e > s && (e[-1] == '"' || e[-1] == '\''))
		*--e = '\0';
	cr_expect_str_eq(s, DS_UID, "%s: datasource uid", DATASOURCES);
	cr_expect_str_eq(type, PLUGIN, "%s: datasource type", DATASOURCES);
}
