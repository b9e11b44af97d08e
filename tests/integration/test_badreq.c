/* SPDX-License-Identifier: MIT */
/*
 * The bad-request catalogue (issue 6): every malformed request of
 * tests/data/bad-requests.json gets its 4xx with the right code word in
 * the error envelope, the service keeps serving, and nothing is stored.
 * Then the 429 of per-key rate limits on three families of routes.
 */
#include "api.h"
#include "harness.h"
#include "keys.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_CASES 100

static struct harness h;

/* The limits the catalogue's cases are written against (its _about). */
static void catalogue_setup(void)
{
	setenv("MAX_URL_BYTES", "1024", 1);
	setenv("MAX_HEADER_BYTES", "2048", 1);
	setenv("MAX_QUERY_PARAMS", "8", 1);
	setenv("MAX_JSON_DEPTH", "8", 1);
	setenv("MAX_BODY_BYTES", "8192", 1);
	setenv("MAX_BATCH_EVENTS", "10", 1);
	setenv("TS_MAX_PAST_DAYS", "3650", 1);
	setenv("TS_MAX_FUTURE_SECONDS", "86400", 1);
	setenv("RATE_LIMIT_RPS", "0", 1);
	harness_start(&h);
}

static void rate_setup(void)
{
	setenv("RATE_LIMIT_RPS", "1", 1);
	setenv("RATE_LIMIT_BURST", "2", 1);
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

/* -- building a request from a case --------------------------------------- */

struct bytes {
	char *data;
	size_t len;
};

static void bytes_add(struct bytes *b, const char *s, size_t n)
{
	b->data = xrealloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Appends one part: a string, {hex} or {repeat, times, sep}. */
static void add_part(struct bytes *b, json_t *part, const char *name)
{
	const char *hex = json_string_value(json_object_get(part, "hex"));
	const char *rep = json_string_value(json_object_get(part, "repeat"));
	const char *sep = json_string_value(json_object_get(part, "sep"));
	json_int_t times = json_integer_value(json_object_get(part, "times"));
	size_t i;
	char c;

	if (json_is_string(part)) {
		bytes_add(b, json_string_value(part), json_string_length(part));
	} else if (hex) {
		for (i = 0; hex[i] && hex[i + 1]; i += 2) {
			if (hex_digit(hex[i]) < 0 || hex_digit(hex[i + 1]) < 0)
				cr_assert_fail("%s: bad hex '%s'", name, hex);
			c = (char)(hex_digit(hex[i]) * 16 +
				   hex_digit(hex[i + 1]));
			bytes_add(b, &c, 1);
		}
	} else if (rep && times > 0) {
		for (i = 0; i < (size_t)times; i++) {
			if (i && sep)
				bytes_add(b, sep, strlen(sep));
			bytes_add(b, rep, strlen(rep));
		}
	} else {
		cr_assert_fail("%s: a part must be a string, {hex} or "
			       "{repeat, times}",
			       name);
	}
}

/* The text of v, a string or an array of parts; data NULL when v is. */
static struct bytes text_of(json_t *v, const char *name)
{
	struct bytes b = {NULL, 0};
	json_t *part;
	size_t i;

	if (!v)
		return b;
	bytes_add(&b, "", 0);
	if (!json_is_array(v)) {
		add_part(&b, v, name);
		return b;
	}
	json_array_foreach(v, i, part)
	{
		add_part(&b, part, name);
	}
	return b;
}

/* The case's request headers, "Name: value" each, NULL-terminated. */
static char **headers_of(json_t *c, const char *name)
{
	json_t *hs = json_object_get(c, "headers"), *v;
	struct bytes b;
	const char *k;
	char **out = xcalloc(json_object_size(hs) + json_array_size(hs) + 2,
			     sizeof(*out));
	size_t n = 0, i;

	if (json_is_array(hs)) {
		json_array_foreach(hs, i, v)
		{
			b = text_of(v, name);
			out[n++] = b.data;
		}
	} else if (json_is_object(hs)) {
		json_object_foreach(hs, k, v)
		{
			b = text_of(v, name);
			out[n] = xmalloc(strlen(k) + b.len + 3);
			sprintf(out[n++], "%s: %s", k, b.data);
			free(b.data);
		}
	}
	/* a null content_type: none at all, not curl's form default */
	if (json_is_null(json_object_get(c, "content_type")))
		out[n++] = xstrdup("Content-Type:");
	return out;
}

static void headers_free(char **hs)
{
	size_t i;

	for (i = 0; hs[i]; i++)
		free(hs[i]);
	free(hs);
}

struct keys {
	char read_only[KEY_TEXT_LEN + 1];
	char ingest_only[KEY_TEXT_LEN + 1];
	char bogus[KEY_TEXT_LEN + 1];
};

static const char *key_of(const struct keys *k, const char *auth,
			  const char *name)
{
	if (!auth || strcmp(auth, "key") == 0)
		return h.key;
	if (strcmp(auth, "none") == 0)
		return NULL;
	if (strcmp(auth, "bogus") == 0)
		return k->bogus;
	if (strcmp(auth, "read-only") == 0)
		return k->read_only;
	if (strcmp(auth, "ingest-only") == 0)
		return k->ingest_only;
	cr_assert_fail("%s: unknown auth '%s'", name, auth);
	return NULL;
}

/* -- checking the answer --------------------------------------------------- */

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(none)";
}

/*
 * Whether r is the error c expects: status, code, field when given, a
 * message and the request id of the X-Request-Id header. Marks the test
 * failed with the case's name when not.
 */
static bool answer_ok(json_t *c, const char *name, const struct http_resp *r)
{
	json_t *err = json_object_get(r->json, "error");
	json_t *want_field = json_object_get(c, "field");
	json_t *field = json_object_get(err, "field");
	const char *code = str_of(c, "code");
	long status = (long)json_integer_value(json_object_get(c, "status"));
	bool ok = true;

	if (r->status != status || !json_is_object(err) ||
	    strcmp(str_of(err, "code"), code) != 0) {
		cr_expect_fail("%s: want %ld %s, got %ld %s", name, status,
			       code, r->status, r->body);
		return false;
	}
	if (!*str_of(err, "message") ||
	    strcmp(str_of(err, "message"), "(none)") == 0) {
		cr_expect_fail("%s: no error.message in %s", name, r->body);
		ok = false;
	}
	if (!r->request_id[0] ||
	    strcmp(str_of(err, "request_id"), r->request_id) != 0) {
		cr_expect_fail("%s: error.request_id is not X-Request-Id '%s': "
			       "%s",
			       name, r->request_id, r->body);
		ok = false;
	}
	if (json_is_null(want_field) && field && !json_is_null(field)) {
		cr_expect_fail("%s: want no field, got %s", name, r->body);
		ok = false;
	} else if (json_is_string(want_field) &&
		   !json_equal(want_field, field)) {
		cr_expect_fail("%s: want field '%s', got %s", name,
			       json_string_value(want_field), r->body);
		ok = false;
	}
	return ok;
}

/* Whether GET /healthz still answers 200 (marks the test failed if not). */
static bool still_serving(const char *after)
{
	struct http_resp r;
	bool ok;

	http_call(&h, "GET", "/healthz", NULL, NULL, NULL, 0, &r);
	ok = r.status == 200;
	if (!ok)
		cr_expect_fail("GET /healthz after '%s': %ld %s", after,
			       r.status, r.body);
	http_resp_free(&r);
	return ok;
}

/* Sends case c; true when it is answered as it says and /healthz is 200. */
static bool run_case(json_t *c, const struct keys *keys)
{
	const char *name = str_of(c, "name");
	const char *method = str_of(c, "method");
	json_t *ctype = json_object_get(c, "content_type");
	struct bytes path = text_of(json_object_get(c, "path"), name);
	struct bytes body = text_of(json_object_get(c, "body"), name);
	char **hdrs = headers_of(c, name);
	json_t *hex = json_object_get(c, "body_hex");
	struct http_resp r;
	bool ok;

	if (hex) {
		hex = json_pack("{s:O}", "hex", hex);
		free(body.data);
		body = text_of(hex, name);
		json_decref(hex);
	}
	cr_assert_not_null(path.data, "%s: no path", name);
	http_call_ex(
	    &h, method, path.data,
	    key_of(keys, json_string_value(json_object_get(c, "auth")), name),
	    json_is_string(ctype) ? json_string_value(ctype)
	    : body.data && !ctype ? "application/json"
				  : NULL,
	    (const char *const *)hdrs, body.data, body.len, &r);
	ok = answer_ok(c, name, &r);
	http_resp_free(&r);
	ok = still_serving(name) && ok;
	headers_free(hdrs);
	free(path.data);
	free(body.data);
	return ok;
}

/* -- route coverage -------------------------------------------------------- */

/* Whether path (its query dropped) matches a route pattern. */
static bool path_matches(const char *pattern, const char *path)
{
	size_t n = strcspn(path, "?");

	while (*pattern && n) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t seg = strcspn(path, "/?");

			if (!seg || seg > n)
				return false;
			path += seg;
			n -= seg;
			pattern += 2;
		} else if (*pattern++ == *path) {
			path++;
			n--;
		} else {
			return false;
		}
	}
	return !*pattern && !n;
}

/* The route of api_routes a case is for (by path and method), or -1. */
static int route_of(json_t *c)
{
	struct bytes path = text_of(json_object_get(c, "path"), "route");
	int found = -1;
	size_t i;

	for (i = 0; i < api_nroutes && found < 0; i++)
		if (path_matches(api_routes[i].pattern, path.data) &&
		    strcmp(api_routes[i].method, str_of(c, "method")) == 0)
			found = (int)i;
	free(path.data);
	return found;
}

/* -- the catalogue -----------------------------------------------------------
 */

TestSuite(badreq, .init = catalogue_setup, .fini = teardown, .timeout = 240);

Test(badreq, every_catalogued_bad_request_is_a_4xx_and_stores_nothing)
{
	json_t *data = load_test_data("bad-requests.json"), *c;
	json_t *cases = json_object_get(data, "cases");
	size_t ncases = json_array_size(cases), passed = 0, i;
	int per_route[64] = {0};
	struct keys keys;
	int k;

	cr_assert_leq(api_nroutes, 64);
	harness_key(&h, "read", keys.read_only);
	harness_key(&h, "ingest", keys.ingest_only);
	snprintf(keys.bogus, sizeof(keys.bogus), "ak_%064d", 0);
	json_array_foreach(cases, i, c)
	{
		if (run_case(c, &keys))
			passed++;
		if ((k = route_of(c)) >= 0)
			per_route[k]++;
	}
	printf("bad requests: %zu cases, %zu passed\n", ncases, passed);
	fflush(stdout);
	cr_expect_geq(ncases, MIN_CASES, "the catalogue holds %zu cases",
		      ncases);
	cr_expect_eq(passed, ncases, "%zu of %zu cases failed", ncases - passed,
		     ncases);
	for (i = 0; i < api_nroutes; i++)
		cr_expect_gt(per_route[i], 0, "no case for %s %s",
			     api_routes[i].method, api_routes[i].pattern);
	/* the catalogue holds only requests that must store nothing */
	cr_expect_eq(harness_sql_count(&h, "SELECT count(*) FROM events"
					   " WHERE tenant_id = '%s'"),
		     0, "events were stored");
	cr_expect_eq(harness_sql_count(&h, "SELECT count(*) FROM conversations"
					   " WHERE tenant_id = '%s'"),
		     0, "conversations were stored");
	cr_expect_eq(harness_sql_count(&h, "SELECT count(*) FROM "
					   "dimension_values WHERE tenant_id "
					   "= '%s'"),
		     0, "dimension values were stored");
	json_decref(data);
}

/* -- rate limits -------------------------------------------------------------
 */

TestSuite(badreq_rate, .init = rate_setup, .fini = teardown);

/*
 * Three quick requests with a fresh key (RATE_LIMIT_BURST=2,
 * RATE_LIMIT_RPS=1): the first two pass, the third is 429 rate_limited
 * with Retry-After in whole seconds.
 */
static void third_is_429(const char *scopes, const char *method,
			 const char *path, const char *body)
{
	char key[KEY_TEXT_LEN + 1];
	struct http_resp r;
	json_t *err;
	int i;

	harness_key(&h, scopes, key);
	for (i = 0; i < 3; i++) {
		http_call(&h, method, path, key,
			  body ? "application/json" : NULL, body,
			  body ? strlen(body) : 0, &r);
		if (i < 2) {
			cr_assert_eq(r.status, 200, "%s %s #%d: %ld %s", method,
				     path, i + 1, r.status, r.body);
			http_resp_free(&r);
		}
	}
	err = json_object_get(r.json, "error");
	cr_assert_eq(r.status, 429, "%s %s #3: %ld %s", method, path, r.status,
		     r.body);
	cr_assert_str_eq(str_of(err, "code"), "rate_limited", "%s", r.body);
	cr_assert_str_eq(str_of(err, "field"), "Authorization", "%s", r.body);
	cr_assert(atoi(r.retry_after) >= 1 &&
		      strspn(r.retry_after, "0123456789") ==
			  strlen(r.retry_after),
		  "%s %s: Retry-After '%s'", method, path, r.retry_after);
	http_resp_free(&r);
}

Test(badreq_rate, the_third_quick_request_of_each_route_family_is_429)
{
	struct http_resp r;

	third_is_429("ingest", "POST", "/v1/events", "[]");
	third_is_429("read", "GET", "/v1/conversations?limit=1", NULL);
	third_is_429("read", "POST", "/grafana/metrics", "{}");
	/* routes without a key are not limited */
	http_call(&h, "GET", "/healthz", NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
	http_resp_free(&r);
}
