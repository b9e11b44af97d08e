/* SPDX-License-Identifier: MIT */
/*
 * Replays the public tau2-bench runs (tests/data/demo, MIT) through the
 * HTTP API and checks the totals the source data gives independently of
 * this service (shared data MAPPING: 228 conversations, 115 escalations,
 * 10 agent tool errors, USD 36.55 agent cost).
 */
#include "harness.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

TestSuite(demo_replay, .init = setup, .fini = teardown, .timeout = 120);

/* Posts the NDJSON file in chunks of at most 1000 lines. */
static long replay(const char *path)
{
	FILE *f = fopen(path, "r");
	char *chunk = NULL, line[65536];
	size_t len = 0, lines = 0;
	long accepted = 0;
	struct http_resp r;

	cr_assert_not_null(f, "cannot open %s", path);
	for (;;) {
		int eof = !fgets(line, sizeof(line), f);

		if (!eof) {
			chunk = xrealloc(chunk, len + strlen(line) + 1);
			strcpy(chunk + len, line);
			len += strlen(line);
			lines++;
		}
		if ((eof && lines) || lines == 1000) {
			http_call(&h, "POST", "/v1/events", h.key,
				  "application/x-ndjson", chunk, len, &r);
			cr_assert_eq(r.status, 200, "%s", r.body);
			cr_assert_eq(json_array_size(
					 json_object_get(r.json, "rejected")),
				     0, "%s", r.body);
			accepted += (long)json_integer_value(
			    json_object_get(r.json, "accepted"));
			http_resp_free(&r);
			len = 0;
			lines = 0;
		}
		if (eof)
			break;
	}
	free(chunk);
	fclose(f);
	return accepted;
}

static json_int_t num(json_t *metrics, const char *rate, const char *field)
{
	return json_integer_value(
	    json_object_get(json_object_get(metrics, rate), field));
}

Test(demo_replay, source_totals_survive_the_round_trip)
{
	struct http_resp r;
	json_t *m;
	double cost;

	cr_assert_eq(replay("tests/data/demo/tau2_events.ndjson"), 5288);
	http_get(&h,
		 "/v1/kpis?from=2025-10-05T00:00:00Z&to=2025-10-14T00:00:00Z",
		 &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	m = json_object_get(
	    json_object_get(
		json_array_get(json_object_get(r.json, "groups"), 0),
		"metrics"),
	    "conversations");
	cr_assert_eq(json_integer_value(m), 228);
	m = json_object_get(
	    json_array_get(json_object_get(r.json, "groups"), 0), "metrics");
	cr_assert_eq(num(m, "involvement_rate", "num"), 228,
		     "every run has an AI agent");
	cr_assert_eq(num(m, "escalation_rate", "num"), 115);
	cr_assert_eq(num(m, "escalation_rate", "den"), 228);
	cr_assert_eq(num(m, "tool_failure_rate", "num"), 10,
		     "agent-side tool errors");
	/* all cost over resolved conversations, times their number */
	cost = json_real_value(json_object_get(m, "cost_per_resolution")) *
	       (double)num(m, "turns_per_resolution", "n");
	cr_assert_float_eq(cost, 36.546, 0.005,
			   "agent cost of the ten runs, got %f", cost);
	http_resp_free(&r);

	/* replaying again changes nothing */
	cr_assert_eq(replay("tests/data/demo/tau2_events.ndjson"), 0);
}
