-- cost_by_provider_daily: spend per UTC day, provider, operation and model.
-- known_cost sums only the calls whose cost is known; unknown_cost_calls counts the others,
-- whose cost is missing from known_cost (NULL cost means unknown and is never added as 0).
SELECT
    day,
    provider,
    operation,
    model,
    count(*)               AS calls,
    count(cost)            AS priced_calls,
    count(*) - count(cost) AS unknown_cost_calls,
    coalesce(sum(cost), 0) AS known_cost
FROM enrichment_calls
GROUP BY day, provider, operation, model
