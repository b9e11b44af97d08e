/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_API_GRAFANA_H
#define AGENTKPI_API_GRAFANA_H

/*
 * Shared by api/grafana.c (listing routes) and api/grafana_query.c
 * (POST /grafana/query): how each KPI of the scorecard shows in Grafana,
 * and reading the JSON bodies the datasource sends. docs/grafana.md is
 * the contract.
 */

#include "api.h"

#include <jansson.h>

/* The target that answers agent_version first sightings (annotations). */
#define GRAFANA_ANNOTATIONS "agent_versions"

/*
 * A scorecard metric as Grafana sees it: the figures it can plot (stats,
 * the first is the default) and, for metrics holding several figures of
 * one kind (CSAT per stream), the components, each a series of its own.
 */
struct grafana_metric {
	const char *name;
	const char *const *stats; /* NULL-terminated */
	const char *unit;	  /* Grafana unit of its value stats */
	const char *dim;	  /* component column name, or NULL */
	const char *const *comps; /* NULL-terminated, or NULL */
	int missing_is_zero;	  /* an absent component counts 0 */
};

/* The metric called name, or NULL. */
const struct grafana_metric *grafana_metric_find(const char *name);

/* The unit of stat of m ("percentunit", "s", "none", ...). */
const char *grafana_stat_unit(const struct grafana_metric *m, const char *stat);

/* True when stat (NULL-terminated list) holds s. */
int grafana_list_has(const char *const *list, const char *s);

/*
 * The number of metric object v (a scorecard metric value or a time
 * series point) for component comp (NULL: none) and stat: a new
 * reference to a JSON number, or json_null() when undefined.
 */
json_t *grafana_pick(const struct grafana_metric *m, json_t *v,
		     const char *comp, const char *stat);

/*
 * The request body as a JSON object in *out (new reference; an empty
 * body is {}). -1 with a 400 in err when it is not a JSON object.
 */
int grafana_body(struct request *req, json_t **out, struct err *err);

/* Replies with a JSON array built by the handler (steals arr). */
void grafana_reply(struct request *req, json_t *arr);

#endif
