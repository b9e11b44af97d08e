/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_ERR_H
#define AGENTKPI_ERR_H

/*
 * Every failure the API can report. err.c maps each to its HTTP status
 * and a stable code word; the words are part of the contract (openapi.yaml).
 */
enum api_err {
	API_ERR_NONE = 0,
	API_ERR_INVALID_FIELD,	    /* 400 invalid_field */
	API_ERR_MISSING_FIELD,	    /* 400 missing_field */
	API_ERR_UNKNOWN_FIELD,	    /* 400 unknown_field */
	API_ERR_INVALID_EVENT,	    /* 400 invalid_event */
	API_ERR_INVALID_JSON,	    /* 400 invalid_json */
	API_ERR_INVALID_PARAM,	    /* 400 invalid_parameter */
	API_ERR_UNAUTHORIZED,	    /* 401 unauthorized */
	API_ERR_FORBIDDEN,	    /* 403 forbidden */
	API_ERR_NOT_FOUND,	    /* 404 not_found */
	API_ERR_METHOD_NOT_ALLOWED, /* 405 method_not_allowed */
	API_ERR_CONFLICT,	    /* 409 conflict */
	API_ERR_PAYLOAD_TOO_LARGE,  /* 413 payload_too_large */
	API_ERR_TOO_MANY_EVENTS,    /* 413 too_many_events */
	API_ERR_UNSUPPORTED_MEDIA,  /* 415 unsupported_media_type */
	API_ERR_UNPROCESSABLE,	    /* 422 unprocessable */
	API_ERR_URI_TOO_LONG,	    /* 414 uri_too_long */
	API_ERR_HEADERS_TOO_LARGE,  /* 431 headers_too_large */
	API_ERR_TOO_MANY_PARAMS,    /* 400 too_many_parameters */
	API_ERR_RATE_LIMITED,	    /* 429 rate_limited */
	API_ERR_INTERNAL,	    /* 500 internal */
	API_ERR_DB_UNAVAILABLE,	    /* 503 db_unavailable */
	API_ERR_NOT_READY,	    /* 503 not_ready */
	API_ERR_COUNT
};

/* Caller-owned error details, filled where the failure is seen. */
struct err {
	enum api_err code;
	char field[64];
	char msg[256];
};

/* Fills err (field may be NULL) and returns -1, for "return err_set(...)". */
int err_set(struct err *err, enum api_err code, const char *field,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The HTTP status for code. */
int err_http_status(enum api_err code);

/* The stable code word for code, e.g. "invalid_field". */
const char *err_code_word(enum api_err code);

#endif
