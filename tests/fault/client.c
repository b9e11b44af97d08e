/* SPDX-License-Identifier: MIT */
/*
 * tests/fault/client: the load behind tests/fault/run.sh and make soak.
 *
 * Ingest mode (default): THREADS threads post batches of events with ids
 * unique to the run (PREFIX-THREAD-N), five events per conversation. A
 * request that fails (no answer, or any status but 200) is sent again
 * with the same body, so the same ids, after the reply's Retry-After or a
 * short backoff, until it is answered 200 or DEADLINE seconds passed.
 * The ids of every event acknowledged with 200 go to --acked, those of
 * every event sent to --sent, the conversation ids to --convs.
 *
 * Read mode (--read, repeatable): GET or POST the given paths in turn.
 *
 * New requests stop after --seconds, after --batches per thread, or once
 * --stop-file exists; requests under way are still retried to the end.
 * --rate paces the requests (all threads together); --minutes writes
 * per-minute latency percentiles. The API key comes from AGENTKPI_KEY.
 * Output: a summary, then one "RESULT key=value ..." line. Exit 1 when a
 * request was given up on or a 200 reply did not account for its events.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_READS 16
#define CONV_LEN 5 /* events per conversation */

struct buf {
	char *s;
	size_t len, cap;
};

/* One attempt: when it started (s since start), how long, answered ok. */
struct sample {
	float t_s;
	float ms;
	bool ok;
};

struct opts {
	int port, threads, batch;
	double seconds, rate, deadline;
	long batches;
	const char *prefix, *acked, *sent, *convs, *minutes, *stop_file;
	const char *read_method[MAX_READS], *read_path[MAX_READS];
	const char *read_body[MAX_READS];
	int nreads;
	char auth[256];
};

struct thread {
	int id;
	const struct opts *o;
	double t0;
	pthread_t th;
	struct buf acked, sent, convs;
	struct sample *samples;
	long nsamples, capsamples;
	/* counts */
	long requests, attempts, retries, ok, gave_up, bad_replies;
	long s503, s503_retry_after, other_status, transport;
	long long events_acked, accepted, duplicates;
	double s503_max_ms, max_retry_span_ms;
	char first_problem[256];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		die("line too long");
	buf_add(b, tmp, (size_t)n);
}

static void note(struct thread *t, const char *fmt, ...)
{
	va_list ap;

	if (t->first_problem[0])
		return;
	va_start(ap, fmt);
	vsnprintf(t->first_problem, sizeof(t->first_problem), fmt, ap);
	va_end(ap);
}

static void add_sample(struct thread *t, double t_s, double ms, bool ok)
{
	if (t->nsamples == t->capsamples) {
		t->capsamples = t->capsamples ? t->capsamples * 2 : 4096;
		t->samples = xrealloc(t->samples, (size_t)t->capsamples *
						      sizeof(*t->samples));
	}
	t->samples[t->nsamples++] = (struct sample){(float)t_s, (float)ms, ok};
}

/* -- the body of one request ------------------------------------------- */

/* The time now as 2026-11-21T10:00:00.123Z (out: 32 bytes or more). */
static void rfc3339_now(char *out)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 8, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

/* Events seq .. seq+n-1 of thread t, as an object (n 1) or an array. */
static void build_batch(struct thread *t, long seq, int n, struct buf *body)
{
	const char *p = t->o->prefix;
	char ts[40];
	long k;

	body->len = 0;
	rfc3339_now(ts);
	if (n > 1)
		buf_add(body, "[", 1);
	for (k = seq; k < seq + n; k++) {
		long conv = k / CONV_LEN, pos = k % CONV_LEN;

		if (k > seq)
			buf_add(body, ",", 1);
		if (pos == 0) {
			buf_printf(body,
				   "{\"id\":\"%s-%d-%ld\",\"type\":"
				   "\"conversation.started\",\"conversation_"
				   "id\":\"%s-c%d-%ld\",\"ts\":\"%s\","
				   "\"customer_id\":\"cust-%ld\","
				   "\"segment\":{\"channel\":\"chat\"}}",
				   p, t->id, k, p, t->id, conv, ts, conv % 97);
			buf_printf(&t->convs, "%s-c%d-%ld\n", p, t->id, conv);
		} else {
			buf_printf(body,
				   "{\"id\":\"%s-%d-%ld\",\"type\":\"message\","
				   "\"conversation_id\":\"%s-c%d-%ld\","
				   "\"ts\":\"%s\",\"author\":\"%s\"}",
				   p, t->id, k, p, t->id, conv, ts,
				   pos % 2 ? "customer" : "ai");
		}
	}
	if (n > 1)
		buf_add(body, "]", 1);
}

/* -- HTTP -------------------------------------------------------------- */

struct reply {
	struct buf body;
	long retry_after; /* -1: none */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	buf_add(&r->body, p, size * n);
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	if (size * n > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
		r->retry_after = strtol(p + 12, NULL, 10);
	return size * n;
}

/*
 * Checks a 200 reply to a batch of n events: accepted + duplicates == n
 * and nothing rejected. Adds the counts to t; false when it does not add
 * up.
 */
static bool check_ingest_reply(struct thread *t, const char *body, int n)
{
	json_int_t acc = -1, dup = -1;
	json_t *doc = json_loads(body, 0, NULL), *rej = NULL;
	bool good;

	if (doc)
		json_unpack(doc, "{s:I, s:I, s:o}", "accepted", &acc,
			    "duplicates", &dup, "rejected", &rej);
	good = acc >= 0 && dup >= 0 && acc + dup == n && json_is_array(rej) &&
	       json_array_size(rej) == 0;
	if (good) {
		t->accepted += acc;
		t->duplicates += dup;
	} else {
		note(t, "200 reply does not account for %d events: %.150s", n,
		     body);
	}
	json_decref(doc);
	return good;
}

/*
 * Sends one request until it is answered 200 (true) or the deadline
 * passes (false). n: events in the body (0: a read).
 */
static bool send_until_ok(struct thread *t, CURL *c, const char *method,
			  const char *path, const char *body, size_t len, int n)
{
	const struct opts *o = t->o;
	struct reply r = {{0}, -1};
	double first = now_s(), start = first, ms, wait = 0.1;
	char url[2048];
	long code;
	CURLcode rc;
	bool done = false;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", o->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	t->requests++;
	for (;;) {
		r.body.len = 0;
		buf_add(&r.body, "", 0);
		r.retry_after = -1;
		start = now_s();
		t->attempts++;
		rc = curl_easy_perform(c);
		ms = (now_s() - start) * 1000;
		code = 0;
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		add_sample(t, start - t->t0, ms, code == 200);
		if (code == 200) {
			t->ok++;
			if (n && !check_ingest_reply(t, r.body.s, n))
				t->bad_replies++;
			done = true;
			break;
		}
		if (rc != CURLE_OK) {
			t->transport++;
		} else if (code == 503) {
			t->s503++;
			if (r.retry_after >= 0)
				t->s503_retry_after++;
			if (ms > t->s503_max_ms)
				t->s503_max_ms = ms;
		} else {
			t->other_status++;
			note(t, "HTTP %ld on %s %s: %.150s", code, method, path,
			     r.body.s);
		}
		if (now_s() - first > o->deadline) {
			t->gave_up++;
			note(t, "gave up on %s %s after %.0f s", method, path,
			     o->deadline);
			break;
		}
		t->retries++;
		/* as a polite client would: Retry-After, else a backoff */
		if (r.retry_after >= 0) {
			sleep_s((double)r.retry_after);
		} else {
			sleep_s(wait);
			wait = wait * 2 > 1 ? 1 : wait * 2;
		}
	}
	/* first attempt to the last one: how long the outage lasted for it */
	if ((start - first) * 1000 > t->max_retry_span_ms)
		t->max_retry_span_ms = (start - first) * 1000;
	free(r.body.s);
	return done;
}

static void *run(void *arg)
{
	struct thread *t = arg;
	const struct opts *o = t->o;
	struct curl_slist *hdrs = NULL;
	struct buf body = {0};
	CURL *c = curl_easy_init();
	double next, interval = 0;
	long i, seq = 0, k;
	char line[256];

	if (!c)
		die("curl_easy_init failed");
	hdrs = curl_slist_append(hdrs, o->auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	if (o->rate > 0)
		interval = (double)o->threads / o->rate;
	/* spread the threads' first sends over one interval */
	next = t->t0 + interval * t->id / o->threads;
	for (i = 0;
	     (!o->batches || i < o->batches) && now_s() - t->t0 < o->seconds &&
	     !(o->stop_file && access(o->stop_file, F_OK) == 0);
	     i++) {
		if (interval > 0) {
			double now = now_s();

			if (next > now)
				sleep_s(next - now);
			else if (now - next > 1)
				next = now; /* after a stall: no burst */
			next += interval;
			if (now_s() - t->t0 >= o->seconds)
				break;
		}
		if (o->nreads) {
			int r = (int)((i + t->id) % o->nreads);
			const char *b = o->read_body[r] ? o->read_body[r] : "";

			send_until_ok(t, c, o->read_method[r], o->read_path[r],
				      b, strlen(b), 0);
			continue;
		}
		build_batch(t, seq, o->batch, &body);
		for (k = seq; k < seq + o->batch; k++) {
			snprintf(line, sizeof(line), "%s-%d-%ld\n", o->prefix,
				 t->id, k);
			buf_add(&t->sent, line, strlen(line));
		}
		if (send_until_ok(t, c, "POST", "/v1/events", body.s, body.len,
				  o->batch)) {
			t->events_acked += o->batch;
			for (k = seq; k < seq + o->batch; k++) {
				snprintf(line, sizeof(line), "%s-%d-%ld\n",
					 o->prefix, t->id, k);
				buf_add(&t->acked, line, strlen(line));
			}
		}
		seq += o->batch;
	}
	free(body.s);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return NULL;
}

/* -- report ------------------------------------------------------------ */

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of sorted v[0..n). */
static double pct(const float *v, long n, double p)
{
	long i;

	if (n == 0)
		return 0;
	i = (long)(p / 100 * (double)n + 0.999999) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void write_file(const char *path, struct thread *ts, int n, size_t off)
{
	FILE *f;
	int i;

	if (!path)
		return;
	if (!(f = fopen(path, "w")))
		die("cannot write %s", path);
	for (i = 0; i < n; i++) {
		const struct buf *b =
		    (const struct buf *)((char *)&ts[i] + off);

		if (b->len && fwrite(b->s, 1, b->len, f) != b->len)
			die("cannot write %s", path);
	}
	if (fclose(f))
		die("cannot write %s", path);
}

/*
 * Latency of every attempt answered 200, overall into lat_all and per
 * minute (by start time) into --minutes as "minute n p50 p99 max errors".
 */
static void latencies(const struct opts *o, struct thread *ts, float **all,
		      long *nall)
{
	long i, j, n = 0, nmin = 0, *cnt, *err, *fill;
	float **per;
	FILE *f = NULL;
	int k;

	for (k = 0; k < o->threads; k++)
		for (i = 0; i < ts[k].nsamples; i++) {
			long m = (long)(ts[k].samples[i].t_s / 60);

			if (m + 1 > nmin)
				nmin = m + 1;
		}
	cnt = calloc((size_t)nmin + 1, sizeof(long));
	err = calloc((size_t)nmin + 1, sizeof(long));
	fill = calloc((size_t)nmin + 1, sizeof(long));
	per = calloc((size_t)nmin + 1, sizeof(float *));
	if (!cnt || !err || !fill || !per)
		die("out of memory");
	for (k = 0; k < o->threads; k++)
		for (i = 0; i < ts[k].nsamples; i++) {
			long m = (long)(ts[k].samples[i].t_s / 60);

			if (ts[k].samples[i].ok) {
				cnt[m]++;
				n++;
			} else {
				err[m]++;
			}
		}
	*all = xrealloc(NULL, sizeof(float) * (size_t)(n + 1));
	for (i = 0; i < nmin; i++)
		per[i] = xrealloc(NULL, sizeof(float) * (size_t)(cnt[i] + 1));
	for (k = 0, j = 0; k < o->threads; k++)
		for (i = 0; i < ts[k].nsamples; i++) {
			const struct sample *s = &ts[k].samples[i];
			long m = (long)(s->t_s / 60);

			if (!s->ok)
				continue;
			(*all)[j++] = s->ms;
			per[m][fill[m]++] = s->ms;
		}
	qsort(*all, (size_t)n, sizeof(float), cmp_float);
	*nall = n;
	if (o->minutes && !(f = fopen(o->minutes, "w")))
		die("cannot write %s", o->minutes);
	for (i = 0; f && i < nmin; i++) {
		qsort(per[i], (size_t)cnt[i], sizeof(float), cmp_float);
		fprintf(f, "%ld %ld %.2f %.2f %.2f %ld\n", i + 1, cnt[i],
			pct(per[i], cnt[i], 50), pct(per[i], cnt[i], 99),
			cnt[i] ? per[i][cnt[i] - 1] : 0.0, err[i]);
	}
	if (f && fclose(f))
		die("cannot write %s", o->minutes);
	for (i = 0; i < nmin; i++)
		free(per[i]);
	free(per);
	free(cnt);
	free(err);
	free(fill);
}

/* -- main -------------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: AGENTKPI_KEY=KEY client --port P [--threads N] "
	      "[--seconds S] [--batches N]\n"
	      "         [--batch B] [--rate R] [--prefix P] [--deadline S]\n"
	      "         [--acked F] [--sent F] [--convs F] [--minutes F]\n"
	      "         [--stop-file F]\n"
	      "         [--read 'GET /path' | --read 'POST /path JSON' ...]\n",
	      stderr);
	exit(2);
}

static double num(const char *name, const char *v, double lo, double hi)
{
	char *end;
	double d = strtod(v, &end);

	if (*end || end == v || d < lo || d > hi)
		die("%s must be a number from %g to %g", name, lo, hi);
	return d;
}

static void add_read(struct opts *o, char *spec)
{
	char *sp = strchr(spec, ' '), *sp2;

	if (!sp || o->nreads == MAX_READS)
		usage();
	*sp = '\0';
	o->read_method[o->nreads] = spec;
	o->read_path[o->nreads] = sp + 1;
	if ((sp2 = strchr(sp + 1, ' '))) {
		*sp2 = '\0';
		o->read_body[o->nreads] = sp2 + 1;
	}
	o->nreads++;
}

int main(int argc, char **argv)
{
	struct opts o = {.threads = 4,
			 .batch = 50,
			 .seconds = 10,
			 .deadline = 60,
			 .prefix = "f"};
	struct thread *ts;
	struct thread sum = {0};
	const char *key = getenv("AGENTKPI_KEY");
	double t0, secs;
	float *all;
	long nall;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(a, "--port"))
			o.port = (int)num(a, v, 1, 65535);
		else if (!strcmp(a, "--threads"))
			o.threads = (int)num(a, v, 1, MAX_THREADS);
		else if (!strcmp(a, "--seconds"))
			o.seconds = num(a, v, 0, 864000);
		else if (!strcmp(a, "--batches"))
			o.batches = (long)num(a, v, 0, 1e9);
		else if (!strcmp(a, "--batch"))
			o.batch = (int)num(a, v, 1, 1000);
		else if (!strcmp(a, "--rate"))
			o.rate = num(a, v, 0, 1e6);
		else if (!strcmp(a, "--deadline"))
			o.deadline = num(a, v, 0, 86400);
		else if (!strcmp(a, "--prefix"))
			o.prefix = v;
		else if (!strcmp(a, "--acked"))
			o.acked = v;
		else if (!strcmp(a, "--sent"))
			o.sent = v;
		else if (!strcmp(a, "--convs"))
			o.convs = v;
		else if (!strcmp(a, "--minutes"))
			o.minutes = v;
		else if (!strcmp(a, "--stop-file"))
			o.stop_file = v;
		else if (!strcmp(a, "--read"))
			add_read(&o, v);
		else
			usage();
		i++;
	}
	if (!o.port)
		usage();
	if (!key || !*key)
		die("set AGENTKPI_KEY to an API key");
	snprintf(o.auth, sizeof(o.auth), "Authorization: Bearer %s", key);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("curl_global_init failed");
	ts = calloc((size_t)o.threads, sizeof(*ts));
	if (!ts)
		die("out of memory");
	t0 = now_s();
	for (i = 0; i < o.threads; i++) {
		ts[i].id = i;
		ts[i].o = &o;
		ts[i].t0 = t0;
		if (pthread_create(&ts[i].th, NULL, run, &ts[i]))
			die("pthread_create failed");
	}
	for (i = 0; i < o.threads; i++) {
		struct thread *t = &ts[i];

		pthread_join(t->th, NULL);
		sum.requests += t->requests;
		sum.attempts += t->attempts;
		sum.retries += t->retries;
		sum.ok += t->ok;
		sum.gave_up += t->gave_up;
		sum.bad_replies += t->bad_replies;
		sum.s503 += t->s503;
		sum.s503_retry_after += t->s503_retry_after;
		sum.other_status += t->other_status;
		sum.transport += t->transport;
		sum.events_acked += t->events_acked;
		sum.accepted += t->accepted;
		sum.duplicates += t->duplicates;
		if (t->s503_max_ms > sum.s503_max_ms)
			sum.s503_max_ms = t->s503_max_ms;
		if (t->max_retry_span_ms > sum.max_retry_span_ms)
			sum.max_retry_span_ms = t->max_retry_span_ms;
		if (!sum.first_problem[0] && t->first_problem[0])
			memcpy(sum.first_problem, t->first_problem,
			       sizeof(sum.first_problem));
	}
	secs = now_s() - t0;
	write_file(o.acked, ts, o.threads, offsetof(struct thread, acked));
	write_file(o.sent, ts, o.threads, offsetof(struct thread, sent));
	write_file(o.convs, ts, o.threads, offsetof(struct thread, convs));
	latencies(&o, ts, &all, &nall);
	printf("client: %ld requests (%ld attempts, %ld retries) in %.1f s, "
	       "%.1f requests/s; 200: %ld, 503: %ld (%ld with Retry-After, "
	       "slowest %.0f ms), other HTTP errors: %ld, no answer: %ld, "
	       "given up: %ld; events acknowledged %lld (accepted %lld, "
	       "duplicates %lld); p50 %.2f ms, p99 %.2f ms\n",
	       sum.requests, sum.attempts, sum.retries, secs,
	       (double)sum.requests / secs, sum.ok, sum.s503,
	       sum.s503_retry_after, sum.s503_max_ms, sum.other_status,
	       sum.transport, sum.gave_up, sum.events_acked, sum.accepted,
	       sum.duplicates, pct(all, nall, 50), pct(all, nall, 99));
	if (sum.first_problem[0])
		printf("client: first problem: %s\n", sum.first_problem);
	printf("RESULT requests=%ld attempts=%ld retries=%ld seconds=%.2f "
	       "ok=%ld s503=%ld s503_retry_after=%ld s503_max_ms=%.0f "
	       "other_status=%ld transport=%ld gave_up=%ld bad_replies=%ld "
	       "events_acked=%lld accepted=%lld duplicates=%lld "
	       "max_retry_span_ms=%.0f p50_ms=%.2f p99_ms=%.2f\n",
	       sum.requests, sum.attempts, sum.retries, secs, sum.ok, sum.s503,
	       sum.s503_retry_after, sum.s503_max_ms, sum.other_status,
	       sum.transport, sum.gave_up, sum.bad_replies, sum.events_acked,
	       sum.accepted, sum.duplicates, sum.max_retry_span_ms,
	       pct(all, nall, 50), pct(all, nall, 99));
	for (i = 0; i < o.threads; i++) {
		free(ts[i].acked.s);
		free(ts[i].sent.s);
		free(ts[i].convs.s);
		free(ts[i].samples);
	}
	free(ts);
	free(all);
	curl_global_cleanup();
	return sum.gave_up || sum.bad_replies ? 1 : 0;
}
