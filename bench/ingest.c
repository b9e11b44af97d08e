/* SPDX-License-Identifier: MIT */
/*
 * bench/ingest: load generator for POST /v1/events (agentkpi).
 *
 * Generates synthetic but realistic support conversations (started,
 * customer / ai / human messages, tool calls, handoffs, resolves, reopens,
 * abandons, feedback, quality grades), all before the clock starts, then
 * posts them to http://127.0.0.1:PORT/v1/events over CONNECTIONS
 * keep-alive connections (one thread and one libcurl handle each), BATCH
 * events per request (1: a single JSON object; more: a JSON array).
 *
 * Each thread owns whole conversations and sends their events in time
 * order, as a helpdesk integration would, so connections never contend
 * for the same conversation row. Event and conversation ids embed the run
 * id, so every run adds new data. Every reply's "accepted" is read; the
 * tool exits non-zero unless accepted == sent, with no duplicates, no
 * rejections and no HTTP/transport errors.
 *
 * The API key is read from the environment (AGENTKPI_KEY), not argv.
 * The host is always 127.0.0.1. Every loop is bounded by the event count.
 *
 * Build: cc -O2 -o build/bench/ingest bench/ingest.c \
 *            $(pkg-config --cflags --libs libcurl) -lpthread
 * Usage: AGENTKPI_KEY=ak_... build/bench/ingest --port PORT [--events N]
 *            [--batch B] [--connections C] [--run-id ID] [--end-ms MS]
 *            [--days D] [--customers K] [--seed S] [--label NAME]
 * Output: a human-readable summary, then one "RESULT key=value ..." line.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_EVENTS 20000000L
#define MAX_BATCH 1000
#define MAX_CONNS 64
#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
#define MIN_MS 60000LL

/* -- small helpers ------------------------------------------------------ */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ingest: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_reserve(struct sbuf *b, size_t extra)
{
	if (b->len + extra + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + extra + 1)
			cap *= 2;
		b->s = xrealloc(b->s, cap);
		b->cap = cap;
	}
}

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	sb_reserve(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int attempt = 0; attempt < 2; attempt++) {
		size_t room = b->cap > b->len ? b->cap - b->len : 0;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			die("vsnprintf failed");
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		sb_reserve(b, (size_t)n);
	}
	die("sb_printf: buffer did not grow");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-11-21T10:00:00.123Z" */
static void fmt_ts(long long ms, char out[80])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* -- random numbers (xorshift64*, one state per thread) ----------------- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static double unif(uint64_t *s) /* [0, 1) */
{
	return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static int chance(uint64_t *s, double p)
{
	return unif(s) < p;
}

static long long range(uint64_t *s, long long lo, long long hi) /* [lo,hi] */
{
	return lo + (long long)(unif(s) * (double)(hi - lo + 1));
}

/* Picks an index by weights (they need not sum to 1). */
static int pick(uint64_t *s, const double *w, int n)
{
	double tot = 0, r;
	int i;

	for (i = 0; i < n; i++)
		tot += w[i];
	r = unif(s) * tot;
	for (i = 0; i < n - 1; i++) {
		if (r < w[i])
			return i;
		r -= w[i];
	}
	return n - 1;
}

#define PICK(s, names, weights)                                                \
	(names)[pick((s), (weights), (int)(sizeof(weights) / sizeof(double)))]

/* -- the conversation generator ---------------------------------------- */

static const char *const channels[] = {"chat", "email", "whatsapp", "voice",
				       "web_form"};
static const double channel_w[] = {45, 25, 15, 10, 5};
static const char *const topics[] = {"billing", "shipping",  "returns",
				     "account", "technical", "product",
				     "other"};
static const double topic_w[] = {22, 20, 14, 16, 14, 9, 5};
static const char *const tiers[] = {"free", "pro", "enterprise"};
static const double tier_w[] = {60, 30, 10};
static const char *const languages[] = {"en", "de", "fr", "es", "it"};
static const double language_w[] = {60, 15, 10, 10, 5};
static const char *const areas[] = {"checkout", "subscriptions", "logistics",
				    "mobile_app", "hardware"};
static const double area_w[] = {25, 25, 25, 15, 10};
static const char *const cohorts[] = {"agent-a", "agent-b"};
static const double cohort_w[] = {50, 50};
static const char *const versions[] = {"v1.4.2", "v1.5.0", "v1.5.1"};
static const double version_w[] = {20, 50, 30};
static const char *const tools[] = {"lookup_order", "refund", "reset_password",
				    "track_shipment", "kb_search"};
static const double tool_w[] = {30, 10, 10, 20, 30};
static const char *const reasons[] = {
    "customer_requested", "ai_unable",	    "policy",
    "sensitive",	  "authentication", "other"};
static const double reason_w[] = {35, 30, 12, 8, 10, 5};
static const char *const failures[] = {"knowledge", "reasoning", "tool",
				       "workflow", "communication"};
static const double failure_w[] = {35, 25, 15, 15, 10};

struct gen {
	uint64_t rng;
	const char *run_id;
	int tid;
	long conv_seq;
	long long start_lo, start_span; /* conversation starts, ms */
	long customers;
	/* output: events as JSON objects, back to back */
	struct sbuf ev;
	size_t *off; /* start of event i in ev.s; off[n] = end */
	long n, cap, budget;
	/* the conversation being built */
	char conv_id[96];
	int eseq;
	long long t;
	const char *version;
};

/* Opens an event object with the envelope; the caller adds fields. */
static int ev_begin(struct gen *g, const char *type)
{
	char ts[80];

	if (g->n >= g->budget)
		return 0;
	if (g->n + 1 >= g->cap) {
		g->cap = g->cap ? g->cap * 2 : 1024;
		g->off = xrealloc(g->off, (size_t)g->cap * sizeof(*g->off));
	}
	g->off[g->n] = g->ev.len;
	fmt_ts(g->t, ts);
	sb_printf(&g->ev,
		  "{\"id\":\"%s-e%d\",\"type\":\"%s\",\"conversation_id\":"
		  "\"%s\",\"ts\":\"%s\"",
		  g->conv_id, g->eseq++, type, g->conv_id, ts);
	return 1;
}

static void ev_end(struct gen *g)
{
	sb_add(&g->ev, "}", 1);
	g->n++;
	g->off[g->n] = g->ev.len;
}

static void customer_msg(struct gen *g, double sentiment, int clarify)
{
	if (!ev_begin(g, "message"))
		return;
	sb_printf(&g->ev, ",\"author\":\"customer\"");
	if (sentiment > -2)
		sb_printf(&g->ev, ",\"sentiment\":%.2f", sentiment);
	if (clarify)
		sb_printf(&g->ev, ",\"clarification\":true");
	ev_end(g);
}

static void ai_msg(struct gen *g)
{
	if (!ev_begin(g, "message"))
		return;
	sb_printf(&g->ev,
		  ",\"author\":\"ai\",\"agent_version\":\"%s\","
		  "\"confidence\":%.2f,\"cost_usd\":%.4f",
		  g->version, 0.45 + 0.54 * unif(&g->rng),
		  0.002 + 0.028 * unif(&g->rng));
	ev_end(g);
}

static void human_msg(struct gen *g)
{
	if (!ev_begin(g, "message"))
		return;
	/* human minutes are the expensive part of a conversation */
	sb_printf(&g->ev, ",\"author\":\"human\",\"cost_usd\":%.2f",
		  0.8 + 2.5 * unif(&g->rng));
	ev_end(g);
}

static void tool_call(struct gen *g)
{
	if (!ev_begin(g, "tool_call"))
		return;
	sb_printf(&g->ev, ",\"name\":\"%s\",\"ok\":%s,\"latency_ms\":%lld",
		  PICK(&g->rng, tools, tool_w),
		  chance(&g->rng, 0.95) ? "true" : "false",
		  range(&g->rng, 40, 2500));
	ev_end(g);
}

static void resolved(struct gen *g, const char *by)
{
	if (!ev_begin(g, "resolved"))
		return;
	sb_printf(&g->ev, ",\"by\":\"%s\"", by);
	if (chance(&g->rng, 0.4))
		sb_printf(&g->ev, ",\"confirmed\":true");
	ev_end(g);
}

static void simple(struct gen *g, const char *type)
{
	if (ev_begin(g, type))
		ev_end(g);
}

static void handoff(struct gen *g)
{
	if (!ev_begin(g, "handoff"))
		return;
	sb_printf(&g->ev, ",\"reason\":\"%s\",\"initiated_by\":\"%s\"",
		  PICK(&g->rng, reasons, reason_w),
		  chance(&g->rng, 0.6) ? "ai" : "customer");
	ev_end(g);
}

/* A customer / responder exchange; is_ai picks the responder. */
static void exchange(struct gen *g, int is_ai, double *sentiment)
{
	if (is_ai) {
		g->t += range(&g->rng, 1000, 6000);
		if (chance(&g->rng, 0.4)) {
			tool_call(g);
			g->t += range(&g->rng, 200, 3000);
		}
		ai_msg(g);
	} else {
		g->t += range(&g->rng, 30000, 20 * MIN_MS);
		human_msg(g);
	}
	g->t += range(&g->rng, 10000, 3 * MIN_MS);
	*sentiment += -0.15 + 0.45 * unif(&g->rng);
	if (*sentiment > 1)
		*sentiment = 1;
	if (*sentiment < -1)
		*sentiment = -1;
	customer_msg(g, chance(&g->rng, 0.7) ? *sentiment : -9,
		     chance(&g->rng, 0.1));
}

/* Appends one whole conversation (or its first part, at the budget). */
static void conversation(struct gen *g)
{
	enum { AI_ONLY, HYBRID, HUMAN_ONLY, NONE } kind;
	static const double kind_w[] = {55, 25, 13, 7};
	const char *status_by = NULL;
	double sentiment = -0.8 + 1.2 * unif(&g->rng), r;
	long long day, hour_ms;
	int i, n, ok = 0;

	snprintf(g->conv_id, sizeof(g->conv_id), "%s-t%d-c%ld", g->run_id,
		 g->tid, g->conv_seq++);
	g->eseq = 0;
	g->version = PICK(&g->rng, versions, version_w);
	kind = pick(&g->rng, kind_w, 4);
	/* a day, then a time of day: 80 % of contacts in 07:00-21:00 */
	day = (long long)(unif(&g->rng) * (double)(g->start_span / DAY_MS));
	hour_ms = chance(&g->rng, 0.8)
		      ? 7 * HOUR_MS + (long long)(unif(&g->rng) * 14 * HOUR_MS)
		      : (long long)(unif(&g->rng) * 24 * HOUR_MS);
	g->t = g->start_lo + day * DAY_MS + hour_ms;

	if (!ev_begin(g, "conversation.started"))
		return;
	if (!chance(&g->rng, 0.05)) { /* 5 % anonymous */
		/* 80 % uniform; 20 % skewed towards low numbers, so some
		 * customers come back often */
		double u = unif(&g->rng);

		if (chance(&g->rng, 0.2))
			u *= u;
		sb_printf(&g->ev, ",\"customer_id\":\"cust-%06ld\"",
			  (long)(u * (double)g->customers));
	}
	sb_printf(&g->ev,
		  ",\"agent_version\":\"%s\",\"segment\":{\"channel\":\"%s\","
		  "\"topic\":\"%s\",\"customer_tier\":\"%s\",\"language\":"
		  "\"%s\",\"product_area\":\"%s\",\"cohort\":\"%s\"}",
		  g->version, PICK(&g->rng, channels, channel_w),
		  PICK(&g->rng, topics, topic_w), PICK(&g->rng, tiers, tier_w),
		  PICK(&g->rng, languages, language_w),
		  PICK(&g->rng, areas, area_w),
		  PICK(&g->rng, cohorts, cohort_w));
	ev_end(g);
	g->t += range(&g->rng, 0, 5000);
	customer_msg(g, chance(&g->rng, 0.7) ? sentiment : -9, 0);

	switch (kind) {
	case AI_ONLY:
		n = (int)range(&g->rng, 1, 4);
		for (i = 0; i < n; i++)
			exchange(g, 1, &sentiment);
		r = unif(&g->rng);
		if (r < 0.82)
			status_by = "ai";
		else if (r < 0.95)
			simple(g, "abandoned");
		break;
	case HYBRID:
		n = (int)range(&g->rng, 1, 3);
		for (i = 0; i < n; i++)
			exchange(g, 1, &sentiment);
		g->t += range(&g->rng, 2000, 60000);
		handoff(g);
		n = (int)range(&g->rng, 1, 3);
		for (i = 0; i < n; i++)
			exchange(g, 0, &sentiment);
		r = unif(&g->rng);
		if (r < 0.85)
			status_by = "human";
		else if (r < 0.95)
			simple(g, "abandoned");
		break;
	case HUMAN_ONLY:
		n = (int)range(&g->rng, 1, 4);
		for (i = 0; i < n; i++)
			exchange(g, 0, &sentiment);
		r = unif(&g->rng);
		if (r < 0.8)
			status_by = "human";
		else if (r < 0.9)
			simple(g, "abandoned");
		break;
	case NONE:
		g->t += range(&g->rng, 10 * MIN_MS, 6 * HOUR_MS);
		if (chance(&g->rng, 0.7))
			simple(g, "abandoned");
		break;
	}
	if (status_by) {
		g->t += range(&g->rng, 5000, 5 * MIN_MS);
		resolved(g, status_by);
		ok = 1;
		if (chance(&g->rng, 0.06)) { /* reopened 10 min .. 36 h later */
			g->t += range(&g->rng, 10 * MIN_MS, 36 * HOUR_MS);
			simple(g, "reopened");
			g->t += range(&g->rng, 1000, 60000);
			customer_msg(g, -0.3, 0);
			exchange(g, kind == AI_ONLY, &sentiment);
			if (chance(&g->rng, 0.8)) {
				g->t += range(&g->rng, 5000, 5 * MIN_MS);
				resolved(g, status_by);
			} else {
				ok = 0;
			}
		}
	}
	r = unif(&g->rng);
	if (r < 0.25) { /* feedback: csat on ~20 %, thumbs only on ~5 % */
		g->t += range(&g->rng, MIN_MS, 2 * HOUR_MS);
		if (ev_begin(g, "feedback")) {
			static const double good[] = {3, 4, 12, 35, 46};
			static const double bad[] = {30, 25, 20, 15, 10};
			int csat = 1 + pick(&g->rng, ok ? good : bad, 5);

			if (r < 0.20) {
				sb_printf(&g->ev, ",\"csat\":%d", csat);
				if (chance(&g->rng, 0.3))
					sb_printf(&g->ev, ",\"comment\":\"%s\"",
						  csat >= 4
						      ? "quick and helpful"
						      : "did not solve my "
							"problem");
			} else {
				sb_printf(&g->ev, ",\"thumbs\":\"%s\"",
					  ok && chance(&g->rng, 0.8) ? "up"
								     : "down");
			}
			ev_end(g);
		}
	}
	if (kind != HUMAN_ONLY && kind != NONE && chance(&g->rng, 0.10)) {
		int correct = ok ? chance(&g->rng, 0.9) : chance(&g->rng, 0.4);

		g->t += range(&g->rng, 10 * MIN_MS, 12 * HOUR_MS);
		if (ev_begin(g, "quality")) {
			sb_printf(&g->ev,
				  ",\"grader\":\"llm-judge-v3\","
				  "\"resolution_correct\":%s,"
				  "\"hallucination\":%s,\"score\":%.1f",
				  correct ? "true" : "false",
				  chance(&g->rng, 0.04) ? "true" : "false",
				  correct ? 70 + 30 * unif(&g->rng)
					  : 20 + 50 * unif(&g->rng));
			if (kind == HYBRID)
				sb_printf(
				    &g->ev, ",\"escalation_appropriate\":%s",
				    chance(&g->rng, 0.75) ? "true" : "false");
			if (!correct)
				sb_printf(&g->ev,
					  ",\"failure_category\":\"%s\"",
					  PICK(&g->rng, failures, failure_w));
			ev_end(g);
		}
	}
}

/* -- the load ------------------------------------------------------------ */

struct worker {
	int tid;
	struct gen g;
	/* request bodies, back to back */
	struct sbuf bodies;
	size_t *body_off; /* body i is [body_off[i], body_off[i+1]) */
	long *body_events;
	long nreq;
	/* results */
	double *lat_ms;
	long done, http_errors, transport_errors, bad_replies;
	long long accepted, duplicates, rejected, sent;
	char first_error[256];
	/* shared */
	const char *url, *auth_header;
	pthread_barrier_t *barrier;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	sb_add(arg, p, size * n);
	return size * n;
}

/* The integer after "key": in a compact or spaced JSON reply; -1: absent. */
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
	if (*p < '0' || *p > '9')
		return -1;
	return strtoll(p, NULL, 10);
}

static long count_rejected(const char *s)
{
	long n = 0;
	const char *p = strstr(s, "\"rejected\"");

	if (!p)
		return -1;
	while ((p = strstr(p, "\"index\"")) != NULL) {
		n++;
		p += 7;
	}
	return n;
}

static void build_bodies(struct worker *w, int batch)
{
	long i, j, nreq = (w->g.n + batch - 1) / batch;

	w->body_off = xmalloc((size_t)(nreq + 1) * sizeof(size_t));
	w->body_events = xmalloc((size_t)(nreq ? nreq : 1) * sizeof(long));
	w->nreq = nreq;
	for (i = 0; i < nreq; i++) {
		long first = i * batch, last = first + batch;

		if (last > w->g.n)
			last = w->g.n;
		w->body_off[i] = w->bodies.len;
		w->body_events[i] = last - first;
		if (batch > 1)
			sb_add(&w->bodies, "[", 1);
		for (j = first; j < last; j++) {
			if (j > first)
				sb_add(&w->bodies, ",", 1);
			sb_add(&w->bodies, w->g.ev.s + w->g.off[j],
			       w->g.off[j + 1] - w->g.off[j]);
		}
		if (batch > 1)
			sb_add(&w->bodies, "]", 1);
	}
	w->body_off[nreq] = w->bodies.len;
	w->lat_ms = xmalloc((size_t)(nreq ? nreq : 1) * sizeof(double));
	/* the generated events are no longer needed */
	free(w->g.ev.s);
	free(w->g.off);
	w->g.ev.s = NULL;
	w->g.off = NULL;
}

static void note_error(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->first_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->first_error, sizeof(w->first_error), fmt, ap);
	va_end(ap);
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	struct curl_slist *hdrs = NULL;
	struct sbuf reply = {0};
	CURL *c = curl_easy_init();
	long i, code;

	if (!c)
		die("curl_easy_init failed");
	hdrs = curl_slist_append(hdrs, w->auth_header);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue wait */
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never via a proxy */
	sb_reserve(&reply, 4096);

	pthread_barrier_wait(w->barrier);
	for (i = 0; i < w->nreq; i++) {
		size_t off = w->body_off[i];
		double t0, t1;
		CURLcode rc;
		long long acc, dup, rej;

		reply.len = 0;
		reply.s[0] = '\0';
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, w->bodies.s + off);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(w->body_off[i + 1] - off));
		t0 = now_s();
		rc = curl_easy_perform(c);
		t1 = now_s();
		w->lat_ms[w->done++] = (t1 - t0) * 1000.0;
		w->sent += w->body_events[i];
		if (rc != CURLE_OK) {
			w->transport_errors++;
			note_error(w, "request %ld: %s", i,
				   curl_easy_strerror(rc));
			continue;
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200) {
			w->http_errors++;
			note_error(w, "request %ld: HTTP %ld: %.160s", i, code,
				   reply.s);
			continue;
		}
		acc = json_int(reply.s, "accepted");
		dup = json_int(reply.s, "duplicates");
		rej = count_rejected(reply.s);
		if (acc < 0 || dup < 0 || rej < 0) {
			w->bad_replies++;
			note_error(w, "request %ld: unexpected reply %.160s", i,
				   reply.s);
			continue;
		}
		w->accepted += acc;
		w->duplicates += dup;
		w->rejected += rej;
		if (rej > 0)
			note_error(w, "request %ld: rejected events: %.200s", i,
				   reply.s);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(reply.s);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct(const double *v, long n, double p)
{
	long k;

	if (n == 0)
		return 0;
	k = (long)((p / 100.0) * (double)n + 0.999999) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

static long parse_num(const char *opt, const char *v, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < lo || n > hi)
		die("%s must be an integer from %ld to %ld (got '%s')", opt, lo,
		    hi, v);
	return n;
}

static void usage(void)
{
	fputs("usage: AGENTKPI_KEY=KEY ingest --port PORT [--events N] "
	      "[--batch 1..1000]\n"
	      "         [--connections 1..64] [--run-id ID] [--end-ms MS] "
	      "[--days D]\n"
	      "         [--customers K] [--seed S] [--label NAME]\n"
	      "Posts synthetic conversations to "
	      "http://127.0.0.1:PORT/v1/events.\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	long events = 20000, batch = 100, conns = 4, port = 0, days = 30;
	long customers = -1, seed = 1, i, j, k;
	long long end_ms = -1;
	const char *run_id = NULL, *label = "ingest", *key;
	char url[64], run_buf[64], *auth;
	struct worker *ws;
	pthread_t th[MAX_CONNS];
	pthread_barrier_t barrier;
	struct rusage ru0, ru1;
	double t_gen, t0, t1, secs, *all, cpu;
	long total_req = 0;
	long long sent = 0, accepted = 0, duplicates = 0, rejected = 0;
	long http_errors = 0, transport_errors = 0, bad_replies = 0;
	const char *first_error = "";
	int ok;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage();
		if (!v)
			usage();
		if (!strcmp(a, "--port"))
			port = parse_num(a, v, 1, 65535);
		else if (!strcmp(a, "--events"))
			events = parse_num(a, v, 1, MAX_EVENTS);
		else if (!strcmp(a, "--batch"))
			batch = parse_num(a, v, 1, MAX_BATCH);
		else if (!strcmp(a, "--connections"))
			conns = parse_num(a, v, 1, MAX_CONNS);
		else if (!strcmp(a, "--days"))
			days = parse_num(a, v, 3, 365);
		else if (!strcmp(a, "--customers"))
			customers = parse_num(a, v, 1, 100000000);
		else if (!strcmp(a, "--seed"))
			seed = parse_num(a, v, 0, LONG_MAX);
		else if (!strcmp(a, "--end-ms"))
			end_ms = parse_num(a, v, 0, LONG_MAX);
		else if (!strcmp(a, "--run-id"))
			run_id = v;
		else if (!strcmp(a, "--label"))
			label = v;
		else
			usage();
		i++;
	}
	if (!port)
		usage();
	if (!(key = getenv("AGENTKPI_KEY")) || !*key)
		die("set AGENTKPI_KEY to an API key with scope ingest");
	if (end_ms < 0)
		end_ms = wall_ms();
	if (customers < 0) /* ~10 conversations per customer over the run */
		customers = events / 100 > 10 ? events / 100 : 10;
	if (!run_id) {
		snprintf(run_buf, sizeof(run_buf), "r%llx",
			 (unsigned long long)wall_ms());
		run_id = run_buf;
	}
	if (strlen(run_id) > 40 ||
	    strspn(run_id, "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789-_.") != strlen(run_id))
		die("--run-id: up to 40 letters, digits, '-', '_', '.'");
	snprintf(url, sizeof(url), "http://127.0.0.1:%ld/v1/events", port);
	auth = xmalloc(strlen(key) + 32);
	sprintf(auth, "Authorization: Bearer %s", key);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("curl_global_init failed");

	/* 1. generate every event and request body before the clock starts */
	t_gen = now_s();
	ws = calloc((size_t)conns, sizeof(*ws));
	if (!ws)
		die("out of memory");
	pthread_barrier_init(&barrier, NULL, (unsigned)conns + 1);
	for (i = 0; i < conns; i++) {
		struct worker *w = &ws[i];

		w->tid = (int)i;
		w->url = url;
		w->auth_header = auth;
		w->barrier = &barrier;
		w->g.rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(seed + 1) +
			   0xBF58476D1CE4E5B9ULL * (uint64_t)(i + 1);
		if (!w->g.rng)
			w->g.rng = 1;
		w->g.run_id = run_id;
		w->g.tid = (int)i;
		w->g.customers = customers;
		/* starts in [end - days, end - 2 days): follow-ups (reopens,
		 * feedback, grades) then land before end_ms */
		w->g.start_lo = end_ms - days * DAY_MS;
		w->g.start_span = (days - 2) * DAY_MS;
		w->g.budget = events / conns + (i < events % conns ? 1 : 0);
		while (w->g.n < w->g.budget)
			conversation(&w->g);
		build_bodies(w, (int)batch);
	}
	t_gen = now_s() - t_gen;

	/* 2. post */
	for (i = 0; i < conns; i++)
		if (pthread_create(&th[i], NULL, run_worker, &ws[i]))
			die("pthread_create failed");
	getrusage(RUSAGE_SELF, &ru0);
	pthread_barrier_wait(&barrier);
	t0 = now_s();
	for (i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	getrusage(RUSAGE_SELF, &ru1);
	secs = t1 - t0;
	cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
	      (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
	      (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;

	/* 3. report */
	for (i = 0; i < conns; i++)
		total_req += ws[i].done;
	all = xmalloc((size_t)(total_req ? total_req : 1) * sizeof(double));
	for (i = 0, k = 0; i < conns; i++) {
		for (j = 0; j < ws[i].done; j++)
			all[k++] = ws[i].lat_ms[j];
		sent += ws[i].sent;
		accepted += ws[i].accepted;
		duplicates += ws[i].duplicates;
		rejected += ws[i].rejected;
		http_errors += ws[i].http_errors;
		transport_errors += ws[i].transport_errors;
		bad_replies += ws[i].bad_replies;
		if (!first_error[0] && ws[i].first_error[0])
			first_error = ws[i].first_error;
	}
	qsort(all, (size_t)total_req, sizeof(double), cmp_double);
	ok = sent == events && accepted == sent && duplicates == 0 &&
	     rejected == 0 && http_errors == 0 && transport_errors == 0 &&
	     bad_replies == 0;

	printf("%s: %lld events in %ld requests (batch %ld, %ld connections)"
	       " in %.2f s (generated in %.2f s)\n",
	       label, sent, total_req, batch, conns, secs, t_gen);
	printf("  throughput: %.0f events/s, %.1f requests/s\n",
	       (double)sent / secs, (double)total_req / secs);
	printf("  latency per request: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms,"
	       " max %.2f ms\n",
	       pct(all, total_req, 50), pct(all, total_req, 90),
	       pct(all, total_req, 99), total_req ? all[total_req - 1] : 0.0);
	printf("  check: sent %lld, accepted %lld, duplicates %lld, rejected "
	       "%lld, HTTP errors %ld, transport errors %ld: %s\n",
	       sent, accepted, duplicates, rejected, http_errors,
	       transport_errors + bad_replies,
	       ok ? "OK (accepted == sent)" : "MISMATCH");
	if (first_error[0])
		printf("  first error: %s\n", first_error);
	printf("  client CPU: %.2f s (%.2f cores)\n", cpu, cpu / secs);
	printf("RESULT label=%s events=%lld requests=%ld batch=%ld "
	       "connections=%ld seconds=%.3f events_per_s=%.0f "
	       "requests_per_s=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f "
	       "max_ms=%.2f accepted=%lld duplicates=%lld rejected=%lld "
	       "http_errors=%ld transport_errors=%ld client_cpu_s=%.2f "
	       "ok=%d\n",
	       label, sent, total_req, batch, conns, secs, (double)sent / secs,
	       (double)total_req / secs, pct(all, total_req, 50),
	       pct(all, total_req, 90), pct(all, total_req, 99),
	       total_req ? all[total_req - 1] : 0.0, accepted, duplicates,
	       rejected, http_errors, transport_errors + bad_replies, cpu, ok);

	for (i = 0; i < conns; i++) {
		free(ws[i].bodies.s);
		free(ws[i].body_off);
		free(ws[i].body_events);
		free(ws[i].lat_ms);
	}
	free(ws);
	free(all);
	free(auth);
	pthread_barrier_destroy(&barrier);
	curl_global_cleanup();
	return ok ? 0 : 1;
}
