-- usage_window: the buckets usage_daily covers: every UTC day from the first call's day to the
-- last call's. (The Python API supplies its own window: the caller's interval and date range.)
-- The first and last instants are taken before their UTC wall clock: the same buckets, and the
-- extremes of the column come from its statistics instead of converting every call's time.
SELECT
    'day'                                                 AS unit,
    date_trunc('day', timezone('UTC', min(started_at)))   AS first_bucket,
    date_trunc('day', timezone('UTC', max(started_at)))   AS last_bucket
FROM enrichment_calls
