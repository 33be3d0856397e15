-- session_costs: spend per enrichment session (one enrichment_session block). A session
-- succeeded when none of its calls failed or was refused.
SELECT
    session_id,
    min(lead_id)                       AS lead_id,
    min(company_id)                    AS company_id,
    count(*)                           AS calls,
    count(cost)                        AS priced_calls,
    count(*) - count(cost)             AS unknown_cost_calls,
    coalesce(sum(cost), 0)             AS known_cost,
    count(*) FILTER (WHERE failed)     AS failed_calls,
    count(*) FILTER (WHERE failed) = 0 AS succeeded,
    min(started_at)                    AS started_at,
    max(completed_at)                  AS completed_at
FROM enrichment_calls
GROUP BY session_id
