/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_KPI_H
#define AGENTKPI_KPI_H

/*
 * The KPI engine (metrics-spec sections 3 and 4): one aggregate query
 * over the conversation facts per request, shaped into the scorecard or a
 * time series. Aggregation happens in SQL; C adds the intervals.
 */

#include "db.h"
#include "err.h"

#include <jansson.h>
#include <stdint.h>

/* Filter and group keys, in the order of Q_KPI's filter parameters. */
enum kpi_key {
	KPI_KEY_CHANNEL,
	KPI_KEY_TOPIC,
	KPI_KEY_CUSTOMER_TIER,
	KPI_KEY_LANGUAGE,
	KPI_KEY_PRODUCT_AREA,
	KPI_KEY_COHORT,
	KPI_KEY_AGENT_VERSION,
	KPI_KEY_STREAM,
	KPI_KEY_CUSTOMER_ID,
	KPI_KEY_COUNT
};

enum kpi_interval { KPI_INTERVAL_NONE, KPI_1H, KPI_1D, KPI_1W };

#define KPI_MAX_GROUP_KEYS 2
#define KPI_MAX_GROUPS 10000

/* A validated KPI request; strings are borrowed. */
struct kpi_query {
	const char *tenant_id;
	int64_t from_ms;
	int64_t to_ms;
	long window_hours;
	const char *tz;			    /* IANA zone; NULL = UTC */
	const char *filters[KPI_KEY_COUNT]; /* NULL = any */
	int group_by[KPI_MAX_GROUP_KEYS];   /* enum kpi_key values */
	int ngroup;
	const char *baseline_cohort; /* NULL = human_only */
	enum kpi_interval interval;  /* time series only */
	const char *metric;	     /* time series only */
};

/* Name of a key ("channel", ...), and back (-1 when unknown). */
const char *kpi_key_name(enum kpi_key k);
int kpi_key_parse(const char *name);

/* True when name is a metric of the scorecard (e.g. "containment_rate"). */
int kpi_metric_known(const char *name);

/*
 * The scorecard: a new object {"from", "to", "window_hours", "tz",
 * "filters", "groups": [{"key", "metrics"}]} in *out. Returns -1 with err
 * (an unknown tz or more than KPI_MAX_GROUPS groups are 400s).
 */
int kpi_scorecard(struct db *db, const struct kpi_query *q, json_t **out,
		  struct err *err);

/*
 * One metric over time: a new object {"metric", "interval", "tz",
 * "series": [{"key", "points": [{"t", ...}]}]} in *out, every bucket of
 * the range present. Returns -1 with err.
 */
int kpi_timeseries(struct db *db, const struct kpi_query *q, json_t **out,
		   struct err *err);

#endif
