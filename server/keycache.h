/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_KEYCACHE_H
#define AGENTKPI_KEYCACHE_H

/*
 * What the request path remembers about API keys, by the SHA-256 of the
 * key (never the key): the key's identity for a short while (so that not
 * every request looks it up; a revocation takes effect within that
 * time), its rate-limit token bucket, and when its last use was written.
 */

#include "keys.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * A token bucket: it holds up to burst tokens and gains rps a second;
 * each request takes one.
 */
struct bucket {
	double tokens;
	double at_ms; /* when tokens was computed; 0: never (full) */
};

/*
 * Takes a token at now_ms (a monotonic clock): 0 when there was one, else
 * how many ms until there will be (nothing taken). rps 0: no limit.
 */
long bucket_take(struct bucket *b, double rps, double burst, double now_ms);

struct keycache;

/*
 * ttl_ms: how long a looked-up key is trusted (0: every request looks it
 * up); rps and burst: the rate limit of keys whose tenant has none.
 */
struct keycache *keycache_new(long ttl_ms, long rps, long burst);
void keycache_free(struct keycache *kc);

/* true and *auth filled when hash was looked up less than ttl_ms ago. */
bool keycache_get(struct keycache *kc, const char *hash, double now_ms,
		  struct auth *auth);

/* Remembers a lookup (keeping the key's bucket and last-use mark). */
void keycache_put(struct keycache *kc, const char *hash,
		  const struct auth *auth, double now_ms);

/*
 * Takes a request token from the key's bucket (keycache_put first): 0, or
 * the ms to wait before the next request.
 */
long keycache_take(struct keycache *kc, const char *hash, double now_ms);

/*
 * Whether the key's last use should be written now: true at most once a
 * minute per key (the caller then writes it).
 */
bool keycache_use_due(struct keycache *kc, const char *hash, double now_ms);

#endif
