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

/*
 * The condition on one key: when nin >= 0 the conversation's value is one
 * of in[0..nin) (nin == 0 matches nothing); it is none of out[0..nout),
 * and a conversation without a value passes that part.
 */
struct kpi_filter {
	int nin; /* -1: any value */
	const char *const *in;
	int nout;
	const char *const *out;
};

/* A validated KPI request; strings are borrowed. */
struct kpi_query {
	const char *tenant_id;
	int64_t from_ms;
	int64_t to_ms;
	long window_hours;
	const char *tz; /* IANA zone; NULL = UTC */
	struct kpi_filter
	    filters[KPI_KEY_COUNT];	  /* zeroed: see kpi_query_init */
	int group_by[KPI_MAX_GROUP_KEYS]; /* enum kpi_key values */
	int ngroup;
	const char *baseline_cohort; /* NULL = human_only */
	enum kpi_interval interval;  /* time series only */
	const char *metric;	     /* time series only */
};

/* Empties q: no filter on any key, everything else zero. */
void kpi_query_init(struct kpi_query *q);

/* The metric keys of the scorecard, in its order; *n gets the count. */
const char *const *kpi_metric_names(size_t *n);

/* Name of a key ("channel", ...), and back (-1 when unknown). */
const char *kpi_key_name(enum kpi_key k);
int kpi_key_parse(const char *name);

/* True when name is a metric of the scorecard (e.g. "containment_rate"). */
int kpi_metric_known(const char *name);

/*
 * The window W of reopens and repeat contacts written as whole hours,
 * "24h" or "24" (digits only, 1 to 720), into *hours. -1 when s is not.
 */
int kpi_window_parse(const char *s, long *hours);

/*
 * True when tz is spelled like an IANA zone name ("UTC", "Europe/Berlin",
 * "Etc/GMT+3"): 1 to 64 letters, digits, '_', '+', '-' in '/'-separated
 * parts, the first starting with a letter. Whether the zone exists is for
 * the database to say; anything else never reaches it.
 */
int kpi_tz_valid(const char *tz);

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
