/* SPDX-License-Identifier: MIT */
/*
 * Conversation facts over HTTP: the case table of tests/data, the same
 * events in any order with any duplicates, and rebuilding facts.
 */
#include "harness.h"
#include "cli.h"
#include "derive.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANDOM_PERMUTATIONS 8
#define MAX_EVENTS 64
#define MAX_STREAM (3 * MAX_EVENTS)
#define ONE_BATCH 0 /* ingest_plan: every event in one request */

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

TestSuite(facts_http, .init = setup, .fini = teardown);

struct tenant {
	char name[64];
	char id[37];
	char key[96];
};

/* A fixed-seed generator, so a failing permutation can be replayed. */
static uint32_t rng_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

static size_t rng_below(uint64_t *s, size_t n)
{
	return rng_next(s) % n;
}

static const char *case_name(json_t *c)
{
	return json_string_value(json_object_get(c, "name"));
}

static const char *case_conversation(json_t *c)
{
	return json_string_value(
	    json_object_get(json_array_get(json_object_get(c, "events"), 0),
			    "conversation_id"));
}

/* Number of distinct event ids of a case (its data may repeat some). */
static long distinct_ids(json_t *events)
{
	json_t *seen = json_object(), *ev;
	size_t i;
	long n;

	json_array_foreach(events, i, ev) json_object_set(
	    seen, json_string_value(json_object_get(ev, "id")), json_true());
	n = (long)json_object_size(seen);
	json_decref(seen);
	return n;
}

/*
 * POSTs batch (a JSON array of events) with key, asserts that nothing
 * was rejected and that accepted + duplicates covers the batch, and
 * returns the number accepted.
 */
static long post_batch(const char *key, json_t *batch, const char *what)
{
	struct http_resp r;
	char *body = json_dumps(batch, JSON_COMPACT | JSON_REAL_PRECISION(17));
	long accepted, dups;

	cr_assert_not_null(body);
	http_call(&h, "POST", "/v1/events", key, "application/json", body,
		  strlen(body), &r);
	free(body);
	cr_assert_eq(r.status, 200, "%s: POST /v1/events gave %ld: %s", what,
		     r.status, r.body);
	cr_assert_eq(json_array_size(json_object_get(r.json, "rejected")), 0,
		     "%s: events rejected: %s", what, r.body);
	accepted =
	    (long)json_integer_value(json_object_get(r.json, "accepted"));
	dups = (long)json_integer_value(json_object_get(r.json, "duplicates"));
	cr_assert_eq(accepted + dups, (long)json_array_size(batch),
		     "%s: accepted + duplicates != batch size: %s", what,
		     r.body);
	http_resp_free(&r);
	return accepted;
}

/* The "conversation" object of GET /v1/conversations/{id}; new reference. */
static json_t *get_facts(const char *key, const char *conv, const char *what)
{
	struct http_resp r;
	char path[512];
	json_t *facts;

	snprintf(path, sizeof(path), "/v1/conversations/%s", conv);
	http_call(&h, "GET", path, key, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "%s: GET %s gave %ld: %s", what, path,
		     r.status, r.body);
	facts = json_object_get(r.json, "conversation");
	cr_assert(json_is_object(facts), "%s: no conversation object: %s", what,
		  r.body);
	json_incref(facts);
	http_resp_free(&r);
	return facts;
}

/* Ingests a case's events in file order, in one batch, into h's tenant. */
static json_t *ingest_in_order(const char *key, json_t *c)
{
	json_t *events = json_object_get(c, "events");
	long accepted = post_batch(key, events, case_name(c));

	cr_assert_eq(accepted, distinct_ids(events),
		     "case '%s': accepted %ld of %ld distinct events",
		     case_name(c), accepted, distinct_ids(events));
	return get_facts(key, case_conversation(c), case_name(c));
}

static void new_tenant(struct tenant *t)
{
	harness_tenant(&h, "facts", t->name, t->id, t->key);
}

/*
 * Asserts got is exactly want (json_equal); on failure names the case,
 * the variant and the first differing path.
 */
static void assert_same_facts(json_t *want, json_t *got, const char *name,
			      const char *variant)
{
	char path[256] = "";
	char *a, *b;

	if (json_equal(want, got))
		return;
	json_equivalent(want, got, path, sizeof(path));
	a = json_canon(want);
	b = json_canon(got);
	cr_assert_fail("case '%s', %s: facts differ at '%s'\n in order: %s\n"
		       " this way: %s",
		       name, variant, path[0] ? path : "(number form)", a, b);
}

/*
 * Ingests the events idx[0..m) of a case, in that order, into a fresh
 * tenant, in batches of 1..max_batch events (or all in one batch with
 * ONE_BATCH); with resend, some batches
 * are sent twice. Returns the facts (new reference).
 */
static json_t *ingest_plan(json_t *c, const size_t *idx, size_t m,
			   size_t max_batch, int resend, uint64_t *rng,
			   const char *variant)
{
	json_t *events = json_object_get(c, "events"), *batch;
	struct tenant t;
	char what[512];
	size_t pos = 0, size, k;
	long accepted = 0, again;

	new_tenant(&t);
	snprintf(what, sizeof(what), "case '%s', %s", case_name(c), variant);
	while (pos < m) {
		size =
		    max_batch == ONE_BATCH ? m : 1 + rng_below(rng, max_batch);
		if (size > m - pos)
			size = m - pos;
		batch = json_array();
		for (k = 0; k < size; k++)
			json_array_append(batch,
					  json_array_get(events, idx[pos + k]));
		accepted += post_batch(t.key, batch, what);
		if (resend && rng_below(rng, 3) == 0) {
			again = post_batch(t.key, batch, what);
			cr_assert_eq(again, 0,
				     "%s: a re-sent batch stored %ld events",
				     what, again);
		}
		json_decref(batch);
		pos += size;
	}
	cr_assert_eq(accepted, distinct_ids(events),
		     "%s: accepted %ld events in all, want %ld", what, accepted,
		     distinct_ids(events));
	return get_facts(t.key, case_conversation(c), what);
}

static void shuffle(size_t *idx, size_t n, uint64_t *rng)
{
	size_t i, j, tmp;

	for (i = n; i > 1; i--) {
		j = rng_below(rng, i);
		tmp = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = tmp;
	}
}

/* Formats idx as "3,0,2,..." for failure messages. */
static void describe(const char *label, const size_t *idx, size_t m, char *out,
		     size_t len)
{
	size_t used, i;

	used = (size_t)snprintf(out, len, "%s, order", label);
	for (i = 0; i < m && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%zu",
					 i ? "," : " ", idx[i]);
}

Test(facts_http, cases_give_the_expected_facts)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *got;
	size_t i, failed = 0;
	char path[256];

	cr_assert_gt(json_array_size(cases), 0);
	json_array_foreach(cases, i, c)
	{
		got = ingest_in_order(h.key, c);
		cr_expect(json_is_string(json_object_get(got, "last_event_at")),
			  "case '%s': no last_event_at", case_name(c));
		json_object_del(got, "last_event_at");
		/* depends on other conversations: tested in test_kpis */
		json_object_del(got, "repeat_gap_ms");
		path[0] = '\0';
		if (!json_equivalent(json_object_get(c, "facts"), got, path,
				     sizeof(path))) {
			char *want = json_canon(json_object_get(c, "facts"));
			char *have = json_canon(got);

			cr_expect_fail("case '%s': facts differ at '%s'\n"
				       " want: %s\n got:  %s",
				       case_name(c), path, want, have);
			free(want);
			free(have);
			failed++;
		}
		json_decref(got);
	}
	cr_assert_eq(failed, 0, "%zu of %zu cases differ", failed,
		     json_array_size(cases));
	json_decref(cases);
}

Test(facts_http, last_event_at_is_the_latest_event_in_utc)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *ev, *got;
	char want[TIME_BUF_LEN];
	int64_t ms, latest;
	size_t i, j;

	json_array_foreach(cases, i, c)
	{
		latest = INT64_MIN;
		json_array_foreach(json_object_get(c, "events"), j, ev)
		{
			cr_assert_eq(
			    time_parse_rfc3339(
				json_string_value(json_object_get(ev, "ts")),
				&ms),
			    0);
			if (ms > latest)
				latest = ms;
		}
		got = ingest_in_order(h.key, c);
		time_format_ms(latest, want);
		cr_expect_str_eq(
		    json_string_value(json_object_get(got, "last_event_at")),
		    want, "case '%s': last_event_at", case_name(c));
		json_decref(got);
	}
	json_decref(cases);
}

Test(facts_http, window_checks_follow_the_reopen_gap)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *chk, *got;
	json_t *gap;
	long long window_ms, g;
	size_t i, j;
	int want, have;

	json_array_foreach(cases, i, c)
	{
		got = ingest_in_order(h.key, c);
		gap = json_object_get(got, "reopen_gap_ms");
		cr_assert(json_is_null(gap) || json_is_integer(gap),
			  "case '%s': reopen_gap_ms is neither null nor an "
			  "integer",
			  case_name(c));
		json_array_foreach(json_object_get(c, "window_checks"), j, chk)
		{
			window_ms = json_integer_value(
					json_object_get(chk, "window_hours")) *
				    HOUR_MS;
			want = json_is_true(
			    json_object_get(chk, "reopened_within"));
			g = json_is_null(gap) ? -1 : json_integer_value(gap);
			have = g > 0 && g <= window_ms;
			cr_expect_eq(have, want,
				     "case '%s': reopened within %lld h is %d "
				     "(reopen_gap_ms %lld), want %d",
				     case_name(c), window_ms / HOUR_MS, have, g,
				     want);
		}
		json_decref(got);
	}
	json_decref(cases);
}

Test(facts_http, same_events_in_random_orders_give_the_same_facts)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *want, *got;
	size_t idx[MAX_EVENTS], i, n, k, p;
	uint64_t rng = 20261121;
	char variant[512];

	json_array_foreach(cases, i, c)
	{
		n = json_array_size(json_object_get(c, "events"));
		cr_assert_leq(n, MAX_EVENTS);
		want = ingest_in_order(h.key, c);
		for (p = 0; p < RANDOM_PERMUTATIONS; p++) {
			for (k = 0; k < n; k++)
				idx[k] = k;
			shuffle(idx, n, &rng);
			describe("random permutation", idx, n, variant,
				 sizeof(variant));
			got = ingest_plan(c, idx, n, 4, 0, &rng, variant);
			assert_same_facts(want, got, case_name(c), variant);
			json_decref(got);
		}
		json_decref(want);
	}
	json_decref(cases);
}

Test(facts_http, reversed_order_gives_the_same_facts)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *want, *got;
	size_t idx[MAX_EVENTS], i, n, k;
	uint64_t rng = 7;

	json_array_foreach(cases, i, c)
	{
		n = json_array_size(json_object_get(c, "events"));
		cr_assert_leq(n, MAX_EVENTS);
		want = ingest_in_order(h.key, c);
		for (k = 0; k < n; k++)
			idx[k] = n - 1 - k;
		/* one event per request: every prefix is stored on its own */
		got = ingest_plan(c, idx, n, 1, 0, &rng,
				  "reversed, one event per request");
		assert_same_facts(want, got, case_name(c),
				  "reversed, one event per request");
		json_decref(got);
		got = ingest_plan(c, idx, n, ONE_BATCH, 0, &rng,
				  "reversed, one batch");
		assert_same_facts(want, got, case_name(c),
				  "reversed, one batch");
		json_decref(got);
		json_decref(want);
	}
	json_decref(cases);
}

/*
 * Random orders where some events appear two or three times, within a
 * batch and across batches, and whole batches are sent again.
 */
Test(facts_http, duplicates_and_resent_batches_change_nothing)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *want, *got;
	size_t idx[MAX_STREAM], i, n, m, k, p, extra;
	uint64_t rng = 424242;
	char variant[1024];

	json_array_foreach(cases, i, c)
	{
		n = json_array_size(json_object_get(c, "events"));
		cr_assert_leq(n, MAX_EVENTS);
		want = ingest_in_order(h.key, c);
		for (p = 0; p < RANDOM_PERMUTATIONS; p++) {
			for (k = 0; k < n; k++)
				idx[k] = k;
			extra = 1 + rng_below(&rng, n + 1);
			for (m = n, k = 0; k < extra; k++)
				idx[m++] = rng_below(&rng, n);
			shuffle(idx, m, &rng);
			describe("duplicates and re-sends", idx, m, variant,
				 sizeof(variant));
			got = ingest_plan(c, idx, m, 5, 1, &rng, variant);
			assert_same_facts(want, got, case_name(c), variant);
			json_decref(got);
		}
		json_decref(want);
	}
	json_decref(cases);
}

/*
 * After every prefix of a reversed ingest, the facts equal those of the
 * same set of events sent at once in file order to another tenant: the
 * facts stored along the way are right, not only the final ones.
 */
Test(facts_http, facts_after_each_late_event_match_a_fresh_ingest)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *events;
	json_t *one, *subset, *got, *want;
	struct tenant step, fresh;
	size_t i, n, k, j;
	char what[512];

	json_array_foreach(cases, i, c)
	{
		events = json_object_get(c, "events");
		n = json_array_size(events);
		new_tenant(&step);
		for (k = n; k-- > 0;) {
			snprintf(what, sizeof(what),
				 "events %zu..%zu sent last first", k, n - 1);
			one = json_pack("[O]", json_array_get(events, k));
			post_batch(step.key, one, what);
			json_decref(one);
			got = get_facts(step.key, case_conversation(c), what);
			subset = json_array();
			for (j = k; j < n; j++)
				json_array_append(subset,
						  json_array_get(events, j));
			new_tenant(&fresh);
			post_batch(fresh.key, subset, what);
			want = get_facts(fresh.key, case_conversation(c), what);
			assert_same_facts(want, got, case_name(c), what);
			json_decref(subset);
			json_decref(want);
			json_decref(got);
		}
	}
	json_decref(cases);
}

/* Overwrites stored facts with wrong ones through the facts upsert. */
static void tamper(const char *tenant_id, json_t *facts_rows)
{
	struct db_conn *conn;
	struct db_res *res;
	struct err err;
	char *text = json_dumps(facts_rows, JSON_COMPACT);
	const char *params[2] = {tenant_id, text};

	cr_assert_not_null(text);
	conn = db_acquire(service_db(h.svc), &err);
	cr_assert_not_null(conn, "db_acquire: %s", err.msg);
	res = db_exec(conn, Q_FACTS_UPSERT, params, &err);
	cr_assert_not_null(res, "facts upsert: %s", err.msg);
	db_res_free(res);
	db_release(service_db(h.svc), conn);
	free(text);
}

/* A copy of facts with wrong counts, status, stream and segment. */
static json_t *wrong_facts(json_t *facts)
{
	json_t *w = json_deep_copy(facts);

	json_object_set_new(w, "turns", json_integer(999));
	json_object_set_new(w, "status", json_string("abandoned"));
	json_object_set_new(w, "stream", json_string("none"));
	json_object_set_new(w, "cost_usd", json_real(123.5));
	json_object_set_new(json_object_get(w, "segment"), "topic",
			    json_string("tampered"));
	return w;
}

static void rebuild(const char *tenant_id, long want_count)
{
	struct err err;
	long count = -1;

	cr_assert_eq(derive_rebuild(service_db(h.svc), tenant_id, &count, &err),
		     0, "derive_rebuild: %s", err.msg);
	cr_assert_eq(count, want_count, "rebuilt %ld conversations, want %ld",
		     count, want_count);
}

Test(facts_http, rebuild_restores_the_facts_of_every_case)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *got;
	json_t *before = json_object(), *wrong = json_array();
	size_t i;

	json_array_foreach(cases, i, c)
	{
		got = ingest_in_order(h.key, c);
		json_object_set_new(before, case_conversation(c), got);
		json_array_append_new(wrong, wrong_facts(got));
	}
	tamper(h.tenant_id, wrong);
	got = get_facts(h.key, case_conversation(json_array_get(cases, 0)),
			"after tampering");
	cr_assert_eq(json_integer_value(json_object_get(got, "turns")), 999,
		     "tampering did not reach the stored facts");
	json_decref(got);

	rebuild(h.tenant_id, (long)json_array_size(cases));
	json_array_foreach(cases, i, c)
	{
		got = get_facts(h.key, case_conversation(c), "after rebuild");
		assert_same_facts(json_object_get(before, case_conversation(c)),
				  got, case_name(c), "after rebuild");
		json_decref(got);
	}
	/* a second rebuild changes nothing */
	rebuild(h.tenant_id, (long)json_array_size(cases));
	json_array_foreach(cases, i, c)
	{
		got = get_facts(h.key, case_conversation(c),
				"after a second rebuild");
		assert_same_facts(json_object_get(before, case_conversation(c)),
				  got, case_name(c), "after a second rebuild");
		json_decref(got);
	}
	json_decref(wrong);
	json_decref(before);
	json_decref(cases);
}

Test(facts_http, rebuild_touches_only_its_tenant)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *a, *b, *got;
	json_t *wrong;
	struct tenant other;

	c = json_array_get(cases, 0);
	new_tenant(&other);
	a = ingest_in_order(h.key, c);
	b = ingest_in_order(other.key, c);
	wrong = json_pack("[o]", wrong_facts(b));
	tamper(other.id, wrong);

	rebuild(h.tenant_id, 1);
	got = get_facts(other.key, case_conversation(c), "other tenant");
	cr_assert_eq(json_integer_value(json_object_get(got, "turns")), 999,
		     "rebuilding one tenant rewrote another tenant's facts");
	json_decref(got);
	got = get_facts(h.key, case_conversation(c), "rebuilt tenant");
	assert_same_facts(a, got, case_name(c), "rebuilt tenant");
	json_decref(got);

	rebuild(other.id, 1);
	got = get_facts(other.key, case_conversation(c), "other, rebuilt");
	assert_same_facts(b, got, case_name(c), "other tenant rebuilt");
	json_decref(got);
	json_decref(wrong);
	json_decref(a);
	json_decref(b);
	json_decref(cases);
}

/* GET /v1/conversations, every page, as one array; new reference. */
static json_t *list_all(const char *key)
{
	json_t *all = json_array(), *next;
	struct http_resp r;
	char path[2048];
	char *cursor = NULL;

	for (;;) {
		if (cursor)
			snprintf(path, sizeof(path),
				 "/v1/conversations?limit=1000&cursor=%s",
				 cursor);
		else
			snprintf(path, sizeof(path),
				 "/v1/conversations?limit=1000");
		free(cursor);
		cursor = NULL;
		http_call(&h, "GET", path, key, NULL, NULL, 0, &r);
		cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status,
			     r.body);
		json_array_extend(all,
				  json_object_get(r.json, "conversations"));
		next = json_object_get(r.json, "next_cursor");
		if (json_is_string(next))
			cursor = xstrdup(json_string_value(next));
		http_resp_free(&r);
		if (!cursor)
			break;
	}
	return all;
}

/* More conversations than one rebuild page (500) holds. */
Test(facts_http, rebuild_covers_more_than_one_page_of_conversations)
{
	json_t *batch = json_array(), *before, *wrong, *after, *f;
	char conv[32], id[48], ts[TIME_BUF_LEN];
	const int total = 1100;
	size_t i;
	int k;

	for (k = 0; k < total; k++) {
		/* mixed case and punctuation: ids are paged byte-wise */
		snprintf(conv, sizeof(conv), "%s-%04d",
			 k % 3 == 0   ? "Rb"
			 : k % 3 == 1 ? "rb"
				      : "rb_x",
			 k);
		snprintf(id, sizeof(id), "%s/m", conv);
		time_format_ms(1795168800000LL + (int64_t)k * 1000, ts);
		json_array_append_new(
		    batch, json_pack("{s:s, s:s, s:s, s:s, s:s, s:f}", "id", id,
				     "type", "message", "conversation_id", conv,
				     "ts", ts, "author", k % 2 ? "ai" : "human",
				     "cost_usd", 0.5));
		if (json_array_size(batch) == 550) {
			cr_assert_eq(post_batch(h.key, batch, "rebuild paging"),
				     550);
			json_array_clear(batch);
		}
	}
	json_decref(batch);
	before = list_all(h.key);
	cr_assert_eq(json_array_size(before), (size_t)total);
	wrong = json_array();
	json_array_foreach(before, i, f)
	    json_array_append_new(wrong, wrong_facts(f));
	tamper(h.tenant_id, wrong);
	json_decref(wrong);

	rebuild(h.tenant_id, total);
	after = list_all(h.key);
	cr_assert_eq(json_array_size(after), (size_t)total);
	json_array_foreach(before, i, f) assert_same_facts(
	    f, json_array_get(after, i),
	    json_string_value(json_object_get(f, "conversation_id")),
	    "after rebuilding 1100 conversations");
	json_decref(before);
	json_decref(after);
}
