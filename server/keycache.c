/* SPDX-License-Identifier: MIT */
/*
 * The API-key cache and rate limiter: a fixed open-addressing table keyed
 * by the key's SHA-256 (hex), compared in constant time, under one mutex.
 * When it fills up it starts empty again (every key is looked up anew and
 * its bucket is full): a bound on memory that costs nothing in the usual
 * case of a few hundred keys.
 */
#include "keycache.h"
#include "util.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 8192 /* a power of two */
#define MAX_USED (SLOTS / 2)
#define HASH_LEN 64
#define USE_EVERY_MS 60000.0

struct entry {
	bool used;
	char hash[HASH_LEN + 1];
	struct auth auth;
	double looked_up_ms; /* < 0: not looked up (or expired by a put) */
	double use_written_ms;
	struct bucket bucket;
};

struct keycache {
	pthread_mutex_t mu;
	long ttl_ms, rps, burst;
	int nused;
	struct entry slots[SLOTS];
};

long bucket_take(struct bucket *b, double rps, double burst, double now_ms)
{
	if (rps <= 0)
		return 0;
	if (b->at_ms <= 0) {
		b->tokens = burst;
	} else if (now_ms > b->at_ms) {
		b->tokens += (now_ms - b->at_ms) * rps / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->at_ms = now_ms > 0 ? now_ms : 1;
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	/* round up: after that long there is a whole token */
	return (long)((1 - b->tokens) * 1000.0 / rps) + 1;
}

struct keycache *keycache_new(long ttl_ms, long rps, long burst)
{
	struct keycache *kc = xcalloc(1, sizeof(*kc));

	pthread_mutex_init(&kc->mu, NULL);
	kc->ttl_ms = ttl_ms;
	kc->rps = rps;
	kc->burst = burst;
	return kc;
}

void keycache_free(struct keycache *kc)
{
	if (!kc)
		return;
	pthread_mutex_destroy(&kc->mu);
	OPENSSL_cleanse(kc->slots, sizeof(kc->slots));
	free(kc);
}

/* The slot of hash, or where it would go; NULL when hash is malformed. */
static struct entry *slot_of(struct keycache *kc, const char *hash)
{
	unsigned long h = 0;
	size_t i;

	if (strlen(hash) != HASH_LEN)
		return NULL;
	for (i = 0; i < 8; i++) /* the hash is already uniform */
		h = h * 16 + (unsigned long)hex_digit(hash[i]);
	for (i = 0; i < SLOTS; i++) {
		struct entry *e = &kc->slots[(h + i) & (SLOTS - 1)];

		if (!e->used || CRYPTO_memcmp(e->hash, hash, HASH_LEN) == 0)
			return e;
	}
	return NULL; /* not reached: the table is never more than half full */
}

bool keycache_get(struct keycache *kc, const char *hash, double now_ms,
		  struct auth *auth)
{
	struct entry *e;
	bool hit = false;

	pthread_mutex_lock(&kc->mu);
	e = slot_of(kc, hash);
	if (e && e->used && e->looked_up_ms >= 0 &&
	    now_ms - e->looked_up_ms < (double)kc->ttl_ms) {
		*auth = e->auth;
		hit = true;
	}
	pthread_mutex_unlock(&kc->mu);
	return hit;
}

void keycache_put(struct keycache *kc, const char *hash,
		  const struct auth *auth, double now_ms)
{
	struct entry *e;

	pthread_mutex_lock(&kc->mu);
	if (!(e = slot_of(kc, hash)))
		goto out;
	if (!e->used) {
		if (kc->nused >= MAX_USED) {
			memset(kc->slots, 0, sizeof(kc->slots));
			kc->nused = 0;
			e = slot_of(kc, hash);
		}
		memset(e, 0, sizeof(*e));
		e->used = true;
		memcpy(e->hash, hash, HASH_LEN + 1);
		kc->nused++;
	}
	e->auth = *auth;
	e->looked_up_ms = now_ms;
out:
	pthread_mutex_unlock(&kc->mu);
}

long keycache_take(struct keycache *kc, const char *hash, double now_ms)
{
	struct entry *e;
	long wait = 0;
	double rps, burst;

	pthread_mutex_lock(&kc->mu);
	e = slot_of(kc, hash);
	if (e && e->used) {
		rps = e->auth.rate_rps >= 0 ? (double)e->auth.rate_rps
					    : (double)kc->rps;
		burst = e->auth.rate_burst >= 1 ? (double)e->auth.rate_burst
						: (double)kc->burst;
		wait = bucket_take(&e->bucket, rps, burst, now_ms);
	}
	pthread_mutex_unlock(&kc->mu);
	return wait;
}

bool keycache_use_due(struct keycache *kc, const char *hash, double now_ms)
{
	struct entry *e;
	bool due = false;

	pthread_mutex_lock(&kc->mu);
	e = slot_of(kc, hash);
	if (e && e->used &&
	    (e->use_written_ms <= 0 ||
	     now_ms - e->use_written_ms >= USE_EVERY_MS)) {
		e->use_written_ms = now_ms > 0 ? now_ms : 1;
		due = true;
	}
	pthread_mutex_unlock(&kc->mu);
	return due;
}
