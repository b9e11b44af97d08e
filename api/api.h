/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_API_H
#define AGENTKPI_API_H

/*
 * The REST surface: one file per resource, a handler per method, and the
 * route table that main.c hands to the HTTP layer.
 */

#include "http.h"
#include "keys.h"

#include <stddef.h>

extern const struct http_route api_routes[];
extern const size_t api_nroutes;

/* Checks the Bearer key of req and that it carries scope (api/auth.c). */
int api_authorize(struct request *req, int scope, struct err *err);

/* The authenticated caller of req (set by api_authorize). */
const struct auth *api_auth(const struct request *req);

void api_events_post(struct request *req);
void api_conversations_get(struct request *req);
void api_conversations_list(struct request *req);
void api_kpis_get(struct request *req);
void api_kpis_timeseries_get(struct request *req);
void api_health_get(struct request *req);
void api_ready_get(struct request *req);

#endif
