/* SPDX-License-Identifier: MIT */
/*
 * KPI queries and their JSON: kpi_agg.c aggregates per (bucket, group);
 * this file turns each aggregate into the metrics object of
 * metrics-spec section 3 (rates with Wilson intervals, durations, CSAT
 * per stream with the Welch delta, costs) and lays out groups or series.
 */
#include "kpi.h"
#include "kpi_agg.h"
#include "stats.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const key_names[KPI_KEY_COUNT] = {
    "channel", "topic",		"customer_tier", "language",	"product_area",
    "cohort",  "agent_version", "stream",	 "customer_id",
};

static const char *const streams[] = {"ai_only", "hybrid", "human_only",
				      "none"};

static const char *const metric_names[] = {
    "conversations",
    "by_stream",
    "involvement_rate",
    "deflection_rate",
    "containment_rate",
    "true_resolution_rate",
    "confirmed_resolution_rate",
    "automation_rate",
    "escalation_rate",
    "abandonment_rate",
    "reopen_rate",
    "fcr_rate",
    "clarification_rate",
    "tool_failure_rate",
    "hallucination_rate",
    "resolution_accuracy",
    "escalation_appropriateness",
    "grading_coverage",
    "self_grading_gap",
    "time_to_first_response_s",
    "time_to_resolution_s",
    "time_to_escalation_s",
    "turns_per_resolution",
    "csat",
    "csat_delta",
    "sentiment_trajectory",
    "cost_per_resolution",
    "cost_per_successful_outcome",
    "cost_by_stream",
    "escalation_reasons",
    "failure_categories",
    "quality_score",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *kpi_key_name(enum kpi_key k)
{
	return key_names[k];
}

int kpi_key_parse(const char *name)
{
	size_t i;

	for (i = 0; i < N(key_names); i++)
		if (strcmp(name, key_names[i]) == 0)
			return (int)i;
	return -1;
}

void kpi_query_init(struct kpi_query *q)
{
	int i;

	memset(q, 0, sizeof(*q));
	for (i = 0; i < KPI_KEY_COUNT; i++)
		q->filters[i].nin = -1;
}

const char *const *kpi_metric_names(size_t *n)
{
	*n = N(metric_names);
	return metric_names;
}

int kpi_metric_known(const char *name)
{
	size_t i;

	for (i = 0; i < N(metric_names); i++)
		if (strcmp(name, metric_names[i]) == 0)
			return 1;
	return 0;
}

int kpi_window_parse(const char *s, long *hours)
{
	size_t n = strspn(s, "0123456789");
	long h = 0;

	if (n == 0 || n > 4 || (s[n] && strcmp(s + n, "h") != 0))
		return -1;
	while (n--)
		h = h * 10 + (*s++ - '0');
	if (h < 1 || h > 720)
		return -1;
	*hours = h;
	return 0;
}

int kpi_tz_valid(const char *tz)
{
	static const char part[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "abcdefghijklmnopqrstuvwxyz0123456789_+-";
	size_t n = strlen(tz), k;

	if (n == 0 || n > 64 || !isalpha((unsigned char)tz[0]))
		return 0;
	for (;;) {
		k = strspn(tz, part);
		if (k == 0)
			return 0;
		tz += k;
		if (!*tz)
			return 1;
		if (*tz++ != '/')
			return 0;
	}
}

/* -- reading one aggregate (g NULL: an empty group) -------------------- */

struct agg {
	const struct kpi_group *g;
};

static long count(const struct agg *a, int col)
{
	return a->g && !isnan(a->g->v[col]) ? (long)llround(a->g->v[col]) : 0;
}

static double real(const struct agg *a, int col)
{
	return a->g ? a->g->v[col] : NAN;
}

static json_t *num_or_null(double d)
{
	return isnan(d) || isinf(d) ? json_null() : json_real(d);
}

/* {"value", "num", "den", "ci95"}: value and ci95 null when den is 0. */
static json_t *rate(long num, long den)
{
	double lo, hi;

	if (den <= 0 || stats_wilson(num, den, STATS_Z95, &lo, &hi) < 0)
		return json_pack("{s:n, s:I, s:I, s:n}", "value", "num",
				 (json_int_t)num, "den", (json_int_t)den,
				 "ci95");
	return json_pack("{s:f, s:I, s:I, s:[f, f]}", "value",
			 (double)num / den, "num", (json_int_t)num, "den",
			 (json_int_t)den, "ci95", lo, hi);
}

static double rate_value(long num, long den)
{
	return den > 0 ? (double)num / den : NAN;
}

/* {"p50", "p90", "mean", "n"} of the duration whose _PCT column is col. */
static json_t *duration(const struct agg *a, int pct_col)
{
	long n = count(a, pct_col + 2);
	double p50 = a->g && n ? a->g->pct[pct_col][0] : NAN;
	double p90 = a->g && n ? a->g->pct[pct_col][1] : NAN;

	return json_pack("{s:o, s:o, s:o, s:I}", "p50", num_or_null(p50), "p90",
			 num_or_null(p90), "mean",
			 num_or_null(n ? real(a, pct_col + 1) : NAN), "n",
			 (json_int_t)n);
}

/* A duration with its by_stream figures; first is the _ALL_PCT column. */
static json_t *duration_by_stream(const struct agg *a, int first)
{
	json_t *d = duration(a, first), *by = json_object();
	size_t i;

	for (i = 0; i < N(streams); i++)
		json_object_set_new(by, streams[i],
				    duration(a, first + 3 * (int)(i + 1)));
	json_object_set_new(d, "by_stream", by);
	return d;
}

/* {"n", "mean", "satisfied_rate", "response_rate"} of one stream. */
static json_t *csat_stream(const struct agg *a, int first, long stream_n)
{
	long answered = count(a, first);

	return json_pack("{s:I, s:o, s:o, s:o}", "n", (json_int_t)answered,
			 "mean",
			 num_or_null(answered ? real(a, first + 1) : NAN),
			 "satisfied_rate", rate(count(a, first + 2), answered),
			 "response_rate", rate(answered, stream_n));
}

static json_t *csat_delta(const struct agg *a, const char *baseline)
{
	double diff, lo, hi;

	if (stats_welch(real(a, K_DELTA_T_MEAN), real(a, K_DELTA_T_VAR),
			count(a, K_DELTA_T_N), real(a, K_DELTA_B_MEAN),
			real(a, K_DELTA_B_VAR), count(a, K_DELTA_B_N), 0.95,
			&diff, &lo, &hi) < 0)
		return json_pack("{s:n, s:n, s:s}", "value", "ci95", "baseline",
				 baseline);
	return json_pack("{s:f, s:[f, f], s:s}", "value", diff, "ci95", lo, hi,
			 "baseline", baseline);
}

static json_t *plain_ratio(double num, long den)
{
	return den > 0 ? json_real(num / den) : json_null();
}

/* {"cost_per_resolution", "cost_per_successful_outcome"} of a scope. */
static json_t *costs(const struct agg *a, int first)
{
	double sum = real(a, first);

	if (isnan(sum))
		sum = 0;
	return json_pack("{s:o, s:o}", "cost_per_resolution",
			 plain_ratio(sum, count(a, first + 1)),
			 "cost_per_successful_outcome",
			 plain_ratio(sum, count(a, first + 2)));
}

/* Counts per name, leaving out the zeros. */
static json_t *nonzero_counts(const struct agg *a, int first,
			      const char *const *names, int n)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < n; i++)
		if (count(a, first + i) > 0)
			json_object_set_new(o, names[i],
					    json_integer(count(a, first + i)));
	return o;
}

/* The rates of metrics-spec section 3: name, numerator, denominator. */
static const struct {
	const char *name;
	int num, den;
} rates[] = {
    {"involvement_rate", K_A, K_N},
    {"deflection_rate", K_AI_ONLY, K_A},
    {"containment_rate", K_CONTAINED, K_A},
    {"true_resolution_rate", K_TRUE_RESOLVED, K_A},
    {"confirmed_resolution_rate", K_CONFIRMED, K_A},
    {"automation_rate", K_CONTAINED, K_N},
    {"escalation_rate", K_A_ESCALATED, K_A},
    {"abandonment_rate", K_ABANDONED, K_N},
    {"reopen_rate", K_REOPENED, K_EVER_RESOLVED},
    {"fcr_rate", K_FCR, K_EVER_RESOLVED},
    {"clarification_rate", K_CLARIFIED, K_N},
    {"tool_failure_rate", K_TOOL_FAILURES, K_TOOL_CALLS},
    {"hallucination_rate", K_A_GRADED_HALLUC, K_A_GRADED},
    {"resolution_accuracy", K_ACCURATE, K_ACCURACY_DEN},
    {"escalation_appropriateness", K_ESC_APPROPRIATE, K_ESC_APPROPRIATE_DEN},
    {"grading_coverage", K_A_GRADED, K_A},
};

static void add_rates(json_t *m, const struct agg *a)
{
	long ai = count(a, K_A);
	size_t i;

	for (i = 0; i < N(rates); i++)
		json_object_set_new(
		    m, rates[i].name,
		    rate(count(a, rates[i].num), count(a, rates[i].den)));
	json_object_set_new(
	    m, "self_grading_gap",
	    num_or_null(rate_value(count(a, K_CONTAINED), ai) -
			rate_value(count(a, K_TRUE_RESOLVED), ai)));
}

static json_t *metrics(const struct agg *a, const char *baseline)
{
	static const char *const reasons[] = {
	    "customer_requested", "ai_unable",	    "policy",
	    "sensitive",	  "authentication", "other",
	};
	static const char *const failures[] = {
	    "knowledge", "reasoning", "tool", "workflow", "communication",
	};
	long both = count(a, K_SENT_BOTH);
	long improved = count(a, K_SENT_IMPROVED);
	long worsened = count(a, K_SENT_WORSENED);
	json_t *m = json_object(), *o;
	size_t i;

	json_object_set_new(m, "conversations", json_integer(count(a, K_N)));
	json_object_set_new(m, "by_stream",
			    json_pack("{s:I, s:I, s:I, s:I}", "ai_only",
				      (json_int_t)count(a, K_AI_ONLY), "hybrid",
				      (json_int_t)count(a, K_HYBRID),
				      "human_only",
				      (json_int_t)count(a, K_HUMAN_ONLY),
				      "none", (json_int_t)count(a, K_NONE)));
	add_rates(m, a);
	json_object_set_new(m, "time_to_first_response_s",
			    duration_by_stream(a, K_TTFR_ALL_PCT));
	json_object_set_new(m, "time_to_resolution_s",
			    duration_by_stream(a, K_TTR_ALL_PCT));
	json_object_set_new(m, "time_to_escalation_s",
			    duration_by_stream(a, K_TTE_ALL_PCT));
	json_object_set_new(m, "turns_per_resolution",
			    json_pack("{s:o, s:o, s:I}", "mean",
				      num_or_null(real(a, K_TURNS_MEAN)), "p50",
				      num_or_null(real(a, K_TURNS_P50)), "n",
				      (json_int_t)count(a, K_TURNS_N)));
	json_object_set_new(
	    m, "csat",
	    json_pack(
		"{s:o, s:o, s:o}", "ai_only",
		csat_stream(a, K_CSAT_AI_ONLY_N, count(a, K_AI_ONLY)), "hybrid",
		csat_stream(a, K_CSAT_HYBRID_N, count(a, K_HYBRID)),
		"human_only",
		csat_stream(a, K_CSAT_HUMAN_ONLY_N, count(a, K_HUMAN_ONLY))));
	json_object_set_new(m, "csat_delta", csat_delta(a, baseline));
	json_object_set_new(m, "sentiment_trajectory",
			    json_pack("{s:o, s:o, s:o}", "improved",
				      rate(improved, both), "worsened",
				      rate(worsened, both), "flat",
				      rate(both - improved - worsened, both)));
	o = costs(a, K_COST_ALL_SUM);
	json_object_update(m, o);
	json_decref(o);
	o = json_object();
	for (i = 0; i < N(streams); i++)
		json_object_set_new(o, streams[i],
				    costs(a, K_COST_AI_ONLY_SUM + 3 * (int)i));
	json_object_set_new(m, "cost_by_stream", o);
	json_object_set_new(m, "escalation_reasons",
			    nonzero_counts(a, K_REASON_CUSTOMER_REQUESTED,
					   reasons, (int)N(reasons)));
	json_object_set_new(
	    m, "failure_categories",
	    nonzero_counts(a, K_FAIL_KNOWLEDGE, failures, (int)N(failures)));
	json_object_set_new(m, "quality_score",
			    json_pack("{s:o, s:I}", "mean",
				      num_or_null(real(a, K_QUALITY_MEAN)), "n",
				      (json_int_t)count(a, K_QUALITY_N)));
	return m;
}

/* -- running the query ------------------------------------------------- */

static const char *const interval_names[] = {"none", "1h", "1d", "1w"};

/* Opens a transaction whose time zone is q->tz; maps a bad zone to 400. */
static int begin_in_zone(struct db_conn *conn, const struct kpi_query *q,
			 struct err *err)
{
	const char *params[1] = {q->tz ? q->tz : "UTC"};
	struct db_res *res;

	/* one snapshot: rollup rows, marks and facts must agree */
	if (db_begin_snapshot(conn, err) < 0)
		return -1;
	if (!(res = db_exec(conn, Q_SET_TZ, params, err))) {
		if (strcmp(db_last_sqlstate(conn), "22023") == 0)
			err_set(err, API_ERR_INVALID_PARAM, "tz",
				"'tz' must be an IANA time zone such as "
				"Europe/Berlin");
		return -1;
	}
	db_res_free(res);
	return 0;
}

static int metric_is(const char *metric, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(metric, *names) == 0)
			return 1;
	return 0;
}

/* Whether the query must compute percentiles (the durations, turns). */
static int needs_percentiles(const struct kpi_query *q)
{
	static const char *const pct_metrics[] = {
	    "time_to_first_response_s", "time_to_resolution_s",
	    "time_to_escalation_s", "turns_per_resolution", NULL};

	return !q->metric || metric_is(q->metric, pct_metrics);
}

/* The bucket starts of a time series, or none for a scorecard. */
static struct db_res *run_buckets(struct db_conn *conn,
				  const struct kpi_query *q, struct err *err)
{
	char from[TIME_BUF_LEN], to[TIME_BUF_LEN];
	const char *params[3] = {interval_names[q->interval],
				 time_format_ms(q->from_ms, from),
				 time_format_ms(q->to_ms, to)};

	return db_exec(conn, Q_KPI_BUCKETS, params, err);
}

/* Runs q in a transaction in q's zone; buckets (series only) may be NULL. */
static int run_kpi(struct db_conn *conn, const struct kpi_query *q,
		   const struct db_res *buckets, struct kpi_result *r,
		   struct err *err)
{
	int n = buckets ? db_res_rows(buckets) : 0, i, rc;
	int64_t *starts = xcalloc(n ? n : 1, sizeof(*starts));

	for (i = 0; i < n; i++)
		starts[i] = db_res_i64(buckets, i, 0);
	rc = kpi_agg_run(conn, q, starts, n, needs_percentiles(q), r, err);
	free(starts);
	return rc;
}

static json_t *group_key(const struct kpi_query *q, const struct kpi_group *g)
{
	json_t *key = json_object();
	int i;

	for (i = 0; i < q->ngroup; i++)
		json_object_set_new(key, key_names[q->group_by[i]],
				    g && g->g[i] ? json_string(g->g[i])
						 : json_null());
	return key;
}

static json_t *string_list(const char *const *v, int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* {"channel": "chat"} for one value; {"in": [...], "not_in": [...]}. */
static json_t *filters_json(const struct kpi_query *q)
{
	const struct kpi_filter *f;
	json_t *o = json_object(), *v;
	int i;

	for (i = 0; i < KPI_KEY_COUNT; i++) {
		f = &q->filters[i];
		if (f->nin < 0 && f->nout == 0)
			continue;
		if (f->nin == 1 && f->nout == 0) {
			v = json_string(f->in[0]);
		} else {
			v = json_object();
			if (f->nin >= 0)
				json_object_set_new(v, "in",
						    string_list(f->in, f->nin));
			if (f->nout > 0)
				json_object_set_new(
				    v, "not_in", string_list(f->out, f->nout));
		}
		json_object_set_new(o, key_names[i], v);
	}
	return o;
}

static char *baseline_name(const struct kpi_query *q)
{
	char *b;

	if (!q->baseline_cohort)
		return xstrdup("human_only");
	b = xmalloc(strlen(q->baseline_cohort) + 8);
	sprintf(b, "cohort:%s", q->baseline_cohort);
	return b;
}

int kpi_scorecard(struct db *db, const struct kpi_query *q, json_t **out,
		  struct err *err)
{
	char from[TIME_BUF_LEN], to[TIME_BUF_LEN], *baseline = baseline_name(q);
	struct kpi_result r = {NULL, 0};
	struct db_conn *conn;
	json_t *groups;
	struct agg a;
	int i, rc = -1;

	*out = NULL;
	if (!(conn = db_acquire(db, err))) {
		free(baseline);
		return -1;
	}
	if (begin_in_zone(conn, q, err) < 0 ||
	    run_kpi(conn, q, NULL, &r, err) < 0)
		goto out;
	if (r.n > KPI_MAX_GROUPS) {
		err_set(err, API_ERR_INVALID_PARAM, "group_by",
			"this grouping gives more than %d groups; filter or "
			"group by fewer keys",
			KPI_MAX_GROUPS);
		goto out;
	}
	groups = json_array();
	for (i = 0; i < r.n; i++) {
		a.g = &r.groups[i];
		json_array_append_new(
		    groups, json_pack("{s:o, s:o}", "key", group_key(q, a.g),
				      "metrics", metrics(&a, baseline)));
	}
	if (r.n == 0 && q->ngroup == 0) {
		a.g = NULL; /* no conversation: one group of zeros */
		json_array_append_new(
		    groups, json_pack("{s:o, s:o}", "key", json_object(),
				      "metrics", metrics(&a, baseline)));
	}
	*out =
	    json_pack("{s:s, s:s, s:I, s:s, s:o, s:o}", "from",
		      time_format_ms(q->from_ms, from), "to",
		      time_format_ms(q->to_ms, to), "window_hours",
		      (json_int_t)q->window_hours, "tz", q->tz ? q->tz : "UTC",
		      "filters", filters_json(q), "groups", groups);
	rc = 0;
out:
	kpi_result_release(&r);
	db_release(db, conn);
	free(baseline);
	return rc;
}

/* -- time series ----------------------------------------------------------- */

/* "2026-03-29T00:00:00+01:00" for a bucket start and its UTC offset. */
static json_t *bucket_time(int64_t ms, int offset_s)
{
	char buf[TIME_BUF_LEN], out[48];
	int off = offset_s < 0 ? -offset_s : offset_s;

	time_format_ms(ms + (int64_t)offset_s * 1000, buf);
	if (offset_s == 0) {
		snprintf(out, sizeof(out), "%.19sZ", buf);
	} else {
		snprintf(out, sizeof(out), "%.19s%c%02d:%02d", buf,
			 offset_s < 0 ? '-' : '+', off / 3600, off % 3600 / 60);
	}
	return json_string(out);
}

/* The point of one bucket: the metric's own object with "t" first. */
static json_t *point(const char *metric, json_t *t, const struct agg *a,
		     const char *baseline)
{
	json_t *m = metrics(a, baseline), *v = json_object_get(m, metric);
	json_t *p = json_object();

	json_object_set_new(p, "t", t);
	if (json_is_object(v))
		json_object_update(p, v);
	else
		json_object_set(p, "value", v);
	json_decref(m);
	return p;
}

struct series {
	const char *value;	     /* group value (NULL: none) */
	const struct kpi_group **at; /* per bucket, or NULL */
};

static int find_bucket(const struct db_res *b, int64_t ms)
{
	int lo = 0, hi = db_res_rows(b) - 1, mid;
	int64_t v;

	while (lo <= hi) {
		mid = (lo + hi) / 2;
		v = db_res_i64(b, mid, 0);
		if (v == ms)
			return mid;
		if (v < ms)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Splits the aggregates into series x buckets; returns the count. */
static int build_series(const struct kpi_query *q, const struct kpi_result *r,
			const struct db_res *buckets, struct series **out)
{
	int nb = db_res_rows(buckets), ns = 0, i, j, b;
	struct series *s = NULL;
	const char *v;

	if (q->ngroup == 0) {
		s = xcalloc(1, sizeof(*s));
		s[0].at = xcalloc(nb ? nb : 1, sizeof(*s[0].at));
		ns = 1;
	}
	for (i = 0; i < r->n; i++) {
		v = q->ngroup ? r->groups[i].g[0] : NULL;
		for (j = 0; j < ns && !same(s[j].value, v); j++)
			;
		if (j == ns) {
			s = xrealloc(s, (ns + 1) * sizeof(*s));
			s[ns].value = v;
			s[ns].at = xcalloc(nb ? nb : 1, sizeof(*s[ns].at));
			ns++;
		}
		b = find_bucket(buckets, r->groups[i].bucket_ms);
		if (b >= 0)
			s[j].at[b] = &r->groups[i];
	}
	*out = s;
	return ns;
}

static json_t *series_json(const struct kpi_query *q,
			   const struct db_res *buckets, struct series *s,
			   const char *baseline)
{
	json_t *points = json_array(), *key = json_object();
	struct agg a;
	int b;

	if (q->ngroup)
		json_object_set_new(key, key_names[q->group_by[0]],
				    s->value ? json_string(s->value)
					     : json_null());
	for (b = 0; b < db_res_rows(buckets); b++) {
		a.g = s->at[b];
		json_array_append_new(
		    points, point(q->metric,
				  bucket_time(db_res_i64(buckets, b, 0),
					      db_res_int(buckets, b, 1)),
				  &a, baseline));
	}
	return json_pack("{s:o, s:o}", "key", key, "points", points);
}

int kpi_timeseries(struct db *db, const struct kpi_query *q, json_t **out,
		   struct err *err)
{
	struct kpi_result r = {NULL, 0};
	struct db_res *buckets = NULL;
	struct series *s = NULL;
	char *baseline = baseline_name(q);
	struct db_conn *conn;
	json_t *arr;
	int ns = 0, i, rc = -1;

	*out = NULL;
	if (!(conn = db_acquire(db, err))) {
		free(baseline);
		return -1;
	}
	if (begin_in_zone(conn, q, err) < 0 ||
	    !(buckets = run_buckets(conn, q, err)))
		goto out;
	if (db_res_rows(buckets) > KPI_MAX_GROUPS) {
		err_set(err, API_ERR_INVALID_PARAM, "interval",
			"the range holds more than %d buckets of %s; use a "
			"longer interval or a shorter range",
			KPI_MAX_GROUPS, interval_names[q->interval]);
		goto out;
	}
	if (run_kpi(conn, q, buckets, &r, err) < 0)
		goto out;
	ns = build_series(q, &r, buckets, &s);
	if ((long)ns * db_res_rows(buckets) > KPI_MAX_GROUPS) {
		err_set(err, API_ERR_INVALID_PARAM, "group_by",
			"%d series of %d points exceed %d points; filter, "
			"shorten the range or use a longer interval",
			ns, db_res_rows(buckets), KPI_MAX_GROUPS);
		goto out;
	}
	arr = json_array();
	for (i = 0; i < ns; i++)
		json_array_append_new(arr,
				      series_json(q, buckets, &s[i], baseline));
	*out = json_pack("{s:s, s:s, s:s, s:o}", "metric", q->metric,
			 "interval", interval_names[q->interval], "tz",
			 q->tz ? q->tz : "UTC", "series", arr);
	rc = 0;
out:
	for (i = 0; i < ns; i++)
		free(s[i].at);
	free(s);
	kpi_result_release(&r);
	db_res_free(buckets);
	db_release(db, conn);
	free(baseline);
	return rc;
}
