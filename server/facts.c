/* SPDX-License-Identifier: MIT */
/*
 * Conversation facts as a pure function of the set of its events
 * (metrics-spec section 2), and their JSON form.
 */
#include "facts.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const stream_names[] = {"none", "ai_only", "hybrid",
					   "human_only"};
static const char *const status_names[] = {"open", "resolved", "abandoned"};

const char *facts_stream_name(enum stream s)
{
	return s >= STREAM_NONE && s <= STREAM_HUMAN_ONLY ? stream_names[s - 1]
							  : NULL;
}

const char *facts_status_name(enum conv_status s)
{
	return s >= STATUS_OPEN && s <= STATUS_ABANDONED ? status_names[s - 1]
							 : NULL;
}

int facts_stream_parse(const char *name)
{
	int i;

	for (i = 0; name && i < 4; i++)
		if (strcmp(name, stream_names[i]) == 0)
			return i + 1;
	return 0;
}

int facts_status_parse(const char *name)
{
	int i;

	for (i = 0; name && i < 3; i++)
		if (strcmp(name, status_names[i]) == 0)
			return i + 1;
	return 0;
}

static void facts_init(struct facts *f)
{
	memset(f, 0, sizeof(*f));
	f->started_at = TIME_NONE;
	f->last_event_at = TIME_NONE;
	f->escalated_at = TIME_NONE;
	f->first_response_at = TIME_NONE;
	f->resolved_at = TIME_NONE;
	f->confirmed = -1;
	f->reopen_gap_ms = -1;
	f->sentiment_start = NAN;
	f->sentiment_end = NAN;
	f->resolution_correct = -1;
	f->hallucination = -1;
	f->quality_score = NAN;
	f->escalation_appropriate = -1;
	f->status = STATUS_OPEN;
}

/* Later events overwrite: evs are visited in (ts, id) order. */
static void take_latest(const struct event *ev, struct facts *f)
{
	int i;

	if (ev->customer_id)
		f->customer_id = ev->customer_id;
	if (ev->agent_version)
		f->agent_version = ev->agent_version;
	for (i = 0; i < SEG_COUNT; i++)
		if (ev->segment[i])
			f->segment[i] = ev->segment[i];
	if (!isnan(ev->cost_usd))
		f->cost_usd += ev->cost_usd;
}

static void on_message(const struct event *ev, struct facts *f)
{
	f->turns++;
	switch (ev->author) {
	case ACTOR_CUSTOMER:
		f->customer_turns++;
		if (ev->clarification == 1)
			f->clarifications++;
		if (!isnan(ev->sentiment)) {
			if (isnan(f->sentiment_start))
				f->sentiment_start = ev->sentiment;
			f->sentiment_end = ev->sentiment;
		}
		return;
	case ACTOR_AI:
		f->ai_turns++;
		f->ai_involved = true;
		break;
	case ACTOR_HUMAN:
		f->human_turns++;
		f->human_involved = true;
		break;
	}
	if (f->first_response_at == TIME_NONE)
		f->first_response_at = ev->ts_ms;
}

static void on_quality(const struct event *ev, struct facts *f)
{
	f->graded = true;
	if (ev->resolution_correct >= 0)
		f->resolution_correct = ev->resolution_correct;
	if (ev->hallucination == 1 ||
	    (ev->hallucination == 0 && f->hallucination < 0))
		f->hallucination = ev->hallucination;
	if (!isnan(ev->score))
		f->quality_score = ev->score;
	if (ev->escalation_appropriate >= 0)
		f->escalation_appropriate = ev->escalation_appropriate;
	if (ev->failure_category)
		f->failure_category = ev->failure_category;
}

static void on_event(const struct event *ev, int64_t *last_resolved,
		     struct facts *f)
{
	switch (ev->type) {
	case EVENT_MESSAGE:
		on_message(ev, f);
		break;
	case EVENT_HANDOFF:
		f->human_involved = true;
		if (!f->escalated) {
			f->escalated = true;
			f->escalated_at = ev->ts_ms;
			f->escalation_reason = ev->reason;
		}
		break;
	case EVENT_TOOL_CALL:
		f->tool_calls++;
		if (ev->tool_ok == 0)
			f->tool_failures++;
		break;
	case EVENT_RESOLVED:
		if (ev->by == BY_AI)
			f->ai_involved = true;
		else
			f->human_involved = true;
		f->ever_resolved = true;
		f->status = STATUS_RESOLVED;
		f->resolved_at = ev->ts_ms;
		f->resolved_by = ev->by;
		f->confirmed = ev->confirmed == 1;
		*last_resolved = ev->ts_ms;
		break;
	case EVENT_REOPENED:
		f->status = STATUS_OPEN;
		break;
	case EVENT_ABANDONED:
		f->status = STATUS_ABANDONED;
		break;
	case EVENT_FEEDBACK:
		if (ev->csat)
			f->csat = ev->csat;
		if (ev->thumbs)
			f->thumbs = ev->thumbs;
		break;
	case EVENT_QUALITY:
		on_quality(ev, f);
		break;
	case EVENT_STARTED:
		break;
	}
}

/*
 * The smallest positive gap between a reopen and an earlier resolve: for
 * each reopen r the nearest resolve strictly before it in time gives the
 * smallest gap for r, so one pass in ts order suffices. Ties in ts are not
 * "before" (the window (t, t + W] is open at t), hence the separate pass.
 */
static int64_t reopen_gap(const struct event *evs, size_t n)
{
	int64_t best = -1, last_resolved = TIME_NONE;
	size_t i, j;

	for (i = 0; i < n; i = j) {
		/* events sharing one ts: reopens see resolves before it only */
		for (j = i; j < n && evs[j].ts_ms == evs[i].ts_ms; j++) {
			if (evs[j].type == EVENT_REOPENED &&
			    last_resolved != TIME_NONE) {
				int64_t gap = evs[j].ts_ms - last_resolved;

				if (best < 0 || gap < best)
					best = gap;
			}
		}
		for (j = i; j < n && evs[j].ts_ms == evs[i].ts_ms; j++)
			if (evs[j].type == EVENT_RESOLVED)
				last_resolved = evs[j].ts_ms;
	}
	return best;
}

void facts_compute(struct event *evs, size_t n, struct facts *f)
{
	int64_t last_resolved = TIME_NONE;
	size_t i, m;

	facts_init(f);
	if (n == 0)
		return;
	qsort(evs, n, sizeof(*evs), event_cmp);
	/* drop repeated ids: the set of events, not the multiset */
	for (i = 1, m = 1; i < n; i++)
		if (strcmp(evs[i].id, evs[m - 1].id) != 0 ||
		    evs[i].ts_ms != evs[m - 1].ts_ms)
			evs[m++] = evs[i];
	n = m;

	f->conversation_id = evs[0].conversation_id;
	f->started_at = evs[0].ts_ms;
	f->last_event_at = evs[n - 1].ts_ms;
	f->events = (int)n;
	for (i = 0; i < n; i++) {
		take_latest(&evs[i], f);
		on_event(&evs[i], &last_resolved, f);
	}
	if (f->status != STATUS_RESOLVED) {
		f->resolved_at = TIME_NONE;
		f->resolved_by = 0;
		f->confirmed = -1;
	}
	f->reopen_gap_ms = reopen_gap(evs, n);
	f->negative_feedback =
	    (f->csat && f->csat <= 2) || f->thumbs == THUMBS_DOWN;
	if (f->ai_involved)
		f->stream = f->human_involved ? STREAM_HYBRID : STREAM_AI_ONLY;
	else
		f->stream = f->human_involved ? STREAM_HUMAN_ONLY : STREAM_NONE;
}

bool facts_reopened_within(const struct facts *f, int64_t window_ms)
{
	return f->reopen_gap_ms > 0 && f->reopen_gap_ms <= window_ms;
}

static json_t *time_or_null(int64_t ms)
{
	char buf[TIME_BUF_LEN];

	return ms == TIME_NONE ? json_null()
			       : json_string(time_format_ms(ms, buf));
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *tri_or_null(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static json_t *num_or_null(double d)
{
	return isnan(d) ? json_null() : json_real(d);
}

json_t *facts_to_json(const struct facts *f)
{
	json_t *o = json_object(), *seg = json_object();
	int i;

	for (i = 0; i < SEG_COUNT; i++)
		json_object_set_new(seg, event_segment_key(i),
				    str_or_null(f->segment[i]));
	json_object_set_new(o, "conversation_id",
			    str_or_null(f->conversation_id));
	json_object_set_new(o, "started_at", time_or_null(f->started_at));
	json_object_set_new(o, "last_event_at", time_or_null(f->last_event_at));
	json_object_set_new(o, "customer_id", str_or_null(f->customer_id));
	json_object_set_new(o, "agent_version", str_or_null(f->agent_version));
	json_object_set_new(o, "segment", seg);
	json_object_set_new(o, "ai_involved", json_boolean(f->ai_involved));
	json_object_set_new(o, "human_involved",
			    json_boolean(f->human_involved));
	json_object_set_new(o, "stream",
			    str_or_null(facts_stream_name(f->stream)));
	json_object_set_new(o, "escalated", json_boolean(f->escalated));
	json_object_set_new(o, "escalated_at", time_or_null(f->escalated_at));
	json_object_set_new(
	    o, "escalation_reason",
	    str_or_null(event_enum_name(ENUM_REASON, f->escalation_reason)));
	json_object_set_new(o, "first_response_at",
			    time_or_null(f->first_response_at));
	json_object_set_new(o, "status",
			    str_or_null(facts_status_name(f->status)));
	json_object_set_new(o, "resolved_at", time_or_null(f->resolved_at));
	json_object_set_new(
	    o, "resolved_by",
	    str_or_null(event_enum_name(ENUM_BY, f->resolved_by)));
	json_object_set_new(o, "confirmed", tri_or_null(f->confirmed));
	json_object_set_new(o, "ever_resolved", json_boolean(f->ever_resolved));
	json_object_set_new(o, "reopen_gap_ms",
			    f->reopen_gap_ms < 0
				? json_null()
				: json_integer(f->reopen_gap_ms));
	json_object_set_new(o, "turns", json_integer(f->turns));
	json_object_set_new(o, "customer_turns",
			    json_integer(f->customer_turns));
	json_object_set_new(o, "ai_turns", json_integer(f->ai_turns));
	json_object_set_new(o, "human_turns", json_integer(f->human_turns));
	json_object_set_new(o, "csat",
			    f->csat ? json_integer(f->csat) : json_null());
	json_object_set_new(
	    o, "thumbs", str_or_null(event_enum_name(ENUM_THUMBS, f->thumbs)));
	json_object_set_new(o, "negative_feedback",
			    json_boolean(f->negative_feedback));
	json_object_set_new(o, "sentiment_start",
			    num_or_null(f->sentiment_start));
	json_object_set_new(o, "sentiment_end", num_or_null(f->sentiment_end));
	json_object_set_new(o, "clarifications",
			    json_integer(f->clarifications));
	json_object_set_new(o, "tool_calls", json_integer(f->tool_calls));
	json_object_set_new(o, "tool_failures", json_integer(f->tool_failures));
	json_object_set_new(o, "cost_usd", json_real(f->cost_usd));
	json_object_set_new(o, "graded", json_boolean(f->graded));
	json_object_set_new(o, "resolution_correct",
			    tri_or_null(f->resolution_correct));
	json_object_set_new(o, "hallucination", tri_or_null(f->hallucination));
	json_object_set_new(o, "quality_score", num_or_null(f->quality_score));
	json_object_set_new(o, "escalation_appropriate",
			    tri_or_null(f->escalation_appropriate));
	json_object_set_new(
	    o, "failure_category",
	    str_or_null(event_enum_name(ENUM_FAILURE, f->failure_category)));
	json_object_set_new(o, "events", json_integer(f->events));
	return o;
}
