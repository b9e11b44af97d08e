/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: a POST /grafana/query body through the HTTP layer's
 * body collection, grafana_body and the pure step of the handler
 * (parse_query: range and targets, payloads, ad hoc filters), then each
 * time series target's choice of buckets; everything short of the
 * database. A parsed target must hold what the KPI engine relies on; a
 * refused body names what is wrong; every request gets one JSON reply.
 */
#include "http_fake.h"
/* parse_query and struct target are static: reach them by inclusion */
#include "../../api/grafana_query.c"

static struct auth auth = {
    .key_id = "00000000-0000-4000-8000-000000000001",
    .tenant_id = "00000000-0000-4000-8000-000000000002",
    .tenant_name = "fuzz",
    .scopes = SCOPE_READ,
};
/* what request_app gives the handlers: MAX_JSON_DEPTH at its default */
static struct app app = {.cfg = {.max_json_depth = 32}};
static struct http_server srv = {
    .cfg = {.max_body_bytes = 1048576,
	    .max_url_bytes = 8192,
	    .max_header_bytes = 16384,
	    .max_query_params = 64,
	    .message_prefix = API_GRAFANA_PREFIX,
	    .app = &app},
};

static void check_text(const char *v, size_t max, const char *what)
{
	FUZZ_CHECK(v && *v && utf8_valid(v, strlen(v)) &&
		       utf8_len(v, strlen(v)) <= max,
		   "%s is empty, too long or not UTF-8", what);
}

static void check_set(const struct target *t, int k)
{
	const struct fset *f = &t->sets[k];
	const struct kpi_filter *qf = &t->q.filters[k];
	int i;

	FUZZ_CHECK(f->nin >= -1 && f->nin <= MAX_FILTER_VALUES && f->nout >= 0,
		   "%s: %d values in, %d out", t->field, f->nin, f->nout);
	FUZZ_CHECK(qf->nin == f->nin && qf->nout == f->nout &&
		       (const void *)qf->in == (const void *)f->in &&
		       (const void *)qf->out == (const void *)f->out,
		   "%s: the query's filter is not the target's", t->field);
	for (i = 0; i < f->nin; i++) {
		check_text(f->in[i], 256, kpi_key_name((enum kpi_key)k));
		FUZZ_CHECK(k != KPI_KEY_STREAM || facts_stream_parse(f->in[i]),
			   "unknown stream '%s'", f->in[i]);
	}
	for (i = 0; i < f->nout; i++)
		FUZZ_CHECK(f->out[i] &&
			       utf8_len(f->out[i], strlen(f->out[i])) <= 256,
			   "%s: excluded value", t->field);
}

static void check_target(const struct target *t)
{
	long iv = t->interval_ms;
	int i, j;

	FUZZ_CHECK(t->metric && strncmp(t->field, "targets[", 8) == 0,
		   "target %d", t->index);
	if (!t->m) {
		FUZZ_CHECK(strcmp(t->metric, GRAFANA_ANNOTATIONS) == 0,
			   "no metric for '%s'", t->metric);
		return;
	}
	FUZZ_CHECK(t->q.metric == t->m->name &&
		       grafana_list_has(t->m->stats, t->stat),
		   "%s: stat", t->field);
	FUZZ_CHECK(t->q.window_hours >= 1 && t->q.window_hours <= 720,
		   "%s: window %ld", t->field, t->q.window_hours);
	FUZZ_CHECK(iv == 0 || iv == HOUR_MS || iv == 24 * HOUR_MS ||
		       iv == 7 * 24 * HOUR_MS,
		   "%s: interval %ld", t->field, iv);
	FUZZ_CHECK(t->q.ngroup >= 0 &&
		       t->q.ngroup <= (t->table ? KPI_MAX_GROUP_KEYS : 1),
		   "%s: %d group keys", t->field, t->q.ngroup);
	for (i = 0; i < t->q.ngroup; i++) {
		FUZZ_CHECK(t->q.group_by[i] >= 0 &&
			       t->q.group_by[i] < KPI_KEY_COUNT,
			   "%s: group key %d", t->field, t->q.group_by[i]);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(t->q.group_by[i] != t->q.group_by[j],
				   "%s: group key repeated", t->field);
	}
	if (t->q.tz)
		check_text(t->q.tz, 64, "tz");
	if (t->alias)
		check_text(t->alias, 128, "alias");
	if (t->q.baseline_cohort)
		check_text(t->q.baseline_cohort, 128, "baseline cohort");
	for (i = 0; i < KPI_KEY_COUNT; i++)
		check_set(t, i);
}

/* Parses body as the handler does and replies as it would without data. */
static void query(struct request *req, struct target *ts, size_t *n)
{
	struct query qr = {0, 0, 0, 0, 32}; /* MAX_JSON_DEPTH's default */
	json_t *body = NULL;
	struct err err;
	size_t i;

	if (grafana_body(req, &body, &err) < 0 ||
	    parse_query(body, ts, n, &qr, &err) < 0)
		goto fail;
	if (*n)
		FUZZ_CHECK(qr.from_ms < qr.to_ms && qr.max_points >= 1 &&
			       qr.max_points <= KPI_MAX_GROUPS,
			   "range or maxDataPoints");
	for (i = 0; i < *n; i++) {
		check_target(&ts[i]);
		if (ts[i].m && !ts[i].table &&
		    choose_interval(&ts[i], &qr, &err) < 0)
			goto fail;
	}
	json_decref(body);
	reply_json(req, 200, json_array());
	return;
fail:
	fuzz_check_err(&err);
	FUZZ_CHECK((err.code == API_ERR_INVALID_JSON ||
		    err.code == API_ERR_INVALID_PARAM) &&
		       err.field[0],
		   "refused with %s naming '%s'", err_code_word(err.code),
		   err.field);
	json_decref(body);
	reply_error(req, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct MHD_Connection conn = {0};
	struct target *ts = xcalloc(MAX_TARGETS, sizeof(*ts));
	struct request *req;
	size_t i, n = 0;

	if (!ready++)
		log_set_level(LOG_ERROR);
	req = fake_request(&srv, &conn, "POST", "/grafana/query", &auth);
	if (size)
		body_append(req, (const char *)data, size);
	query(req, ts, &n);
	for (i = 0; i < n; i++)
		target_free(&ts[i]);
	free(ts);
	fake_finish(&conn, req);
	fake_conn_release(&conn);
	return 0;
}
