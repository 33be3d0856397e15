-- provider_performance: reliability and latency per provider and operation.
-- Rates and latency percentiles count only the calls that reached the provider (status success
-- or error): a call served from cache or refused by a budget or breaker says nothing about the
-- provider. Percentiles interpolate linearly (quantile_cont, like PostgreSQL percentile_cont)
-- over those calls' durations, or over a deterministic sample of them when the calls are many
-- (latency_sample, whose max_sample_key the Python API binds as $max_sample_key):
-- percentile_calls is how many durations they come from, percentiles_exact whether that is all.
WITH outcomes AS (
    -- Calls and retries per status, in one pass (a count per status with FILTER compared the
    -- status of every call four times: twice as slow). The empty grouping set adds a total row,
    -- dropped below: with more than one grouping set, DuckDB 1.5 groups the short strings as
    -- they are instead of first packing them into integers ("compressed materialization"),
    -- which costs more than it saves for a few groups (220 -> 140 ms CPU on 10 million calls).
    SELECT
        provider,
        operation,
        status,
        grouping(provider) = 1 AS is_total,
        count(*)               AS calls,
        sum(retry_count)       AS retries
    FROM enrichment_calls
    GROUP BY GROUPING SETS ((provider, operation, status), ())
),
counts AS (
    SELECT
        provider,
        operation,
        CAST(sum(calls) AS BIGINT)                                                 AS calls,
        CAST(coalesce(sum(calls) FILTER (WHERE status = 'success'), 0) AS BIGINT)  AS successes,
        CAST(coalesce(sum(calls) FILTER (WHERE status = 'error'), 0) AS BIGINT)    AS errors,
        CAST(coalesce(sum(calls) FILTER (WHERE status = 'cached'), 0) AS BIGINT)   AS cached_calls,
        CAST(coalesce(sum(calls) FILTER (WHERE status = 'rejected'), 0) AS BIGINT) AS rejected_calls,
        sum(retries)                                                               AS retries
    FROM outcomes
    WHERE NOT is_total
    GROUP BY provider, operation
),
latency AS (
    -- The three percentiles from one list-valued aggregate: one pass over the durations.
    SELECT
        provider,
        operation,
        count(*)                                        AS percentile_calls,
        quantile_cont(duration_ms, [0.50, 0.95, 0.99]) AS percentiles
    FROM enrichment_calls
    WHERE reached_provider AND sample_key <= CAST($max_sample_key AS UBIGINT)
    GROUP BY provider, operation
)
SELECT
    provider,
    operation,
    calls,
    successes,
    errors,
    cached_calls,
    rejected_calls,
    successes / nullif(successes + errors, 0)           AS success_rate,
    errors / nullif(successes + errors, 0)              AS error_rate,
    retries,
    percentiles[1]                                      AS p50_duration_ms,
    percentiles[2]                                      AS p95_duration_ms,
    percentiles[3]                                      AS p99_duration_ms,
    coalesce(percentile_calls, 0)                       AS percentile_calls,
    coalesce(percentile_calls, 0) = successes + errors  AS percentiles_exact
FROM counts
LEFT JOIN latency USING (provider, operation)
