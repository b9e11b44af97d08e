/* SPDX-License-Identifier: MIT */
/*
 * The route table: method, path pattern, handler and the scope a key needs.
 * Every row here is described in openapi.yaml.
 */
#include "api.h"

const struct http_route api_routes[] = {
    {"GET", "/healthz", api_health_get, 0},
    {"GET", "/readyz", api_ready_get, 0},
    {"POST", "/v1/events", api_events_post, SCOPE_INGEST},
    {"GET", "/v1/conversations", api_conversations_list, SCOPE_READ},
    {"GET", "/v1/conversations/{}", api_conversations_get, SCOPE_READ},
    {"GET", "/v1/kpis", api_kpis_get, SCOPE_READ},
    {"GET", "/v1/kpis/timeseries", api_kpis_timeseries_get, SCOPE_READ},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
