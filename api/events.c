/* SPDX-License-Identifier: MIT */
/*
 * POST /v1/events: one event object, a JSON array of events, or NDJSON.
 * Each event is validated on its own; the valid ones are stored in one
 * transaction and the reply, sent after COMMIT, says what happened to
 * each. A body that is not JSON is refused whole.
 */
#include "api.h"
#include "app.h"
#include "events.h"
#include "store.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void batch_add(struct batch *b, json_t *doc, const char *raw, size_t len)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->docs = xrealloc(b->docs, b->cap * sizeof(*b->docs));
		b->raw = xrealloc(b->raw, b->cap * sizeof(*b->raw));
		b->raw_len = xrealloc(b->raw_len, b->cap * sizeof(size_t));
	}
	b->docs[b->n] = doc;
	b->raw[b->n] = raw;
	b->raw_len[b->n++] = len;
}

void batch_release(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		json_decref(b->docs[i]);
	free(b->docs);
	free(b->raw);
	free(b->raw_len);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Parses one element's text; on failure says where: "element 3", "line
 * 2", or "the body" for what "body".
 */
static int parse_one(struct batch *b, const char *text, size_t len,
		     const char *what, size_t ordinal, struct err *err)
{
	json_error_t jerr;
	char where[40];
	json_t *doc;

	if (strcmp(what, "body") == 0)
		snprintf(where, sizeof(where), "the body");
	else
		snprintf(where, sizeof(where), "%s %zu", what, ordinal);
	while (len && is_ws(text[len - 1]))
		len--;
	if (b->max_depth && json_text_depth(text, len) > b->max_depth)
		return err_set(err, API_ERR_INVALID_JSON, NULL,
			       "%s nests arrays and objects deeper than %ld "
			       "levels",
			       where, b->max_depth);
	/* NUL is let through to be refused with the field that holds it */
	doc = json_loadb(
	    text, len,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return err_set(err, API_ERR_INVALID_JSON, NULL,
			       "%s is not valid JSON: %s", where, jerr.text);
	batch_add(b, doc, text, len);
	return 0;
}

/*
 * Finds where the next top-level element of an array ends: at a comma or
 * the closing bracket outside strings and nested values.
 */
static size_t element_end(const char *s, size_t i, size_t n)
{
	bool in_str = false;
	int depth = 0;

	for (; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			depth--;
		} else if (c == ',' && depth == 0) {
			return i;
		}
	}
	return n;
}

/* Splits a JSON array body into its elements, keeping each one's text. */
static int parse_array(struct batch *b, const char *s, size_t n, long max,
		       struct err *err)
{
	size_t i = 0, end;

	while (i < n && is_ws(s[i]))
		i++;
	i++; /* '[' */
	while (i < n && is_ws(s[i]))
		i++;
	if (i < n && s[i] == ']') {
		i++;
	} else {
		for (;;) {
			while (i < n && is_ws(s[i]))
				i++;
			end = element_end(s, i, n);
			/* a stray '}' ends an element but separates nothing */
			if (end >= n || end == i || s[end] == '}')
				return err_set(err, API_ERR_INVALID_JSON, NULL,
					       "the body is not a valid JSON "
					       "array");
			if ((long)b->n >= max)
				return err_set(err, API_ERR_TOO_MANY_EVENTS,
					       NULL,
					       "a batch holds at most %ld "
					       "events",
					       max);
			if (parse_one(b, s + i, end - i, "element", b->n, err) <
			    0)
				return -1;
			i = end + 1;
			if (s[end] == ']')
				break;
		}
	}
	while (i < n && is_ws(s[i]))
		i++;
	if (i != n)
		return err_set(err, API_ERR_INVALID_JSON, NULL,
			       "unexpected text after the JSON array");
	return 0;
}

/* One event per non-blank line. */
static int parse_ndjson(struct batch *b, const char *s, size_t n, long max,
			struct err *err)
{
	size_t i = 0, end, line = 0, j;

	while (i < n) {
		line++;
		end = i;
		while (end < n && s[end] != '\n')
			end++;
		for (j = i; j < end && is_ws(s[j]); j++)
			;
		if (j < end) {
			if ((long)b->n >= max)
				return err_set(err, API_ERR_TOO_MANY_EVENTS,
					       NULL,
					       "a batch holds at most %ld "
					       "events",
					       max);
			if (parse_one(b, s + j, end - j, "line", line, err) < 0)
				return -1;
		}
		i = end + 1;
	}
	return 0;
}

int events_parse_body(const char *ctype, const char *body, size_t len,
		      struct batch *b, long max, struct err *err)
{
	size_t i = 0;
	bool ndjson = false;

	if (ctype) {
		size_t tlen = strcspn(ctype, "; ");

		if ((tlen == 20 &&
		     !strncasecmp(ctype, "application/x-ndjson", 20)) ||
		    (tlen == 18 &&
		     !strncasecmp(ctype, "application/ndjson", 18)))
			ndjson = true;
		/* curl -d sends form-urlencoded unless told otherwise */
		else if (!(tlen == 16 &&
			   !strncasecmp(ctype, "application/json", 16)) &&
			 !(tlen == 33 &&
			   !strncasecmp(
			       ctype, "application/x-www-form-urlencoded", 33)))
			return err_set(err, API_ERR_UNSUPPORTED_MEDIA,
				       "Content-Type",
				       "send application/json or "
				       "application/x-ndjson");
	}
	while (i < len && is_ws(body[i]))
		i++;
	if (i == len)
		return err_set(err, API_ERR_INVALID_JSON, NULL,
			       "the body is empty; send an event object, an "
			       "array of events or NDJSON");
	if (ndjson)
		return parse_ndjson(b, body, len, max, err);
	if (body[i] == '[')
		return parse_array(b, body, len, max, err);
	if (parse_one(b, body + i, len - i, "body", 0, err) < 0)
		return -1;
	if (!json_is_object(b->docs[0]))
		return err_set(err, API_ERR_INVALID_JSON, NULL,
			       "the body must be an event object, an array "
			       "of events or NDJSON");
	return 0;
}

/*
 * The rejection of element index. Its id is echoed when it is a string
 * without NUL: "\u0000" in a reply breaks many JSON readers.
 */
static json_t *rejection(size_t index, json_t *doc, const struct err *e)
{
	json_t *id = json_is_object(doc) ? json_object_get(doc, "id") : NULL;

	if (json_is_string(id) &&
	    strlen(json_string_value(id)) != json_string_length(id))
		id = NULL;
	return json_pack("{s:I, s:O?, s:{s:s, s:s, s:s?}}", "index",
			 (json_int_t)index, "id",
			 json_is_string(id) ? id : NULL, "error", "code",
			 err_code_word(e->code), "message", e->msg, "field",
			 e->field[0] ? e->field : NULL);
}

/*
 * Whether ev's ts lies in the acceptance window around now: not more than
 * TS_MAX_PAST_DAYS before, nor TS_MAX_FUTURE_SECONDS after (a sender's
 * clock or time zone gone wrong); -1 with err naming ts when not.
 */
static int check_window(const struct config *cfg, const struct event *ev,
			int64_t now, struct err *err)
{
	int64_t lo = now - cfg->ts_max_past_days * 86400000LL;
	int64_t hi = now + cfg->ts_max_future_seconds * 1000LL;
	char a[TIME_BUF_LEN], b[TIME_BUF_LEN];

	if (ev->ts_ms >= lo && ev->ts_ms <= hi)
		return 0;
	return err_set(err, API_ERR_INVALID_FIELD, "ts",
		       "'ts' must lie between %s (TS_MAX_PAST_DAYS=%ld) and "
		       "%s (TS_MAX_FUTURE_SECONDS=%ld)",
		       time_format_ms(lo, a), cfg->ts_max_past_days,
		       time_format_ms(hi, b), cfg->ts_max_future_seconds);
}

/*
 * Every event of the request was rejected: 400, with the first
 * rejection's code and field, and the whole list as usual.
 */
static void reply_all_rejected(struct request *req, json_t *rejected)
{
	json_t *first = json_object_get(json_array_get(rejected, 0), "error");
	json_t *field = json_object_get(first, "field");
	size_t n = json_array_size(rejected);
	char msg[160];

	snprintf(msg, sizeof(msg), "%s; nothing was stored (see 'rejected')",
		 n == 1 ? "the event was rejected"
			: "every event of the request was rejected");
	reply_json(req, 400,
		   json_pack("{s:{s:O, s:s, s:O?, s:s}, s:i, s:i, s:o}",
			     "error", "code", json_object_get(first, "code"),
			     "message", msg, "field", field, "request_id",
			     request_id(req), "accepted", 0, "duplicates", 0,
			     "rejected", rejected));
}

void api_events_post(struct request *req)
{
	struct app *app = request_app(req);
	const struct auth *auth = api_auth(req);
	struct batch b = {0};
	struct store_item *items = NULL;
	json_t *rejected = json_array();
	size_t i, nvalid = 0, accepted = 0;
	int64_t now = time_now_ms();
	struct err err;
	size_t len;
	const char *body = request_body(req, &len);

	b.max_depth = app->cfg.max_json_depth;
	if (events_parse_body(request_header(req, "Content-Type"), body, len,
			      &b, app->cfg.max_batch_events, &err) < 0)
		goto fail;
	items = xcalloc(b.n ? b.n : 1, sizeof(*items));
	for (i = 0; i < b.n; i++) {
		struct err e;

		if (event_from_json(b.docs[i], &items[nvalid].ev, &e) < 0 ||
		    check_window(&app->cfg, &items[nvalid].ev, now, &e) < 0) {
			json_array_append_new(rejected,
					      rejection(i, b.docs[i], &e));
			continue;
		}
		items[nvalid].raw = b.raw[i];
		items[nvalid].raw_len = b.raw_len[i];
		nvalid++;
	}
	if (nvalid == 0 && json_array_size(rejected) > 0) {
		reply_all_rejected(req, rejected);
		rejected = NULL;
		goto out;
	}
	if (store_ingest(app->db, auth->tenant_id, items, nvalid, &err) < 0)
		goto fail;
	for (i = 0; i < nvalid; i++)
		accepted += items[i].stored;
	reply_json(req, 200,
		   json_pack("{s:I, s:I, s:o}", "accepted",
			     (json_int_t)accepted, "duplicates",
			     (json_int_t)(nvalid - accepted), "rejected",
			     rejected));
	rejected = NULL;
	goto out;
fail:
	reply_error(req, &err);
out:
	json_decref(rejected);
	free(items);
	batch_release(&b);
}
