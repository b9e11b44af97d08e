/* SPDX-License-Identifier: MIT */
/*
 * bench/kpi_sql: prints the SQL of the service's prepared statements,
 * taken from server/queries.def itself, so the benchmark EXPLAINs exactly
 * what the server runs and can name pg_stat_statements rows.
 *
 * Build: cc -Iserver -o build/bench/kpi_sql bench/kpi_sql.c
 * Usage: build/bench/kpi_sql [QUERY_ID]   the SQL of one statement (Q_KPI)
 *        build/bench/kpi_sql --list       "ID<TAB>SQL" lines (COPY text)
 */
#include <stdio.h>
#include <string.h>

static const struct {
	const char *id, *sql;
	int nparams;
} queries[] = {
#define QUERY(id, sql, n) {#id, sql, n},
#include "queries.def"
#undef QUERY
};

#define NQUERIES (sizeof(queries) / sizeof(queries[0]))

/* One COPY text field: backslash, tab and newline escaped. */
static void copy_field(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", stdout);
		else if (*s == '\t')
			fputs("\\t", stdout);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

int main(int argc, char **argv)
{
	const char *want = argc > 1 ? argv[1] : "Q_KPI";
	size_t i;

	if (strcmp(want, "--list") == 0) {
		for (i = 0; i < NQUERIES; i++) {
			printf("%s\t", queries[i].id);
			copy_field(queries[i].sql);
			putchar('\n');
		}
		return 0;
	}
	for (i = 0; i < NQUERIES; i++) {
		if (strcmp(queries[i].id, want) == 0) {
			printf("%s\n", queries[i].sql);
			return 0;
		}
	}
	fprintf(stderr, "kpi_sql: no query %s in server/queries.def\n", want);
	return 1;
}
