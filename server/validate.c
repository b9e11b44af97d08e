/* SPDX-License-Identifier: MIT */
/*
 * Pure checks of JSON input members; each failure names the field and
 * says what was expected, so API clients can fix their payloads.
 */
#include "validate.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static json_t *member(json_t *obj, const char *key, const char *field,
		      bool required, int *rc, struct err *err)
{
	json_t *v = json_object_get(obj, key);

	*rc = 0;
	if (!v) {
		if (required)
			*rc = err_set(err, API_ERR_MISSING_FIELD, field,
				      "'%s' is required", field);
		return NULL;
	}
	if (json_is_null(v)) {
		*rc = err_set(err, API_ERR_INVALID_FIELD, field,
			      "'%s' must not be null", field);
		return NULL;
	}
	return v;
}

int validate_string(json_t *obj, const char *key, const char *field, size_t min,
		    size_t max, bool required, const char **out,
		    struct err *err)
{
	json_t *v;
	size_t n;
	int rc;

	*out = NULL;
	if (!(v = member(obj, key, field, required, &rc, err)))
		return rc;
	if (!json_is_string(v))
		return err_set(err, API_ERR_INVALID_FIELD, field,
			       "'%s' must be a string", field);
	n = utf8_len(json_string_value(v), json_string_length(v));
	if (n < min || n > max) {
		if (min > 0 && n == 0)
			return err_set(err, API_ERR_INVALID_FIELD, field,
				       "'%s' must not be empty", field);
		return err_set(err, API_ERR_INVALID_FIELD, field,
			       "'%s' must be %zu to %zu characters long, "
			       "not %zu",
			       field, min, max, n);
	}
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(err, API_ERR_INVALID_FIELD, field,
			       "'%s' must not contain NUL characters", field);
	*out = json_string_value(v);
	return 0;
}

int validate_number(json_t *obj, const char *key, const char *field, double min,
		    double max, bool required, double *out, struct err *err)
{
	json_t *v;
	double d;
	int rc;

	*out = NAN;
	if (!(v = member(obj, key, field, required, &rc, err)))
		return rc;
	if (!json_is_number(v))
		return err_set(err, API_ERR_INVALID_FIELD, field,
			       "'%s' must be a number", field);
	d = json_number_value(v);
	if (!isfinite(d) || d < min || d > max)
		return err_set(err, API_ERR_INVALID_FIELD, field,
			       "'%s' must be between %g and %g", field, min,
			       max);
	*out = d;
	return 0;
}

int validate_integer(json_t *obj, const char *key, const char *field, long min,
		     long max, bool required, long *out, bool *present,
		     struct err *err)
{
	json_t *v;
	json_int_t i;
	int rc;

	*out = 0;
	*present = false;
	if (!(v = member(obj, key, field, required, &rc, err)))
		return rc;
	if (!json_is_integer(v))
		return err_set(err, API_ERR_INVALID_FIELD, field,
			       "'%s' must be a whole number from %ld to %ld",
			       field, min, max);
	i = json_integer_value(v);
	if (i < min || i > max)
		return err_set(err, API_ERR_INVALID_FIELD, field,
			       "'%s' must be from %ld to %ld", field, min, max);
	*out = (long)i;
	*present = true;
	return 0;
}

int validate_bool(json_t *obj, const char *key, const char *field,
		  bool required, int *out, struct err *err)
{
	json_t *v;
	int rc;

	*out = -1;
	if (!(v = member(obj, key, field, required, &rc, err)))
		return rc;
	if (!json_is_boolean(v))
		return err_set(err, API_ERR_INVALID_FIELD, field,
			       "'%s' must be true or false", field);
	*out = json_is_true(v) ? 1 : 0;
	return 0;
}

int validate_enum(json_t *obj, const char *key, const char *field,
		  const char *const *names, int count, bool required, int *out,
		  struct err *err)
{
	char allowed[192];
	size_t len = 0;
	json_t *v;
	int rc, i;

	*out = 0;
	if (!(v = member(obj, key, field, required, &rc, err)))
		return rc;
	if (json_is_string(v)) {
		for (i = 0; i < count; i++) {
			if (strcmp(json_string_value(v), names[i]) == 0) {
				*out = i + 1;
				return 0;
			}
		}
	}
	allowed[0] = '\0';
	for (i = 0; i < count && len < sizeof(allowed); i++)
		len += snprintf(allowed + len, sizeof(allowed) - len, "%s%s",
				i ? ", " : "", names[i]);
	return err_set(err, API_ERR_INVALID_FIELD, field,
		       "'%s' must be one of: %s", field, allowed);
}

int validate_time(json_t *obj, const char *key, const char *field,
		  bool required, long long *out, struct err *err)
{
	int64_t ms;
	json_t *v;
	int rc;

	*out = 0;
	if (!(v = member(obj, key, field, required, &rc, err)))
		return rc;
	if (!json_is_string(v) ||
	    time_parse_rfc3339(json_string_value(v), &ms) < 0)
		return err_set(err, API_ERR_INVALID_FIELD, field,
			       "cannot parse '%s' as an RFC 3339 time with "
			       "offset, e.g. 2026-11-21T10:00:00Z",
			       field);
	*out = ms;
	return 0;
}
