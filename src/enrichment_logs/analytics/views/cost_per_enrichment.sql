-- cost_per_enrichment: what one enrichment costs, the figure the business prices on: the
-- distribution of cost per session and per enriched lead (see lead_costs: no failed call).
-- A session or lead with any unknown-cost call is left out of the figures (its true cost is not
-- known) and counted in with_unknown_cost. Calls outside a session or lead are not units.
-- The mean is exact, truncated to the 10 decimals of the cost column (DuckDB's avg would go
-- through DOUBLE); percentiles interpolate linearly.
WITH units AS (
    SELECT 'session' AS unit, known_cost, unknown_cost_calls
    FROM session_costs
    WHERE session_id IS NOT NULL
    UNION ALL
    SELECT 'enriched_lead' AS unit, known_cost, unknown_cost_calls
    FROM lead_costs
    WHERE lead_id IS NOT NULL AND enriched
)
SELECT
    wanted.unit,
    count(units.unit) FILTER (WHERE unknown_cost_calls = 0) AS priced,
    count(units.unit) FILTER (WHERE unknown_cost_calls > 0) AS with_unknown_cost,
    CAST(
        CAST(sum(known_cost) FILTER (WHERE unknown_cost_calls = 0) * 10000000000 AS HUGEINT)
        // nullif(count(units.unit) FILTER (WHERE unknown_cost_calls = 0), 0)
        AS DECIMAL(38, 0)
    ) * 0.0000000001                                                        AS mean_cost,
    quantile_cont(known_cost, 0.50) FILTER (WHERE unknown_cost_calls = 0) AS p50_cost,
    quantile_cont(known_cost, 0.95) FILTER (WHERE unknown_cost_calls = 0) AS p95_cost
FROM (VALUES ('session'), ('enriched_lead')) AS wanted (unit)
LEFT JOIN units ON units.unit = wanted.unit
GROUP BY wanted.unit
