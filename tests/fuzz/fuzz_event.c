/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: bytes -> events, the way POST /v1/events reads an
 * application/json body (events_parse_body, then event_from_json for each
 * element). A valid event must hold what the model promises and survive
 * event_to_json and a second validation unchanged; a refused one must
 * name the member at fault in a message a JSON reply can carry.
 */
#include "event.h"
#include "events.h"
#include "fuzz.h"
#include "util.h"

#include <jansson.h>
#include <math.h>

#define MAX_EVENTS 1000 /* max_batch_events default */

/* A required string member: present, 1..max code points, no NUL. */
static void check_str(json_t *obj, const char *key, const char *v, size_t max)
{
	json_t *j = json_object_get(obj, key);

	FUZZ_CHECK(v && json_is_string(j) && v == json_string_value(j),
		   "'%s' is not borrowed from the object", key);
	FUZZ_CHECK(*v && strlen(v) == json_string_length(j) &&
		       utf8_len(v, strlen(v)) <= max,
		   "'%s' is empty, too long or holds NUL", key);
}

static void check_enum(enum event_enum which, int v, const char *what)
{
	FUZZ_CHECK(v == 0 || event_enum_name(which, v), "%s %d", what, v);
}

static void check_valid(json_t *obj, const struct event *ev)
{
	json_t *back, *again;
	struct event ev2;
	struct err e;
	int64_t ms;

	check_str(obj, "id", ev->id, 128);
	check_str(obj, "conversation_id", ev->conversation_id, 256);
	FUZZ_CHECK(ev->type >= 1 && ev->type <= EVENT_TYPE_MAX, "type %d",
		   (int)ev->type);
	FUZZ_CHECK(ev->ts_ms >= days_from_civil(1, 1, 1) * 86400000 &&
		       ev->ts_ms < days_from_civil(10000, 1, 1) * 86400000,
		   "ts_ms %lld outside years 1-9999", (long long)ev->ts_ms);
	FUZZ_CHECK(ev->csat >= 0 && ev->csat <= 5, "csat %d", ev->csat);
	FUZZ_CHECK(isnan(ev->cost_usd) || ev->cost_usd >= 0, "cost_usd %g",
		   ev->cost_usd);
	check_enum(ENUM_ACTOR, ev->author, "author");
	check_enum(ENUM_REASON, ev->reason, "reason");
	check_enum(ENUM_INITIATOR, ev->initiated_by, "initiated_by");
	check_enum(ENUM_BY, ev->by, "by");
	check_enum(ENUM_THUMBS, ev->thumbs, "thumbs");
	check_enum(ENUM_FAILURE, ev->failure_category, "failure_category");
	FUZZ_CHECK(ev->type != EVENT_MESSAGE || ev->author, "message author");
	FUZZ_CHECK(ev->type != EVENT_FEEDBACK || ev->csat || ev->thumbs,
		   "feedback without csat or thumbs");
	FUZZ_CHECK(isnan(ev->confidence) || ev->author == ACTOR_AI,
		   "confidence on a message not by the ai");

	/* the normalized event is itself a valid event, and the same one */
	back = event_to_json(ev);
	FUZZ_CHECK(
	    time_parse_rfc3339(json_string_value(json_object_get(back, "ts")),
			       &ms) == 0 &&
		ms == ev->ts_ms,
	    "ts does not survive formatting");
	FUZZ_CHECK(event_from_json(back, &ev2, &e) == 0,
		   "event_to_json output refused: %s (%s)", e.msg, e.field);
	again = event_to_json(&ev2);
	FUZZ_CHECK(json_equal(back, again), "event_to_json is not stable");
	json_decref(again);
	json_decref(back);
}

/*
 * Whether obj has a member called name, or one cut to name's length at
 * `cut` bytes (where a cut character may show as something else).
 */
static int has_member(json_t *obj, const char *name, size_t cut)
{
	size_t n = strlen(name);
	const char *key;
	json_t *v;

	if (json_object_get(obj, name))
		return 1;
	if (n < cut)
		return 0;
	json_object_foreach(obj, key, v)
	{
		if (strncmp(key, name, n - 3) == 0)
			return 1;
	}
	return 0;
}

/* The member err names: present unless it is missing. */
static int names_member(json_t *obj, const struct err *e)
{
	json_t *seg = json_object_get(obj, "segment");

	if (strncmp(e->field, "segment.", 8) == 0 && json_is_object(seg) &&
	    has_member(seg, e->field + 8, 50))
		return 1;
	return has_member(obj, e->field, sizeof(e->field) - 1);
}

static void check_refused(json_t *doc, const struct err *e)
{
	fuzz_check_err(e);
	if (!json_is_object(doc)) {
		FUZZ_CHECK(e->code == API_ERR_INVALID_EVENT,
			   "a non-object refused with %s",
			   err_code_word(e->code));
		return;
	}
	FUZZ_CHECK(e->code == API_ERR_INVALID_FIELD ||
		       e->code == API_ERR_MISSING_FIELD ||
		       e->code == API_ERR_UNKNOWN_FIELD,
		   "an object refused with %s", err_code_word(e->code));
	FUZZ_CHECK(e->field[0] || (e->code == API_ERR_UNKNOWN_FIELD &&
				   json_object_get(doc, "")),
		   "no field named: %s", e->msg);
	if (e->code == API_ERR_MISSING_FIELD)
		FUZZ_CHECK(!names_member(doc, e),
			   "'%s' is said to be missing but is there", e->field);
	else
		FUZZ_CHECK(names_member(doc, e), "'%s' is not a member: %s",
			   e->field, e->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_text(data, size);
	struct batch b = {0};
	struct event ev;
	struct err e;
	size_t i;

	if (events_parse_body("application/json", body, size, &b, MAX_EVENTS,
			      &e) < 0) {
		fuzz_check_err(&e);
		goto out;
	}
	for (i = 0; i < b.n; i++) {
		if (event_from_json(b.docs[i], &ev, &e) == 0)
			check_valid(b.docs[i], &ev);
		else
			check_refused(b.docs[i], &e);
	}
out:
	batch_release(&b);
	free(body);
	return 0;
}
