-- lead_costs: spend per lead. A lead is enriched when none of its calls failed or was refused
-- (status error or rejected); a lead's company is the smallest company id among its calls
-- (a lead normally has one). Calls outside any session form the row with a NULL lead_id.
SELECT
    lead_id,
    min(company_id)                                  AS company_id,
    count(DISTINCT session_id)                       AS sessions,
    count(*)                                         AS calls,
    count(cost)                                      AS priced_calls,
    count(*) - count(cost)                           AS unknown_cost_calls,
    coalesce(sum(cost), 0)                           AS known_cost,
    count(*) FILTER (WHERE failed)                   AS failed_calls,
    count(*) FILTER (WHERE failed) = 0               AS enriched,
    min(started_at)                                  AS first_call_at,
    max(completed_at)                                AS last_call_at
FROM enrichment_calls
GROUP BY lead_id
