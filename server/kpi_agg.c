/* SPDX-License-Identifier: MIT */
/*
 * KPI aggregates from mergeable states: plans which days, hours and
 * minute slices of a query come from rollup rows (current, inside one
 * bucket) and which from the facts, runs both queries, sums their states per
 * (bucket, group) and finishes the columns: W-dependent counts from gap codes,
 * percentiles from histograms.
 */
#include "kpi_agg.h"
#include "rollup.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 2048
#define NSCOPES 16 /* 4 metrics x 4 streams */
#define GAP_KINDS 3

#define STATE_ENUM(id, expr) id,
enum kpi_state { KPI_STATES(STATE_ENUM) S_COUNT };
#undef STATE_ENUM

/* Columns of Q_KPI_FACTS and Q_KPI_ROLLUP. */
enum {
	COL_BUCKET,
	COL_OFFSET,
	COL_G1,
	COL_G2,
	COL_STATES,
	COL_HCODES = COL_STATES + S_COUNT,
	COL_GCODES,
	COL_HPAIRS,
	COL_GPAIRS
};

static const char *const interval_names[] = {"none", "1h", "1d", "1w"};

/* -- histograms ----------------------------------------------------------- */

double kpi_hist_value(int bucket)
{
	return bucket <= 0 ? 0 : 0.001 * pow(1.02, bucket - 0.5);
}

/* The value of the k-th smallest (0-based) of a histogram's values. */
static double rank_value(const uint32_t *hist, long k)
{
	long seen = 0;
	int b;

	for (b = 0; b < NBUCKETS; b++) {
		seen += hist[b];
		if (seen > k)
			return kpi_hist_value(b);
	}
	return NAN;
}

double kpi_hist_percentile(const uint32_t *hist, long n, double p)
{
	double pos, lo, frac, a;

	if (n <= 0)
		return NAN;
	pos = p * (double)(n - 1);
	lo = floor(pos);
	frac = pos - lo;
	a = rank_value(hist, (long)lo);
	if (frac == 0)
		return a;
	return a + frac * (rank_value(hist, (long)lo + 1) - a);
}

/* -- accumulating rows ----------------------------------------------------- */

struct acc {
	int64_t bucket_ms;
	int offset_s;
	char *g[2];
	double s[S_COUNT];
	long hits[GAP_KINDS];
	uint32_t *codes; /* histogram (code, count) pairs */
	size_t ncodes, cap;
};

struct plan {
	const struct kpi_query *q;
	int percentiles;
	struct acc *accs;
	int n, cap;
};

static int same_key(const struct acc *a, int64_t bucket, const char *g1,
		    const char *g2)
{
	return a->bucket_ms == bucket &&
	       ((!a->g[0] && !g1) || (a->g[0] && g1 && !strcmp(a->g[0], g1))) &&
	       ((!a->g[1] && !g2) || (a->g[1] && g2 && !strcmp(a->g[1], g2)));
}

static struct acc *acc_for(struct plan *p, int64_t bucket, int offset,
			   const char *g1, const char *g2)
{
	struct acc *a;
	int i;

	for (i = p->n - 1; i >= 0; i--)
		if (same_key(&p->accs[i], bucket, g1, g2))
			return &p->accs[i];
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->accs = xrealloc(p->accs, p->cap * sizeof(*p->accs));
	}
	a = &p->accs[p->n++];
	memset(a, 0, sizeof(*a));
	a->bucket_ms = bucket;
	a->offset_s = offset;
	a->g[0] = g1 ? xstrdup(g1) : NULL;
	a->g[1] = g2 ? xstrdup(g2) : NULL;
	return a;
}

static void add_code(struct acc *a, long code, long count)
{
	if (code < 0 || code >= NSCOPES * NBUCKETS || count <= 0)
		return;
	if (a->ncodes + 2 > a->cap) {
		a->cap = a->cap ? 2 * a->cap : 256;
		a->codes = xrealloc(a->codes, a->cap * sizeof(*a->codes));
	}
	a->codes[a->ncodes++] = (uint32_t)code;
	a->codes[a->ncodes++] = (uint32_t)count;
}

/* A histogram code (gaps == 0) or a gap code with its count. */
static void add_pair(struct acc *a, long code, long count, int gaps,
		     long window_h)
{
	if (!gaps)
		add_code(a, code, count);
	else if (code % 1024 <= window_h && code / 1024 < GAP_KINDS)
		a->hits[code / 1024] += count;
}

/* Each whole number in text (separators: anything else), counted once. */
static void each_code(const char *text, long window_h, struct acc *a, int gaps)
{
	char *end;
	long v;

	while (text && *text) {
		if (*text < '0' || *text > '9') {
			text++;
			continue;
		}
		v = strtol(text, &end, 10);
		text = end;
		add_pair(a, v, 1, gaps, window_h);
	}
}

/* n hex digits at s as a number; -1 when one is not a hex digit. */
static long hex_number(const char *s, int n)
{
	long v = 0;
	int i, d;

	for (i = 0; i < n; i++) {
		if ((d = hex_digit(s[i])) < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * Packed pairs (queries.def, KPI_PAIRS) as PostgreSQL sends a bytea:
 * "\x", then 12 hex digits per pair, a 2-byte code and a 4-byte count.
 */
static void each_packed(const char *hex, long window_h, struct acc *a, int gaps)
{
	long code, count;
	size_t len, i;

	if (!hex || hex[0] != '\\' || hex[1] != 'x')
		return;
	len = strlen(hex += 2);
	for (i = 0; i + 12 <= len; i += 12) {
		code = hex_number(hex + i, 4);
		count = hex_number(hex + i + 4, 8);
		if (code < 0 || count < 0)
			return;
		add_pair(a, code, count, gaps, window_h);
	}
}

static void add_rows(struct plan *p, const struct db_res *res)
{
	const char *v;
	struct acc *a;
	int r, i;

	for (r = 0; r < db_res_rows(res); r++) {
		a = acc_for(p, db_res_i64(res, r, COL_BUCKET),
			    db_res_int(res, r, COL_OFFSET),
			    db_res_value(res, r, COL_G1),
			    db_res_value(res, r, COL_G2));
		for (i = 0; i < S_COUNT; i++)
			if ((v = db_res_value(res, r, COL_STATES + i)))
				a->s[i] += strtod(v, NULL);
		each_code(db_res_value(res, r, COL_HCODES), 0, a, 0);
		each_packed(db_res_value(res, r, COL_HPAIRS), 0, a, 0);
		each_code(db_res_value(res, r, COL_GCODES), p->q->window_hours,
			  a, 1);
		each_packed(db_res_value(res, r, COL_GPAIRS),
			    p->q->window_hours, a, 1);
	}
}

/* -- finishing --------------------------------------------------------------
 */

static double ratio(double sum, double n)
{
	return n > 0 ? sum / n : NAN;
}

/*
 * Histograms of one group: dense (NSCOPES x NBUCKETS counts, all zero
 * between groups) and a merge buffer of NBUCKETS.
 */
struct hists {
	uint32_t *dense, *merged;
};

/* Adds the group's histogram pairs to h->dense (or, undo, clears them). */
static void hists_fill(struct hists *h, const struct acc *a, int undo)
{
	size_t i;

	for (i = 0; i + 1 < a->ncodes; i += 2)
		h->dense[a->codes[i]] =
		    undo ? 0 : h->dense[a->codes[i]] + a->codes[i + 1];
}

/* The histogram of metric m in stream s. */
static const uint32_t *scope_hist(const struct hists *h, int m, int s)
{
	return h->dense + (size_t)(m * 4 + s) * NBUCKETS;
}

/* p50 and p90 of the metric m over the streams in mask (bit per stream). */
static void percentiles(struct hists *h, int m, int mask, double out[2])
{
	const uint32_t *src = NULL, *one;
	long n = 0;
	int s, b, nsrc = 0;

	for (s = 0; s < 4; s++)
		if (mask & (1 << s)) {
			src = scope_hist(h, m, s);
			nsrc++;
		}
	if (nsrc > 1) { /* several streams: merge them */
		memset(h->merged, 0, NBUCKETS * sizeof(*h->merged));
		for (s = 0; s < 4; s++) {
			if (!(mask & (1 << s)))
				continue;
			one = scope_hist(h, m, s);
			for (b = 0; b < NBUCKETS; b++)
				h->merged[b] += one[b];
		}
		src = h->merged;
	}
	for (b = 0; src && b < NBUCKETS; b++)
		n += src[b];
	out[0] = kpi_hist_percentile(src, n, 0.5);
	out[1] = kpi_hist_percentile(src, n, 0.9);
}

static void finish_durations(const struct acc *a, struct kpi_group *g,
			     struct hists *h)
{
	static const int first[3] = {K_TTFR_ALL_PCT, K_TTR_ALL_PCT,
				     K_TTE_ALL_PCT};
	static const int state[3] = {S_TTFR_ALL_SUM, S_TTR_ALL_SUM,
				     S_TTE_ALL_SUM};
	int m, sc, col, st;

	for (m = 0; m < 3; m++)
		for (sc = 0; sc < 5; sc++) { /* all, then the four streams */
			col = first[m] + 3 * sc;
			st = state[m] + 2 * sc;
			g->v[col + 1] = ratio(a->s[st], a->s[st + 1]);
			g->v[col + 2] = a->s[st + 1];
			g->pct[col][0] = g->pct[col][1] = NAN;
			if (h)
				percentiles(h, m, sc ? 1 << (sc - 1) : 0xf,
					    g->pct[col]);
		}
}

/* The group's columns from its states; percentiles when h is given. */
static void finish(const struct acc *a, struct kpi_group *g, struct hists *h)
{
	static const struct {
		int k, s;
	} copy[] = {
	    {K_N, S_N},
	    {K_A, S_A},
	    {K_AI_ONLY, S_AI_ONLY},
	    {K_HYBRID, S_HYBRID},
	    {K_HUMAN_ONLY, S_HUMAN_ONLY},
	    {K_NONE, S_NONE},
	    {K_CONTAINED, S_CONTAINED},
	    {K_CONFIRMED, S_CONFIRMED},
	    {K_A_ESCALATED, S_A_ESCALATED},
	    {K_ABANDONED, S_ABANDONED},
	    {K_EVER_RESOLVED, S_EVER_RESOLVED},
	    {K_CLARIFIED, S_CLARIFIED},
	    {K_TOOL_FAILURES, S_TOOL_FAILURES},
	    {K_TOOL_CALLS, S_TOOL_CALLS},
	    {K_A_GRADED_HALLUC, S_A_GRADED_HALLUC},
	    {K_A_GRADED, S_A_GRADED},
	    {K_ACCURATE, S_ACCURATE},
	    {K_ACCURACY_DEN, S_ACCURACY_DEN},
	    {K_ESC_APPROPRIATE, S_ESC_APPROPRIATE},
	    {K_ESC_APPROPRIATE_DEN, S_ESC_APPROPRIATE_DEN},
	    {K_RESOLVED, S_RESOLVED},
	    {K_TURNS_N, S_RESOLVED},
	    {K_CSAT_AI_ONLY_N, S_CSAT_AI_ONLY_N},
	    {K_CSAT_AI_ONLY_SAT, S_CSAT_AI_ONLY_SAT},
	    {K_CSAT_HYBRID_N, S_CSAT_HYBRID_N},
	    {K_CSAT_HYBRID_SAT, S_CSAT_HYBRID_SAT},
	    {K_CSAT_HUMAN_ONLY_N, S_CSAT_HUMAN_ONLY_N},
	    {K_CSAT_HUMAN_ONLY_SAT, S_CSAT_HUMAN_ONLY_SAT},
	    {K_DELTA_T_N, S_DT_N},
	    {K_DELTA_B_N, S_DB_N},
	    {K_SENT_BOTH, S_SENT_BOTH},
	    {K_SENT_IMPROVED, S_SENT_IMPROVED},
	    {K_SENT_WORSENED, S_SENT_WORSENED},
	    {K_QUALITY_N, S_QUALITY_N},
	};
	static const int costs[5] = {S_COST_ALL_SUM, S_COST_AI_ONLY_SUM,
				     S_COST_HYBRID_SUM, S_COST_HUMAN_ONLY_SUM,
				     S_COST_NONE_SUM};
	static const int csat[3][2] = {
	    {K_CSAT_AI_ONLY_MEAN, S_CSAT_AI_ONLY_SUM},
	    {K_CSAT_HYBRID_MEAN, S_CSAT_HYBRID_SUM},
	    {K_CSAT_HUMAN_ONLY_MEAN, S_CSAT_HUMAN_ONLY_SUM}};
	double n, sum;
	size_t i;
	int k;

	for (i = 0; i < sizeof(copy) / sizeof(copy[0]); i++)
		g->v[copy[i].k] = a->s[copy[i].s];
	g->v[K_TRUE_RESOLVED] = a->s[S_TR_CLEAN] - (double)a->hits[0];
	g->v[K_REOPENED] = (double)a->hits[1];
	g->v[K_FCR] = a->s[S_FCR_BASE] - (double)a->hits[2];
	if (h)
		hists_fill(h, a, 0);
	finish_durations(a, g, h);
	g->v[K_TURNS_MEAN] = ratio(a->s[S_TURNS_SUM], a->s[S_TURNS_N]);
	g->v[K_TURNS_P50] = NAN;
	if (h) {
		double tp[2];

		percentiles(h, 3, 0xf, tp);
		g->v[K_TURNS_P50] = tp[0];
		hists_fill(h, a, 1);
	}
	for (k = 0; k < 3; k++)
		g->v[csat[k][0]] =
		    ratio(a->s[csat[k][1]], a->s[csat[k][1] - 1]);
	for (k = 0; k < 2; k++) {
		n = a->s[k ? S_DB_N : S_DT_N];
		sum = a->s[k ? S_DB_SUM : S_DT_SUM];
		g->v[k ? K_DELTA_B_MEAN : K_DELTA_T_MEAN] = ratio(sum, n);
		g->v[k ? K_DELTA_B_VAR : K_DELTA_T_VAR] =
		    n >= 2
			? (a->s[k ? S_DB_SUMSQ : S_DT_SUMSQ] - sum * sum / n) /
			      (n - 1)
			: NAN;
	}
	for (k = 0; k < 5; k++) {
		g->v[K_COST_ALL_SUM + 3 * k] = a->s[costs[k]];
		g->v[K_COST_ALL_RESOLVED + 3 * k] = a->s[costs[k] + 1];
		/* truly resolved needs containment: only ai_only has any */
		g->v[K_COST_ALL_TRUE + 3 * k] =
		    k <= 1 ? g->v[K_TRUE_RESOLVED] : 0;
	}
	for (k = 0; k < 6; k++)
		g->v[K_REASON_CUSTOMER_REQUESTED + k] =
		    a->s[S_REASON_CUSTOMER_REQUESTED + k];
	for (k = 0; k < 5; k++)
		g->v[K_FAIL_KNOWLEDGE + k] = a->s[S_FAIL_KNOWLEDGE + k];
	g->v[K_QUALITY_MEAN] = ratio(a->s[S_QUALITY_SUM], a->s[S_QUALITY_N]);
}

/* NULL sorts last, as in SQL. */
static int cmp_opt(const char *x, const char *y)
{
	if (!x || !y)
		return !x - !y;
	return strcmp(x, y);
}

static int cmp_group(const void *x, const void *y)
{
	const struct kpi_group *a = x, *b = y;
	int c;

	if (a->bucket_ms != b->bucket_ms)
		return a->bucket_ms < b->bucket_ms ? -1 : 1;
	if ((c = cmp_opt(a->g[0], b->g[0])))
		return c;
	return cmp_opt(a->g[1], b->g[1]);
}

/* -- planning
 * ------------------------------------------------------------------ */

struct times {
	int64_t *t;
	int n, cap;
};

static void times_add(struct times *ts, int64_t t)
{
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? 2 * ts->cap : 64;
		ts->t = xrealloc(ts->t, ts->cap * sizeof(*ts->t));
	}
	ts->t[ts->n++] = t;
}

/* A facts piece [lo, hi), joined to the last one when they touch. */
static void piece_add(struct times *lo, struct times *hi, int64_t a, int64_t b)
{
	if (a >= b)
		return;
	if (hi->n && hi->t[hi->n - 1] == a) {
		hi->t[hi->n - 1] = b;
		return;
	}
	times_add(lo, a);
	times_add(hi, b);
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* Whether sorted t holds a value in the open interval (a, b). */
static int any_inside(const struct times *ts, int64_t a, int64_t b)
{
	int lo = 0, hi = ts->n;

	while (lo < hi) { /* first value > a */
		int mid = (lo + hi) / 2;

		if (ts->t[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ts->n && ts->t[lo] < b;
}

static int has(const struct times *ts, int64_t v)
{
	return ts->n &&
	       bsearch(&v, ts->t, ts->n, sizeof(*ts->t), cmp_i64) != NULL;
}

/* Whether the rollup cells (channel, agent_version, stream) can answer q. */
static int rollup_answers(const struct kpi_query *q)
{
	int i;

	if (q->baseline_cohort)
		return 0;
	for (i = 0; i < KPI_KEY_COUNT; i++)
		if (i != KPI_KEY_CHANNEL && i != KPI_KEY_AGENT_VERSION &&
		    i != KPI_KEY_STREAM &&
		    (q->filters[i].nin >= 0 || q->filters[i].nout > 0))
			return 0;
	for (i = 0; i < q->ngroup; i++)
		if (q->group_by[i] != KPI_KEY_CHANNEL &&
		    q->group_by[i] != KPI_KEY_AGENT_VERSION &&
		    q->group_by[i] != KPI_KEY_STREAM)
			return 0;
	return 1;
}

/* The marks of a query's range, each sorted. */
struct marks {
	struct times hours, days, slices;
	struct times sliced; /* hours kept as minute slices */
};

/* The rollup pieces a query reads: days, hours and minute slices. */
struct pieces {
	struct times days, hours, slices;
};

/* Reads the marks and sliced hours of [floor_day(from), to). */
static int read_marks(struct db_conn *conn, const struct kpi_query *q,
		      struct marks *m, struct err *err)
{
	char lo[TIME_BUF_LEN], hi[TIME_BUF_LEN];
	const char *params[3] = {
	    q->tenant_id, time_format_ms(time_floor_ms(q->from_ms, DAY_MS), lo),
	    time_format_ms(q->to_ms, hi)};
	struct times *all[4] = {&m->hours, &m->days, &m->slices, &m->sliced};
	struct db_res *res;
	const char *span;
	int i;

	if (!(res = db_exec(conn, Q_MARKS_RANGE, params, err)))
		return -1;
	for (i = 0; i < db_res_rows(res); i++) {
		span = db_res_value(res, i, 0);
		times_add(span[0] == 'h'   ? &m->hours
			  : span[0] == 'd' ? &m->days
			  : span[0] == 's' ? &m->slices
					   : &m->sliced,
			  db_res_i64(res, i, 1));
	}
	db_res_free(res);
	for (i = 0; i < 4; i++)
		if (all[i]->n)
			qsort(all[i]->t, all[i]->n, sizeof(*all[i]->t),
			      cmp_i64);
	return 0;
}

/*
 * The part [a, b) of q's range in span [s, s + len): from the rollup
 * (into *rows) when it covers the span whole, no bucket starts strictly
 * inside and the span is not marked; else a facts piece.
 */
static void span_add(const struct kpi_query *q, const struct times *bounds,
		     const struct times *marked, struct times *rows,
		     struct times *lo, struct times *hi, int64_t s, int64_t len)
{
	int64_t a = s > q->from_ms ? s : q->from_ms;
	int64_t b = s + len < q->to_ms ? s + len : q->to_ms;

	if (a == s && b == s + len && !any_inside(bounds, s, s + len) &&
	    !has(marked, s))
		times_add(rows, s);
	else
		piece_add(lo, hi, a, b);
}

/*
 * Splits [from, to) into rollup days, hours and minute slices, and facts
 * pieces. A whole day comes from its row when neither it nor any of its
 * hours is marked or sliced (a sliced hour's changes mark its minutes,
 * not its day); a sliced hour from its minute slices; other hours from
 * their rows. See span_add for what each needs.
 */
static void split(const struct kpi_query *q, const struct times *bounds,
		  const struct marks *m, struct pieces *out, struct times *lo,
		  struct times *hi)
{
	int64_t h, s;

	for (h = time_floor_ms(q->from_ms, HOUR_MS); h < q->to_ms;) {
		if (h % DAY_MS == 0 && h >= q->from_ms &&
		    h + DAY_MS <= q->to_ms &&
		    !any_inside(bounds, h, h + DAY_MS) && !has(&m->days, h) &&
		    !any_inside(&m->hours, h - 1, h + DAY_MS) &&
		    !any_inside(&m->sliced, h - 1, h + DAY_MS)) {
			times_add(&out->days, h);
			h += DAY_MS;
			continue;
		}
		if (has(&m->sliced, h)) {
			for (s = h; s < h + HOUR_MS && s < q->to_ms;
			     s += ROLLUP_SLICE_MS)
				if (s + ROLLUP_SLICE_MS > q->from_ms)
					span_add(q, bounds, &m->slices,
						 &out->slices, lo, hi, s,
						 ROLLUP_SLICE_MS);
		} else {
			span_add(q, bounds, &m->hours, &out->hours, lo, hi, h,
				 HOUR_MS);
		}
		h += HOUR_MS;
	}
}

/* A timestamptz[] literal of the times ts. */
static char *time_array(const struct times *ts)
{
	return pg_time_array(ts->t, (size_t)ts->n);
}

static char *filter_array(const struct kpi_filter *f, int out)
{
	if (out)
		return f->nout > 0 ? pg_text_array(f->out, (size_t)f->nout)
				   : NULL;
	return f->nin >= 0 ? pg_text_array(f->in, (size_t)f->nin) : NULL;
}

/* -- running ------------------------------------------------------------- */

/*
 * Runs query id with params, adds its rows to p, then frees the n
 * strings of owned. 0 or -1 with err.
 */
static int run_into(struct db_conn *conn, struct plan *p, enum query_id id,
		    const char *const *params, char **owned, int n,
		    struct err *err)
{
	struct db_res *res = db_exec(conn, id, params, err);
	int i, rc = res ? 0 : -1;

	if (res)
		add_rows(p, res);
	db_res_free(res);
	for (i = 0; i < n; i++)
		free(owned[i]);
	return rc;
}

/*
 * The parameters both state queries start with: $1 tenant, $2 from (the
 * bucket origin, formatted into from), $3 $4 group keys (NULL: none).
 */
static void first_params(const struct kpi_query *q, const char **params,
			 char from[TIME_BUF_LEN])
{
	int i;

	params[0] = q->tenant_id;
	params[1] = time_format_ms(q->from_ms, from);
	for (i = 0; i < q->ngroup; i++)
		params[2 + i] = kpi_key_name(q->group_by[i]);
}

static int run_facts(struct db_conn *conn, struct plan *p,
		     const struct times *lo, const struct times *hi,
		     struct err *err)
{
	const struct kpi_query *q = p->q;
	char from[TIME_BUF_LEN], *owned[2 * KPI_KEY_COUNT + 2];
	const char *params[27];
	int i;

	memset(params, 0, sizeof(params));
	first_params(q, params, from);
	for (i = 0; i < KPI_KEY_COUNT; i++) {
		params[4 + i] = owned[i] = filter_array(&q->filters[i], 0);
		params[13 + i] = owned[KPI_KEY_COUNT + i] =
		    filter_array(&q->filters[i], 1);
	}
	params[22] = q->baseline_cohort;
	params[23] = interval_names[q->interval];
	params[24] = p->percentiles ? "true" : "false";
	params[25] = owned[2 * KPI_KEY_COUNT] = time_array(lo);
	params[26] = owned[2 * KPI_KEY_COUNT + 1] = time_array(hi);
	return run_into(conn, p, Q_KPI_FACTS, params, owned,
			2 * KPI_KEY_COUNT + 2, err);
}

/* Whether q groups or filters by key k. */
static int uses_key(const struct kpi_query *q, int k)
{
	int i;

	for (i = 0; i < q->ngroup; i++)
		if (q->group_by[i] == k)
			return 1;
	return q->filters[k].nin >= 0 || q->filters[k].nout > 0;
}

/*
 * The coarsest rollup level with every key q uses (migration 0010): a bit
 * for each key its rows keep, 2 channel and 1 agent_version.
 */
static const char *rollup_level(const struct kpi_query *q)
{
	static const char *const names[4] = {"0", "1", "2", "3"};

	return names[(uses_key(q, KPI_KEY_CHANNEL) ? 2 : 0) |
		     (uses_key(q, KPI_KEY_AGENT_VERSION) ? 1 : 0)];
}

static int run_rollup(struct db_conn *conn, struct plan *p,
		      const struct pieces *rows, struct err *err)
{
	static const int keys[3] = {KPI_KEY_CHANNEL, KPI_KEY_AGENT_VERSION,
				    KPI_KEY_STREAM};
	const struct kpi_query *q = p->q;
	char from[TIME_BUF_LEN], *owned[9];
	const char *params[16];
	int i;

	memset(params, 0, sizeof(params));
	first_params(q, params, from);
	for (i = 0; i < 3; i++) {
		params[4 + i] = owned[i] =
		    filter_array(&q->filters[keys[i]], 0);
		params[7 + i] = owned[3 + i] =
		    filter_array(&q->filters[keys[i]], 1);
	}
	params[10] = interval_names[q->interval];
	params[11] = p->percentiles ? "true" : "false";
	params[12] = owned[6] = time_array(&rows->days);
	params[13] = owned[7] = time_array(&rows->hours);
	params[14] = rollup_level(q);
	params[15] = owned[8] = time_array(&rows->slices);
	return run_into(conn, p, Q_KPI_ROLLUP, params, owned, 9, err);
}

int kpi_agg_run(struct db_conn *conn, const struct kpi_query *q,
		const int64_t *boundaries, int nboundaries, int percentiles,
		struct kpi_result *r, struct err *err)
{
	struct times bounds = {NULL, 0, 0}, lo = {NULL, 0, 0},
		     hi = {NULL, 0, 0};
	struct marks m;
	struct pieces rows;
	struct plan p = {q, percentiles, NULL, 0, 0};
	struct hists h = {NULL, NULL};
	int i, rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&m, 0, sizeof(m));
	memset(&rows, 0, sizeof(rows));
	for (i = 0; i < nboundaries; i++)
		if (boundaries[i] > q->from_ms && boundaries[i] < q->to_ms)
			times_add(&bounds, boundaries[i]);
	if (!rollup_answers(q)) {
		piece_add(&lo, &hi, q->from_ms, q->to_ms);
	} else {
		if (read_marks(conn, q, &m, err) < 0)
			goto out;
		split(q, &bounds, &m, &rows, &lo, &hi);
	}
	if ((rows.days.n || rows.hours.n || rows.slices.n) &&
	    run_rollup(conn, &p, &rows, err) < 0)
		goto out;
	if (lo.n && run_facts(conn, &p, &lo, &hi, err) < 0)
		goto out;
	r->n = p.n;
	r->groups = xcalloc(p.n ? p.n : 1, sizeof(*r->groups));
	if (percentiles) {
		h.dense = xcalloc((size_t)NSCOPES * NBUCKETS, sizeof(*h.dense));
		h.merged = xmalloc(NBUCKETS * sizeof(*h.merged));
	}
	for (i = 0; i < p.n; i++) {
		r->groups[i].bucket_ms = p.accs[i].bucket_ms;
		r->groups[i].offset_s = p.accs[i].offset_s;
		r->groups[i].g[0] = p.accs[i].g[0];
		r->groups[i].g[1] = p.accs[i].g[1];
		p.accs[i].g[0] = p.accs[i].g[1] = NULL;
		finish(&p.accs[i], &r->groups[i], percentiles ? &h : NULL);
	}
	if (r->n)
		qsort(r->groups, r->n, sizeof(*r->groups), cmp_group);
	rc = 0;
out:
	for (i = 0; i < p.n; i++) {
		free(p.accs[i].g[0]);
		free(p.accs[i].g[1]);
		free(p.accs[i].codes);
	}
	free(p.accs);
	free(h.dense);
	free(h.merged);
	free(bounds.t);
	free(m.hours.t);
	free(m.days.t);
	free(m.slices.t);
	free(m.sliced.t);
	free(rows.days.t);
	free(rows.hours.t);
	free(rows.slices.t);
	free(lo.t);
	free(hi.t);
	return rc;
}

void kpi_result_release(struct kpi_result *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		free(r->groups[i].g[0]);
		free(r->groups[i].g[1]);
	}
	free(r->groups);
	r->groups = NULL;
	r->n = 0;
}
