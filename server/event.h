/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_EVENT_H
#define AGENTKPI_EVENT_H

/*
 * The event model of metrics-spec section 1: types, enums and their
 * names, and the conversion from an API JSON object. No I/O.
 */

#include "err.h"

#include <jansson.h>
#include <stdint.h>

enum event_type {
	EVENT_STARTED = 1,
	EVENT_MESSAGE,
	EVENT_HANDOFF,
	EVENT_TOOL_CALL,
	EVENT_RESOLVED,
	EVENT_REOPENED,
	EVENT_ABANDONED,
	EVENT_FEEDBACK,
	EVENT_QUALITY,
};
#define EVENT_TYPE_MAX EVENT_QUALITY

enum seg_key {
	SEG_CHANNEL,
	SEG_TOPIC,
	SEG_CUSTOMER_TIER,
	SEG_LANGUAGE,
	SEG_PRODUCT_AREA,
	SEG_COHORT,
	SEG_COUNT
};

/* Enum fields hold index + 1 into their name table; 0 means absent. */
enum actor { ACTOR_CUSTOMER = 1, ACTOR_AI, ACTOR_HUMAN };
enum resolver { BY_AI = 1, BY_HUMAN };
enum handoff_reason {
	REASON_CUSTOMER_REQUESTED = 1,
	REASON_AI_UNABLE,
	REASON_POLICY,
	REASON_SENSITIVE,
	REASON_AUTHENTICATION,
	REASON_OTHER,
};
enum initiator { INITIATOR_AI = 1, INITIATOR_CUSTOMER, INITIATOR_SYSTEM };
enum thumbs { THUMBS_UP = 1, THUMBS_DOWN };
enum failure_category {
	FAILURE_KNOWLEDGE = 1,
	FAILURE_REASONING,
	FAILURE_TOOL,
	FAILURE_WORKFLOW,
	FAILURE_COMMUNICATION,
};

enum event_enum {
	ENUM_TYPE,
	ENUM_SEGMENT,
	ENUM_ACTOR, /* message author */
	ENUM_BY,    /* resolved by: ai, human */
	ENUM_REASON,
	ENUM_INITIATOR,
	ENUM_THUMBS,
	ENUM_FAILURE,
	ENUM_COUNT
};

/*
 * One event. Strings are borrowed from whatever the event was read from
 * (a json_t or a database result) and live as long as it does. Absent
 * values: NULL strings, 0 enums, -1 booleans, NAN numbers, 0 csat.
 */
struct event {
	const char *id;
	enum event_type type;
	const char *conversation_id;
	int64_t ts_ms;
	const char *customer_id;
	const char *segment[SEG_COUNT];
	const char *agent_version;
	double cost_usd;
	/* message */
	int author;
	double sentiment;
	int clarification;
	double confidence;
	/* handoff */
	int reason;
	int initiated_by;
	/* tool_call */
	const char *tool_name;
	int tool_ok;
	double latency_ms;
	/* resolved */
	int by;
	int confirmed;
	/* feedback */
	int csat;
	int thumbs;
	const char *comment;
	/* quality */
	const char *grader;
	int resolution_correct;
	int hallucination;
	double score;
	int escalation_appropriate;
	int failure_category;
};

/* Sets every field of ev to "absent". */
void event_init(struct event *ev);

/*
 * Validates obj against metrics-spec section 1 and fills ev, borrowing
 * strings from obj. Returns -1 with err naming the first bad field.
 */
int event_from_json(json_t *obj, struct event *ev, struct err *err);

/* Name tables: event_enum_names(ENUM_ACTOR, &n) -> {"customer","ai",...}. */
const char *const *event_enum_names(enum event_enum which, int *count);

/* The name of value v (index + 1) of an enum, or NULL for 0/out of range. */
const char *event_enum_name(enum event_enum which, int v);

/* Parses a name back to index + 1, or 0 when unknown. */
int event_enum_parse(enum event_enum which, const char *name);

/* Segment key names: "channel", "topic", ... */
const char *event_segment_key(enum seg_key k);

/*
 * The normalized event as a new JSON object: the API's field names, ts
 * in UTC with milliseconds, absent fields left out. Returns a new
 * reference.
 */
json_t *event_to_json(const struct event *ev);

/* Orders events by (ts, id) with ids compared byte by byte. For qsort. */
int event_cmp(const void *a, const void *b);

#endif
