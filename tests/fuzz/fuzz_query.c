/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: a GET request line's URL ("/v1/kpis?from=...&to=...")
 * through the HTTP layer as far as it goes without a database: path
 * normalisation, the route table (404, 405, path parameters), and for
 * /v1/kpis and /v1/kpis/timeseries the query-string parsing into a struct
 * kpi_query (parse_common, parse_series). Query arguments are split on
 * '&' and '=' as libmicrohttpd splits them. A parsed query must hold what
 * the KPI engine relies on; a refused one names the parameter; every
 * request gets exactly one JSON reply.
 */
#include "http_fake.h"
/* parse_common and parse_series are static: reach them by inclusion */
#include "../../api/kpis.c"

#define MAX_ROUTES 64

static struct auth auth = {
    .key_id = "00000000-0000-4000-8000-000000000001",
    .tenant_id = "00000000-0000-4000-8000-000000000002",
    .tenant_name = "fuzz",
    .scopes = SCOPE_INGEST | SCOPE_READ | SCOPE_ADMIN,
};
static struct http_route routes[MAX_ROUTES];
static struct http_server srv;

static void check_text(const char *v, size_t max, const char *what)
{
	FUZZ_CHECK(v && *v && utf8_valid(v, strlen(v)) &&
		       utf8_len(v, strlen(v)) <= max,
		   "%s is empty, too long or not UTF-8", what);
}

/* What the KPI engine relies on in a query that passed validation. */
static void check_query(const struct kpi_query *q, bool timeseries)
{
	int i, j;

	FUZZ_CHECK(q->tenant_id == auth.tenant_id, "tenant");
	FUZZ_CHECK(q->from_ms < q->to_ms, "from %lld >= to %lld",
		   (long long)q->from_ms, (long long)q->to_ms);
	FUZZ_CHECK(q->window_hours >= 1 && q->window_hours <= 720, "window %ld",
		   q->window_hours);
	FUZZ_CHECK(q->ngroup >= 0 &&
		       q->ngroup <= (timeseries ? 1 : KPI_MAX_GROUP_KEYS),
		   "%d group keys", q->ngroup);
	for (i = 0; i < q->ngroup; i++) {
		FUZZ_CHECK(q->group_by[i] >= 0 &&
			       q->group_by[i] < KPI_KEY_COUNT,
			   "group key %d", q->group_by[i]);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(q->group_by[i] != q->group_by[j],
				   "group key repeated");
	}
	for (i = 0; i < KPI_KEY_COUNT; i++) {
		FUZZ_CHECK(q->filters[i].nin == -1 || q->filters[i].nin == 1,
			   "filter %d has %d values", i, q->filters[i].nin);
		if (q->filters[i].nin == 1)
			check_text(q->filters[i].in[0], 256,
				   kpi_key_name((enum kpi_key)i));
		FUZZ_CHECK(q->filters[i].nout == 0, "exclusions");
	}
	if (q->filters[KPI_KEY_STREAM].nin == 1)
		FUZZ_CHECK(facts_stream_parse(q->filters[KPI_KEY_STREAM].in[0]),
			   "unknown stream");
	if (q->tz)
		check_text(q->tz, 64, "tz");
	if (q->baseline_cohort)
		check_text(q->baseline_cohort, 128, "baseline cohort");
	if (timeseries) {
		FUZZ_CHECK(q->metric && kpi_metric_known(q->metric), "metric");
		FUZZ_CHECK(q->interval == KPI_1H || q->interval == KPI_1D ||
			       q->interval == KPI_1W,
			   "interval %d", (int)q->interval);
	}
}

/* Whether an argument's name decodes to "" ("=1", "%00x=1"). */
static bool has_empty_name(const struct MHD_Connection *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (!c->v[i].key[0] || strncmp(c->v[i].key, "%00", 3) == 0)
			return true;
	return false;
}

/* /v1/kpis and /v1/kpis/timeseries up to the point the database comes in. */
static void kpis(struct request *req, bool timeseries)
{
	const char *values[KPI_KEY_COUNT];
	struct kpi_query q;
	struct err err;

	if (parse_common(req, &q, values, timeseries, &err) < 0 ||
	    (timeseries && parse_series(req, &q, &err) < 0)) {
		fuzz_check_err(&err);
		FUZZ_CHECK(err.code == API_ERR_INVALID_PARAM &&
			       (err.field[0] || has_empty_name(req->conn)),
			   "refused with %s naming '%s'",
			   err_code_word(err.code), err.field);
		reply_error(req, &err);
		return;
	}
	check_query(&q, timeseries);
	reply_json(req, 200, json_object());
}

static void scorecard(struct request *req)
{
	kpis(req, false);
}

static void timeseries(struct request *req)
{
	kpis(req, true);
}

/* Any other route: matched, which is as far as this harness goes. */
static void other(struct request *req)
{
	reply_json(req, 200, json_object());
}

/* The route table of api/routes.c, handlers swapped, keys already checked. */
static void setup(void)
{
	size_t i;

	log_set_level(LOG_ERROR);
	FUZZ_CHECK(api_nroutes <= MAX_ROUTES, "%zu routes", api_nroutes);
	for (i = 0; i < api_nroutes; i++) {
		routes[i] = api_routes[i];
		routes[i].scope = 0;
		if (strcmp(routes[i].pattern, "/v1/kpis") == 0)
			routes[i].handler = scorecard;
		else if (strcmp(routes[i].pattern, "/v1/kpis/timeseries") == 0)
			routes[i].handler = timeseries;
		else
			routes[i].handler = other;
	}
	srv.cfg.routes = routes;
	srv.cfg.nroutes = api_nroutes;
	fake_limits(&srv.cfg);
	srv.cfg.message_prefix = API_GRAFANA_PREFIX;
}

/* "//a//b/" is "/a/b": no empty segment, no final '/', and stable. */
static void check_path(const char *url, const char *path)
{
	char *again = normalize_path(path);
	size_t n = strlen(path);

	FUZZ_CHECK(n <= strlen(url) && !strstr(path, "//") &&
		       (n <= 1 || path[n - 1] != '/') &&
		       strcmp(again, path) == 0,
		   "'%s' normalised to '%s'", url, path);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct MHD_Connection conn = {0};
	char *url = fuzz_text(data, size), *q = strchr(url, '?');
	struct request *req;

	if (!ready++)
		setup();
	if (q) {
		*q++ = '\0';
		fake_args(&conn, q, strlen(q));
	}
	req = fake_request(&srv, &conn, "GET", url, &auth);
	check_path(url, req->path);
	dispatch(req);
	fake_finish(&conn, req);
	fake_conn_release(&conn);
	free(url);
	return 0;
}
