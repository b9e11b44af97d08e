/* SPDX-License-Identifier: MIT */
/*
 * RFC 3339 parsing and formatting, the base of every stored timestamp.
 */
#include "util.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static int64_t parse(const char *s)
{
	int64_t ms = 0;

	cr_assert_eq(time_parse_rfc3339(s, &ms), 0, "rejected %s", s);
	return ms;
}

Test(util, parses_offsets_and_truncates_fractions)
{
	char buf[TIME_BUF_LEN];

	cr_assert_eq(parse("1970-01-01T00:00:00Z"), 0);
	cr_assert_eq(parse("1970-01-01T00:00:01.9999Z"), 1999);
	cr_assert_eq(parse("1970-01-01T02:00:00+02:00"), 0);
	cr_assert_eq(parse("1969-12-31T19:00:00-05:00"), 0);
	cr_assert_eq(parse("1969-12-31T23:59:59.9999z"), -1);
	cr_assert_str_eq(
	    time_format_ms(parse("2026-11-21t10:00:00.5+05:30"), buf),
	    "2026-11-21T04:30:00.500Z");
	cr_assert_str_eq(
	    time_format_ms(parse("2028-02-29T23:59:59.123456789Z"), buf),
	    "2028-02-29T23:59:59.123Z");
}

Test(util, rejects_non_rfc3339)
{
	static const char *const bad[] = {
	    "2026-11-21T10:00:00",	 "2026-11-21",
	    "2026-02-30T00:00:00Z",	 "2026-11-21T24:00:00Z",
	    "2026-11-21T10:60:00Z",	 "2026-11-21T10:00:60Z",
	    "2026-11-21 10:00:00Z",	 "2026-11-21T10:00:00.Z",
	    "2026-11-21T10:00:00+0200",	 "2026-11-21T10:00:00+02",
	    "2026-11-21T10:00:00Zjunk",	 "26-11-21T10:00:00Z",
	    "2025-02-29T00:00:00Z",	 "",
	    "2026-11-21T10:00:00+24:00",
	};
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(time_parse_rfc3339(bad[i], &ms), -1,
			     "accepted '%s'", bad[i]);
}

Test(util, utf8_length_counts_code_points)
{
	cr_assert_eq(utf8_len("abc", 3), 3);
	cr_assert_eq(utf8_len("\xc3\xa9t\xc3\xa9", 5), 3);
	cr_assert_eq(utf8_len("\xf0\x9f\x98\x80", 4), 1);
}

Test(util, days_from_civil_matches_known_dates)
{
	cr_assert_eq(days_from_civil(1970, 1, 1), 0);
	cr_assert_eq(days_from_civil(2000, 3, 1), 11017);
	cr_assert_eq(days_from_civil(1969, 12, 31), -1);
}

Test(util, base64_decodes_basic_auth_credentials)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"Z3JhZmFuYTprZXk=", "grafana:key"},
	    {"Z3JhZmFuYTprZXk", "grafana:key"}, /* padding left out */
	    {"OmFr", ":ak"},
	    {"", ""},
	    {"YQ==", "a"},
	    {"+/+/", "\xfb\xff\xbf"},
	};
	static const char *const bad[] = {"Z", "Zm9v!", "Zm 9v", "Zm9v\n",
					  "Z===x"};
	size_t i, n;
	char *s;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		s = base64_decode(ok[i].in, strlen(ok[i].in), &n);
		cr_assert_not_null(s, "rejected '%s'", ok[i].in);
		cr_expect_eq(n, strlen(ok[i].out), "length of '%s'", ok[i].in);
		cr_expect_str_eq(s, ok[i].out);
		free(s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = base64_decode(bad[i], strlen(bad[i]), &n);
		cr_expect_null(s, "accepted '%s'", bad[i]);
		free(s);
	}
	/* a NUL inside is decoded, and the length tells it apart */
	s = base64_decode("YQBi", 4, &n);
	cr_assert_not_null(s);
	cr_expect_eq(n, 3);
	cr_expect_eq(strlen(s), 1);
	free(s);
}

Test(util, text_array_literal_escapes_quotes_and_backslashes)
{
	static const char *const v[] = {"chat", "a\"b", "c\\d", "", "x,y}"};
	char *s;

	s = pg_text_array(v, 5);
	cr_expect_str_eq(s, "{\"chat\",\"a\\\"b\",\"c\\\\d\",\"\",\"x,y}\"}");
	free(s);
	s = pg_text_array(v, 0);
	cr_expect_str_eq(s, "{}");
	free(s);
}

Test(util, time_floor_rounds_down_before_and_after_the_epoch)
{
	cr_expect_eq(time_floor_ms(3 * HOUR_MS + 59999, HOUR_MS), 3 * HOUR_MS);
	cr_expect_eq(time_floor_ms(3 * HOUR_MS, HOUR_MS), 3 * HOUR_MS);
	cr_expect_eq(time_floor_ms(-1, DAY_MS), -DAY_MS,
		     "a millisecond before 1970 is in 1969-12-31");
	cr_expect_eq(time_floor_ms(-DAY_MS, DAY_MS), -DAY_MS);
}

Test(util, time_array_literal_lists_utc_times)
{
	int64_t t[2] = {0, 90061001};
	char *s = pg_time_array(t, 2);

	cr_expect_str_eq(
	    s, "{\"1970-01-01T00:00:00.000Z\",\"1970-01-02T01:01:01.001Z\"}");
	free(s);
	s = pg_time_array(t, 0);
	cr_expect_str_eq(s, "{}");
	free(s);
}
