/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the bench/ tools (see bench.h).
 */
#include "bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *b_prog = "bench";

void b_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", b_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

void *b_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		b_die("out of memory (%zu bytes)", n);
	return p;
}

void *b_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		b_die("out of memory (%zu bytes)", n);
	return p;
}

static void reserve(struct b_str *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 4096;

	if (b->len + extra + 1 <= b->cap)
		return;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->s = b_realloc(b->s, cap);
	b->cap = cap;
}

void b_add(struct b_str *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void b_printf(struct b_str *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	reserve(b, 256);
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		b_die("vsnprintf failed");
	if ((size_t)n >= room) {
		reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

double b_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t b_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double b_percentile(double *v, long n, double p)
{
	long k;

	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	k = (long)((p / 100.0) * (double)n + 0.999999) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

long b_num(const char *opt, const char *v, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < lo || n > hi)
		b_die("%s must be a whole number from %ld to %ld (got '%s')",
		      opt, lo, hi, v);
	return n;
}
