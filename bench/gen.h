/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_BENCH_GEN_H
#define AGENTKPI_BENCH_GEN_H

/*
 * Synthetic but realistic support conversations as API event JSON, shared
 * by the HTTP load generator (ingest.c) and the bulk loader (load.c), so
 * that both produce exactly the same events from the same settings.
 *
 * A workload is split into streams (one per HTTP client); stream i is a
 * pure function of (config, i, budget): conversations one after another,
 * each with its events in time order, the last one cut at the budget.
 */

#include "bench.h"

#include <stdint.h>

#define GEN_MAX_EVENTS 64

struct gen_config {
	const char *prefix; /* id prefix: conversation PREFIX-S-NNNNNNNN */
	uint64_t seed;
	int64_t start_ms; /* conversations start in [start, start + span) */
	int64_t span_ms;
	long customers; /* size of the customer pool */
	int light;	/* 1: ~4.5 events per conversation, 0: ~10 */
};

/* One conversation: event i is json.s[off[i] .. off[i + 1]). */
struct gen_conv {
	char id[96];
	struct b_str json;
	size_t off[GEN_MAX_EVENTS + 1];
	int64_t ts[GEN_MAX_EVENTS];
	int n;
};

struct gen {
	struct gen_config cfg;
	int stream;
	uint64_t rng;
	long seq;
	int eseq;
	int64_t t;
	int max_events;
	const char *version;
	/* the previous conversation, for repeat contacts */
	long last_customer;
	int last_topic;
	int64_t last_end;
	struct gen_conv conv;
};

/* Starts stream number stream of the workload cfg (borrowed). */
void gen_init(struct gen *g, const struct gen_config *cfg, int stream);

/*
 * Generates the stream's next conversation into g->conv, with at most
 * max_events (>= 1) events: the conversation is cut there.
 */
void gen_next(struct gen *g, int max_events);

void gen_free(struct gen *g);

/* Events of stream i when total events are split over n streams. */
long gen_budget(long total, int n, int i);

/*
 * Reads one generator option (--prefix, --seed, --end-ms, --days,
 * --customers) with value v into cfg, *end_ms and *days; 0 when a is
 * not one of them.
 */
int gen_option(struct gen_config *cfg, const char *a, const char *v,
	       int64_t *end_ms, long *days);

/* The random state, for callers that add their own choices. */
uint64_t gen_rand(uint64_t *s);
double gen_unif(uint64_t *s);

#endif
