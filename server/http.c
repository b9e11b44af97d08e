/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd glue: request state, body collection with a size cap,
 * route matching (404/405), replies with X-Request-Id and access logs.
 */
#include "http.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATH_PARAMS 4
#define MAX_EXTRA_HEADERS 4

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_config cfg;
	int port;
	atomic_int in_flight;	/* requests begun and not yet completed */
	atomic_bool draining;	/* http_drain was called */
	MHD_socket quiesced_fd; /* listen socket handed back by MHD */
};

struct request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	char rid[37];
	char *method;
	char *path;
	double start_ms;
	char *body;
	size_t body_len;
	bool too_large;
	size_t url_bytes, header_bytes, query_params;
	char *nul_param; /* the first query parameter holding %00, decoded */
	char *params[MAX_PATH_PARAMS];
	int nparams;
	const char *hdr_name[MAX_EXTRA_HEADERS];
	char *hdr_value[MAX_EXTRA_HEADERS];
	int nhdr;
	bool replied;
	int status;
	size_t reply_bytes;
	void *user;
	void (*user_free)(void *);
	char **decoded; /* percent-decoded query values handed out */
	int ndecoded;
};

static atomic_long error_counts[API_ERR_COUNT];
static atomic_long request_count;

/* -- percent-decoding -------------------------------------------------- */

/*
 * Decodes %HH sequences of s[0..n) into a new string; '+' stays '+' (it
 * is common in RFC 3339 offsets). *nul is set when a %00 was decoded.
 */
static char *pct_decode(const char *s, size_t n, bool *nul)
{
	char *out = xmalloc(n + 1);
	size_t i, j = 0;
	int hi, lo;

	*nul = false;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (hi = hex_digit(s[i + 1])) >= 0 &&
		    (lo = hex_digit(s[i + 2])) >= 0) {
			out[j] = (char)(hi * 16 + lo);
			if (!out[j])
				*nul = true;
			j++;
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

/*
 * libmicrohttpd would decode the path before we see it, turning an
 * encoded '/' inside an id into a separator; keep everything encoded and
 * decode path parameters and query values ourselves.
 */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* -- request accessors ------------------------------------------------- */

void *request_app(const struct request *req)
{
	return req->srv->cfg.app;
}

const char *request_id(const struct request *req)
{
	return req->rid;
}

const char *request_method(const struct request *req)
{
	return req->method;
}

const char *request_path_param(const struct request *req, int i)
{
	return i < req->nparams ? req->params[i] : NULL;
}

const char *request_query(struct request *req, const char *key)
{
	const char *raw =
	    MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
	bool nul;

	if (!raw)
		return NULL;
	req->decoded =
	    xrealloc(req->decoded, (req->ndecoded + 1) * sizeof(char *));
	req->decoded[req->ndecoded] = pct_decode(raw, strlen(raw), &nul);
	return req->decoded[req->ndecoded++];
}

struct each_ctx {
	int (*cb)(void *, const char *, const char *);
	void *arg;
	int rc;
};

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *value)
{
	struct each_ctx *ctx = cls;
	char *k, *v;
	bool nul;

	(void)kind;
	k = pct_decode(key, strlen(key), &nul);
	v = pct_decode(value ? value : "", value ? strlen(value) : 0, &nul);
	ctx->rc = ctx->cb(ctx->arg, k, v);
	free(k);
	free(v);
	return ctx->rc ? MHD_NO : MHD_YES;
}

int request_query_each(const struct request *req,
		       int (*cb)(void *arg, const char *key, const char *value),
		       void *arg)
{
	struct each_ctx ctx = {cb, arg, 0};

	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_arg,
				  &ctx);
	return ctx.rc;
}

const char *request_header(const struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *request_body(const struct request *req, size_t *len)
{
	*len = req->body_len;
	return req->body ? req->body : "";
}

void request_set_user(struct request *req, void *user, void (*free_fn)(void *))
{
	req->user = user;
	req->user_free = free_fn;
}

void *request_user(const struct request *req)
{
	return req->user;
}

/* -- replies ----------------------------------------------------------- */

void reply_header(struct request *req, const char *name, const char *value)
{
	if (req->nhdr == MAX_EXTRA_HEADERS)
		BUG("too many extra reply headers");
	req->hdr_name[req->nhdr] = name;
	req->hdr_value[req->nhdr++] = xstrdup(value);
}

void reply_json_text(struct request *req, int status, char *text)
{
	struct MHD_Response *resp;
	size_t len = strlen(text);
	int i;

	if (req->replied)
		BUG("second reply to one request");
	req->replied = true;
	resp =
	    MHD_create_response_from_buffer_with_free_callback(len, text, free);
	if (!resp) {
		free(text);
		return;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "X-Request-Id", req->rid);
	/* shutting down: no further requests on this connection */
	if (atomic_load(&req->srv->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
					"close");
	for (i = 0; i < req->nhdr; i++)
		MHD_add_response_header(resp, req->hdr_name[i],
					req->hdr_value[i]);
	req->status = status;
	req->reply_bytes = len;
	MHD_queue_response(req->conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
}

void reply_json(struct request *req, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));

	json_decref(body);
	if (!text)
		BUG("cannot serialize a reply");
	reply_json_text(req, status, text);
}

/* Whether req's path is cfg->message_prefix or lies under it. */
static bool under_message_prefix(const struct request *req)
{
	const char *prefix = req->srv->cfg.message_prefix;
	size_t n;

	if (!prefix)
		return false;
	n = strlen(prefix);
	return strncmp(req->path, prefix, n) == 0 &&
	       (req->path[n] == '\0' || req->path[n] == '/');
}

void reply_error(struct request *req, const struct err *err)
{
	enum api_err code = err->code;
	json_t *body;

	if (code <= API_ERR_NONE || code >= API_ERR_COUNT)
		code = API_ERR_INTERNAL;
	atomic_fetch_add(&error_counts[code], 1);
	if (err_http_status(code) >= 500)
		log_msg(LOG_ERROR, "http", "%s: %s", err_code_word(code),
			err->msg);
	body = json_pack("{s:{s:s, s:s, s:s?, s:s}}", "error", "code",
			 err_code_word(code), "message", err->msg, "field",
			 err->field[0] ? err->field : NULL, "request_id",
			 req->rid);
	if (under_message_prefix(req))
		json_object_set_new(body, "message", json_string(err->msg));
	/* db_unavailable, not_ready: worth retrying soon */
	if (err_http_status(code) == 503)
		reply_header(req, "Retry-After", "1");
	reply_json(req, err_http_status(code), body);
}

void http_error_counts(long counts[API_ERR_COUNT])
{
	int i;

	for (i = 0; i < API_ERR_COUNT; i++)
		counts[i] = atomic_load(&error_counts[i]);
}

long http_request_count(void)
{
	return atomic_load(&request_count);
}

/* -- routing ----------------------------------------------------------- */

/* Matches path against pattern, collecting "{}" segments into req. */
static bool route_match(const char *pattern, const char *path,
			struct request *req)
{
	const char *p = pattern, *s = path, *end;
	int n = 0;

	while (*p && *s) {
		if (p[0] == '{' && p[1] == '}') {
			end = strchr(s, '/');
			if (!end)
				end = s + strlen(s);
			if (end == s || n == MAX_PATH_PARAMS)
				return false;
			if (req) {
				bool nul;

				req->params[n] = pct_decode(s, end - s, &nul);
				/* an id never holds NUL: treat as no match */
				if (nul || !req->params[n][0]) {
					req->nparams = n + 1;
					return false;
				}
			}
			n++;
			p += 2;
			s = end;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*p || *s)
		return false;
	if (req)
		req->nparams = n;
	return true;
}

/* Whether the request line or headers exceed a limit (err says which). */
static bool limit_exceeded(const struct request *req, struct err *err)
{
	const struct http_config *cfg = &req->srv->cfg;

	if (req->url_bytes > (size_t)cfg->max_url_bytes)
		err_set(err, API_ERR_URI_TOO_LONG, NULL,
			"the URL (path and query) is longer than %ld bytes",
			cfg->max_url_bytes);
	else if (req->header_bytes > (size_t)cfg->max_header_bytes)
		err_set(err, API_ERR_HEADERS_TOO_LARGE, NULL,
			"the request headers are larger than %ld bytes",
			cfg->max_header_bytes);
	else if (req->query_params > (size_t)cfg->max_query_params)
		err_set(err, API_ERR_TOO_MANY_PARAMS, NULL,
			"the query holds more than %ld parameters",
			cfg->max_query_params);
	else
		return false;
	return true;
}

static void dispatch(struct request *req)
{
	const struct http_config *cfg = &req->srv->cfg;
	const struct http_route *route = NULL;
	char allow[128] = "";
	struct err err;
	size_t i;

	if (limit_exceeded(req, &err)) {
		reply_error(req, &err);
		return;
	}
	for (i = 0; i < cfg->nroutes; i++) {
		if (!route_match(cfg->routes[i].pattern, req->path, NULL))
			continue;
		if (strcmp(cfg->routes[i].method, req->method) == 0) {
			route = &cfg->routes[i];
			break;
		}
		if (strlen(allow) + strlen(cfg->routes[i].method) + 3 <
		    sizeof(allow)) {
			if (allow[0])
				strcat(allow, ", ");
			strcat(allow, cfg->routes[i].method);
		}
	}
	if (!route && allow[0]) {
		reply_header(req, "Allow", allow);
		err_set(&err, API_ERR_METHOD_NOT_ALLOWED, NULL,
			"method %s is not allowed here; use %s", req->method,
			allow);
		reply_error(req, &err);
		return;
	}
	if (!route) {
		err_set(&err, API_ERR_NOT_FOUND, NULL, "no such endpoint '%s'",
			req->path);
		reply_error(req, &err);
		return;
	}
	if (!route_match(route->pattern, req->path, req)) {
		err_set(&err, API_ERR_NOT_FOUND, NULL,
			"no such resource (the path holds an encoded NUL)");
		reply_error(req, &err);
		return;
	}
	if (req->too_large) {
		err_set(&err, API_ERR_PAYLOAD_TOO_LARGE, NULL,
			"the request body is larger than %ld bytes",
			cfg->max_body_bytes);
		reply_error(req, &err);
		return;
	}
	if (route->scope && cfg->authorize(req, route->scope, &err) < 0) {
		reply_error(req, &err);
		return;
	}
	/* a value cut short at its NUL would be read as another one */
	if (req->nul_param) {
		err_set(&err, API_ERR_INVALID_PARAM, req->nul_param,
			"query parameter '%.40s' holds an encoded NUL (%%00)",
			req->nul_param);
		reply_error(req, &err);
		return;
	}
	route->handler(req);
	if (!req->replied)
		BUG("handler returned without a reply");
}

/* -- libmicrohttpd callbacks ------------------------------------------- */

/*
 * The path routes match: url with each run of '/' made one and a final
 * '/' dropped ("//a//b/" is "/a/b"; "/" stays).
 */
static char *normalize_path(const char *url)
{
	char *out = xmalloc(strlen(url) + 1), *o = out;

	for (; *url; url++)
		if (*url != '/' || o == out || o[-1] != '/')
			*o++ = *url;
	if (o - out > 1 && o[-1] == '/')
		o--;
	*o = '\0';
	return out;
}

/* Adds the size of one header or query argument to the request's tally. */
static enum MHD_Result count_value(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	struct request *req = cls;
	size_t n = strlen(key) + (value ? strlen(value) : 0);

	if (kind == MHD_GET_ARGUMENT_KIND) {
		req->url_bytes += n + 2; /* '&' or '?', '=' */
		req->query_params++;
		if (!req->nul_param &&
		    (strstr(key, "%00") || (value && strstr(value, "%00")))) {
			bool nul;

			req->nul_param = pct_decode(key, strlen(key), &nul);
		}
	} else {
		req->header_bytes += n + 4; /* ": ", CRLF */
	}
	return MHD_YES;
}

static struct request *request_new(struct http_server *srv,
				   struct MHD_Connection *conn,
				   const char *method, const char *url)
{
	struct request *req = xcalloc(1, sizeof(*req));
	const char *cl;
	long len;

	req->srv = srv;
	req->conn = conn;
	req->method = xstrdup(method);
	req->path = normalize_path(url);
	req->start_ms = time_mono_ms();
	req->url_bytes = strlen(url);
	MHD_get_connection_values(conn, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND,
				  count_value, req);
	util_uuid(req->rid);
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && parse_long(cl, &len) == 0 && len > srv->cfg.max_body_bytes)
		req->too_large = true;
	atomic_fetch_add(&request_count, 1);
	atomic_fetch_add(&srv->in_flight, 1);
	return req;
}

static void body_append(struct request *req, const char *data, size_t n)
{
	if (req->too_large)
		return;
	if (req->body_len + n > (size_t)req->srv->cfg.max_body_bytes) {
		req->too_large = true;
		free(req->body);
		req->body = NULL;
		req->body_len = 0;
		return;
	}
	req->body = xrealloc(req->body, req->body_len + n + 1);
	memcpy(req->body + req->body_len, data, n);
	req->body_len += n;
	req->body[req->body_len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *srv = cls;
	struct request *req = *req_cls;

	(void)version;
	if (!req) {
		/* replying on this first call would force Connection: close */
		*req_cls = request_new(srv, conn, method, url);
		return MHD_YES;
	}
	if (*upload_data_size) {
		body_append(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->replied)
		return MHD_YES;
	log_set_request_id(req->rid);
	dispatch(req);
	log_set_request_id(NULL);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct request *req = *req_cls;
	int i;

	(void)conn;
	if (!req)
		return;
	atomic_fetch_sub(&srv->in_flight, 1);
	log_set_request_id(req->rid);
	log_msg(LOG_INFO, "access",
		"method=%s path=%s status=%d bytes=%zu duration_ms=%.2f%s",
		req->method, req->path, req->status, req->reply_bytes,
		time_mono_ms() - req->start_ms,
		toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	log_set_request_id(NULL);
	for (i = 0; i < req->nparams; i++)
		free(req->params[i]);
	for (i = 0; i < req->ndecoded; i++)
		free(req->decoded[i]);
	free(req->decoded);
	for (i = 0; i < req->nhdr; i++)
		free(req->hdr_value[i]);
	if (req->user_free)
		req->user_free(req->user);
	free(req->method);
	free(req->path);
	free(req->body);
	free(req->nul_param);
	free(req);
	*req_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_msg(LOG_WARN, "http", "libmicrohttpd: %s", buf);
}

struct http_server *http_start(const struct http_config *cfg, struct err *err)
{
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	const union MHD_DaemonInfo *info;
	struct sockaddr_in addr;
	const char *host = cfg->host;

	srv->cfg = *cfg;
	srv->quiesced_fd = MHD_INVALID_SOCKET;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)cfg->port);
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		free(srv);
		err_set(err, API_ERR_INVALID_PARAM, "LISTEN",
			"'%s' is not an IPv4 address", cfg->host);
		return NULL;
	}
	srv->daemon = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_USE_ERROR_LOG | MHD_USE_ITC,
	    0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
	    on_mhd_error, srv, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
	    MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)cfg->threads, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)cfg->connection_timeout_s,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)cfg->max_connections_per_ip,
	    /*
	     * room for the request line and headers up to the limits above,
	     * so that our JSON errors answer them, not libmicrohttpd's page
	     */
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(cfg->max_url_bytes + cfg->max_header_bytes + 65536),
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
	    MHD_OPTION_END);
	if (!srv->daemon) {
		free(srv);
		err_set(err, API_ERR_INTERNAL, "LISTEN",
			"cannot listen on %s:%d (address in use?)", cfg->host,
			cfg->port);
		return NULL;
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : cfg->port;
	return srv;
}

int http_port(const struct http_server *srv)
{
	return srv->port;
}

int http_in_flight(struct http_server *srv)
{
	return atomic_load(&srv->in_flight);
}

int http_drain(struct http_server *srv, long timeout_ms)
{
	const struct timespec tick = {0, 10 * 1000000L};
	double until = time_mono_ms() + (double)timeout_ms;
	MHD_socket fd;

	atomic_store(&srv->draining, true);
	fd = MHD_quiesce_daemon(srv->daemon);
	if (fd != MHD_INVALID_SOCKET) {
		/*
		 * MHD's threads may still hold the descriptor until
		 * MHD_stop_daemon, so it is closed in http_stop; shutting it
		 * down now makes the kernel refuse new connections at once
		 * instead of queueing them for nobody.
		 */
		shutdown(fd, SHUT_RDWR);
		srv->quiesced_fd = fd;
	}
	while (atomic_load(&srv->in_flight) > 0 && time_mono_ms() < until)
		nanosleep(&tick, NULL);
	return atomic_load(&srv->in_flight);
}

void http_stop(struct http_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	if (srv->quiesced_fd != MHD_INVALID_SOCKET)
		close(srv->quiesced_fd);
	free(srv);
}
