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

/* Where Grafana's JSON datasource is served (api/grafana*.c). */
#define API_GRAFANA_PREFIX "/grafana"

extern const struct http_route api_routes[];
extern const size_t api_nroutes;

/*
 * Checks the API key of req (Bearer, or Basic auth with the key as the
 * password) and that it carries scope (api/auth.c).
 */
int api_authorize(struct request *req, int scope, struct err *err);

/* The authenticated caller of req (set by api_authorize). */
const struct auth *api_auth(const struct request *req);

void api_events_post(struct request *req);
void api_conversations_get(struct request *req);
void api_conversations_list(struct request *req);
void api_kpis_get(struct request *req);
void api_kpis_timeseries_get(struct request *req);
void api_health_get(struct request *req);
void api_grafana_health_get(struct request *req);
void api_grafana_metrics_post(struct request *req);
void api_grafana_search_post(struct request *req);
void api_grafana_payload_options_post(struct request *req);
void api_grafana_query_post(struct request *req);
void api_grafana_variable_post(struct request *req);
void api_grafana_tag_keys_post(struct request *req);
void api_grafana_tag_values_post(struct request *req);
void api_ready_get(struct request *req);

#endif
