/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_STORE_H
#define AGENTKPI_STORE_H

/*
 * Event writes and conversation reads. Every function takes the tenant
 * id first and never touches another tenant's rows.
 */

#include "db.h"
#include "err.h"
#include "event.h"
#include "facts.h"

#include <jansson.h>
#include <stddef.h>

/* One validated event of a batch, with the exact text it was sent as. */
struct store_item {
	struct event ev;
	const char *raw;
	size_t raw_len;
	/* out: 1 stored, 0 duplicate (the id was already there) */
	int stored;
};

/*
 * Stores n events of one tenant in one transaction (one statement), with
 * the values they carry (dimension_values), and marks the conversations
 * they touch pending: derive.c brings their facts up to date. Sets
 * items[i].stored. Returns 0 after COMMIT, -1 with err filled (nothing
 * stored). Retries a deadlock a few times.
 */
int store_ingest(struct db *db, const char *tenant_id, struct store_item *items,
		 size_t n, struct err *err);

/*
 * The values seen of key ("channel", "agent_version", ...: the segment
 * keys and agent_version) in the tenant's events, sorted, as a new array
 * of strings in *out (at most 10001). 0 or -1 with err.
 */
int store_dimension_values(struct db *db, const char *tenant_id,
			   const char *key, json_t **out, struct err *err);

/*
 * The values of key first seen in [from_ms, to_ms) (the earliest ts of an
 * event carrying them), oldest first, as a new array of [value, epoch_ms]
 * pairs in *out. 0 or -1 with err.
 */
int store_first_seen(struct db *db, const char *tenant_id, const char *key,
		     int64_t from_ms, int64_t to_ms, json_t **out,
		     struct err *err);

/*
 * The facts and ordered events of one conversation as the text of a JSON
 * document {"conversation": facts, "events": [...]}, each event exactly as
 * it was sent. *out is a new string (free it), or NULL when the
 * conversation does not exist. Returns -1 with err on failure.
 */
int store_conversation_get(struct db *db, const char *tenant_id,
			   const char *conversation_id, char **out,
			   struct err *err);

struct store_list_query {
	const char *status;   /* NULL = any */
	const char *stream;   /* NULL = any */
	const char *from;     /* RFC 3339 or NULL */
	const char *to;	      /* RFC 3339 or NULL */
	const char *after_ts; /* cursor: started_at (RFC 3339) or NULL */
	const char *after_id; /* cursor: conversation_id */
	long limit;
};

/*
 * Lists conversations newest first. *out gets a new array of facts
 * objects (at most limit). 0 or -1 with err.
 */
int store_conversation_list(struct db *db, const char *tenant_id,
			    const struct store_list_query *q, json_t **out,
			    struct err *err);

#endif
