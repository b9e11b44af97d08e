/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_VALIDATE_H
#define AGENTKPI_VALIDATE_H

#include "err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Checks of one member `key` of a JSON object. Each returns 0 when the
 * member is valid or absent-and-optional, and -1 with err filled (naming
 * `field`, which is `key` or a dotted path) otherwise. A JSON null counts
 * as present and invalid. Outputs borrow from obj.
 */

/* String of min..max code points; *out is NULL when absent. */
int validate_string(json_t *obj, const char *key, const char *field, size_t min,
		    size_t max, bool required, const char **out,
		    struct err *err);

/* Finite number (integer or real) in [min, max]; *out NAN when absent. */
int validate_number(json_t *obj, const char *key, const char *field, double min,
		    double max, bool required, double *out, struct err *err);

/* JSON integer in [min, max]; *out 0 and *present false when absent. */
int validate_integer(json_t *obj, const char *key, const char *field, long min,
		     long max, bool required, long *out, bool *present,
		     struct err *err);

/* JSON boolean; *out -1 when absent, else 0 or 1. */
int validate_bool(json_t *obj, const char *key, const char *field,
		  bool required, int *out, struct err *err);

/*
 * String that must be one of names[0..count-1]; *out is the index + 1,
 * 0 when absent.
 */
int validate_enum(json_t *obj, const char *key, const char *field,
		  const char *const *names, int count, bool required, int *out,
		  struct err *err);

/* RFC 3339 time string with offset, into ms since the epoch. */
int validate_time(json_t *obj, const char *key, const char *field,
		  bool required, long long *out, struct err *err);

#endif
