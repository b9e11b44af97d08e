/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_TEST_GRAFANA_CLIENT_H
#define AGENTKPI_TEST_GRAFANA_CLIENT_H

/*
 * Helpers for the suites of the Grafana JSON datasource under /grafana:
 * a tenant with tests/data/grafana_fixture.json, request builders, and
 * accessors and expectations on the answers.
 */

#include "harness.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The fixture's range, Monday to Saturday: five day buckets, one week. */
#define GRAFANA_FROM "2026-03-02T00:00:00.000Z"
#define GRAFANA_TO "2026-03-07T00:00:00.000Z"
#define GRAFANA_HOUR_MS 3600000LL
#define GRAFANA_DAY_MS (24 * GRAFANA_HOUR_MS)
#define GRAFANA_NDAYS 5

/* The values of the stream key: ai_only, hybrid, human_only, none. */
#define GRAFANA_NSTREAMS 4
extern const char *const grafana_streams[GRAFANA_NSTREAMS];

/*
 * One suite's state: the service and its tenant (h), the parsed
 * tests/data files (owned, released by grafana_stop()) and GRAFANA_FROM
 * in ms.
 */
struct grafana {
	struct harness h;
	json_t *fixture; /* grafana_fixture.json: events by member */
	json_t *cases;	 /* grafana_cases.json: case tables by member */
	int64_t from_ms;
};

/*
 * The fixture tenant. grafana_start() starts the service and loads both
 * files, aborting the test on failure; grafana_stop() undoes it.
 */
void grafana_start(struct grafana *g);
void grafana_stop(struct grafana *g);

/* POSTs the fixture's member (an event array) with g's key; all accepted. */
void grafana_ingest(struct grafana *g, const char *member);

/*
 * Makes another tenant and ingests the fixture's "other_tenant_events"
 * there: events on the same days with other values.
 */
void grafana_ingest_other_tenant(struct grafana *g);

/*
 * Request bodies. Each returns a new reference (json_decref() it) and
 * steals its json_t arguments; strings are copied.
 */

/* A target as the plugin sends it; payload NULL: {}. */
json_t *grafana_tgt(const char *ref, const char *metric, json_t *payload);

/*
 * A /query body over [from, to) with targets, with some of the top-level
 * keys Grafana adds and agentkpi ignores.
 */
json_t *grafana_qreq(const char *from, const char *to, json_int_t interval_ms,
		     json_int_t max_dp, json_t *targets);

/* An ad hoc filter as Grafana sends it: {key, operator, value}. */
json_t *grafana_filter(const char *key, const char *op, const char *value);

/*
 * Requests with g's key. The json_t results are new references; the
 * assertions abort the test and say what was sent and answered.
 */

/*
 * POSTs body text (NULL: no body) to path as JSON and fills r, which the
 * caller releases with http_resp_free(). No assertion.
 */
void grafana_post_text(struct grafana *g, const char *path, const char *body,
		       struct http_resp *r);

/* POSTs j (stolen) to path; asserts 200 and a JSON array, returned. */
json_t *grafana_post_ok(struct grafana *g, const char *path, json_t *j);

/* POST /grafana/query with req (stolen), as grafana_post_ok(). */
json_t *grafana_query(struct grafana *g, json_t *req);

/*
 * /query of one target A of metric over [GRAFANA_FROM, GRAFANA_TO) by
 * days; payload stolen (NULL: {}).
 */
json_t *grafana_query_days(struct grafana *g, const char *metric,
			   json_t *payload);

/*
 * The "value" of the only row of metric's table over [GRAFANA_FROM,
 * GRAFANA_TO): payload (stolen, NULL: {}) gets format table, filters
 * (stolen, NULL: none) go under the request key fkey. Aborts the test
 * unless the answer is one table with one row and a number there.
 */
double grafana_table_value(struct grafana *g, const char *metric,
			   json_t *payload, const char *fkey, json_t *filters);

/* GET of the printf-formatted REST path; asserts 200 and an object. */
json_t *grafana_rest(struct grafana *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * GET /v1/kpis/timeseries of metric by days over [GRAFANA_FROM,
 * GRAFANA_TO), extra (NULL: none) appended to the query string
 * ("&group_by=channel"); as grafana_rest().
 */
json_t *grafana_timeseries(struct grafana *g, const char *metric,
			   const char *extra);

/*
 * Error replies: expects status, a non-empty top-level "message" (that
 * contains needle unless it is NULL) and an error envelope with a code.
 * These only mark the test failed; what names the request in messages
 * and r stays the caller's.
 */
void grafana_expect_error_reply(const struct http_resp *r, long status,
				const char *needle, const char *what);

/* POSTs body text (NULL: no body) to path, expecting such an error. */
void grafana_expect_error_text(struct grafana *g, const char *path,
			       const char *body, long status,
			       const char *needle);

/* As grafana_expect_error_text() with the text of j (stolen). */
void grafana_expect_error(struct grafana *g, const char *path, json_t *j,
			  long status, const char *needle);

/*
 * Reading answers. Returned json_t are borrowed from the argument and
 * live as long as it does; none of these takes a reference.
 */

/* The string member key of o, or "(none)" when it is not a string. */
const char *grafana_str(json_t *o, const char *key);

/* Compact text of j (any JSON value); free() it. Aborts on failure. */
char *grafana_dump(json_t *j);

/* t (RFC 3339) in ms since the epoch; aborts the test if it is not. */
int64_t grafana_ms(const char *t);

/* The member at the dotted path ("ai_only.mean") of o, or NULL. */
json_t *grafana_at(json_t *o, const char *path);

/*
 * The first element of the array arr whose member key is the string
 * value, or NULL (also when arr is not an array).
 */
json_t *grafana_find(json_t *arr, const char *key, const char *value);

/* The series of ans whose target is name; aborts the test if none. */
json_t *grafana_series(json_t *ans, const char *name);

/*
 * The one table of a one-target table answer ans, with refId ref;
 * aborts the test if ans is anything else.
 */
json_t *grafana_only_table(json_t *ans, const char *ref);

/* The index of the column of table with this text, or -1. */
long grafana_col(json_t *table, const char *text);

/* Row r's cell in the column of table with this text, or NULL. */
json_t *grafana_cell(json_t *table, size_t r, const char *text);

/*
 * The points of the series of a REST timeseries reply ts whose key is
 * key (NULL: the first series); aborts the test if there is none.
 */
json_t *grafana_rest_points(json_t *ts, json_t *key);

/*
 * Expectations: they mark the test failed and go on. None takes a
 * reference.
 */

/* True when a and b are both there and the same JSON (numbers by value). */
int grafana_same(json_t *a, json_t *b);

/*
 * Expects the series s to hold n points with values want (NAN: null),
 * the first at time first, point i > 0 at base + i * step.
 */
void grafana_expect_values(json_t *s, const double *want, size_t n,
			   int64_t first, int64_t base, int64_t step);

/*
 * As grafana_expect_values() for the GRAFANA_NDAYS day buckets of
 * [GRAFANA_FROM, GRAFANA_TO): want holds GRAFANA_NDAYS values.
 */
void grafana_expect_days(struct grafana *g, json_t *s, const double *want);

/*
 * Expects the datapoints of s to be the REST points: the figure at path
 * of each (a missing one is 0 with zero_missing), at the bucket start or
 * at start when the bucket begins before it.
 */
void grafana_expect_rest(json_t *s, json_t *points, const char *path,
			 int zero_missing, int64_t start);

#endif
