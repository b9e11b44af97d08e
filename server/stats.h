/* SPDX-License-Identifier: MIT */
/*
 * Confidence intervals and percentiles behind the KPI figures (Wilson for
 * rates, Welch for csat_delta, percentile_cont for durations). Pure: no I/O,
 * no allocation, no global state; safe to call from any thread.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>

/* The two-sided 95 % normal critical value used for every rate's ci95. */
#define STATS_Z95 1.959964

/*
 * Wilson score interval for num successes out of den trials at critical
 * value z (STATS_Z95 for 95 %). On success stores the bounds, clamped to
 * [0, 1], in *lo and *hi (both must point to caller-owned doubles) and
 * returns 0. Returns -1 and leaves *lo and *hi untouched when den <= 0,
 * num < 0, num > den, or z is negative or not finite.
 */
int stats_wilson(long num, long den, double z, double *lo, double *hi);

/*
 * Student's t quantile: the x with P(T <= x) = p for T ~ t(df), for any
 * df > 0 (non-integer df, as Welch gives, is fine; df = INFINITY gives the
 * normal quantile) and 0 < p < 1. Accurate to 1e-12 relative or better
 * (the contract is 1e-9); -/+INFINITY when the quantile exceeds DBL_MAX,
 * as it soon does for df far below 1. Returns 0 for p = 0.5 and NAN when
 * p or df is out of range or NaN.
 */
double stats_t_quantile(double p, double df);

/*
 * Welch two-sample interval for mean1 - mean2, given sample variances var1,
 * var2 (n - 1 denominators) and sample sizes n1, n2, at confidence level
 * conf (0.95 for 95 %). Stores mean1 - mean2 in *diff and the interval
 * diff -/+ t(1 - (1 - conf) / 2, nu) * sqrt(var1 / n1 + var2 / n2) in *lo
 * and *hi, nu being the Welch-Satterthwaite degrees of freedom. When both
 * variances are 0 the interval is [diff, diff]. The three outputs are
 * caller-owned and must not be NULL. Returns 0 on success; returns -1 and
 * leaves the outputs untouched when n1 < 2 or n2 < 2, a mean is not finite,
 * a variance is negative or not finite, or conf is not in (0, 1).
 */
int stats_welch(double mean1, double var1, long n1, double mean2, double var2,
		long n2, double conf, double *diff, double *lo, double *hi);

/*
 * Percentile p (0 <= p <= 1) of the n ascending-sorted values in sorted
 * (borrowed, not modified), with linear interpolation exactly as
 * PostgreSQL's percentile_cont(p) WITHIN GROUP (ORDER BY x) computes it for
 * float8, down to the last bit: position p * (n - 1), interpolated between
 * the values at its floor and ceiling. Returns NAN when n == 0, sorted is
 * NULL, or p is outside [0, 1] or NaN (PostgreSQL raises an error there).
 */
double stats_percentile_cont(const double *sorted, size_t n, double p);

#endif /* STATS_H */
