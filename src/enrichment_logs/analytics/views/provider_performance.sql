-- provider_performance: reliability and latency per provider and operation.
-- Rates and latency percentiles count only the calls that reached the provider (status success
-- or error): a call served from cache or refused by a budget or breaker says nothing about the
-- provider. Percentiles interpolate linearly (quantile_cont, like PostgreSQL percentile_cont).
-- The three percentiles come from one list-valued aggregate (DuckDB computes the identical
-- expression once): one pass over the durations instead of three.
SELECT
    provider,
    operation,
    count(*)                                          AS calls,
    count(*) FILTER (WHERE status = 'success')        AS successes,
    count(*) FILTER (WHERE status = 'error')          AS errors,
    count(*) FILTER (WHERE status = 'cached')         AS cached_calls,
    count(*) FILTER (WHERE status = 'rejected')       AS rejected_calls,
    successes / nullif(successes + errors, 0)         AS success_rate,
    errors / nullif(successes + errors, 0)            AS error_rate,
    sum(retry_count)                                  AS retries,
    (quantile_cont(duration_ms, [0.50, 0.95, 0.99]) FILTER (WHERE reached_provider))[1] AS p50_duration_ms,
    (quantile_cont(duration_ms, [0.50, 0.95, 0.99]) FILTER (WHERE reached_provider))[2] AS p95_duration_ms,
    (quantile_cont(duration_ms, [0.50, 0.95, 0.99]) FILTER (WHERE reached_provider))[3] AS p99_duration_ms
FROM enrichment_calls
GROUP BY provider, operation
