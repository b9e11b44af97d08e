/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_API_EVENTS_H
#define AGENTKPI_API_EVENTS_H

/*
 * The body of POST /v1/events split into its events without a request
 * (api/events.c): the handler calls it, and so does the fuzz harness
 * tests/fuzz/fuzz_ndjson.c.
 */

#include "err.h"

#include <jansson.h>
#include <stddef.h>

/* The elements of one body, parsed, with their text in the body. */
struct batch {
	json_t **docs;	  /* parsed elements, owned */
	const char **raw; /* their text in the body */
	size_t *raw_len;
	size_t n;
	size_t cap;
	long max_depth; /* deepest nesting an element may have; 0: any */
};

/*
 * Splits body[0..len) (NUL-terminated, borrowed: raw[] points into it),
 * sent with Content-Type ctype (NULL when absent), into at most max
 * elements: one event object, a JSON array's elements or NDJSON lines,
 * none nested deeper than b->max_depth (set it first). Returns -1 with
 * err when the body is refused whole. Either way b (zeroed
 * by the caller) holds what was parsed; free it with batch_release.
 */
int events_parse_body(const char *ctype, const char *body, size_t len,
		      struct batch *b, long max, struct err *err);

/* Frees what b holds (not b itself). */
void batch_release(struct batch *b);

#endif
