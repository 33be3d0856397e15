-- enrichment_calls: the enrichment_logs table plus the derived columns every other view shares,
-- so "which day", "was it priced" and "did it fail" are each defined once.
-- Days and hours are UTC whatever the reader's TimeZone setting, so every reader (Python, the
-- DuckDB CLI, Grafana) puts a call in the same bucket. A call belongs to the time it started.
SELECT
    *,
    timezone('UTC', started_at)               AS started_at_utc,  -- TIMESTAMP, UTC wall clock
    CAST(timezone('UTC', started_at) AS DATE) AS day,
    status IN ('success', 'error')            AS reached_provider, -- not served from cache, not refused
    status IN ('error', 'rejected')           AS failed
FROM enrichment_logs
