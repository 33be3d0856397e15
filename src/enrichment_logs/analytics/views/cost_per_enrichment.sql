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
),
-- The units of each kind, priced and not, each group in one pass (FILTERed aggregates over the
-- units' rows and a percentile aggregate each took twice as long: 110 -> 40 ms CPU for 570 000
-- units); at most four rows, pivoted below.
kinds AS (
    SELECT
        unit,
        unknown_cost_calls = 0                   AS priced,
        count(*)                                 AS units,
        sum(known_cost)                          AS known_cost,
        quantile_cont(known_cost, [0.50, 0.95])  AS percentiles
    FROM units
    GROUP BY unit, priced
),
figures AS (
    SELECT
        wanted.unit,
        coalesce(sum(units) FILTER (WHERE priced), 0)      AS priced,
        coalesce(sum(units) FILTER (WHERE NOT priced), 0)  AS with_unknown_cost,
        any_value(known_cost) FILTER (WHERE priced)        AS priced_cost,
        any_value(percentiles) FILTER (WHERE priced)       AS percentiles
    FROM (VALUES ('session'), ('enriched_lead')) AS wanted (unit)
    LEFT JOIN kinds USING (unit)
    GROUP BY wanted.unit
)
SELECT
    unit,
    CAST(priced AS BIGINT)                                                     AS priced,
    CAST(with_unknown_cost AS BIGINT)                                          AS with_unknown_cost,
    CAST(CAST(priced_cost * 10000000000 AS HUGEINT) // nullif(priced, 0) AS DECIMAL(38, 0))
        * 0.0000000001                                                         AS mean_cost,
    percentiles[1]                                                             AS p50_cost,
    percentiles[2]                                                             AS p95_cost
FROM figures
