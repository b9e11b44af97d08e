/* SPDX-License-Identifier: MIT */
/*
 * The event model: name tables for every enum, and the strict conversion
 * of an API event object into struct event (metrics-spec section 1).
 */
#include "event.h"
#include "util.h"
#include "validate.h"

#include <math.h>
#include <string.h>

static const char *const type_names[] = {
    "conversation.started",
    "message",
    "handoff",
    "tool_call",
    "resolved",
    "reopened",
    "abandoned",
    "feedback",
    "quality",
};
static const char *const segment_names[] = {
    "channel", "topic", "customer_tier", "language", "product_area", "cohort",
};
static const char *const actor_names[] = {"customer", "ai", "human"};
static const char *const by_names[] = {"ai", "human"};
static const char *const reason_names[] = {
    "customer_requested", "ai_unable",	    "policy",
    "sensitive",	  "authentication", "other",
};
static const char *const initiator_names[] = {"ai", "customer", "system"};
static const char *const thumbs_names[] = {"up", "down"};
static const char *const failure_names[] = {
    "knowledge", "reasoning", "tool", "workflow", "communication",
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const struct {
	const char *const *names;
	int count;
} enum_tables[ENUM_COUNT] = {
    [ENUM_TYPE] = {type_names, N(type_names)},
    [ENUM_SEGMENT] = {segment_names, N(segment_names)},
    [ENUM_ACTOR] = {actor_names, N(actor_names)},
    [ENUM_BY] = {by_names, N(by_names)},
    [ENUM_REASON] = {reason_names, N(reason_names)},
    [ENUM_INITIATOR] = {initiator_names, N(initiator_names)},
    [ENUM_THUMBS] = {thumbs_names, N(thumbs_names)},
    [ENUM_FAILURE] = {failure_names, N(failure_names)},
};

/* The envelope keys every type accepts. */
static const char *const envelope_keys[] = {
    "id",	   "type",    "conversation_id", "ts",
    "customer_id", "segment", "agent_version",	 "cost_usd",
};

/* Each type's own keys, NULL-terminated, indexed by enum event_type. */
static const char *const *const type_keys[EVENT_TYPE_MAX + 1] = {
    [EVENT_STARTED] = (const char *const[]){NULL},
    [EVENT_MESSAGE] =
	(const char *const[]){"author", "sentiment", "clarification",
			      "confidence", NULL},
    [EVENT_HANDOFF] = (const char *const[]){"reason", "initiated_by", NULL},
    [EVENT_TOOL_CALL] = (const char *const[]){"name", "ok", "latency_ms", NULL},
    [EVENT_RESOLVED] = (const char *const[]){"by", "confirmed", NULL},
    [EVENT_REOPENED] = (const char *const[]){NULL},
    [EVENT_ABANDONED] = (const char *const[]){NULL},
    [EVENT_FEEDBACK] = (const char *const[]){"csat", "thumbs", "comment", NULL},
    [EVENT_QUALITY] =
	(const char *const[]){"grader", "resolution_correct", "hallucination",
			      "score", "escalation_appropriate",
			      "failure_category", NULL},
};

void event_init(struct event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->cost_usd = NAN;
	ev->sentiment = NAN;
	ev->confidence = NAN;
	ev->latency_ms = NAN;
	ev->score = NAN;
	ev->clarification = -1;
	ev->tool_ok = -1;
	ev->confirmed = -1;
	ev->resolution_correct = -1;
	ev->hallucination = -1;
	ev->escalation_appropriate = -1;
}

const char *const *event_enum_names(enum event_enum which, int *count)
{
	*count = enum_tables[which].count;
	return enum_tables[which].names;
}

const char *event_enum_name(enum event_enum which, int v)
{
	if (v < 1 || v > enum_tables[which].count)
		return NULL;
	return enum_tables[which].names[v - 1];
}

int event_enum_parse(enum event_enum which, const char *name)
{
	int i;

	if (!name)
		return 0;
	for (i = 0; i < enum_tables[which].count; i++)
		if (strcmp(name, enum_tables[which].names[i]) == 0)
			return i + 1;
	return 0;
}

const char *event_segment_key(enum seg_key k)
{
	return segment_names[k];
}

int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->ts_ms != y->ts_ms)
		return x->ts_ms < y->ts_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

static void set_num(json_t *o, const char *key, double v)
{
	if (!isnan(v))
		json_object_set_new(o, key, json_real(v));
}

static void set_bool(json_t *o, const char *key, int v)
{
	if (v >= 0)
		json_object_set_new(o, key, json_boolean(v));
}

static void set_enum(json_t *o, const char *key, enum event_enum which, int v)
{
	set_str(o, key, event_enum_name(which, v));
}

json_t *event_to_json(const struct event *ev)
{
	json_t *o = json_object(), *seg = json_object();
	char ts[TIME_BUF_LEN];
	int i;

	set_str(o, "id", ev->id);
	set_enum(o, "type", ENUM_TYPE, ev->type);
	set_str(o, "conversation_id", ev->conversation_id);
	set_str(o, "ts", time_format_ms(ev->ts_ms, ts));
	set_str(o, "customer_id", ev->customer_id);
	for (i = 0; i < SEG_COUNT; i++)
		set_str(seg, segment_names[i], ev->segment[i]);
	if (json_object_size(seg))
		json_object_set(o, "segment", seg);
	json_decref(seg);
	set_str(o, "agent_version", ev->agent_version);
	set_num(o, "cost_usd", ev->cost_usd);
	set_enum(o, "author", ENUM_ACTOR, ev->author);
	set_num(o, "sentiment", ev->sentiment);
	set_bool(o, "clarification", ev->clarification);
	set_num(o, "confidence", ev->confidence);
	set_enum(o, "reason", ENUM_REASON, ev->reason);
	set_enum(o, "initiated_by", ENUM_INITIATOR, ev->initiated_by);
	set_str(o, "name", ev->tool_name);
	set_bool(o, "ok", ev->tool_ok);
	set_num(o, "latency_ms", ev->latency_ms);
	set_enum(o, "by", ENUM_BY, ev->by);
	set_bool(o, "confirmed", ev->confirmed);
	if (ev->csat)
		json_object_set_new(o, "csat", json_integer(ev->csat));
	set_enum(o, "thumbs", ENUM_THUMBS, ev->thumbs);
	set_str(o, "comment", ev->comment);
	set_str(o, "grader", ev->grader);
	set_bool(o, "resolution_correct", ev->resolution_correct);
	set_bool(o, "hallucination", ev->hallucination);
	set_num(o, "score", ev->score);
	set_bool(o, "escalation_appropriate", ev->escalation_appropriate);
	set_enum(o, "failure_category", ENUM_FAILURE, ev->failure_category);
	return o;
}

static int has_key(const char *const *keys, int n, const char *key)
{
	int i;

	for (i = 0; n < 0 ? keys[i] != NULL : i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return 1;
	return 0;
}

static int check_segment(json_t *obj, struct event *ev, struct err *err)
{
	char field[64];
	const char *key;
	json_t *seg, *v;
	int i;

	seg = json_object_get(obj, "segment");
	if (!seg)
		return 0;
	if (!json_is_object(seg))
		return err_set(err, API_ERR_INVALID_FIELD, "segment",
			       "'segment' must be an object of strings");
	json_object_foreach(seg, key, v)
	{
		if (!has_key(segment_names, N(segment_names), key)) {
			snprintf(field, sizeof(field), "segment.%.50s", key);
			return err_set(err, API_ERR_UNKNOWN_FIELD, field,
				       "unknown segment key '%s'; allowed: "
				       "channel, topic, customer_tier, "
				       "language, product_area, cohort",
				       field);
		}
	}
	for (i = 0; i < SEG_COUNT; i++) {
		snprintf(field, sizeof(field), "segment.%s", segment_names[i]);
		if (validate_string(seg, segment_names[i], field, 1, 128, false,
				    &ev->segment[i], err) < 0)
			return -1;
	}
	return 0;
}

static int check_envelope(json_t *obj, struct event *ev, struct err *err)
{
	long long ts;
	int type;

	if (validate_string(obj, "id", "id", 1, 128, true, &ev->id, err) < 0 ||
	    validate_enum(obj, "type", "type", type_names, N(type_names), true,
			  &type, err) < 0 ||
	    validate_string(obj, "conversation_id", "conversation_id", 1, 256,
			    true, &ev->conversation_id, err) < 0 ||
	    validate_time(obj, "ts", "ts", true, &ts, err) < 0 ||
	    validate_string(obj, "customer_id", "customer_id", 1, 256, false,
			    &ev->customer_id, err) < 0 ||
	    check_segment(obj, ev, err) < 0 ||
	    validate_string(obj, "agent_version", "agent_version", 1, 128,
			    false, &ev->agent_version, err) < 0 ||
	    validate_number(obj, "cost_usd", "cost_usd", 0, INFINITY, false,
			    &ev->cost_usd, err) < 0)
		return -1;
	ev->type = (enum event_type)type;
	ev->ts_ms = ts;
	return 0;
}

static int check_unknown(json_t *obj, const struct event *ev, struct err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		if (has_key(envelope_keys, N(envelope_keys), key) ||
		    has_key(type_keys[ev->type], -1, key))
			continue;
		return err_set(err, API_ERR_UNKNOWN_FIELD, key,
			       "unknown field '%.60s' for type '%s'", key,
			       type_names[ev->type - 1]);
	}
	return 0;
}

static int check_message(json_t *o, struct event *ev, struct err *err)
{
	if (validate_enum(o, "author", "author", actor_names, N(actor_names),
			  true, &ev->author, err) < 0 ||
	    validate_number(o, "sentiment", "sentiment", -1, 1, false,
			    &ev->sentiment, err) < 0 ||
	    validate_bool(o, "clarification", "clarification", false,
			  &ev->clarification, err) < 0 ||
	    validate_number(o, "confidence", "confidence", 0, 1, false,
			    &ev->confidence, err) < 0)
		return -1;
	if (!isnan(ev->confidence) && ev->author != ACTOR_AI)
		return err_set(err, API_ERR_INVALID_FIELD, "confidence",
			       "'confidence' is only allowed on messages "
			       "with author 'ai'");
	return 0;
}

static int check_feedback(json_t *o, struct event *ev, struct err *err)
{
	bool present;
	long csat;

	if (validate_integer(o, "csat", "csat", 1, 5, false, &csat, &present,
			     err) < 0 ||
	    validate_enum(o, "thumbs", "thumbs", thumbs_names, N(thumbs_names),
			  false, &ev->thumbs, err) < 0 ||
	    validate_string(o, "comment", "comment", 0, 4000, false,
			    &ev->comment, err) < 0)
		return -1;
	ev->csat = present ? (int)csat : 0;
	if (!present && !ev->thumbs)
		return err_set(err, API_ERR_MISSING_FIELD, "csat",
			       "feedback needs 'csat' or 'thumbs'");
	return 0;
}

static int check_quality(json_t *o, struct event *ev, struct err *err)
{
	if (validate_string(o, "grader", "grader", 1, 128, true, &ev->grader,
			    err) < 0 ||
	    validate_bool(o, "resolution_correct", "resolution_correct", false,
			  &ev->resolution_correct, err) < 0 ||
	    validate_bool(o, "hallucination", "hallucination", false,
			  &ev->hallucination, err) < 0 ||
	    validate_number(o, "score", "score", 0, 100, false, &ev->score,
			    err) < 0 ||
	    validate_bool(o, "escalation_appropriate", "escalation_appropriate",
			  false, &ev->escalation_appropriate, err) < 0 ||
	    validate_enum(o, "failure_category", "failure_category",
			  failure_names, N(failure_names), false,
			  &ev->failure_category, err) < 0)
		return -1;
	return 0;
}

static int check_handoff(json_t *o, struct event *ev, struct err *err)
{
	if (validate_enum(o, "reason", "reason", reason_names, N(reason_names),
			  true, &ev->reason, err) < 0 ||
	    validate_enum(o, "initiated_by", "initiated_by", initiator_names,
			  N(initiator_names), false, &ev->initiated_by,
			  err) < 0)
		return -1;
	return 0;
}

static int check_tool_call(json_t *o, struct event *ev, struct err *err)
{
	if (validate_string(o, "name", "name", 1, 256, true, &ev->tool_name,
			    err) < 0 ||
	    validate_bool(o, "ok", "ok", true, &ev->tool_ok, err) < 0 ||
	    validate_number(o, "latency_ms", "latency_ms", 0, INFINITY, false,
			    &ev->latency_ms, err) < 0)
		return -1;
	return 0;
}

static int check_resolved(json_t *o, struct event *ev, struct err *err)
{
	if (validate_enum(o, "by", "by", by_names, N(by_names), true, &ev->by,
			  err) < 0 ||
	    validate_bool(o, "confirmed", "confirmed", false, &ev->confirmed,
			  err) < 0)
		return -1;
	return 0;
}

int event_from_json(json_t *obj, struct event *ev, struct err *err)
{
	event_init(ev);
	if (!json_is_object(obj))
		return err_set(err, API_ERR_INVALID_EVENT, "",
			       "an event must be a JSON object");
	if (check_envelope(obj, ev, err) < 0 || check_unknown(obj, ev, err) < 0)
		return -1;
	switch (ev->type) {
	case EVENT_MESSAGE:
		return check_message(obj, ev, err);
	case EVENT_HANDOFF:
		return check_handoff(obj, ev, err);
	case EVENT_TOOL_CALL:
		return check_tool_call(obj, ev, err);
	case EVENT_RESOLVED:
		return check_resolved(obj, ev, err);
	case EVENT_FEEDBACK:
		return check_feedback(obj, ev, err);
	case EVENT_QUALITY:
		return check_quality(obj, ev, err);
	default:
		return 0;
	}
}
