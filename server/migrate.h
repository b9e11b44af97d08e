/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_MIGRATE_H
#define AGENTKPI_MIGRATE_H

/*
 * Schema migrations: numbered SQL files in a directory, applied in order,
 * each in its own transaction and recorded in schema_migrations.
 */

#include "db.h"
#include "err.h"

/*
 * Applies every migration of dir not yet recorded. *applied gets how
 * many ran. 0 or -1 with err.
 */
int migrate_apply(struct db *db, const char *dir, int *applied,
		  struct err *err);

/*
 * Counts the migrations of dir that are not applied yet into *pending.
 * 0 or -1 with err (also when the database is unreachable).
 */
int migrate_pending(struct db *db, const char *dir, int *pending,
		    struct err *err);

#endif
