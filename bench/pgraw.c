/* SPDX-License-Identifier: MIT */
/*
 * bench/pgraw: what PostgreSQL does without the service, on the rows the
 * service stores (a COPY text file written by bench/load).
 *
 *   pgraw copy TABLE FILE                 one COPY FROM STDIN, 8 kB messages
 *   pgraw insert TABLE FILE CONNS SECS    one prepared single-row INSERT per
 *                                         transaction (autocommit), CONNS
 *                                         connections, until the rows or
 *                                         SECS run out
 *
 * DATABASE_URL names the database. Output: one "RESULT ..." line with
 * rows, seconds and rows_per_s (and p50/p99 per INSERT).
 */
#include "bench.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONNS 64
#define MAX_FIELDS 128

struct rows {
	char *text; /* the file, with each line's fields unescaped in place */
	char **fields;
	int nfields;
	long n;
};

struct inserter {
	const struct rows *rows;
	const char *table;
	long first, step; /* rows first, first + step, ... */
	double deadline;
	double *lat_ms;
	long done;
	pthread_barrier_t *barrier;
};

static PGconn *connect_db(void)
{
	const char *url = getenv("DATABASE_URL");
	PGconn *pg;

	if (!url || !*url)
		b_die("set DATABASE_URL");
	pg = PQconnectdb(url);
	if (PQstatus(pg) != CONNECTION_OK)
		b_die("connect: %s", PQerrorMessage(pg));
	return pg;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct b_str b = {0};
	char chunk[65536];
	size_t n;

	if (!f)
		b_die("cannot read %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		b_add(&b, chunk, n);
	fclose(f);
	b_add(&b, "", 0);
	*len = b.len;
	return b.s;
}

/* Unescapes one COPY text field in place; NULL for \N. */
static char *unescape(char *s)
{
	char *r = s, *w = s;

	if (!strcmp(s, "\\N"))
		return NULL;
	while (*r) {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		r++;
		*w++ = *r == 't'   ? '\t'
		       : *r == 'n' ? '\n'
		       : *r == 'r' ? '\r'
				   : *r;
		if (*r)
			r++;
	}
	*w = '\0';
	return s;
}

static void parse_rows(char *text, struct rows *rows)
{
	char *line = text, *nl, *p;
	long cap = 0;
	int i;

	rows->text = text;
	rows->nfields = 0;
	while (*line) {
		if (!(nl = strchr(line, '\n')))
			b_die("the last line has no newline");
		*nl = '\0';
		if (rows->n == cap) {
			cap = cap ? cap * 2 : 4096;
			rows->fields =
			    b_realloc(rows->fields, (size_t)cap * MAX_FIELDS *
							sizeof(char *));
		}
		for (i = 0, p = line;; i++) {
			char *tab = strchr(p, '\t');

			if (i >= MAX_FIELDS)
				b_die("too many fields");
			if (tab)
				*tab = '\0';
			rows->fields[rows->n * MAX_FIELDS + i] = unescape(p);
			if (!tab)
				break;
			p = tab + 1;
		}
		if (rows->nfields && rows->nfields != i + 1)
			b_die("line %ld: %d fields, not %d", rows->n + 1, i + 1,
			      rows->nfields);
		rows->nfields = i + 1;
		rows->n++;
		line = nl + 1;
	}
	if (!rows->n)
		b_die("no rows");
}

static void copy_file(const char *table, const char *path)
{
	PGconn *pg = connect_db();
	size_t len, off;
	char *text = read_file(path, &len);
	struct b_str sql = {0};
	PGresult *res;
	long rows = 0;
	double t0;

	for (off = 0; off < len; off++)
		rows += text[off] == '\n';
	b_printf(&sql, "COPY %s FROM STDIN", table);
	t0 = b_now();
	res = PQexec(pg, sql.s);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		b_die("%s: %s", sql.s, PQerrorMessage(pg));
	PQclear(res);
	for (off = 0; off < len; off += 8192)
		if (PQputCopyData(pg, text + off,
				  (int)(len - off < 8192 ? len - off : 8192)) !=
		    1)
			b_die("COPY: %s", PQerrorMessage(pg));
	if (PQputCopyEnd(pg, NULL) != 1)
		b_die("COPY end: %s", PQerrorMessage(pg));
	res = PQgetResult(pg);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		b_die("COPY: %s", PQerrorMessage(pg));
	PQclear(res);
	t0 = b_now() - t0;
	printf("RESULT rows=%ld seconds=%.3f rows_per_s=%.0f\n", rows, t0,
	       (double)rows / t0);
	PQfinish(pg);
	free(text);
	free(sql.s);
}

static void *run_inserter(void *arg)
{
	struct inserter *w = arg;
	const struct rows *r = w->rows;
	PGconn *pg = connect_db();
	struct b_str sql = {0};
	PGresult *res;
	long i;
	int k;
	double t0;

	b_printf(&sql, "INSERT INTO %s VALUES (", w->table);
	for (k = 0; k < r->nfields; k++)
		b_printf(&sql, "%s$%d", k ? ", " : "", k + 1);
	b_add(&sql, ")", 1);
	res = PQprepare(pg, "ins", sql.s, r->nfields, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		b_die("prepare: %s", PQerrorMessage(pg));
	PQclear(res);
	pthread_barrier_wait(w->barrier);
	for (i = w->first; i < r->n && b_now() < w->deadline; i += w->step) {
		t0 = b_now();
		res = PQexecPrepared(
		    pg, "ins", r->nfields,
		    (const char *const *)&r->fields[i * MAX_FIELDS], NULL, NULL,
		    0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			b_die("insert: %s", PQerrorMessage(pg));
		PQclear(res);
		w->lat_ms[w->done++] = (b_now() - t0) * 1000;
	}
	PQfinish(pg);
	free(sql.s);
	return NULL;
}

static void insert_rows(const char *table, const char *path, int conns,
			double secs)
{
	struct inserter ws[MAX_CONNS];
	pthread_t th[MAX_CONNS];
	pthread_barrier_t barrier;
	struct rows rows = {0};
	size_t len;
	double t0, *all;
	long total = 0, k = 0, j;
	int i;

	parse_rows(read_file(path, &len), &rows);
	pthread_barrier_init(&barrier, NULL, (unsigned)conns + 1);
	for (i = 0; i < conns; i++) {
		ws[i] = (struct inserter){.rows = &rows,
					  .table = table,
					  .first = i,
					  .step = conns,
					  .barrier = &barrier};
		ws[i].lat_ms = b_malloc(((size_t)rows.n / (size_t)conns + 1) *
					sizeof(double));
		if (pthread_create(&th[i], NULL, run_inserter, &ws[i]))
			b_die("pthread_create failed");
	}
	t0 = b_now();
	for (i = 0; i < conns; i++)
		ws[i].deadline = t0 + secs;
	pthread_barrier_wait(&barrier);
	t0 = b_now();
	for (i = 0; i < conns; i++) {
		pthread_join(th[i], NULL);
		total += ws[i].done;
	}
	t0 = b_now() - t0;
	all = b_malloc((size_t)total * sizeof(double) + 1);
	for (i = 0; i < conns; i++)
		for (j = 0; j < ws[i].done; j++)
			all[k++] = ws[i].lat_ms[j];
	printf("RESULT rows=%ld seconds=%.3f rows_per_s=%.0f connections=%d "
	       "p50_ms=%.3f p99_ms=%.3f\n",
	       total, t0, (double)total / t0, conns,
	       b_percentile(all, total, 50), b_percentile(all, total, 99));
}

int main(int argc, char **argv)
{
	b_prog = "pgraw";
	if (argc == 4 && !strcmp(argv[1], "copy"))
		copy_file(argv[2], argv[3]);
	else if (argc == 6 && !strcmp(argv[1], "insert"))
		insert_rows(argv[2], argv[3],
			    (int)b_num("CONNS", argv[4], 1, MAX_CONNS),
			    (double)b_num("SECS", argv[5], 1, 3600));
	else
		b_die("usage: pgraw copy TABLE FILE | pgraw insert TABLE FILE "
		      "CONNS SECS");
	return 0;
}
