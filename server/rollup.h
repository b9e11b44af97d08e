/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_ROLLUP_H
#define AGENTKPI_ROLLUP_H

/*
 * KPI rollup maintenance (docs/kpi-rollups.md): derivations mark the
 * hours whose conversations changed; refreshes rebuild marked hours, then
 * days, from the facts. Queries read the rollup only where nothing is
 * marked, so a stale row is never used.
 */

#include "db.h"
#include "err.h"

#include <jansson.h>

/*
 * Marks the hours holding the times (a JSON array of epoch ms) for
 * tenant_id, in the caller's transaction. 0 or -1 with err.
 */
int rollup_mark(struct db_conn *conn, const char *tenant_id, json_t *times,
		struct err *err);

/*
 * Rebuilds up to max marked hours or days (of tenant_id, or of any tenant
 * when NULL) that end by before_ms (0: any), one transaction each; *done
 * gets how many. 0 or -1 with err.
 */
int rollup_refresh(struct db *db, const char *tenant_id, int max,
		   int64_t before_ms, int *done, struct err *err);

/*
 * Drops the tenant's rollup rows, marks every hour with conversations and
 * rebuilds them all. 0 or -1 with err.
 */
int rollup_rebuild(struct db *db, const char *tenant_id, struct err *err);

#endif
