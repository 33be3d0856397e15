-- company_costs: spend per company, over all of its leads.
SELECT
    company_id,
    count(DISTINCT lead_id) AS leads,
    count(*)                AS calls,
    count(cost)             AS priced_calls,
    count(*) - count(cost)  AS unknown_cost_calls,
    coalesce(sum(cost), 0)  AS known_cost,
    min(started_at)         AS first_call_at,
    max(completed_at)       AS last_call_at
FROM enrichment_calls
GROUP BY company_id
