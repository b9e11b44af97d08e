/* SPDX-License-Identifier: MIT */
/*
 * POST /grafana/query (docs/grafana.md) checked against /v1/kpis on a small
 * tenant (tests/data/grafana_fixture.json, cases in grafana_cases.json):
 * buckets, series, stats, tables, filters, annotations and errors.
 */
#include "grafana_client.h"
#include "util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NA NAN /* an expected null */

static struct grafana g;

static void setup(void)
{
	grafana_start(&g);
}

static void teardown(void)
{
	grafana_stop(&g);
}

TestSuite(grafana_query, .init = setup, .fini = teardown, .timeout = 60);

/* -- time series ---------------------------------------------------------- */

Test(grafana_query, daily_series_equals_the_rest_timeseries)
{
	static const double trr[] = {0.5, NA, 1.0 / 3, 1, 0};
	static const double convs[] = {3, 0, 3, 2, 1};
	json_t *ans, *s, *ts, *tags;

	grafana_ingest(&g, "events");
	ans = grafana_query_days(&g, "true_resolution_rate", NULL);
	cr_assert_eq(json_array_size(ans), 1);
	s = json_array_get(ans, 0);
	cr_expect_str_eq(grafana_str(s, "target"), "true_resolution_rate");
	cr_expect_str_eq(grafana_str(s, "refId"), "A");
	cr_expect_str_eq(grafana_str(s, "unit"), "percentunit");
	tags = json_object_get(s, "tags");
	cr_expect_str_eq(grafana_str(tags, "metric"), "true_resolution_rate");
	cr_expect_str_eq(grafana_str(tags, "stat"), "value");
	grafana_expect_days(&g, s, trr);
	ts = grafana_timeseries(&g, "true_resolution_rate", NULL);
	grafana_expect_rest(s, grafana_rest_points(ts, NULL), "value", 0,
			    g.from_ms);
	json_decref(ts);
	json_decref(ans);

	ans = grafana_query_days(&g, "conversations", NULL);
	s = grafana_series(ans, "conversations");
	grafana_expect_days(&g, s, convs);
	cr_expect_str_eq(grafana_str(s, "unit"), "none");
	json_decref(ans);
}

/*
 * conversations over [GRAFANA_FROM, to) for a "buckets" case of
 * grafana_cases.json: expects n points, step_ms apart from GRAFANA_FROM, and
 * returns the answer.
 */
static json_t *buckets(json_t *c)
{
	const char *to = json_string_value(json_object_get(c, "to"));
	const char *interval =
	    json_string_value(json_object_get(c, "interval"));
	int64_t step = json_integer_value(json_object_get(c, "step_ms"));
	size_t n = (size_t)json_integer_value(json_object_get(c, "n")), i;
	json_t *payload = json_object(), *ans, *dps;
	char *what = grafana_dump(c);

	if (interval)
		json_object_set_new(payload, "interval", json_string(interval));
	ans = grafana_query(
	    &g,
	    grafana_qreq(
		GRAFANA_FROM, to ? to : GRAFANA_TO,
		json_integer_value(json_object_get(c, "intervalMs")),
		json_integer_value(json_object_get(c, "maxDataPoints")),
		json_pack("[o]", grafana_tgt("A", "conversations", payload))));
	dps = json_object_get(json_array_get(ans, 0), "datapoints");
	cr_expect_eq(json_array_size(dps), n, "%s: %zu points", what,
		     json_array_size(dps));
	for (i = 0; i < json_array_size(dps); i++)
		cr_expect_eq(json_integer_value(
				 json_array_get(json_array_get(dps, i), 1)),
			     g.from_ms + (int64_t)i * step, "%s: point %zu",
			     what, i);
	free(what);
	return ans;
}

Test(grafana_query, bucket_size_follows_interval_ms_max_data_points_and_payload)
{
	json_t *c, *ans, *dps, *v;
	double sum;
	size_t i, j;

	grafana_ingest(&g, "events");
	json_array_foreach(json_object_get(g.cases, "buckets"), i, c)
	{
		ans = buckets(c);
		dps = json_object_get(json_array_get(ans, 0), "datapoints");
		sum = 0;
		json_array_foreach(dps, j, v)
		{
			sum += json_number_value(json_array_get(v, 0));
		}
		cr_expect_eq(
		    sum,
		    json_object_get(c, "conversations")
			? json_number_value(json_object_get(c, "conversations"))
			: 9,
		    "buckets case %zu: %g conversations", i, sum);
		if (json_array_size(dps) == 120)
			cr_expect(json_number_value(json_array_get(
				      json_array_get(dps, 9), 0)) == 1 &&
				      json_number_value(json_array_get(
					  json_array_get(dps, 8), 0)) == 0,
				  "buckets case %zu: g01 at 09:00", i);
		json_decref(ans);
	}
	cr_assert_gt(i, 0, "no buckets cases");
}

Test(grafana_query, buckets_start_at_from_then_at_local_boundaries)
{
	static const double days[] = {2, 0, 3};
	static const double hours[] = {0, 0, 0, 1};
	static const struct {
		const char *from, *to, *interval;
		json_int_t ims;
		size_t n;
	} dst[] = {
	    {"2026-10-23T22:00:00.000Z", "2026-10-27T23:00:00.000Z", "1d",
	     GRAFANA_DAY_MS, 4},
	    {"2026-10-24T22:00:00.000Z", "2026-10-25T03:00:00.000Z", "1h",
	     GRAFANA_HOUR_MS, 5},
	};
	const char *from = "2026-03-02T06:30:00.000Z";
	json_t *ans, *s, *ts;
	size_t k;

	grafana_ingest(&g, "events");
	ans = grafana_query(
	    &g, grafana_qreq(
		    from, "2026-03-05T00:00:00.000Z", GRAFANA_DAY_MS, 1000,
		    json_pack("[o]", grafana_tgt("A", "conversations", NULL))));
	grafana_expect_values(grafana_series(ans, "conversations"), days, 3,
			      grafana_ms(from), g.from_ms, GRAFANA_DAY_MS);
	json_decref(ans);
	ans = grafana_query(
	    &g, grafana_qreq(
		    from, "2026-03-02T09:30:00.000Z", 60000, 1000,
		    json_pack("[o]", grafana_tgt("A", "conversations", NULL))));
	grafana_expect_values(grafana_series(ans, "conversations"), hours, 4,
			      grafana_ms(from), g.from_ms + 6 * GRAFANA_HOUR_MS,
			      GRAFANA_HOUR_MS);
	json_decref(ans);

	/*
	 * days start at 18:30 UTC in Kolkata: six buckets, the first at
	 * GRAFANA_FROM
	 */
	ans = grafana_query_days(&g, "true_resolution_rate",
				 json_pack("{s:s}", "tz", "Asia/Kolkata"));
	s = grafana_series(ans, "true_resolution_rate");
	ts = grafana_timeseries(&g, "true_resolution_rate", "&tz=Asia/Kolkata");
	cr_expect_eq(json_array_size(json_object_get(s, "datapoints")), 6);
	grafana_expect_rest(s, grafana_rest_points(ts, NULL), "value", 0,
			    g.from_ms);
	json_decref(ts);
	json_decref(ans);

	/* Berlin leaves DST on 2026-10-25: a 25-hour day, an hour twice */
	for (k = 0; k < 2; k++) {
		ans = grafana_query(
		    &g, grafana_qreq(
			    dst[k].from, dst[k].to, dst[k].ims, 1000,
			    json_pack("[o]", grafana_tgt(
						 "A", "conversations",
						 json_pack("{s:s}", "tz",
							   "Europe/Berlin")))));
		ts = grafana_rest(
		    &g,
		    "/v1/kpis/timeseries?metric=conversations&interval=%s"
		    "&from=%s&to=%s&tz=Europe/Berlin",
		    dst[k].interval, dst[k].from, dst[k].to);
		s = grafana_series(ans, "conversations");
		cr_expect_eq(json_array_size(json_object_get(s, "datapoints")),
			     dst[k].n, "%s buckets in Berlin", dst[k].interval);
		grafana_expect_rest(s, grafana_rest_points(ts, NULL), "value",
				    0, grafana_ms(dst[k].from));
		json_decref(ts);
		json_decref(ans);
	}
}

Test(grafana_query, targets_answer_in_order_with_their_ref_ids)
{
	static const double trr[] = {0.5, NA, 1.0 / 3, 1, 0};
	static const double convs[] = {3, 0, 3, 2, 1};
	json_t *ans, *s;

	grafana_ingest(&g, "events");
	ans = grafana_query(
	    &g, grafana_qreq(
		    GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
		    json_pack("[o,o]",
			      grafana_tgt("B", "true_resolution_rate", NULL),
			      grafana_tgt("A", "conversations", NULL))));
	cr_assert_eq(json_array_size(ans), 2);
	s = json_array_get(ans, 0);
	cr_expect(
	    strcmp(grafana_str(s, "refId"), "B") == 0 &&
		strcmp(grafana_str(s, "target"), "true_resolution_rate") == 0,
	    "first: %s %s", grafana_str(s, "refId"), grafana_str(s, "target"));
	grafana_expect_days(&g, s, trr);
	s = json_array_get(ans, 1);
	cr_expect(strcmp(grafana_str(s, "refId"), "A") == 0 &&
		      strcmp(grafana_str(s, "target"), "conversations") == 0,
		  "second: %s %s", grafana_str(s, "refId"),
		  grafana_str(s, "target"));
	grafana_expect_days(&g, s, convs);
	json_decref(ans);
}

Test(grafana_query, group_by_gives_one_series_per_value)
{
	const char *vals[] = {"chat", "email", NULL};
	json_t *ans, *ts, *s, *key;
	char name[128];
	size_t i;

	grafana_ingest(&g, "events");
	ans = grafana_query_days(&g, "conversations",
				 json_pack("{s:s}", "group_by", "channel"));
	ts = grafana_timeseries(&g, "conversations", "&group_by=channel");
	cr_expect_eq(json_array_size(ans), 3);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "conversations channel=%s",
			 vals[i] ? vals[i] : "(none)");
		s = grafana_series(ans, name);
		cr_expect_str_eq(grafana_str(s, "refId"), "A");
		if (vals[i])
			cr_expect_str_eq(
			    grafana_str(json_object_get(s, "tags"), "channel"),
			    vals[i], "%s: tags", name);
		key = json_pack("{s:s?}", "channel", vals[i]);
		grafana_expect_rest(s, grafana_rest_points(ts, key), "value", 0,
				    g.from_ms);
		json_decref(key);
	}
	json_decref(ts);
	json_decref(ans);

	/* group_by as an array, with an alias */
	ans = grafana_query_days(
	    &g, "true_resolution_rate",
	    json_pack("{s:[s],s:s}", "group_by", "channel", "alias", "TRR"));
	ts =
	    grafana_timeseries(&g, "true_resolution_rate", "&group_by=channel");
	cr_expect_eq(json_array_size(ans), 3);
	key = json_pack("{s:s}", "channel", "chat");
	grafana_expect_rest(grafana_series(ans, "TRR channel=chat"),
			    grafana_rest_points(ts, key), "value", 0,
			    g.from_ms);
	json_decref(key);
	json_decref(ts);
	json_decref(ans);
}

/*
 * Expects the answer for metric by days with payload (stolen) to be the
 * series names (NULL-terminated) and no others.
 */
static void expect_series_names(const char *metric, json_t *payload,
				const char *const *names)
{
	json_t *ans = grafana_query_days(&g, metric, payload);
	size_t n;

	for (n = 0; names[n]; n++)
		;
	cr_expect_eq(json_array_size(ans), n);
	for (n = 0; names[n]; n++)
		grafana_series(ans, names[n]);
	json_decref(ans);
}

Test(grafana_query, components_become_series_and_follow_the_stream_filter)
{
	static const char *const reasons[] = {
	    "customer_requested", "ai_unable",	    "policy",
	    "sensitive",	  "authentication", "other"};
	static const double requested[] = {1, 0, 0, 0, 0};
	static const double unable[] = {0, 0, 1, 0, 0};
	static const double zeros[] = {0, 0, 0, 0, 0};
	json_t *ans, *ts, *s;
	char name[128], path[64];
	size_t i;

	grafana_ingest(&g, "events");
	ans = grafana_query_days(&g, "csat", NULL);
	ts = grafana_timeseries(&g, "csat", NULL);
	cr_expect_eq(json_array_size(ans), 3);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "csat %s", grafana_streams[i]);
		snprintf(path, sizeof(path), "%s.mean", grafana_streams[i]);
		s = grafana_series(ans, name);
		cr_expect_str_eq(
		    grafana_str(json_object_get(s, "tags"), "stream"),
		    grafana_streams[i], "%s: tags", name);
		grafana_expect_rest(s, grafana_rest_points(ts, NULL), path, 0,
				    g.from_ms);
	}
	json_decref(ts);
	json_decref(ans);

	expect_series_names("csat", json_pack("{s:[s]}", "stream", "ai_only"),
			    (const char *const[]){"csat ai_only", NULL});
	expect_series_names(
	    "csat", json_pack("{s:[s,s]}", "stream", "hybrid", "human_only"),
	    (const char *const[]){"csat hybrid", "csat human_only", NULL});

	expect_series_names("by_stream",
			    json_pack("{s:s}", "stream", "ai_only"),
			    (const char *const[]){"by_stream ai_only", NULL});

	ans = grafana_query_days(&g, "escalation_reasons", NULL);
	ts = grafana_timeseries(&g, "escalation_reasons", NULL);
	cr_expect_eq(json_array_size(ans), 6);
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "escalation_reasons %s",
			 reasons[i]);
		s = grafana_series(ans, name);
		cr_expect_str_eq(
		    grafana_str(json_object_get(s, "tags"), "reason"),
		    reasons[i], "%s: tags", name);
		grafana_expect_rest(s, grafana_rest_points(ts, NULL),
				    reasons[i], 1, g.from_ms);
		grafana_expect_days(&g, s,
				    i == 0   ? requested
				    : i == 1 ? unable
					     : zeros);
	}
	json_decref(ts);
	json_decref(ans);
}

/*
 * Expects the series name of metric by days with payload (stolen) to
 * have unit and, unless want is NULL, the day values want.
 */
static void expect_unit_series(const char *metric, json_t *payload,
			       const char *name, const char *unit,
			       const double *want)
{
	json_t *ans = grafana_query_days(&g, metric, payload);
	json_t *s = grafana_series(ans, name);

	cr_expect_str_eq(grafana_str(s, "unit"), unit);
	if (want)
		grafana_expect_days(&g, s, want);
	json_decref(ans);
}

/*
 * Expects the day values of s within 1 % of want (NAN: null): percentiles
 * come from histograms that metrics-spec allows within 1 %.
 */
static void expect_days_near(json_t *s, const double *want)
{
	json_t *dps = json_object_get(s, "datapoints"), *v;
	size_t i;

	cr_expect_eq(json_array_size(dps), GRAFANA_NDAYS);
	for (i = 0; i < GRAFANA_NDAYS && i < json_array_size(dps); i++) {
		v = json_array_get(json_array_get(dps, i), 0);
		if (isnan(want[i]))
			cr_expect(json_is_null(v), "point %zu is not null", i);
		else
			cr_expect(json_is_number(v) &&
				      fabs(json_number_value(v) - want[i]) <=
					  0.01 * fabs(want[i]),
				  "point %zu is %g, expected %g within 1 %%", i,
				  json_number_value(v), want[i]);
	}
}

Test(grafana_query, stat_picks_the_figure_and_names_the_series)
{
	static const double p90[] = {540, NA, 370, 100720, NA};
	static const double p50[] = {300, NA, 250, 56400, NA};
	static const double n[] = {3, 0, 2, 2, 0};
	static const double den[] = {2, 0, 3, 1, 1};
	json_t *ans, *ts, *s, *key;

	grafana_ingest(&g, "events");
	ts = grafana_timeseries(&g, "time_to_resolution_s", NULL);
	ans = grafana_query_days(&g, "time_to_resolution_s",
				 json_pack("{s:s}", "stat", "p90"));
	cr_expect_eq(json_array_size(ans), 1);
	s = grafana_series(ans, "time_to_resolution_s p90");
	cr_expect_str_eq(grafana_str(s, "unit"), "s");
	cr_expect_str_eq(grafana_str(json_object_get(s, "tags"), "stat"),
			 "p90");
	expect_days_near(s, p90);
	grafana_expect_rest(s, grafana_rest_points(ts, NULL), "p90", 0,
			    g.from_ms);
	json_decref(ans);

	ans = grafana_query_days(&g, "time_to_resolution_s", NULL);
	s = grafana_series(ans, "time_to_resolution_s");
	cr_expect_str_eq(grafana_str(json_object_get(s, "tags"), "stat"),
			 "p50");
	expect_days_near(s, p50);
	json_decref(ans);

	expect_unit_series("time_to_resolution_s",
			   json_pack("{s:s}", "stat", "n"),
			   "time_to_resolution_s n", "none", n);
	json_decref(ts);

	expect_unit_series("true_resolution_rate",
			   json_pack("{s:s}", "stat", "den"),
			   "true_resolution_rate den", "none", den);

	expect_unit_series("cost_per_resolution", NULL, "cost_per_resolution",
			   "currencyUSD", NULL);

	/* metric, component, stat, group */
	ts = grafana_timeseries(&g, "csat", "&stream=ai_only");
	ans =
	    grafana_query_days(&g, "csat",
			       json_pack("{s:s,s:s}", "stat", "satisfied_rate",
					 "stream", "ai_only"));
	s = grafana_series(ans, "csat ai_only satisfied_rate");
	cr_expect_str_eq(grafana_str(s, "unit"), "percentunit");
	grafana_expect_rest(s, grafana_rest_points(ts, NULL),
			    "ai_only.satisfied_rate.value", 0, g.from_ms);
	json_decref(ans);
	json_decref(ts);
	ts =
	    grafana_timeseries(&g, "time_to_resolution_s", "&group_by=channel");
	ans = grafana_query_days(
	    &g, "time_to_resolution_s",
	    json_pack("{s:s,s:s}", "stat", "p90", "group_by", "channel"));
	key = json_pack("{s:s}", "channel", "chat");
	grafana_expect_rest(
	    grafana_series(ans, "time_to_resolution_s p90 channel=chat"),
	    grafana_rest_points(ts, key), "p90", 0, g.from_ms);
	json_decref(key);
	json_decref(ans);
	json_decref(ts);

	grafana_expect_error(
	    &g, "/grafana/query",
	    grafana_qreq(
		GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
		json_pack("[o]",
			  grafana_tgt("A", "time_to_resolution_s",
				      json_pack("{s:s}", "stat", "p99")))),
	    400, NULL);
}

/* -- tables ---------------------------------------------------------------- */

/* A group key cell: the value, or for a missing one null or "(none)". */
static int key_cell_is(json_t *c, json_t *want)
{
	if (json_is_null(want))
		return json_is_null(c) ||
		       (json_is_string(c) &&
			strcmp(json_string_value(c), "(none)") == 0);
	return json_equal(c, want);
}

/*
 * True when the cells of row r of t are the same as the figures of o:
 * each pair of figs names a column and a dotted path in o; {NULL} ends.
 */
static int row_matches(json_t *t, size_t r, json_t *o,
		       const char *const (*figs)[2])
{
	size_t k;

	for (k = 0; figs[k][0]; k++) {
		if (!grafana_same(grafana_cell(t, r, figs[k][0]),
				  grafana_at(o, figs[k][1])))
			return 0;
	}
	return 1;
}

/* Expects row r of t to carry the rate object rate (value, num, den, ci95). */
static void expect_rate_row(json_t *t, size_t r, json_t *rate, const char *what)
{
	static const char *const figs[][2] = {
	    {"value", "value"}, {"num", "num"}, {"den", "den"}, {NULL}};
	json_t *ci = json_object_get(rate, "ci95");

	cr_expect(row_matches(t, r, rate, figs) &&
		      grafana_same(grafana_cell(t, r, "ci95_low"),
				   json_is_array(ci) ? json_array_get(ci, 0)
						     : json_null()) &&
		      grafana_same(grafana_cell(t, r, "ci95_high"),
				   json_is_array(ci) ? json_array_get(ci, 1)
						     : json_null()),
		  "%s: row %zu differs from the scorecard", what, r);
}

Test(grafana_query, table_rows_equal_the_scorecard)
{
	static const char *const csat_figs[][2] = {
	    {"mean", "mean"},
	    {"n", "n"},
	    {"satisfied_rate", "satisfied_rate.value"},
	    {"response_rate", "response_rate.value"},
	    {NULL}};
	json_t *ans, *t, *card, *groups, *grp, *row, *m, *k;
	size_t i, j, found;
	char *all;

	grafana_ingest(&g, "events");
	card = grafana_rest(&g, "/v1/kpis?from=%s&to=%s", GRAFANA_FROM,
			    GRAFANA_TO);
	m = grafana_at(json_array_get(json_object_get(card, "groups"), 0),
		       "metrics");
	ans = grafana_query_days(&g, "true_resolution_rate",
				 json_pack("{s:s}", "format", "table"));
	t = grafana_only_table(ans, "A");
	all = grafana_dump(t);
	cr_expect(json_array_size(json_object_get(t, "columns")) == 5 &&
		      json_array_size(json_object_get(t, "rows")) == 1,
		  "five stat columns, one row: %s", all);
	cr_expect(
	    strcmp(grafana_str(json_array_get(json_object_get(t, "columns"),
					      (size_t)grafana_col(t, "value")),
			       "unit"),
		   "percentunit") == 0 &&
		strcmp(
		    grafana_str(json_array_get(json_object_get(t, "columns"),
					       (size_t)grafana_col(t, "den")),
				"unit"),
		    "none") == 0,
	    "units: %s", all);
	expect_rate_row(t, 0, json_object_get(m, "true_resolution_rate"),
			"true_resolution_rate");
	free(all);
	json_decref(ans);

	/* csat: a row per stream */
	ans = grafana_query_days(&g, "csat",
				 json_pack("{s:s}", "format", "table"));
	t = grafana_only_table(ans, "A");
	all = grafana_dump(t);
	cr_expect_eq(json_array_size(json_object_get(t, "rows")), 3, "%s", all);
	for (i = 0; i < 3; i++) {
		grp = grafana_at(m, "csat");
		grp = json_object_get(
		    grp, json_string_value(grafana_cell(t, i, "stream")));
		cr_expect(grp && row_matches(t, i, grp, csat_figs),
			  "csat row %zu: %s", i, all);
	}
	for (i = 0; i < 3; i++) {
		found = 0;
		for (j = 0; j < 3; j++)
			found += strcmp(json_string_value(
					    grafana_cell(t, j, "stream"))
					    ? json_string_value(
						  grafana_cell(t, j, "stream"))
					    : "",
					grafana_streams[i]) == 0;
		cr_expect_eq(found, 1, "one csat row for %s: %s",
			     grafana_streams[i], all);
	}
	free(all);
	json_decref(ans);
	json_decref(card);

	/* a row per group and component */
	card = grafana_rest(&g, "/v1/kpis?from=%s&to=%s&group_by=channel",
			    GRAFANA_FROM, GRAFANA_TO);
	ans = grafana_query_days(
	    &g, "csat",
	    json_pack("{s:s,s:s}", "format", "table", "group_by", "channel"));
	t = grafana_only_table(ans, "A");
	all = grafana_dump(t);
	cr_expect_eq(json_array_size(json_object_get(t, "rows")), 9, "%s", all);
	json_array_foreach(json_object_get(t, "rows"), i, row)
	{
		json_array_foreach(json_object_get(card, "groups"), j, grp)
		{
			if (!key_cell_is(grafana_cell(t, i, "channel"),
					 grafana_at(grp, "key.channel")))
				continue;
			k = json_object_get(
			    grafana_at(grp, "metrics.csat"),
			    json_string_value(grafana_cell(t, i, "stream")));
			cr_expect(k && grafana_same(grafana_cell(t, i, "mean"),
						    json_object_get(k, "mean")),
				  "csat by channel, row %zu: %s", i, all);
		}
	}
	free(all);
	json_decref(ans);
	json_decref(card);

	/* two group keys */
	card = grafana_rest(&g, "/v1/kpis?from=%s&to=%s&group_by=channel,topic",
			    GRAFANA_FROM, GRAFANA_TO);
	groups = json_object_get(card, "groups");
	ans = grafana_query_days(&g, "true_resolution_rate",
				 json_pack("{s:s,s:s}", "format", "table",
					   "group_by", "channel,topic"));
	t = grafana_only_table(ans, "A");
	all = grafana_dump(t);
	cr_expect_eq(json_array_size(json_object_get(t, "rows")),
		     json_array_size(groups), "a row per group: %s", all);
	cr_expect(grafana_col(t, "channel") >= 0 &&
		      grafana_col(t, "topic") >= 0 &&
		      strcmp(grafana_str(json_array_get(
					     json_object_get(t, "columns"),
					     (size_t)grafana_col(t, "channel")),
					 "type"),
			     "string") == 0,
		  "string columns channel and topic: %s", all);
	json_array_foreach(groups, i, grp)
	{
		k = json_object_get(grp, "key");
		found = 0;
		json_array_foreach(json_object_get(t, "rows"), j, row)
		{
			if (!key_cell_is(grafana_cell(t, j, "channel"),
					 json_object_get(k, "channel")) ||
			    !key_cell_is(grafana_cell(t, j, "topic"),
					 json_object_get(k, "topic")))
				continue;
			found++;
			expect_rate_row(
			    t, j,
			    grafana_at(grp, "metrics.true_resolution_rate"),
			    "true_resolution_rate by channel,topic");
		}
		cr_expect_eq(found, 1,
			     "group %zu of the scorecard: %zu rows: %s", i,
			     found, all);
	}
	free(all);
	json_decref(ans);
	json_decref(card);
}

/* -- filters and payload values -------------------------------------------- */

static void expect_num(double got, double want, const char *what)
{
	cr_expect(fabs(got - want) < 1e-9, "%s: %.15g, expected %.15g", what,
		  got, want);
}

/*
 * Runs the "table_values" cases of grafana_cases.json whose test is test:
 * each table's value against the case, and against GET /v1/kpis.
 */
static void run_table_values(const char *test)
{
	json_t *c, *p, *f, *card;
	const char *fkey;
	char path[128];
	size_t i, ran = 0;
	double got;

	json_array_foreach(json_object_get(g.cases, "table_values"), i, c)
	{
		if (strcmp(grafana_str(c, "test"), test) != 0)
			continue;
		p = json_object_get(c, "payload");
		fkey = json_object_get(c, "adhocFilters") ? "adhocFilters"
							  : "filters";
		f = json_object_get(c, fkey);
		got = grafana_table_value(&g, grafana_str(c, "metric"),
					  p ? json_deep_copy(p) : NULL, fkey,
					  f ? json_deep_copy(f) : NULL);
		expect_num(got, json_number_value(json_object_get(c, "value")),
			   grafana_str(c, "name"));
		if (json_object_get(c, "rest")) {
			card = grafana_rest(&g, "/v1/kpis?from=%s&to=%s&%s",
					    GRAFANA_FROM, GRAFANA_TO,
					    grafana_str(c, "rest"));
			snprintf(path, sizeof(path), "metrics.%s",
				 grafana_str(c, "rest_path"));
			expect_num(got,
				   json_number_value(grafana_at(
				       json_array_get(
					   json_object_get(card, "groups"), 0),
				       path)),
				   grafana_str(c, "name"));
			json_decref(card);
		}
		ran++;
	}
	cr_assert_gt(ran, 0, "no table_values cases for '%s'", test);
}

Test(grafana_query, ad_hoc_filters_match_the_rest_filters)
{
	json_t *req, *ans, *ts;

	grafana_ingest(&g, "events");
	req = grafana_qreq(
	    GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
	    json_pack("[o]", grafana_tgt("A", "true_resolution_rate", NULL)));
	json_object_set_new(
	    req, "filters",
	    json_pack("[o]", grafana_filter("channel", "=", "chat")));
	ans = grafana_query(&g, req);
	ts = grafana_timeseries(&g, "true_resolution_rate", "&channel=chat");
	grafana_expect_rest(grafana_series(ans, "true_resolution_rate"),
			    grafana_rest_points(ts, NULL), "value", 0,
			    g.from_ms);
	json_decref(ts);
	json_decref(ans);
	run_table_values("filters");
}

Test(grafana_query, payload_values_strings_and_escaped_targets)
{
	static const double trr[] = {0.5, NA, 1.0 / 3, 1, 0};
	json_t *ans, *legacy;

	grafana_ingest(&g, "events");
	run_table_values("payload");

	/* plugins before 0.3 send data */
	legacy = json_pack("{s:s,s:s,s:{s:s,s:s}}", "refId", "A", "target",
			   "conversations", "data", "channel", "chat", "format",
			   "table");
	ans = grafana_query(&g, grafana_qreq(GRAFANA_FROM, GRAFANA_TO,
					     GRAFANA_DAY_MS, 1000,
					     json_pack("[o]", legacy)));
	expect_num(json_number_value(
		       grafana_cell(grafana_only_table(ans, "A"), 0, "value")),
		   5, "payload in data");
	json_decref(ans);

	ans = grafana_query_days(&g, "true\\_resolution\\_rate", NULL);
	cr_expect_eq(json_array_size(ans), 1);
	grafana_expect_days(&g, grafana_series(ans, "true_resolution_rate"),
			    trr);
	json_decref(ans);

	/* hidden and empty targets are skipped */
	ans = grafana_query(
	    &g, grafana_qreq(
		    GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
		    json_pack("[{s:s,s:s,s:b},o,o]", "refId", "A", "target",
			      "conversations", "hide", 1,
			      grafana_tgt("B", "", NULL),
			      grafana_tgt("C", "true_resolution_rate", NULL))));
	cr_expect(
	    json_array_size(ans) == 1 &&
		strcmp(grafana_str(json_array_get(ans, 0), "refId"), "C") == 0,
	    "only target C answers");
	json_decref(ans);
}

/* -- annotations ---------------------------------------------------------- */

/* The title and text of row r of t, for a search. */
static void row_text(json_t *t, size_t r, char *out, size_t len)
{
	snprintf(out, len, "%s | %s",
		 json_string_value(grafana_cell(t, r, "title"))
		     ? json_string_value(grafana_cell(t, r, "title"))
		     : "",
		 json_string_value(grafana_cell(t, r, "text"))
		     ? json_string_value(grafana_cell(t, r, "text"))
		     : "");
}

Test(grafana_query, annotations_mark_each_agent_version_first_seen_in_the_range)
{
	static const struct {
		const char *version, *ts;
	} want[] = {{"v1", "2026-03-02T09:00:00Z"},
		    {"v2", "2026-03-04T08:00:00Z"},
		    {"v3", "2026-03-06T16:00:10Z"}};
	json_t *ans, *t, *req, *rows;
	char text[512], *all;
	long c;
	size_t i;

	grafana_ingest(&g, "events");
	grafana_ingest_other_tenant(&g);
	ans = grafana_query(
	    &g,
	    grafana_qreq(
		GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
		json_pack("[o]", grafana_tgt("Anno", "agent_versions", NULL))));
	t = grafana_only_table(ans, "Anno");
	all = grafana_dump(t);
	c = grafana_col(t, "time");
	cr_expect(
	    c >= 0 &&
		strcmp(grafana_str(json_array_get(json_object_get(t, "columns"),
						  (size_t)c),
				   "type"),
		       "time") == 0,
	    "a time column of type time: %s", all);
	cr_expect(grafana_col(t, "title") >= 0 && grafana_col(t, "text") >= 0 &&
		      grafana_col(t, "tags") >= 0,
		  "title, text and tags columns: %s", all);
	cr_expect_eq(json_array_size(json_object_get(t, "rows")), 3,
		     "v1, v2, v3 only: %s", all);
	for (i = 0; i < 3; i++) {
		row_text(t, i, text, sizeof(text));
		cr_expect(json_is_integer(grafana_cell(t, i, "time")) &&
			      json_integer_value(grafana_cell(t, i, "time")) ==
				  grafana_ms(want[i].ts) &&
			      strstr(text, want[i].version) &&
			      !strstr(text, "other"),
			  "row %zu: %s at %s expected: %s", i, want[i].version,
			  want[i].ts, all);
	}
	rows = json_incref(json_object_get(t, "rows"));
	free(all);
	json_decref(ans);

	/* payload and filters are ignored */
	req = grafana_qreq(
	    GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
	    json_pack("[o]",
		      grafana_tgt("Anno", "agent_versions",
				  json_pack("{s:s}", "channel", "email"))));
	json_object_set_new(
	    req, "filters",
	    json_pack("[o]", grafana_filter("channel", "=", "email")));
	ans = grafana_query(&g, req);
	cr_expect(
	    json_equal(json_object_get(grafana_only_table(ans, "Anno"), "rows"),
		       rows),
	    "payload and filters change the annotations");
	json_decref(ans);
	json_decref(rows);
}

/* -- errors -------------------------------------------------------------- */

/*
 * Runs an "errors" case of grafana_cases.json: its raw text, or a good
 * request with the case's members set and its "drop" members removed.
 */
static void run_error_case(json_t *c)
{
	const char *names = json_string_value(json_object_get(c, "names"));
	json_t *req, *v;
	const char *key;
	size_t i;

	if (json_object_get(c, "text")) {
		grafana_expect_error_text(&g, "/grafana/query",
					  grafana_str(c, "text"), 400, names);
		return;
	}
	req = grafana_qreq(
	    GRAFANA_FROM, GRAFANA_TO, GRAFANA_DAY_MS, 1000,
	    json_pack("[o]", grafana_tgt("A", "conversations", NULL)));
	json_object_foreach(c, key, v)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "names") != 0 &&
		    strcmp(key, "drop") != 0)
			json_object_set(req, key, v);
	}
	json_array_foreach(json_object_get(c, "drop"), i, v)
	{
		json_object_del(req, json_string_value(v));
	}
	grafana_expect_error(&g, "/grafana/query", req, 400, names);
}

Test(grafana_query,
     query_errors_are_400_with_a_message_and_the_server_keeps_serving)
{
	static const double convs[] = {3, 0, 3, 2, 1};
	size_t i, big = 1048576 + 1;
	json_t *c, *ans;
	char *body;

	grafana_ingest(&g, "events");
	json_array_foreach(json_object_get(g.cases, "errors"), i, c)
	{
		run_error_case(c);
	}
	cr_assert_gt(i, 0, "no errors cases");

	/* one byte over MAX_BODY_BYTES */
	body = xmalloc(big + 1);
	memset(body, ' ', big);
	memcpy(body, "{\"targets\": []", 14);
	body[big - 1] = '}';
	body[big] = '\0';
	grafana_expect_error_text(&g, "/grafana/query", body, 413, NULL);
	free(body);

	ans = grafana_query_days(&g, "conversations", NULL);
	grafana_expect_days(&g, grafana_series(ans, "conversations"), convs);
	json_decref(ans);
}
