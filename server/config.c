/* SPDX-License-Identifier: MIT */
/*
 * Configuration: one table of keys read from the environment, validated
 * at start so that a bad value stops the server with the key named.
 */
#include "config.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cfg_type { CFG_STR, CFG_LONG };
enum cfg_flags { CFG_REQUIRED = 1 << 0, CFG_SECRET = 1 << 1 };

static const struct cfg_key {
	const char *key;
	enum cfg_type type;
	size_t offset;
	const char *def;
	long min, max;
	int flags;
} cfg_keys[] = {
    {"database_url", CFG_STR, offsetof(struct config, database_url), NULL, 0, 0,
     CFG_REQUIRED | CFG_SECRET},
    {"listen", CFG_STR, offsetof(struct config, listen), "127.0.0.1:8080", 0, 0,
     0},
    {"http_threads", CFG_LONG, offsetof(struct config, http_threads), "4", 1,
     256, 0},
    {"db_pool_size", CFG_LONG, offsetof(struct config, db_pool_size), "4", 1,
     256, 0},
    {"db_acquire_timeout_ms", CFG_LONG,
     offsetof(struct config, db_acquire_timeout_ms), "5000", 1, 600000, 0},
    {"max_body_bytes", CFG_LONG, offsetof(struct config, max_body_bytes),
     "1048576", 1024, 1073741824L, 0},
    {"max_batch_events", CFG_LONG, offsetof(struct config, max_batch_events),
     "1000", 1, 100000, 0},
    {"max_url_bytes", CFG_LONG, offsetof(struct config, max_url_bytes), "8192",
     256, 1048576, 0},
    {"max_header_bytes", CFG_LONG, offsetof(struct config, max_header_bytes),
     "16384", 1024, 1048576, 0},
    {"max_query_params", CFG_LONG, offsetof(struct config, max_query_params),
     "64", 1, 10000, 0},
    {"max_json_depth", CFG_LONG, offsetof(struct config, max_json_depth), "32",
     2, 1000, 0},
    {"ts_max_past_days", CFG_LONG, offsetof(struct config, ts_max_past_days),
     "3650", 1, 1000000, 0},
    {"ts_max_future_seconds", CFG_LONG,
     offsetof(struct config, ts_max_future_seconds), "86400", 0, 31536000, 0},
    {"max_connections", CFG_LONG, offsetof(struct config, max_connections),
     "1024", 1, 65536, 0},
    {"max_connections_per_ip", CFG_LONG,
     offsetof(struct config, max_connections_per_ip), "256", 1, 65536, 0},
    {"connection_timeout_s", CFG_LONG,
     offsetof(struct config, connection_timeout_s), "30", 1, 3600, 0},
    {"rate_limit_rps", CFG_LONG, offsetof(struct config, rate_limit_rps),
     "1000", 0, 1000000, 0},
    {"rate_limit_burst", CFG_LONG, offsetof(struct config, rate_limit_burst),
     "2000", 1, 10000000, 0},
    {"key_cache_ms", CFG_LONG, offsetof(struct config, key_cache_ms), "1000", 0,
     60000, 0},
    {"log_level", CFG_STR, offsetof(struct config, log_level), "info", 0, 0, 0},
    {"migrations_dir", CFG_STR, offsetof(struct config, migrations_dir),
     "migrations", 0, 0, 0},
    {"shutdown_timeout_ms", CFG_LONG,
     offsetof(struct config, shutdown_timeout_ms), "10000", 0, 600000, 0},
};

#define NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

static void env_name(const char *key, char *out, size_t n)
{
	size_t i;

	for (i = 0; key[i] && i + 1 < n; i++)
		out[i] = (char)toupper((unsigned char)key[i]);
	out[i] = '\0';
}

int config_load(struct config *cfg, struct err *err)
{
	char env[64];
	const char *v;
	size_t i;
	long l;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		char *field = (char *)cfg + k->offset;

		env_name(k->key, env, sizeof(env));
		v = getenv(env);
		if (v && !*v)
			v = NULL;
		if (!v)
			v = k->def;
		if (!v) {
			if (k->flags & CFG_REQUIRED)
				return err_set(err, API_ERR_INVALID_PARAM, env,
					       "'%s' is not set", env);
			continue;
		}
		if (k->type == CFG_STR) {
			*(char **)field = xstrdup(v);
		} else {
			if (parse_long(v, &l) < 0 || l < k->min || l > k->max)
				return err_set(err, API_ERR_INVALID_PARAM, env,
					       "'%s' must be a whole number "
					       "from %ld to %ld",
					       env, k->min, k->max);
			*(long *)field = l;
		}
	}
	if (log_set_level_name(cfg->log_level) < 0)
		return err_set(
		    err, API_ERR_INVALID_PARAM, "LOG_LEVEL",
		    "'LOG_LEVEL' must be error, warn, info or debug");
	{
		char host[256];
		int port;

		if (config_listen_addr(cfg->listen, host, sizeof(host), &port) <
		    0)
			return err_set(err, API_ERR_INVALID_PARAM, "LISTEN",
				       "'LISTEN' must be host:port, e.g. "
				       "127.0.0.1:8080");
	}
	return 0;
}

int config_listen_addr(const char *listen, char *host, size_t hostlen,
		       int *port)
{
	const char *colon = strrchr(listen, ':');
	long p;

	if (!colon || colon == listen || (size_t)(colon - listen) >= hostlen ||
	    parse_long(colon + 1, &p) < 0 || p < 0 || p > 65535)
		return -1;
	memcpy(host, listen, colon - listen);
	host[colon - listen] = '\0';
	*port = (int)p;
	return 0;
}

char *config_mask_dsn(const char *dsn)
{
	/* postgresql://user:password@host/db -> postgresql://user:***@host/db
	 */
	const char *scheme = strstr(dsn, "://"), *at, *colon;
	char *out;

	if (scheme) {
		at = strchr(scheme + 3, '@');
		colon = strchr(scheme + 3, ':');
		if (at && colon && colon < at) {
			out = xmalloc(strlen(dsn) + 4);
			sprintf(out, "%.*s:***%s", (int)(colon - dsn), dsn, at);
			return out;
		}
		return xstrdup(dsn);
	}
	if (strstr(dsn, "password"))
		return xstrdup("(connection string with password, masked)");
	return xstrdup(dsn);
}

void config_log(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *field = (const char *)cfg + k->offset;

		if (k->type == CFG_LONG) {
			log_msg(LOG_INFO, "config", "%s=%ld", k->key,
				*(const long *)field);
		} else if (k->flags & CFG_SECRET) {
			char *m = config_mask_dsn(*(char *const *)field);

			log_msg(LOG_INFO, "config", "%s=%s", k->key, m);
			free(m);
		} else {
			log_msg(LOG_INFO, "config", "%s=%s", k->key,
				*(char *const *)field);
		}
	}
}

void config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (cfg_keys[i].type == CFG_STR)
			free(*(char **)((char *)cfg + cfg_keys[i].offset));
	memset(cfg, 0, sizeof(*cfg));
}
