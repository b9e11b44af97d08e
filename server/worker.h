/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_WORKER_H
#define AGENTKPI_WORKER_H

/*
 * The background worker: one thread that keeps derived state current by
 * deriving pending conversations (derive_pending) as ingest marks them,
 * then refreshing the KPI rollups they made stale, so reads rarely find
 * anything left to do. No HTTP here.
 */

#include "db.h"

struct worker;

/* Starts the thread on db (borrowed; must outlive the worker). */
struct worker *worker_start(struct db *db);

/* Stops the thread after its current batch and frees it. */
void worker_stop(struct worker *w);

#endif
