/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_DERIVE_H
#define AGENTKPI_DERIVE_H

/*
 * Derived state kept from the events: conversation facts and repeat gaps.
 * Ingest marks the conversations it touches pending; these functions
 * bring them up to date, so every read that calls derive_sync() first
 * sees the facts of every event acknowledged before it.
 */

#include "db.h"
#include "err.h"

/*
 * One transaction: takes up to max pending conversations and derives
 * them. With tenant_id, that tenant's, waiting for any another
 * transaction is deriving; with NULL, any one tenant's, skipping those
 * another transaction holds (the worker). *done gets the number of
 * pending marks taken (0: nothing to do). 0 or -1 with err.
 */
int derive_pending(struct db *db, const char *tenant_id, long max, long *done,
		   struct err *err);

/*
 * Derives everything pending for the tenant, including what another
 * transaction is deriving right now (it waits for that). Call before
 * reading facts. 0 or -1 with err.
 */
int derive_sync(struct db *db, const char *tenant_id, struct err *err);

/* The number of pending marks of all tenants in *n. 0 or -1 with err. */
int derive_backlog(struct db *db, long *n, struct err *err);

/*
 * Recomputes the facts of every conversation of the tenant from its
 * events, then its dimension_values; *count gets the number of
 * conversations. 0 or -1 with err.
 */
int derive_rebuild(struct db *db, const char *tenant_id, long *count,
		   struct err *err);

#endif
