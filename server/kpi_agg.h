/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_KPI_AGG_H
#define AGENTKPI_KPI_AGG_H

/*
 * The KPI aggregates of a query, per (bucket, group): mergeable states
 * read from rollup rows where they are current and from the facts
 * everywhere else (docs/kpi-rollups.md), summed, then finished into the
 * columns the scorecard is built from. Percentiles come from log-bucket
 * histograms (within 1 % of percentile_cont).
 */

#include "db.h"
#include "err.h"
#include "kpi.h"

#include <stdint.h>

/* Finished columns; _PCT columns hold p50 and p90 in pct[]. */
#define KPI_DUR_IDS(id) id##_PCT, id##_MEAN, id##_N,
#define KPI_DUR_STREAM_IDS(id)                                                 \
	KPI_DUR_IDS(id##_ALL)                                                  \
	KPI_DUR_IDS(id##_AI_ONLY)                                              \
	KPI_DUR_IDS(id##_HYBRID)                                               \
	KPI_DUR_IDS(id##_HUMAN_ONLY) KPI_DUR_IDS(id##_NONE)
#define KPI_CSAT_IDS(id) id##_N, id##_MEAN, id##_SAT,
#define KPI_COST_IDS(id) id##_SUM, id##_RESOLVED, id##_TRUE,

enum kpi_col {
	K_N,
	K_A,
	K_AI_ONLY,
	K_HYBRID,
	K_HUMAN_ONLY,
	K_NONE,
	K_CONTAINED,
	K_TRUE_RESOLVED,
	K_CONFIRMED,
	K_A_ESCALATED,
	K_ABANDONED,
	K_EVER_RESOLVED,
	K_REOPENED,
	K_FCR,
	K_CLARIFIED,
	K_TOOL_FAILURES,
	K_TOOL_CALLS,
	K_A_GRADED_HALLUC,
	K_A_GRADED,
	K_ACCURATE,
	K_ACCURACY_DEN,
	K_ESC_APPROPRIATE,
	K_ESC_APPROPRIATE_DEN,
	K_RESOLVED,
	KPI_DUR_STREAM_IDS(K_TTFR) KPI_DUR_STREAM_IDS(K_TTR)
	    KPI_DUR_STREAM_IDS(K_TTE) K_TURNS_MEAN,
	K_TURNS_P50,
	K_TURNS_N,
	KPI_CSAT_IDS(K_CSAT_AI_ONLY) KPI_CSAT_IDS(K_CSAT_HYBRID)
	    KPI_CSAT_IDS(K_CSAT_HUMAN_ONLY) K_DELTA_T_MEAN,
	K_DELTA_T_VAR,
	K_DELTA_T_N,
	K_DELTA_B_MEAN,
	K_DELTA_B_VAR,
	K_DELTA_B_N,
	K_SENT_BOTH,
	K_SENT_IMPROVED,
	K_SENT_WORSENED,
	KPI_COST_IDS(K_COST_ALL) KPI_COST_IDS(K_COST_AI_ONLY)
	    KPI_COST_IDS(K_COST_HYBRID) KPI_COST_IDS(K_COST_HUMAN_ONLY)
		KPI_COST_IDS(K_COST_NONE) K_REASON_CUSTOMER_REQUESTED,
	K_REASON_AI_UNABLE,
	K_REASON_POLICY,
	K_REASON_SENSITIVE,
	K_REASON_AUTHENTICATION,
	K_REASON_OTHER,
	K_FAIL_KNOWLEDGE,
	K_FAIL_REASONING,
	K_FAIL_TOOL,
	K_FAIL_WORKFLOW,
	K_FAIL_COMMUNICATION,
	K_QUALITY_MEAN,
	K_QUALITY_N,
	K_COUNT
};

/* One (bucket, group) of a query's answer. */
struct kpi_group {
	int64_t bucket_ms;
	int offset_s;		/* the bucket start's UTC offset */
	char *g[2];		/* group values; NULL: no value */
	double v[K_COUNT];	/* NAN: undefined (a mean of nothing) */
	double pct[K_COUNT][2]; /* p50, p90 of _PCT columns (K_TURNS_P50) */
};

struct kpi_result {
	struct kpi_group *groups; /* by bucket, then g[0], g[1] (NULL last) */
	int n;
};

/*
 * Runs q (in conn's open transaction, whose time zone is q's) and fills
 * *r; boundaries are the bucket starts of a time series (NULL, 0 for
 * none). With percentiles false the _PCT columns stay NAN. 0 or -1 with
 * err.
 */
int kpi_agg_run(struct db_conn *conn, const struct kpi_query *q,
		const int64_t *boundaries, int nboundaries, int percentiles,
		struct kpi_result *r, struct err *err);

void kpi_result_release(struct kpi_result *r);

/*
 * percentile_cont(p) over the values in a histogram of hist[bucket]
 * counts (KPI_HBUCKET buckets, 2048 of them) holding n values; NAN when
 * n is 0. Pure, for the unit tests.
 */
double kpi_hist_percentile(const uint32_t *hist, long n, double p);

/* The value a histogram bucket stands for (its geometric middle). */
double kpi_hist_value(int bucket);

#endif
