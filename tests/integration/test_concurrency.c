/* SPDX-License-Identifier: MIT */
/*
 * Concurrent ingest into conversations of the same customers: the stored
 * facts, including repeat gaps (which depend on the customer's other
 * conversations), must equal what a quiet rebuild computes afterwards.
 */
#include "cli.h"
#include "harness.h"
#include "derive.h"
#include "util.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define CONVERSATIONS 24
#define CUSTOMERS 3

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

TestSuite(concurrency, .init = setup, .fini = teardown, .timeout = 120);

/*
 * The events of conversation k: started, an AI answer, resolved, and for
 * some a topic change or a reopen; times interleave across conversations
 * of one customer so each new one can be another's repeat contact.
 */
static char *conversation_events(int k)
{
	static const char *const topics[] = {"billing", "login", "refund"};
	char *buf = xmalloc(2048);
	int minute = k * 7 % 50, cust = k % CUSTOMERS;

	snprintf(
	    buf, 2048,
	    "[{\"id\":\"c%d-s\",\"type\":\"conversation.started\","
	    "\"conversation_id\":\"c%d\",\"customer_id\":\"u%d\","
	    "\"segment\":{\"topic\":\"%s\"},"
	    "\"ts\":\"2026-11-02T10:%02d:00Z\"},"
	    "{\"id\":\"c%d-m\",\"type\":\"message\",\"author\":\"ai\","
	    "\"conversation_id\":\"c%d\",\"ts\":\"2026-11-02T10:%02d:30Z\"},"
	    "{\"id\":\"c%d-r\",\"type\":\"resolved\",\"by\":\"ai\","
	    "\"conversation_id\":\"c%d\",\"ts\":\"2026-11-02T10:%02d:50Z\"}"
	    "%s]",
	    k, k, cust, topics[k % 3], minute, k, k, minute, k, k, minute,
	    k % 4 == 0 ? ",{\"id\":\"x\",\"type\":\"reopened\","
			 "\"conversation_id\":\"c0\","
			 "\"ts\":\"2026-11-02T11:00:00Z\"}"
		       : "");
	return buf;
}

static void *worker(void *arg)
{
	int t = (int)(long)arg, k;
	struct http_resp r;
	char *body;

	/* each thread sends every conversation, in its own order */
	for (k = 0; k < CONVERSATIONS; k++) {
		body =
		    conversation_events((k * (t + 1) * 5 + t) % CONVERSATIONS);
		http_post_events(&h, body, &r);
		if (r.status != 200)
			fprintf(stderr, "ingest failed: %s\n", r.body);
		http_resp_free(&r);
		free(body);
	}
	return NULL;
}

/* conversation id -> repeat_gap_ms and status, as JSON text */
static char *snapshot(void)
{
	json_t *all = json_object(), *c;
	struct http_resp r;
	char *text;
	size_t i;

	http_get(&h, "/v1/conversations?limit=1000", &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	json_array_foreach(json_object_get(r.json, "conversations"), i, c)
	    json_object_set_new(
		all, json_string_value(json_object_get(c, "conversation_id")),
		json_pack("[O, O]", json_object_get(c, "repeat_gap_ms"),
			  json_object_get(c, "status")));
	http_resp_free(&r);
	text = json_canon(all);
	json_decref(all);
	return text;
}

/* How many conversations of a snapshot have a repeat gap. */
static int gaps(const char *snap)
{
	int n = 0;

	for (; *snap; snap++)
		if (snap[0] == '[' && snap[1] >= '0' && snap[1] <= '9')
			n++;
	return n;
}

Test(concurrency, parallel_ingest_keeps_repeat_gaps_exact)
{
	pthread_t th[THREADS];
	char *before, *after;
	struct err err;
	long n;
	int t;

	for (t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(long)t);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	before = snapshot();
	cr_assert(strstr(before, "\"c1\""), "conversations stored: %s", before);
	cr_assert_eq(derive_rebuild(service_db(h.svc), h.tenant_id, &n, &err),
		     0, "%s", err.msg);
	cr_assert_eq(n, CONVERSATIONS);
	after = snapshot();
	cr_assert_str_eq(before, after,
			 "facts after concurrent ingest differ from a rebuild");
	cr_assert_geq(gaps(after), CONVERSATIONS / 2,
		      "most conversations have a repeat contact: %s", after);
	free(before);
	free(after);
}

/* The metrics of the 2026-11-02 scorecard, without csat_delta. */
static json_t *scorecard(const char *extra)
{
	char path[256];
	struct http_resp r;
	json_t *m;

	snprintf(path, sizeof(path),
		 "/v1/kpis?from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z%s",
		 extra);
	http_get(&h, path, &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	m = json_object_get(
	    json_array_get(json_object_get(r.json, "groups"), 0), "metrics");
	cr_assert_not_null(m, "%s", r.body);
	json_incref(m);
	json_object_del(m, "csat_delta");
	http_resp_free(&r);
	return m;
}

Test(concurrency, rollups_built_during_parallel_ingest_match_the_facts)
{
	pthread_t th[THREADS];
	json_t *rollup, *facts;
	char where[256] = "";
	int t, waited = 0;

	for (t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(long)t);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	/*
	 * the worker rebuilt the hours while ingest went on; let it finish
	 * (pending first: a derivation's commit turns pending rows into marks)
	 */
	while ((harness_sql_count(&h, "SELECT count(*) FROM facts_pending "
				      "WHERE tenant_id = '%s'") > 0 ||
		harness_sql_count(&h, "SELECT count(*) FROM kpi_marks WHERE "
				      "tenant_id = '%s'") > 0) &&
	       waited < 30000) {
		usleep(50 * 1000);
		waited += 50;
	}
	cr_assert_gt(harness_sql_count(&h, "SELECT count(*) FROM kpi_rollup "
					   "WHERE tenant_id = '%s' AND span = "
					   "'d'"),
		     0, "the day was rebuilt after %d ms", waited);
	rollup = scorecard("");
	/* a cohort baseline cannot come from the rollup: the facts answer */
	facts = scorecard("&baseline=cohort:nobody");
	cr_assert(json_equivalent(rollup, facts, where, sizeof(where)),
		  "the rollup and the facts disagree at %s", where);
	json_decref(rollup);
	json_decref(facts);
}
