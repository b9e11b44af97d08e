/* SPDX-License-Identifier: MIT */
/*
 * Facts derived after ingest: the worker drains the pending marks without
 * any read, and a batch of duplicates marks nothing.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

TestSuite(derive, .init = setup, .fini = teardown);

static long sql_count(const char *fmt)
{
	return harness_sql_count(&h, fmt);
}

#define PENDING "SELECT count(*) FROM facts_pending WHERE tenant_id = '%s'"
#define DERIVED                                                                \
	"SELECT count(*) FROM conversations WHERE tenant_id = '%s'"            \
	" AND started_at IS NOT NULL AND status = 'resolved'"

static const char *const batch =
    "[{\"id\":\"d1\",\"type\":\"conversation.started\","
    "\"conversation_id\":\"dv1\",\"ts\":\"2026-11-21T10:00:00Z\"},"
    "{\"id\":\"d2\",\"type\":\"message\",\"author\":\"ai\","
    "\"conversation_id\":\"dv1\",\"ts\":\"2026-11-21T10:00:05Z\"},"
    "{\"id\":\"d3\",\"type\":\"resolved\",\"by\":\"ai\","
    "\"conversation_id\":\"dv1\",\"ts\":\"2026-11-21T10:01:00Z\"},"
    "{\"id\":\"d4\",\"type\":\"resolved\",\"by\":\"human\","
    "\"conversation_id\":\"dv2\",\"ts\":\"2026-11-21T11:00:00Z\"}]";

Test(derive, the_worker_derives_facts_without_a_read)
{
	struct http_resp r;
	int waited_ms = 0;

	http_post_events(&h, batch, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	/* no read happens: only the worker can empty the pending marks */
	while (sql_count(PENDING) > 0 && waited_ms < 10000) {
		usleep(50 * 1000);
		waited_ms += 50;
	}
	cr_assert_eq(sql_count(PENDING), 0, "the worker left marks after %d ms",
		     waited_ms);
	cr_assert_eq(sql_count(DERIVED), 2,
		     "both conversations are derived and resolved");
}

Test(derive, a_batch_of_duplicates_marks_nothing)
{
	struct http_resp r;

	http_post_events(&h, batch, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	/* a read finishes what is pending */
	http_get(&h, "/v1/conversations/dv1", &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	cr_assert_eq(sql_count(PENDING), 0, "the read derived everything");
	http_post_events(&h, batch, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert(strstr(r.body, "\"duplicates\":4"), "%s", r.body);
	http_resp_free(&r);
	cr_assert_eq(sql_count(PENDING), 0, "duplicates change nothing");
}
