/* SPDX-License-Identifier: MIT */
/*
 * Statistics for KPI answers: Wilson and Welch intervals, Student's t
 * quantiles and PostgreSQL-compatible percentiles. Pure functions over
 * numbers; see stats.h for the contracts.
 */
#include "stats.h"

#include <float.h>
#include <math.h>

/* Iteration caps: never reached for sane input; they only bound the loops. */
#define CF_MAX_ITER 100000
#define SOLVE_MAX_ITER 2000

/* Terms of, and smallest a for, the large-a expansion of I_x(a, 1/2) */
#define BGRAT_TERMS 40
#define BGRAT_MIN_A 50.0

#define SQRT_PI 1.77245385090551602730

/* Below this a (df/2) the small-a series gives P(|T| < t) */
#define SMALL_A_MAX 0.01
#define SMALL_A_TERMS 500

/* Smallest magnitude allowed in Lentz's method before it is nudged. */
#define CF_TINY (DBL_MIN / DBL_EPSILON)

int stats_wilson(long num, long den, double z, double *lo, double *hi)
{
	double n, k, z2, c, r, l, h;

	if (den <= 0 || num < 0 || num > den || !(z >= 0) || !isfinite(z))
		return -1;

	n = (double)den;
	k = (double)num;
	z2 = z * z;
	/*
	 * Bounds = (c -/+ r) / (2 (n + z^2)) with c = 2k + z^2 and
	 * r = z sqrt(z^2 + 4k(n - k)/n). The lower one is taken in the
	 * equivalent form 2k^2 / (n (c + r)), which has no cancellation.
	 */
	c = 2.0 * k + z2;
	r = z * sqrt(z2 + 4.0 * k * ((double)(den - num) / n));
	l = (num == 0) ? 0.0 : 2.0 * k * k / (n * (c + r));
	h = (num == den) ? 1.0 : (c + r) / (2.0 * (n + z2));

	*lo = fmax(0.0, fmin(l, 1.0));
	*hi = fmax(0.0, fmin(h, 1.0));
	return 0;
}

/*
 * ln B(a, 1/2), without lgamma() (which writes the global signgam, so is
 * not thread-safe, and cancels for large a). For a >= 10 the asymptotic
 * series ln(G(a + 1/2) / G(a)) = ln(a)/2 + sum c_k a^-k,
 * c_k = (-1)^(k+1) (2^-k - 2) B_(k+1) / (k (k+1)), eight terms leaving an
 * error below 1e-17 at a = 10; smaller a is first raised past 10 with
 * B(a, 1/2) = B(a + 1, 1/2) (a + 1/2) / a.
 */
static double lbeta_half(double a)
{
	static const double c[] = {
	    -1.0 / 8.0,		1.0 / 192.0,	       -1.0 / 640.0,
	    17.0 / 14336.0,	-31.0 / 18432.0,       691.0 / 180224.0,
	    -5461.0 / 425984.0, 929569.0 / 15728640.0,
	};
	const double ln_sqrt_pi = 0.57236494292470008707;
	double shift = 0.0, inv2, s = 0.0;
	int i;

	while (a < 10.0) {
		shift += log1p(0.5 / a);
		a += 1.0;
	}
	inv2 = 1.0 / (a * a);
	for (i = (int)(sizeof(c) / sizeof(c[0])) - 1; i >= 0; i--)
		s = s * inv2 + c[i];
	s /= a;
	return shift + ln_sqrt_pi - 0.5 * log(a) - s;
}

/*
 * Continued fraction for I_x(a, b) (Numerical Recipes' betacf), evaluated
 * with the modified Lentz method; y = 1 - x, passed separately so the
 * first term, 1 - (a + b) x / (a + 1), does not cancel when x is close
 * to 1.
 */
static double beta_cf(double a, double b, double x, double y)
{
	double c, d, h, aa, del;
	int m, m2;

	c = 1.0;
	if (x < 0.5)
		d = 1.0 - (a + b) * x / (a + 1.0);
	else
		d = (1.0 - b + (a + b) * y) / (a + 1.0);
	if (fabs(d) < CF_TINY)
		d = CF_TINY;
	d = 1.0 / d;
	h = d;
	for (m = 1; m <= CF_MAX_ITER; m++) {
		m2 = 2 * m;
		aa = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < CF_TINY)
			d = CF_TINY;
		c = 1.0 + aa / c;
		if (fabs(c) < CF_TINY)
			c = CF_TINY;
		d = 1.0 / d;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < CF_TINY)
			d = CF_TINY;
		c = 1.0 + aa / c;
		if (fabs(c) < CF_TINY)
			c = CF_TINY;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) <= DBL_EPSILON)
			break;
	}
	return h;
}

/* ln((num / den)^2) where q = num / den <= 1, even when q^2 underflows */
static double ln_sq(double num, double den, double q)
{
	if (q > 1e-150)
		return 2.0 * log(q);
	return 2.0 * (log(num) - log(den));
}

/*
 * I_x(a, 1/2) for large a and x >= 1/2, where the continued fraction
 * loses about log10(a) digits. Substituting e^-v for the integration
 * variable, with T = a - 1/4 and v0 = -ln x,
 *   B(a, 1/2) I_x(a, 1/2) = int_{v0}^inf e^{-T v} v^{-1/2} h(v) dv,
 *   h(v) = (sinh(v/2) / (v/2))^{-1/2} = sum d_n v^{2n},
 * so I_x(a, 1/2) = sum d_n T^{-1/2-2n} G(1/2 + 2n, T v0) / B(a, 1/2), G
 * the upper incomplete gamma function: the BGRAT expansion of Didonato
 * and Morris (ACM TOMS 18(3), 1992, Algorithm 708) for b = 1/2.
 * G(1/2, u) = sqrt(pi) erfc(sqrt(u)), G(s + 1, u) = s G(s, u) + u^s e^-u;
 * d_n comes from sinh(w)/w = sum w^2k / (2k+1)! raised to the power -1/2
 * (J. C. P. Miller's recurrence for powers of a series).
 */
static double outer_large_a(double a, double ln_x, double lb)
{
	double f[BGRAT_TERMS], d[BGRAT_TERMS];
	double tt, u, g, pw, s, scale, sum, term, acc;
	int n, j;

	f[0] = 1.0;
	d[0] = 1.0;
	for (n = 1; n < BGRAT_TERMS; n++) {
		/* coefficient of v^2n in sinh(v/2) / (v/2) */
		f[n] = f[n - 1] / (4.0 * (2.0 * n) * (2.0 * n + 1.0));
		acc = 0.0;
		for (j = 1; j <= n; j++)
			acc += (0.5 * j - n) * f[j] * d[n - j];
		d[n] = acc / n;
	}

	tt = a - 0.25;
	u = -tt * ln_x;
	g = SQRT_PI * erfc(sqrt(u));
	pw = sqrt(u) * exp(-u);
	s = 0.5;
	scale = 1.0;
	sum = g;
	for (n = 1; n < BGRAT_TERMS; n++) {
		/* G(s, u) -> G(s + 2, u) */
		g = s * g + pw;
		pw *= u;
		s += 1.0;
		g = s * g + pw;
		pw *= u;
		s += 1.0;
		scale /= tt * tt;
		term = d[n] * scale * g;
		sum += term;
		if (fabs(term) <= DBL_EPSILON * fabs(sum))
			break;
	}
	return exp(-lb - 0.5 * log(tt)) * sum;
}

/*
 * ln I_x(a, 1/2) for small a (tiny df), where P(|T| < t) = 1 - I_x(a, 1/2)
 * must not be formed by subtraction: the caller takes -expm1() of this.
 *   I_x(a, 1/2) = x^a F(1/2, a; a + 1; x) / (a B(a, 1/2)),
 *   F(1/2, a; a + 1; x) = 1 + a sum_{n>=1} (1/2)_n / n! x^n / (a + n),
 *   ln(a B(a, 1/2)) = ln G(1 + a) + ln G(1/2) - ln G(1/2 + a)
 *                   = sum_k c_k a^k, c_1 = 2 ln 2,
 *                     c_k = (-1)^k zeta(k) (2 - 2^k) / k,
 * each part formed with full relative accuracy. Used for x < 0.4 only.
 */
static double ln_outer_small_a(double a, double x, double ln_x)
{
	static const double c[] = {
	    1.3862943611198906188, -1.6449340668482264365,
	    2.4041138063191885708, -3.7881313179889836703,
	    6.2215665308602195580, -10.512544973839307777,
	    18.150286992874610883, -31.879456059284732775,
	    56.780475593477992150, -102.30164557806300832,
	    186.09191908036622041, -341.25062319577026248,
	};
	double s = 0.0, coef = 1.0, xn = 1.0, term, lab = 0.0;
	int n, k;

	for (n = 1; n <= SMALL_A_TERMS; n++) {
		coef *= (n - 0.5) / n;
		xn *= x;
		term = coef * xn / (a + n);
		s += term;
		if (term <= DBL_EPSILON * s)
			break;
	}
	for (k = (int)(sizeof(c) / sizeof(c[0])); k >= 1; k--)
		lab = (lab + c[k - 1]) * a;
	return a * ln_x + log1p(a * s) - lab;
}

/*
 * For t >= 0 and T ~ t(df): *outer = P(|T| > t) = I_x(df/2, 1/2) with
 * x = df / (df + t^2), *inner = P(|T| < t) = 1 - *outer, and *pdf the
 * density at t. One of outer and inner is computed directly (by the
 * continued fraction on whichever side it converges, the large-a
 * expansion when x is near 1, the small-a series when df is tiny) and
 * the other as 1 minus it; the choice keeps whichever is small within
 * about 1e-14 relative. lb is ln B(df/2, 1/2), passed in so that it is
 * computed once per quantile. x and y = 1 - x, and their logarithms,
 * come from u = t^2 / df (or 1 / u for large t) so that neither cancels
 * nor overflows.
 */
static void t_probs(double t, double df, double lb, double *outer,
		    double *inner, double *pdf)
{
	double a, sd, u, r, x, y, ln_x, ln_y, front, ln_outer;

	a = 0.5 * df;
	if (t == 0.0) {
		*outer = 1.0;
		*inner = 0.0;
		*pdf = exp(-0.5 * log(df) - lb);
		return;
	}
	sd = sqrt(df);
	if (t <= sd) {
		u = t / sd;
		ln_x = -log1p(u * u);
		ln_y = ln_sq(t, sd, u) + ln_x;
		u *= u;
		x = 1.0 / (1.0 + u);
		y = u / (1.0 + u);
	} else {
		r = sd / t;
		ln_y = -log1p(r * r);
		ln_x = ln_sq(sd, t, r) + ln_y;
		r *= r;
		x = r / (1.0 + r);
		y = 1.0 / (1.0 + r);
	}
	/* x^a y^(1/2) / B(a, 1/2) */
	front = exp(a * ln_x + 0.5 * ln_y - lb);
	if (y > 1.5 / (a + 2.5)) {
		/* x < (a + 1) / (a + b + 2): the fraction converges for I_x */
		if (a < SMALL_A_MAX) {
			ln_outer = ln_outer_small_a(a, x, ln_x);
			*outer = exp(ln_outer);
			*inner = -expm1(ln_outer);
		} else {
			if (a >= BGRAT_MIN_A && x >= 0.5)
				*outer = outer_large_a(a, ln_x, lb);
			else
				*outer = front * beta_cf(a, 0.5, x, y) / a;
			*inner = 1.0 - *outer;
		}
	} else {
		*inner = front * beta_cf(0.5, a, y, x) / 0.5;
		*outer = 1.0 - *inner;
	}
	*pdf = exp((a + 0.5) * ln_x - 0.5 * log(df) - lb);
}

/*
 * Solve g(t) = 0 for t >= 0, where g is P(|T| > t) - target when use_outer,
 * else target - P(|T| < t). g is strictly decreasing with g(0) > 0 and
 * g'(t) = -2 pdf(t). Newton steps, kept inside the bracket [lo, hi] that
 * every evaluation narrows; bisection (or doubling while no upper bound is
 * known) whenever a step would leave it.
 */
static double t_solve(double target, int use_outer, double df)
{
	double lo = 0.0, hi = INFINITY, t = 1.0, next, g;
	double outer, inner, pdf, lb;
	int i;

	lb = lbeta_half(0.5 * df);
	for (i = 0; i < SOLVE_MAX_ITER; i++) {
		t_probs(t, df, lb, &outer, &inner, &pdf);
		g = use_outer ? outer - target : target - inner;
		if (g == 0.0)
			return t;
		if (g > 0.0)
			lo = t;
		else
			hi = t;
		/* pdf underflows to 0 far out in heavy tails: bisect there */
		next = (pdf > 0.0) ? t + g / (2.0 * pdf) : NAN;
		if (!(next > lo && next < hi)) {
			if (isinf(hi))
				next = 2.0 * lo;
			else
				next = lo + 0.5 * (hi - lo);
		}
		if (isinf(next))
			return next;
		if (fabs(next - t) <= 2.0 * DBL_EPSILON * next)
			return next;
		if (!isinf(hi) && hi - lo <= 2.0 * DBL_EPSILON * hi)
			return lo + 0.5 * (hi - lo);
		t = next;
	}
	return t;
}

double stats_t_quantile(double p, double df)
{
	double q, t;

	if (!(p > 0.0 && p < 1.0) || !(df > 0.0))
		return NAN;
	if (p == 0.5)
		return 0.0;
	/*
	 * Past 1e300 (and at infinity) t(df) is the normal distribution to
	 * far below double precision; capping keeps a + m and (a + m)^2 in
	 * the continued fraction and the series finite.
	 */
	if (df > 1e300)
		df = 1e300;

	/* 1 - p is exact for p >= 0.5 */
	q = (p < 0.5) ? p : 1.0 - p;
	/*
	 * Far tail: solve P(|T| > t) = 2q. Near the centre solve
	 * P(|T| < t) = 1 - 2q instead (exact for q >= 1/4), so t stays
	 * accurate relative to itself as p approaches 1/2.
	 */
	if (q < 0.25)
		t = t_solve(2.0 * q, 1, df);
	else
		t = t_solve(1.0 - 2.0 * q, 0, df);
	return (p < 0.5) ? -t : t;
}

int stats_welch(double mean1, double var1, long n1, double mean2, double var2,
		long n2, double conf, double *diff, double *lo, double *hi)
{
	double d, se1, se2, s, w1, w2, nu, t, half;

	if (n1 < 2 || n2 < 2)
		return -1;
	if (!isfinite(mean1) || !isfinite(mean2))
		return -1;
	if (!(var1 >= 0.0) || !(var2 >= 0.0) || !isfinite(var1) ||
	    !isfinite(var2))
		return -1;
	if (!(conf > 0.0 && conf < 1.0))
		return -1;

	d = mean1 - mean2;
	se1 = var1 / (double)n1;
	se2 = var2 / (double)n2;
	s = se1 + se2;
	if (s == 0.0) {
		/* no spread at all: nu is 0/0, the interval a point */
		*diff = d;
		*lo = d;
		*hi = d;
		return 0;
	}
	/*
	 * nu = s^2 / (se1^2/(n1-1) + se2^2/(n2-1)), written with the weights
	 * se_i / s so that tiny or huge variances neither under- nor overflow.
	 */
	w1 = se1 / s;
	w2 = se2 / s;
	nu = 1.0 / (w1 * w1 / (double)(n1 - 1) + w2 * w2 / (double)(n2 - 1));
	/* upper quantile through the lower tail: 1 - conf is exact here */
	t = -stats_t_quantile(0.5 * (1.0 - conf), nu);
	if (isnan(t))
		return -1;
	half = t * sqrt(s);

	*diff = d;
	*lo = d - half;
	*hi = d + half;
	return 0;
}

double stats_percentile_cont(const double *sorted, size_t n, double p)
{
	double pos, first, proportion, lo;
	size_t i, j;

	if (n == 0 || sorted == NULL || !(p >= 0.0 && p <= 1.0))
		return NAN;

	/* as PostgreSQL's percentile_cont_final_common and float8_lerp */
	pos = p * (double)(n - 1);
	first = floor(pos);
	i = (size_t)first;
	j = (size_t)ceil(pos);
	if (i == j)
		return sorted[i];
	proportion = pos - first;
	lo = sorted[i];
	return lo + (proportion * (sorted[j] - lo));
}
