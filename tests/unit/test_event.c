/* SPDX-License-Identifier: MIT */
/*
 * Event validation against the hand-written tables in tests/data: every
 * invalid event is refused with the right code and field, every valid one
 * is accepted with its time normalized to UTC milliseconds.
 */
#include "event.h"
#include "harness.h"
#include "util.h"

#include <criterion/criterion.h>
#include <string.h>

Test(event, invalid_table_names_the_field)
{
	json_t *cases = load_test_data("invalid_events.json"), *c;
	struct event ev;
	struct err err;
	size_t i, failures = 0;

	cr_assert_geq(json_array_size(cases), 40);
	json_array_foreach(cases, i, c)
	{
		const char *name =
		    json_string_value(json_object_get(c, "name"));
		const char *code =
		    json_string_value(json_object_get(c, "code"));
		const char *field =
		    json_string_value(json_object_get(c, "field"));

		memset(&err, 0, sizeof(err));
		if (event_from_json(json_object_get(c, "event"), &ev, &err) ==
		    0) {
			cr_log_error("accepted: %s", name);
			failures++;
			continue;
		}
		if (strcmp(err_code_word(err.code), code) != 0 ||
		    strcmp(err.field, field) != 0) {
			cr_log_error("%s: got %s/%s, want %s/%s", name,
				     err_code_word(err.code), err.field, code,
				     field);
			failures++;
		}
		cr_assert_neq(err.msg[0], '\0', "%s: empty message", name);
		cr_assert(utf8_valid(err.msg, strlen(err.msg)) &&
			      utf8_valid(err.field, strlen(err.field)),
			  "%s: message or field is not UTF-8", name);
	}
	cr_assert_eq(failures, 0, "%zu invalid events misjudged", failures);
	json_decref(cases);
}

Test(event, valid_table_is_accepted_with_utc_millis)
{
	json_t *cases = load_test_data("valid_events.json"), *c;
	char ts[TIME_BUF_LEN];
	struct event ev;
	struct err err;
	size_t i;
	int seen_types = 0;

	json_array_foreach(cases, i, c)
	{
		const char *name =
		    json_string_value(json_object_get(c, "name"));

		cr_assert_eq(
		    event_from_json(json_object_get(c, "event"), &ev, &err), 0,
		    "%s: rejected: %s (%s)", name, err.msg, err.field);
		cr_assert_str_eq(
		    time_format_ms(ev.ts_ms, ts),
		    json_string_value(json_object_get(c, "ts_utc")), "%s",
		    name);
		seen_types |= 1 << ev.type;
	}
	for (i = EVENT_STARTED; i <= EVENT_TYPE_MAX; i++)
		cr_assert(seen_types & (1 << i), "no valid event of type %s",
			  event_enum_name(ENUM_TYPE, (int)i));
	json_decref(cases);
}

Test(event, normalized_json_round_trips)
{
	json_t *in =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:b, s:f}", "id", "e1",
		      "type", "message", "conversation_id", "c1", "ts",
		      "2026-03-29T03:30:00.123456+02:00", "author", "ai",
		      "sentiment", 0.5, "clarification", 0, "confidence", 0.25);
	struct event ev, back;
	struct err err;
	json_t *out;

	cr_assert_eq(event_from_json(in, &ev, &err), 0, "%s", err.msg);
	out = event_to_json(&ev);
	cr_assert_str_eq(json_string_value(json_object_get(out, "ts")),
			 "2026-03-29T01:30:00.123Z");
	cr_assert_eq(event_from_json(out, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back.ts_ms, ev.ts_ms);
	cr_assert_eq(back.author, ACTOR_AI);
	cr_assert_float_eq(back.confidence, 0.25, 1e-12);
	cr_assert_eq(back.clarification, 0);
	json_decref(in);
	json_decref(out);
}

Test(event, enum_names_round_trip)
{
	int n, i;
	const char *const *names = event_enum_names(ENUM_REASON, &n);

	cr_assert_eq(n, 6);
	for (i = 0; i < n; i++)
		cr_assert_eq(event_enum_parse(ENUM_REASON, names[i]), i + 1);
	cr_assert_eq(event_enum_parse(ENUM_REASON, "bogus"), 0);
	cr_assert_null(event_enum_name(ENUM_REASON, 0));
}

Test(event, ordering_is_by_ts_then_bytewise_id)
{
	struct event a, b;

	event_init(&a);
	event_init(&b);
	a.ts_ms = b.ts_ms = 1000;
	a.id = "B";
	b.id = "a";
	cr_assert_lt(event_cmp(&a, &b), 0, "'B' (0x42) sorts before 'a'");
	a.ts_ms = 1001;
	cr_assert_gt(event_cmp(&a, &b), 0, "ts decides first");
}
