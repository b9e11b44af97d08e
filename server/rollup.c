/* SPDX-License-Identifier: MIT */
/*
 * KPI rollup maintenance: hour and minute marks from derivations, and
 * refreshes that each do one piece of work (an hour, a minute slice of a
 * recent hour, a day) per REPEATABLE READ transaction, deleting only the
 * marks their snapshot saw (a later change keeps its mark).
 */
#include "rollup.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REBUILD_WAIT_MS 60000
#define REBUILD_ATTEMPTS 5

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* The sorted distinct starts of units (ms) holding the times t[0..n). */
static size_t floor_unique(const int64_t *t, size_t n, int64_t unit,
			   int64_t *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		out[i] = time_floor_ms(t[i], unit);
	if (n)
		qsort(out, n, sizeof(*out), cmp_i64);
	for (i = 0; i < n; i++)
		if (k == 0 || out[i] != out[k - 1])
			out[k++] = out[i];
	return k;
}

int rollup_mark(struct db_conn *conn, const char *tenant_id, json_t *times,
		struct err *err)
{
	size_t n = json_array_size(times), i, nh, ns = 0;
	int64_t *t = xcalloc(n ? n : 1, sizeof(*t));
	int64_t *h = xcalloc(n ? n : 1, sizeof(*h));
	int64_t *m = xcalloc(n ? n : 1, sizeof(*m));
	int64_t now = time_now_ms();
	const char *params[3] = {tenant_id, NULL, NULL};
	char *hours = NULL, *slices = NULL;
	struct db_res *res;
	int rc = 0;

	for (i = 0; i < n; i++)
		t[i] = json_integer_value(json_array_get(times, i));
	nh = floor_unique(t, n, HOUR_MS, h);
	/*
	 * Minute slices only where an hour may be sliced (the recent ones,
	 * with an hour's margin either side): others are rebuilt whole.
	 */
	for (i = 0; i < n; i++)
		if (t[i] >= now - ROLLUP_RECENT_MS - HOUR_MS &&
		    t[i] < now + HOUR_MS)
			t[ns++] = t[i];
	ns = floor_unique(t, ns, ROLLUP_SLICE_MS, m);
	if (nh) {
		params[1] = hours = pg_time_array(h, nh);
		params[2] = slices = pg_time_array(m, ns);
		res = db_exec(conn, Q_MARKS_ADD, params, err);
		rc = res ? 0 : -1;
		db_res_free(res);
	}
	free(hours);
	free(slices);
	free(m);
	free(h);
	free(t);
	return rc;
}

static int exec_free(struct db_conn *conn, enum query_id id,
		     const char *const *params, struct err *err)
{
	struct db_res *res = db_exec(conn, id, params, err);

	db_res_free(res);
	return res ? 0 : -1;
}

/*
 * Builds the rows of span ('h', 'd' or 's') starting at start (t, its
 * text) from the facts, then drops the marks this snapshot saw.
 */
static int rebuild(struct db_conn *conn, const char *tenant, const char *span,
		   int64_t start, const char *t, struct err *err)
{
	char end[TIME_BUF_LEN];
	int64_t len = span[0] == 'd'   ? DAY_MS
		      : span[0] == 'h' ? HOUR_MS
				       : ROLLUP_SLICE_MS;
	const char *params[4] = {tenant, span, t,
				 time_format_ms(start + len, end)};

	if (exec_free(conn, Q_ROLLUP_CLEAR, params, err) < 0 ||
	    exec_free(conn, Q_ROLLUP_BUILD, params, err) < 0)
		return -1;
	return exec_free(conn, Q_MARKS_DONE, params, err);
}

/*
 * The work on one hour. A recent one is sliced (if not yet) and its mark
 * dropped, since reads use its slices (and not its day's rows while it is
 * sliced). An old one ('c', or a mark two hours after its start), or one
 * still to come, is built whole, loses its slices and marks its day.
 */
static int hour_work(struct db_conn *conn, const char *tenant, char kind,
		     int64_t start, const char *t, int64_t now, struct err *err)
{
	char end[TIME_BUF_LEN];
	const char *params[3] = {tenant, t,
				 time_format_ms(start + HOUR_MS, end)};
	const char *marks[3] = {tenant, "h", t};

	if (kind != 'c' && start > now - ROLLUP_RECENT_MS && start <= now) {
		if (exec_free(conn, Q_SLICE_HOUR, params, err) < 0)
			return -1;
		return exec_free(conn, Q_MARKS_DONE, marks, err);
	}
	if (rebuild(conn, tenant, "h", start, t, err) < 0 ||
	    exec_free(conn, Q_UNSLICE_HOUR, params, err) < 0)
		return -1;
	return exec_free(conn, Q_MARK_DAY, params, err);
}

/* One refresh: 1 done, 0 nothing (or held elsewhere), -1 failed. */
static int refresh_one(struct db_conn *conn, const char *tenant_id,
		       const struct rollup_due *due, struct err *err)
{
	const char *params[4] = {tenant_id};
	char slices[TIME_BUF_LEN], days[TIME_BUF_LEN], old[TIME_BUF_LEN];
	char t[TIME_BUF_LEN], hour[TIME_BUF_LEN], tenant[40], kind[2];
	struct db_res *res = NULL;
	int64_t start, now = time_now_ms();
	int rc = -1;

	if (due->slices_by > 0)
		params[1] = time_format_ms(due->slices_by, slices);
	if (due->days_by > 0)
		params[2] = time_format_ms(due->days_by, days);
	params[3] = time_format_ms(now - ROLLUP_RECENT_MS, old);
	if (db_begin_snapshot(conn, err) < 0)
		return -1;
	if (!(res = db_exec(conn, Q_MARKS_NEXT, params, err)))
		goto out;
	if (db_res_rows(res) == 0) {
		rc = 0;
		goto out;
	}
	snprintf(tenant, sizeof(tenant), "%s", db_res_value(res, 0, 0));
	snprintf(kind, sizeof(kind), "%s", db_res_value(res, 0, 1));
	start = db_res_i64(res, 0, 2);
	db_res_free(res);
	time_format_ms(start, t);
	/* one lock per day, and per hour for the hour and its slices */
	params[0] = tenant;
	params[1] = kind[0] == 'd' ? "d" : "h";
	params[2] = kind[0] == 's'
			? time_format_ms(time_floor_ms(start, HOUR_MS), hour)
			: t;
	if (!(res = db_exec(conn, Q_MARK_LOCK, params, err)))
		goto out;
	if (strcmp(db_res_value(res, 0, 0), "t") != 0) {
		rc = 0; /* another refresh is on it */
		goto out;
	}
	if (kind[0] == 'h' || kind[0] == 'c') {
		if (hour_work(conn, tenant, kind[0], start, t, now, err) < 0)
			goto out;
	} else if (rebuild(conn, tenant, kind, start, t, err) < 0) {
		goto out;
	}
	if (db_commit(conn, err) < 0)
		goto out;
	db_res_free(res);
	return 1;
out:
	db_rollback(conn);
	db_res_free(res);
	return rc;
}

int rollup_refresh(struct db *db, const char *tenant_id, int max,
		   const struct rollup_due *due, int *done, struct err *err)
{
	static const struct rollup_due any = {0, 0};
	struct db_conn *conn;
	int rc = 0;

	*done = 0;
	if (!(conn = db_acquire(db, err)))
		return -1;
	while (*done < max) {
		rc = refresh_one(conn, tenant_id, due ? due : &any, err);
		/*
		 * Another refresh got there first (its rows or a newer mark
		 * are not in this snapshot): the marks decide what is left.
		 */
		if (rc < 0 && (db_retryable(conn) ||
			       strcmp(db_last_sqlstate(conn), "23505") == 0)) {
			rc = 0;
			break;
		}
		if (rc <= 0)
			break;
		(*done)++;
	}
	db_release(db, conn);
	return rc < 0 ? -1 : 0;
}

/* How many marks the tenant has left, in *n. */
static int marks_left(struct db *db, const char *tenant_id, long *n,
		      struct err *err)
{
	const char *params[1] = {tenant_id};
	struct db_conn *conn;
	struct db_res *res;

	*n = 0;
	if (!(conn = db_acquire(db, err)))
		return -1;
	res = db_exec(conn, Q_MARKS_COUNT, params, err);
	db_release(db, conn);
	if (!res)
		return -1;
	*n = atol(db_res_value(res, 0, 0));
	db_res_free(res);
	return 0;
}

int rollup_rebuild(struct db *db, const char *tenant_id, struct err *err)
{
	const char *params[1] = {tenant_id};
	struct db_conn *conn;
	int done, waited, attempt, retry, rc = -1;
	long left;

	if (!(conn = db_acquire(db, err)))
		return -1;
	/*
	 * A worker refreshing one of the tenant's hours meanwhile may
	 * deadlock with the clear (each holds rows the other wants): the
	 * loser rolls back, and the clear runs again.
	 */
	for (attempt = 0; rc < 0 && attempt < REBUILD_ATTEMPTS; attempt++) {
		if (db_begin(conn, err) < 0)
			break;
		if (exec_free(conn, Q_ROLLUP_CLEAR_TENANT, params, err) < 0 ||
		    exec_free(conn, Q_MARKS_ALL, params, err) < 0 ||
		    db_commit(conn, err) < 0) {
			retry = db_retryable(conn);
			db_rollback(conn);
			if (!retry)
				break;
			continue;
		}
		rc = 0;
	}
	db_release(db, conn);
	/* the worker may be refreshing some of them too: wait for it */
	for (waited = 0; rc == 0 && waited < REBUILD_WAIT_MS;) {
		if ((rc = rollup_refresh(db, tenant_id, 1000, NULL, &done,
					 err)) < 0 ||
		    done > 0)
			continue;
		if ((rc = marks_left(db, tenant_id, &left, err)) < 0 || !left)
			break;
		usleep(20 * 1000);
		waited += 20;
	}
	return rc;
}
