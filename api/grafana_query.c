/* SPDX-License-Identifier: MIT */
/*
 * POST /grafana/query: each target's metric, payload and the ad hoc
 * filters become a KPI query; the engine's time series or scorecard
 * become Grafana series or tables; agent_versions gives annotations.
 */
#include "grafana.h"
#include "app.h"
#include "derive.h"
#include "facts.h"
#include "kpi.h"
#include "store.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARGETS 50
#define MAX_FILTER_VALUES 1000
#define BODY_COUNT_MAX 1e15 /* ms: over 30,000 years */

/* The condition on one key, built up from the payload and ad hoc filters. */
struct fset {
	int nin; /* -1: any */
	const char **in;
	int nout;
	const char **out;
};

struct target {
	int index;
	char field[48]; /* "targets[3]" */
	const struct grafana_metric *m;
	char *metric;
	const char *refid;
	json_t *payload; /* new reference */
	int table;
	const char *stat;
	const char *alias;
	long interval_ms; /* payload's smallest bucket */
	struct fset sets[KPI_KEY_COUNT];
	struct kpi_query q;
};

struct query {
	int64_t from_ms, to_ms;
	long interval_ms;
	long max_points; /* at most KPI_MAX_GROUPS */
	long max_depth;	 /* of a payload sent as a JSON string */
};

static void target_free(struct target *t)
{
	int i;

	for (i = 0; i < KPI_KEY_COUNT; i++) {
		free(t->sets[i].in);
		free(t->sets[i].out);
	}
	free(t->metric);
	json_decref(t->payload);
}

/* -- filters ----------------------------------------------------------- */

static int any_value(const char *v)
{
	return !*v || strcmp(v, "*") == 0 || strcmp(v, "$__all") == 0;
}

static int check_value(const char *field, int key, const char *v,
		       struct err *err)
{
	size_t len = strlen(v);

	if (utf8_len(v, len) > 256)
		return err_set(err, API_ERR_INVALID_PARAM, field,
			       "'%s' values must be 1 to 256 characters",
			       kpi_key_name(key));
	if (key == KPI_KEY_STREAM && !facts_stream_parse(v))
		return err_set(
		    err, API_ERR_INVALID_PARAM, field,
		    "'stream' must be ai_only, hybrid, human_only or "
		    "none, not '%.40s'",
		    v);
	return 0;
}

/* f's values become those also in vals[0..n) (all of them if any). */
static void set_include(struct fset *f, const char **vals, int n)
{
	int i, j, k = 0;

	if (f->nin < 0) {
		f->in = xmalloc((n ? n : 1) * sizeof(*f->in));
		memcpy(f->in, vals, n * sizeof(*vals));
		f->nin = n;
		return;
	}
	for (i = 0; i < f->nin; i++)
		for (j = 0; j < n; j++)
			if (strcmp(f->in[i], vals[j]) == 0) {
				f->in[k++] = f->in[i];
				break;
			}
	f->nin = k;
}

static void set_exclude(struct fset *f, const char *v)
{
	f->out = xrealloc(f->out, (f->nout + 1) * sizeof(*f->out));
	f->out[f->nout++] = v;
}

/* A payload filter: a string or an array of strings, any of them. */
static int payload_filter(struct target *t, int key, json_t *v,
			  const char *field, struct err *err)
{
	const char **vals;
	json_t *item;
	size_t i, n;
	int rc = -1;

	if (json_is_string(v)) {
		if (any_value(json_string_value(v)))
			return 0;
		v = json_pack("[O]", v);
	} else if (json_is_array(v)) {
		json_incref(v);
	} else {
		return err_set(err, API_ERR_INVALID_PARAM, field,
			       "'%s' must be a string or an array of strings",
			       kpi_key_name(key));
	}
	n = json_array_size(v);
	vals = xmalloc((n ? n : 1) * sizeof(*vals));
	if (n > MAX_FILTER_VALUES) {
		err_set(err, API_ERR_INVALID_PARAM, field,
			"'%s' takes at most %d values", kpi_key_name(key),
			MAX_FILTER_VALUES);
		goto out;
	}
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item)) {
			err_set(err, API_ERR_INVALID_PARAM, field,
				"'%s' must be a string or an array of strings",
				kpi_key_name(key));
			goto out;
		}
		vals[i] = json_string_value(item);
		if (any_value(vals[i])) {
			rc = 0; /* "All" among the values: no filter */
			goto out;
		}
		if (check_value(field, key, vals[i], err) < 0)
			goto out;
	}
	if (n)
		set_include(&t->sets[key], vals, (int)n);
	rc = 0;
out:
	free(vals);
	json_decref(v);
	return rc;
}

/* The ad hoc filters [{key, operator, value}], by AND, on target t. */
static int adhoc_filters(struct target *t, json_t *filters, const char *name,
			 struct err *err)
{
	const char *key, *op, *value;
	char field[64];
	json_t *f;
	size_t i;
	int k;

	if (json_is_null(filters))
		return 0;
	if (!json_is_array(filters))
		return err_set(err, API_ERR_INVALID_PARAM, name,
			       "'%s' must be an array of {key, operator, "
			       "value}",
			       name);
	json_array_foreach(filters, i, f)
	{
		snprintf(field, sizeof(field), "%s[%zu]", name, i);
		key = json_string_value(json_object_get(f, "key"));
		op = json_string_value(json_object_get(f, "operator"));
		value = json_string_value(json_object_get(f, "value"));
		if (!key || !op || !value)
			return err_set(err, API_ERR_INVALID_PARAM, field,
				       "an ad hoc filter needs string key, "
				       "operator and value");
		if ((k = kpi_key_parse(key)) < 0)
			return err_set(err, API_ERR_INVALID_PARAM, field,
				       "cannot filter on '%.40s'; use channel, "
				       "topic, customer_tier, language, "
				       "product_area, cohort, agent_version, "
				       "stream or customer_id",
				       key);
		if (check_value(field, k, value, err) < 0)
			return -1;
		if (strcmp(op, "=") == 0)
			set_include(&t->sets[k], &value, 1);
		else if (strcmp(op, "!=") == 0)
			set_exclude(&t->sets[k], value);
		else
			return err_set(err, API_ERR_INVALID_PARAM, field,
				       "the ad hoc filter operator '%.10s' is "
				       "not supported; use = or !=",
				       op);
	}
	return 0;
}

/* -- payload ------------------------------------------------------------ */

static int payload_group_by(struct target *t, json_t *v, const char *field,
			    struct err *err)
{
	char buf[256], *tok, *save = NULL;
	int max = t->table ? KPI_MAX_GROUP_KEYS : 1, k, i;
	json_t *item;
	size_t j;

	buf[0] = '\0';
	if (json_is_string(v) && json_string_length(v) < sizeof(buf)) {
		strcpy(buf, json_string_value(v));
	} else if (json_is_array(v) && json_array_size(v) <= 4) {
		json_array_foreach(v, j, item)
		{
			if (!json_is_string(item) ||
			    strlen(buf) + json_string_length(item) + 2 >
				sizeof(buf))
				goto bad;
			if (j)
				strcat(buf, ",");
			strcat(buf, json_string_value(item));
		}
	} else {
		goto bad;
	}
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if ((k = kpi_key_parse(tok)) < 0)
			return err_set(err, API_ERR_INVALID_PARAM, field,
				       "unknown group key '%.40s'", tok);
		for (i = 0; i < t->q.ngroup; i++)
			if (t->q.group_by[i] == k)
				return err_set(
				    err, API_ERR_INVALID_PARAM, field,
				    "group key '%s' is repeated", tok);
		if (t->q.ngroup == max)
			return err_set(err, API_ERR_INVALID_PARAM, field,
				       "'group_by' takes at most %d key%s %s",
				       max, max > 1 ? "s" : "",
				       t->table ? "in a table"
						: "in a time series (use "
						  "format table for two)");
		t->q.group_by[t->q.ngroup++] = k;
	}
	return 0;
bad:
	return err_set(err, API_ERR_INVALID_PARAM, field,
		       "'group_by' must be a key name such as channel, or an "
		       "array of them");
}

static int payload_window(struct target *t, json_t *v, const char *field,
			  struct err *err)
{
	if (json_is_integer(v) && json_integer_value(v) >= 1 &&
	    json_integer_value(v) <= 720) {
		t->q.window_hours = (long)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) &&
	    strlen(json_string_value(v)) == json_string_length(v) &&
	    kpi_window_parse(json_string_value(v), &t->q.window_hours) == 0)
		return 0;
	return err_set(err, API_ERR_INVALID_PARAM, field,
		       "'window' must be whole hours from 1h to 720h, e.g. "
		       "24h");
}

/* A string payload option (tz, alias, ...) of at most max characters. */
static const char *payload_string(json_t *v, size_t max, const char *field,
				  const char *what, struct err *err)
{
	const char *s = json_string_value(v);

	if (!s || !*s || utf8_len(s, strlen(s)) > max) {
		err_set(err, API_ERR_INVALID_PARAM, field,
			"'%s' must be a string of 1 to %zu characters", what,
			max);
		return NULL;
	}
	return s;
}

static int payload_option(struct target *t, const char *name, json_t *v,
			  const char *field, struct err *err)
{
	const char *s;

	if (strcmp(name, "format") == 0 || strcmp(name, "group_by") == 0)
		return 0; /* read first, in parse_payload */
	if (strcmp(name, "window") == 0)
		return payload_window(t, v, field, err);
	if (strcmp(name, "interval") == 0) {
		s = json_string_value(v);
		if (s && strcmp(s, "auto") == 0)
			t->interval_ms = 0;
		else if (s && strcmp(s, "1h") == 0)
			t->interval_ms = HOUR_MS;
		else if (s && strcmp(s, "1d") == 0)
			t->interval_ms = 24 * HOUR_MS;
		else if (s && strcmp(s, "1w") == 0)
			t->interval_ms = 7 * 24 * HOUR_MS;
		else
			return err_set(err, API_ERR_INVALID_PARAM, field,
				       "'interval' must be auto, 1h, 1d or 1w");
		return 0;
	}
	if (strcmp(name, "tz") == 0) {
		if (!(t->q.tz = payload_string(v, 64, field, "tz", err)))
			return -1;
		if (kpi_tz_valid(t->q.tz))
			return 0;
		return err_set(err, API_ERR_INVALID_PARAM, field,
			       "'tz' must be an IANA time zone such as "
			       "Europe/Berlin");
	}
	if (strcmp(name, "alias") == 0)
		return (t->alias = payload_string(v, 128, field, "alias", err))
			   ? 0
			   : -1;
	if (strcmp(name, "stat") == 0) {
		s = json_string_value(v);
		if (!s || !grafana_list_has(t->m->stats, s))
			return err_set(err, API_ERR_INVALID_PARAM, field,
				       "'stat' of %s must be one of its stats "
				       "(POST /grafana/metric-payload-options "
				       "lists them)",
				       t->m->name);
		t->stat = s;
		return 0;
	}
	if (strcmp(name, "baseline") == 0 &&
	    strcmp(t->m->name, "csat_delta") == 0) {
		s = json_string_value(v);
		if (s && strcmp(s, "human_only") == 0)
			return 0;
		if (s && strncmp(s, "cohort:", 7) == 0 && s[7] &&
		    utf8_len(s + 7, strlen(s + 7)) <= 128) {
			t->q.baseline_cohort = s + 7;
			return 0;
		}
		return err_set(err, API_ERR_INVALID_PARAM, field,
			       "'baseline' must be human_only or cohort:NAME");
	}
	return err_set(err, API_ERR_INVALID_PARAM, field,
		       "unknown payload key '%.40s' for %s; POST "
		       "/grafana/metrics lists the payload options",
		       name, t->m->name);
}

static int parse_payload(struct target *t, struct err *err)
{
	json_t *v, *p = t->payload;
	const char *name, *s;
	char field[128];
	int k;

	snprintf(field, sizeof(field), "%s.payload.format", t->field);
	if ((v = json_object_get(p, "format"))) {
		s = json_string_value(v);
		if (s && strcmp(s, "table") == 0)
			t->table = 1;
		else if (s && strcmp(s, "time_series") == 0)
			t->table = 0;
		else
			return err_set(err, API_ERR_INVALID_PARAM, field,
				       "'format' must be time_series or table");
	}
	snprintf(field, sizeof(field), "%s.payload.group_by", t->field);
	if ((v = json_object_get(p, "group_by")) &&
	    !(json_is_string(v) && !json_string_length(v)) &&
	    payload_group_by(t, v, field, err) < 0)
		return -1;
	json_object_foreach(p, name, v)
	{
		snprintf(field, sizeof(field), "%s.payload.%.40s", t->field,
			 name);
		if ((k = kpi_key_parse(name)) >= 0) {
			if (payload_filter(t, k, v, field, err) < 0)
				return -1;
		} else if (payload_option(t, name, v, field, err) < 0) {
			return -1;
		}
	}
	return 0;
}

/* -- one target ---------------------------------------------------------- */

/* The metric name of a target, regex escapes ("a\_b", "a\.b") undone. */
static char *unescape_target(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/*
 * The payload as an object: a JSON string holding one is parsed, if it
 * nests no deeper than max_depth.
 */
static int target_payload(struct target *t, json_t *jt, long max_depth,
			  struct err *err)
{
	json_t *p = json_object_get(jt, "payload");
	json_error_t jerr;

	if (!p)
		p = json_object_get(jt, "data"); /* plugins before 0.3 */
	if (json_is_string(p) && json_string_length(p) > 0) {
		if (json_text_depth(json_string_value(p),
				    json_string_length(p)) > max_depth)
			return err_set(err, API_ERR_INVALID_PARAM, t->field,
				       "the payload of %s nests arrays and "
				       "objects deeper than %ld levels",
				       t->field, max_depth);
		t->payload = json_loads(json_string_value(p),
					JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(t->payload))
			return err_set(err, API_ERR_INVALID_PARAM, t->field,
				       "the payload of %s is not a JSON object",
				       t->field);
		return 0;
	}
	if (p && !json_is_null(p) && !json_is_object(p) && !json_is_string(p))
		return err_set(err, API_ERR_INVALID_PARAM, t->field,
			       "the payload of %s must be a JSON object",
			       t->field);
	t->payload = json_is_object(p) ? json_incref(p) : json_object();
	return 0;
}

/*
 * Reads target jt; 1 when it is to be skipped (hidden or no metric). The
 * caller sets the query's tenant and range.
 */
static int target_parse(struct target *t, json_t *jt, json_t *top,
			long max_depth, struct err *err)
{
	json_t *target = json_object_get(jt, "target");
	const char *name = json_string_value(target);
	const char *type = json_string_value(json_object_get(jt, "type"));
	json_t *filters;
	int i;

	snprintf(t->field, sizeof(t->field), "targets[%d]", t->index);
	if (!json_is_object(jt))
		return err_set(err, API_ERR_INVALID_PARAM, t->field,
			       "each target must be an object");
	if (target && !json_is_null(target) && !name)
		return err_set(err, API_ERR_INVALID_PARAM, t->field,
			       "the 'target' of %s must be a metric name",
			       t->field);
	if (json_is_true(json_object_get(jt, "hide")) || !name || !*name)
		return 1;
	t->metric = unescape_target(name);
	t->refid = json_string_value(json_object_get(jt, "refId"));
	if (strcmp(t->metric, GRAFANA_ANNOTATIONS) == 0)
		return 0;
	if (!(t->m = grafana_metric_find(t->metric)))
		return err_set(err, API_ERR_INVALID_PARAM, t->field,
			       "unknown metric '%.60s'; POST /grafana/metrics "
			       "lists them",
			       t->metric);
	kpi_query_init(&t->q);
	t->q.window_hours = 24;
	t->q.metric = t->m->name;
	t->stat = t->m->stats[0];
	t->table = type && strcmp(type, "table") == 0; /* SimpleJSON */
	for (i = 0; i < KPI_KEY_COUNT; i++)
		t->sets[i].nin = -1;
	if (target_payload(t, jt, max_depth, err) < 0 ||
	    parse_payload(t, err) < 0)
		return -1;
	if ((filters = json_object_get(top, "filters")) &&
	    adhoc_filters(t, filters, "filters", err) < 0)
		return -1;
	if ((filters = json_object_get(top, "adhocFilters")) &&
	    adhoc_filters(t, filters, "adhocFilters", err) < 0)
		return -1;
	for (i = 0; i < KPI_KEY_COUNT; i++) {
		t->q.filters[i].nin = t->sets[i].nin;
		t->q.filters[i].in = t->sets[i].in;
		t->q.filters[i].nout = t->sets[i].nout;
		t->q.filters[i].out = t->sets[i].out;
	}
	return 0;
}

/* -- shaping ------------------------------------------------------------- */

/* Whether component c of t's metric is shown (the stream filter). */
static int comp_shown(const struct target *t, const char *c)
{
	const struct fset *f = &t->sets[KPI_KEY_STREAM];
	int i;

	if (!c || strcmp(t->m->dim, "stream") != 0 || f->nin < 0)
		return 1;
	for (i = 0; i < f->nin; i++)
		if (strcmp(f->in[i], c) == 0)
			return 1;
	return 0;
}

static json_t *series_name(const struct target *t, const char *comp,
			   const char *gkey, json_t *gval)
{
	char buf[2048]; /* alias, value: at most 128 and 256 code points */
	int n;

	n = snprintf(buf, sizeof(buf), "%s", t->alias ? t->alias : t->m->name);
	if (comp)
		n += snprintf(buf + n, sizeof(buf) - n, " %s", comp);
	if (strcmp(t->stat, t->m->stats[0]) != 0)
		n += snprintf(buf + n, sizeof(buf) - n, " %s", t->stat);
	if (gkey)
		snprintf(buf + n, sizeof(buf) - n, " %s=%s", gkey,
			 json_is_string(gval) ? json_string_value(gval)
					      : "(none)");
	return json_string(buf);
}

/* The Grafana series of one engine series and component. */
static json_t *grafana_series(const struct target *t, const struct query *qr,
			      json_t *s, const char *comp)
{
	const char *gkey = t->q.ngroup ? kpi_key_name(t->q.group_by[0]) : NULL;
	json_t *gval =
	    gkey ? json_object_get(json_object_get(s, "key"), gkey) : NULL;
	json_t *dps = json_array(), *p, *tags;
	int64_t ms;
	size_t i;

	json_array_foreach(json_object_get(s, "points"), i, p)
	{
		if (time_parse_rfc3339(
			json_string_value(json_object_get(p, "t")), &ms) < 0)
			BUG("a time series point without a time");
		if (ms < qr->from_ms)
			ms = qr->from_ms;
		json_array_append_new(
		    dps,
		    json_pack("[o, I]", grafana_pick(t->m, p, comp, t->stat),
			      (json_int_t)ms));
	}
	tags = json_pack("{s:s, s:s}", "metric", t->m->name, "stat", t->stat);
	if (comp)
		json_object_set_new(tags, t->m->dim, json_string(comp));
	if (gkey)
		json_object_set(tags, gkey, gval ? gval : json_null());
	return json_pack("{s:o, s:s?, s:o, s:o, s:s}", "target",
			 series_name(t, comp, gkey, gval), "refId", t->refid,
			 "datapoints", dps, "tags", tags, "unit",
			 grafana_stat_unit(t->m, t->stat));
}

/* Buckets of [from, to) of size len in UTC (one more for another zone). */
static long bucket_count(const struct query *qr, int64_t len, int zoned)
{
	/* 1970-01-01 was a Thursday: weeks start 4 days later */
	int64_t origin = len == 7 * 24 * HOUR_MS ? 4 * 24 * HOUR_MS : 0;
	int64_t start = qr->from_ms - origin;
	int64_t first =
	    (start >= 0 ? start / len : -((-start + len - 1) / len));

	return (long)((qr->to_ms - 1 - origin - first * len) / len + 1 +
		      (zoned ? 1 : 0));
}

/* Picks t's interval: 1h, 1d or 1w, the finest that fits. */
static int choose_interval(struct target *t, const struct query *qr,
			   struct err *err)
{
	static const enum kpi_interval ivs[] = {KPI_1H, KPI_1D, KPI_1W};
	static const int64_t lens[] = {HOUR_MS, 24 * HOUR_MS, 7 * 24 * HOUR_MS};
	size_t i;

	for (i = 0; i < 3; i++) {
		if (lens[i] < qr->interval_ms && i < 2)
			continue;
		if (lens[i] < t->interval_ms)
			continue;
		if (bucket_count(qr, lens[i], t->q.tz != NULL) > qr->max_points)
			continue;
		t->q.interval = ivs[i];
		return 0;
	}
	return err_set(err, API_ERR_INVALID_PARAM, "maxDataPoints",
		       "the range needs more than %ld points even at weekly "
		       "buckets (maxDataPoints); shorten the range",
		       qr->max_points);
}

static int run_series(struct request *req, struct target *t,
		      const struct query *qr, json_t *out, struct err *err)
{
	struct app *app = request_app(req);
	json_t *res, *s;
	const char *const *c;
	size_t i;

	if (choose_interval(t, qr, err) < 0 ||
	    kpi_timeseries(app->db, &t->q, &res, err) < 0)
		return -1;
	json_array_foreach(json_object_get(res, "series"), i, s)
	{
		if (!t->m->comps) {
			json_array_append_new(out,
					      grafana_series(t, qr, s, NULL));
			continue;
		}
		for (c = t->m->comps; *c; c++)
			if (comp_shown(t, *c))
				json_array_append_new(
				    out, grafana_series(t, qr, s, *c));
	}
	json_decref(res);
	return 0;
}

static json_t *column(const char *text, const char *type, const char *unit)
{
	json_t *c = json_pack("{s:s, s:s}", "text", text, "type", type);

	if (unit)
		json_object_set_new(c, "unit", json_string(unit));
	return c;
}

/* The row of one group and component: keys, component, every stat. */
static json_t *table_row(const struct target *t, json_t *group, json_t *v,
			 const char *comp)
{
	json_t *row = json_array(), *key = json_object_get(group, "key");
	const char *const *s;
	int i;

	for (i = 0; i < t->q.ngroup; i++) {
		json_t *gv =
		    json_object_get(key, kpi_key_name(t->q.group_by[i]));

		json_array_append(row, gv ? gv : json_null());
	}
	if (comp)
		json_array_append_new(row, json_string(comp));
	for (s = t->m->stats; *s; s++)
		json_array_append_new(row, grafana_pick(t->m, v, comp, *s));
	return row;
}

static int run_table(struct request *req, struct target *t,
		     const struct query *qr, json_t *out, struct err *err)
{
	struct app *app = request_app(req);
	json_t *res, *cols = json_array(), *rows = json_array(), *g, *v;
	const char *const *s;
	size_t i;
	int k;

	(void)qr;
	t->q.interval = KPI_INTERVAL_NONE;
	t->q.metric = NULL;
	if (kpi_scorecard(app->db, &t->q, &res, err) < 0) {
		json_decref(cols);
		json_decref(rows);
		return -1;
	}
	for (k = 0; k < t->q.ngroup; k++)
		json_array_append_new(
		    cols,
		    column(kpi_key_name(t->q.group_by[k]), "string", NULL));
	if (t->m->comps)
		json_array_append_new(cols, column(t->m->dim, "string", NULL));
	for (s = t->m->stats; *s; s++)
		json_array_append_new(
		    cols, column(*s, "number", grafana_stat_unit(t->m, *s)));
	json_array_foreach(json_object_get(res, "groups"), i, g)
	{
		v = json_object_get(json_object_get(g, "metrics"), t->m->name);
		v = json_is_object(v) ? json_incref(v)
				      : json_pack("{s:O}", "value", v);
		if (!t->m->comps) {
			json_array_append_new(rows, table_row(t, g, v, NULL));
		} else {
			for (s = t->m->comps; *s; s++)
				if (comp_shown(t, *s))
					json_array_append_new(
					    rows, table_row(t, g, v, *s));
		}
		json_decref(v);
	}
	json_decref(res);
	json_array_append_new(out, json_pack("{s:s, s:s?, s:o, s:o}", "type",
					     "table", "refId", t->refid,
					     "columns", cols, "rows", rows));
	return 0;
}

/* agent_versions: a table of the first sighting of each version. */
static int run_annotations(struct request *req, struct target *t,
			   const struct query *qr, json_t *out, struct err *err)
{
	struct app *app = request_app(req);
	json_t *seen, *rows = json_array(), *pair;
	char title[200];
	size_t i;

	if (store_first_seen(app->db, api_auth(req)->tenant_id, "agent_version",
			     qr->from_ms, qr->to_ms, &seen, err) < 0) {
		json_decref(rows);
		return -1;
	}
	json_array_foreach(seen, i, pair)
	{
		snprintf(title, sizeof(title), "agent_version %s",
			 json_string_value(json_array_get(pair, 0)));
		json_array_append_new(
		    rows,
		    json_pack("[O, s, s, s]", json_array_get(pair, 1), title,
			      "first event with this agent_version",
			      "agent_version"));
	}
	json_decref(seen);
	json_array_append_new(
	    out, json_pack("{s:s, s:s?, s:[o, o, o, o], s:o}", "type", "table",
			   "refId", t->refid, "columns",
			   column("time", "time", NULL),
			   column("title", "string", NULL),
			   column("text", "string", NULL),
			   column("tags", "string", NULL), "rows", rows));
	return 0;
}

/* -- the request ---------------------------------------------------------- */

/*
 * A count Grafana sends (intervalMs, maxDataPoints): a number from 0 to
 * BODY_COUNT_MAX into *out, fractions dropped; null counts as 0. -1 when
 * v is anything else.
 */
static int body_count(json_t *v, long *out)
{
	double d = json_number_value(v);

	if (json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_number(v) || !(d >= 0 && d <= BODY_COUNT_MAX))
		return -1;
	*out = (long)d;
	return 0;
}

static int parse_range(json_t *body, struct query *qr, struct err *err)
{
	json_t *range = json_object_get(body, "range"), *v;
	const char *from = json_string_value(json_object_get(range, "from"));
	const char *to = json_string_value(json_object_get(range, "to"));

	if (!from || time_parse_rfc3339(from, &qr->from_ms) < 0)
		return err_set(err, API_ERR_INVALID_PARAM, "range.from",
			       "'range.from' must be an ISO 8601 time such as "
			       "2026-11-21T10:00:00.000Z");
	if (!to || time_parse_rfc3339(to, &qr->to_ms) < 0)
		return err_set(err, API_ERR_INVALID_PARAM, "range.to",
			       "'range.to' must be an ISO 8601 time such as "
			       "2026-11-21T10:00:00.000Z");
	if (qr->from_ms >= qr->to_ms)
		return err_set(err, API_ERR_INVALID_PARAM, "range.from",
			       "'range.from' must be before 'range.to'");
	if ((v = json_object_get(body, "intervalMs")) &&
	    body_count(v, &qr->interval_ms) < 0)
		return err_set(err, API_ERR_INVALID_PARAM, "intervalMs",
			       "'intervalMs' must be a number of milliseconds, "
			       "0 or more");
	if ((v = json_object_get(body, "maxDataPoints")) &&
	    body_count(v, &qr->max_points) < 0)
		return err_set(err, API_ERR_INVALID_PARAM, "maxDataPoints",
			       "'maxDataPoints' must be a number, 0 or more");
	if (qr->max_points <= 0 || qr->max_points > KPI_MAX_GROUPS)
		qr->max_points = KPI_MAX_GROUPS; /* the engine's own cap */
	return 0;
}

/*
 * Reads body's range and targets into qr and ts[0..*n) (MAX_TARGETS
 * slots; free the *n used with target_free, also after a failure). No
 * database: tests/fuzz/fuzz_grafana.c runs this step alone.
 */
static int parse_query(json_t *body, struct target *ts, size_t *n,
		       struct query *qr, struct err *err)
{
	json_t *targets = json_object_get(body, "targets"), *jt;
	size_t i;
	int rc;

	if (!json_is_array(targets))
		return err_set(err, API_ERR_INVALID_PARAM, "targets",
			       "'targets' must be an array");
	if (json_array_size(targets) > MAX_TARGETS)
		return err_set(err, API_ERR_INVALID_PARAM, "targets",
			       "at most %d targets per query", MAX_TARGETS);
	if (json_array_size(targets) && parse_range(body, qr, err) < 0)
		return -1;
	json_array_foreach(targets, i, jt)
	{
		memset(&ts[*n], 0, sizeof(ts[*n]));
		ts[*n].index = (int)i;
		rc = target_parse(&ts[*n], jt, body, qr->max_depth, err);
		if (rc == 1) { /* skipped: its slot is reused */
			target_free(&ts[*n]);
			continue;
		}
		(*n)++;
		if (rc < 0)
			return -1;
	}
	return 0;
}

void api_grafana_query_post(struct request *req)
{
	struct target *ts = xcalloc(MAX_TARGETS, sizeof(*ts));
	struct query qr = {0, 0, 0, 0, 0};
	json_t *body = NULL, *out = json_array();
	struct err err;
	size_t i, n = 0;
	int rc;

	qr.max_depth = ((struct app *)request_app(req))->cfg.max_json_depth;
	if (grafana_body(req, &body, &err) < 0 ||
	    parse_query(body, ts, &n, &qr, &err) < 0)
		goto fail;
	if (n && derive_sync(((struct app *)request_app(req))->db,
			     api_auth(req)->tenant_id, &err) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		ts[i].q.tenant_id = api_auth(req)->tenant_id;
		ts[i].q.from_ms = qr.from_ms;
		ts[i].q.to_ms = qr.to_ms;
		if (!ts[i].m)
			rc = run_annotations(req, &ts[i], &qr, out, &err);
		else if (ts[i].table)
			rc = run_table(req, &ts[i], &qr, out, &err);
		else
			rc = run_series(req, &ts[i], &qr, out, &err);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < n; i++)
		target_free(&ts[i]);
	free(ts);
	json_decref(body);
	grafana_reply(req, out);
	return;
fail:
	for (i = 0; i < n; i++)
		target_free(&ts[i]);
	free(ts);
	json_decref(body);
	json_decref(out);
	reply_error(req, &err);
}
