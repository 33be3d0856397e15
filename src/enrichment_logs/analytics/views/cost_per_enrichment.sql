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
-- units). Materialized: it is read twice below, and is four rows.
kinds AS MATERIALIZED (
    SELECT
        unit,
        unknown_cost_calls = 0                   AS priced,
        count(*)                                 AS units,
        sum(known_cost)                          AS known_cost,
        quantile_cont(known_cost, [0.50, 0.95])  AS percentiles
    FROM units
    GROUP BY unit, priced
)
SELECT
    wanted.unit,
    coalesce(priced.units, 0)                                              AS priced,
    coalesce(unpriced.units, 0)                                            AS with_unknown_cost,
    CAST(CAST(priced.known_cost * 10000000000 AS HUGEINT) // priced.units AS DECIMAL(38, 0))
        * 0.0000000001                                                     AS mean_cost,
    priced.percentiles[1]                                                  AS p50_cost,
    priced.percentiles[2]                                                  AS p95_cost
FROM (VALUES ('session'), ('enriched_lead')) AS wanted (unit)
LEFT JOIN kinds AS priced ON priced.unit = wanted.unit AND priced.priced
LEFT JOIN kinds AS unpriced ON unpriced.unit = wanted.unit AND NOT unpriced.priced
