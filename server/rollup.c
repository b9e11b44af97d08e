/* SPDX-License-Identifier: MIT */
/*
 * KPI rollup maintenance: hour marks from derivations, and refreshes that
 * rebuild one marked hour or day per REPEATABLE READ transaction, deleting
 * only the marks their snapshot saw (a later change keeps its mark).
 */
#include "rollup.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)
#define REBUILD_WAIT_MS 60000
#define REBUILD_ATTEMPTS 5

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

int rollup_mark(struct db_conn *conn, const char *tenant_id, json_t *times,
		struct err *err)
{
	size_t n = json_array_size(times), i, k = 0;
	int64_t *h = xcalloc(n ? n : 1, sizeof(*h));
	char **s = xcalloc(n ? n : 1, sizeof(*s)), buf[TIME_BUF_LEN];
	const char *params[2] = {tenant_id, NULL};
	struct db_res *res = NULL;
	char *text;
	int rc = 0;

	for (i = 0; i < n; i++) {
		h[i] = json_integer_value(json_array_get(times, i));
		h[i] -= ((h[i] % HOUR_MS) + HOUR_MS) % HOUR_MS;
	}
	if (n)
		qsort(h, n, sizeof(*h), cmp_i64);
	for (i = 0; i < n; i++)
		if (i == 0 || h[i] != h[i - 1])
			s[k++] = xstrdup(time_format_ms(h[i], buf));
	if (k) {
		params[1] = text = pg_text_array((const char *const *)s, k);
		res = db_exec(conn, Q_MARKS_ADD, params, err);
		rc = res ? 0 : -1;
		db_res_free(res);
		free(text);
	}
	for (i = 0; i < k; i++)
		free(s[i]);
	free(s);
	free(h);
	return rc;
}

static int exec_free(struct db_conn *conn, enum query_id id,
		     const char *const *params, struct err *err)
{
	struct db_res *res = db_exec(conn, id, params, err);

	db_res_free(res);
	return res ? 0 : -1;
}

/* One refresh: 1 done, 0 nothing (or held elsewhere), -1 failed. */
static int refresh_one(struct db_conn *conn, const char *tenant_id,
		       int64_t before_ms, struct err *err)
{
	const char *params[4] = {tenant_id};
	char t[TIME_BUF_LEN], end[TIME_BUF_LEN], tenant[40], span[2];
	char before[TIME_BUF_LEN];
	struct db_res *res = NULL;
	int64_t start;
	int rc = -1;

	if (before_ms > 0)
		params[1] = time_format_ms(before_ms, before);
	if (db_begin_snapshot(conn, err) < 0)
		return -1;
	if (!(res = db_exec(conn, Q_MARKS_NEXT, params, err)))
		goto out;
	if (db_res_rows(res) == 0) {
		rc = 0;
		goto out;
	}
	snprintf(tenant, sizeof(tenant), "%s", db_res_value(res, 0, 0));
	snprintf(span, sizeof(span), "%s", db_res_value(res, 0, 1));
	start = db_res_i64(res, 0, 2);
	db_res_free(res);
	params[0] = tenant;
	params[1] = span;
	params[2] = time_format_ms(start, t);
	if (!(res = db_exec(conn, Q_MARK_LOCK, params, err)))
		goto out;
	if (strcmp(db_res_value(res, 0, 0), "t") != 0) {
		rc = 0; /* another refresh is on it */
		goto out;
	}
	params[3] =
	    time_format_ms(start + (span[0] == 'h' ? HOUR_MS : DAY_MS), end);
	if (exec_free(conn, Q_ROLLUP_CLEAR, params, err) < 0 ||
	    exec_free(conn, Q_ROLLUP_BUILD, params, err) < 0 ||
	    exec_free(conn, Q_MARKS_DONE, params, err) < 0)
		goto out;
	params[1] = t;
	if (span[0] == 'h' && exec_free(conn, Q_MARK_DAY, params, err) < 0)
		goto out;
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
		   int64_t before_ms, int *done, struct err *err)
{
	struct db_conn *conn;
	int rc = 0;

	*done = 0;
	if (!(conn = db_acquire(db, err)))
		return -1;
	while (*done < max) {
		rc = refresh_one(conn, tenant_id, before_ms, err);
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
		if ((rc = rollup_refresh(db, tenant_id, 1000, 0, &done, err)) <
			0 ||
		    done > 0)
			continue;
		if ((rc = marks_left(db, tenant_id, &left, err)) < 0 || !left)
			break;
		usleep(20 * 1000);
		waited += 20;
	}
	return rc;
}
