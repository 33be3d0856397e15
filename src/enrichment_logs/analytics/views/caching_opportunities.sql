-- caching_opportunities: identical requests (same request_hash, provider and operation) that
-- were paid for more than once. Only successful calls that were not cache hits count; the first
-- of them had to be paid, so avoidable_cost is the known cost of the repeats after it.
WITH paid AS (
    SELECT
        request_hash,
        provider,
        operation,
        cost,
        started_at,
        row_number() OVER (
            PARTITION BY request_hash, provider, operation ORDER BY started_at, id
        ) AS nth
    FROM enrichment_calls
    WHERE request_hash IS NOT NULL AND status = 'success' AND NOT cache_hit
)
SELECT
    request_hash,
    provider,
    operation,
    count(*)                                                   AS calls,
    count(*) - 1                                               AS repeated_calls,
    coalesce(sum(cost), 0)                                     AS known_cost,
    coalesce(sum(cost) FILTER (WHERE nth > 1), 0)              AS avoidable_cost,
    count(*) FILTER (WHERE nth > 1 AND cost IS NULL)           AS repeats_with_unknown_cost,
    min(started_at)                                            AS first_call_at,
    max(started_at)                                            AS last_call_at
FROM paid
GROUP BY request_hash, provider, operation
HAVING count(*) > 1
