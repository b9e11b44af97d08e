/* SPDX-License-Identifier: MIT */
/*
 * The PostgreSQL pool: fixed size, prepared statements per connection,
 * SQLSTATE mapped onto API errors. Only this file includes libpq-fe.h.
 */
#include "db.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
	const char *name;
	const char *sql;
	int nparams;
} queries[Q_COUNT] = {
#define QUERY(id, sql, nparams) [id] = {#id, sql, nparams},
#include "queries.def"
#undef QUERY
};

struct db_conn {
	PGconn *pg;
	PGcancel *cancel; /* for db_cancel_busy; swapped under db->lock */
	bool busy;
	bool prepared;
	char sqlstate[6];
};

struct db {
	char *url;
	int size;
	int acquire_timeout_ms;
	int flags;
	struct db_conn *conns;
	pthread_mutex_t lock;
	pthread_cond_t freed;
};

struct db_res {
	PGresult *pg;
};

static void notice_quiet(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

static int map_sqlstate(const char *state, const char *what, struct err *err)
{
	if (!state)
		state = "";
	if (strcmp(state, "23505") == 0)
		return err_set(err, API_ERR_CONFLICT, NULL,
			       "%s: already exists", what);
	if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		return err_set(err, API_ERR_UNPROCESSABLE, NULL,
			       "%s: value rejected by the database (%s)", what,
			       state);
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 ||
	    state[0] == '\0')
		return err_set(err, API_ERR_DB_UNAVAILABLE, NULL,
			       "database unavailable during %s", what);
	return err_set(err, API_ERR_INTERNAL, NULL,
		       "database error during %s (%s)", what, state);
}

static int prepare_all(struct db_conn *c, struct err *err)
{
	PGresult *r;
	int i;

	for (i = 0; i < Q_COUNT; i++) {
		r = PQprepare(c->pg, queries[i].name, queries[i].sql,
			      queries[i].nparams, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_msg(LOG_ERROR, "db", "cannot prepare %s: %s",
				queries[i].name, PQerrorMessage(c->pg));
			PQclear(r);
			/* the server went away in the middle: retry later */
			return err_set(err,
				       PQstatus(c->pg) == CONNECTION_OK
					   ? API_ERR_INTERNAL
					   : API_ERR_DB_UNAVAILABLE,
				       NULL, "cannot prepare %s",
				       queries[i].name);
		}
		PQclear(r);
	}
	c->prepared = true;
	return 0;
}

/* Session settings every connection needs (Q_SESSION_SETUP). */
static void session_setup(struct db_conn *c)
{
	PGresult *r = PQexec(c->pg, queries[Q_SESSION_SETUP].sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		log_msg(LOG_WARN, "db", "session setup failed: %s",
			PQerrorMessage(c->pg));
	PQclear(r);
}

/* A new cancel handle for c's current session, swapped in under the lock. */
static void cancel_renew(struct db *db, struct db_conn *c)
{
	PGcancel *fresh = c->pg ? PQgetCancel(c->pg) : NULL, *old;

	pthread_mutex_lock(&db->lock);
	old = c->cancel;
	c->cancel = fresh;
	pthread_mutex_unlock(&db->lock);
	if (old)
		PQfreeCancel(old);
}

static int conn_open(struct db *db, struct db_conn *c, struct err *err)
{
	c->pg = PQconnectdb(db->url);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		/* libpq's message never holds the password */
		log_msg(LOG_ERROR, "db", "cannot connect: %s",
			PQerrorMessage(c->pg));
		PQfinish(c->pg);
		c->pg = NULL;
		return err_set(err, API_ERR_DB_UNAVAILABLE, NULL,
			       "cannot connect to the database");
	}
	PQsetNoticeReceiver(c->pg, notice_quiet, NULL);
	cancel_renew(db, c);
	session_setup(c);
	if (!(db->flags & DB_NO_PREPARE))
		return prepare_all(c, err);
	return 0;
}

struct db *db_open(const char *url, int size, int acquire_timeout_ms, int flags,
		   struct err *err)
{
	struct db *db = xcalloc(1, sizeof(*db));
	int i;

	db->url = xstrdup(url);
	db->size = size;
	db->acquire_timeout_ms = acquire_timeout_ms;
	db->flags = flags;
	db->conns = xcalloc(size, sizeof(*db->conns));
	pthread_mutex_init(&db->lock, NULL);
	pthread_cond_init(&db->freed, NULL);
	for (i = 0; i < size; i++) {
		if (conn_open(db, &db->conns[i], err) < 0) {
			db_close(db);
			return NULL;
		}
	}
	return db;
}

void db_close(struct db *db)
{
	int i;

	if (!db)
		return;
	for (i = 0; i < db->size; i++) {
		if (db->conns[i].cancel)
			PQfreeCancel(db->conns[i].cancel);
		if (db->conns[i].pg)
			PQfinish(db->conns[i].pg);
	}
	pthread_mutex_destroy(&db->lock);
	pthread_cond_destroy(&db->freed);
	free(db->conns);
	free(db->url);
	free(db);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Whether an idle connection still has a server behind it. A server that
 * stopped or restarted has closed the socket (often after a last FATAL
 * message): reading what is there without blocking sees the message,
 * then the end of the stream, and libpq marks the connection bad. Costs
 * one non-blocking read on a healthy connection.
 */
static bool conn_alive(struct db_conn *c)
{
	int i;

	if (PQstatus(c->pg) != CONNECTION_OK)
		return false;
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		return true; /* not idle: the next statement will tell */
	for (i = 0; i < 2; i++) {
		if (!PQconsumeInput(c->pg))
			return false;
		PQisBusy(c->pg); /* parses what arrived (a notice) */
	}
	return PQstatus(c->pg) == CONNECTION_OK;
}

/* Makes a checked-out connection usable again after trouble. */
static int conn_heal(struct db *db, struct db_conn *c, struct err *err)
{
	PGresult *r;

	if (!c->pg)
		return conn_open(db, c, err);
	if (!conn_alive(c)) {
		PQreset(c->pg);
		if (PQstatus(c->pg) != CONNECTION_OK) {
			log_msg(LOG_WARN, "db",
				"connection lost; cannot reconnect: %.*s",
				(int)strcspn(PQerrorMessage(c->pg), "\n"),
				PQerrorMessage(c->pg));
			return err_set(err, API_ERR_DB_UNAVAILABLE, NULL,
				       "cannot reconnect to the database");
		}
		log_msg(LOG_INFO, "db", "connection lost; reconnected");
		cancel_renew(db, c);
		c->prepared = false;
		session_setup(c);
		if (!(db->flags & DB_NO_PREPARE) && prepare_all(c, err) < 0)
			return -1;
	}
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		r = PQexec(c->pg, "ROLLBACK");
		PQclear(r);
	}
	return 0;
}

struct db_conn *db_acquire(struct db *db, struct err *err)
{
	struct db_conn *c = NULL;
	struct timespec deadline;
	int i, rc = 0;

	deadline_in(&deadline, db->acquire_timeout_ms);
	pthread_mutex_lock(&db->lock);
	for (;;) {
		for (i = 0; i < db->size; i++) {
			if (!db->conns[i].busy) {
				c = &db->conns[i];
				c->busy = true;
				break;
			}
		}
		if (c || rc == ETIMEDOUT)
			break;
		rc = pthread_cond_timedwait(&db->freed, &db->lock, &deadline);
	}
	pthread_mutex_unlock(&db->lock);
	if (!c) {
		err_set(err, API_ERR_DB_UNAVAILABLE, NULL,
			"no database connection free within %d ms",
			db->acquire_timeout_ms);
		return NULL;
	}
	c->sqlstate[0] = '\0';
	if (conn_heal(db, c, err) < 0) {
		db_release(db, c);
		return NULL;
	}
	return c;
}

int db_cancel_busy(struct db *db)
{
	char msg[256];
	int i, n = 0;

	pthread_mutex_lock(&db->lock);
	for (i = 0; i < db->size; i++) {
		if (!db->conns[i].busy || !db->conns[i].cancel)
			continue;
		if (PQcancel(db->conns[i].cancel, msg, sizeof(msg)))
			n++;
		else
			log_msg(LOG_WARN, "db", "cannot cancel: %s", msg);
	}
	pthread_mutex_unlock(&db->lock);
	return n;
}

void db_release(struct db *db, struct db_conn *conn)
{
	PGresult *r;

	if (!conn)
		return;
	if (conn->pg && PQstatus(conn->pg) == CONNECTION_OK &&
	    PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
		r = PQexec(conn->pg, "ROLLBACK");
		PQclear(r);
	}
	pthread_mutex_lock(&db->lock);
	conn->busy = false;
	pthread_cond_signal(&db->freed);
	pthread_mutex_unlock(&db->lock);
}

static struct db_res *check(struct db_conn *conn, PGresult *r, const char *what,
			    struct err *err)
{
	struct db_res *res;
	const char *state, *msg;
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		res = xmalloc(sizeof(*res));
		res->pg = r;
		return res;
	}
	state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	snprintf(conn->sqlstate, sizeof(conn->sqlstate), "%s",
		 state ? state : "");
	/* a lost connection has no primary message: libpq's own says why */
	msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!msg)
		msg = PQerrorMessage(conn->pg);
	log_msg(LOG_WARN, "db", "%s failed: sqlstate=%s %.*s", what,
		state ? state : "-", (int)strcspn(msg, "\n"), msg);
	map_sqlstate(state, what, err);
	PQclear(r);
	return NULL;
}

struct db_res *db_exec(struct db_conn *conn, enum query_id id,
		       const char *const *params, struct err *err)
{
	PGresult *r;

	if (conn->prepared)
		r = PQexecPrepared(conn->pg, queries[id].name,
				   queries[id].nparams, params, NULL, NULL, 0);
	else
		r = PQexecParams(conn->pg, queries[id].sql, queries[id].nparams,
				 NULL, params, NULL, NULL, 0);
	return check(conn, r, queries[id].name, err);
}

int db_exec_script(struct db_conn *conn, const char *sql, struct err *err)
{
	struct db_res *res =
	    check(conn, PQexec(conn->pg, sql), "migration", err);

	if (!res)
		return -1;
	db_res_free(res);
	return 0;
}

static int simple(struct db_conn *conn, const char *sql, struct err *err)
{
	struct db_res *res = check(conn, PQexec(conn->pg, sql), sql, err);

	if (!res)
		return -1;
	db_res_free(res);
	return 0;
}

int db_begin(struct db_conn *conn, struct err *err)
{
	return simple(
	    conn, "BEGIN; SET LOCAL plan_cache_mode = force_custom_plan", err);
}

int db_begin_snapshot(struct db_conn *conn, struct err *err)
{
	return simple(conn,
		      "BEGIN ISOLATION LEVEL REPEATABLE READ;"
		      " SET LOCAL plan_cache_mode = force_custom_plan",
		      err);
}

int db_commit(struct db_conn *conn, struct err *err)
{
	struct db_res *res =
	    check(conn, PQexec(conn->pg, "COMMIT"), "COMMIT", err);
	int rc = 0;

	if (!res)
		return -1;
	/* COMMIT of a failed transaction "succeeds" as a ROLLBACK */
	if (strcmp(PQcmdStatus(res->pg), "COMMIT") != 0)
		rc = err_set(err, API_ERR_INTERNAL, NULL,
			     "transaction was rolled back");
	db_res_free(res);
	return rc;
}

void db_rollback(struct db_conn *conn)
{
	PQclear(PQexec(conn->pg, "ROLLBACK"));
}

const char *db_last_sqlstate(const struct db_conn *conn)
{
	return conn->sqlstate;
}

int db_retryable(const struct db_conn *conn)
{
	const char *state = db_last_sqlstate(conn);

	return strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0;
}

int db_res_rows(const struct db_res *res)
{
	return PQntuples(res->pg);
}

const char *db_res_value(const struct db_res *res, int row, int col)
{
	if (PQgetisnull(res->pg, row, col))
		return NULL;
	return PQgetvalue(res->pg, row, col);
}

double db_res_num(const struct db_res *res, int row, int col)
{
	const char *v = db_res_value(res, row, col);

	return v ? strtod(v, NULL) : NAN;
}

int db_res_tri(const struct db_res *res, int row, int col)
{
	const char *v = db_res_value(res, row, col);

	return v ? v[0] == 't' : -1;
}

int db_res_int(const struct db_res *res, int row, int col)
{
	const char *v = db_res_value(res, row, col);

	return v ? atoi(v) : 0;
}

int64_t db_res_i64(const struct db_res *res, int row, int col)
{
	const char *v = db_res_value(res, row, col);

	return v ? strtoll(v, NULL, 10) : INT64_MIN;
}

long db_res_affected(const struct db_res *res)
{
	const char *n = PQcmdTuples(res->pg);

	return n && *n ? atol(n) : 0;
}

void db_res_free(struct db_res *res)
{
	if (!res)
		return;
	PQclear(res->pg);
	free(res);
}
