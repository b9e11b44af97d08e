/* SPDX-License-Identifier: MIT */
/*
 * Minute slices of recent hours (migration 0012, docs/kpi-rollups.md):
 * conversations of the last hour are kept as minute rollup rows, and a
 * read of those hours must give exactly what the facts give, whether the
 * minutes are freshly rebuilt or some are still marked. An hour sliced
 * long enough ago is built whole and loses its slices.
 */
#include "harness.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONVERSATIONS 60

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

TestSuite(slices, .init = setup, .fini = teardown, .timeout = 120);

/* ISO 8601 UTC of epoch seconds t. */
static const char *iso(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/*
 * Conversation k of a run (prefix p), started at t0: chat, email or voice;
 * agent v1 or v2; then by k % 4 resolved by the AI with a 5, handed to a
 * human who resolves it with a 3, resolved and reopened, or left open.
 */
static void conversation(const char *p, int k, time_t t0, char *buf, size_t len)
{
	static const char *const channels[] = {"chat", "email", "voice"};
	static const char *const ends[] = {
	    ",{\"id\":\"%s%d-r\",\"type\":\"resolved\",\"by\":\"ai\","
	    "\"conversation_id\":\"%s%d\",\"ts\":\"%s\"},"
	    "{\"id\":\"%s%d-f\",\"type\":\"feedback\",\"csat\":5,"
	    "\"conversation_id\":\"%s%d\",\"ts\":\"%s\"}",
	    ",{\"id\":\"%s%d-h\",\"type\":\"handoff\",\"reason\":"
	    "\"customer_requested\",\"conversation_id\":\"%s%d\",\"ts\":\"%s\"}"
	    ","
	    "{\"id\":\"%s%d-r\",\"type\":\"resolved\",\"by\":\"human\","
	    "\"conversation_id\":\"%s%d\",\"ts\":\"%s\"}",
	    ",{\"id\":\"%s%d-r\",\"type\":\"resolved\",\"by\":\"ai\","
	    "\"conversation_id\":\"%s%d\",\"ts\":\"%s\"},"
	    "{\"id\":\"%s%d-o\",\"type\":\"reopened\","
	    "\"conversation_id\":\"%s%d\",\"ts\":\"%s\"}",
	    ""};
	char a[32], b[32], c[32], d[32], end[512];
	int n;

	snprintf(end, sizeof(end), ends[k % 4], p, k, p, k, iso(t0 + 9, c, 32),
		 p, k, p, k, iso(t0 + 12, d, 32));
	n = snprintf(
	    buf, len,
	    "[{\"id\":\"%s%d-s\",\"type\":\"conversation.started\","
	    "\"conversation_id\":\"%s%d\",\"customer_id\":\"u%d\","
	    "\"segment\":{\"channel\":\"%s\"},\"agent_version\":\"v%d\","
	    "\"ts\":\"%s\"},"
	    "{\"id\":\"%s%d-m\",\"type\":\"message\",\"author\":\"ai\","
	    "\"cost_usd\":0.05,\"conversation_id\":\"%s%d\",\"ts\":\"%s\"}"
	    "%s]",
	    p, k, p, k, k % 7, channels[k % 3], 1 + k % 2, iso(t0, a, 32), p, k,
	    p, k, iso(t0 + 3 + k % 5, b, 32), end);
	cr_assert_lt(n, (int)len);
}

/* Posts CONVERSATIONS conversations, started from now - ago_s back. */
static void post_run(const char *p, time_t now, long ago_s, long step_s)
{
	char body[2048];
	struct http_resp r;
	int k;

	for (k = 0; k < CONVERSATIONS; k++) {
		conversation(p, k, now - ago_s - k * step_s, body,
			     sizeof(body));
		http_post_events(&h, body, &r);
		cr_assert_eq(r.status, 200, "%s", r.body);
		http_resp_free(&r);
	}
}

/*
 * Waits until the worker has derived every fact and done every hour and
 * minute mark (the current day's mark stays until the day is over).
 */
static void wait_settled(void)
{
	long left = 0;
	int waited;

	for (waited = 0; waited < 30000; waited += 50) {
		left = harness_sql_count(
		    &h, "WITH t AS (SELECT '%s'::uuid AS id) SELECT"
			" (SELECT count(*) FROM kpi_marks m, t"
			" WHERE m.tenant_id = t.id AND m.span <> 'd')"
			" + (SELECT count(*) FROM facts_pending p, t"
			" WHERE p.tenant_id = t.id)");
		if (left == 0)
			break;
		usleep(50 * 1000);
	}
	cr_assert_eq(left, 0, "work left after %d ms", waited);
}

/* The tenant's sliced hours, and its minute rollup rows. */
static long sliced_hours(void)
{
	return harness_sql_count(
	    &h, "SELECT count(*) FROM kpi_sliced WHERE tenant_id = '%s'");
}

static long minute_rows(void)
{
	return harness_sql_count(&h, "SELECT count(*) FROM kpi_rollup WHERE "
				     "tenant_id = '%s' AND span = 's'");
}

/* GET path (with and without a baseline that only the facts answer). */
static json_t *read_kpis(const char *path, int facts)
{
	char full[512];
	struct http_resp r;
	json_t *out;

	snprintf(full, sizeof(full), "%s%s", path,
		 facts ? "&baseline=cohort:nobody" : "");
	http_get(&h, full, &r);
	cr_assert_eq(r.status, 200, "GET %s: %s", full, r.body);
	out = json_object_get(r.json, "series");
	if (!out) {
		size_t i;
		json_t *g;

		out = json_object_get(r.json, "groups");
		json_array_foreach(out, i, g) json_object_del(
		    json_object_get(g, "metrics"), "csat_delta");
	}
	cr_assert_not_null(out, "%s", r.body);
	json_incref(out);
	http_resp_free(&r);
	return out;
}

/* The rollup answer to path equals the facts answer. */
static void expect_same(const char *path)
{
	json_t *rollup = read_kpis(path, 0), *facts = read_kpis(path, 1);
	char where[256] = "";

	cr_expect(json_equivalent(rollup, facts, where, sizeof(where)),
		  "GET %s: the rollup and the facts disagree at %s", path,
		  where);
	json_decref(rollup);
	json_decref(facts);
}

/* Reads over the last hours: whole hours, odd edges, groups, zones. */
static void expect_all_same(time_t now)
{
	char from[32], to[32], path[256];
	time_t h0 = now - now % 3600 - 2 * 3600;

	iso(h0, from, sizeof(from));
	iso(now + 3600, to, sizeof(to));
	snprintf(path, sizeof(path), "/v1/kpis?from=%s&to=%s", from, to);
	expect_same(path);
	snprintf(path, sizeof(path),
		 "/v1/kpis?from=%s&to=%s&group_by=channel,agent_version", from,
		 to);
	expect_same(path);
	snprintf(path, sizeof(path),
		 "/v1/kpis/timeseries?from=%s&to=%s&metric=true_resolution_rate"
		 "&interval=1h&tz=Asia/Kolkata&group_by=channel",
		 from, to);
	expect_same(path);
	snprintf(path, sizeof(path),
		 "/v1/kpis/timeseries?from=%s&to=%s&metric=time_to_"
		 "resolution_s&interval=1h",
		 from, to);
	expect_same(path);
	/* a whole UTC day holding sliced hours (its day rows are not used) */
	h0 = (now - 1800) - (now - 1800) % 86400;
	snprintf(path, sizeof(path), "/v1/kpis?from=%s&to=%s&group_by=stream",
		 iso(h0, from, sizeof(from)), iso(h0 + 86400, to, sizeof(to)));
	expect_same(path);
	/* edges inside minutes */
	iso(now - 37 * 60 - 13, from, sizeof(from));
	iso(now - 3 * 60 + 7, to, sizeof(to));
	snprintf(path, sizeof(path), "/v1/kpis?from=%s&to=%s&channel=chat",
		 from, to);
	expect_same(path);
}

Test(slices, recent_hours_read_from_minute_slices_match_the_facts)
{
	char body[2048];
	struct http_resp r;
	time_t now = time(NULL);

	/* one conversation a minute over the last hour */
	post_run("a", now, 20, 61);
	wait_settled();
	cr_assert_gt(sliced_hours(), 0, "the recent hours are sliced");
	cr_assert_gt(minute_rows(), 0, "minute rows were built");
	expect_all_same(now);

	/*
	 * A change in the middle of the sliced hours (a reopen, a late
	 * CSAT) and a new conversation: read at once, with their minutes
	 * still marked, and again once they are rebuilt.
	 */
	conversation("b", 0, now - 5, body, sizeof(body));
	http_post_events(&h, body, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	snprintf(body, sizeof(body),
		 "[{\"id\":\"late-o\",\"type\":\"reopened\","
		 "\"conversation_id\":\"a8\",\"ts\":\"%s\"},"
		 "{\"id\":\"late-f\",\"type\":\"feedback\",\"csat\":1,"
		 "\"conversation_id\":\"a13\",\"ts\":\"%s\"}]",
		 iso(now - 2, (char[32]){0}, 32),
		 iso(now - 1, (char[32]){0}, 32));
	http_post_events(&h, body, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	expect_all_same(now);
	wait_settled();
	expect_all_same(now);
}

Test(slices, an_hour_sliced_two_hours_ago_is_built_whole)
{
	time_t now = time(NULL);
	time_t hour = (now - 150 * 60) - (now - 150 * 60) % 3600;
	char t[32], sql[1024];

	/* conversations in an hour that ended more than an hour ago */
	post_run("o", now, 150 * 60, 1);
	wait_settled();
	cr_assert_eq(sliced_hours(), 0, "an old hour is not sliced");
	/*
	 * As if it had been sliced while it was recent: sliced, its minutes
	 * marked, its hour rows gone. The worker must build it whole.
	 */
	iso(hour, t, sizeof(t));
	snprintf(
	    sql, sizeof(sql),
	    "WITH x AS (SELECT '%%s'::uuid AS id, '%s'::timestamptz AS h),"
	    " s AS (INSERT INTO kpi_sliced SELECT id, h FROM x),"
	    " m AS (INSERT INTO kpi_marks SELECT id, 's',"
	    " h + k * interval '1 minute' FROM x, generate_series(0, 59) k),"
	    " r AS (DELETE FROM kpi_rollup USING x WHERE tenant_id = x.id"
	    " AND span = 'h' AND t = x.h RETURNING 1)"
	    " SELECT count(*) FROM r",
	    t);
	cr_assert_gt(harness_sql_count(&h, sql), 0, "the hour had rows");
	for (int waited = 0; waited < 30000 && sliced_hours() > 0; waited += 50)
		usleep(50 * 1000);
	wait_settled();
	cr_assert_eq(sliced_hours(), 0, "the hour is no longer sliced");
	cr_assert_eq(minute_rows(), 0, "its minute rows are gone");
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM kpi_rollup WHERE tenant_id = '%%s'"
		 " AND span = 'h' AND t = '%s'",
		 t);
	cr_assert_gt(harness_sql_count(&h, sql), 0, "its hour rows are back");
	expect_all_same(now);
}
