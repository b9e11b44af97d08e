/* SPDX-License-Identifier: MIT */
/*
 * err_set keeps field and message UTF-8, since both go into JSON replies
 * that jansson would refuse to build otherwise (found by tests/fuzz).
 */
#include "err.h"
#include "util.h"

#include <criterion/criterion.h>
#include <string.h>

Test(err, raw_bytes_and_cut_characters_become_question_marks)
{
	struct err e;

	/* "%.2s" of "a\xC3\xA9" ("aé") keeps half of the 'é' */
	err_set(&e, API_ERR_INVALID_PARAM, "k\xFFy",
		"unknown '%.2s', \xC3\xA9 stays, \xE2\x82 goes", "a\xC3\xA9");
	cr_assert_str_eq(e.field, "k?y");
	cr_assert_str_eq(e.msg, "unknown 'a?', \xC3\xA9 stays, ?? goes");
}

Test(err, a_field_cut_inside_a_character_ends_in_a_question_mark)
{
	char key[80];
	struct err e;

	memset(key, 'x', 62);
	strcpy(key + 62, "\xC3\xA9\xC3\xA9");
	err_set(&e, API_ERR_UNKNOWN_FIELD, key, "unknown field");
	cr_assert_eq(strlen(e.field), 63);
	cr_assert_eq(e.field[62], '?');
	cr_assert(utf8_valid(e.field, strlen(e.field)));
}
