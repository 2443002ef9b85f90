-- unipoints schema, version 15: per-key rate limits. A key may carry a sustained rate
-- (requests per second) and a burst (how many may come at once after a quiet spell); none means
-- unlimited, the default. Enforced by each server process in memory (token bucket per key).
ALTER TABLE api_keys
  ADD COLUMN rate_per_second integer CHECK (rate_per_second > 0),
  ADD COLUMN rate_burst integer CHECK (rate_burst > 0),
  ADD CONSTRAINT api_keys_rate_both CHECK ((rate_per_second IS NULL) = (rate_burst IS NULL));
