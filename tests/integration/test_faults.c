/* SPDX-License-Identifier: MIT */
/*
 * Faults (issue 6): 503 replies say when to retry, and `agentkpi serve`
 * stops gracefully on SIGTERM: no new connections, the request in flight
 * finishes and is stored, exit 0; a request stuck past SHUTDOWN_TIMEOUT_MS
 * is cancelled instead of holding the exit. The server is the binary
 * `make check-tests` built (AGENTKPI_BIN), run as a child process; a row
 * lock held from the test's own connection keeps a request in flight.
 */
#include "cli.h"
#include "db.h"
#include "harness.h"
#include "util.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct child {
	pid_t pid;
	int port;
	char log[64];
};

static struct harness h;
static struct child server; /* the `agentkpi serve` under test */

static void setup(void)
{
	harness_start(&h);
}

static void child_kill(struct child *c)
{
	if (c->pid > 0 && waitpid(c->pid, NULL, WNOHANG) == 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	c->pid = 0;
}

static void teardown(void)
{
	child_kill(&server); /* a failed assertion left it running */
	harness_stop(&h);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* -- 503 carries Retry-After ------------------------------------------- */

static void setup_one_conn(void)
{
	setenv("DB_POOL_SIZE", "1", 1);
	setenv("DB_ACQUIRE_TIMEOUT_MS", "200", 1);
	harness_start(&h);
}

TestSuite(faults, .fini = teardown);

Test(faults, busy_pool_answers_503_with_retry_after, .init = setup_one_conn)
{
	struct db_conn *held;
	struct http_resp r;
	struct err err;
	json_t *e;

	/*
	 * the pool's only connection is taken: the key lookup must wait (the
	 * worker may hold it a while for rollup work left by other tests)
	 */
	for (int i = 0; i < 100; i++)
		if ((held = db_acquire(service_db(h.svc), &err)))
			break;
	cr_assert_not_null(held, "%s", err.msg);
	http_post_events(&h,
			 "{\"id\":\"ra-1\",\"type\":\"conversation.started\","
			 "\"conversation_id\":\"ra-c\","
			 "\"ts\":\"2026-11-21T10:00:00Z\"}",
			 &r);
	cr_assert_eq(r.status, 503, "body: %s", r.body);
	e = json_object_get(r.json, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "code")),
			 "db_unavailable");
	cr_assert_str_eq(r.retry_after, "1", "503 says when to retry");
	http_resp_free(&r);

	http_call(&h, "GET", "/readyz", NULL, NULL, NULL, 0, &r);
	cr_assert_eq(r.status, 503, "body: %s", r.body);
	cr_assert_str_eq(r.retry_after, "1", "not_ready says it too");
	http_resp_free(&r);
	db_release(service_db(h.svc), held);

	/* connection back: the same request succeeds, no Retry-After */
	http_post_events(&h,
			 "{\"id\":\"ra-1\",\"type\":\"conversation.started\","
			 "\"conversation_id\":\"ra-c\","
			 "\"ts\":\"2026-11-21T10:00:00Z\"}",
			 &r);
	cr_assert_eq(r.status, 200, "body: %s", r.body);
	cr_assert_str_eq(r.retry_after, "");
	http_resp_free(&r);
}

Test(faults, client_errors_carry_no_retry_after, .init = setup)
{
	struct http_resp r;

	http_post_events(&h, "{", &r);
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(r.retry_after, "");
	http_resp_free(&r);
}

/* -- SIGTERM ----------------------------------------------------------- */

/* Starts `agentkpi serve` on a free port; waits until it listens. */
static void child_start(struct child *c, const char *shutdown_ms)
{
	const char *bin = getenv("AGENTKPI_BIN");
	char line[512];
	FILE *f;
	int i, fd;

	snprintf(c->log, sizeof(c->log), "/tmp/agentkpi-faults.XXXXXX");
	fd = mkstemp(c->log);
	cr_assert_geq(fd, 0);
	c->port = 0;
	/* set here, not in the child: this process has threads */
	setenv("LISTEN", "127.0.0.1:0", 1);
	setenv("LOG_LEVEL", "info", 1);
	setenv("SHUTDOWN_TIMEOUT_MS", shutdown_ms, 1);
	c->pid = fork();
	cr_assert_geq(c->pid, 0);
	if (c->pid == 0) {
		dup2(fd, STDERR_FILENO);
		execl(bin ? bin : "./agentkpi", "agentkpi", "serve",
		      (char *)NULL);
		_exit(127);
	}
	close(fd);
	for (i = 0; i < 300 && !c->port; i++) {
		sleep_ms(50);
		if (!(f = fopen(c->log, "r")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "listening on http://");

			if (p && (p = strrchr(p, ':')))
				c->port = atoi(p + 1);
		}
		fclose(f);
	}
	cr_assert_gt(c->port, 0, "agentkpi serve did not start (log %s)",
		     c->log);
}

/* Waits up to ms for the child to exit; its wait status, or -1. */
static int child_wait(struct child *c, long ms)
{
	int status;
	long waited;

	for (waited = 0; waited <= ms; waited += 20) {
		if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
			c->pid = 0;
			return status;
		}
		sleep_ms(20);
	}
	return -1;
}

static bool log_has(const struct child *c, const char *text)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(c->log, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* -1: refused; 1: accepted; 0: anything else. */
static int try_connect(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	rc = rc == 0 ? 1 : errno == ECONNREFUSED ? -1 : 0;
	close(fd);
	return rc;
}

/* One POST on its own thread (no Criterion asserts off the main thread). */
struct post {
	int port;
	const char *key;
	char body[2048];
	long status;
	int curl_rc;
	char reply[512];
	size_t reply_len;
	pthread_t thread;
};

static size_t on_reply(char *p, size_t size, size_t n, void *arg)
{
	struct post *pp = arg;
	size_t room = sizeof(pp->reply) - 1 - pp->reply_len;
	size_t k = size * n < room ? size * n : room;

	memcpy(pp->reply + pp->reply_len, p, k);
	pp->reply_len += k;
	pp->reply[pp->reply_len] = '\0';
	return size * n;
}

static void *post_run(void *arg)
{
	struct post *p = arg;
	struct curl_slist *hdrs = NULL;
	char url[64], auth[128];
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/events", p->port);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->key);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	p->curl_rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &p->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return NULL;
}

/*
 * Posts ten events sd-<tag>-0..9 on a thread while the test's transaction
 * holds an uncommitted sd-<tag>-0 of the same tenant: the insert waits on
 * that row, so the request stays in flight until *blocker is rolled back.
 */
static void post_blocked(struct post *p, int port, const char *tag,
			 struct db_conn **blocker)
{
	char sql[512];
	struct err err;
	size_t len;
	int i;

	*blocker = db_acquire(service_db(h.svc), &err);
	cr_assert_not_null(*blocker, "%s", err.msg);
	snprintf(sql, sizeof(sql),
		 "BEGIN; SET LOCAL application_name = 'sd-blocker-%s';"
		 " INSERT INTO events (tenant_id, id, conversation_id, "
		 "type, ts, received_at, raw) VALUES ('%s', 'sd-%s-0', "
		 "'sd-c', 'conversation.started', now(), now(), '{}')",
		 tag, h.tenant_id, tag);
	cr_assert_eq(db_exec_script(*blocker, sql, &err), 0, "%s", err.msg);

	memset(p, 0, sizeof(*p));
	p->port = port;
	p->key = h.key;
	len = (size_t)snprintf(p->body, sizeof(p->body), "[");
	for (i = 0; i < 10; i++)
		len += (size_t)snprintf(
		    p->body + len, sizeof(p->body) - len,
		    "%s{\"id\":\"sd-%s-%d\",\"type\":\"%s\","
		    "\"conversation_id\":\"sd-c-%s\",%s"
		    "\"ts\":\"2026-11-21T10:00:%02dZ\"}",
		    i ? "," : "", tag, i,
		    i ? "message" : "conversation.started", tag,
		    i ? "\"author\":\"customer\"," : "", i);
	snprintf(p->body + len, sizeof(p->body) - len, "]");
	cr_assert_eq(pthread_create(&p->thread, NULL, post_run, p), 0);
	/* in flight: the insert waits for the blocker's row lock */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_stat_activity w, pg_stat_activity b"
		 " WHERE b.application_name = 'sd-blocker-%s' AND"
		 " b.pid = ANY (pg_blocking_pids(w.pid)) AND '%%s' <> ''",
		 tag);
	for (i = 0; i < 500; i++) {
		if (harness_sql_count(&h, sql) > 0)
			return;
		sleep_ms(20);
	}
	cr_assert_fail("the request never reached the database");
}

static void blocker_end(struct db_conn **blocker)
{
	struct err err;

	if (!*blocker)
		return;
	db_exec_script(*blocker, "ROLLBACK", &err);
	db_release(service_db(h.svc), *blocker);
	*blocker = NULL;
}

static long stored(const char *tag)
{
	char fmt[256];

	snprintf(fmt, sizeof(fmt),
		 "SELECT count(*) FROM events WHERE tenant_id = '%%s' AND "
		 "id LIKE 'sd-%s-%%%%'",
		 tag);
	return harness_sql_count(&h, fmt);
}

Test(faults, sigterm_finishes_the_request_in_flight, .init = setup,
     .timeout = 120)
{
	struct db_conn *blocker = NULL;
	struct post p;
	int status, i, conn = 0;

	child_start(&server, "20000");
	post_blocked(&p, server.port, "a", &blocker);

	kill(server.pid, SIGTERM);
	/* new connections are refused while the request is still running */
	for (i = 0; i < 250 && (conn = try_connect(server.port)) != -1; i++)
		sleep_ms(20);
	cr_expect_eq(conn, -1, "a new connection after SIGTERM is refused");
	cr_expect_eq(waitpid(server.pid, NULL, WNOHANG), 0,
		     "the server waits for the request in flight");
	cr_expect_eq(p.status, 0, "the request has not been answered yet");

	blocker_end(&blocker);
	pthread_join(p.thread, NULL);
	status = child_wait(&server, 15000);
	child_kill(&server);
	cr_assert_eq(p.curl_rc, CURLE_OK, "%s",
		     curl_easy_strerror((CURLcode)p.curl_rc));
	cr_assert_eq(p.status, 200, "reply: %s", p.reply);
	cr_assert(strstr(p.reply, "\"accepted\":10"), "reply: %s", p.reply);
	cr_assert_eq(stored("a"), 10, "the acknowledged events are stored");
	cr_assert(status != -1 && WIFEXITED(status), "the server exits");
	cr_assert_eq(WEXITSTATUS(status), 0, "exit status 0 (log %s)",
		     server.log);
	cr_assert(log_has(&server, "stopped"), "log %s", server.log);
	cr_assert(!log_has(&server, "still in flight"), "log %s", server.log);
	unlink(server.log);
}

Test(faults, sigterm_bound_cancels_a_stuck_request, .init = setup,
     .timeout = 120)
{
	struct db_conn *blocker = NULL;
	struct post p;
	int status;
	double t0;

	child_start(&server, "300");
	post_blocked(&p, server.port, "b", &blocker);

	t0 = time_mono_ms();
	kill(server.pid, SIGTERM);
	/* the row lock is still held: only the bound lets it exit */
	status = child_wait(&server, 15000);
	child_kill(&server);
	cr_assert(status != -1 && WIFEXITED(status),
		  "the server exits although a request is stuck");
	cr_assert_eq(WEXITSTATUS(status), 0, "exit status 0 (log %s)",
		     server.log);
	cr_expect_lt(time_mono_ms() - t0, 10000.0);
	cr_assert(log_has(&server, "1 request(s) still in flight after 300 ms"),
		  "the bound is logged with the count (log %s)", server.log);
	pthread_join(p.thread, NULL);
	cr_assert_neq(p.status, 200, "the cancelled request is not acked");
	blocker_end(&blocker);
	cr_assert_eq(stored("b"), 0, "nothing of it was stored");
	unlink(server.log);
}
