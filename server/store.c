/* SPDX-License-Identifier: MIT */
/*
 * Event writes and conversation reads. Ingest locks the touched
 * conversations, inserts the new events and recomputes those
 * conversations' facts from all their events, in one transaction.
 */
#include "store.h"
#include "log.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define INGEST_ATTEMPTS 4
#define REBUILD_PAGE "500"
/* columns of FACTS_COLUMNS (queries.def); repeat_gap_ms is the last */
#define FACTS_NCOLS 45

/* -- rows to structs --------------------------------------------------- */

static double num(const char *v)
{
	return v ? strtod(v, NULL) : NAN;
}

static int tri(const char *v)
{
	return v ? v[0] == 't' : -1;
}

static int64_t ms(const char *v)
{
	return v ? strtoll(v, NULL, 10) : TIME_NONE;
}

static int integer(const char *v)
{
	return v ? atoi(v) : 0;
}

/* Reads one row of EVENT_COLUMNS (queries.def); strings borrow from res. */
static void event_from_row(const struct db_res *res, int r, struct event *ev)
{
	int c = 0, i;

	event_init(ev);
	ev->conversation_id = db_res_value(res, r, c++);
	ev->id = db_res_value(res, r, c++);
	ev->type = event_enum_parse(ENUM_TYPE, db_res_value(res, r, c++));
	ev->ts_ms = ms(db_res_value(res, r, c++));
	ev->customer_id = db_res_value(res, r, c++);
	ev->agent_version = db_res_value(res, r, c++);
	ev->cost_usd = num(db_res_value(res, r, c++));
	for (i = 0; i < SEG_COUNT; i++)
		ev->segment[i] = db_res_value(res, r, c++);
	ev->author = event_enum_parse(ENUM_ACTOR, db_res_value(res, r, c++));
	ev->sentiment = num(db_res_value(res, r, c++));
	ev->clarification = tri(db_res_value(res, r, c++));
	ev->confidence = num(db_res_value(res, r, c++));
	ev->reason = event_enum_parse(ENUM_REASON, db_res_value(res, r, c++));
	ev->initiated_by =
	    event_enum_parse(ENUM_INITIATOR, db_res_value(res, r, c++));
	ev->tool_name = db_res_value(res, r, c++);
	ev->tool_ok = tri(db_res_value(res, r, c++));
	ev->latency_ms = num(db_res_value(res, r, c++));
	ev->by = event_enum_parse(ENUM_BY, db_res_value(res, r, c++));
	ev->confirmed = tri(db_res_value(res, r, c++));
	ev->csat = integer(db_res_value(res, r, c++));
	ev->thumbs = event_enum_parse(ENUM_THUMBS, db_res_value(res, r, c++));
	ev->grader = db_res_value(res, r, c++);
	ev->resolution_correct = tri(db_res_value(res, r, c++));
	ev->hallucination = tri(db_res_value(res, r, c++));
	ev->score = num(db_res_value(res, r, c++));
	ev->escalation_appropriate = tri(db_res_value(res, r, c++));
	ev->failure_category =
	    event_enum_parse(ENUM_FAILURE, db_res_value(res, r, c++));
}

/* Reads one row of FACTS_COLUMNS (queries.def); strings borrow from res. */
static void facts_from_row(const struct db_res *res, int r, struct facts *f)
{
	const char *gap;
	int c = 0, i;

	memset(f, 0, sizeof(*f));
	f->conversation_id = db_res_value(res, r, c++);
	f->started_at = ms(db_res_value(res, r, c++));
	f->last_event_at = ms(db_res_value(res, r, c++));
	f->customer_id = db_res_value(res, r, c++);
	f->agent_version = db_res_value(res, r, c++);
	for (i = 0; i < SEG_COUNT; i++)
		f->segment[i] = db_res_value(res, r, c++);
	f->ai_involved = tri(db_res_value(res, r, c++)) == 1;
	f->human_involved = tri(db_res_value(res, r, c++)) == 1;
	f->stream = facts_stream_parse(db_res_value(res, r, c++));
	f->escalated = tri(db_res_value(res, r, c++)) == 1;
	f->escalated_at = ms(db_res_value(res, r, c++));
	f->escalation_reason =
	    event_enum_parse(ENUM_REASON, db_res_value(res, r, c++));
	f->first_response_at = ms(db_res_value(res, r, c++));
	f->status = facts_status_parse(db_res_value(res, r, c++));
	f->resolved_at = ms(db_res_value(res, r, c++));
	f->resolved_by = event_enum_parse(ENUM_BY, db_res_value(res, r, c++));
	f->confirmed = tri(db_res_value(res, r, c++));
	f->ever_resolved = tri(db_res_value(res, r, c++)) == 1;
	gap = db_res_value(res, r, c++);
	f->reopen_gap_ms = gap ? strtoll(gap, NULL, 10) : -1;
	f->turns = integer(db_res_value(res, r, c++));
	f->customer_turns = integer(db_res_value(res, r, c++));
	f->ai_turns = integer(db_res_value(res, r, c++));
	f->human_turns = integer(db_res_value(res, r, c++));
	f->csat = integer(db_res_value(res, r, c++));
	f->thumbs = event_enum_parse(ENUM_THUMBS, db_res_value(res, r, c++));
	f->negative_feedback = tri(db_res_value(res, r, c++)) == 1;
	f->sentiment_start = num(db_res_value(res, r, c++));
	f->sentiment_end = num(db_res_value(res, r, c++));
	f->clarifications = integer(db_res_value(res, r, c++));
	f->tool_calls = integer(db_res_value(res, r, c++));
	f->tool_failures = integer(db_res_value(res, r, c++));
	f->cost_usd = num(db_res_value(res, r, c++));
	f->graded = tri(db_res_value(res, r, c++)) == 1;
	f->resolution_correct = tri(db_res_value(res, r, c++));
	f->hallucination = tri(db_res_value(res, r, c++));
	f->quality_score = num(db_res_value(res, r, c++));
	f->escalation_appropriate = tri(db_res_value(res, r, c++));
	f->failure_category =
	    event_enum_parse(ENUM_FAILURE, db_res_value(res, r, c++));
	f->events = integer(db_res_value(res, r, c++));
}

/*
 * A JSON array of strings as a PostgreSQL text[] literal, {"a","b"}: the
 * planner then sees how many ids a statement looks up. New string.
 */
static char *text_array(json_t *arr)
{
	size_t i, n = json_array_size(arr);
	const char **v = xmalloc((n ? n : 1) * sizeof(*v));
	char *out;

	for (i = 0; i < n; i++)
		v[i] = json_string_value(json_array_get(arr, i));
	out = pg_text_array(v, n);
	free(v);
	return out;
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

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));

	if (!s)
		BUG("json_dumps failed");
	return s;
}

/* Columns of Q_CONV_LOCK: the facts that repeat contacts depend on. */
enum {
	LOCK_ID,
	LOCK_CUSTOMER,
	LOCK_TOPIC,
	LOCK_STATUS,
	LOCK_STARTED,
	LOCK_RESOLVED
};

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/*
 * Whether f changed a fact that repeat contacts depend on, compared with
 * row r of Q_CONV_LOCK (r < 0: the conversation is new or being rebuilt).
 */
static int repeat_inputs_changed(const struct facts *f,
				 const struct db_res *lock, int r)
{
	if (r < 0 || !db_res_value(lock, r, LOCK_STARTED))
		return 1;
	return ms(db_res_value(lock, r, LOCK_STARTED)) != f->started_at ||
	       ms(db_res_value(lock, r, LOCK_RESOLVED)) != f->resolved_at ||
	       !same_str(db_res_value(lock, r, LOCK_STATUS),
			 facts_status_name(f->status)) ||
	       !same_str(db_res_value(lock, r, LOCK_TOPIC),
			 f->segment[SEG_TOPIC]) ||
	       !same_str(db_res_value(lock, r, LOCK_CUSTOMER), f->customer_id);
}

static void add_customer(json_t *set, const char *customer)
{
	if (customer)
		json_object_set_new(set, customer, json_true());
}

/*
 * Recomputes and stores the facts of the conversations in convs (a JSON
 * array of ids) from all their events, inside the caller's transaction.
 * lock holds their rows before (Q_CONV_LOCK; NULL: treat all as changed);
 * the customers whose repeat contacts may have changed are added to
 * affected (a JSON object used as a set).
 */
static int refresh_facts(struct db_conn *conn, const char *tenant_id,
			 json_t *convs, const struct db_res *lock,
			 json_t *affected, struct err *err)
{
	struct db_res *res = NULL, *up = NULL;
	struct event *evs = NULL;
	json_t *rows = json_array(), *old = json_object(), *v;
	char *ids = text_array(convs), *rows_text = NULL;
	const char *params[2] = {tenant_id, ids};
	struct facts f;
	int n, i, start, r, rc = -1;

	for (i = 0; lock && i < db_res_rows(lock); i++)
		json_object_set_new(old, db_res_value(lock, i, LOCK_ID),
				    json_integer(i));
	if (!(res = db_exec(conn, Q_EVENTS_FOR_FACTS, params, err)))
		goto out;
	n = db_res_rows(res);
	evs = xcalloc(n ? n : 1, sizeof(*evs));
	for (i = 0; i < n; i++)
		event_from_row(res, i, &evs[i]);
	/* rows come ordered by conversation: one run of rows per conversation
	 */
	for (start = 0, i = 1; i <= n; i++) {
		if (i < n && strcmp(evs[i].conversation_id,
				    evs[start].conversation_id) == 0)
			continue;
		facts_compute(evs + start, i - start, &f);
		json_array_append_new(rows, facts_to_json(&f));
		v = json_object_get(old, f.conversation_id);
		r = v ? (int)json_integer_value(v) : -1;
		if (repeat_inputs_changed(&f, lock, r)) {
			add_customer(affected, f.customer_id);
			if (r >= 0)
				add_customer(
				    affected,
				    db_res_value(lock, r, LOCK_CUSTOMER));
		}
		start = i;
	}
	rows_text = dump(rows);
	params[1] = rows_text;
	if (!(up = db_exec(conn, Q_FACTS_UPSERT, params, err)))
		goto out;
	rc = 0;
out:
	db_res_free(up);
	db_res_free(res);
	free(evs);
	free(rows_text);
	free(ids);
	json_decref(rows);
	json_decref(old);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a JSON object, sorted byte-wise, as a text[] literal. */
static char *sorted_keys(json_t *set)
{
	size_t n = json_object_size(set), i = 0;
	const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
	json_t *arr = json_array(), *v;
	const char *key;
	char *text;

	json_object_foreach(set, key, v) keys[i++] = key;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(keys[i]));
	text = text_array(arr);
	json_decref(arr);
	free(keys);
	return text;
}

/*
 * Locks conversations ids (a text[] literal) for this transaction, and
 * before them the customers they belong to now plus those in customers
 * (a set; may be extended), so that whoever changes a customer's
 * conversations holds that customer: the repeat gaps of all of them can
 * then be recomputed without racing another transaction. *lock gets the
 * rows as they were. Returns 0, -1 with err, or 1 when a conversation
 * moved to another customer meanwhile (try again).
 */
static int lock_conversations(struct db_conn *conn, const char *tenant_id,
			      const char *ids, json_t *customers,
			      struct db_res **lock, struct err *err)
{
	const char *params[2] = {tenant_id, ids};
	struct db_res *res;
	char *sorted = NULL;
	const char *c;
	int i, rc = -1;

	*lock = NULL;
	if (!(res = db_exec(conn, Q_CONV_CUSTOMERS, params, err)))
		return -1;
	for (i = 0; i < db_res_rows(res); i++)
		add_customer(customers, db_res_value(res, i, 0));
	db_res_free(res);
	if (json_object_size(customers)) {
		sorted = sorted_keys(customers);
		params[1] = sorted;
		if (!(res = db_exec(conn, Q_CUSTOMER_LOCK, params, err)))
			goto out;
		db_res_free(res);
		params[1] = ids;
	}
	if (!(res = db_exec(conn, Q_CONV_ENSURE, params, err)))
		goto out;
	db_res_free(res);
	if (!(*lock = db_exec(conn, Q_CONV_LOCK, params, err)))
		goto out;
	rc = 0;
	for (i = 0; i < db_res_rows(*lock); i++) {
		c = db_res_value(*lock, i, LOCK_CUSTOMER);
		if (c && !json_object_get(customers, c))
			rc = 1;
	}
out:
	free(sorted);
	return rc;
}

/* Recomputes the repeat gaps of the customers in the set affected. */
static int refresh_repeats(struct db_conn *conn, const char *tenant_id,
			   json_t *affected, struct err *err)
{
	char *text;
	const char *params[2] = {tenant_id, NULL};
	struct db_res *res;

	if (!json_object_size(affected))
		return 0;
	text = sorted_keys(affected);
	params[1] = text;
	res = db_exec(conn, Q_REPEAT_REFRESH, params, err);
	free(text);
	db_res_free(res);
	return res ? 0 : -1;
}

/* The distinct conversation ids of items, sorted byte-wise, as JSON. */
static json_t *conversation_ids(const struct store_item *items, size_t n)
{
	const char **ids = xcalloc(n ? n : 1, sizeof(*ids));
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		ids[i] = items[i].ev.conversation_id;
	qsort(ids, n, sizeof(*ids), cmp_str);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(ids[i], ids[i - 1]) != 0)
			json_array_append_new(arr, json_string(ids[i]));
	free(ids);
	return arr;
}

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

/* One attempt: 0 committed, -1 failed (err), 1 try again. */
static int ingest_once(struct db_conn *conn, const char *tenant_id,
		       struct store_item *items, size_t n, struct err *err)
{
	json_t *convs = conversation_ids(items, n), *seen = json_object();
	json_t *rows = event_rows(items, n, seen), *touched = json_object();
	json_t *touched_ids = json_array(), *customers = json_object();
	json_t *affected = json_object(), *v;
	struct db_res *res = NULL, *lock = NULL;
	char *convs_text = text_array(convs), *rows_text = dump(rows);
	char now[TIME_BUF_LEN];
	const char *params[3] = {tenant_id, convs_text, NULL};
	const char *key;
	size_t j;
	int i, rc = -1;

	for (j = 0; j < n; j++)
		add_customer(customers, items[j].ev.customer_id);
	if (db_begin(conn, err) < 0)
		goto out;
	if ((rc = lock_conversations(conn, tenant_id, convs_text, customers,
				     &lock, err)) != 0)
		goto out;
	rc = -1;
	params[1] = rows_text;
	params[2] = time_format_ms(time_now_ms(), now);
	if (!(res = db_exec(conn, Q_EVENTS_INSERT, params, err)))
		goto out;
	for (i = 0; i < db_res_rows(res); i++) {
		v = json_object_get(seen, db_res_value(res, i, 0));
		if (!v)
			BUG("inserted an id that was not sent");
		items[json_integer_value(v)].stored = 1;
		json_object_set_new(
		    touched, items[json_integer_value(v)].ev.conversation_id,
		    json_true());
	}
	json_object_foreach(touched, key, v)
	    json_array_append_new(touched_ids, json_string(key));
	if (json_array_size(touched_ids) &&
	    (refresh_facts(conn, tenant_id, touched_ids, lock, affected, err) <
		 0 ||
	     refresh_repeats(conn, tenant_id, affected, err) < 0))
		goto out;
	/*
	 * A conversation whose only events were duplicates of ids stored
	 * under another conversation got no events: drop its empty row.
	 */
	db_res_free(res);
	params[1] = convs_text;
	if (!(res = db_exec(conn, Q_CONV_DROP_EMPTY, params, err)))
		goto out;
	if (db_commit(conn, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		db_rollback(conn);
	db_res_free(res);
	db_res_free(lock);
	free(convs_text);
	free(rows_text);
	json_decref(convs);
	json_decref(seen);
	json_decref(rows);
	json_decref(touched);
	json_decref(touched_ids);
	json_decref(customers);
	json_decref(affected);
	return rc;
}

static int retryable(struct db_conn *conn)
{
	const char *state = db_last_sqlstate(conn);

	return strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0;
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
		if (rc == 0 || (rc < 0 && !retryable(conn)))
			break;
		log_msg(LOG_WARN, "store", "ingest attempt %d: %s, retrying",
			attempt,
			rc > 0 ? "a conversation changed customer"
			       : db_last_sqlstate(conn));
	}
	if (rc > 0)
		rc = err_set(err, API_ERR_DB_UNAVAILABLE, NULL,
			     "conversations kept changing customer; retry");
	db_release(db, conn);
	return rc;
}

/* -- rebuild ----------------------------------------------------------- */

static int rebuild_page(struct db_conn *conn, const char *tenant_id,
			json_t *ids, struct err *err)
{
	json_t *customers = json_object(), *affected = json_object();
	char *text = text_array(ids);
	struct db_res *lock = NULL;
	int rc;

	if ((rc = db_begin(conn, err)) < 0)
		goto out;
	if ((rc = lock_conversations(conn, tenant_id, text, customers, &lock,
				     err)) != 0)
		goto out;
	/* everything is recomputed: all their customers' repeat gaps too */
	if ((rc = refresh_facts(conn, tenant_id, ids, NULL, affected, err)) <
		0 ||
	    (rc = refresh_repeats(conn, tenant_id, affected, err)) < 0)
		goto out;
	rc = db_commit(conn, err);
out:
	if (rc != 0)
		db_rollback(conn);
	db_res_free(lock);
	free(text);
	json_decref(customers);
	json_decref(affected);
	return rc;
}

/* dimension_values of the tenant, recomputed from its events. */
static int rebuild_dimensions(struct db_conn *conn, const char *tenant_id,
			      struct err *err)
{
	const char *params[1] = {tenant_id};
	struct db_res *res = NULL;
	int rc = -1;

	if (db_begin(conn, err) < 0)
		return -1;
	if (!(res = db_exec(conn, Q_DIMS_CLEAR, params, err)))
		goto out;
	db_res_free(res);
	if (!(res = db_exec(conn, Q_DIMS_REBUILD, params, err)))
		goto out;
	rc = db_commit(conn, err);
out:
	if (rc != 0)
		db_rollback(conn);
	db_res_free(res);
	return rc;
}

int store_rebuild_facts(struct db *db, const char *tenant_id, long *count,
			struct err *err)
{
	struct db_conn *conn;
	struct db_res *res = NULL;
	char *after = xstrdup("");
	json_t *ids = NULL;
	int i, attempt, rc = -1;

	*count = 0;
	if (!(conn = db_acquire(db, err))) {
		free(after);
		return -1;
	}
	for (;;) {
		const char *params[3] = {tenant_id, after, REBUILD_PAGE};

		if (!(res = db_exec(conn, Q_CONV_IDS_PAGE, params, err)))
			goto out;
		if (db_res_rows(res) == 0)
			break;
		ids = json_array();
		for (i = 0; i < db_res_rows(res); i++)
			json_array_append_new(
			    ids, json_string(db_res_value(res, i, 0)));
		free(after);
		after = xstrdup(db_res_value(res, db_res_rows(res) - 1, 0));
		db_res_free(res);
		res = NULL;
		for (attempt = 1;; attempt++) {
			rc = rebuild_page(conn, tenant_id, ids, err);
			if (rc == 0 || attempt == INGEST_ATTEMPTS ||
			    (rc < 0 && !retryable(conn)))
				break;
		}
		if (rc != 0) {
			if (rc > 0)
				err_set(err, API_ERR_DB_UNAVAILABLE, NULL,
					"conversations kept changing "
					"customer; retry");
			rc = -1;
			goto out;
		}
		*count += (long)json_array_size(ids);
		json_decref(ids);
		ids = NULL;
	}
	rc = rebuild_dimensions(conn, tenant_id, err);
out:
	json_decref(ids);
	db_res_free(res);
	free(after);
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
