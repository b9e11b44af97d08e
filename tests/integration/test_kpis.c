/* SPDX-License-Identifier: MIT */
/*
 * GET /v1/kpis and GET /v1/kpis/timeseries against scorecards computed by
 * hand from metrics-spec v1 (tests/data/kpi_fixture.json), and their 400s.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXTURE "kpi_fixture.json"
#define MAX_BATCH 1000
#define MAX_REPORTS 40 /* mismatches reported per case */
#define REL_TOL 1e-9
/*
 * Percentiles come from log-bucket histograms, which metrics-spec allows
 * within 1 % relative error (docs/metrics.md); the bound is 0.9951 %.
 */
#define PCT_REL_TOL 0.01

static struct harness h;
static json_t *fixture;

static void setup(void)
{
	harness_start(&h);
	fixture = load_test_data(FIXTURE);
}

static void teardown(void)
{
	json_decref(fixture);
	fixture = NULL;
	harness_stop(&h);
}

TestSuite(kpis, .init = setup, .fini = teardown);

/* A mismatch report: the case's name and a budget of lines left. */
struct report {
	const char *name;
	int left;
	int mismatches;
};

static void mismatch(struct report *r, const char *path, json_t *want,
		     json_t *got)
{
	char *w, *g;

	r->mismatches++;
	if (r->left <= 0)
		return;
	r->left--;
	w = json_canon(want);
	g = got ? json_canon(got) : NULL;
	cr_expect_fail("%s: at %s\n  expected %s\n  got      %s", r->name,
		       path[0] ? path : "(top)", w, g ? g : "(missing)");
	free(w);
	free(g);
}

/* A p50 or p90: the last member of path is one. */
static int is_percentile(const char *path)
{
	size_t n = strlen(path);

	return n >= 4 && (strcmp(path + n - 4, ".p50") == 0 ||
			  strcmp(path + n - 4, ".p90") == 0);
}

static int numbers_match(json_t *want, json_t *got, const char *path)
{
	double x = json_number_value(want), y = json_number_value(got);
	double scale = fmax(fabs(x), fabs(y));

	if (is_percentile(path))
		return fabs(x - y) <= PCT_REL_TOL * fabs(x) + 1e-12;
	return fabs(x - y) <= REL_TOL * (scale > 1 ? scale : 1);
}

/* Members whose names start with '_' are notes for readers, not data. */
static size_t data_members(json_t *o)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	json_object_foreach(o, key, v)
	{
		(void)v;
		if (key[0] != '_')
			n++;
	}
	return n;
}

static void diff(json_t *want, json_t *got, char *path, size_t cap,
		 int allow_extra, struct report *r);

static void diff_object(json_t *want, json_t *got, char *path, size_t cap,
			int allow_extra, struct report *r)
{
	size_t len = strlen(path);
	const char *key;
	json_t *v;

	json_object_foreach(want, key, v)
	{
		if (key[0] == '_')
			continue;
		snprintf(path + len, cap - len, ".%s", key);
		diff(v, json_object_get(got, key), path, cap, 0, r);
		path[len] = '\0';
	}
	if (!allow_extra && json_object_size(got) != data_members(want)) {
		json_object_foreach(got, key, v)
		{
			if (json_object_get(want, key))
				continue;
			snprintf(path + len, cap - len, ".%s (unexpected)",
				 key);
			mismatch(r, path, json_null(), v);
			path[len] = '\0';
		}
	}
}

/*
 * Reports every place where got differs from want: numbers within a
 * relative REL_TOL, objects with the same members (with allow_extra, got
 * may have more at this level), arrays element by element.
 */
static void diff(json_t *want, json_t *got, char *path, size_t cap,
		 int allow_extra, struct report *r)
{
	size_t len = strlen(path), i;

	if (!got) {
		mismatch(r, path, want, NULL);
	} else if (json_is_number(want) && json_is_number(got)) {
		if (!numbers_match(want, got, path))
			mismatch(r, path, want, got);
	} else if (json_typeof(want) != json_typeof(got)) {
		mismatch(r, path, want, got);
	} else if (json_is_object(want)) {
		diff_object(want, got, path, cap, allow_extra, r);
	} else if (json_is_array(want)) {
		if (json_array_size(want) != json_array_size(got)) {
			mismatch(r, path, want, got);
			return;
		}
		for (i = 0; i < json_array_size(want); i++) {
			snprintf(path + len, cap - len, "[%zu]", i);
			diff(json_array_get(want, i), json_array_get(got, i),
			     path, cap, 0, r);
			path[len] = '\0';
		}
	} else if (!json_equal(want, got)) {
		mismatch(r, path, want, got);
	}
}

/*
 * POSTs events[from..to) as one batch with key; asserts that none was
 * refused and returns how many were stored (the rest were duplicates).
 */
static json_int_t post_slice(const char *key, json_t *events, size_t from,
			     size_t to)
{
	json_t *batch = json_array();
	struct http_resp r;
	json_int_t accepted, dups;
	char *body;
	size_t i;

	for (i = from; i < to; i++)
		json_array_append(batch, json_array_get(events, i));
	body = json_dumps(batch, JSON_COMPACT | JSON_REAL_PRECISION(17));
	cr_assert_not_null(body);
	http_call(&h, "POST", "/v1/events", key, "application/json", body,
		  strlen(body), &r);
	free(body);
	json_decref(batch);
	cr_assert_eq(r.status, 200, "POST /v1/events: %ld %s", r.status,
		     r.body);
	cr_assert_eq(json_array_size(json_object_get(r.json, "rejected")), 0,
		     "fixture events rejected: %s", r.body);
	accepted = json_integer_value(json_object_get(r.json, "accepted"));
	dups = json_integer_value(json_object_get(r.json, "duplicates"));
	cr_assert_eq(accepted + dups, (json_int_t)(to - from),
		     "accepted + duplicates != batch: %s", r.body);
	http_resp_free(&r);
	return accepted;
}

/* Ingests every fixture event, in file order. */
static void load_fixture(void)
{
	json_t *events = json_object_get(fixture, "events");
	size_t n = json_array_size(events), i;

	cr_assert_gt(n, 0, "the fixture has no events");
	for (i = 0; i < n; i += MAX_BATCH)
		post_slice(h.key, events, i,
			   i + MAX_BATCH < n ? i + MAX_BATCH : n);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(none)";
}

/* GETs path; asserts 200 and a JSON object. */
static void get_ok(const char *path, struct http_resp *r)
{
	http_get(&h, path, r);
	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status,
		     r->body);
	cr_assert(json_is_object(r->json), "GET %s: not a JSON object: %s",
		  path, r->body);
}

/* The member of arr whose "key" equals key, or NULL. */
static json_t *by_key(json_t *arr, json_t *key)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
	{
		if (json_equal(json_object_get(v, "key"), key))
			return v;
	}
	return NULL;
}

/* Compares a reply's "groups" or "series" to the case's, by key. */
static void diff_keyed(json_t *want, json_t *got, const char *list,
		       const char *body, int allow_extra, struct report *r)
{
	json_t *wl = json_object_get(want, list);
	json_t *gl = json_object_get(got, list);
	json_t *w, *g, *wk;
	char path[512], *k;
	size_t i;

	cr_assert(json_is_array(gl), "%s: no '%s' array: %s", r->name, list,
		  body);
	cr_expect_eq(json_array_size(gl), json_array_size(wl),
		     "%s: %zu %s, expected %zu: %s", r->name,
		     json_array_size(gl), list, json_array_size(wl), body);
	json_array_foreach(wl, i, w)
	{
		wk = json_object_get(w, "key");
		k = json_canon(wk);
		g = by_key(gl, wk);
		if (!g) {
			cr_expect_fail("%s: no %s with key %s", r->name, list,
				       k);
		} else if (strcmp(list, "groups") == 0) {
			snprintf(path, sizeof(path), "groups%s.metrics", k);
			diff(json_object_get(w, "metrics"),
			     json_object_get(g, "metrics"), path, sizeof(path),
			     allow_extra, r);
		} else {
			snprintf(path, sizeof(path), "series%s.points", k);
			diff(json_object_get(w, "points"),
			     json_object_get(g, "points"), path, sizeof(path),
			     0, r);
		}
		free(k);
	}
}

/* Runs one GET /v1/kpis case of the fixture. */
static void run_scorecard(json_t *c)
{
	struct report rep = {str(c, "name"), MAX_REPORTS, 0};
	json_t *want = json_object_get(c, "expect");
	struct http_resp r;
	char path[64];
	const char *top[] = {"window_hours", "tz", "filters"};
	size_t i;

	get_ok(str(c, "path"), &r);
	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		snprintf(path, sizeof(path), "%s", top[i]);
		diff(json_object_get(want, top[i]),
		     json_object_get(r.json, top[i]), path, sizeof(path), 0,
		     &rep);
	}
	cr_expect(json_is_string(json_object_get(r.json, "from")) &&
		      json_is_string(json_object_get(r.json, "to")),
		  "%s: from and to echoed: %s", rep.name, r.body);
	diff_keyed(want, r.json, "groups", r.body,
		   json_is_true(json_object_get(c, "partial")), &rep);
	if (rep.mismatches)
		cr_log_info("%s: GET %s -> %s", rep.name, str(c, "path"),
			    r.body);
	http_resp_free(&r);
}

/* Runs one GET /v1/kpis/timeseries case of the fixture. */
static void run_timeseries(json_t *c)
{
	struct report rep = {str(c, "name"), MAX_REPORTS, 0};
	json_t *want = json_object_get(c, "expect");
	const char *top[] = {"metric", "interval", "tz"};
	struct http_resp r;
	char path[64];
	size_t i;

	get_ok(str(c, "path"), &r);
	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		snprintf(path, sizeof(path), "%s", top[i]);
		diff(json_object_get(want, top[i]),
		     json_object_get(r.json, top[i]), path, sizeof(path), 0,
		     &rep);
	}
	diff_keyed(want, r.json, "series", r.body, 0, &rep);
	if (rep.mismatches)
		cr_log_info("%s: GET %s -> %s", rep.name, str(c, "path"),
			    r.body);
	http_resp_free(&r);
}

/* Runs the cases of section whose "test" is test; asserts there are some. */
static void run_cases(const char *section, const char *test)
{
	json_t *cases = json_object_get(fixture, section), *c;
	size_t i, ran = 0;

	json_array_foreach(cases, i, c)
	{
		if (strcmp(str(c, "test"), test) != 0)
			continue;
		if (strcmp(section, "scorecards") == 0)
			run_scorecard(c);
		else
			run_timeseries(c);
		ran++;
	}
	cr_assert_gt(ran, 0, "no %s cases for '%s' in " FIXTURE, section, test);
}

Test(kpis, scorecard_of_the_fixture_week)
{
	load_fixture();
	run_cases("scorecards", "main");
}

Test(kpis, window_edges_for_reopens_and_repeat_contacts)
{
	load_fixture();
	run_cases("scorecards", "window");
}

Test(kpis, membership_goes_by_started_at_in_from_to)
{
	load_fixture();
	run_cases("scorecards", "membership");
}

Test(kpis, filters_and_cohort_baseline)
{
	load_fixture();
	run_cases("scorecards", "filters");
}

Test(kpis, group_by_one_and_two_keys)
{
	load_fixture();
	run_cases("scorecards", "grouping");
}

Test(kpis, filter_matching_nothing_gives_one_group_of_zeros)
{
	load_fixture();
	run_cases("scorecards", "empty");
}

Test(kpis, empty_tenant_gives_zeros_and_no_groups)
{
	run_cases("scorecards", "empty");
	run_cases("scorecards", "nodata");
}

Test(kpis, timeseries_days_and_hours_across_dst_in_berlin)
{
	load_fixture();
	run_cases("timeseries", "dst");
}

Test(kpis, timeseries_in_utc_hours_days_and_weeks)
{
	load_fixture();
	run_cases("timeseries", "utc");
}

Test(kpis, timeseries_grouped_by_channel)
{
	load_fixture();
	run_cases("timeseries", "grouped");
}

Test(kpis, arrival_order_and_duplicates_do_not_change_the_scorecard)
{
	json_t *events = json_object_get(fixture, "events");
	json_t *rev = json_array();
	size_t n = json_array_size(events), i, step = 37;

	for (i = n; i-- > 0;)
		json_array_append(rev, json_array_get(events, i));
	/* reversed, in uneven batches, then everything again */
	for (i = 0; i < n; i += step)
		post_slice(h.key, rev, i, i + step < n ? i + step : n);
	json_decref(rev);
	load_fixture();
	run_cases("scorecards", "main");
}

Test(kpis, other_tenants_events_change_nothing)
{
	json_t *other = json_object_get(fixture, "other_tenant_events");
	char name[64], id[37], key[64];
	size_t n = json_array_size(other);

	harness_tenant(&h, "kpis-other", name, id, key);
	cr_assert_eq(post_slice(key, other, 0, n), (json_int_t)n,
		     "ids are unique per tenant, not across tenants");
	load_fixture();
	cr_assert_eq(post_slice(key, other, 0, n), 0);
	run_cases("scorecards", "main");
	run_cases("scorecards", "window");
}

Test(kpis, invalid_parameters_are_400_naming_the_parameter)
{
	json_t *cases = json_object_get(fixture, "errors"), *c, *fields, *e;
	const char *field, *path;
	struct http_resp r;
	size_t i, j;
	int ok;

	cr_assert_gt(json_array_size(cases), 0);
	json_array_foreach(cases, i, c)
	{
		path = str(c, "path");
		fields = json_object_get(c, "field");
		http_get(&h, path, &r);
		e = json_object_get(r.json, "error");
		field = str(e, "field");
		ok = 0;
		for (j = 0; j < json_array_size(fields); j++)
			if (strcmp(field, json_string_value(
					      json_array_get(fields, j))) == 0)
				ok = 1;
		cr_expect_eq(r.status, 400, "%s: GET %s gave %ld: %s",
			     str(c, "name"), path, r.status, r.body);
		cr_expect_str_eq(str(e, "code"), "invalid_parameter",
				 "%s: GET %s: %s", str(c, "name"), path,
				 r.body);
		cr_expect(ok,
			  "%s: GET %s: error.field '%s' is not one of "
			  "the fixture's: %s",
			  str(c, "name"), path, field, r.body);
		http_resp_free(&r);
	}
}

static long sql_count(const char *fmt)
{
	return harness_sql_count(&h, fmt);
}

/*
 * Waits until the worker has derived the tenant's facts and rebuilt every
 * rollup hour and day they touched: queries then read rollup rows wherever
 * a day or hour lies inside one bucket, and the facts elsewhere.
 */
static void wait_for_rollups(void)
{
	int waited = 0;

	/*
	 * Pending first: a derivation deletes its pending rows and adds its
	 * marks in one commit, which may fall between the two counts; read
	 * the other way round, both could be 0 with marks still to come.
	 */
	while ((sql_count("SELECT count(*) FROM facts_pending WHERE "
			  "tenant_id = '%s'") > 0 ||
		sql_count("SELECT count(*) FROM kpi_marks WHERE tenant_id = "
			  "'%s'") > 0) &&
	       waited < 30000) {
		usleep(50 * 1000);
		waited += 50;
	}
	cr_assert_eq(sql_count("SELECT count(*) FROM kpi_marks WHERE "
			       "tenant_id = '%s'"),
		     0, "the worker left rollup marks after %d ms", waited);
	cr_assert_gt(sql_count("SELECT count(*) FROM kpi_rollup WHERE "
			       "tenant_id = '%s' AND span = 'd'"),
		     0, "rollup days were built");
}

Test(kpis, the_same_numbers_from_rollups_as_from_the_facts)
{
	static const char *const scorecards[] = {
	    "main", "window", "membership", "filters", "grouping", "empty"};
	static const char *const series[] = {"dst", "utc", "grouped"};
	size_t i;

	load_fixture();
	wait_for_rollups();
	for (i = 0; i < sizeof(scorecards) / sizeof(scorecards[0]); i++)
		run_cases("scorecards", scorecards[i]);
	for (i = 0; i < sizeof(series) / sizeof(series[0]); i++)
		run_cases("timeseries", series[i]);
}
