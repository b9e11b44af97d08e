/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for server/stats.c: Wilson and Welch intervals, Student's t
 * quantiles and percentile_cont, against published and independently
 * computed values.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stddef.h>

#include "stats.h"

/*
 * Reference values marked "mp" were computed with mpmath 1.3.0 at 40 or
 * more significant digits: t quantiles by bisection on the regularized
 * incomplete beta function (betainc; for tiny df at 120 digits, on
 * P(|T| > t) = I_x(df/2, 1/2) with t = e^L bisected in L), cross-checked
 * by Newton iteration on the numerically integrated density and, where
 * one exists, by the closed form. The p passed to mpmath was the double
 * nearest the decimal literal (e.g. 0.97499999999999997780 for 0.975), as
 * here.
 */

/* |actual - expected| <= rel * |expected| */
#define assert_rel(actual, expected, rel, ...)                                 \
	cr_assert_float_eq((actual), (expected), (rel)*fabs(expected),         \
			   __VA_ARGS__)

/* Tolerance for t quantiles: the contract is 1e-9; we hold to 1e-12. */
#define T_REL 1e-12

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PI 3.14159265358979323846

/* ---- Wilson ---- */

/*
 * Newcombe (1998), "Two-sided confidence intervals for the single
 * proportion: comparison of seven methods", Statistics in Medicine 17,
 * 857-872, Table I, score method without continuity correction,
 * z = 1.96, printed to four decimals: so within 5e-5 (z = 1.959964 does
 * not move the fourth decimal). The Wald interval would give
 * 0.2522-0.3638 for 81/263 and fail.
 */
Test(stats, wilson_newcombe_table)
{
	static const struct {
		long num, den;
		double lo, hi;
	} cases[] = {
	    {81, 263, 0.2553, 0.3662},
	    {15, 148, 0.0624, 0.1605},
	    {0, 20, 0.0000, 0.1611},
	    {1, 29, 0.0061, 0.1718},
	};
	double lo, hi;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		cr_assert_eq(stats_wilson(cases[i].num, cases[i].den, STATS_Z95,
					  &lo, &hi),
			     0);
		cr_assert_float_eq(lo, cases[i].lo, 5e-5,
				   "lo of %ld/%ld = %.6f", cases[i].num,
				   cases[i].den, lo);
		cr_assert_float_eq(hi, cases[i].hi, 5e-5,
				   "hi of %ld/%ld = %.6f", cases[i].num,
				   cases[i].den, hi);
	}
}

/*
 * Full-precision values at z = 1.959964 (mp, from
 * (2k + z^2 -/+ z sqrt(z^2 + 4k(n-k)/n)) / (2(n + z^2))).
 * 81/263 (Newcombe's example) is [0.25528851948901575, 0.36620957745801942].
 */
Test(stats, wilson_exact_values)
{
	static const struct {
		long num, den;
		double lo, hi;
	} cases[] = {
	    {0, 10, 0.0, 0.27753280302605771909},
	    {10, 10, 0.72246719697394228091, 1.0},
	    {1, 2, 0.094531204639200799033, 0.90546879536079920097},
	    {81, 263, 0.25528851948901574755, 0.366209577458019421},
	    {50, 100, 0.4038315296354929714, 0.5961684703645070286},
	    {0, 1, 0.0, 0.79345068820819725894},
	    {1, 1, 0.20654931179180274106, 1.0},
	    {1, 3, 0.061491944020930838487, 0.79234040119217570884},
	    {2, 3, 0.20765959880782429116, 0.93850805597906916151},
	    {3, 1000000, 1.0202712330420861858e-6, 8.8211498428395172952e-6},
	};
	double lo, hi;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		cr_assert_eq(stats_wilson(cases[i].num, cases[i].den, STATS_Z95,
					  &lo, &hi),
			     0);
		assert_rel(lo, cases[i].lo, 1e-14, "lo of %ld/%ld = %.17g",
			   cases[i].num, cases[i].den, lo);
		assert_rel(hi, cases[i].hi, 1e-14, "hi of %ld/%ld = %.17g",
			   cases[i].num, cases[i].den, hi);
	}
}

/* No successes: the lower bound is exactly 0; all successes: upper is 1. */
Test(stats, wilson_bounds_exact_at_extremes)
{
	double lo, hi;

	cr_assert_eq(stats_wilson(0, 7, STATS_Z95, &lo, &hi), 0);
	cr_assert_float_eq(lo, 0.0, 0.0);
	cr_assert(hi > 0.0 && hi < 1.0);
	cr_assert_eq(stats_wilson(7, 7, STATS_Z95, &lo, &hi), 0);
	cr_assert_float_eq(hi, 1.0, 0.0);
	cr_assert(lo > 0.0 && lo < 1.0);
}

/* For every k <= n <= 60: 0 <= lo <= k/n <= hi <= 1, lo(k) = 1 - hi(n-k). */
Test(stats, wilson_properties_small_samples)
{
	double lo, hi, lo2, hi2, phat;
	long n, k;

	for (n = 1; n <= 60; n++) {
		for (k = 0; k <= n; k++) {
			cr_assert_eq(stats_wilson(k, n, STATS_Z95, &lo, &hi),
				     0);
			cr_assert_eq(
			    stats_wilson(n - k, n, STATS_Z95, &lo2, &hi2), 0);
			phat = (double)k / (double)n;
			cr_assert(lo >= 0.0 && lo <= phat && phat <= hi &&
				      hi <= 1.0,
				  "%ld/%ld: [%g, %g]", k, n, lo, hi);
			cr_assert_float_eq(lo, 1.0 - hi2, 1e-15,
					   "%ld/%ld: lo %.17g, 1 - hi' %.17g",
					   k, n, lo, 1.0 - hi2);
		}
	}
}

/* z = 0 collapses the interval onto the observed proportion. */
Test(stats, wilson_z_zero)
{
	double lo, hi;

	cr_assert_eq(stats_wilson(3, 8, 0.0, &lo, &hi), 0);
	cr_assert_float_eq(lo, 0.375, 1e-16);
	cr_assert_float_eq(hi, 0.375, 1e-16);
}

Test(stats, wilson_rejects_bad_input)
{
	static const struct {
		long num, den;
		double z;
	} cases[] = {
	    {0, 0, STATS_Z95},	{1, 0, STATS_Z95}, {0, -5, STATS_Z95},
	    {-1, 5, STATS_Z95}, {6, 5, STATS_Z95}, {1, 5, -1.0},
	    {1, 5, NAN},	{1, 5, INFINITY},
	};
	double lo, hi;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		lo = 123.0;
		hi = 456.0;
		cr_assert_eq(stats_wilson(cases[i].num, cases[i].den,
					  cases[i].z, &lo, &hi),
			     -1, "case %zu accepted", i);
		cr_assert_float_eq(lo, 123.0, 0.0, "case %zu touched lo", i);
		cr_assert_float_eq(hi, 456.0, 0.0, "case %zu touched hi", i);
	}
}

/* ---- Student's t quantile ---- */

/*
 * The nine-digit values commonly quoted for t(0.975, df), checked to half
 * a unit in their last digit.
 */
Test(stats, t_quantile_quoted_values)
{
	static const struct {
		double df, t, half_ulp;
	} cases[] = {
	    {1, 12.7062047, 5e-8},  {2, 4.30265273, 5e-9},
	    {5, 2.57058184, 5e-9},  {10, 2.22813885, 5e-9},
	    {30, 2.04227246, 5e-9}, {1e6, 1.959966, 5e-7},
	};
	double t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		t = stats_t_quantile(0.975, cases[i].df);
		cr_assert_float_eq(t, cases[i].t, cases[i].half_ulp,
				   "t(0.975, %g) = %.12g", cases[i].df, t);
	}
}

/*
 * NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.2 "Critical
 * values of the Student's t distribution", upper tail 0.025 column (three
 * decimals; infinity row 1.960 checked with df = 1e9).
 */
Test(stats, t_quantile_nist_table)
{
	static const struct {
		double df, t;
	} cases[] = {
	    {1, 12.706},  {2, 4.303},	{3, 3.182},  {4, 2.776},  {5, 2.571},
	    {6, 2.447},	  {7, 2.365},	{8, 2.306},  {9, 2.262},  {10, 2.228},
	    {15, 2.131},  {20, 2.086},	{30, 2.042}, {40, 2.021}, {60, 2.000},
	    {100, 1.984}, {1e9, 1.960},
	};
	double t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		t = stats_t_quantile(0.975, cases[i].df);
		cr_assert_float_eq(t, cases[i].t, 5e-4, "t(0.975, %g) = %.6f",
				   cases[i].df, t);
	}
}

/* Full-precision values (mp), including non-integer df as Welch gives. */
Test(stats, t_quantile_reference_values)
{
	static const struct {
		double p, df, t;
	} cases[] = {
	    {0.975, 1, 12.70620473617469331410164},
	    {0.975, 2, 4.302652729749461789420376},
	    {0.975, 5, 2.570581835636314782788546},
	    {0.975, 9, 2.262157162798204999202853},
	    {0.975, 10, 2.228138851986274224519862},
	    {0.975, 18, 2.100922040241038034765975},
	    {0.975, 30, 2.042272456301237887834999},
	    {0.975, 0.5, 164.557673480488240799376},
	    {0.975, 2.5, 3.574654842003681760677201},
	    {0.975, 7.5, 2.333039626864974026634731},
	    {0.975, 11.56, 2.188046237766678627662981},
	    /* df/2 >= 50, x >= 1/2: the large-a expansion */
	    {0.975, 100, 1.983971518523551894556437},
	    {1e-10, 100, -7.08337548140072245778925},
	    {1e-6, 101, -5.045753204611432216086559},
	    {0.999, 150.5, 3.145266106241515773661437},
	    {0.975, 1e6, 1.9599663568141070353},
	    {0.975, 1e10, 1.9599639847772813586},
	    {0.95, 11.56, 1.787956813656474033761925},
	    {0.9, 7.5, 1.405211846415953079013512},
	    {0.995, 12.25, 3.043228310411184478154631},
	    {0.6, 2.5, 0.281459512748547591752496},
	    {0.05, 3, -2.353363434801823816501991},
	    {0.5000001, 4, 2.666666665263090578715798e-7},
	    {1e-10, 1, -3183098861.837906599305625},
	    /* tiny df: P(|T| < t) is not formed as 1 - P(|T| > t) */
	    {0.500000001, 1e-10, 2425.8246535247052},
	    {0.499999999, 1e-10, -2425.8273467325896},
	    {0.501, 1e-5, 1.395863827858052e+84},
	    {0.6, 1e-3, 1.285764641292127e+95},
	    {0.5000001, 1e-7, 0.0011469142489584932},
	};
	double t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		t = stats_t_quantile(cases[i].p, cases[i].df);
		assert_rel(t, cases[i].t, T_REL, "t(%.17g, %g) = %.17g",
			   cases[i].p, cases[i].df, t);
	}
}

/* df = 1 (Cauchy): t = tan(pi (p - 1/2)), written to stay accurate. */
static double cauchy_quantile(double p)
{
	if (p >= 0.25 && p <= 0.75)
		return tan(PI * (p - 0.5));
	if (p < 0.5)
		return -1.0 / tan(PI * p);
	return 1.0 / tan(PI * (1.0 - p));
}

/* df = 2: t = (2p - 1) / sqrt(2 p (1 - p)). */
static double t2_quantile(double p)
{
	return (2.0 * p - 1.0) / sqrt(2.0 * p * (1.0 - p));
}

/* Closed forms for df = 1 and 2, from deep tails to the centre. */
Test(stats, t_quantile_closed_forms)
{
	static const double ps[] = {
	    1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01,   0.025,
	    0.05,   0.1,    0.2,   0.25,  0.3,	0.4,   0.4999, 0.5001,
	    0.6,    0.75,   0.8,   0.9,	  0.95, 0.975, 0.99,   0.999999,
	};
	double t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ps); i++) {
		t = stats_t_quantile(ps[i], 1.0);
		assert_rel(t, cauchy_quantile(ps[i]), T_REL, "t(%g, 1) = %.17g",
			   ps[i], t);
		t = stats_t_quantile(ps[i], 2.0);
		assert_rel(t, t2_quantile(ps[i]), T_REL, "t(%g, 2) = %.17g",
			   ps[i], t);
	}
}

/* Huge df: the normal quantile plus the first-order term (z^3 + z)/(4 df). */
Test(stats, t_quantile_large_df_tends_to_normal)
{
	const double z975 = 1.959963984540054; /* Phi^-1(0.975) */
	const double df = 1e12;
	double t;

	t = stats_t_quantile(0.975, df);
	assert_rel(t, z975 + (z975 * z975 * z975 + z975) / (4.0 * df), T_REL,
		   "t(0.975, 1e12) = %.17g", t);
	t = stats_t_quantile(0.975, INFINITY);
	assert_rel(t, z975, 1e-14, "t(0.975, inf) = %.17g", t);
	t = stats_t_quantile(1e-300, DBL_MAX);
	assert_rel(t, -37.047096299361199237, 1e-13, "t(1e-300, max) = %.17g",
		   t);
}

Test(stats, t_quantile_median_is_zero)
{
	static const double dfs[] = {0.1, 1, 2.5, 30, 1e8};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dfs); i++)
		cr_assert_float_eq(stats_t_quantile(0.5, dfs[i]), 0.0, 0.0,
				   "df %g", dfs[i]);
}

/* t(1 - p) = -t(p), bit for bit (p = k/64 so 1 - p is exact). */
Test(stats, t_quantile_symmetry)
{
	static const double dfs[] = {0.3, 1, 3, 7.5, 29.9, 1e4};
	double p, a, b;
	size_t i;
	int k;

	for (i = 0; i < ARRAY_SIZE(dfs); i++) {
		for (k = 1; k < 32; k++) {
			p = k / 64.0;
			a = stats_t_quantile(p, dfs[i]);
			b = stats_t_quantile(1.0 - p, dfs[i]);
			cr_assert(a < 0.0, "t(%g, %g) = %g", p, dfs[i], a);
			cr_assert_float_eq(a, -b, 0.0, "p %g df %g", p, dfs[i]);
		}
	}
}

/* Strictly increasing in p; decreasing in df for p > 1/2. */
Test(stats, t_quantile_monotone)
{
	static const double dfs[] = {0.5, 1, 4, 12.3, 100, 1e6};
	double prev, t;
	size_t i;
	int k;

	for (i = 0; i < ARRAY_SIZE(dfs); i++) {
		prev = -INFINITY;
		for (k = 1; k < 200; k++) {
			t = stats_t_quantile(k / 200.0, dfs[i]);
			cr_assert(t > prev, "df %g, p %g: %.17g <= %.17g",
				  dfs[i], k / 200.0, t, prev);
			prev = t;
		}
	}
	for (i = 1; i < ARRAY_SIZE(dfs); i++)
		cr_assert(stats_t_quantile(0.975, dfs[i]) <
			  stats_t_quantile(0.975, dfs[i - 1]));
}

Test(stats, t_quantile_rejects_bad_input)
{
	static const struct {
		double p, df;
	} cases[] = {
	    {0.0, 5},	{1.0, 5},    {-0.1, 5},	   {1.5, 5},	       {NAN, 5},
	    {0.975, 0}, {0.975, -2}, {0.975, NAN}, {0.975, -INFINITY},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		cr_assert(isnan(stats_t_quantile(cases[i].p, cases[i].df)),
			  "t(%g, %g) is not NaN", cases[i].p, cases[i].df);
}

/* A quantile beyond DBL_MAX is an infinity of the right sign, not junk. */
Test(stats, t_quantile_overflows_to_infinity)
{
	cr_assert(isinf(stats_t_quantile(0.5 + DBL_EPSILON, 1e-300)));
	cr_assert(stats_t_quantile(0.5 + DBL_EPSILON, 1e-300) > 0.0);
	cr_assert(isinf(stats_t_quantile(1e-20, 0.05)));
	cr_assert(stats_t_quantile(1e-20, 0.05) < 0.0);
}

/* ---- Welch ---- */

/*
 * Worked example. Group 1: mean 10, s^2 = 4, n = 5. Group 2: mean 7,
 * s^2 = 9, n = 10.
 *   diff        = 10 - 7 = 3
 *   s1^2/n1     = 4/5  = 0.8
 *   s2^2/n2     = 9/10 = 0.9
 *   SE^2        = 0.8 + 0.9 = 1.7,  SE = sqrt(1.7) = 1.3038404810405298
 *   nu          = 1.7^2 / (0.8^2/4 + 0.9^2/9) = 2.89 / (0.16 + 0.09)
 *               = 2.89 / 0.25 = 11.56
 *   t(0.975, 11.56) = 2.1880462377666786 (mp; between the table's
 *                     t(0.975, 12) = 2.179 and t(0.975, 11) = 2.201)
 *   half-width  = 2.1880462377666786 * 1.3038404810405298
 *               = 2.8528632591886276
 *   interval    = 3 -/+ 2.8528632591886276
 *               = [0.1471367408113724, 5.8528632591886276]
 * At conf 0.90: t(0.95, 11.56) = 1.7879568136564740, half-width
 * 1.7879568136564740 * 1.3038404810405298 = 2.3312104719975499.
 */
Test(stats, welch_worked_example)
{
	double diff, lo, hi;

	cr_assert_eq(stats_welch(10, 4, 5, 7, 9, 10, 0.95, &diff, &lo, &hi), 0);
	cr_assert_float_eq(diff, 3.0, 0.0);
	assert_rel(lo, 0.1471367408113724066476398, 1e-12, "lo %.17g", lo);
	assert_rel(hi, 5.85286325918862759335236, 1e-12, "hi %.17g", hi);

	/* the groups swapped mirror the interval */
	cr_assert_eq(stats_welch(7, 9, 10, 10, 4, 5, 0.95, &diff, &lo, &hi), 0);
	cr_assert_float_eq(diff, -3.0, 0.0);
	assert_rel(lo, -5.85286325918862759335236, 1e-12, "lo %.17g", lo);
	assert_rel(hi, -0.1471367408113724066476398, 1e-12, "hi %.17g", hi);

	cr_assert_eq(stats_welch(10, 4, 5, 7, 9, 10, 0.90, &diff, &lo, &hi), 0);
	assert_rel(hi - diff, 2.331210471997549911647487, 1e-12,
		   "half-width at 90 %% %.17g", hi - diff);
	assert_rel(diff - lo, 2.331210471997549911647487, 1e-12,
		   "half-width at 90 %% %.17g", diff - lo);
}

/*
 * Equal variances and sizes: Welch reduces to the pooled test.
 * n = 10 each, s^2 = 2 each: SE^2 = 0.2 + 0.2 = 0.4,
 * nu = 0.16 / (0.04/9 + 0.04/9) = 18 = n1 + n2 - 2,
 * half = t(0.975, 18) sqrt(0.4) = 2.1009220402410380 * 0.63245553203367587
 *      = 1.3287397667219215.
 */
Test(stats, welch_equal_groups_is_pooled)
{
	double diff, lo, hi;

	cr_assert_eq(stats_welch(5.5, 2, 10, 4.0, 2, 10, 0.95, &diff, &lo, &hi),
		     0);
	cr_assert_float_eq(diff, 1.5, 0.0);
	assert_rel(hi - diff, 1.328739766721921488453657, 1e-12, "half %.17g",
		   hi - diff);
	assert_rel(diff - lo, 1.328739766721921488453657, 1e-12, "half %.17g",
		   diff - lo);
}

/*
 * One group without spread: nu = (s2^2/n2)^2 / ((s2^2/n2)^2 / (n2 - 1))
 * = n2 - 1 = 9, half = t(0.975, 9) sqrt(9/10) = 2.2621571627982050 *
 * 0.94868329805051380 = 2.1460707179119942.
 */
Test(stats, welch_one_zero_variance)
{
	double diff, lo, hi;

	cr_assert_eq(stats_welch(3, 0, 4, 2, 9, 10, 0.95, &diff, &lo, &hi), 0);
	cr_assert_float_eq(diff, 1.0, 0.0);
	assert_rel(hi - diff, 2.146070717911994180708392, 1e-12, "half %.17g",
		   hi - diff);
	assert_rel(diff - lo, 2.146070717911994180708392, 1e-12, "half %.17g",
		   diff - lo);
}

/* Both variances 0: nu is 0/0, but the answer is the point [diff, diff]. */
Test(stats, welch_both_zero_variance)
{
	double diff, lo, hi;

	cr_assert_eq(stats_welch(4.5, 0, 2, 3.0, 0, 7, 0.95, &diff, &lo, &hi),
		     0);
	cr_assert_float_eq(diff, 1.5, 0.0);
	cr_assert_float_eq(lo, 1.5, 0.0);
	cr_assert_float_eq(hi, 1.5, 0.0);
}

/* Tiny and huge variances neither underflow nor overflow nu. */
Test(stats, welch_extreme_scales)
{
	double diff, lo, hi;

	/*
	 * The worked example with every figure scaled by 1e-150 and 1e150
	 * (variances by the square): nu is still 11.56 though the squared
	 * terms of its formula would underflow to 0 or overflow to inf.
	 */
	cr_assert_eq(stats_welch(3e-150, 4e-300, 5, 0, 9e-300, 10, 0.95, &diff,
				 &lo, &hi),
		     0);
	assert_rel(hi - diff, 2.85286325918862759335236e-150, 1e-12,
		   "half %.17g", hi - diff);
	assert_rel(diff - lo, 2.85286325918862759335236e-150, 1e-12,
		   "half %.17g", diff - lo);
	cr_assert_eq(
	    stats_welch(3e150, 4e300, 5, 0, 9e300, 10, 0.95, &diff, &lo, &hi),
	    0);
	assert_rel(hi - diff, 2.85286325918862759335236e150, 1e-12,
		   "half %.17g", hi - diff);
	assert_rel(diff - lo, 2.85286325918862759335236e150, 1e-12,
		   "half %.17g", diff - lo);
}

Test(stats, welch_rejects_bad_input)
{
	static const struct {
		double m1, v1;
		long n1;
		double m2, v2;
		long n2;
		double conf;
	} cases[] = {
	    {1, 1, 1, 0, 1, 10, 0.95},
	    {1, 1, 10, 0, 1, 1, 0.95},
	    {1, 1, 0, 0, 1, 10, 0.95},
	    {1, 1, 10, 0, 1, -3, 0.95},
	    {1, -1, 10, 0, 1, 10, 0.95},
	    {1, 1, 10, 0, NAN, 10, 0.95},
	    {NAN, 1, 10, 0, 1, 10, 0.95},
	    {1, 1, 10, 0, 1, 10, 0.0},
	    {1, 1, 10, 0, 1, 10, 1.0},
	    {1, INFINITY, 10, 0, 1, 10, 0.95},
	    /* n1 = 1 even where the zero-variance shortcut would apply */
	    {1, 0, 1, 0, 0, 10, 0.95},
	};
	double diff, lo, hi;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		diff = 1.0;
		lo = 2.0;
		hi = 3.0;
		cr_assert_eq(stats_welch(cases[i].m1, cases[i].v1, cases[i].n1,
					 cases[i].m2, cases[i].v2, cases[i].n2,
					 cases[i].conf, &diff, &lo, &hi),
			     -1, "case %zu accepted", i);
		cr_assert_float_eq(diff, 1.0, 0.0, "case %zu touched diff", i);
		cr_assert_float_eq(lo, 2.0, 0.0, "case %zu touched lo", i);
		cr_assert_float_eq(hi, 3.0, 0.0, "case %zu touched hi", i);
	}
}

/* ---- percentile_cont ---- */

/*
 * Expected values are what PostgreSQL 15.20 returned for
 *   SELECT p, percentile_cont(p) WITHIN GROUP (ORDER BY v)
 *   FROM (VALUES ...) t(v), (VALUES ...) ps(p) GROUP BY p;
 * with extra_float_digits = 3 (shortest exact output), so they are
 * compared bit for bit. By hand: position p (n - 1), e.g. p = 0.9 on
 * {1, 2, 3, 4, 10}: 3.6, so 4 + 0.6 (10 - 4) = 7.6, which in doubles is
 * 4 + 0.6000000000000001 * 6 = 7.6000000000000005.
 */
Test(stats, percentile_cont_matches_postgresql)
{
	static const double one[] = {5};
	static const double two[] = {1, 2};
	static const double five[] = {1, 2, 3, 4, 10};
	static const double three[] = {0.1, 0.2, 0.7};
	static const double six[] = {-3, -1, 2, 2, 8, 13};
	static const struct {
		const double *v;
		size_t n;
		double p, want;
	} cases[] = {
	    {one, 1, 0.0, 5},
	    {one, 1, 0.37, 5},
	    {one, 1, 0.5, 5},
	    {one, 1, 1.0, 5},
	    {two, 2, 0.0, 1},
	    {two, 2, 0.25, 1.25},
	    {two, 2, 0.5, 1.5},
	    {two, 2, 0.9, 1.9},
	    {two, 2, 1.0, 2},
	    {five, 5, 0.0, 1},
	    {five, 5, 0.1, 1.4},
	    {five, 5, 0.25, 2},
	    {five, 5, 0.3, 2.2},
	    {five, 5, 0.33, 2.3200000000000003},
	    {five, 5, 0.5, 3},
	    {five, 5, 0.7, 3.8},
	    {five, 5, 0.9, 7.6000000000000005},
	    {five, 5, 0.99, 9.76},
	    {five, 5, 1.0, 10},
	    {three, 3, 0.1, 0.12000000000000001},
	    {three, 3, 0.3, 0.16},
	    {three, 3, 0.6, 0.3},
	    {three, 3, 0.9, 0.6},
	    {six, 6, 0.1, -2},
	    {six, 6, 0.5, 2},
	    {six, 6, 0.9, 10.5},
	    {six, 6, 0.95, 11.75},
	};
	double got;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		got = stats_percentile_cont(cases[i].v, cases[i].n, cases[i].p);
		cr_assert_float_eq(got, cases[i].want, 0.0,
				   "n %zu p %g: %.17g, want %.17g", cases[i].n,
				   cases[i].p, got, cases[i].want);
	}
	/* bitwise, not merely close: 7.6 would be one ulp off */
	cr_assert_float_eq(stats_percentile_cont(five, 5, 0.9) - 7.6,
			   8.881784197001252e-16, 0.0);
}

Test(stats, percentile_cont_rejects_bad_input)
{
	static const double v[] = {1, 2, 3};

	cr_assert(isnan(stats_percentile_cont(v, 0, 0.5)));
	cr_assert(isnan(stats_percentile_cont(NULL, 3, 0.5)));
	cr_assert(isnan(stats_percentile_cont(v, 3, -0.01)));
	cr_assert(isnan(stats_percentile_cont(v, 3, 1.01)));
	cr_assert(isnan(stats_percentile_cont(v, 3, NAN)));
}
