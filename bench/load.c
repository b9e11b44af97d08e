/* SPDX-License-Identifier: MIT */
/*
 * bench/load: the bulk path. Generates the events of a workload with the
 * shared generator (gen.c), validates each one with the service's own
 * event_from_json and computes each conversation's facts with its own
 * facts_compute (server/event.c, server/facts.c), and writes COPY rows:
 *
 *   events         the rows POST /v1/events would store (received_at: now)
 *   conversations  the rows of facts_to_json, as the ingest upsert maps
 *                  them; repeat_gap_ms is left NULL for derive_tables()
 *
 * Each goes to DATABASE_URL (COPY FROM STDIN, 8 kB messages, one
 * connection per table) or to a file. Output: one "RESULT ..." line.
 */
#include "bench.h"
#include "event.h"
#include "facts.h"
#include "gen.h"
#include "util.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_BYTES 8192

static const char event_cols[] =
    "tenant_id, id, conversation_id, type, ts, received_at, customer_id, "
    "agent_version, cost_usd, channel, topic, customer_tier, language, "
    "product_area, cohort, author, sentiment, clarification, confidence, "
    "reason, initiated_by, tool_name, tool_ok, latency_ms, resolved_by, "
    "confirmed, csat, thumbs, grader, resolution_correct, hallucination, "
    "score, escalation_appropriate, failure_category, raw";

/* conversations columns and the facts_to_json key of each ("" = tenant) */
static const char *const conv_map[][2] = {
    {"tenant_id", ""},
    {"conversation_id", "conversation_id"},
    {"started_at", "started_at"},
    {"last_event_at", "last_event_at"},
    {"customer_id", "customer_id"},
    {"agent_version", "agent_version"},
    {"channel", "segment.channel"},
    {"topic", "segment.topic"},
    {"customer_tier", "segment.customer_tier"},
    {"language", "segment.language"},
    {"product_area", "segment.product_area"},
    {"cohort", "segment.cohort"},
    {"ai_involved", "ai_involved"},
    {"human_involved", "human_involved"},
    {"stream", "stream"},
    {"escalated", "escalated"},
    {"escalated_at", "escalated_at"},
    {"escalation_reason", "escalation_reason"},
    {"first_response_at", "first_response_at"},
    {"status", "status"},
    {"resolved_at", "resolved_at"},
    {"resolved_by", "resolved_by"},
    {"confirmed", "confirmed"},
    {"ever_resolved", "ever_resolved"},
    {"reopen_gap_ms", "reopen_gap_ms"},
    {"turns", "turns"},
    {"customer_turns", "customer_turns"},
    {"ai_turns", "ai_turns"},
    {"human_turns", "human_turns"},
    {"csat", "csat"},
    {"thumbs", "thumbs"},
    {"negative_feedback", "negative_feedback"},
    {"sentiment_start", "sentiment_start"},
    {"sentiment_end", "sentiment_end"},
    {"clarifications", "clarifications"},
    {"tool_calls", "tool_calls"},
    {"tool_failures", "tool_failures"},
    {"cost_usd", "cost_usd"},
    {"graded", "graded"},
    {"resolution_correct", "resolution_correct"},
    {"hallucination", "hallucination"},
    {"quality_score", "quality_score"},
    {"escalation_appropriate", "escalation_appropriate"},
    {"failure_category", "failure_category"},
    {"event_count", "events"},
};
#define NCONV (sizeof(conv_map) / sizeof(conv_map[0]))

/* Where one table's rows go: a COPY on a connection, or a file. */
struct sink {
	PGconn *pg;
	FILE *file;
	struct b_str buf;
	long rows;
};

static void sink_flush(struct sink *k)
{
	if (!k->buf.len)
		return;
	if (k->pg && PQputCopyData(k->pg, k->buf.s, (int)k->buf.len) != 1)
		b_die("COPY: %s", PQerrorMessage(k->pg));
	if (k->file && fwrite(k->buf.s, 1, k->buf.len, k->file) != k->buf.len)
		b_die("write failed");
	k->buf.len = 0;
}

static void sink_open(struct sink *k, const char *to, const char *table,
		      const char *cols)
{
	const char *url = getenv("DATABASE_URL");
	char sql[1024];
	PGresult *res;

	memset(k, 0, sizeof(*k));
	if (!strcmp(to, "none"))
		return;
	if (strcmp(to, "db")) {
		if (!(k->file = fopen(to, "w")))
			b_die("cannot write %s", to);
		return;
	}
	if (!url || !*url)
		b_die("set DATABASE_URL to load into the database");
	k->pg = PQconnectdb(url);
	if (PQstatus(k->pg) != CONNECTION_OK)
		b_die("connect: %s", PQerrorMessage(k->pg));
	snprintf(sql, sizeof(sql), "COPY %s (%s) FROM STDIN", table, cols);
	res = PQexec(k->pg, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		b_die("%s: %s", sql, PQerrorMessage(k->pg));
	PQclear(res);
}

static void sink_close(struct sink *k)
{
	PGresult *res;

	sink_flush(k);
	if (k->file && fclose(k->file) != 0)
		b_die("write failed");
	if (!k->pg)
		return;
	if (PQputCopyEnd(k->pg, NULL) != 1)
		b_die("COPY end: %s", PQerrorMessage(k->pg));
	res = PQgetResult(k->pg);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		b_die("COPY: %s", PQerrorMessage(k->pg));
	PQclear(res);
	PQfinish(k->pg);
}

/* One COPY text field (tab before it unless first); NULL is \N. */
static void field(struct b_str *b, const char *s, int first)
{
	const char *p;

	if (!first)
		b_add(b, "\t", 1);
	if (!s) {
		b_add(b, "\\N", 2);
		return;
	}
	for (p = s; *p; p++) {
		if (*p == '\\')
			b_add(b, "\\\\", 2);
		else if (*p == '\t')
			b_add(b, "\\t", 2);
		else if (*p == '\n')
			b_add(b, "\\n", 2);
		else if (*p == '\r')
			b_add(b, "\\r", 2);
		else
			b_add(b, p, 1);
	}
}

/* Numbers as the service's JSON dump writes them (%.17g): same float8. */
static void num(struct b_str *b, double d)
{
	char t[40];

	snprintf(t, sizeof(t), "%.17g", d);
	field(b, isnan(d) ? NULL : t, 0);
}

static void tri(struct b_str *b, int v)
{
	field(b, v < 0 ? NULL : v ? "t" : "f", 0);
}

static void event_row(struct b_str *b, const char *tenant, const char *now,
		      const struct event *e, const char *raw)
{
	char ts[TIME_BUF_LEN], csat[8];
	int i;

	field(b, tenant, 1);
	field(b, e->id, 0);
	field(b, e->conversation_id, 0);
	field(b, event_enum_name(ENUM_TYPE, e->type), 0);
	field(b, time_format_ms(e->ts_ms, ts), 0);
	field(b, now, 0);
	field(b, e->customer_id, 0);
	field(b, e->agent_version, 0);
	num(b, e->cost_usd);
	for (i = 0; i < SEG_COUNT; i++)
		field(b, e->segment[i], 0);
	field(b, event_enum_name(ENUM_ACTOR, e->author), 0);
	num(b, e->sentiment);
	tri(b, e->clarification);
	num(b, e->confidence);
	field(b, event_enum_name(ENUM_REASON, e->reason), 0);
	field(b, event_enum_name(ENUM_INITIATOR, e->initiated_by), 0);
	field(b, e->tool_name, 0);
	tri(b, e->tool_ok);
	num(b, e->latency_ms);
	field(b, event_enum_name(ENUM_BY, e->by), 0);
	tri(b, e->confirmed);
	snprintf(csat, sizeof(csat), "%d", e->csat);
	field(b, e->csat ? csat : NULL, 0);
	field(b, event_enum_name(ENUM_THUMBS, e->thumbs), 0);
	field(b, e->grader, 0);
	tri(b, e->resolution_correct);
	tri(b, e->hallucination);
	num(b, e->score);
	tri(b, e->escalation_appropriate);
	field(b, event_enum_name(ENUM_FAILURE, e->failure_category), 0);
	field(b, raw, 0);
	b_add(b, "\n", 1);
}

static void conv_row(struct b_str *b, const char *tenant, json_t *fj)
{
	char t[40];
	size_t i;
	json_t *v;

	for (i = 0; i < NCONV; i++) {
		const char *key = conv_map[i][1];

		if (!*key) {
			field(b, tenant, 1);
			continue;
		}
		v = strncmp(key, "segment.", 8)
			? json_object_get(fj, key)
			: json_object_get(json_object_get(fj, "segment"),
					  key + 8);
		if (!v)
			b_die("facts_to_json has no '%s'", key);
		if (json_is_string(v))
			field(b, json_string_value(v), 0);
		else if (json_is_boolean(v))
			field(b, json_is_true(v) ? "t" : "f", 0);
		else if (json_is_integer(v)) {
			snprintf(t, sizeof(t), "%lld",
				 (long long)json_integer_value(v));
			field(b, t, 0);
		} else if (json_is_real(v))
			num(b, json_real_value(v));
		else
			field(b, NULL, 0);
	}
	b_add(b, "\n", 1);
}

/* Validates and stores one generated conversation; returns its events. */
static int one_conversation(const struct gen_conv *c, const char *tenant,
			    const char *now, struct sink *ev, struct sink *cv)
{
	json_t *docs[GEN_MAX_EVENTS], *fj;
	struct event evs[GEN_MAX_EVENTS];
	char raw[8192];
	json_error_t jerr;
	struct err err;
	struct facts f;
	int i;

	for (i = 0; i < c->n; i++) {
		size_t len = c->off[i + 1] - c->off[i];

		docs[i] = json_loadb(c->json.s + c->off[i], len, 0, &jerr);
		if (!docs[i] || event_from_json(docs[i], &evs[i], &err) < 0)
			b_die("generated event rejected: %s",
			      docs[i] ? err.msg : jerr.text);
		if (ev->pg || ev->file) {
			if (len >= sizeof(raw))
				b_die("event too long");
			memcpy(raw, c->json.s + c->off[i], len);
			raw[len] = '\0';
			event_row(&ev->buf, tenant, now, &evs[i], raw);
			ev->rows++;
			if (ev->buf.len >= FLUSH_BYTES)
				sink_flush(ev);
		}
	}
	if (cv->pg || cv->file) {
		facts_compute(evs, (size_t)c->n, &f);
		fj = facts_to_json(&f);
		conv_row(&cv->buf, tenant, fj);
		json_decref(fj);
		cv->rows++;
		if (cv->buf.len >= FLUSH_BYTES)
			sink_flush(cv);
	}
	for (i = 0; i < c->n; i++)
		json_decref(docs[i]);
	return c->n;
}

static void usage(void)
{
	fputs("usage: load --tenant UUID (--conversations N | --events N "
	      "[--streams S])\n"
	      "            [--events-to db|none|FILE] [--convs-to "
	      "db|none|FILE] GENERATOR\n"
	      "GENERATOR: --prefix P --seed S --end-ms MS --days D "
	      "--customers K [--light]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct gen_config cfg = {.prefix = "r", .seed = 1, .customers = 1000};
	const char *tenant = NULL, *ev_to = "db", *cv_to = "db";
	long convs = 0, events = 0, streams = 1, days = 90, i, n, left;
	int64_t end_ms = b_wall_ms();
	long long total = 0, nconv = 0;
	char now[TIME_BUF_LEN];
	struct sink ev, cv;
	struct gen g;
	double t0;

	b_prog = "load";
	if (argc == 2 && !strcmp(argv[1], "--event-columns")) {
		puts(event_cols); /* for pgraw's table of the same shape */
		return 0;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--light")) {
			cfg.light = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "--tenant"))
			tenant = v;
		else if (!strcmp(a, "--conversations"))
			convs = b_num(a, v, 1, 100000000);
		else if (!strcmp(a, "--events"))
			events = b_num(a, v, 1, 1000000000);
		else if (!strcmp(a, "--streams"))
			streams = b_num(a, v, 1, 64);
		else if (!strcmp(a, "--events-to"))
			ev_to = v;
		else if (!strcmp(a, "--convs-to"))
			cv_to = v;
		else if (!gen_option(&cfg, a, v, &end_ms, &days))
			usage();
		i++;
	}
	if (!tenant || (!convs == !events))
		usage();
	cfg.start_ms = end_ms - days * 86400000LL;
	cfg.span_ms = (days - 2) * 86400000LL;
	time_format_ms(b_wall_ms(), now);
	sink_open(&ev, ev_to, "events", event_cols);
	{
		struct b_str cols = {0};

		for (i = 0; i < (long)NCONV; i++)
			b_printf(&cols, "%s%s", i ? ", " : "", conv_map[i][0]);
		sink_open(&cv, cv_to, "conversations", cols.s);
		free(cols.s);
	}
	t0 = b_now();
	/* the same calls as ingest.c makes per stream, so the same events */
	for (i = 0; i < (convs ? 1 : streams); i++) {
		gen_init(&g, &cfg, (int)i);
		left = convs ? convs : gen_budget(events, (int)streams, (int)i);
		while (left > 0) {
			gen_next(&g, convs || left >= GEN_MAX_EVENTS
					 ? GEN_MAX_EVENTS
					 : (int)left);
			n = one_conversation(&g.conv, tenant, now, &ev, &cv);
			total += n;
			nconv++;
			left -= convs ? 1 : n;
		}
		gen_free(&g);
	}
	sink_close(&ev);
	sink_close(&cv);
	printf("RESULT conversations=%lld events=%lld seconds=%.1f "
	       "events_per_conversation=%.2f\n",
	       nconv, total, b_now() - t0, (double)total / (double)nconv);
	return 0;
}
