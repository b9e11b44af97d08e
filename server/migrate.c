/* SPDX-License-Identifier: MIT */
/*
 * Forward-only migrations from migrations/NNNN_name.sql. An advisory lock
 * serializes concurrent runs; each file is one transaction.
 */
#include "migrate.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct file_list {
	char **names; /* "0001_tenants" (without .sql), sorted */
	int n;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_files(const char *dir, struct file_list *fl, struct err *err)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t len;

	fl->names = NULL;
	fl->n = 0;
	if (!d)
		return err_set(err, API_ERR_INTERNAL, NULL,
			       "cannot open migrations directory '%s': %s", dir,
			       strerror(errno));
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		fl->names = xrealloc(fl->names, (fl->n + 1) * sizeof(char *));
		fl->names[fl->n++] = xstrndup(de->d_name, len - 4);
	}
	closedir(d);
	qsort(fl->names, fl->n, sizeof(char *), cmp_name);
	return 0;
}

static void free_files(struct file_list *fl)
{
	int i;

	for (i = 0; i < fl->n; i++)
		free(fl->names[i]);
	free(fl->names);
}

static char *read_file(const char *path, struct err *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (!f) {
		err_set(err, API_ERR_INTERNAL, NULL, "cannot read '%s': %s",
			path, strerror(errno));
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc(len + 1);
	if (fread(buf, 1, len, f) != (size_t)len) {
		free(buf);
		fclose(f);
		err_set(err, API_ERR_INTERNAL, NULL, "cannot read '%s'", path);
		return NULL;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static int is_applied(const struct db_res *res, const char *name)
{
	int i;

	for (i = 0; i < db_res_rows(res); i++)
		if (strcmp(db_res_value(res, i, 0), name) == 0)
			return 1;
	return 0;
}

/* Applies one file if it is not recorded yet, under the advisory lock. */
static int apply_one(struct db_conn *conn, const char *dir, const char *name,
		     int *applied, struct err *err)
{
	const char *params[1] = {name};
	struct db_res *res = NULL;
	char path[4096], *sql = NULL;
	int rc = -1;

	if (db_begin(conn, err) < 0)
		return -1;
	if (!(res = db_exec(conn, Q_MIGRATIONS_LOCK, NULL, err)))
		goto out;
	db_res_free(res);
	if (!(res = db_exec(conn, Q_MIGRATIONS_APPLIED, NULL, err)))
		goto out;
	if (is_applied(res, name)) {
		rc = db_commit(conn, err);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.sql", dir, name);
	if (!(sql = read_file(path, err)))
		goto out;
	if (db_exec_script(conn, sql, err) < 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "migration '%s' failed (see the log)", name);
		goto out;
	}
	db_res_free(res);
	if (!(res = db_exec(conn, Q_MIGRATION_RECORD, params, err)))
		goto out;
	if (db_commit(conn, err) < 0)
		goto out;
	log_msg(LOG_INFO, "migrate", "applied %s", name);
	(*applied)++;
	rc = 0;
out:
	if (rc < 0)
		db_rollback(conn);
	db_res_free(res);
	free(sql);
	return rc;
}

int migrate_apply(struct db *db, const char *dir, int *applied, struct err *err)
{
	struct file_list fl;
	struct db_conn *conn;
	struct db_res *res;
	int i, rc = -1;

	*applied = 0;
	if (list_files(dir, &fl, err) < 0)
		return -1;
	if (!(conn = db_acquire(db, err)))
		goto out_files;
	if (!(res = db_exec(conn, Q_MIGRATIONS_BOOTSTRAP, NULL, err)))
		goto out;
	db_res_free(res);
	for (i = 0; i < fl.n; i++)
		if (apply_one(conn, dir, fl.names[i], applied, err) < 0)
			goto out;
	rc = 0;
out:
	db_release(db, conn);
out_files:
	free_files(&fl);
	return rc;
}

int migrate_pending(struct db *db, const char *dir, int *pending,
		    struct err *err)
{
	struct file_list fl;
	struct db_conn *conn;
	struct db_res *res = NULL;
	int i, rc = -1;

	*pending = 0;
	if (list_files(dir, &fl, err) < 0)
		return -1;
	if (!(conn = db_acquire(db, err)))
		goto out_files;
	if (!(res = db_exec(conn, Q_MIGRATIONS_APPLIED, NULL, err))) {
		/* no schema_migrations table: nothing is applied */
		*pending = fl.n;
		rc = strcmp(db_last_sqlstate(conn), "42P01") == 0 ? 0 : -1;
		goto out;
	}
	for (i = 0; i < fl.n; i++)
		if (!is_applied(res, fl.names[i]))
			(*pending)++;
	rc = 0;
out:
	db_res_free(res);
	db_release(db, conn);
out_files:
	free_files(&fl);
	return rc;
}
