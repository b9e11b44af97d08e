/* SPDX-License-Identifier: MIT */
/*
 * The agentkpi command line against the real database: help, migrate,
 * tenants, keys (create, verify, revoke) and rebuild-facts. The binary is
 * the one `make check-tests` built (AGENTKPI_BIN).
 */
#include "harness.h"
#include "keys.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static struct harness h;

static void setup(void)
{
	harness_start(&h);
}

static void teardown(void)
{
	harness_stop(&h);
}

TestSuite(cli, .init = setup, .fini = teardown);

/* Runs `agentkpi ARGS`, returns its exit status; stdout into *out. */
static int run(const char *args, char **out)
{
	const char *bin = getenv("AGENTKPI_BIN");
	char cmd[1024], chunk[512];
	size_t len = 0;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null",
		 bin ? bin : "./agentkpi", args);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "cannot run %s", cmd);
	*out = xstrdup("");
	while (fgets(chunk, sizeof(chunk), p)) {
		*out = xrealloc(*out, len + strlen(chunk) + 1);
		strcpy(*out + len, chunk);
		len += strlen(chunk);
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The last non-empty line of text, copied into line. */
static void last_line(const char *text, char *line, size_t n)
{
	const char *end = text + strlen(text), *start;

	while (end > text && end[-1] == '\n')
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(line, n, "%.*s", (int)(end - start), start);
}

static void unique_name(char *name, size_t n)
{
	char uuid[37];

	util_uuid(uuid);
	snprintf(name, n, "cli-%.8s", uuid);
}

Test(cli, help_describes_every_command)
{
	static const char *const cmds[] = {"serve", "migrate", "tenants",
					   "keys", "rebuild-facts"};
	char *out, args[64];
	size_t i;

	cr_assert_eq(run("--help", &out), 0);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		cr_assert(strstr(out, cmds[i]), "--help lacks %s", cmds[i]);
	free(out);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(args, sizeof(args), "%s --help", cmds[i]);
		cr_assert_eq(run(args, &out), 0, "%s", args);
		cr_assert(strstr(out, "usage: agentkpi"), "%s: %s", args, out);
		free(out);
	}
	cr_assert_eq(run("frobnicate", &out), 2, "unknown command fails");
	free(out);
}

Test(cli, migrate_is_idempotent)
{
	char *out;

	cr_assert_eq(run("migrate", &out), 0);
	cr_assert(strstr(out, "0 migration(s) applied"), "%s", out);
	free(out);
}

Test(cli, tenant_create_refuses_duplicates_unless_asked)
{
	char name[32], args[128], *out, *again;

	unique_name(name, sizeof(name));
	snprintf(args, sizeof(args), "tenants create %s", name);
	cr_assert_eq(run(args, &out), 0);
	cr_assert(keys_is_uuid(strtok(out, "\n")), "prints the tenant id");
	cr_assert_eq(run(args, &again), 1, "second create is an error");
	free(again);
	snprintf(args, sizeof(args), "tenants create %s --if-not-exists", name);
	cr_assert_eq(run(args, &again), 0);
	cr_assert_str_eq(strtok(again, "\n"), out, "same tenant id");
	free(again);
	free(out);
	cr_assert_eq(run("tenants create 'bad name!'", &out), 1);
	free(out);
}

Test(cli, created_key_works_until_revoked)
{
	char name[32], args[256], key[128], key_id[64], *out;
	struct http_resp r;
	const char *p;

	unique_name(name, sizeof(name));
	snprintf(args, sizeof(args), "tenants create %s", name);
	cr_assert_eq(run(args, &out), 0);
	free(out);
	snprintf(args, sizeof(args),
		 "keys create --tenant %s --scopes ingest,read", name);
	cr_assert_eq(run(args, &out), 0);
	last_line(out, key, sizeof(key));
	cr_assert_eq(strlen(key), KEY_TEXT_LEN, "last line is the key: %s",
		     out);
	p = strstr(out, "key id: ");
	cr_assert_not_null(p);
	snprintf(key_id, sizeof(key_id), "%.36s", p + 8);
	free(out);

	http_call(&h, "GET", "/v1/conversations", key, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 200, "the new key reads: %s", r.body);
	http_resp_free(&r);
	snprintf(args, sizeof(args), "keys verify %s", key);
	cr_assert_eq(run(args, &out), 0);
	free(out);

	snprintf(args, sizeof(args), "keys revoke %s", key_id);
	cr_assert_eq(run(args, &out), 0);
	free(out);
	http_call(&h, "GET", "/v1/conversations", key, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 401, "a revoked key is refused");
	http_resp_free(&r);
	snprintf(args, sizeof(args), "keys verify %s", key);
	cr_assert_eq(run(args, &out), 1);
	free(out);
	snprintf(args, sizeof(args), "keys revoke %s", key_id);
	cr_assert_eq(run(args, &out), 1, "revoking twice is an error");
	free(out);
}

Test(cli, key_scopes_are_checked)
{
	char name[32], args[256], *out;

	unique_name(name, sizeof(name));
	snprintf(args, sizeof(args), "tenants create %s", name);
	cr_assert_eq(run(args, &out), 0);
	free(out);
	snprintf(args, sizeof(args), "keys create --tenant %s --scopes write",
		 name);
	cr_assert_eq(run(args, &out), 1, "unknown scope");
	free(out);
	cr_assert_eq(
	    run("keys create --tenant no-such-tenant-x --scopes read", &out), 1,
	    "unknown tenant");
	free(out);
}

Test(cli, only_the_hash_of_a_key_is_stored)
{
	char cmd[1024], line[256], hash[65];
	FILE *p;
	int plain = -1, hashed = -1;

	keys_hash(h.key, hash);
	snprintf(cmd, sizeof(cmd),
		 "psql \"$DATABASE_URL\" -Atc \"SELECT "
		 "(SELECT count(*) FROM api_keys WHERE key_hash = '%s' OR "
		 "prefix = '%s'), (SELECT count(*) FROM api_keys WHERE "
		 "key_hash = '%s')\" 2>&1",
		 h.key, h.key, hash);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	if (fgets(line, sizeof(line), p))
		sscanf(line, "%d|%d", &plain, &hashed);
	pclose(p);
	cr_assert_eq(plain, 0, "the key itself is nowhere: %s", line);
	cr_assert_eq(hashed, 1, "its SHA-256 is: %s", line);
}

Test(cli, rebuild_facts_reports_the_tenant)
{
	char args[256], *out;
	struct http_resp r;

	http_post_events(&h,
			 "[{\"id\":\"r1\",\"type\":\"conversation.started\","
			 "\"conversation_id\":\"rc\",\"ts\":\"2026-11-21T10:"
			 "00:00Z\"}]",
			 &r);
	cr_assert_eq(r.status, 200);
	http_resp_free(&r);
	snprintf(args, sizeof(args), "rebuild-facts --tenant %s", h.tenant);
	cr_assert_eq(run(args, &out), 0);
	cr_assert(strstr(out, "facts of 1 conversation(s) rebuilt"), "%s", out);
	free(out);
}

/* Runs one SQL statement with psql; returns its first output line. */
static void psql_line(const char *sql, char *line, size_t n)
{
	char cmd[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "psql \"$DATABASE_URL\" -Atc \"%s\" 2>&1",
		 sql);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	line[0] = '\0';
	if (!fgets(line, (int)n, p))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	pclose(p);
}

Test(cli, rebuild_facts_restores_the_values_seen)
{
	char args[256], sql[512], line[256], *out;
	struct http_resp r;

	http_post_events(
	    &h,
	    "[{\"id\":\"d1\",\"type\":\"conversation.started\","
	    "\"conversation_id\":\"dc\",\"ts\":\"2026-11-21T10:00:00Z\","
	    "\"agent_version\":\"v2\",\"segment\":{\"channel\":\"chat\"}},"
	    "{\"id\":\"d0\",\"type\":\"message\",\"author\":\"customer\","
	    "\"conversation_id\":\"dc\",\"ts\":\"2026-11-21T09:00:00Z\","
	    "\"agent_version\":\"v2\"}]",
	    &r);
	cr_assert_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	snprintf(sql, sizeof(sql),
		 "SELECT string_agg(key || '=' || value || '@' || "
		 "to_char(first_seen_at AT TIME ZONE 'UTC', 'HH24:MI'), ',' "
		 "ORDER BY key) FROM dimension_values WHERE tenant_id = '%s'",
		 h.tenant_id);
	psql_line(sql, line, sizeof(line));
	cr_assert_str_eq(line, "agent_version=v2@09:00,channel=chat@10:00",
			 "ingest records each value at its earliest event");
	snprintf(args, sizeof(args),
		 "DELETE FROM dimension_values WHERE tenant_id = '%s'",
		 h.tenant_id);
	psql_line(args, line, sizeof(line));
	snprintf(args, sizeof(args), "rebuild-facts --tenant %s", h.tenant);
	cr_assert_eq(run(args, &out), 0);
	free(out);
	psql_line(sql, line, sizeof(line));
	cr_assert_str_eq(line, "agent_version=v2@09:00,channel=chat@10:00",
			 "rebuild-facts recomputes them from the events");
}

Test(cli, rebuild_facts_rollups_only_rebuilds_the_kpi_rollups)
{
	char args[256], sql[256], line[64], *out;
	struct http_resp r;

	http_post_events(&h,
			 "[{\"id\":\"ro1\",\"type\":\"conversation.started\","
			 "\"conversation_id\":\"roc\",\"ts\":\"2026-11-21T10:"
			 "00:00Z\"}]",
			 &r);
	cr_assert_eq(r.status, 200);
	http_resp_free(&r);
	http_get(&h, "/v1/conversations/roc", &r); /* derives its facts */
	cr_assert_eq(r.status, 200);
	http_resp_free(&r);
	snprintf(args, sizeof(args), "rebuild-facts --tenant %s --rollups-only",
		 h.tenant);
	cr_assert_eq(run(args, &out), 0);
	cr_assert(strstr(out, "KPI rollups rebuilt"), "%s", out);
	free(out);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM kpi_rollup WHERE tenant_id = '%s'"
		 " AND span = 'h' AND s_n = 1",
		 h.tenant_id);
	psql_line(sql, line, sizeof(line));
	cr_assert_str_eq(line, "4",
			 "the hour of the conversation is built, one row per "
			 "rollup level (cell, by channel, by agent_version, "
			 "by stream only)");
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM kpi_marks WHERE tenant_id = '%s'",
		 h.tenant_id);
	psql_line(sql, line, sizeof(line));
	cr_assert_str_eq(line, "0", "nothing is left marked");
}
