/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_APP_H
#define AGENTKPI_APP_H

/*
 * The application state handed to every handler through the HTTP layer:
 * configuration and the database pool. Built by main.c.
 */

#include "config.h"
#include "db.h"
#include "keycache.h"

#include <stdint.h>

struct app {
	struct config cfg;
	struct db *db;
	struct keycache *keys; /* API keys seen lately, rate limits */
	int64_t started_ms;
};

#endif
