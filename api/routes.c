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
    {"GET", "/grafana", api_grafana_health_get, SCOPE_READ},
    {"POST", "/grafana/metrics", api_grafana_metrics_post, SCOPE_READ},
    {"POST", "/grafana/search", api_grafana_search_post, SCOPE_READ},
    {"POST", "/grafana/metric-payload-options",
     api_grafana_payload_options_post, SCOPE_READ},
    {"POST", "/grafana/query", api_grafana_query_post, SCOPE_READ},
    {"POST", "/grafana/variable", api_grafana_variable_post, SCOPE_READ},
    {"POST", "/grafana/tag-keys", api_grafana_tag_keys_post, SCOPE_READ},
    {"POST", "/grafana/tag-values", api_grafana_tag_values_post, SCOPE_READ},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
