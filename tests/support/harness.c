/* SPDX-License-Identifier: MIT */
/*
 * The integration-test harness: the real service on port 0 against a real
 * PostgreSQL, a fresh tenant per test, and a small libcurl client.
 */
#include "harness.h"
#include "cli.h"
#include "config.h"
#include "keys.h"
#include "log.h"
#include "util.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void harness_tenant(struct harness *h, const char *prefix, char *tenant,
		    char *tenant_id, char *key)
{
	char uuid[37], key_id[37];
	struct err err;
	bool created;

	util_uuid(uuid);
	snprintf(tenant, 64, "%s-%.13s", prefix, uuid);
	if (keys_tenant_create(service_db(h->svc), tenant, false, tenant_id,
			       &created, &err) < 0)
		cr_assert_fail("cannot create tenant: %s", err.msg);
	if (keys_create(service_db(h->svc), tenant,
			SCOPE_INGEST | SCOPE_READ | SCOPE_ADMIN, key, key_id,
			&err) < 0)
		cr_assert_fail("cannot create key: %s", err.msg);
}

void harness_start(struct harness *h)
{
	struct config cfg;
	struct err err;

	memset(h, 0, sizeof(*h));
	if (!getenv("DATABASE_URL"))
		cr_assert_fail(
		    "integration tests need DATABASE_URL (run make test)");
	setenv("LISTEN", "127.0.0.1:0", 1);
	setenv("HTTP_THREADS", "2", 0);
	setenv("DB_POOL_SIZE", "2", 0);
	setenv("LOG_LEVEL", "warn", 0);
	if (config_load(&cfg, &err) < 0)
		cr_assert_fail("config: %s", err.msg);
	h->svc = service_start(&cfg, 0, &err);
	if (!h->svc) {
		config_release(&cfg);
		cr_assert_fail("cannot start the service: %s", err.msg);
	}
	h->port = service_port(h->svc);
	harness_tenant(h, "t", h->tenant, h->tenant_id, h->key);
}

void harness_stop(struct harness *h)
{
	service_stop(h->svc);
	h->svc = NULL;
	curl_global_cleanup();
}

void harness_key(struct harness *h, const char *scopes, char *key_out)
{
	char key_id[37];
	struct err err;
	int s;

	if (keys_parse_scopes(scopes, &s, &err) < 0 ||
	    keys_create(service_db(h->svc), h->tenant, s, key_out, key_id,
			&err) < 0)
		cr_assert_fail("cannot create key: %s", err.msg);
}

struct buf {
	char *data;
	size_t len;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	b->data = xrealloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static void header_value(const char *line, size_t n, const char *name,
			 char *out, size_t outlen)
{
	size_t k = strlen(name);

	if (n > k + 1 && strncasecmp(line, name, k) == 0 && line[k] == ':') {
		line += k + 1;
		n -= k + 1;
		while (n && *line == ' ') {
			line++;
			n--;
		}
		while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
			n--;
		snprintf(out, outlen, "%.*s", (int)n, line);
	}
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_resp *resp = arg;
	size_t n = size * nmemb;

	header_value(ptr, n, "X-Request-Id", resp->request_id,
		     sizeof(resp->request_id));
	header_value(ptr, n, "Allow", resp->allow, sizeof(resp->allow));
	header_value(ptr, n, "Retry-After", resp->retry_after,
		     sizeof(resp->retry_after));
	return n;
}

void http_call(struct harness *h, const char *method, const char *path,
	       const char *key, const char *content_type, const char *body,
	       size_t body_len, struct http_resp *resp)
{
	struct curl_slist *hdrs = NULL;
	struct buf b = {NULL, 0};
	char url[2048], line[256];
	CURLcode rc;
	CURL *c;

	memset(resp, 0, sizeof(*resp));
	c = curl_easy_init();
	if (!c)
		cr_assert_fail("curl_easy_init failed");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", h->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (key) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", key);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)body_len);
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		cr_assert_fail("%s %s failed: %s", method, path,
			       curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = b.data ? b.data : xstrdup("");
	resp->json = json_loads(resp->body, JSON_DECODE_ANY, NULL);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

void http_post_events(struct harness *h, const char *body,
		      struct http_resp *resp)
{
	http_call(h, "POST", "/v1/events", h->key, "application/json", body,
		  strlen(body), resp);
}

void http_get(struct harness *h, const char *path, struct http_resp *resp)
{
	http_call(h, "GET", path, h->key, NULL, NULL, 0, resp);
}

void http_resp_free(struct http_resp *resp)
{
	free(resp->body);
	json_decref(resp->json);
	memset(resp, 0, sizeof(*resp));
}

long harness_sql_count(struct harness *h, const char *fmt)
{
	char sql[512], cmd[1024], line[256] = "";
	FILE *p;

	snprintf(sql, sizeof(sql), fmt, h->tenant_id);
	snprintf(cmd, sizeof(cmd), "psql \"$DATABASE_URL\" -Atc \"%s\" 2>&1",
		 sql);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	cr_assert(line[0] >= '0' && line[0] <= '9', "psql said: %s (%s)", line,
		  sql);
	return strtol(line, NULL, 10);
}

json_t *load_test_data(const char *name)
{
	char path[512];
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof(path), "tests/data/%s", name);
	j = json_load_file(path, 0, &jerr);
	if (!j)
		cr_assert_fail("cannot load %s: %s (line %d)", path, jerr.text,
			       jerr.line);
	return j;
}

char *json_canon(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
				    JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));

	if (!s)
		cr_assert_fail("cannot serialize JSON");
	return s;
}

int json_equivalent(json_t *a, json_t *b, char *path, size_t pathlen)
{
	const char *key;
	json_t *v;
	size_t i, len = strlen(path);

	if (json_is_number(a) && json_is_number(b)) {
		double x = json_number_value(a), y = json_number_value(b);
		double scale = fabs(x) > fabs(y) ? fabs(x) : fabs(y);

		return fabs(x - y) <= 1e-9 * (scale > 1 ? scale : 1);
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(a, key, v)
		{
			snprintf(path + len, pathlen - len, ".%s", key);
			if (!json_object_get(b, key) ||
			    !json_equivalent(v, json_object_get(b, key), path,
					     pathlen))
				return 0;
			path[len] = '\0';
		}
		return 1;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++) {
			snprintf(path + len, pathlen - len, "[%zu]", i);
			if (!json_equivalent(json_array_get(a, i),
					     json_array_get(b, i), path,
					     pathlen))
				return 0;
			path[len] = '\0';
		}
		return 1;
	}
	return json_equal(a, b);
}
