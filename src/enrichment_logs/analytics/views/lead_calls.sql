-- lead_calls: each call with the columns a per-lead cost page shows; order by started_at, id.
SELECT
    lead_id,
    started_at,
    completed_at,
    id,
    session_id,
    provider,
    operation,
    model,
    status,
    error_type,
    cost,
    cost_source,
    input_tokens,
    output_tokens,
    credits,
    duration_ms,
    retry_count
FROM enrichment_calls
