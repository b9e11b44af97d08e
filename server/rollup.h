/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_ROLLUP_H
#define AGENTKPI_ROLLUP_H

/*
 * KPI rollup maintenance (docs/kpi-rollups.md): derivations mark the
 * hours (and, for recent hours, the minutes) whose conversations changed;
 * refreshes rebuild marked hours, minute slices and days from the facts.
 * Queries read the rollup only where nothing is marked, so a stale row is
 * never used.
 */

#include "db.h"
#include "err.h"

#include <jansson.h>
#include <stdint.h>

/*
 * Recent hours, those that started less than ROLLUP_RECENT_MS ago (the
 * current and the previous one), are sliced: kept as minute rows
 * (ROLLUP_SLICE_MS; the SQL of Q_SLICE_HOUR and Q_MARKS_NEXT says the
 * same), so that an hour which keeps receiving events costs a read only
 * the minutes changed since the last refresh. Derivations mark the
 * minutes of the hours that may be sliced, with an hour's margin.
 */
#define ROLLUP_SLICE_MS 60000LL
#define ROLLUP_RECENT_MS (2 * 3600000LL)

/*
 * Which marks a refresh may take up: minute slices ending by slices_by,
 * days ending by days_by (epoch ms; 0: any). Hours are always due.
 */
struct rollup_due {
	int64_t slices_by;
	int64_t days_by;
};

/*
 * Marks the hours holding the times (a JSON array of epoch ms) for
 * tenant_id, and their minutes where recent, in the caller's
 * transaction. 0 or -1 with err.
 */
int rollup_mark(struct db_conn *conn, const char *tenant_id, json_t *times,
		struct err *err);

/*
 * Does up to max pieces of rollup work (of tenant_id, or of any tenant
 * when NULL) that are due (NULL: everything), one transaction each:
 * rebuilding a marked hour, minute slice or day, slicing a recent hour,
 * building a formerly recent one whole. *done gets how many. 0 or -1
 * with err.
 */
int rollup_refresh(struct db *db, const char *tenant_id, int max,
		   const struct rollup_due *due, int *done, struct err *err);

/*
 * Drops the tenant's rollup rows and slices, marks every hour with
 * conversations and rebuilds them all. 0 or -1 with err.
 */
int rollup_rebuild(struct db *db, const char *tenant_id, struct err *err);

#endif
