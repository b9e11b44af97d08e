/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_DB_H
#define AGENTKPI_DB_H

/*
 * PostgreSQL access: a fixed pool of connections, every statement of
 * queries.def prepared on each connection, and opaque results. The only
 * module that includes libpq-fe.h.
 */

#include "err.h"

#include <stdbool.h>
#include <stdint.h>

enum query_id {
#define QUERY(id, sql, nparams) id,
#include "queries.def"
#undef QUERY
	Q_COUNT
};

struct db;
struct db_conn;
struct db_res;

enum db_flags {
	/* do not prepare queries.def (used before migrations are applied) */
	DB_NO_PREPARE = 1 << 0,
};

/*
 * Opens a pool of size connections to url. Connections are made now, so
 * a bad URL fails here. Returns NULL with err filled on failure.
 */
struct db *db_open(const char *url, int size, int acquire_timeout_ms, int flags,
		   struct err *err);
void db_close(struct db *db);

/*
 * Takes a connection, waiting up to the acquire timeout (then 503). A
 * broken connection (also one whose server restarted while it was idle)
 * is reset and re-prepared; one left in a failed transaction is rolled
 * back. Returns NULL with err filled (db_unavailable while the server
 * cannot be reached: every call tries to reconnect, none waits for it).
 */
struct db_conn *db_acquire(struct db *db, struct err *err);

/*
 * Asks the server to cancel whatever the checked-out connections are
 * running (shutdown after its bound); their statements fail (57014).
 * Returns how many cancel requests were sent.
 */
int db_cancel_busy(struct db *db);

/* Gives the connection back (NULL: nothing); rolls back an open transaction. */
void db_release(struct db *db, struct db_conn *conn);

/*
 * Runs query id with nparams text parameters (NULL = SQL NULL). Returns
 * a result the caller frees with db_res_free, or NULL with err filled
 * (SQLSTATE mapped: 23505 conflict, 23xxx/22xxx unprocessable, 08xxx and
 * 57P0x db_unavailable, others internal).
 */
struct db_res *db_exec(struct db_conn *conn, enum query_id id,
		       const char *const *params, struct err *err);

/* Runs a whole SQL script (a migration file); 0 or -1 with err. */
int db_exec_script(struct db_conn *conn, const char *sql, struct err *err);

/* Opens a transaction whose statements are planned on each execution. */
int db_begin(struct db_conn *conn, struct err *err);
/* The same, REPEATABLE READ: every statement sees one snapshot. */
int db_begin_snapshot(struct db_conn *conn, struct err *err);
int db_commit(struct db_conn *conn, struct err *err);
void db_rollback(struct db_conn *conn);

/* SQLSTATE of the last failure on conn ("" if none), e.g. "40P01". */
const char *db_last_sqlstate(const struct db_conn *conn);

/* Whether that failure was a deadlock or serialization failure. */
int db_retryable(const struct db_conn *conn);

int db_res_rows(const struct db_res *res);
/* Borrowed value, valid until db_res_free; NULL for SQL NULL. */
const char *db_res_value(const struct db_res *res, int row, int col);
/* Typed values; SQL NULL gives NAN, -1 (booleans: 1/0/-1), 0, INT64_MIN. */
double db_res_num(const struct db_res *res, int row, int col);
int db_res_tri(const struct db_res *res, int row, int col);
int db_res_int(const struct db_res *res, int row, int col);
int64_t db_res_i64(const struct db_res *res, int row, int col);
/* Number of rows the command affected (INSERT/UPDATE). */
long db_res_affected(const struct db_res *res);
void db_res_free(struct db_res *res);

#endif
