/* SPDX-License-Identifier: MIT */
/*
 * Event writes and conversation reads. Ingest stores the new events and
 * marks their conversations pending in one statement (derive.c brings
 * the facts up to date); reads return facts, events and values seen.
 */
#include "store.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define INGEST_ATTEMPTS 4
/* columns of FACTS_COLUMNS (queries.def); repeat_gap_ms is the last */
#define FACTS_NCOLS 45

/* -- rows to structs --------------------------------------------------- */

/* Reads one row of FACTS_COLUMNS (queries.def); strings borrow from res. */
static void facts_from_row(const struct db_res *res, int r, struct facts *f)
{
	const char *gap;
	int c = 0, i;

	memset(f, 0, sizeof(*f));
	f->conversation_id = db_res_value(res, r, c++);
	f->started_at = db_res_i64(res, r, c++);
	f->last_event_at = db_res_i64(res, r, c++);
	f->customer_id = db_res_value(res, r, c++);
	f->agent_version = db_res_value(res, r, c++);
	for (i = 0; i < SEG_COUNT; i++)
		f->segment[i] = db_res_value(res, r, c++);
	f->ai_involved = db_res_tri(res, r, c++) == 1;
	f->human_involved = db_res_tri(res, r, c++) == 1;
	f->stream = facts_stream_parse(db_res_value(res, r, c++));
	f->escalated = db_res_tri(res, r, c++) == 1;
	f->escalated_at = db_res_i64(res, r, c++);
	f->escalation_reason =
	    event_enum_parse(ENUM_REASON, db_res_value(res, r, c++));
	f->first_response_at = db_res_i64(res, r, c++);
	f->status = facts_status_parse(db_res_value(res, r, c++));
	f->resolved_at = db_res_i64(res, r, c++);
	f->resolved_by = event_enum_parse(ENUM_BY, db_res_value(res, r, c++));
	f->confirmed = db_res_tri(res, r, c++);
	f->ever_resolved = db_res_tri(res, r, c++) == 1;
	gap = db_res_value(res, r, c++);
	f->reopen_gap_ms = gap ? strtoll(gap, NULL, 10) : -1;
	f->turns = db_res_int(res, r, c++);
	f->customer_turns = db_res_int(res, r, c++);
	f->ai_turns = db_res_int(res, r, c++);
	f->human_turns = db_res_int(res, r, c++);
	f->csat = db_res_int(res, r, c++);
	f->thumbs = event_enum_parse(ENUM_THUMBS, db_res_value(res, r, c++));
	f->negative_feedback = db_res_tri(res, r, c++) == 1;
	f->sentiment_start = db_res_num(res, r, c++);
	f->sentiment_end = db_res_num(res, r, c++);
	f->clarifications = db_res_int(res, r, c++);
	f->tool_calls = db_res_int(res, r, c++);
	f->tool_failures = db_res_int(res, r, c++);
	f->cost_usd = db_res_num(res, r, c++);
	f->graded = db_res_tri(res, r, c++) == 1;
	f->resolution_correct = db_res_tri(res, r, c++);
	f->hallucination = db_res_tri(res, r, c++);
	f->quality_score = db_res_num(res, r, c++);
	f->escalation_appropriate = db_res_tri(res, r, c++);
	f->failure_category =
	    event_enum_parse(ENUM_FAILURE, db_res_value(res, r, c++));
	f->events = db_res_int(res, r, c++);
}

/*
 * The facts of row r as the API shows them: the pure facts plus
 * repeat_gap_ms, which depends on the customer's other conversations.
 */
static json_t *facts_json_row(const struct db_res *res, int r)
{
	const char *gap = db_res_value(res, r, FACTS_NCOLS - 1);
	struct facts f;
	json_t *j;

	facts_from_row(res, r, &f);
	j = facts_to_json(&f);
	json_object_set_new(j, "repeat_gap_ms",
			    gap ? json_integer(strtoll(gap, NULL, 10))
				: json_null());
	return j;
}

/* -- ingest ------------------------------------------------------------ */

/* The insert rows: first occurrence of each id only. */
static json_t *event_rows(struct store_item *items, size_t n, json_t *seen)
{
	json_t *rows = json_array(), *row;
	size_t i;

	for (i = 0; i < n; i++) {
		items[i].stored = 0;
		if (json_object_get(seen, items[i].ev.id))
			continue;
		json_object_set_new(seen, items[i].ev.id, json_integer(i));
		row = event_to_json(&items[i].ev);
		json_object_set_new(
		    row, "raw", json_stringn(items[i].raw, items[i].raw_len));
		json_array_append_new(rows, row);
	}
	return rows;
}

/*
 * One statement, so one transaction: the new events, their dimension
 * values and the pending marks of their conversations. 0 or -1 with err.
 */
static int ingest_once(struct db_conn *conn, const char *tenant_id,
		       struct store_item *items, size_t n, struct err *err)
{
	json_t *seen = json_object(), *rows = event_rows(items, n, seen), *v;
	char *rows_text = json_text(rows), now[TIME_BUF_LEN];
	const char *params[3] = {tenant_id, rows_text,
				 time_format_ms(time_now_ms(), now)};
	struct db_res *res;
	int i, rc;

	res = db_exec(conn, Q_EVENTS_INSERT, params, err);
	rc = res ? 0 : -1;
	for (i = 0; res && i < db_res_rows(res); i++) {
		v = json_object_get(seen, db_res_value(res, i, 0));
		if (!v)
			BUG("inserted an id that was not sent");
		items[json_integer_value(v)].stored = 1;
	}
	db_res_free(res);
	free(rows_text);
	json_decref(seen);
	json_decref(rows);
	return rc;
}

int store_ingest(struct db *db, const char *tenant_id, struct store_item *items,
		 size_t n, struct err *err)
{
	struct db_conn *conn;
	int attempt, rc = -1;

	if (n == 0)
		return 0;
	if (!(conn = db_acquire(db, err)))
		return -1;
	for (attempt = 1; attempt <= INGEST_ATTEMPTS; attempt++) {
		rc = ingest_once(conn, tenant_id, items, n, err);
		if (rc == 0 || !db_retryable(conn))
			break;
		log_msg(LOG_WARN, "store", "ingest attempt %d: %s, retrying",
			attempt, db_last_sqlstate(conn));
	}
	db_release(db, conn);
	return rc;
}

/* -- values seen per key ----------------------------------------------- */

int store_dimension_values(struct db *db, const char *tenant_id,
			   const char *key, json_t **out, struct err *err)
{
	const char *params[2] = {tenant_id, key};
	struct db_conn *conn;
	struct db_res *res;
	int i;

	*out = NULL;
	if (!(conn = db_acquire(db, err)))
		return -1;
	res = db_exec(conn, Q_DIMS_VALUES, params, err);
	db_release(db, conn);
	if (!res)
		return -1;
	*out = json_array();
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(*out,
				      json_string(db_res_value(res, i, 0)));
	db_res_free(res);
	return 0;
}

int store_first_seen(struct db *db, const char *tenant_id, const char *key,
		     int64_t from_ms, int64_t to_ms, json_t **out,
		     struct err *err)
{
	char from[TIME_BUF_LEN], to[TIME_BUF_LEN];
	const char *params[4] = {tenant_id, key, time_format_ms(from_ms, from),
				 time_format_ms(to_ms, to)};
	struct db_conn *conn;
	struct db_res *res;
	int i;

	*out = NULL;
	if (!(conn = db_acquire(db, err)))
		return -1;
	res = db_exec(conn, Q_DIMS_FIRST_SEEN, params, err);
	db_release(db, conn);
	if (!res)
		return -1;
	*out = json_array();
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(
		    *out, json_pack("[s, I]", db_res_value(res, i, 0),
				    (json_int_t)strtoll(db_res_value(res, i, 1),
							NULL, 10)));
	db_res_free(res);
	return 0;
}

/* -- reads ------------------------------------------------------------- */

/* Appends n bytes to a growing string. */
static void append(char **buf, size_t *len, const char *s, size_t n)
{
	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

int store_conversation_get(struct db *db, const char *tenant_id,
			   const char *conversation_id, char **out,
			   struct err *err)
{
	const char *params[2] = {tenant_id, conversation_id};
	struct db_res *res = NULL, *evres = NULL;
	struct db_conn *conn;
	char *facts_text = NULL, *buf = NULL;
	size_t len = 0;
	json_t *fj;
	int i, rc = -1;

	*out = NULL;
	if (!(conn = db_acquire(db, err)))
		return -1;
	if (!(res = db_exec(conn, Q_CONV_GET, params, err)))
		goto out;
	if (db_res_rows(res) == 0) {
		rc = 0;
		goto out;
	}
	if (!(evres = db_exec(conn, Q_CONV_EVENTS, params, err)))
		goto out;
	fj = facts_json_row(res, 0);
	facts_text = json_dumps(fj, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(fj);
	if (!facts_text)
		BUG("cannot serialize facts");
	/* the events go out as stored: the raw text each was sent as */
	append(&buf, &len, "{\"conversation\":", 16);
	append(&buf, &len, facts_text, strlen(facts_text));
	append(&buf, &len, ",\"events\":[", 11);
	for (i = 0; i < db_res_rows(evres); i++) {
		const char *raw = db_res_value(evres, i, 0);

		if (i)
			append(&buf, &len, ",", 1);
		append(&buf, &len, raw, strlen(raw));
	}
	append(&buf, &len, "]}", 2);
	*out = buf;
	rc = 0;
out:
	free(facts_text);
	db_res_free(evres);
	db_res_free(res);
	db_release(db, conn);
	return rc;
}

int store_conversation_list(struct db *db, const char *tenant_id,
			    const struct store_list_query *q, json_t **out,
			    struct err *err)
{
	char limit[24];
	const char *params[8] = {tenant_id, q->status,	 q->stream,   q->from,
				 q->to,	    q->after_ts, q->after_id, limit};
	struct db_res *res = NULL;
	struct db_conn *conn;
	int i;

	*out = NULL;
	snprintf(limit, sizeof(limit), "%ld", q->limit);
	if (!(conn = db_acquire(db, err)))
		return -1;
	res = db_exec(conn, Q_CONV_LIST, params, err);
	db_release(db, conn);
	if (!res)
		return -1;
	*out = json_array();
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(*out, facts_json_row(res, i));
	db_res_free(res);
	return 0;
}
