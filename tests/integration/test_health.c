/* SPDX-License-Identifier: MIT */
/*
 * Health, readiness, routing errors and the error envelope.
 */
#include "harness.h"

#include <criterion/criterion.h>
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

TestSuite(health, .init = setup, .fini = teardown);

Test(health, healthz_needs_no_key)
{
	struct http_resp r;

	http_call(&h, "GET", "/healthz", NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")),
			 "ok");
	cr_assert_eq(strlen(r.request_id), 36, "X-Request-Id on every reply");
	http_resp_free(&r);
}

Test(health, readyz_reports_database_and_migrations)
{
	struct http_resp r;

	http_call(&h, "GET", "/readyz", NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "body: %s", r.body);
	cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")),
			 "ready");
	cr_assert(json_is_integer(json_object_get(r.json, "facts_pending")),
		  "the derivation backlog is reported: %s", r.body);
	cr_assert_geq(
	    json_integer_value(json_object_get(r.json, "facts_pending")), 0);
	http_resp_free(&r);
}

Test(health, unknown_path_is_404_with_error_envelope)
{
	struct http_resp r;
	json_t *e;

	http_call(&h, "GET", "/v1/nope", NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 404);
	e = json_object_get(r.json, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "code")),
			 "not_found");
	cr_assert_str_eq(json_string_value(json_object_get(e, "request_id")),
			 r.request_id, "error names the request id");
	http_resp_free(&r);
}

Test(health, wrong_method_is_405_with_allow)
{
	struct http_resp r;

	http_call(&h, "DELETE", "/v1/events", h.key, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 405);
	cr_assert_str_eq(r.allow, "POST");
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(r.json, "error"), "code")),
			 "method_not_allowed");
	http_resp_free(&r);
}
