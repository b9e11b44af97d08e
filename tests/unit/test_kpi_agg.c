/* SPDX-License-Identifier: MIT */
/*
 * Percentiles from log-bucket histograms (server/kpi_agg.c) against the
 * exact percentile_cont of the same values: within 1 % (metrics-spec).
 */
#include "kpi_agg.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The bucket KPI_HBUCKET gives v (kpi_states.def), in C. */
static int bucket_of(double v)
{
	int b;

	if (v <= 0)
		return 0;
	b = (int)floor(log(v * 1000) / log(1.02)) + 1;
	return b < 1 ? 1 : b > 2047 ? 2047 : b;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* percentile_cont(p) of n sorted values. */
static double exact(const double *v, int n, double p)
{
	double pos = p * (n - 1), lo = floor(pos);

	if (pos == lo)
		return v[(int)lo];
	return v[(int)lo] + (pos - lo) * (v[(int)lo + 1] - v[(int)lo]);
}

Test(kpi_agg, histogram_percentiles_stay_within_one_percent)
{
	static uint32_t hist[2048];
	static double v[5000];
	static const double ps[] = {0.5, 0.9, 0.1, 0.99};
	int round, n, i, k;
	double want, got;

	srand(42);
	for (round = 0; round < 200; round++) {
		n = 1 + rand() % 5000;
		memset(hist, 0, sizeof(hist));
		for (i = 0; i < n; i++) {
			/* milliseconds to days, with exact zeros and ties */
			v[i] = rand() % 20 == 0
				   ? 0
				   : floor(exp((rand() % 1500) / 100.0)) / 1000;
			hist[bucket_of(v[i])]++;
		}
		qsort(v, n, sizeof(v[0]), cmp_double);
		for (k = 0; k < 4; k++) {
			want = exact(v, n, ps[k]);
			got = kpi_hist_percentile(hist, n, ps[k]);
			cr_assert(fabs(got - want) <= 0.01 * fabs(want) + 1e-12,
				  "n=%d p=%g: %g, exact %g", n, ps[k], got,
				  want);
		}
	}
}

Test(kpi_agg, an_empty_histogram_has_no_percentile)
{
	static uint32_t hist[2048];

	cr_expect(isnan(kpi_hist_percentile(hist, 0, 0.5)));
	hist[0] = 3;
	cr_expect_float_eq(kpi_hist_percentile(hist, 3, 0.9), 0, 1e-12,
			   "zeros are exact");
	cr_expect_float_eq(kpi_hist_value(0), 0, 1e-12);
}
