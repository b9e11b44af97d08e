/* SPDX-License-Identifier: MIT */
/*
 * Limits and abuse (issue 6): oversized request lines and headers, too
 * many parameters, deep or duplicate-keyed JSON, timestamps outside the
 * acceptance window, requests whose every event is rejected, API keys
 * (256 bits, cache and revocation, last use, legacy keys) and per-key
 * rate limits. Each suite sets its own limits before the service starts.
 */
#include "cli.h"
#include "harness.h"
#include "ingest.h"
#include "keys.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct harness h;

static void limits_setup(void)
{
	setenv("MAX_URL_BYTES", "1024", 1);
	setenv("MAX_HEADER_BYTES", "2048", 1);
	setenv("MAX_QUERY_PARAMS", "8", 1);
	setenv("MAX_JSON_DEPTH", "8", 1);
	setenv("TS_MAX_PAST_DAYS", "30", 1);
	setenv("TS_MAX_FUTURE_SECONDS", "60", 1);
	setenv("KEY_CACHE_MS", "300", 1);
	harness_start(&h);
}

static void rate_setup(void)
{
	setenv("RATE_LIMIT_RPS", "2", 1);
	setenv("RATE_LIMIT_BURST", "3", 1);
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

/* The error code word of a reply ("" when it has none). */
static const char *code_of(const struct http_resp *r)
{
	const char *c = json_string_value(
	    json_object_get(json_object_get(r->json, "error"), "code"));

	return c ? c : "";
}

/* A time ms from now, RFC 3339, in buf (TIME_BUF_LEN). */
static const char *from_now(int64_t ms, char *buf)
{
	return time_format_ms(time_now_ms() + ms, buf);
}

/* The service still answers: GET /healthz is 200. */
static void assert_serving(void)
{
	struct http_resp r;

	http_call(&h, "GET", "/healthz", NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "the service stopped answering");
	http_resp_free(&r);
}

TestSuite(limits, .init = limits_setup, .fini = teardown);

/* -- request line and headers ------------------------------------------ */

Test(limits, url_longer_than_max_url_bytes_is_414_in_json)
{
	char *path = xmalloc(2100);
	struct http_resp r;

	strcpy(path, "/v1/conversations/");
	memset(path + 18, 'a', 2000);
	path[2018] = '\0';
	http_get(&h, path, &r);
	cr_assert_eq(r.status, 414, "%ld %s", r.status, r.body);
	cr_assert_str_eq(code_of(&r), "uri_too_long", "%s", r.body);
	http_resp_free(&r);
	/* the query string counts too */
	strcpy(path, "/v1/kpis?topic=");
	memset(path + 15, 'b', 1100);
	path[1115] = '\0';
	http_get(&h, path, &r);
	cr_assert_eq(r.status, 414, "%ld %s", r.status, r.body);
	http_resp_free(&r);
	free(path);
	assert_serving();
}

Test(limits, headers_larger_than_max_header_bytes_are_431_in_json)
{
	char *pad = xmalloc(3100);
	const char *hdrs[2] = {pad, NULL};
	struct http_resp r;

	strcpy(pad, "X-Pad: ");
	memset(pad + 7, 'p', 3000);
	pad[3007] = '\0';
	http_call_ex(&h, "GET", "/v1/conversations", h.key, NULL, hdrs, NULL, 0,
		     &r);
	cr_assert_eq(r.status, 431, "%ld %s", r.status, r.body);
	cr_assert_str_eq(code_of(&r), "headers_too_large", "%s", r.body);
	http_resp_free(&r);
	free(pad);
	assert_serving();
}

Test(limits, more_query_parameters_than_allowed_is_400)
{
	struct http_resp r;

	http_get(&h, "/v1/kpis?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", &r);
	cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
	cr_assert_str_eq(code_of(&r), "too_many_parameters", "%s", r.body);
	http_resp_free(&r);
}

/* -- JSON ---------------------------------------------------------------- */

Test(limits, json_nested_deeper_than_allowed_is_400_and_stores_nothing)
{
	char ts[TIME_BUF_LEN], body[512];
	struct http_resp r;

	from_now(-60000, ts);
	snprintf(body, sizeof(body),
		 "[{\"id\":\"d-1\",\"type\":\"conversation.started\","
		 "\"conversation_id\":\"c-deep\",\"ts\":\"%s\"},"
		 "{\"id\":\"d-2\",\"type\":\"conversation.started\","
		 "\"conversation_id\":\"c-deep\",\"ts\":\"%s\","
		 "\"x\":[[[[[[[[[1]]]]]]]]]}]",
		 ts, ts);
	http_post_events(&h, body, &r);
	cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
	cr_assert_str_eq(code_of(&r), "invalid_json", "%s", r.body);
	cr_assert(strstr(r.body, "deeper than 8"), "%s", r.body);
	http_resp_free(&r);
	ingest_assert_absent(&h, "c-deep");
}

Test(limits, duplicate_json_keys_are_400_and_store_nothing)
{
	char ts[TIME_BUF_LEN], body[512];
	struct http_resp r;

	from_now(-60000, ts);
	snprintf(body, sizeof(body),
		 "{\"id\":\"k-1\",\"type\":\"conversation.started\","
		 "\"conversation_id\":\"c-dup\",\"conversation_id\":\"c-dup2\","
		 "\"ts\":\"%s\"}",
		 ts);
	http_post_events(&h, body, &r);
	cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
	cr_assert_str_eq(code_of(&r), "invalid_json", "%s", r.body);
	cr_assert(strstr(r.body, "duplicate"), "%s", r.body);
	http_resp_free(&r);
	ingest_assert_absent(&h, "c-dup");
	ingest_assert_absent(&h, "c-dup2");
}

/* -- timestamps ---------------------------------------------------------- */

Test(limits, ts_outside_the_acceptance_window_is_rejected_naming_ts)
{
	char old[TIME_BUF_LEN], future[TIME_BUF_LEN], ok[TIME_BUF_LEN];
	struct http_resp r;

	from_now(-31LL * 86400000, old); /* TS_MAX_PAST_DAYS=30 */
	from_now(120000, future);	 /* TS_MAX_FUTURE_SECONDS=60 */
	from_now(-1000, ok);
	ingest_post_json(&h, ingest_ev_started("w-old", "c-window", old), &r);
	cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
	ingest_assert_rejection(json_array_get(ingest_rejected_of(&r), 0), 0,
				"w-old", "invalid_field", "ts");
	cr_assert_str_eq(code_of(&r), "invalid_field", "%s", r.body);
	http_resp_free(&r);
	ingest_post_json(
	    &h,
	    json_pack("[o, o]", ingest_ev_started("w-ok", "c-window", ok),
		      ingest_ev_started("w-fut", "c-window", future)),
	    &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	ingest_assert_rejection(json_array_get(ingest_rejected_of(&r), 0), 1,
				"w-fut", "invalid_field", "ts");
	ingest_assert_counts(&r, 1, 0, 1);
	ingest_assert_conv_count(&h, "c-window", 1);
}

Test(limits, a_request_whose_every_event_is_rejected_is_400)
{
	char ts[TIME_BUF_LEN];
	struct http_resp r;

	from_now(-1000, ts);
	ingest_post_json(
	    &h,
	    json_pack("[o, {s:s, s:s, s:s}]",
		      ingest_ev_message("r-1", "c-allbad", ts, "robot"), "type",
		      "conversation.started", "conversation_id", "c-allbad",
		      "ts", ts),
	    &r);
	cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
	cr_assert_str_eq(code_of(&r), "invalid_field", "%s", r.body);
	cr_assert_eq(ingest_count_of(&r, "accepted"), 0, "%s", r.body);
	cr_assert_eq(ingest_count_of(&r, "duplicates"), 0, "%s", r.body);
	cr_assert_eq(json_array_size(ingest_rejected_of(&r)), 2, "%s", r.body);
	http_resp_free(&r);
	ingest_assert_absent(&h, "c-allbad");
}

/* -- API keys ------------------------------------------------------------ */

Test(limits, keys_are_256_bit_and_shown_with_their_prefix)
{
	size_t i;

	cr_assert_eq(strlen(h.key), 67, "ak_ + 64 hex digits: %s", h.key);
	cr_assert_eq(strncmp(h.key, "ak_", 3), 0);
	for (i = 3; i < 67; i++)
		cr_assert(hex_digit(h.key[i]) >= 0, "hex: %s", h.key);
}

Test(limits, a_revoked_key_is_refused_within_key_cache_ms)
{
	char key[KEY_TEXT_LEN + 1], id[37];
	struct http_resp r;
	struct err err;

	cr_assert_eq(
	    keys_create(service_db(h.svc), h.tenant, SCOPE_READ, key, id, &err),
	    0, "%s", err.msg);
	http_call(&h, "GET", "/v1/conversations", key, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	http_resp_free(&r);
	cr_assert_eq(keys_revoke(service_db(h.svc), id, &err), 0, "%s",
		     err.msg);
	usleep(400 * 1000); /* KEY_CACHE_MS=300 */
	http_call(&h, "GET", "/v1/conversations", key, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 401, "%ld %s", r.status, r.body);
	cr_assert_str_eq(code_of(&r), "unauthorized", "%s", r.body);
	http_resp_free(&r);
}

Test(limits, a_key_records_when_it_was_last_used)
{
	char key[KEY_TEXT_LEN + 1], id[37], sql[256];
	struct http_resp r;
	struct err err;

	cr_assert_eq(
	    keys_create(service_db(h.svc), h.tenant, SCOPE_READ, key, id, &err),
	    0, "%s", err.msg);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM api_keys WHERE tenant_id = '%%s'"
		 " AND id = '%s' AND last_used_at IS NOT NULL",
		 id);
	cr_assert_eq(harness_sql_count(&h, sql), 0, "never used yet");
	http_call(&h, "GET", "/v1/conversations", key, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	http_resp_free(&r);
	cr_assert_eq(harness_sql_count(&h, sql), 1, "last use recorded");
}

Test(limits, a_key_made_before_256_bit_keys_still_works)
{
	char legacy[KEY_TEXT_LEN_LEGACY + 1], hash[65], sql[512], *o;
	const char *t;
	struct http_resp r;

	/*
	 * 40 hex digits of this test's own (the tenant id's 32, then 8
	 * more): the key hash is unique in the whole database, which the
	 * sanitizer run of make test shares with the normal one
	 */
	strcpy(legacy, "ak_");
	for (t = h.tenant_id, o = legacy + 3; *t; t++)
		if (*t != '-')
			*o++ = *t;
	strcpy(o, "01234567");
	cr_assert_eq(strlen(legacy), KEY_TEXT_LEN_LEGACY, "%s", legacy);
	keys_hash(legacy, hash);
	snprintf(sql, sizeof(sql),
		 "WITH k AS (INSERT INTO api_keys (id, tenant_id, key_hash,"
		 " prefix, scopes) VALUES (gen_random_uuid(), '%%s', '%s',"
		 " '%.11s', '{read}') RETURNING 1) SELECT count(*) FROM k",
		 hash, legacy);
	cr_assert_eq(harness_sql_count(&h, sql), 1);
	http_call(&h, "GET", "/v1/conversations", legacy, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	http_resp_free(&r);
}

/* -- rate limits --------------------------------------------------------- */

TestSuite(rate, .init = rate_setup, .fini = teardown);

/* GET /v1/conversations with key: the status. */
static long get_status(const char *key, struct http_resp *keep)
{
	struct http_resp r;
	long status;

	http_call(&h, "GET", "/v1/conversations", key, NULL, NULL, 0, &r);
	status = r.status;
	if (keep)
		*keep = r;
	else
		http_resp_free(&r);
	return status;
}

Test(rate, a_key_past_its_burst_gets_429_with_retry_after_then_recovers)
{
	struct http_resp r;
	int i;

	for (i = 0; i < 3; i++) /* RATE_LIMIT_BURST=3 */
		cr_assert_eq(get_status(h.key, NULL), 200, "request %d", i);
	cr_assert_eq(get_status(h.key, &r), 429, "%s", r.body);
	cr_assert_str_eq(code_of(&r), "rate_limited", "%s", r.body);
	cr_assert(atoi(r.retry_after) >= 1, "Retry-After: '%s'", r.retry_after);
	http_resp_free(&r);
	usleep(600 * 1000); /* RATE_LIMIT_RPS=2: a token every 500 ms */
	cr_assert_eq(get_status(h.key, NULL), 200, "a token came back");
	assert_serving();
}

Test(rate, each_key_has_its_own_bucket)
{
	char other[KEY_TEXT_LEN + 1];
	int i;

	harness_key(&h, "read", other);
	for (i = 0; i < 3; i++)
		get_status(h.key, NULL);
	cr_assert_eq(get_status(h.key, NULL), 429);
	cr_assert_eq(get_status(other, NULL), 200, "another key is not held");
}

Test(rate, a_tenant_limit_replaces_the_default)
{
	struct err err;
	int i;

	/* no limit for this tenant (KEY_CACHE_MS=0: applies at once) */
	cr_assert_eq(
	    keys_tenant_set_limit(service_db(h.svc), h.tenant, 0, 1, &err), 0,
	    "%s", err.msg);
	for (i = 0; i < 10; i++)
		cr_assert_eq(get_status(h.key, NULL), 200, "request %d", i);
	/* 1 request per second, no burst */
	cr_assert_eq(
	    keys_tenant_set_limit(service_db(h.svc), h.tenant, 1, 1, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(get_status(h.key, NULL), 200);
	cr_assert_eq(get_status(h.key, NULL), 429);
}
