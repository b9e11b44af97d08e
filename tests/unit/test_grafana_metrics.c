/* SPDX-License-Identifier: MIT */
/*
 * How each KPI shows in Grafana (api/grafana.c): every scorecard metric
 * has an entry, and the figure picked for a stat and component.
 */
#include "grafana.h"
#include "kpi.h"

#include <criterion/criterion.h>
#include <string.h>

Test(grafana_metrics, every_scorecard_metric_is_described)
{
	const struct grafana_metric *m;
	const char *const *names;
	size_t i, n;

	names = kpi_metric_names(&n);
	cr_assert_geq(n, 32);
	for (i = 0; i < n; i++) {
		m = grafana_metric_find(names[i]);
		cr_assert_not_null(m, "no Grafana entry for %s", names[i]);
		cr_expect_not_null(m->stats[0], "%s has no stat", names[i]);
		cr_expect_eq(m->dim == NULL, m->comps == NULL,
			     "%s: a component column needs components",
			     names[i]);
	}
	cr_expect_null(grafana_metric_find("resolution_rte"));
	cr_expect_null(grafana_metric_find(GRAFANA_ANNOTATIONS));
}

static double pick_num(const char *metric, const char *json, const char *comp,
		       const char *stat)
{
	const struct grafana_metric *m = grafana_metric_find(metric);
	json_t *v = json_loads(json, 0, NULL), *x;
	double d;

	cr_assert_not_null(m);
	cr_assert_not_null(v, "bad test JSON %s", json);
	x = grafana_pick(m, v, comp, stat);
	cr_assert(json_is_number(x), "%s %s %s: not a number", metric,
		  comp ? comp : "-", stat);
	d = json_number_value(x);
	json_decref(x);
	json_decref(v);
	return d;
}

static int pick_is_null(const char *metric, const char *json, const char *comp,
			const char *stat)
{
	const struct grafana_metric *m = grafana_metric_find(metric);
	json_t *v = json_loads(json, 0, NULL), *x;
	int null;

	x = grafana_pick(m, v, comp, stat);
	null = json_is_null(x);
	json_decref(x);
	json_decref(v);
	return null;
}

Test(grafana_metrics, picks_the_stat_of_a_rate)
{
	const char *r = "{\"value\": 0.25, \"num\": 1, \"den\": 4,"
			" \"ci95\": [0.05, 0.7]}";

	cr_expect_float_eq(pick_num("true_resolution_rate", r, NULL, "value"),
			   0.25, 1e-12);
	cr_expect_float_eq(pick_num("true_resolution_rate", r, NULL, "den"), 4,
			   1e-12);
	cr_expect_float_eq(
	    pick_num("true_resolution_rate", r, NULL, "ci95_high"), 0.7, 1e-12);
	cr_expect(pick_is_null("true_resolution_rate",
			       "{\"value\": null, \"num\": 0, \"den\": 0,"
			       " \"ci95\": null}",
			       NULL, "ci95_low"));
}

Test(grafana_metrics, picks_components)
{
	const char *csat =
	    "{\"ai_only\": {\"n\": 3, \"mean\": 4.5, \"satisfied_rate\":"
	    " {\"value\": 0.75}, \"response_rate\": {\"value\": 0.5}},"
	    " \"hybrid\": {\"n\": 0, \"mean\": null}}";

	cr_expect_float_eq(pick_num("csat", csat, "ai_only", "mean"), 4.5,
			   1e-12);
	cr_expect_float_eq(pick_num("csat", csat, "ai_only", "satisfied_rate"),
			   0.75, 1e-12);
	cr_expect(pick_is_null("csat", csat, "hybrid", "mean"));
	cr_expect(pick_is_null("csat", csat, "human_only", "mean"));
	/* a reason with no escalation is left out of the object: it is 0 */
	cr_expect_float_eq(pick_num("escalation_reasons", "{\"policy\": 2}",
				    "ai_unable", "value"),
			   0, 1e-12);
	cr_expect_float_eq(pick_num("by_stream",
				    "{\"ai_only\": 7, \"hybrid\": 1}",
				    "ai_only", "value"),
			   7, 1e-12);
}

Test(grafana_metrics, units_follow_the_stat)
{
	const struct grafana_metric *m = grafana_metric_find("csat");

	cr_expect_str_eq(grafana_stat_unit(m, "mean"), "none");
	cr_expect_str_eq(grafana_stat_unit(m, "satisfied_rate"), "percentunit");
	m = grafana_metric_find("escalation_rate");
	cr_expect_str_eq(grafana_stat_unit(m, "value"), "percentunit");
	cr_expect_str_eq(grafana_stat_unit(m, "num"), "none");
	m = grafana_metric_find("time_to_resolution_s");
	cr_expect_str_eq(grafana_stat_unit(m, "p90"), "s");
}
