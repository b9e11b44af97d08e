/* SPDX-License-Identifier: MIT */
/*
 * Bearer-key authentication and scope checks for routes that need them.
 */
#include "api.h"
#include "app.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int api_authorize(struct request *req, int scope, struct err *err)
{
	struct app *app = request_app(req);
	const char *h = request_header(req, "Authorization");
	struct auth *auth;
	char need[32];

	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7])
		return err_set(err, API_ERR_UNAUTHORIZED, "Authorization",
			       "send an API key as 'Authorization: Bearer "
			       "KEY'");
	h += 7;
	while (*h == ' ')
		h++;
	if (strlen(h) != KEY_TEXT_LEN)
		return err_set(err, API_ERR_UNAUTHORIZED, "Authorization",
			       "the API key is unknown or revoked");
	auth = xcalloc(1, sizeof(*auth));
	if (keys_authenticate(app->db, h, auth, err) < 0) {
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
