/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_BENCH_H
#define AGENTKPI_BENCH_H

/*
 * Helpers shared by the bench/ tools: fatal errors, allocation, a growing
 * string, clocks and percentiles. Names carry a b_ prefix so that tools
 * which also link server/util.c (xmalloc, ...) do not clash.
 */

#include <stddef.h>
#include <stdint.h>

/* Prints "PROG: message" to stderr and exits with status 2. */
void b_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* The name b_die prints; set once by main. */
extern const char *b_prog;

/* malloc / realloc that die on out-of-memory; never NULL. */
void *b_malloc(size_t n);
void *b_realloc(void *p, size_t n);

/* A growing NUL-terminated string; zero-initialize, free(s) when done. */
struct b_str {
	char *s;
	size_t len, cap;
};

void b_add(struct b_str *b, const char *s, size_t n);
void b_printf(struct b_str *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Seconds on the monotonic clock; milliseconds since the epoch. */
double b_now(void);
int64_t b_wall_ms(void);

/* Sorts v[0..n) and returns its nearest-rank percentile p (0..100). */
double b_percentile(double *v, long n, double p);

/* A whole number from text within [lo, hi], or b_die naming opt. */
long b_num(const char *opt, const char *v, long lo, long hi);

#endif
