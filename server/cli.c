/* SPDX-License-Identifier: MIT */
/*
 * Commands (serve, migrate, tenants, keys, rebuild-facts) and the wiring
 * of a running service: config -> db pool -> api routes -> http.
 */
#include "cli.h"
#include "api.h"
#include "derive.h"
#include "http.h"
#include "keys.h"
#include "log.h"
#include "migrate.h"
#include "rollup.h"
#include "store.h"
#include "util.h"
#include "worker.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct service {
	struct app app;
	struct http_server *http;
	struct worker *worker;
};

static const char usage[] =
    "usage: agentkpi COMMAND [ARGS]\n"
    "\n"
    "Metrics for AI customer-support agents: ingests conversation events\n"
    "over HTTP into PostgreSQL and serves the KPIs built from them.\n"
    "\n"
    "commands:\n"
    "  serve [--migrate]             serve the HTTP API on LISTEN\n"
    "  migrate                       apply pending database migrations\n"
    "  tenants create NAME [--if-not-exists]\n"
    "                                create a tenant\n"
    "  tenants limit NAME --rps N [--burst M] | --default\n"
    "                                set the tenant's per-key rate limit\n"
    "  keys create --tenant NAME --scopes ingest,read,admin\n"
    "                                create an API key (printed once)\n"
    "  keys list --tenant NAME       list a tenant's keys (last use too)\n"
    "  keys revoke KEY_ID            revoke an API key\n"
    "  keys verify KEY               exit 0 when KEY is a valid key\n"
    "  rebuild-facts [--tenant NAME] [--rollups-only]\n"
    "                                recompute conversation facts (and KPI\n"
    "                                rollups) from the stored events\n"
    "\n"
    "Every command reads DATABASE_URL; see README.md for all settings.\n"
    "'agentkpi COMMAND --help' describes one command.\n";

static const struct {
	const char *name;
	const char *help;
} command_help[] = {
    {"serve", "usage: agentkpi serve [--migrate]\n\n"
	      "Serves the HTTP API on LISTEN (default 127.0.0.1:8080)\n"
	      "until SIGINT or SIGTERM. Refuses to start while database\n"
	      "migrations are pending, unless --migrate applies them.\n"
	      "On SIGINT or SIGTERM it stops accepting connections, lets\n"
	      "the requests in flight finish (up to SHUTDOWN_TIMEOUT_MS),\n"
	      "closes the database pool and exits 0.\n"},
    {"migrate", "usage: agentkpi migrate\n\n"
		"Applies the pending migrations of MIGRATIONS_DIR\n"
		"(default ./migrations) to DATABASE_URL, each in one\n"
		"transaction. Safe to run concurrently and repeatedly.\n"},
    {"tenants", "usage: agentkpi tenants create NAME [--if-not-exists]\n"
		"       agentkpi tenants limit NAME --rps N [--burst M]\n"
		"       agentkpi tenants limit NAME --default\n\n"
		"create makes a tenant: a separate space of events and KPIs.\n"
		"Names hold letters, digits, '-', '_' and '.'. With\n"
		"--if-not-exists an existing tenant is not an error.\n"
		"Prints the tenant id.\n"
		"limit sets how many requests per second each key of the\n"
		"tenant may make (token bucket; N 0: no limit; M the burst,\n"
		"default 2 x N); --default returns to RATE_LIMIT_RPS and\n"
		"RATE_LIMIT_BURST. Servers apply it within KEY_CACHE_MS.\n"},
    {"keys", "usage: agentkpi keys create --tenant NAME --scopes LIST\n"
	     "       agentkpi keys list --tenant NAME\n"
	     "       agentkpi keys revoke KEY_ID\n"
	     "       agentkpi keys verify KEY\n\n"
	     "create makes an API key for a tenant with scopes from ingest\n"
	     "(POST events), read (query) and admin; the key is printed once,\n"
	     "as the last line of stdout, and only its SHA-256 is stored.\n"
	     "list prints each key's id, prefix, scopes, creation, last use\n"
	     "(to the minute) and revocation, tab-separated, newest first.\n"
	     "revoke disables a key by its id (servers refuse it within\n"
	     "KEY_CACHE_MS). verify exits 0 when KEY is valid and not\n"
	     "revoked, 1 otherwise.\n"},
    {"rebuild-facts",
     "usage: agentkpi rebuild-facts [--tenant NAME] [--rollups-only]\n\n"
     "Recomputes every conversation's facts from its stored events\n"
     "(all tenants, or one), e.g. after a definition changed, then the\n"
     "KPI rollups from the facts. --rollups-only rebuilds just the\n"
     "rollups, from the stored facts (after a bulk load of facts).\n"},
};

static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static int print_command_help(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(command_help) / sizeof(command_help[0]); i++) {
		if (strcmp(cmd, command_help[i].name) == 0) {
			fputs(command_help[i].help, stdout);
			return 0;
		}
	}
	fputs(usage, stdout);
	return 0;
}

static int fail(const struct err *err)
{
	fprintf(stderr, "agentkpi: %s\n", err->msg);
	return 1;
}

/* -- service ----------------------------------------------------------- */

static int check_migrations(const struct config *cfg, int migrate,
			    struct err *err)
{
	struct db *db = db_open(cfg->database_url, 1, 5000, DB_NO_PREPARE, err);
	int pending = 0, applied, rc = -1;

	if (!db)
		return -1;
	if (migrate) {
		if (migrate_apply(db, cfg->migrations_dir, &applied, err) < 0)
			goto out;
	} else if (migrate_pending(db, cfg->migrations_dir, &pending, err) <
		   0) {
		goto out;
	}
	if (pending) {
		err_set(err, API_ERR_NOT_READY, NULL,
			"%d database migration(s) pending; run 'agentkpi "
			"migrate' or 'agentkpi serve --migrate'",
			pending);
		goto out;
	}
	rc = 0;
out:
	db_close(db);
	return rc;
}

struct service *service_start(struct config *cfg, int migrate, struct err *err)
{
	struct service *svc = xcalloc(1, sizeof(*svc));
	struct http_config hc;
	char host[256];

	svc->app.cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	svc->app.started_ms = time_now_ms();
	svc->app.keys =
	    keycache_new(svc->app.cfg.key_cache_ms, svc->app.cfg.rate_limit_rps,
			 svc->app.cfg.rate_limit_burst);
	if (check_migrations(&svc->app.cfg, migrate, err) < 0)
		goto fail;
	svc->app.db =
	    db_open(svc->app.cfg.database_url, (int)svc->app.cfg.db_pool_size,
		    (int)svc->app.cfg.db_acquire_timeout_ms, 0, err);
	if (!svc->app.db)
		goto fail;
	memset(&hc, 0, sizeof(hc));
	config_listen_addr(svc->app.cfg.listen, host, sizeof(host), &hc.port);
	hc.host = host;
	hc.threads = (int)svc->app.cfg.http_threads;
	hc.max_body_bytes = svc->app.cfg.max_body_bytes;
	hc.max_url_bytes = svc->app.cfg.max_url_bytes;
	hc.max_header_bytes = svc->app.cfg.max_header_bytes;
	hc.max_query_params = svc->app.cfg.max_query_params;
	hc.max_connections = svc->app.cfg.max_connections;
	hc.max_connections_per_ip = svc->app.cfg.max_connections_per_ip;
	hc.connection_timeout_s = svc->app.cfg.connection_timeout_s;
	hc.routes = api_routes;
	hc.nroutes = api_nroutes;
	hc.authorize = api_authorize;
	hc.message_prefix = API_GRAFANA_PREFIX;
	hc.app = &svc->app;
	if (!(svc->http = http_start(&hc, err)))
		goto fail;
	svc->worker = worker_start(svc->app.db);
	return svc;
fail:
	service_stop(svc);
	return NULL;
}

int service_port(const struct service *svc)
{
	return http_port(svc->http);
}

struct db *service_db(const struct service *svc)
{
	return svc->app.db;
}

int service_drain(struct service *svc)
{
	long bound = svc->app.cfg.shutdown_timeout_ms;
	int left;

	log_msg(LOG_INFO, "main",
		"not accepting connections; waiting up to %ld ms for %d "
		"request(s) in flight",
		bound, http_in_flight(svc->http));
	left = http_drain(svc->http, bound);
	if (left > 0) {
		log_msg(LOG_WARN, "main",
			"%d request(s) still in flight after %ld ms "
			"(SHUTDOWN_TIMEOUT_MS); cancelling their queries",
			left, bound);
		db_cancel_busy(svc->app.db);
	}
	return left;
}

void service_stop(struct service *svc)
{
	if (!svc)
		return;
	http_stop(svc->http);
	worker_stop(svc->worker);
	db_close(svc->app.db);
	keycache_free(svc->app.keys);
	config_release(&svc->app.cfg);
	free(svc);
}

static int cmd_serve(int argc, char **argv)
{
	struct service *svc;
	struct config cfg;
	struct err err;
	sigset_t set;
	int sig, migrate = argc > 1 && strcmp(argv[1], "--migrate") == 0;
	char host[256];
	int port;

	if (config_load(&cfg, &err) < 0)
		return fail(&err);
	config_log(&cfg);
	config_listen_addr(cfg.listen, host, sizeof(host), &port);
	/* block the stop signals in every thread; main waits for them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!(svc = service_start(&cfg, migrate, &err))) {
		config_release(&cfg);
		return fail(&err);
	}
	log_msg(LOG_INFO, "main", "listening on http://%s:%d", host,
		service_port(svc));
	sigwait(&set, &sig);
	log_msg(LOG_INFO, "main", "signal %d: stopping", sig);
	service_drain(svc);
	service_stop(svc);
	log_msg(LOG_INFO, "main", "stopped");
	return 0;
}

/* -- admin commands ------------------------------------------------------ */

static struct db *admin_db(struct config *cfg, int flags, struct err *err)
{
	if (config_load(cfg, err) < 0)
		return NULL;
	return db_open(cfg->database_url, 1, 5000, flags, err);
}

static int cmd_migrate(void)
{
	struct config cfg;
	struct err err;
	struct db *db;
	int applied, rc = 1;

	if (!(db = admin_db(&cfg, DB_NO_PREPARE, &err)))
		goto out;
	if (migrate_apply(db, cfg.migrations_dir, &applied, &err) < 0)
		goto out;
	printf("%d migration(s) applied; schema is current\n", applied);
	rc = 0;
out:
	if (rc)
		fail(&err);
	db_close(db);
	config_release(&cfg);
	return rc;
}

static const char *flag_value(int argc, char **argv, const char *flag);
static bool has_flag(int argc, char **argv, const char *flag);

/* tenants limit NAME (--rps N [--burst M] | --default) */
static int tenants_limit(struct db *db, int argc, char **argv, struct err *err)
{
	const char *rps_text = flag_value(argc, argv, "--rps");
	const char *burst_text = flag_value(argc, argv, "--burst");
	long rps = -1, burst = 0;

	if (has_flag(argc, argv, "--default")) {
		if (keys_tenant_set_limit(db, argv[2], -1, 0, err) < 0)
			return -1;
		printf("tenant '%s': default rate limit\n", argv[2]);
		return 0;
	}
	if (!rps_text || parse_long(rps_text, &rps) < 0 || rps < 0)
		return err_set(err, API_ERR_INVALID_PARAM, "rps",
			       "tenants limit needs --rps N (0: no limit) or "
			       "--default");
	if (burst_text) {
		if (parse_long(burst_text, &burst) < 0)
			return err_set(err, API_ERR_INVALID_PARAM, "burst",
				       "--burst must be a whole number");
	} else {
		burst = rps > 0 ? 2 * rps : 1;
	}
	if (keys_tenant_set_limit(db, argv[2], rps, burst, err) < 0)
		return -1;
	if (rps == 0)
		printf("tenant '%s': no rate limit\n", argv[2]);
	else
		printf("tenant '%s': %ld requests/s per key, bursts of %ld\n",
		       argv[2], rps, burst);
	return 0;
}

static int cmd_tenants(int argc, char **argv)
{
	bool if_not_exists = argc > 3 && !strcmp(argv[3], "--if-not-exists");
	char id[37];
	struct config cfg;
	struct err err;
	struct db *db;
	bool created;
	int rc = 1;

	if (argc < 3 ||
	    (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "limit") != 0)) {
		print_command_help("tenants");
		return 2;
	}
	if (!(db = admin_db(&cfg, 0, &err)))
		goto out;
	if (!strcmp(argv[1], "limit")) {
		if (tenants_limit(db, argc, argv, &err) < 0)
			goto out;
		rc = 0;
		goto out;
	}
	if (keys_tenant_create(db, argv[2], if_not_exists, id, &created, &err) <
	    0)
		goto out;
	fprintf(stderr, "tenant '%s' %s\n", argv[2],
		created ? "created" : "already exists");
	printf("%s\n", id);
	rc = 0;
out:
	if (rc)
		fail(&err);
	db_close(db);
	config_release(&cfg);
	return rc;
}

static const char *flag_value(int argc, char **argv, const char *flag)
{
	int i;

	for (i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], flag) == 0)
			return argv[i + 1];
	return NULL;
}

static bool has_flag(int argc, char **argv, const char *flag)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], flag) == 0)
			return true;
	return false;
}

static int keys_create_cmd(struct db *db, int argc, char **argv,
			   struct err *err)
{
	const char *tenant = flag_value(argc, argv, "--tenant");
	const char *scopes_text = flag_value(argc, argv, "--scopes");
	char key[KEY_TEXT_LEN + 1], id[37], scopes_buf[32];
	int scopes;

	if (!tenant)
		return err_set(err, API_ERR_INVALID_PARAM, "tenant",
			       "keys create needs --tenant NAME");
	if (keys_parse_scopes(scopes_text ? scopes_text : "", &scopes, err) < 0)
		return -1;
	if (keys_create(db, tenant, scopes, key, id, err) < 0)
		return -1;
	keys_scopes_text(scopes, scopes_buf);
	printf("key id: %s\ntenant: %s\nscopes: %s\n"
	       "the key is shown once; store it now:\n%s\n",
	       id, tenant, scopes_buf, key);
	return 0;
}

static void print_key_row(void *arg, const char *const *cols)
{
	(void)arg;
	printf("%s\t%s\t%s\tcreated %s\tlast used %s\trevoked %s\n", cols[0],
	       cols[1], cols[2], cols[3], cols[4], cols[5]);
}

static int cmd_keys(int argc, char **argv)
{
	struct config cfg;
	struct auth auth;
	struct err err;
	struct db *db;
	int rc = 1;

	if (argc < 3 ||
	    (strcmp(argv[1], "create") && strcmp(argv[1], "revoke") &&
	     strcmp(argv[1], "verify") && strcmp(argv[1], "list"))) {
		print_command_help("keys");
		return 2;
	}
	if (!(db = admin_db(&cfg, 0, &err)))
		goto out;
	if (!strcmp(argv[1], "create")) {
		if (keys_create_cmd(db, argc, argv, &err) < 0)
			goto out;
	} else if (!strcmp(argv[1], "list")) {
		if (!flag_value(argc, argv, "--tenant")) {
			err_set(&err, API_ERR_INVALID_PARAM, "tenant",
				"keys list needs --tenant NAME");
			goto out;
		}
		if (keys_list(db, flag_value(argc, argv, "--tenant"),
			      print_key_row, NULL, &err) < 0)
			goto out;
	} else if (!strcmp(argv[1], "revoke")) {
		if (keys_revoke(db, argv[2], &err) < 0)
			goto out;
		printf("key %s revoked\n", argv[2]);
	} else {
		if (keys_authenticate(db, argv[2], &auth, &err) < 0)
			goto out;
		printf("valid key %s of tenant '%s'\n", auth.key_id,
		       auth.tenant_name);
	}
	rc = 0;
out:
	if (rc)
		fail(&err);
	db_close(db);
	config_release(&cfg);
	return rc;
}

static int rebuild_one(struct db *db, const char *id, const char *name,
		       bool rollups_only, struct err *err)
{
	long n;

	if (rollups_only) {
		if (rollup_rebuild(db, id, err) < 0)
			return -1;
		printf("tenant '%s': KPI rollups rebuilt\n", name);
		return 0;
	}
	if (derive_rebuild(db, id, &n, err) < 0)
		return -1;
	printf("tenant '%s': facts of %ld conversation(s) rebuilt\n", name, n);
	return 0;
}

static int cmd_rebuild(int argc, char **argv)
{
	const char *tenant = flag_value(argc, argv, "--tenant");
	bool rollups_only = has_flag(argc, argv, "--rollups-only");
	struct config cfg;
	struct err err;
	struct db *db;
	char id[37];
	int rc = 1;

	if (!(db = admin_db(&cfg, 0, &err)))
		goto out;
	if (tenant) {
		if (keys_tenant_find(db, tenant, id, &err) < 0 ||
		    rebuild_one(db, id, tenant, rollups_only, &err) < 0)
			goto out;
	} else {
		struct db_conn *conn = db_acquire(db, &err);
		struct db_res *res;
		int i;

		if (!conn)
			goto out;
		res = db_exec(conn, Q_TENANTS_ALL, NULL, &err);
		db_release(db, conn);
		if (!res)
			goto out;
		for (i = 0; i < db_res_rows(res); i++) {
			if (rebuild_one(db, db_res_value(res, i, 0),
					db_res_value(res, i, 1), rollups_only,
					&err) < 0) {
				db_res_free(res);
				goto out;
			}
		}
		db_res_free(res);
	}
	rc = 0;
out:
	if (rc)
		fail(&err);
	db_close(db);
	config_release(&cfg);
	return rc;
}

int cli_run(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || !strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		fputs(usage, cmd ? stdout : stderr);
		return cmd ? 0 : 2;
	}
	if (wants_help(argc - 1, argv + 1))
		return print_command_help(cmd);
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(cmd, "migrate"))
		return cmd_migrate();
	if (!strcmp(cmd, "tenants"))
		return cmd_tenants(argc - 1, argv + 1);
	if (!strcmp(cmd, "keys"))
		return cmd_keys(argc - 1, argv + 1);
	if (!strcmp(cmd, "rebuild-facts"))
		return cmd_rebuild(argc - 1, argv + 1);
	fprintf(stderr, "agentkpi: unknown command '%s'\n\n%s", cmd, usage);
	return 2;
}
