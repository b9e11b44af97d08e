/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_FUZZ_H
#define AGENTKPI_FUZZ_H

/*
 * Shared by the libFuzzer harnesses of tests/fuzz: the entry point's
 * prototype and the checks every harness makes of what the code under
 * test hands back. A failed check aborts, which libFuzzer reports as a
 * crash with the input that caused it.
 */

#include "err.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
				"fuzz: %s:%d: check '%s' failed: ", __FILE__,  \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* A copy of data[0..size) with a NUL after it (free() it). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * An error that reaches a client: a known code, a message, and field and
 * message in valid UTF-8, since both go into a JSON reply (jansson
 * refuses to pack anything else).
 */
static inline void fuzz_check_err(const struct err *e)
{
	FUZZ_CHECK(e->code > API_ERR_NONE && e->code < API_ERR_COUNT, "code %d",
		   (int)e->code);
	FUZZ_CHECK(memchr(e->field, '\0', sizeof(e->field)) &&
		       memchr(e->msg, '\0', sizeof(e->msg)),
		   "unterminated field or message");
	FUZZ_CHECK(e->msg[0], "empty message (field '%s')", e->field);
	FUZZ_CHECK(utf8_valid(e->field, strlen(e->field)),
		   "field is not UTF-8: '%s'", e->field);
	FUZZ_CHECK(utf8_valid(e->msg, strlen(e->msg)),
		   "message is not UTF-8: '%s'", e->msg);
}

#endif
