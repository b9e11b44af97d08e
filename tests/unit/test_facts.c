/* SPDX-License-Identifier: MIT */
/*
 * Conversation facts as a pure function: the hand-computed cases of
 * tests/data/facts_cases.json, in order, shuffled and with duplicates.
 */
#include "facts.h"
#include "harness.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Facts of a case's events as JSON, in the given order of indices. */
static json_t *facts_of(json_t *events, const size_t *order, size_t n)
{
	struct event *evs = xcalloc(n, sizeof(*evs));
	struct facts f;
	struct err err;
	json_t *out;
	size_t i;

	for (i = 0; i < n; i++)
		cr_assert_eq(event_from_json(json_array_get(events, order[i]),
					     &evs[i], &err),
			     0, "fixture event rejected: %s", err.msg);
	facts_compute(evs, n, &f);
	out = facts_to_json(&f);
	json_object_del(out, "last_event_at");
	free(evs);
	return out;
}

Test(facts, hand_computed_cases)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *events, *got;
	size_t i, j, n, *order;
	char path[256];

	cr_assert_geq(json_array_size(cases), 14);
	json_array_foreach(cases, i, c)
	{
		const char *name =
		    json_string_value(json_object_get(c, "name"));

		events = json_object_get(c, "events");
		n = json_array_size(events);
		order = xcalloc(n, sizeof(*order));
		for (j = 0; j < n; j++)
			order[j] = j;
		got = facts_of(events, order, n);
		path[0] = '\0';
		cr_expect(json_equivalent(got, json_object_get(c, "facts"),
					  path, sizeof(path)),
			  "%s: facts differ at %s", name, path);
		json_decref(got);
		free(order);
	}
	json_decref(cases);
}

Test(facts, window_checks_follow_reopen_gap)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *w, *facts;
	size_t i, j, k, n, *order;
	struct event *evs;
	struct facts f;
	struct err err;

	json_array_foreach(cases, i, c)
	{
		json_t *events = json_object_get(c, "events");

		n = json_array_size(events);
		evs = xcalloc(n, sizeof(*evs));
		order = xcalloc(n, sizeof(*order));
		for (k = 0; k < n; k++)
			event_from_json(json_array_get(events, k), &evs[k],
					&err);
		facts_compute(evs, n, &f);
		facts = json_object_get(c, "window_checks");
		json_array_foreach(facts, j, w)
		{
			int64_t hours = json_integer_value(
			    json_object_get(w, "window_hours"));

			cr_expect_eq(
			    facts_reopened_within(&f, hours * 3600000),
			    json_is_true(json_object_get(w, "reopened_within")),
			    "%s: window %lld h",
			    json_string_value(json_object_get(c, "name")),
			    (long long)hours);
		}
		free(order);
		free(evs);
	}
	json_decref(cases);
}

Test(facts, any_order_and_duplicates_give_the_same_facts)
{
	json_t *cases = load_test_data("facts_cases.json"), *c, *events;
	json_t *base, *got;
	size_t i, j, n, m, round, *order;

	srand(20261121);
	json_array_foreach(cases, i, c)
	{
		events = json_object_get(c, "events");
		n = json_array_size(events);
		order = xcalloc(2 * n, sizeof(*order));
		for (j = 0; j < n; j++)
			order[j] = j;
		base = facts_of(events, order, n);
		for (round = 0; round < 50; round++) {
			/* a shuffle of all events plus some repeated ones */
			m = n + (size_t)rand() % (n + 1);
			for (j = 0; j < m; j++)
				order[j] = j < n ? j : (size_t)rand() % n;
			for (j = m - 1; j > 0; j--) {
				size_t k = (size_t)rand() % (j + 1),
				       t = order[j];

				order[j] = order[k];
				order[k] = t;
			}
			got = facts_of(events, order, m);
			cr_assert(json_equal(got, base),
				  "%s: round %zu differs",
				  json_string_value(json_object_get(c, "name")),
				  round);
			json_decref(got);
		}
		json_decref(base);
		free(order);
	}
	json_decref(cases);
}

Test(facts, stream_is_derived_from_involvement)
{
	struct event ev[2];
	struct facts f;

	event_init(&ev[0]);
	ev[0].id = "a";
	ev[0].conversation_id = "c";
	ev[0].type = EVENT_STARTED;
	facts_compute(ev, 1, &f);
	cr_assert_str_eq(facts_stream_name(f.stream), "none");
	cr_assert_str_eq(facts_status_name(f.status), "open");

	event_init(&ev[1]);
	ev[1].id = "b";
	ev[1].conversation_id = "c";
	ev[1].type = EVENT_HANDOFF;
	ev[1].reason = REASON_POLICY;
	ev[1].ts_ms = 5;
	facts_compute(ev, 2, &f);
	cr_assert_str_eq(facts_stream_name(f.stream), "human_only",
			 "a handoff alone involves a human");
	cr_assert(f.escalated);
	cr_assert_eq(f.escalated_at, 5);
}

Test(facts, negative_feedback_is_csat_two_or_less_or_thumbs_down)
{
	static const struct {
		int csat, thumbs;
		bool negative;
	} rows[] = {
	    {1, 0, true},	    {2, 0, true},	   {3, 0, false},
	    {5, THUMBS_DOWN, true}, {0, THUMBS_UP, false}, {0, 0, false},
	};
	struct event ev[2];
	struct facts f;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		event_init(&ev[0]);
		ev[0].id = "a";
		ev[0].conversation_id = "c";
		ev[0].type = EVENT_STARTED;
		event_init(&ev[1]);
		ev[1].id = "b";
		ev[1].conversation_id = "c";
		ev[1].type = rows[i].csat || rows[i].thumbs ? EVENT_FEEDBACK
							    : EVENT_STARTED;
		ev[1].csat = rows[i].csat;
		ev[1].thumbs = rows[i].thumbs;
		facts_compute(ev, 2, &f);
		cr_assert_eq(f.negative_feedback, rows[i].negative,
			     "csat %d thumbs %d", rows[i].csat, rows[i].thumbs);
	}
}
