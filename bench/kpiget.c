/* SPDX-License-Identifier: MIT */
/*
 * bench/kpiget: latency of one GET request, repeated on one keep-alive
 * connection: REQUESTS timed runs after one warm-up, fewer when the
 * runs would exceed BUDGET seconds (never fewer than MIN). The last reply
 * is written to OUT for checking. The API key comes from AGENTKPI_KEY.
 *
 *   kpiget --port P --path '/v1/kpis?...' [--requests 20] [--min 3]
 *          [--budget 300] [--warmup 1] [--out FILE]
 *
 * Output: one "RESULT n= p50_ms= p99_ms= min_ms= max_ms= bytes=" line.
 */
#include "bench.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	b_add(arg, p, size * n);
	return size * n;
}

/* One GET; returns its milliseconds, or dies on any failure. */
static double get(CURL *c, struct b_str *body)
{
	long code = 0;
	double t0 = b_now();
	CURLcode rc;

	body->len = 0;
	rc = curl_easy_perform(c);
	t0 = (b_now() - t0) * 1000;
	if (rc != CURLE_OK)
		b_die("GET: %s", curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		b_die("GET: HTTP %ld: %.300s", code, body->s ? body->s : "");
	return t0;
}

int main(int argc, char **argv)
{
	long port = 0, reqs = 20, min = 3, budget = 300, warmup = 1, i, n = 0;
	const char *path = NULL, *out = NULL, *key = getenv("AGENTKPI_KEY");
	struct b_str body = {0}, auth = {0}, url = {0};
	struct curl_slist *hdrs = NULL;
	double *ms, t0, sum = 0, lo, hi;
	CURL *c;
	FILE *f;

	b_prog = "kpiget";
	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port"))
			port = b_num(argv[i], argv[i + 1], 1, 65535);
		else if (!strcmp(argv[i], "--path"))
			path = argv[i + 1];
		else if (!strcmp(argv[i], "--requests"))
			reqs = b_num(argv[i], argv[i + 1], 1, 100000);
		else if (!strcmp(argv[i], "--min"))
			min = b_num(argv[i], argv[i + 1], 1, 100000);
		else if (!strcmp(argv[i], "--budget"))
			budget = b_num(argv[i], argv[i + 1], 1, 86400);
		else if (!strcmp(argv[i], "--warmup"))
			warmup = b_num(argv[i], argv[i + 1], 0, 1);
		else if (!strcmp(argv[i], "--out"))
			out = argv[i + 1];
		else
			b_die("unknown option %s", argv[i]);
	}
	if (!port || !path || i != argc)
		b_die("usage: kpiget --port P --path PATH [--requests N] "
		      "[--min N] [--budget S] [--out FILE]");
	if (!key || !*key)
		b_die("set AGENTKPI_KEY to an API key with scope read");
	b_printf(&url, "http://127.0.0.1:%ld%s", port, path);
	b_printf(&auth, "Authorization: Bearer %s", key);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!(c = curl_easy_init()))
		b_die("curl_easy_init failed");
	hdrs = curl_slist_append(hdrs, auth.s);
	curl_easy_setopt(c, CURLOPT_URL, url.s);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 3600L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	ms = b_malloc((size_t)reqs * sizeof(double));
	if (warmup) /* connection, caches, prepared statements */
		get(c, &body);
	t0 = b_now();
	while (n < reqs) {
		ms[n] = get(c, &body);
		sum += ms[n++];
		/* stop early when the next run would pass the budget */
		if (n >= min &&
		    b_now() - t0 + sum / (double)n / 1000 > (double)budget)
			break;
	}
	if (out) {
		if (!(f = fopen(out, "w")) ||
		    fwrite(body.s, 1, body.len, f) != body.len || fclose(f))
			b_die("cannot write %s", out);
	}
	lo = b_percentile(ms, n, 0);
	hi = ms[n - 1];
	printf("RESULT n=%ld p50_ms=%.1f p99_ms=%.1f min_ms=%.1f max_ms=%.1f "
	       "bytes=%zu\n",
	       n, b_percentile(ms, n, 50), b_percentile(ms, n, 99), lo, hi,
	       body.len);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return 0;
}
