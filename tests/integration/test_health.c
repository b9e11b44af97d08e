/* SPDX-License-Identifier: MIT */
/*
 * Health, readiness, routing errors and the error envelope.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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

/*
 * Sends "GET target" straight to the socket (curl would not send the bytes
 * as they are) and reads the reply into buf. Returns the status.
 */
static long raw_get(const char *target, char *buf, size_t size)
{
	struct sockaddr_in addr = {0};
	size_t n = 0;
	ssize_t got;
	long status = 0;
	int fd;

	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)h.port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0 &&
		  connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	n = (size_t)snprintf(buf, size,
			     "GET %s HTTP/1.1\r\nHost: localhost\r\n"
			     "Connection: close\r\n\r\n",
			     target);
	cr_assert_eq(write(fd, buf, n), (ssize_t)n);
	n = 0;
	while (n + 1 < size && (got = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)got;
	buf[n] = '\0';
	close(fd);
	sscanf(buf, "HTTP/1.%*d %ld", &status);
	return status;
}

/* found by tests/fuzz/fuzz_query.c: the 404 quoted the path as it came */
Test(health, path_with_bytes_that_are_not_utf8_is_404_with_error_envelope)
{
	char buf[4096];
	const char *body;
	json_t *j;

	cr_assert_eq(raw_get("/v1/\xC3x\xFF", buf, sizeof(buf)), 404, "%s",
		     buf);
	body = strstr(buf, "\r\n\r\n");
	cr_assert_not_null(body, "%s", buf);
	j = json_loads(body + 4, 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(j, "error"), "code")),
			 "not_found", "%s", buf);
	json_decref(j);
}
