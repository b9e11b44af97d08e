/* SPDX-License-Identifier: MIT */
/*
 * GET /healthz (the process answers) and GET /readyz (the database is
 * reachable and every migration is applied; with the worker's backlog).
 */
#include "api.h"
#include "app.h"
#include "derive.h"
#include "migrate.h"
#include "util.h"

void api_health_get(struct request *req)
{
	struct app *app = request_app(req);
	long counts[API_ERR_COUNT];
	json_t *errors = json_object();
	int i;

	http_error_counts(counts);
	for (i = 1; i < API_ERR_COUNT; i++)
		if (counts[i])
			json_object_set_new(errors, err_code_word(i),
					    json_integer(counts[i]));
	reply_json(
	    req, 200,
	    json_pack("{s:s, s:I, s:I, s:o}", "status", "ok", "uptime_s",
		      (json_int_t)((time_now_ms() - app->started_ms) / 1000),
		      "requests", (json_int_t)http_request_count(), "errors",
		      errors));
}

void api_ready_get(struct request *req)
{
	struct app *app = request_app(req);
	struct err err;
	long backlog;
	int pending;

	if (migrate_pending(app->db, app->cfg.migrations_dir, &pending, &err) <
	    0) {
		err_set(&err, API_ERR_NOT_READY, NULL,
			"the database is not reachable");
		reply_error(req, &err);
		return;
	}
	if (pending > 0) {
		err_set(&err, API_ERR_NOT_READY, NULL,
			"%d migration(s) not applied; run 'agentkpi migrate'",
			pending);
		reply_error(req, &err);
		return;
	}
	if (derive_backlog(app->db, &backlog, &err) < 0) {
		reply_error(req, &err);
		return;
	}
	reply_json(req, 200,
		   json_pack("{s:s, s:s, s:I}", "status", "ready", "database",
			     "ok", "facts_pending", (json_int_t)backlog));
}
