/* SPDX-License-Identifier: MIT */
/*
 * bench/ingest: HTTP load generator for POST /v1/events.
 *
 * Builds every request body before the clock starts from the shared
 * generator (gen.c), one stream per connection, then posts them over
 * CONNECTIONS keep-alive connections (a thread and a libcurl handle
 * each), BATCH events per request (1: an object; more: an array).
 *
 * Arrival is realistic, not tidy: 3 % of events come just before their
 * predecessor (out of order), 2 % arrive 200-2000 events late, and 1 % are
 * sent again 1-300 events later (re-sends with the same id). Each stream
 * owns its conversations, so connections do not contend for them. The
 * tool exits non-zero unless every event came back as accepted or
 * duplicate, accepted + duplicates == sent, duplicates == the re-sends
 * (copies of an id sent before), with no rejection or HTTP error.
 *
 * The API key comes from AGENTKPI_KEY, never argv. The host is 127.0.0.1.
 * Output: a summary, then one "RESULT key=value ..." line.
 */
#include "gen.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_CONNS 64
#define MAX_BATCH 1000

/* One event in arrival order: a copy of event idx of the stream. */
struct arrival {
	int64_t key;
	long idx;
};

struct worker {
	/* the stream's events, in generation order */
	struct b_str ev;
	size_t *off;
	long n;
	/* arrival order and request bodies */
	struct arrival *arr;
	long narr;
	struct b_str bodies;
	size_t *body_off;
	long *body_first;
	long nreq;
	/* results */
	double *lat_ms;
	long done, http_errors, transport_errors, bad_replies;
	long long accepted, duplicates, rejected, sent, expect_dup;
	char first_error[256];
	/* shared */
	const char *url, *auth_header;
	double deadline;
	pthread_barrier_t *barrier;
};

static int cmp_arrival(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void generate(struct worker *w, const struct gen_config *cfg, int stream,
		     long budget)
{
	struct gen g;
	long cap = 0, i, k;
	uint64_t rng = cfg->seed * 7919 + (uint64_t)stream + 17;
	double u;

	gen_init(&g, cfg, stream);
	while (w->n < budget) {
		gen_next(&g, (int)(budget - w->n < GEN_MAX_EVENTS
				       ? budget - w->n
				       : GEN_MAX_EVENTS));
		if (w->n + g.conv.n + 1 > cap) {
			cap = cap ? cap * 2 : 4096;
			w->off =
			    b_realloc(w->off, (size_t)cap * sizeof(size_t));
		}
		for (i = 0; i < g.conv.n; i++) {
			w->off[w->n++] = w->ev.len;
			b_add(&w->ev, g.conv.json.s + g.conv.off[i],
			      g.conv.off[i + 1] - g.conv.off[i]);
		}
		w->off[w->n] = w->ev.len;
	}
	gen_free(&g);
	/* arrival order: keys 4k, shifted for the few that misbehave */
	w->arr = b_malloc((size_t)(w->n * 2 + 1) * sizeof(*w->arr));
	for (k = 0; k < w->n; k++) {
		int64_t key = 4 * (int64_t)k;

		u = gen_unif(&rng);
		if (u < 0.03 && k > 0)
			key = 4 * (int64_t)(k - 1) - 1;
		else if (u < 0.05)
			key = 4 * (k + 200 + (int64_t)(gen_unif(&rng) * 1800)) +
			      1;
		w->arr[w->narr++] = (struct arrival){key, k};
		if (gen_unif(&rng) < 0.01)
			w->arr[w->narr++] = (struct arrival){
			    4 * (k + 1 + (int64_t)(gen_unif(&rng) * 300)) + 2,
			    k};
	}
	qsort(w->arr, (size_t)w->narr, sizeof(*w->arr), cmp_arrival);
}

static void build_bodies(struct worker *w, int batch)
{
	long i, j, nreq = (w->narr + batch - 1) / batch;

	w->body_off = b_malloc((size_t)(nreq + 1) * sizeof(size_t));
	w->body_first = b_malloc((size_t)(nreq + 1) * sizeof(long));
	w->lat_ms = b_malloc((size_t)(nreq + 1) * sizeof(double));
	w->nreq = nreq;
	for (i = 0; i < nreq; i++) {
		long first = i * batch, last = first + batch;

		if (last > w->narr)
			last = w->narr;
		w->body_off[i] = w->bodies.len;
		w->body_first[i] = first;
		if (batch > 1)
			b_add(&w->bodies, "[", 1);
		for (j = first; j < last; j++) {
			long k = w->arr[j].idx;

			if (j > first)
				b_add(&w->bodies, ",", 1);
			b_add(&w->bodies, w->ev.s + w->off[k],
			      w->off[k + 1] - w->off[k]);
		}
		if (batch > 1)
			b_add(&w->bodies, "]", 1);
	}
	w->body_off[nreq] = w->bodies.len;
	w->body_first[nreq] = w->narr;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	b_add(arg, p, size * n);
	return size * n;
}

/* The integer after "key": in a JSON reply; -1 when absent. */
static long long json_int(const char *s, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if (!(p = strstr(s, pat)))
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	return *p >= '0' && *p <= '9' ? strtoll(p, NULL, 10) : -1;
}

static void note_error(struct worker *w, const char *what, long i,
		       const char *detail)
{
	if (!w->first_error[0])
		snprintf(w->first_error, sizeof(w->first_error),
			 "request %ld: %s: %.160s", i, what, detail);
}

/* Counts the events of request i that repeat an id sent before. */
static void count_resends(struct worker *w, long i, unsigned char *seen)
{
	long j;

	for (j = w->body_first[i]; j < w->body_first[i + 1]; j++) {
		if (seen[w->arr[j].idx])
			w->expect_dup++;
		seen[w->arr[j].idx] = 1;
	}
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	struct curl_slist *hdrs = NULL;
	struct b_str reply = {0};
	unsigned char *seen = calloc((size_t)w->n + 1, 1);
	CURL *c = curl_easy_init();
	long i, code;

	if (!c || !seen)
		b_die("out of memory");
	hdrs = curl_slist_append(hdrs, w->auth_header);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	b_add(&reply, "", 0);
	pthread_barrier_wait(w->barrier);
	for (i = 0; i < w->nreq && b_now() < w->deadline; i++) {
		double t0;
		long long acc, dup;
		CURLcode rc;

		reply.len = 0;
		reply.s[0] = '\0';
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
				 w->bodies.s + w->body_off[i]);
		curl_easy_setopt(
		    c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(w->body_off[i + 1] - w->body_off[i]));
		t0 = b_now();
		rc = curl_easy_perform(c);
		w->lat_ms[w->done++] = (b_now() - t0) * 1000.0;
		w->sent += w->body_first[i + 1] - w->body_first[i];
		count_resends(w, i, seen);
		if (rc != CURLE_OK) {
			w->transport_errors++;
			note_error(w, "transport", i, curl_easy_strerror(rc));
			continue;
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200) {
			w->http_errors++;
			note_error(w, "HTTP error", i, reply.s);
			continue;
		}
		acc = json_int(reply.s, "accepted");
		dup = json_int(reply.s, "duplicates");
		if (acc < 0 || dup < 0 || !strstr(reply.s, "\"rejected\"")) {
			w->bad_replies++;
			note_error(w, "unexpected reply", i, reply.s);
			continue;
		}
		w->accepted += acc;
		w->duplicates += dup;
		if (strstr(reply.s, "\"index\"")) {
			w->rejected++;
			note_error(w, "rejected events", i, reply.s);
		}
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(reply.s);
	free(seen);
	return NULL;
}

static void usage(void)
{
	fputs("usage: AGENTKPI_KEY=KEY ingest --port PORT --events N "
	      "[--batch 1..1000]\n"
	      "         [--connections 1..64] [--seconds S] [--label NAME] "
	      "GENERATOR\n"
	      "GENERATOR: --prefix P --seed S --end-ms MS --days D "
	      "--customers K [--light]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct gen_config cfg = {.prefix = "r", .seed = 1, .customers = 1000};
	long events = 20000, batch = 100, conns = 4, port = 0, days = 90;
	long seconds = 0, i, j, k, total_req = 0, errors = 0;
	int64_t end_ms = b_wall_ms();
	const char *label = "ingest", *key, *first_error = "";
	char url[64], *auth;
	struct worker *ws;
	pthread_t th[MAX_CONNS];
	pthread_barrier_t barrier;
	struct rusage ru0, ru1;
	double t0, secs, *all, cpu, p50, p99;
	long long sent = 0, accepted = 0, dups = 0, expect = 0, rejected = 0;
	int ok;

	b_prog = "ingest";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--light")) {
			cfg.light = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--port"))
			port = b_num(a, v, 1, 65535);
		else if (!strcmp(a, "--events"))
			events = b_num(a, v, 1, 50000000);
		else if (!strcmp(a, "--batch"))
			batch = b_num(a, v, 1, MAX_BATCH);
		else if (!strcmp(a, "--connections"))
			conns = b_num(a, v, 1, MAX_CONNS);
		else if (!strcmp(a, "--seconds"))
			seconds = b_num(a, v, 0, 86400);
		else if (!strcmp(a, "--label"))
			label = v;
		else if (!gen_option(&cfg, a, v, &end_ms, &days))
			usage();
		i++;
	}
	if (!port)
		usage();
	if (!(key = getenv("AGENTKPI_KEY")) || !*key)
		b_die("set AGENTKPI_KEY to an API key with scope ingest");
	/* starts in [end - days, end - 2 days): follow-ups land before end */
	cfg.start_ms = end_ms - days * 86400000LL;
	cfg.span_ms = (days - 2) * 86400000LL;
	snprintf(url, sizeof(url), "http://127.0.0.1:%ld/v1/events", port);
	auth = b_malloc(strlen(key) + 32);
	sprintf(auth, "Authorization: Bearer %s", key);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		b_die("curl_global_init failed");

	ws = calloc((size_t)conns, sizeof(*ws));
	if (!ws)
		b_die("out of memory");
	pthread_barrier_init(&barrier, NULL, (unsigned)conns + 1);
	for (i = 0; i < conns; i++) {
		ws[i].url = url;
		ws[i].auth_header = auth;
		ws[i].barrier = &barrier;
		generate(&ws[i], &cfg, (int)i,
			 gen_budget(events, (int)conns, (int)i));
		build_bodies(&ws[i], (int)batch);
	}
	for (i = 0; i < conns; i++)
		if (pthread_create(&th[i], NULL, run_worker, &ws[i]))
			b_die("pthread_create failed");
	getrusage(RUSAGE_SELF, &ru0);
	t0 = b_now();
	for (i = 0; i < conns; i++)
		ws[i].deadline = seconds ? t0 + (double)seconds : 1e300;
	pthread_barrier_wait(&barrier);
	for (i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	secs = b_now() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec +
		       ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
		       ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) /
		  1e6;

	for (i = 0; i < conns; i++)
		total_req += ws[i].done;
	all = b_malloc((size_t)(total_req + 1) * sizeof(double));
	for (i = 0, k = 0; i < conns; i++) {
		for (j = 0; j < ws[i].done; j++)
			all[k++] = ws[i].lat_ms[j];
		sent += ws[i].sent;
		accepted += ws[i].accepted;
		dups += ws[i].duplicates;
		expect += ws[i].expect_dup;
		rejected += ws[i].rejected;
		errors += ws[i].http_errors + ws[i].transport_errors +
			  ws[i].bad_replies;
		if (!first_error[0] && ws[i].first_error[0])
			first_error = ws[i].first_error;
	}
	p50 = b_percentile(all, total_req, 50);
	p99 = b_percentile(all, total_req, 99);
	ok = sent > 0 && accepted + dups == sent && dups == expect &&
	     rejected == 0 && errors == 0;
	printf("%s: %lld events in %ld requests (batch %ld, %ld connections) "
	       "in %.2f s: %.0f events/s, %.1f requests/s, p50 %.2f ms, "
	       "p99 %.2f ms\n",
	       label, sent, total_req, batch, conns, secs, (double)sent / secs,
	       (double)total_req / secs, p50, p99);
	printf("  check: sent %lld = accepted %lld + duplicates %lld; "
	       "re-sends %lld; errors %ld: %s\n",
	       sent, accepted, dups, expect, errors, ok ? "OK" : "MISMATCH");
	if (first_error[0])
		printf("  first error: %s\n", first_error);
	printf("RESULT label=%s events=%lld requests=%ld batch=%ld "
	       "connections=%ld seconds=%.3f events_per_s=%.0f "
	       "requests_per_s=%.1f p50_ms=%.2f p99_ms=%.2f accepted=%lld "
	       "duplicates=%lld resends=%lld errors=%ld client_cpu_s=%.2f "
	       "ok=%d\n",
	       label, sent, total_req, batch, conns, secs, (double)sent / secs,
	       (double)total_req / secs, p50, p99, accepted, dups, expect,
	       errors, cpu, ok);
	return ok ? 0 : 1;
}
