/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_FACTS_H
#define AGENTKPI_FACTS_H

/*
 * Conversation facts (metrics-spec section 2): a pure function of the
 * set of a conversation's events.
 */

#include "event.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum stream {
	STREAM_NONE = 1,
	STREAM_AI_ONLY,
	STREAM_HYBRID,
	STREAM_HUMAN_ONLY
};
enum conv_status { STATUS_OPEN = 1, STATUS_RESOLVED, STATUS_ABANDONED };

/*
 * Strings borrow from the events they were computed from. Absent values:
 * NULL strings, TIME_NONE times, 0 enums, -1 booleans, NAN numbers,
 * 0 csat, -1 reopen_gap_ms.
 */
struct facts {
	const char *conversation_id;
	int64_t started_at;
	int64_t last_event_at;
	const char *customer_id;
	const char *agent_version;
	const char *segment[SEG_COUNT];
	bool ai_involved;
	bool human_involved;
	enum stream stream;
	bool escalated;
	int64_t escalated_at;
	int escalation_reason;
	int64_t first_response_at;
	enum conv_status status;
	int64_t resolved_at;
	int resolved_by;
	int confirmed;
	bool ever_resolved;
	/* smallest reopened.ts - resolved.ts > 0 over all pairs, in ms */
	int64_t reopen_gap_ms;
	int turns, customer_turns, ai_turns, human_turns;
	int csat;
	int thumbs;
	bool negative_feedback;
	double sentiment_start;
	double sentiment_end;
	int clarifications;
	int tool_calls;
	int tool_failures;
	double cost_usd;
	bool graded;
	int resolution_correct;
	int hallucination;
	double quality_score;
	int escalation_appropriate;
	int failure_category;
	int events;
};

/*
 * Computes the facts of one conversation from n events (n >= 1, all of
 * the same conversation). Sorts evs in place by (ts, id) and ignores
 * repeated ids, so any order and any duplicates give the same facts.
 */
void facts_compute(struct event *evs, size_t n, struct facts *f);

/* True when the conversation was reopened within window_ms of a resolve. */
bool facts_reopened_within(const struct facts *f, int64_t window_ms);

/* Name of a stream / status value. */
const char *facts_stream_name(enum stream s);
const char *facts_status_name(enum conv_status s);
int facts_stream_parse(const char *name);
int facts_status_parse(const char *name);

/* The facts as the API shows them; returns a new reference. */
json_t *facts_to_json(const struct facts *f);

#endif
