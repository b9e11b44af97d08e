/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_FUZZ_HTTP_FAKE_H
#define AGENTKPI_FUZZ_HTTP_FAKE_H

/*
 * The HTTP layer without a socket, for the harnesses of requests. This
 * header includes server/http.c itself, to reach what is static there
 * (struct request, request_new, dispatch, normalize_path, on_completed),
 * and stands in for the libmicrohttpd calls a request makes once it has
 * arrived: the query arguments and headers come from the harness, and
 * each reply is checked (one per request, a JSON body) instead of sent.
 * It defines functions: include it first, and in one harness file only.
 */

#include "../../server/http.c"
#include "fuzz.h"
#include "keys.h"

#include <strings.h>

#define FAKE_MAX_VALUES 64 /* arguments and headers; more are dropped */

struct fake_value {
	enum MHD_ValueKind kind;
	char *key;
	char *value; /* NULL: an argument without '=' */
};

/* What libmicrohttpd keeps of a connection, as far as http.c asks. */
struct MHD_Connection {
	struct fake_value v[FAKE_MAX_VALUES];
	int n;
	int replies;
	unsigned int status;
	json_t *reply; /* the last reply's body */
};

struct MHD_Response {
	char *buf;
	size_t len;
	MHD_ContentReaderFreeCallback free_cb;
};

static inline void fake_add(struct MHD_Connection *c, enum MHD_ValueKind kind,
			    const char *key, size_t klen, const char *value,
			    size_t vlen)
{
	struct fake_value *v;

	if (c->n == FAKE_MAX_VALUES)
		return;
	v = &c->v[c->n++];
	v->kind = kind;
	v->key = xstrndup(key, klen);
	v->value = value ? xstrndup(value, vlen) : NULL;
}

/* libmicrohttpd turns '+' into ' ' in arguments before unescaping. */
static inline void fake_plus(char *s)
{
	if (s)
		for (; *s; s++)
			if (*s == '+')
				*s = ' ';
}

/*
 * The arguments of query string q[0..n) as libmicrohttpd splits them:
 * on '&', then at the first '='; no '=' gives a NULL value.
 */
static inline void fake_args(struct MHD_Connection *c, const char *q, size_t n)
{
	const char *end, *eq, *stop = q + n;

	while (q < stop) {
		end = memchr(q, '&', (size_t)(stop - q));
		if (!end)
			end = stop;
		eq = memchr(q, '=', (size_t)(end - q));
		if (eq)
			fake_add(c, MHD_GET_ARGUMENT_KIND, q, (size_t)(eq - q),
				 eq + 1, (size_t)(end - eq - 1));
		else
			fake_add(c, MHD_GET_ARGUMENT_KIND, q, (size_t)(end - q),
				 NULL, 0);
		fake_plus(c->v[c->n - 1].key);
		fake_plus(c->v[c->n - 1].value);
		q = end + 1;
	}
}

static inline void fake_conn_release(struct MHD_Connection *c)
{
	int i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].value);
	}
	json_decref(c->reply);
}

/* -- libmicrohttpd, as far as a request after its arrival uses it ------ */

const char *MHD_lookup_connection_value(struct MHD_Connection *connection,
					enum MHD_ValueKind kind,
					const char *key)
{
	int i;

	for (i = 0; i < connection->n; i++)
		if ((connection->v[i].kind & kind) &&
		    strcasecmp(connection->v[i].key, key) == 0)
			return connection->v[i].value;
	return NULL;
}

int MHD_get_connection_values(struct MHD_Connection *connection,
			      enum MHD_ValueKind kind,
			      MHD_KeyValueIterator iterator, void *iterator_cls)
{
	int i, n = 0;

	for (i = 0; i < connection->n; i++) {
		if (!(connection->v[i].kind & kind))
			continue;
		n++;
		if (iterator && iterator(iterator_cls, connection->v[i].kind,
					 connection->v[i].key,
					 connection->v[i].value) != MHD_YES)
			break;
	}
	return n;
}

struct MHD_Response *MHD_create_response_from_buffer_with_free_callback(
    size_t size, void *buffer, MHD_ContentReaderFreeCallback crfc)
{
	struct MHD_Response *r = xcalloc(1, sizeof(*r));

	r->buf = buffer;
	r->len = size;
	r->free_cb = crfc;
	return r;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *response,
					const char *header, const char *content)
{
	(void)response;
	FUZZ_CHECK(header && *header && content && !strpbrk(content, "\r\n"),
		   "bad reply header '%s'", header ? header : "(null)");
	return MHD_YES;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection,
				   unsigned int status_code,
				   struct MHD_Response *response)
{
	json_error_t jerr;

	connection->replies++;
	connection->status = status_code;
	json_decref(connection->reply);
	connection->reply = json_loadb(response->buf, response->len, 0, &jerr);
	FUZZ_CHECK(connection->reply, "the reply is not JSON: %s", jerr.text);
	return MHD_YES;
}

void MHD_destroy_response(struct MHD_Response *response)
{
	if (response->free_cb)
		response->free_cb(response->buf);
	free(response);
}

/* -- requests ---------------------------------------------------------- */

/* The server's request limits at their defaults (server/config.c). */
static inline void fake_limits(struct http_config *cfg)
{
	cfg->max_body_bytes = 1048576;
	cfg->max_url_bytes = 8192;
	cfg->max_header_bytes = 16384;
	cfg->max_query_params = 64;
}

/* A request that has arrived on c, authenticated as auth (borrowed). */
static inline struct request *fake_request(struct http_server *srv,
					   struct MHD_Connection *c,
					   const char *method, const char *url,
					   struct auth *auth)
{
	struct request *req = request_new(srv, c, method, url);

	request_set_user(req, auth, NULL);
	return req;
}

/* Checks the reply of a finished request and frees the request. */
static inline void fake_finish(struct MHD_Connection *c, struct request *req)
{
	json_t *e = json_object_get(c->reply, "error");

	FUZZ_CHECK(c->replies == 1, "%d replies", c->replies);
	FUZZ_CHECK(c->status >= 200 && c->status < 600, "status %u", c->status);
	if (c->status >= 400)
		FUZZ_CHECK(json_is_string(json_object_get(e, "code")) &&
			       json_is_string(json_object_get(e, "message")),
			   "status %u without an error object", c->status);
	on_completed(req->srv, c, (void **)&req,
		     MHD_REQUEST_TERMINATED_COMPLETED_OK);
}

#endif
