/* SPDX-License-Identifier: MIT */
/*
 * GET /v1/kpis (the scorecard) and GET /v1/kpis/timeseries (one metric
 * per time bucket): query-string validation, each problem naming the
 * parameter, then the KPI engine.
 */
#include "api.h"
#include "app.h"
#include "derive.h"
#include "facts.h"
#include "kpi.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RANGE_MS (7LL * 24 * 3600 * 1000)

struct param_check {
	bool timeseries;
	struct err *err;
};

static const char *const common_params[] = {"from", "to",	"window",
					    "tz",   "group_by", "baseline"};

static int check_param(void *arg, const char *key, const char *value)
{
	struct param_check *pc = arg;
	size_t i;

	(void)value;
	for (i = 0; i < sizeof(common_params) / sizeof(common_params[0]); i++)
		if (strcmp(key, common_params[i]) == 0)
			return 0;
	if (kpi_key_parse(key) >= 0)
		return 0;
	if (pc->timeseries &&
	    (strcmp(key, "metric") == 0 || strcmp(key, "interval") == 0))
		return 0;
	err_set(pc->err, API_ERR_INVALID_PARAM, key,
		"unknown parameter '%.40s'; filters and group keys are "
		"channel, topic, customer_tier, language, product_area, "
		"cohort, agent_version, stream, customer_id",
		key);
	return 1;
}

static int parse_time(struct request *req, const char *key, int64_t *ms,
		      struct err *err)
{
	const char *v = request_query(req, key);

	if (!v)
		return 0;
	if (time_parse_rfc3339(v, ms) < 0)
		return err_set(err, API_ERR_INVALID_PARAM, key,
			       "cannot parse '%s' as an RFC 3339 time with "
			       "offset, e.g. 2026-11-21T10:00:00Z",
			       key);
	return 1;
}

static int parse_range(struct request *req, struct kpi_query *q,
		       struct err *err)
{
	int has_from, has_to;

	q->to_ms = time_now_ms();
	if ((has_to = parse_time(req, "to", &q->to_ms, err)) < 0 ||
	    (has_from = parse_time(req, "from", &q->from_ms, err)) < 0)
		return -1;
	if (!has_from)
		q->from_ms = q->to_ms - DEFAULT_RANGE_MS;
	if (q->from_ms >= q->to_ms)
		return err_set(err, API_ERR_INVALID_PARAM, "from",
			       "'from' must be before 'to'");
	return 0;
}

static int parse_window(struct request *req, struct kpi_query *q,
			struct err *err)
{
	const char *v = request_query(req, "window");

	q->window_hours = 24;
	if (v && kpi_window_parse(v, &q->window_hours) < 0)
		return err_set(err, API_ERR_INVALID_PARAM, "window",
			       "'window' must be whole hours from 1h to 720h, "
			       "e.g. 24h");
	return 0;
}

static int parse_group_by(struct request *req, struct kpi_query *q, int max,
			  struct err *err)
{
	const char *v = request_query(req, "group_by"), *tok, *end;
	char name[64];
	size_t n;
	int k, i;

	q->ngroup = 0;
	if (!v)
		return 0;
	for (tok = v;; tok = end + 1) {
		end = tok + strcspn(tok, ",");
		n = (size_t)(end - tok);
		/* "", ",", "channel," and "a,,b" name an empty key */
		if (n == 0)
			return err_set(err, API_ERR_INVALID_PARAM, "group_by",
				       "'group_by' must name 1 to %d keys "
				       "separated by commas",
				       max);
		snprintf(name, sizeof(name), "%.*s", (int)n, tok);
		if (n >= sizeof(name) || (k = kpi_key_parse(name)) < 0)
			return err_set(err, API_ERR_INVALID_PARAM, "group_by",
				       "unknown group key '%.40s'; use "
				       "channel, topic, customer_tier, "
				       "language, product_area, cohort, "
				       "agent_version, stream or customer_id",
				       name);
		for (i = 0; i < q->ngroup; i++)
			if (q->group_by[i] == k)
				return err_set(
				    err, API_ERR_INVALID_PARAM, "group_by",
				    "group key '%s' is repeated", name);
		if (q->ngroup == max)
			return err_set(err, API_ERR_INVALID_PARAM, "group_by",
				       "'group_by' takes at most %d key%s", max,
				       max > 1 ? "s" : "");
		q->group_by[q->ngroup++] = k;
		if (!*end)
			return 0;
	}
}

/* values[] keeps each filter's one value alive for q->filters[].in. */
static int parse_filters(struct request *req, struct kpi_query *q,
			 const char *values[KPI_KEY_COUNT], struct err *err)
{
	const char *v;
	size_t len;
	int i;

	for (i = 0; i < KPI_KEY_COUNT; i++) {
		values[i] = v = request_query(req, kpi_key_name(i));
		if (!v)
			continue;
		len = strlen(v);
		if (len == 0 || utf8_len(v, len) > 256 || !utf8_valid(v, len))
			return err_set(err, API_ERR_INVALID_PARAM,
				       kpi_key_name(i),
				       "'%s' must be 1 to 256 characters",
				       kpi_key_name(i));
		q->filters[i].in = &values[i];
		q->filters[i].nin = 1;
	}
	v = values[KPI_KEY_STREAM];
	if (v && !facts_stream_parse(v))
		return err_set(err, API_ERR_INVALID_PARAM, "stream",
			       "'stream' must be ai_only, hybrid, human_only "
			       "or none");
	return 0;
}

static int parse_baseline(struct request *req, struct kpi_query *q,
			  struct err *err)
{
	const char *v = request_query(req, "baseline");

	q->baseline_cohort = NULL;
	if (!v || strcmp(v, "human_only") == 0)
		return 0;
	if (strncmp(v, "cohort:", 7) == 0 && v[7] &&
	    utf8_valid(v + 7, strlen(v + 7)) &&
	    utf8_len(v + 7, strlen(v + 7)) <= 128) {
		q->baseline_cohort = v + 7;
		return 0;
	}
	return err_set(err, API_ERR_INVALID_PARAM, "baseline",
		       "'baseline' must be human_only or cohort:NAME");
}

static int parse_common(struct request *req, struct kpi_query *q,
			const char *values[KPI_KEY_COUNT], bool timeseries,
			struct err *err)
{
	struct param_check pc = {timeseries, err};
	const char *tz = request_query(req, "tz");

	kpi_query_init(q);
	q->tenant_id = api_auth(req)->tenant_id;
	if (request_query_each(req, check_param, &pc))
		return -1;
	if (tz && !kpi_tz_valid(tz))
		return err_set(err, API_ERR_INVALID_PARAM, "tz",
			       "'tz' must be an IANA time zone such as "
			       "Europe/Berlin");
	q->tz = tz;
	if (parse_range(req, q, err) < 0 || parse_window(req, q, err) < 0 ||
	    parse_group_by(req, q, timeseries ? 1 : KPI_MAX_GROUP_KEYS, err) <
		0 ||
	    parse_filters(req, q, values, err) < 0 ||
	    parse_baseline(req, q, err) < 0)
		return -1;
	return 0;
}

void api_kpis_get(struct request *req)
{
	struct app *app = request_app(req);
	const char *values[KPI_KEY_COUNT];
	struct kpi_query q;
	json_t *out;
	struct err err;

	if (parse_common(req, &q, values, false, &err) < 0 ||
	    derive_sync(app->db, q.tenant_id, &err) < 0 ||
	    kpi_scorecard(app->db, &q, &out, &err) < 0) {
		reply_error(req, &err);
		return;
	}
	reply_json(req, 200, out);
}

static int parse_series(struct request *req, struct kpi_query *q,
			struct err *err)
{
	const char *interval = request_query(req, "interval");

	q->metric = request_query(req, "metric");
	if (!q->metric)
		return err_set(err, API_ERR_INVALID_PARAM, "metric",
			       "'metric' is required, e.g. "
			       "metric=true_resolution_rate");
	if (!kpi_metric_known(q->metric))
		return err_set(err, API_ERR_INVALID_PARAM, "metric",
			       "unknown metric '%.60s'; see GET /v1/kpis for "
			       "the metric keys",
			       q->metric);
	if (!interval || strcmp(interval, "1d") == 0)
		q->interval = KPI_1D;
	else if (strcmp(interval, "1h") == 0)
		q->interval = KPI_1H;
	else if (strcmp(interval, "1w") == 0)
		q->interval = KPI_1W;
	else
		return err_set(err, API_ERR_INVALID_PARAM, "interval",
			       "'interval' must be 1h, 1d or 1w");
	return 0;
}

void api_kpis_timeseries_get(struct request *req)
{
	struct app *app = request_app(req);
	const char *values[KPI_KEY_COUNT];
	struct kpi_query q;
	json_t *out;
	struct err err;

	if (parse_common(req, &q, values, true, &err) < 0 ||
	    parse_series(req, &q, &err) < 0 ||
	    derive_sync(app->db, q.tenant_id, &err) < 0 ||
	    kpi_timeseries(app->db, &q, &out, &err) < 0) {
		reply_error(req, &err);
		return;
	}
	reply_json(req, 200, out);
}
