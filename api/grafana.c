/* SPDX-License-Identifier: MIT */
/*
 * Grafana's JSON datasource, everything but /query: the health check,
 * the metric list with its payload options, variables and ad hoc filter
 * keys and values. How each KPI shows in Grafana is the table below.
 */
#include "grafana.h"
#include "app.h"
#include "kpi.h"
#include "store.h"
#include "util.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const rate_stats[] = {"value",    "num",	  "den",
					 "ci95_low", "ci95_high", NULL};
static const char *const value_stat[] = {"value", NULL};
static const char *const duration_stats[] = {"p50", "p90", "mean", "n", NULL};
static const char *const turns_stats[] = {"mean", "p50", "n", NULL};
static const char *const csat_stats[] = {"mean", "satisfied_rate",
					 "response_rate", "n", NULL};
static const char *const delta_stats[] = {"value", "ci95_low", "ci95_high",
					  NULL};
static const char *const cost_stats[] = {"cost_per_successful_outcome",
					 "cost_per_resolution", NULL};
static const char *const quality_stats[] = {"mean", "n", NULL};

static const char *const streams4[] = {"ai_only", "hybrid", "human_only",
				       "none", NULL};
static const char *const streams3[] = {"ai_only", "hybrid", "human_only", NULL};
static const char *const trajectories[] = {"improved", "worsened", "flat",
					   NULL};
static const char *const reasons[] = {
    "customer_requested", "ai_unable", "policy", "sensitive",
    "authentication",	  "other",     NULL};
static const char *const categories[] = {"knowledge", "reasoning",     "tool",
					 "workflow",  "communication", NULL};

#define RATE(name)                                                             \
	{                                                                      \
		name, rate_stats, "percentunit", NULL, NULL, 0                 \
	}

/* Every metric of kpi_metric_names(); a test checks none is missing. */
static const struct grafana_metric metrics[] = {
    {"conversations", value_stat, "none", NULL, NULL, 0},
    {"by_stream", value_stat, "none", "stream", streams4, 0},
    RATE("involvement_rate"),
    RATE("deflection_rate"),
    RATE("containment_rate"),
    RATE("true_resolution_rate"),
    RATE("confirmed_resolution_rate"),
    RATE("automation_rate"),
    RATE("escalation_rate"),
    RATE("abandonment_rate"),
    RATE("reopen_rate"),
    RATE("fcr_rate"),
    RATE("clarification_rate"),
    RATE("tool_failure_rate"),
    RATE("hallucination_rate"),
    RATE("resolution_accuracy"),
    RATE("escalation_appropriateness"),
    RATE("grading_coverage"),
    {"self_grading_gap", value_stat, "percentunit", NULL, NULL, 0},
    {"time_to_first_response_s", duration_stats, "s", NULL, NULL, 0},
    {"time_to_resolution_s", duration_stats, "s", NULL, NULL, 0},
    {"time_to_escalation_s", duration_stats, "s", NULL, NULL, 0},
    {"turns_per_resolution", turns_stats, "none", NULL, NULL, 0},
    {"csat", csat_stats, "none", "stream", streams3, 0},
    {"csat_delta", delta_stats, "none", NULL, NULL, 0},
    {"sentiment_trajectory", rate_stats, "percentunit", "trajectory",
     trajectories, 0},
    {"cost_per_resolution", value_stat, "currencyUSD", NULL, NULL, 0},
    {"cost_per_successful_outcome", value_stat, "currencyUSD", NULL, NULL, 0},
    {"cost_by_stream", cost_stats, "currencyUSD", "stream", streams4, 0},
    {"escalation_reasons", value_stat, "none", "reason", reasons, 1},
    {"failure_categories", value_stat, "none", "category", categories, 1},
    {"quality_score", quality_stats, "none", NULL, NULL, 0},
};

const struct grafana_metric *grafana_metric_find(const char *name)
{
	size_t i;

	for (i = 0; i < N(metrics); i++)
		if (strcmp(metrics[i].name, name) == 0)
			return &metrics[i];
	return NULL;
}

int grafana_list_has(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

const char *grafana_stat_unit(const struct grafana_metric *m, const char *stat)
{
	static const char *const counts[] = {"num", "den", "n", NULL};
	static const char *const rates[] = {"satisfied_rate", "response_rate",
					    NULL};

	if (grafana_list_has(counts, stat))
		return "none";
	if (grafana_list_has(rates, stat))
		return "percentunit";
	return m->unit;
}

json_t *grafana_pick(const struct grafana_metric *m, json_t *v,
		     const char *comp, const char *stat)
{
	json_t *x = v;

	if (comp) {
		x = json_object_get(v, comp);
		if (!x)
			return m->missing_is_zero ? json_integer(0)
						  : json_null();
	}
	if (json_is_object(x)) {
		if (strcmp(stat, "ci95_low") == 0 ||
		    strcmp(stat, "ci95_high") == 0)
			x = json_array_get(json_object_get(x, "ci95"),
					   stat[5] == 'l' ? 0 : 1);
		else
			x = json_object_get(x, stat);
		if (json_is_object(x))
			x = json_object_get(x, "value");
	}
	return json_is_number(x) ? json_incref(x) : json_null();
}

/* -- bodies and replies ------------------------------------------------ */

int grafana_body(struct request *req, json_t **out, struct err *err)
{
	long max_depth = ((struct app *)request_app(req))->cfg.max_json_depth;
	json_error_t jerr;
	size_t len;
	const char *body = request_body(req, &len);
	json_t *j;

	*out = NULL;
	if (len == 0) {
		*out = json_object();
		return 0;
	}
	if (json_text_depth(body, len) > max_depth)
		return err_set(err, API_ERR_INVALID_JSON, "body",
			       "the body nests arrays and objects deeper than "
			       "%ld levels",
			       max_depth);
	if (!(j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)))
		return err_set(err, API_ERR_INVALID_JSON, "body",
			       "the body is not JSON: %s (line %d)", jerr.text,
			       jerr.line);
	if (!json_is_object(j)) {
		json_decref(j);
		return err_set(err, API_ERR_INVALID_JSON, "body",
			       "the body must be a JSON object");
	}
	*out = j;
	return 0;
}

void grafana_reply(struct request *req, json_t *arr)
{
	reply_json(req, 200, arr);
}

/* -- the metric list ----------------------------------------------------- */

static json_t *options_of(const char *const *values)
{
	json_t *a = json_array();

	for (; *values; values++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "value",
						   *values, "label", *values));
	return a;
}

static const char *const formats[] = {"time_series", "table", NULL};
static const char *const intervals[] = {"auto", "1h", "1d", "1w", NULL};

static json_t *key_names_list(void)
{
	static const char *names[KPI_KEY_COUNT + 1];
	int i;

	for (i = 0; i < KPI_KEY_COUNT; i++)
		names[i] = kpi_key_name(i);
	names[KPI_KEY_COUNT] = NULL;
	return options_of(names);
}

static json_t *payloads_of(const struct grafana_metric *m)
{
	json_t *p = json_array();
	int i;

	for (i = 0; i < KPI_KEY_COUNT; i++) {
		if (i == KPI_KEY_CUSTOMER_ID)
			json_array_append_new(
			    p, json_pack("{s:s, s:s, s:s}", "name",
					 kpi_key_name(i), "type", "input",
					 "placeholder", "a customer id"));
		else if (i == KPI_KEY_STREAM)
			json_array_append_new(
			    p, json_pack("{s:s, s:s, s:o}", "name", "stream",
					 "type", "multi-select", "options",
					 options_of(streams4)));
		else
			json_array_append_new(
			    p, json_pack("{s:s, s:s}", "name", kpi_key_name(i),
					 "type", "multi-select"));
	}
	json_array_append_new(p, json_pack("{s:s, s:s, s:o}", "name",
					   "group_by", "type", "select",
					   "options", key_names_list()));
	json_array_append_new(p,
			      json_pack("{s:s, s:s, s:s}", "name", "window",
					"type", "input", "placeholder", "24h"));
	json_array_append_new(p, json_pack("{s:s, s:s, s:o}", "name", "format",
					   "type", "select", "options",
					   options_of(formats)));
	json_array_append_new(p, json_pack("{s:s, s:s, s:o}", "name",
					   "interval", "type", "select",
					   "options", options_of(intervals)));
	json_array_append_new(p,
			      json_pack("{s:s, s:s, s:s}", "name", "tz", "type",
					"input", "placeholder", "UTC"));
	json_array_append_new(
	    p, json_pack("{s:s, s:s}", "name", "alias", "type", "input"));
	if (m->stats[1])
		json_array_append_new(
		    p, json_pack("{s:s, s:s, s:o}", "name", "stat", "type",
				 "select", "options", options_of(m->stats)));
	if (strcmp(m->name, "csat_delta") == 0)
		json_array_append_new(
		    p, json_pack("{s:s, s:s, s:s}", "name", "baseline", "type",
				 "input", "placeholder",
				 "human_only or cohort:NAME"));
	return p;
}

void api_grafana_health_get(struct request *req)
{
	reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/*
 * For routes that read nothing of the body: 0 when it is empty or a JSON
 * object; otherwise replies with the 400 and returns -1.
 */
static int body_ignored(struct request *req)
{
	json_t *body;
	struct err err;

	if (grafana_body(req, &body, &err) < 0) {
		reply_error(req, &err);
		return -1;
	}
	json_decref(body);
	return 0;
}

void api_grafana_metrics_post(struct request *req)
{
	json_t *out;
	size_t i;

	if (body_ignored(req) < 0)
		return;
	out = json_array();
	for (i = 0; i < N(metrics); i++)
		json_array_append_new(
		    out, json_pack("{s:s, s:s, s:o}", "value", metrics[i].name,
				   "label", metrics[i].name, "payloads",
				   payloads_of(&metrics[i])));
	json_array_append_new(out, json_pack("{s:s, s:s, s:[]}", "value",
					     GRAFANA_ANNOTATIONS, "label",
					     "agent_version releases "
					     "(annotations)",
					     "payloads"));
	grafana_reply(req, out);
}

/* -- values of a key --------------------------------------------------- */

/*
 * The values answered for a variable or tag query q: the values seen of
 * a segment key or agent_version, the streams, the metric or key names.
 * A new array of strings in *out; 1 when q is none of these; -1 on error.
 */
static int values_of(struct request *req, const char *q, json_t **out,
		     struct err *err)
{
	struct app *app = request_app(req);
	const char *const *names;
	size_t i, n;
	int k = kpi_key_parse(q);

	*out = NULL;
	if (k >= 0 && k != KPI_KEY_STREAM && k != KPI_KEY_CUSTOMER_ID)
		return store_dimension_values(app->db, api_auth(req)->tenant_id,
					      q, out, err);
	*out = json_array();
	if (k == KPI_KEY_STREAM) {
		for (names = streams4; *names; names++)
			json_array_append_new(*out, json_string(*names));
	} else if (strcmp(q, "metrics") == 0) {
		names = kpi_metric_names(&n);
		for (i = 0; i < n; i++)
			json_array_append_new(*out, json_string(names[i]));
	} else if (strcmp(q, "group_keys") == 0) {
		for (k = 0; k < KPI_KEY_COUNT; k++)
			json_array_append_new(*out,
					      json_string(kpi_key_name(k)));
	} else {
		json_decref(*out);
		*out = NULL;
		return 1;
	}
	return 0;
}

/* Maps each string of values through fmt ("{s:s, s:s}" with it twice). */
static json_t *each_as(json_t *values, const char *k1, const char *k2)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(values, i, v)
	{
		if (k2)
			json_array_append_new(
			    out, json_pack("{s:O, s:O}", k1, v, k2, v));
		else
			json_array_append_new(out, json_pack("{s:O}", k1, v));
	}
	return out;
}

void api_grafana_search_post(struct request *req)
{
	json_t *body, *values = NULL, *t;
	struct err err;
	size_t i, n;
	const char *const *names;
	int rc = 1;

	if (grafana_body(req, &body, &err) < 0) {
		reply_error(req, &err);
		return;
	}
	t = json_object_get(body, "target");
	if (json_is_string(t) &&
	    (rc = values_of(req, json_string_value(t), &values, &err)) < 0) {
		json_decref(body);
		reply_error(req, &err);
		return;
	}
	json_decref(body);
	if (rc == 1) { /* the metric list, as plugins before 0.6 ask it */
		values = json_array();
		names = kpi_metric_names(&n);
		for (i = 0; i < n; i++)
			json_array_append_new(values, json_string(names[i]));
		json_array_append_new(values, json_string(GRAFANA_ANNOTATIONS));
	}
	grafana_reply(req, values);
}

void api_grafana_variable_post(struct request *req)
{
	json_t *body, *payload, *values = NULL;
	const char *q;
	struct err err;
	int rc;

	if (grafana_body(req, &body, &err) < 0)
		goto fail;
	payload = json_object_get(body, "payload");
	q = json_string_value(json_object_get(payload, "target"));
	if (!q)
		q = json_string_value(payload);
	if (!q) {
		json_decref(body);
		err_set(&err, API_ERR_INVALID_PARAM, "payload.target",
			"the variable's query must name a key, e.g. channel");
		goto fail;
	}
	rc = values_of(req, q, &values, &err);
	if (rc == 1)
		err_set(&err, API_ERR_INVALID_PARAM, "payload.target",
			"cannot list '%.60s'; use channel, topic, "
			"customer_tier, language, product_area, cohort, "
			"agent_version, stream, metrics or group_keys",
			q);
	json_decref(body);
	if (rc != 0)
		goto fail;
	grafana_reply(req, each_as(values, "__text", "__value"));
	json_decref(values);
	return;
fail:
	reply_error(req, &err);
}

void api_grafana_tag_keys_post(struct request *req)
{
	json_t *out;
	int k;

	if (body_ignored(req) < 0)
		return;
	out = json_array();
	for (k = 0; k < KPI_KEY_COUNT; k++)
		json_array_append_new(out,
				      json_pack("{s:s, s:s}", "type", "string",
						"text", kpi_key_name(k)));
	grafana_reply(req, out);
}

/* Values of filter key name for tags and payload options ([] if none). */
static int filter_values(struct request *req, const char *name, json_t **out,
			 struct err *err)
{
	int k = kpi_key_parse(name);

	if (k < 0 || k == KPI_KEY_CUSTOMER_ID) {
		*out = json_array();
		return 0;
	}
	return values_of(req, name, out, err) < 0 ? -1 : 0;
}

void api_grafana_tag_values_post(struct request *req)
{
	json_t *body, *values;
	const char *key;
	struct err err;

	if (grafana_body(req, &body, &err) < 0) {
		reply_error(req, &err);
		return;
	}
	key = json_string_value(json_object_get(body, "key"));
	if (filter_values(req, key ? key : "", &values, &err) < 0) {
		json_decref(body);
		reply_error(req, &err);
		return;
	}
	json_decref(body);
	grafana_reply(req, each_as(values, "text", NULL));
	json_decref(values);
}

void api_grafana_payload_options_post(struct request *req)
{
	const struct grafana_metric *m;
	json_t *body, *values = NULL, *out;
	const char *name, *metric;
	struct err err;

	if (grafana_body(req, &body, &err) < 0) {
		reply_error(req, &err);
		return;
	}
	name = json_string_value(json_object_get(body, "name"));
	metric = json_string_value(json_object_get(body, "metric"));
	m = metric ? grafana_metric_find(metric) : NULL;
	if (!name) {
		out = json_array();
	} else if (strcmp(name, "group_by") == 0) {
		out = key_names_list();
	} else if (strcmp(name, "format") == 0) {
		out = options_of(formats);
	} else if (strcmp(name, "interval") == 0) {
		out = options_of(intervals);
	} else if (strcmp(name, "stat") == 0) {
		out = m ? options_of(m->stats) : json_array();
	} else if (filter_values(req, name, &values, &err) < 0) {
		json_decref(body);
		reply_error(req, &err);
		return;
	} else {
		out = each_as(values, "value", "label");
		json_decref(values);
	}
	json_decref(body);
	grafana_reply(req, out);
}
