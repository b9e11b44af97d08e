/* SPDX-License-Identifier: MIT */
/*
 * GET /v1/conversations/{id}: one conversation's facts and its events in
 * (ts, id) order. GET /v1/conversations: facts, newest first, filtered by
 * status, stream and start time, with an opaque cursor for the next page.
 */
#include "api.h"
#include "app.h"
#include "derive.h"
#include "facts.h"
#include "store.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT 1000

void api_conversations_get(struct request *req)
{
	struct app *app = request_app(req);
	const char *id = request_path_param(req, 0);
	char *out = NULL;
	struct err err;

	/* ids are JSON strings: bytes that are not UTF-8 cannot name one */
	if (utf8_valid(id, strlen(id)) &&
	    (derive_sync(app->db, api_auth(req)->tenant_id, &err) < 0 ||
	     store_conversation_get(app->db, api_auth(req)->tenant_id, id, &out,
				    &err) < 0)) {
		reply_error(req, &err);
		return;
	}
	if (!out) {
		err_set(&err, API_ERR_NOT_FOUND, "conversation_id",
			"no conversation with this id");
		reply_error(req, &err);
		return;
	}
	reply_json_text(req, 200, out);
}

/* The cursor is the hex of "<started_at ms>:<conversation id>". */
static char *cursor_encode(json_t *facts)
{
	const char *id =
	    json_string_value(json_object_get(facts, "conversation_id"));
	const char *ts =
	    json_string_value(json_object_get(facts, "started_at"));
	int64_t ms = 0;
	char *plain, *hex;
	size_t len;

	time_parse_rfc3339(ts, &ms);
	len = strlen(id) + 32;
	plain = xmalloc(len);
	snprintf(plain, len, "%lld:%s", (long long)ms, id);
	hex = xmalloc(strlen(plain) * 2 + 1);
	hex_encode((const unsigned char *)plain, strlen(plain), hex);
	free(plain);
	return hex;
}

static int cursor_decode(const char *hex, char *ts, char **id)
{
	size_t n = strlen(hex), i;
	char *plain, *colon;
	long ms;
	int hi, lo;

	if (n == 0 || n % 2 || n > 4200)
		return -1;
	plain = xmalloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		hi = hex_digit(hex[2 * i]);
		lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(plain);
			return -1;
		}
		plain[i] = (char)(hi * 16 + lo);
	}
	plain[n / 2] = '\0';
	colon = strchr(plain, ':');
	if (!colon || colon == plain || !colon[1]) {
		free(plain);
		return -1;
	}
	*colon = '\0';
	/* the time is the whole number cursor_encode wrote, nothing else */
	if (strspn(plain + (plain[0] == '-'), "0123456789") !=
		strlen(plain + (plain[0] == '-')) ||
	    parse_long(plain, &ms) < 0 ||
	    !utf8_valid(colon + 1, strlen(colon + 1)) ||
	    ms < -62135596800000LL || ms > 253402300799999LL) {
		free(plain);
		return -1;
	}
	time_format_ms(ms, ts);
	*id = xstrdup(colon + 1);
	free(plain);
	return 0;
}

static const char *const list_params[] = {"status", "stream", "from",
					  "to",	    "limit",  "cursor"};

static int check_param(void *arg, const char *key, const char *value)
{
	struct err *err = arg;
	size_t i;

	(void)value;
	for (i = 0; i < sizeof(list_params) / sizeof(list_params[0]); i++)
		if (strcmp(key, list_params[i]) == 0)
			return 0;
	err_set(err, API_ERR_INVALID_PARAM, key,
		"unknown parameter '%.40s'; use status, stream, from, to, "
		"limit or cursor",
		key);
	return 1;
}

static int time_param(struct request *req, const char *key, struct err *err)
{
	const char *v = request_query(req, key);
	int64_t ms;

	if (v && time_parse_rfc3339(v, &ms) < 0)
		return err_set(err, API_ERR_INVALID_PARAM, key,
			       "cannot parse '%s' as an RFC 3339 time with "
			       "offset, e.g. 2026-11-21T10:00:00Z",
			       key);
	return 0;
}

static int list_query(struct request *req, struct store_list_query *q,
		      char *cursor_ts, char **cursor_id, struct err *err)
{
	const char *limit = request_query(req, "limit");
	const char *cursor = request_query(req, "cursor");

	memset(q, 0, sizeof(*q));
	if (request_query_each(req, check_param, err))
		return -1;
	q->status = request_query(req, "status");
	q->stream = request_query(req, "stream");
	q->from = request_query(req, "from");
	q->to = request_query(req, "to");
	if (q->status && !facts_status_parse(q->status))
		return err_set(err, API_ERR_INVALID_PARAM, "status",
			       "'status' must be open, resolved or abandoned");
	if (q->stream && !facts_stream_parse(q->stream))
		return err_set(err, API_ERR_INVALID_PARAM, "stream",
			       "'stream' must be ai_only, hybrid, human_only "
			       "or none");
	if (time_param(req, "from", err) < 0 || time_param(req, "to", err) < 0)
		return -1;
	q->limit = LIST_DEFAULT_LIMIT;
	if (limit && (parse_long(limit, &q->limit) < 0 || q->limit < 1 ||
		      q->limit > LIST_MAX_LIMIT))
		return err_set(err, API_ERR_INVALID_PARAM, "limit",
			       "'limit' must be a whole number from 1 to %d",
			       LIST_MAX_LIMIT);
	if (cursor) {
		if (cursor_decode(cursor, cursor_ts, cursor_id) < 0)
			return err_set(err, API_ERR_INVALID_PARAM, "cursor",
				       "'cursor' is not a cursor this API "
				       "returned");
		q->after_ts = cursor_ts;
		q->after_id = *cursor_id;
	}
	return 0;
}

void api_conversations_list(struct request *req)
{
	struct app *app = request_app(req);
	struct store_list_query q;
	char cursor_ts[TIME_BUF_LEN], *cursor_id = NULL, *next = NULL;
	json_t *rows = NULL;
	struct err err;
	long want;

	if (list_query(req, &q, cursor_ts, &cursor_id, &err) < 0)
		goto fail;
	want = q.limit;
	q.limit = want + 1; /* one more tells whether a next page exists */
	if (derive_sync(app->db, api_auth(req)->tenant_id, &err) < 0 ||
	    store_conversation_list(app->db, api_auth(req)->tenant_id, &q,
				    &rows, &err) < 0)
		goto fail;
	if ((long)json_array_size(rows) > want) {
		json_array_remove(rows, want);
		next = cursor_encode(json_array_get(rows, want - 1));
	}
	reply_json(req, 200,
		   json_pack("{s:o, s:s?}", "conversations", rows,
			     "next_cursor", next));
	goto out;
fail:
	reply_error(req, &err);
out:
	free(next);
	free(cursor_id);
}
