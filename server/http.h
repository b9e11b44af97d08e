/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_HTTP_H
#define AGENTKPI_HTTP_H

/*
 * The HTTP layer: all libmicrohttpd code. It matches requests against a
 * route table handed in by the composition root (main.c), collects the
 * body within a size limit, and gives handlers a request and reply_*().
 */

#include "err.h"

#include <jansson.h>
#include <stddef.h>

struct request;

typedef void (*http_handler_fn)(struct request *req);
typedef int (*http_authorize_fn)(struct request *req, int scope,
				 struct err *err);

/* One route: "{}" in a pattern matches one non-empty path segment. */
struct http_route {
	const char *method;
	const char *pattern;
	http_handler_fn handler;
	int scope; /* 0: no authentication */
};

struct http_config {
	const char *host; /* IPv4 address or "localhost" */
	int port;	  /* 0: any free port */
	int threads;
	long max_body_bytes;
	long max_url_bytes;    /* path + query string: 414 above */
	long max_header_bytes; /* names + values of all headers: 431 */
	long max_query_params; /* 400 too_many_parameters above */
	long max_connections;  /* open at once, all clients */
	long max_connections_per_ip;
	long connection_timeout_s; /* idle connections are closed */
	const struct http_route *routes;
	size_t nroutes;
	http_authorize_fn authorize; /* called for routes with a scope */
	/*
	 * Errors for paths at or under this prefix also carry a top-level
	 * "message" (what Grafana shows in a panel); NULL: none.
	 */
	const char *message_prefix;
	void *app; /* handed to handlers via request_app */
};

struct http_server;

/* Starts serving; NULL with err filled when the address cannot be bound. */
struct http_server *http_start(const struct http_config *cfg, struct err *err);

/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *srv);

/*
 * Graceful shutdown, first half: stops accepting (new connections are
 * refused from now on; replies carry Connection: close), then waits up to
 * timeout_ms for the requests in flight to complete. Returns how many
 * are still in flight (0: all done). Call http_stop afterwards.
 */
int http_drain(struct http_server *srv, long timeout_ms);

/* Requests begun and not yet completed. */
int http_in_flight(struct http_server *srv);

/*
 * Stops serving and frees everything. Connections are closed; a request
 * still running finishes its handler, but its reply may not be sent.
 */
void http_stop(struct http_server *srv);

/* -- for handlers ------------------------------------------------------ */

void *request_app(const struct request *req);
const char *request_id(const struct request *req);
const char *request_method(const struct request *req);
/* The i-th "{}" segment of the matched route (URL-decoded). */
const char *request_path_param(const struct request *req, int i);
/* A query-string value (first one), or NULL. */
const char *request_query(struct request *req, const char *key);
/* Calls cb for each query argument; stops when cb returns non-zero. */
int request_query_each(const struct request *req,
		       int (*cb)(void *arg, const char *key, const char *value),
		       void *arg);
const char *request_header(const struct request *req, const char *name);
/* The body (NUL-terminated, borrowed from the request). */
const char *request_body(const struct request *req, size_t *len);

/* A per-request pointer for the API layer; free_fn runs at completion. */
void request_set_user(struct request *req, void *user, void (*free_fn)(void *));
void *request_user(const struct request *req);

/* Adds a header to the reply about to be sent. */
void reply_header(struct request *req, const char *name, const char *value);

/* Sends body (stolen) with status; exactly one reply per request. */
void reply_json(struct request *req, int status, json_t *body);

/*
 * Sends text, which must be one JSON document, with status; takes
 * ownership of text (malloc'd). For bodies that embed stored JSON as is.
 */
void reply_json_text(struct request *req, int status, char *text);

/* Sends {"error": {code, message, field, request_id}} for err. */
void reply_error(struct request *req, const struct err *err);

/* A copy of the per-code error counters since start, for /healthz. */
void http_error_counts(long counts[API_ERR_COUNT]);
long http_request_count(void);

#endif
