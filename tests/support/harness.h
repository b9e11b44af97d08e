/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_TEST_HARNESS_H
#define AGENTKPI_TEST_HARNESS_H

/*
 * Integration-test harness: starts the real service in-process on a free
 * port against DATABASE_URL (a throwaway cluster made by `make test`),
 * gives each test its own tenant and key, and drives it with libcurl.
 */

#include <jansson.h>
#include <stddef.h>

struct harness {
	struct service *svc;
	int port;
	char tenant[64];
	char tenant_id[37];
	char key[64]; /* scopes ingest,read,admin */
};

struct http_resp {
	long status;
	char *body;
	json_t *json;	      /* parsed body or NULL */
	char request_id[64];  /* X-Request-Id header */
	char allow[64];	      /* Allow header */
	char retry_after[16]; /* Retry-After header ("" if none) */
};

/* Starts the service (aborts the test on failure) and makes a tenant. */
void harness_start(struct harness *h);
void harness_stop(struct harness *h);

/* Makes another tenant with a full key; name gets a unique suffix. */
void harness_tenant(struct harness *h, const char *prefix, char *tenant,
		    char *tenant_id, char *key);

/* Makes a key with scopes ("read", "ingest,read", ...) for h's tenant. */
void harness_key(struct harness *h, const char *scopes, char *key_out);

/*
 * One HTTP request to the service. key may be NULL (no Authorization);
 * content_type may be NULL (no body header); body may be NULL.
 */
void http_call(struct harness *h, const char *method, const char *path,
	       const char *key, const char *content_type, const char *body,
	       size_t body_len, struct http_resp *resp);

/* POST /v1/events with a JSON body (text) and h's key. */
void http_post_events(struct harness *h, const char *body,
		      struct http_resp *resp);

/* GET path with h's key. */
void http_get(struct harness *h, const char *path, struct http_resp *resp);

void http_resp_free(struct http_resp *resp);

/*
 * The whole number a one-value SQL query answers, run with psql against
 * DATABASE_URL; fmt has one %s, replaced by h's tenant id. Aborts the
 * test when psql answers anything else.
 */
long harness_sql_count(struct harness *h, const char *fmt);

/* Reads a file under tests/data as JSON (aborts the test on failure). */
json_t *load_test_data(const char *name);

/* Compact, key-sorted text of j for equality assertions; free() it. */
char *json_canon(const json_t *j);

/*
 * True when a and b are the same JSON with numbers compared by value
 * (1 == 1.0, relative tolerance 1e-9); on a mismatch, path gets where.
 */
int json_equivalent(json_t *a, json_t *b, char *path, size_t pathlen);

#endif
