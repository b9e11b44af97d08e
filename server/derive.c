/* SPDX-License-Identifier: MIT */
/*
 * Derived state: conversation facts and repeat gaps, recomputed from the
 * events. Ingest only stores events and marks their conversations pending
 * (facts_pending); the worker thread and every read bring them up to date
 * here, many conversations per transaction. rebuild-facts redoes a tenant.
 */
#include "derive.h"
#include "event.h"
#include "facts.h"
#include "log.h"
#include "rollup.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DERIVE_ATTEMPTS 4
#define REBUILD_PAGE "500"
#define SYNC_CLAIM 1000

/* -- rows ---------------------------------------------------------------- */

/* Reads one row of EVENT_COLUMNS (queries.def); strings borrow from res. */
static void event_from_row(const struct db_res *res, int r, struct event *ev)
{
	int c = 0, i;

	event_init(ev);
	ev->conversation_id = db_res_value(res, r, c++);
	ev->id = db_res_value(res, r, c++);
	ev->type = event_enum_parse(ENUM_TYPE, db_res_value(res, r, c++));
	ev->ts_ms = db_res_i64(res, r, c++);
	ev->customer_id = db_res_value(res, r, c++);
	ev->agent_version = db_res_value(res, r, c++);
	ev->cost_usd = db_res_num(res, r, c++);
	for (i = 0; i < SEG_COUNT; i++)
		ev->segment[i] = db_res_value(res, r, c++);
	ev->author = event_enum_parse(ENUM_ACTOR, db_res_value(res, r, c++));
	ev->sentiment = db_res_num(res, r, c++);
	ev->clarification = db_res_tri(res, r, c++);
	ev->confidence = db_res_num(res, r, c++);
	ev->reason = event_enum_parse(ENUM_REASON, db_res_value(res, r, c++));
	ev->initiated_by =
	    event_enum_parse(ENUM_INITIATOR, db_res_value(res, r, c++));
	ev->tool_name = db_res_value(res, r, c++);
	ev->tool_ok = db_res_tri(res, r, c++);
	ev->latency_ms = db_res_num(res, r, c++);
	ev->by = event_enum_parse(ENUM_BY, db_res_value(res, r, c++));
	ev->confirmed = db_res_tri(res, r, c++);
	ev->csat = db_res_int(res, r, c++);
	ev->thumbs = event_enum_parse(ENUM_THUMBS, db_res_value(res, r, c++));
	ev->grader = db_res_value(res, r, c++);
	ev->resolution_correct = db_res_tri(res, r, c++);
	ev->hallucination = db_res_tri(res, r, c++);
	ev->score = db_res_num(res, r, c++);
	ev->escalation_appropriate = db_res_tri(res, r, c++);
	ev->failure_category =
	    event_enum_parse(ENUM_FAILURE, db_res_value(res, r, c++));
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

/* -- facts ---------------------------------------------------------------- */

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
	return db_res_i64(lock, r, LOCK_STARTED) != f->started_at ||
	       db_res_i64(lock, r, LOCK_RESOLVED) != f->resolved_at ||
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
 * Widens customer's span in affected (customer -> [earliest, latest]
 * start of its changed conversations, in ms) to hold t.
 */
static void widen(json_t *affected, const char *customer, int64_t t)
{
	json_t *span;

	if (!customer || t == TIME_NONE)
		return;
	span = json_object_get(affected, customer);
	if (!span) {
		json_object_set_new(
		    affected, customer,
		    json_pack("[I, I]", (json_int_t)t, (json_int_t)t));
		return;
	}
	if (t < json_integer_value(json_array_get(span, 0)))
		json_array_set_new(span, 0, json_integer(t));
	if (t > json_integer_value(json_array_get(span, 1)))
		json_array_set_new(span, 1, json_integer(t));
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
 * Locks the customers of set (sorted, until COMMIT) for tenant_id.
 */
static int lock_customers(struct db_conn *conn, const char *tenant_id,
			  json_t *set, struct err *err)
{
	char *sorted;
	const char *params[2] = {tenant_id, NULL};
	struct db_res *res;

	if (!json_object_size(set))
		return 0;
	params[1] = sorted = sorted_keys(set);
	res = db_exec(conn, Q_CUSTOMER_LOCK, params, err);
	free(sorted);
	db_res_free(res);
	return res ? 0 : -1;
}

/*
 * Locks the customers of late, found after the first lock (an event or a
 * conversation stored meanwhile names them), and adds them to locked.
 * Locking out of order may deadlock with another derivation; PostgreSQL
 * then aborts one of them, which derive_pending retries. Before, such a
 * claim was retried from the start, and under steady batch ingest it
 * met a new late customer on every attempt.
 */
static int lock_late(struct db_conn *conn, const char *tenant_id, json_t *late,
		     json_t *locked, struct err *err)
{
	if (lock_customers(conn, tenant_id, late, err) < 0)
		return -1;
	json_object_update(locked, late);
	return 0;
}

/*
 * Recomputes and stores the facts of the conversations in convs (a JSON
 * array of ids) from all their events, inside the caller's transaction.
 * lock holds their rows before (Q_CONV_LOCK; NULL: treat all as changed).
 * Conversations whose repeat-contact inputs changed go to changed, and
 * the starts involved (old and new) widen their customers' spans in
 * affected (see widen). Every start, old and new, goes to times. With
 * locked (the customers this transaction holds), a customer that an
 * event stored since the claim names is locked too (lock_late).
 */
static int refresh_facts(struct db_conn *conn, const char *tenant_id,
			 json_t *convs, const struct db_res *lock,
			 json_t *locked, json_t *affected, json_t *changed,
			 json_t *times, struct err *err)
{
	struct db_res *res = NULL, *up = NULL;
	struct event *evs = NULL;
	json_t *rows = json_array(), *old = json_object(), *v;
	json_t *late = json_object();
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
		/* an event stored since the claim named a customer not locked
		 */
		if (locked && f.customer_id &&
		    !json_object_get(locked, f.customer_id))
			add_customer(late, f.customer_id);
		json_array_append_new(rows, facts_to_json(&f));
		v = json_object_get(old, f.conversation_id);
		r = v ? (int)json_integer_value(v) : -1;
		/* its rollup hours, before and after, are stale now */
		json_array_append_new(times, json_integer(f.started_at));
		if (r >= 0 && db_res_value(lock, r, LOCK_STARTED))
			json_array_append_new(
			    times,
			    json_integer(db_res_i64(lock, r, LOCK_STARTED)));
		if (repeat_inputs_changed(&f, lock, r)) {
			json_array_append_new(changed,
					      json_string(f.conversation_id));
			widen(affected, f.customer_id, f.started_at);
			if (r >= 0)
				widen(affected,
				      db_res_value(lock, r, LOCK_CUSTOMER),
				      db_res_i64(lock, r, LOCK_STARTED));
		}
		start = i;
	}
	if (lock_late(conn, tenant_id, late, locked, err) < 0)
		goto out;
	rows_text = json_text(rows);
	params[1] = rows_text;
	if (!(up = db_exec(conn, Q_FACTS_UPSERT, params, err)))
		goto out;
	rc = 0;
out:
	json_decref(late);
	db_res_free(up);
	db_res_free(res);
	free(evs);
	free(rows_text);
	free(ids);
	json_decref(rows);
	json_decref(old);
	return rc;
}

/*
 * Locks conversations ids (a text[] literal) for this transaction, and
 * before them the customers they belong to now plus those in customers
 * (a set; may be extended), so that whoever changes a customer's
 * conversations holds that customer: the repeat gaps of all of them can
 * then be recomputed without racing another transaction. *lock gets the
 * rows as they were. The customers come from the conversation rows, and
 * with from_events from all their events too; a customer a row names
 * that neither has (a derivation committed meanwhile) is locked late.
 * Returns 0, or -1 with err.
 */
static int lock_conversations(struct db_conn *conn, const char *tenant_id,
			      const char *ids, json_t *customers,
			      int from_events, struct db_res **lock,
			      struct err *err)
{
	const char *params[2] = {tenant_id, ids};
	json_t *late = json_object();
	struct db_res *res;
	const char *c;
	int i, rc = -1;

	*lock = NULL;
	if (!(res = db_exec(conn,
			    from_events ? Q_CONV_CUSTOMERS_EVENTS
					: Q_CONV_CUSTOMERS,
			    params, err)))
		goto out;
	for (i = 0; i < db_res_rows(res); i++)
		add_customer(customers, db_res_value(res, i, 0));
	db_res_free(res);
	if (lock_customers(conn, tenant_id, customers, err) < 0)
		goto out;
	if (!(res = db_exec(conn, Q_CONV_ENSURE, params, err)))
		goto out;
	db_res_free(res);
	if (!(*lock = db_exec(conn, Q_CONV_LOCK, params, err)))
		goto out;
	/* a derivation committed since moved a conversation to a customer */
	for (i = 0; i < db_res_rows(*lock); i++) {
		c = db_res_value(*lock, i, LOCK_CUSTOMER);
		if (c && !json_object_get(customers, c))
			add_customer(late, c);
	}
	rc = lock_late(conn, tenant_id, late, customers, err);
out:
	json_decref(late);
	return rc;
}

/* A time for a timestamptz[] literal; the extremes are infinite. */
static const char *bound(int64_t t, char *buf)
{
	if (t == INT64_MIN)
		return "-infinity";
	if (t == INT64_MAX)
		return "infinity";
	return time_format_ms(t, buf);
}

/*
 * Recomputes the repeat gaps that the changes in affected and changed
 * (from refresh_facts) may have moved; all: every gap of those customers.
 * The starts of the conversations whose gap moved go to times.
 */
static int refresh_repeats(struct db_conn *conn, const char *tenant_id,
			   json_t *affected, json_t *changed, int all,
			   json_t *times, struct err *err)
{
	size_t n = json_object_size(affected), i = 0;
	const char **names = xcalloc(n ? n : 1, sizeof(*names));
	char **los = xcalloc(n ? n : 1, sizeof(*los));
	char **his = xcalloc(n ? n : 1, sizeof(*his));
	char *text[4] = {NULL, NULL, NULL, NULL}, buf[TIME_BUF_LEN];
	const char *params[5] = {tenant_id};
	struct db_res *res;
	json_t *span;
	const char *key;
	int rc = 0;

	if (!n)
		goto out;
	json_object_foreach(affected, key, span) names[i++] = key;
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		span = json_object_get(affected, names[i]);
		los[i] = xstrdup(
		    bound(all ? INT64_MIN
			      : json_integer_value(json_array_get(span, 0)),
			  buf));
		his[i] = xstrdup(
		    bound(all ? INT64_MAX
			      : json_integer_value(json_array_get(span, 1)),
			  buf));
	}
	params[1] = text[0] = pg_text_array(names, n);
	params[2] = text[1] = pg_text_array((const char *const *)los, n);
	params[3] = text[2] = pg_text_array((const char *const *)his, n);
	params[4] = text[3] = text_array(changed);
	res = db_exec(conn, Q_REPEAT_REFRESH, params, err);
	rc = res ? 0 : -1;
	for (i = 0; res && i < (size_t)db_res_rows(res); i++)
		json_array_append_new(times,
				      json_integer(db_res_i64(res, (int)i, 0)));
	db_res_free(res);
out:
	for (i = 0; i < n; i++) {
		free(los[i]);
		free(his[i]);
	}
	for (i = 0; i < 4; i++)
		free(text[i]);
	free(names);
	free(los);
	free(his);
	return rc;
}

/* -- pending conversations ---------------------------------------------- */

/*
 * Brings the facts of conversations ids (sorted, distinct; a JSON array)
 * up to date inside the caller's transaction, with the repeat gaps of
 * every customer whose inputs changed (all, all their customers).
 * claimed: the customers of the claimed pending marks' events (a set), or
 * NULL to take them from all the conversations' events. 0, or -1 with
 * err.
 */
static int derive_conversations(struct db_conn *conn, const char *tenant_id,
				json_t *ids, json_t *claimed, int all,
				struct err *err)
{
	json_t *customers = json_object(), *affected = json_object();
	json_t *changed = json_array(), *times = json_array();
	char *text = text_array(ids);
	struct db_res *lock = NULL;
	int rc;

	if (claimed)
		json_object_update(customers, claimed);
	if ((rc = lock_conversations(conn, tenant_id, text, customers, !claimed,
				     &lock, err)) != 0)
		goto out;
	if ((rc = refresh_facts(conn, tenant_id, ids, all ? NULL : lock,
				claimed ? customers : NULL, affected, changed,
				times, err)) != 0 ||
	    (rc = refresh_repeats(conn, tenant_id, affected, changed, all,
				  times, err)) < 0 ||
	    (rc = rollup_mark(conn, tenant_id, times, err)) < 0)
		goto out;
out:
	json_decref(times);
	db_res_free(lock);
	free(text);
	json_decref(customers);
	json_decref(affected);
	json_decref(changed);
	return rc;
}

/* The distinct conversation ids of a claim (column col), sorted. */
static json_t *claimed_ids(const struct db_res *res, int col)
{
	int n = db_res_rows(res), i;
	const char **v = xcalloc(n ? n : 1, sizeof(*v));
	json_t *arr = json_array();

	for (i = 0; i < n; i++)
		v[i] = db_res_value(res, i, col);
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			json_array_append_new(arr, json_string(v[i]));
	free(v);
	return arr;
}

/* The customers named in a claim's column col, as a set. */
static json_t *claimed_customers(const struct db_res *res, int col)
{
	json_t *set = json_object();
	int i;

	for (i = 0; i < db_res_rows(res); i++)
		add_customer(set, db_res_value(res, i, col));
	return set;
}

/*
 * One transaction: claims up to max pending markers (of tenant_id, waiting
 * for markers another transaction holds; or of any one tenant, skipping
 * those) and derives their conversations. *claimed gets the markers
 * taken. 0 committed, -1 failed (err).
 */
static int pending_once(struct db_conn *conn, const char *tenant_id, long max,
			long *claimed, struct err *err)
{
	char limit[24];
	const char *params[2] = {tenant_id, limit};
	struct db_res *res = NULL;
	json_t *ids = NULL, *customers = NULL;
	int rc = -1;

	*claimed = 0;
	snprintf(limit, sizeof(limit), "%ld", max);
	if (db_begin(conn, err) < 0)
		return -1;
	if (tenant_id)
		res = db_exec(conn, Q_PENDING_CLAIM, params, err);
	else
		res = db_exec(conn, Q_PENDING_CLAIM_ANY, params + 1, err);
	if (!res)
		goto out;
	*claimed = db_res_rows(res);
	if (*claimed > 0) {
		ids = claimed_ids(res, 1);
		customers = claimed_customers(res, 2);
		if ((rc = derive_conversations(conn, db_res_value(res, 0, 0),
					       ids, customers, 0, err)) != 0)
			goto out;
	}
	rc = db_commit(conn, err);
out:
	if (rc != 0)
		db_rollback(conn);
	json_decref(ids);
	json_decref(customers);
	db_res_free(res);
	return rc;
}

int derive_pending(struct db *db, const char *tenant_id, long max, long *done,
		   struct err *err)
{
	struct db_conn *conn;
	int attempt, rc = -1;

	*done = 0;
	if (!(conn = db_acquire(db, err)))
		return -1;
	for (attempt = 1; attempt <= DERIVE_ATTEMPTS; attempt++) {
		rc = pending_once(conn, tenant_id, max, done, err);
		if (rc == 0 || (rc < 0 && !db_retryable(conn)))
			break;
		log_msg(LOG_WARN, "derive", "attempt %d: %s, retrying", attempt,
			db_last_sqlstate(conn));
	}
	db_release(db, conn);
	return rc;
}

int derive_backlog(struct db *db, long *n, struct err *err)
{
	struct db_conn *conn;
	struct db_res *res;

	*n = 0;
	if (!(conn = db_acquire(db, err)))
		return -1;
	res = db_exec(conn, Q_PENDING_COUNT, NULL, err);
	db_release(db, conn);
	if (!res)
		return -1;
	*n = atol(db_res_value(res, 0, 0));
	db_res_free(res);
	return 0;
}

int derive_sync(struct db *db, const char *tenant_id, struct err *err)
{
	long n;

	do {
		if (derive_pending(db, tenant_id, SYNC_CLAIM, &n, err) < 0)
			return -1;
	} while (n == SYNC_CLAIM);
	return 0;
}

/* -- rebuild ----------------------------------------------------------- */

static int rebuild_page(struct db_conn *conn, const char *tenant_id,
			json_t *ids, struct err *err)
{
	int rc;

	if ((rc = db_begin(conn, err)) < 0)
		return rc;
	/* everything is recomputed: all their customers' repeat gaps too */
	rc = derive_conversations(conn, tenant_id, ids, NULL, 1, err);
	if (rc == 0)
		rc = db_commit(conn, err);
	if (rc != 0)
		db_rollback(conn);
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

int derive_rebuild(struct db *db, const char *tenant_id, long *count,
		   struct err *err)
{
	struct db_conn *conn;
	struct db_res *res = NULL;
	char *after = xstrdup("");
	json_t *ids = NULL;
	int i, attempt, rc = -1;

	*count = 0;
	if (derive_sync(db, tenant_id, err) < 0) {
		free(after);
		return -1;
	}
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
			if (rc == 0 || attempt == DERIVE_ATTEMPTS ||
			    (rc < 0 && !db_retryable(conn)))
				break;
		}
		if (rc != 0)
			goto out;
		*count += (long)json_array_size(ids);
		json_decref(ids);
		ids = NULL;
	}
	if ((rc = rebuild_dimensions(conn, tenant_id, err)) == 0) {
		db_release(db, conn);
		conn = NULL;
		rc = rollup_rebuild(db, tenant_id, err);
	}
out:
	json_decref(ids);
	db_res_free(res);
	free(after);
	db_release(db, conn);
	return rc;
}
