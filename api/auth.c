/* SPDX-License-Identifier: MIT */
/*
 * API-key authentication (Bearer, or Basic with the key as password) and
 * scope checks for routes that need them.
 */
#include "api.h"
#include "app.h"
#include "util.h"

#include <openssl/crypto.h>
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
	if (!k || strlen(k) != KEY_TEXT_LEN) {
		err_set(err, API_ERR_UNAUTHORIZED, "Authorization",
			"the API key is unknown or revoked");
		goto out;
	}
	memcpy(key, k, KEY_TEXT_LEN + 1);
	rc = 0;
out:
	free(decoded);
	return rc;
}

int api_authorize(struct request *req, int scope, struct err *err)
{
	struct app *app = request_app(req);
	char key[KEY_TEXT_LEN + 1], need[32];
	struct auth *auth;
	int rc;

	if (header_key(request_header(req, "Authorization"), key, err) < 0)
		return -1;
	auth = xcalloc(1, sizeof(*auth));
	rc = keys_authenticate(app->db, key, auth, err);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc < 0) {
		free(auth);
		return -1;
	}
	request_set_user(req, auth, free);
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
