-- usage_window: the buckets usage_daily covers: every UTC day from the first call's day to the
-- last call's. (The Python API supplies its own window: the caller's interval and date range.)
SELECT
    'day'                                  AS unit,
    date_trunc('day', min(started_at_utc)) AS first_bucket,
    date_trunc('day', max(started_at_utc)) AS last_bucket
FROM enrichment_calls
