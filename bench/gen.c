/* SPDX-License-Identifier: MIT */
/*
 * The conversation generator of the benchmark: streams, segments,
 * outcomes, customers who come back, feedback and grades (see gen.h).
 */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
#define MIN_MS 60000LL

uint64_t gen_rand(uint64_t *s) /* xorshift64* */
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

double gen_unif(uint64_t *s) /* [0, 1) */
{
	return (double)(gen_rand(s) >> 11) / 9007199254740992.0;
}

static int chance(uint64_t *s, double p)
{
	return gen_unif(s) < p;
}

static int64_t range(uint64_t *s, int64_t lo, int64_t hi) /* [lo, hi] */
{
	return lo + (int64_t)(gen_unif(s) * (double)(hi - lo + 1));
}

/* An index by weights (they need not sum to 1). */
static int pick(uint64_t *s, const double *w, int n)
{
	double tot = 0, r;
	int i;

	for (i = 0; i < n; i++)
		tot += w[i];
	r = gen_unif(s) * tot;
	for (i = 0; i < n - 1; i++) {
		if (r < w[i])
			return i;
		r -= w[i];
	}
	return n - 1;
}

#define NW(w) ((int)(sizeof(w) / sizeof(double)))
#define PICK(s, names, w) (names)[pick((s), (w), NW(w))]

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

long gen_budget(long total, int n, int i)
{
	return total / n + (i < total % n ? 1 : 0);
}

void gen_init(struct gen *g, const struct gen_config *cfg, int stream)
{
	memset(g, 0, sizeof(*g));
	g->cfg = *cfg;
	g->stream = stream;
	g->rng = 0x9E3779B97F4A7C15ULL * (cfg->seed + 1) +
		 0xBF58476D1CE4E5B9ULL * (uint64_t)(stream + 1);
	if (!g->rng)
		g->rng = 1;
	g->last_customer = -1;
}

void gen_free(struct gen *g)
{
	free(g->conv.json.s);
	g->conv.json.s = NULL;
}

/* "2026-11-21T10:00:00.123Z" */
static void fmt_ts(int64_t ms, char out[80])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Opens an event object with the envelope; 0 when the budget is spent. */
static int ev_begin(struct gen *g, const char *type)
{
	struct gen_conv *c = &g->conv;
	char ts[80];

	if (c->n >= g->max_events || c->n >= GEN_MAX_EVENTS)
		return 0;
	c->off[c->n] = c->json.len;
	c->ts[c->n] = g->t;
	fmt_ts(g->t, ts);
	b_printf(&c->json,
		 "{\"id\":\"%s-e%d\",\"type\":\"%s\",\"conversation_id\":"
		 "\"%s\",\"ts\":\"%s\"",
		 c->id, g->eseq++, type, c->id, ts);
	return 1;
}

static void ev_end(struct gen *g)
{
	b_add(&g->conv.json, "}", 1);
	g->conv.n++;
	g->conv.off[g->conv.n] = g->conv.json.len;
}

static void simple(struct gen *g, const char *type)
{
	if (ev_begin(g, type))
		ev_end(g);
}

static void customer_msg(struct gen *g, double sentiment, int clarify)
{
	if (!ev_begin(g, "message"))
		return;
	b_printf(&g->conv.json, ",\"author\":\"customer\"");
	if (sentiment > -2)
		b_printf(&g->conv.json, ",\"sentiment\":%.2f", sentiment);
	if (clarify)
		b_printf(&g->conv.json, ",\"clarification\":true");
	ev_end(g);
}

static void ai_msg(struct gen *g)
{
	if (!ev_begin(g, "message"))
		return;
	b_printf(&g->conv.json,
		 ",\"author\":\"ai\",\"agent_version\":\"%s\","
		 "\"confidence\":%.2f,\"cost_usd\":%.4f",
		 g->version, 0.45 + 0.54 * gen_unif(&g->rng),
		 0.002 + 0.028 * gen_unif(&g->rng));
	ev_end(g);
}

static void human_msg(struct gen *g)
{
	if (!ev_begin(g, "message"))
		return;
	/* human minutes are the expensive part of a conversation */
	b_printf(&g->conv.json, ",\"author\":\"human\",\"cost_usd\":%.2f",
		 0.8 + 2.5 * gen_unif(&g->rng));
	ev_end(g);
}

static void tool_call(struct gen *g)
{
	if (!ev_begin(g, "tool_call"))
		return;
	b_printf(&g->conv.json, ",\"name\":\"%s\",\"ok\":%s,\"latency_ms\":%d",
		 PICK(&g->rng, tools, tool_w),
		 chance(&g->rng, 0.95) ? "true" : "false",
		 (int)range(&g->rng, 40, 2500));
	ev_end(g);
}

static void resolved(struct gen *g, const char *by)
{
	if (!ev_begin(g, "resolved"))
		return;
	b_printf(&g->conv.json, ",\"by\":\"%s\"", by);
	if (chance(&g->rng, 0.4))
		b_printf(&g->conv.json, ",\"confirmed\":true");
	ev_end(g);
}

static void handoff(struct gen *g)
{
	if (!ev_begin(g, "handoff"))
		return;
	b_printf(&g->conv.json, ",\"reason\":\"%s\",\"initiated_by\":\"%s\"",
		 PICK(&g->rng, reasons, reason_w),
		 chance(&g->rng, 0.6) ? "ai" : "customer");
	ev_end(g);
}

/* A responder turn and usually the customer's reply; is_ai: who answers. */
static void exchange(struct gen *g, int is_ai, double *sentiment)
{
	if (is_ai) {
		g->t += range(&g->rng, 1000, 6000);
		if (chance(&g->rng, g->cfg.light ? 0.1 : 0.4)) {
			tool_call(g);
			g->t += range(&g->rng, 200, 3000);
		}
		ai_msg(g);
	} else {
		g->t += range(&g->rng, 30000, 20 * MIN_MS);
		human_msg(g);
	}
	g->t += range(&g->rng, 10000, 3 * MIN_MS);
	*sentiment += -0.15 + 0.45 * gen_unif(&g->rng);
	if (*sentiment > 1)
		*sentiment = 1;
	if (*sentiment < -1)
		*sentiment = -1;
	if (g->cfg.light)
		return;
	customer_msg(g, chance(&g->rng, 0.7) ? *sentiment : -9,
		     chance(&g->rng, 0.1));
}

/*
 * The start, customer and segment: usually a random moment (80 % of
 * contacts 07:00-21:00 UTC) and customer; 12 % of the time the previous
 * customer coming back 10 min to 36 h after their last conversation,
 * mostly about the same topic (a repeat contact).
 */
static void opening(struct gen *g, int *topic)
{
	struct gen_config *cfg = &g->cfg;
	int64_t day, hour_ms, back;
	long customer = -1;
	double u;

	*topic = pick(&g->rng, topic_w, NW(topic_w));
	back = g->last_end + range(&g->rng, 10 * MIN_MS, 36 * HOUR_MS);
	if (g->last_customer >= 0 && chance(&g->rng, 0.12) &&
	    back < cfg->start_ms + cfg->span_ms) {
		g->t = back;
		customer = g->last_customer;
		if (chance(&g->rng, 0.75))
			*topic = g->last_topic;
	} else {
		day = (int64_t)(gen_unif(&g->rng) *
				(double)(cfg->span_ms / DAY_MS));
		hour_ms = chance(&g->rng, 0.8)
			      ? 7 * HOUR_MS +
				    (int64_t)(gen_unif(&g->rng) * 14 * HOUR_MS)
			      : (int64_t)(gen_unif(&g->rng) * 24 * HOUR_MS);
		g->t = cfg->start_ms + day * DAY_MS + hour_ms;
		if (!chance(&g->rng, 0.05)) { /* 5 % anonymous */
			/* 20 % skewed towards a few heavy customers */
			u = gen_unif(&g->rng);
			if (chance(&g->rng, 0.2))
				u *= u;
			customer = (long)(u * (double)cfg->customers);
		}
	}
	g->last_customer = customer;
	g->last_topic = *topic;
	if (!ev_begin(g, "conversation.started"))
		return;
	if (customer >= 0)
		b_printf(&g->conv.json, ",\"customer_id\":\"cust-%07ld\"",
			 customer);
	b_printf(
	    &g->conv.json,
	    ",\"agent_version\":\"%s\",\"segment\":{\"channel\":\"%s\","
	    "\"topic\":\"%s\",\"customer_tier\":\"%s\",\"language\":"
	    "\"%s\",\"product_area\":\"%s\",\"cohort\":\"%s\"}",
	    g->version, PICK(&g->rng, channels, channel_w), topics[*topic],
	    PICK(&g->rng, tiers, tier_w), PICK(&g->rng, languages, language_w),
	    PICK(&g->rng, areas, area_w), PICK(&g->rng, cohorts, cohort_w));
	ev_end(g);
}

/* Feedback (csat on ~20 %, thumbs only on ~5 %) and a grade (~10 %). */
static void aftermath(struct gen *g, int kind, int ok)
{
	static const double good[] = {3, 4, 12, 35, 46};
	static const double bad[] = {30, 25, 20, 15, 10};
	struct b_str *j = &g->conv.json;
	double r = gen_unif(&g->rng);
	int csat, correct;

	if (r < 0.25) {
		g->t += range(&g->rng, MIN_MS, 2 * HOUR_MS);
		if (ev_begin(g, "feedback")) {
			csat = 1 + pick(&g->rng, ok ? good : bad, 5);
			if (r < 0.20) {
				b_printf(j, ",\"csat\":%d", csat);
				if (chance(&g->rng, 0.3))
					b_printf(j, ",\"comment\":\"%s\"",
						 csat >= 4 ? "quick and helpful"
							   : "did not solve my "
							     "problem");
			} else {
				b_printf(j, ",\"thumbs\":\"%s\"",
					 ok && chance(&g->rng, 0.8) ? "up"
								    : "down");
			}
			ev_end(g);
		}
	}
	if (kind > 1 || !chance(&g->rng, 0.10)) /* AI conversations only */
		return;
	correct = ok ? chance(&g->rng, 0.9) : chance(&g->rng, 0.4);
	g->t += range(&g->rng, 10 * MIN_MS, 12 * HOUR_MS);
	if (!ev_begin(g, "quality"))
		return;
	b_printf(j,
		 ",\"grader\":\"llm-judge-v3\",\"resolution_correct\":%s,"
		 "\"hallucination\":%s,\"score\":%.1f",
		 correct ? "true" : "false",
		 chance(&g->rng, 0.04) ? "true" : "false",
		 correct ? 70 + 30 * gen_unif(&g->rng)
			 : 20 + 50 * gen_unif(&g->rng));
	if (kind == 1)
		b_printf(j, ",\"escalation_appropriate\":%s",
			 chance(&g->rng, 0.75) ? "true" : "false");
	if (!correct)
		b_printf(j, ",\"failure_category\":\"%s\"",
			 PICK(&g->rng, failures, failure_w));
	ev_end(g);
}

void gen_next(struct gen *g, int max_events)
{
	/* kinds: 0 ai_only, 1 hybrid, 2 human_only, 3 none */
	static const double kind_w[] = {55, 25, 13, 7};
	static const int max_turns[] = {4, 3, 4};
	const char *by = NULL;
	double sentiment = -0.8 + 1.2 * gen_unif(&g->rng), r;
	int kind, topic, i, n, ok = 0;

	g->conv.json.len = 0;
	g->conv.n = 0;
	g->conv.off[0] = 0;
	g->max_events = max_events;
	g->eseq = 0;
	snprintf(g->conv.id, sizeof(g->conv.id), "%s-%d-%08ld", g->cfg.prefix,
		 g->stream, g->seq++);
	g->version = PICK(&g->rng, versions, version_w);
	kind = pick(&g->rng, kind_w, NW(kind_w));
	opening(g, &topic);
	g->t += range(&g->rng, 0, 5000);
	if (!g->cfg.light || chance(&g->rng, 0.5))
		customer_msg(g, chance(&g->rng, 0.7) ? sentiment : -9, 0);
	if (kind < 3) {
		n = g->cfg.light ? 1 : (int)range(&g->rng, 1, max_turns[kind]);
		for (i = 0; i < n; i++)
			exchange(g, kind < 2, &sentiment);
	}
	r = gen_unif(&g->rng);
	if (kind == 0) {
		by = r < 0.82 ? "ai" : NULL;
		if (!by && r < 0.95)
			simple(g, "abandoned");
	} else if (kind == 1) {
		g->t += range(&g->rng, 2000, 60000);
		handoff(g);
		n = g->cfg.light ? 1 : (int)range(&g->rng, 1, 3);
		for (i = 0; i < n; i++)
			exchange(g, 0, &sentiment);
		by = r < 0.85 ? "human" : NULL;
		if (!by && r < 0.95)
			simple(g, "abandoned");
	} else if (kind == 2) {
		by = r < 0.8 ? "human" : NULL;
		if (!by && r < 0.9)
			simple(g, "abandoned");
	} else {
		g->t += range(&g->rng, 10 * MIN_MS, 6 * HOUR_MS);
		if (chance(&g->rng, 0.7))
			simple(g, "abandoned");
	}
	if (by) {
		g->t += range(&g->rng, 5000, 5 * MIN_MS);
		resolved(g, by);
		ok = 1;
		if (chance(&g->rng, 0.06)) { /* reopened 10 min .. 36 h later */
			g->t += range(&g->rng, 10 * MIN_MS, 36 * HOUR_MS);
			simple(g, "reopened");
			g->t += range(&g->rng, 1000, 60000);
			exchange(g, kind == 0, &sentiment);
			ok = chance(&g->rng, 0.8);
			if (ok) {
				g->t += range(&g->rng, 5000, 5 * MIN_MS);
				resolved(g, by);
			}
		}
	}
	g->last_end = g->t;
	aftermath(g, kind, ok);
}

int gen_option(struct gen_config *cfg, const char *a, const char *v,
	       int64_t *end_ms, long *days)
{
	if (!strcmp(a, "--prefix"))
		cfg->prefix = v;
	else if (!strcmp(a, "--seed"))
		cfg->seed = (uint64_t)b_num(a, v, 0, 1L << 40);
	else if (!strcmp(a, "--end-ms"))
		*end_ms = b_num(a, v, 0, 1L << 50);
	else if (!strcmp(a, "--days"))
		*days = b_num(a, v, 3, 3650);
	else if (!strcmp(a, "--customers"))
		cfg->customers = b_num(a, v, 1, 100000000);
	else
		return 0;
	return 1;
}
