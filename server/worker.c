/* SPDX-License-Identifier: MIT */
/*
 * The background worker thread: derives pending conversations in batches,
 * then refreshes marked KPI rollup hours, minute slices and days; it sleeps
 * briefly when there is nothing to do and longer after an error.
 */
#include "worker.h"
#include "derive.h"
#include "log.h"
#include "rollup.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define WORKER_BATCH 500
#define ROLLUP_BATCH 8
#define IDLE_MS 20
#define GATHER_MS 50
#define REFRESH_MS 1000 /* refresh rollups at least this often */
#define ERROR_MS 1000
#define VACUUM_MS 2000 /* at most one queue vacuum per 2 s of work */

struct worker {
	struct db *db;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;
	struct timespec vacuumed;  /* last queue vacuum */
	struct timespec refreshed; /* last rollup refresh */
	long work;		   /* rows derived or refreshed since */
};

/* Waits ms milliseconds or until worker_stop; returns true to go on. */
static bool pause_for(struct worker *w, long ms)
{
	struct timespec until;
	bool go;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->stop &&
	       pthread_cond_timedwait(&w->cond, &w->mu, &until) != ETIMEDOUT)
		;
	go = !w->stop;
	pthread_mutex_unlock(&w->mu);
	return go;
}

/* Milliseconds since *since (CLOCK_MONOTONIC). */
static long ms_since(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * Vacuums the worker's queue tables (queries.def, Q_QUEUES_VACUUM) once
 * VACUUM_MS have passed since the last time, if it has done work since.
 */
static void vacuum_queues(struct worker *w)
{
	struct db_conn *conn;
	struct db_res *res;
	struct err err;

	if (w->work == 0 || ms_since(&w->vacuumed) < VACUUM_MS)
		return;
	clock_gettime(CLOCK_MONOTONIC, &w->vacuumed);
	w->work = 0;
	if (!(conn = db_acquire(w->db, &err))) {
		log_msg(LOG_WARN, "worker", "vacuum: %s", err.msg);
		return;
	}
	if (!(res = db_exec(conn, Q_QUEUES_VACUUM, NULL, &err)))
		log_msg(LOG_WARN, "worker", "vacuum: %s", err.msg);
	db_res_free(res);
	db_release(w->db, conn);
}

/*
 * One round: derive a batch of pending conversations, then refresh some
 * marked rollup pieces when the facts are current or REFRESH_MS have
 * passed since the last refresh (under steady ingest the facts are never
 * quite current, and reads of unrefreshed hours go to the facts, slower
 * as they grow). Returns how long to pause (0: go on at once), or -1
 * after an error.
 */
static long round_once(struct worker *w)
{
	struct err err;
	long done;
	int refreshed = 0;

	if (derive_pending(w->db, NULL, WORKER_BATCH, &done, &err) < 0) {
		log_msg(LOG_WARN, "worker", "deriving facts: %s", err.msg);
		return -1;
	}
	w->work += done;
	if (done == 0 || ms_since(&w->refreshed) >= REFRESH_MS) {
		/*
		 * A day is built once it is over; until then reads take its
		 * hours. While ingest goes on, skip the current minute too:
		 * new events mark it again at once.
		 */
		int64_t now = time_now_ms();
		struct rollup_due due = {done ? now - now % ROLLUP_SLICE_MS : 0,
					 now};

		clock_gettime(CLOCK_MONOTONIC, &w->refreshed);
		if (rollup_refresh(w->db, NULL, ROLLUP_BATCH, &due, &refreshed,
				   &err) < 0) {
			log_msg(LOG_WARN, "worker", "refreshing rollups: %s",
				err.msg);
			return -1;
		}
		w->work += refreshed;
	}
	if (done == 0)
		return refreshed ? 0 : IDLE_MS;
	/*
	 * A trickle (single-event posts): let marks gather for a moment,
	 * so that one derivation covers many conversations. Reads never
	 * wait for this: they derive what is pending themselves.
	 */
	return done < WORKER_BATCH / 4 ? GATHER_MS : 0;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	long pause;
	bool go = true;

	clock_gettime(CLOCK_MONOTONIC, &w->vacuumed);
	w->refreshed = w->vacuumed;
	while (go) {
		vacuum_queues(w);
		pause = round_once(w);
		if (pause != 0) {
			go = pause_for(w, pause < 0 ? ERROR_MS : pause);
		} else {
			pthread_mutex_lock(&w->mu);
			go = !w->stop;
			pthread_mutex_unlock(&w->mu);
		}
	}
	return NULL;
}

struct worker *worker_start(struct db *db)
{
	struct worker *w = xcalloc(1, sizeof(*w));
	pthread_condattr_t attr;

	w->db = db;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&w->thread, NULL, run, w) != 0)
		BUG("cannot start the worker thread");
	return w;
}

void worker_stop(struct worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
