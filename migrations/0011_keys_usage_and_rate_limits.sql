-- API keys record when they were last used (written at most once a
-- minute per key, docs/operations.md), and a tenant may carry its own
-- per-key rate limit: requests per second and burst of a token bucket.
-- NULL means the server's RATE_LIMIT_RPS / RATE_LIMIT_BURST; 0 requests
-- per second means no limit.
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
ALTER TABLE tenants
	ADD COLUMN rate_limit_rps integer CHECK (rate_limit_rps >= 0),
	ADD COLUMN rate_limit_burst integer CHECK (rate_limit_burst >= 1);
