/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_CONFIG_H
#define AGENTKPI_CONFIG_H

#include "err.h"

#include <stddef.h>

/* Effective configuration; strings are owned by the struct. */
struct config {
	char *database_url;
	char *listen; /* host:port */
	long http_threads;
	long db_pool_size;
	long db_acquire_timeout_ms;
	long max_body_bytes;
	long max_batch_events;
	/* limits on what a request may hold (docs/operations.md, Limits) */
	long max_url_bytes;
	long max_header_bytes;
	long max_query_params;
	long max_json_depth;
	long ts_max_past_days;
	long ts_max_future_seconds;
	long max_connections;
	long max_connections_per_ip;
	long connection_timeout_s;
	/* per API key token bucket; a tenant's own setting wins (0: none) */
	long rate_limit_rps;
	long rate_limit_burst;
	long key_cache_ms;
	char *log_level;
	char *migrations_dir;
	long shutdown_timeout_ms; /* SIGTERM: wait for requests in flight */
};

/*
 * Fills cfg from the environment (each key upper-cased is its variable),
 * using defaults for unset keys. Returns -1 with err naming the key when a
 * value is invalid or a required one is missing.
 */
int config_load(struct config *cfg, struct err *err);

/* Logs the effective configuration, secrets masked. */
void config_log(const struct config *cfg);

void config_release(struct config *cfg);

/*
 * Splits cfg->listen into host and port; host is written into a buffer
 * of hostlen bytes. Returns -1 when it is not host:port.
 */
int config_listen_addr(const char *listen, char *host, size_t hostlen,
		       int *port);

/* Masks the password of a libpq URL or key=value string; new string. */
char *config_mask_dsn(const char *dsn);

#endif
