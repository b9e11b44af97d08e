/* SPDX-License-Identifier: MIT */
/*
 * The API-key cache and rate limiter: token buckets, cache expiry, and
 * the once-a-minute last-use mark; plus the JSON depth pre-check.
 */
#include "keycache.h"
#include "util.h"

#include <criterion/criterion.h>
#include <string.h>

static const char *hash_a =
    "aaaa000000000000000000000000000000000000000000000000000000000001";
static const char *hash_b =
    "aaaa000000000000000000000000000000000000000000000000000000000002";

static struct auth auth_of(const char *id, long rps, long burst)
{
	struct auth a;

	memset(&a, 0, sizeof(a));
	strcpy(a.key_id, id);
	a.rate_rps = rps;
	a.rate_burst = burst;
	return a;
}

Test(bucket, starts_full_then_refills_at_rps)
{
	struct bucket b = {0, 0};
	int i;

	for (i = 0; i < 5; i++)
		cr_assert_eq(bucket_take(&b, 10, 5, 1000 + i), 0, "token %d",
			     i);
	/* empty: the next token comes 100 ms after the last take */
	cr_assert_gt(bucket_take(&b, 10, 5, 1004), 0);
	cr_assert_leq(bucket_take(&b, 10, 5, 1004), 101);
	cr_assert_eq(bucket_take(&b, 10, 5, 1110), 0, "refilled after 100 ms");
	/* a long pause refills to the burst, not beyond */
	for (i = 0; i < 5; i++)
		cr_assert_eq(bucket_take(&b, 10, 5, 90000), 0);
	cr_assert_gt(bucket_take(&b, 10, 5, 90000), 0);
}

Test(bucket, rps_zero_means_no_limit)
{
	struct bucket b = {0, 0};
	int i;

	for (i = 0; i < 100000; i++)
		cr_assert_eq(bucket_take(&b, 0, 1, 1000), 0);
}

Test(keycache, entries_expire_after_the_ttl)
{
	struct keycache *kc = keycache_new(1000, 0, 1);
	struct auth a = auth_of("k1", -1, -1), got;

	cr_assert(!keycache_get(kc, hash_a, 10, &got), "empty cache");
	keycache_put(kc, hash_a, &a, 10);
	cr_assert(keycache_get(kc, hash_a, 500, &got));
	cr_assert_str_eq(got.key_id, "k1");
	cr_assert(!keycache_get(kc, hash_b, 500, &got), "another hash");
	cr_assert(!keycache_get(kc, hash_a, 1010, &got), "expired");
	keycache_free(kc);
}

Test(keycache, ttl_zero_never_hits)
{
	struct keycache *kc = keycache_new(0, 0, 1);
	struct auth a = auth_of("k1", -1, -1), got;

	keycache_put(kc, hash_a, &a, 10);
	cr_assert(!keycache_get(kc, hash_a, 10, &got));
	keycache_free(kc);
}

Test(keycache, a_tenant_limit_wins_over_the_default_and_buckets_survive)
{
	struct keycache *kc = keycache_new(0, 1000, 1000);
	struct auth strict = auth_of("k1", 1, 2), lax = auth_of("k2", -1, -1);

	keycache_put(kc, hash_a, &strict, 10);
	keycache_put(kc, hash_b, &lax, 10);
	cr_assert_eq(keycache_take(kc, hash_a, 10), 0);
	cr_assert_eq(keycache_take(kc, hash_a, 11), 0);
	cr_assert_gt(keycache_take(kc, hash_a, 12), 0, "burst of 2 used");
	cr_assert_eq(keycache_take(kc, hash_b, 12), 0, "own bucket");
	/* a new lookup of the same key keeps its (empty) bucket */
	keycache_put(kc, hash_a, &strict, 13);
	cr_assert_gt(keycache_take(kc, hash_a, 14), 0);
	keycache_free(kc);
}

Test(keycache, last_use_is_due_once_a_minute)
{
	struct keycache *kc = keycache_new(1000, 0, 1);
	struct auth a = auth_of("k1", -1, -1);

	keycache_put(kc, hash_a, &a, 10);
	cr_assert(keycache_use_due(kc, hash_a, 10));
	cr_assert(!keycache_use_due(kc, hash_a, 30000));
	cr_assert(keycache_use_due(kc, hash_a, 60010));
	keycache_free(kc);
}

Test(json_depth, counts_nesting_outside_strings)
{
	cr_assert_eq(json_text_depth("1", 1), 0);
	cr_assert_eq(json_text_depth("{}", 2), 1);
	cr_assert_eq(json_text_depth("[{\"a\":[1]}]", 11), 3);
	cr_assert_eq(json_text_depth("{\"a\":\"[[[[\"}", 12), 1);
	cr_assert_eq(json_text_depth("{\"a\":\"\\\"[[\"}", 12), 1);
	cr_assert_eq(json_text_depth("]]]][", 5), 1);
}
