/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the splitting of a POST /v1/events body into events
 * (events_parse_body: one object, a JSON array or NDJSON). The input's
 * first line is the Content-Type (empty: no header), the rest the body.
 * Each element must lie in the body and read back as what was parsed; an
 * accepted array must be a JSON array of those elements, and a JSON body
 * without duplicate keys or deep nesting must not be refused.
 */
#include "events.h"
#include "fuzz.h"

#include <jansson.h>
#include <strings.h>

#define MAX_EVENTS 16 /* small, so that the limit is reached */
#define PARSE_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_ndjson(const char *ctype)
{
	size_t n = ctype ? strcspn(ctype, "; ") : 0;

	return (n == 20 && !strncasecmp(ctype, "application/x-ndjson", 20)) ||
	       (n == 18 && !strncasecmp(ctype, "application/ndjson", 18));
}

static int depth(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	int d = 0, dv;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
		{
			if ((dv = depth(v)) > d)
				d = dv;
		}
		return d + 1;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			if ((dv = depth(v)) > d)
				d = dv;
		}
		return d + 1;
	}
	return 0;
}

/* Each element is a trimmed piece of the body that parses to its doc. */
static void check_elements(const struct batch *b, const char *body, size_t len,
			   int ndjson)
{
	json_error_t jerr;
	json_t *again;
	size_t i;

	FUZZ_CHECK(b->n <= MAX_EVENTS, "%zu elements", b->n);
	for (i = 0; i < b->n; i++) {
		const char *r = b->raw[i];
		size_t n = b->raw_len[i];

		FUZZ_CHECK(b->docs[i], "element %zu is NULL", i);
		FUZZ_CHECK(r >= body && n > 0 && n <= len &&
			       (size_t)(r - body) <= len - n,
			   "element %zu lies outside the body", i);
		FUZZ_CHECK(!is_ws(r[0]) && !is_ws(r[n - 1]),
			   "element %zu is not trimmed", i);
		FUZZ_CHECK(!ndjson || !memchr(r, '\n', n),
			   "NDJSON element %zu spans lines", i);
		again = json_loadb(r, n, PARSE_FLAGS, &jerr);
		FUZZ_CHECK(again && json_equal(again, b->docs[i]),
			   "element %zu does not read back: %s", i,
			   again ? "different" : jerr.text);
		json_decref(again);
	}
}

/* An accepted application/json body is one JSON value of those elements. */
static void check_whole(const struct batch *b, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *whole = json_loadb(body, len, PARSE_FLAGS, &jerr);
	size_t i;

	if (!whole && strstr(jerr.text, "depth"))
		return; /* an element at jansson's limit, one level deeper */
	FUZZ_CHECK(whole, "accepted, but the body is not JSON: %s", jerr.text);
	if (json_is_array(whole)) {
		FUZZ_CHECK(json_array_size(whole) == b->n,
			   "%zu elements, the array holds %zu", b->n,
			   json_array_size(whole));
		for (i = 0; i < b->n; i++)
			FUZZ_CHECK(
			    json_equal(json_array_get(whole, i), b->docs[i]),
			    "element %zu differs from the array's", i);
	} else {
		FUZZ_CHECK(json_is_object(whole) && b->n == 1 &&
			       json_equal(whole, b->docs[0]),
			   "a body that is not an array gave %zu elements",
			   b->n);
	}
	json_decref(whole);
}

/* Every non-blank line is an element. */
static void check_lines(const struct batch *b, const char *body, size_t len)
{
	size_t i, lines = 0;
	int blank = 1;

	for (i = 0; i < len; i++) {
		if (body[i] == '\n') {
			lines += !blank;
			blank = 1;
		} else if (!is_ws(body[i])) {
			blank = 0;
		}
	}
	lines += !blank;
	FUZZ_CHECK(lines == b->n, "%zu non-blank lines, %zu elements", lines,
		   b->n);
}

/* A plain JSON object or short array is not refused as invalid JSON. */
static void check_refusal(const char *body, size_t len)
{
	json_t *whole =
	    json_loadb(body, len, PARSE_FLAGS | JSON_REJECT_DUPLICATES, NULL);

	FUZZ_CHECK(!whole || depth(whole) > 8 ||
		       !(json_is_object(whole) ||
			 (json_is_array(whole) &&
			  json_array_size(whole) <= MAX_EVENTS)),
		   "a JSON body was refused as invalid JSON");
	json_decref(whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size;
	char *ctype = tlen ? fuzz_text(data, tlen) : NULL;
	size_t len = nl ? size - tlen - 1 : 0;
	char *body = fuzz_text(nl ? nl + 1 : data, len);
	int ndjson = is_ndjson(ctype);
	struct batch b = {0};
	struct err e;
	int rc;

	/* a header value holds no NUL; cut it there as a client would */
	rc = events_parse_body(ctype, body, len, &b, MAX_EVENTS, &e);
	check_elements(&b, body, len, ndjson);
	if (rc < 0) {
		fuzz_check_err(&e);
		FUZZ_CHECK(e.code == API_ERR_INVALID_JSON ||
			       e.code == API_ERR_TOO_MANY_EVENTS ||
			       (e.code == API_ERR_UNSUPPORTED_MEDIA && ctype),
			   "refused with %s", err_code_word(e.code));
		if (e.code == API_ERR_INVALID_JSON && !ndjson)
			check_refusal(body, len);
	} else if (ndjson) {
		check_lines(&b, body, len);
	} else {
		check_whole(&b, body, len);
	}
	batch_release(&b);
	free(body);
	free(ctype);
	return 0;
}
