/* SPDX-License-Identifier: MIT */
/*
 * API-key authentication (Bearer, or Basic with the key as password) and
 * scope checks for routes that need them.
 */
#include "api.h"
#include "app.h"
#include "log.h"
#include "util.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The key of an Authorization header into key (KEY_TEXT_LEN + 1 bytes):
 * "Bearer KEY", or "Basic base64(user:KEY)" as Grafana's datasource
 * settings send it. -1 with err when neither.
 */
static int header_key(const char *h, char *key, struct err *err)
{
	const char *k = NULL;
	char *decoded = NULL, *colon;
	size_t n;
	int rc = -1;

	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		for (k = h + 7; *k == ' '; k++)
			;
	} else if (h && strncasecmp(h, "Basic ", 6) == 0) {
		for (h += 6; *h == ' '; h++)
			;
		decoded = base64_decode(h, strlen(h), &n);
		if (decoded && strlen(decoded) == n &&
		    (colon = strchr(decoded, ':')))
			k = colon + 1;
	} else {
		return err_set(err, API_ERR_UNAUTHORIZED, "Authorization",
			       "send an API key as 'Authorization: Bearer "
			       "KEY' (or Basic auth with the key as password)");
	}
	if (!k ||
	    (strlen(k) != KEY_TEXT_LEN && strlen(k) != KEY_TEXT_LEN_LEGACY)) {
		err_set(err, API_ERR_UNAUTHORIZED, "Authorization",
			"the API key is unknown or revoked");
		goto out;
	}
	memcpy(key, k, strlen(k) + 1);
	rc = 0;
out:
	free(decoded);
	return rc;
}

/*
 * Who the key with SHA-256 hash is: from the cache when it was looked up
 * lately (KEY_CACHE_MS), else from the database (and then cached).
 */
static int identify(struct app *app, const char *hash, double now,
		    struct auth *auth, struct err *err)
{
	if (keycache_get(app->keys, hash, now, auth))
		return 0;
	if (keys_authenticate_hash(app->db, hash, auth, err) < 0)
		return -1;
	keycache_put(app->keys, hash, auth, now);
	return 0;
}

/* 429 with Retry-After (whole seconds, at least 1) after wait_ms. */
static int rate_limited(struct request *req, long wait_ms, struct err *err)
{
	char secs[24];

	snprintf(secs, sizeof(secs), "%ld", (wait_ms + 999) / 1000);
	reply_header(req, "Retry-After", secs);
	return err_set(err, API_ERR_RATE_LIMITED, "Authorization",
		       "this API key is over its rate limit; retry after %s "
		       "s",
		       secs);
}

int api_authorize(struct request *req, int scope, struct err *err)
{
	struct app *app = request_app(req);
	char key[KEY_TEXT_LEN + 1], hash[65], need[32];
	double now = time_mono_ms();
	struct auth *auth;
	struct err ignore;
	long wait;

	if (header_key(request_header(req, "Authorization"), key, err) < 0)
		return -1;
	keys_hash(key, hash);
	OPENSSL_cleanse(key, sizeof(key));
	auth = xcalloc(1, sizeof(*auth));
	if (identify(app, hash, now, auth, err) < 0) {
		free(auth);
		return -1;
	}
	request_set_user(req, auth, free);
	if ((wait = keycache_take(app->keys, hash, now)) > 0)
		return rate_limited(req, wait, err);
	if (keycache_use_due(app->keys, hash, now) &&
	    keys_mark_used(app->db, auth->key_id, &ignore) < 0)
		log_msg(LOG_WARN, "auth", "cannot record the use of key %s: %s",
			auth->key_id, ignore.msg);
	if (!(auth->scopes & scope)) {
		keys_scopes_text(scope, need);
		return err_set(err, API_ERR_FORBIDDEN, "Authorization",
			       "this API key lacks the '%s' scope", need);
	}
	return 0;
}

const struct auth *api_auth(const struct request *req)
{
	return request_user(req);
}
