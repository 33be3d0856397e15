-- The enrichment_logs table: one row per paid tool call. This file is the only definition of
-- the table; the exporter, the analytics, the Grafana panels and the tests use these names.
-- Token counts are inclusive (input includes cached and cache-write input, output includes
-- reasoning), as OpenAI and the GenAI semantic conventions count them.
CREATE TABLE IF NOT EXISTS enrichment_logs (
    id                  UUID PRIMARY KEY,           -- log id (UUIDv7); replaying a span is a no-op
    trace_id            VARCHAR NOT NULL,
    span_id             VARCHAR NOT NULL,
    parent_span_id      VARCHAR,
    session_id          VARCHAR,
    lead_id             VARCHAR,
    company_id          VARCHAR,
    provider            VARCHAR NOT NULL,
    operation           VARCHAR NOT NULL,
    model               VARCHAR,
    request_data        JSON,                       -- scrubbed content (opt-in) or metadata
    response_data       JSON,
    tokens_used         BIGINT,                     -- input_tokens + output_tokens
    input_tokens        BIGINT,
    output_tokens       BIGINT,
    cached_input_tokens BIGINT,
    cache_write_tokens  BIGINT,
    reasoning_tokens    BIGINT,
    credits             DECIMAL(18, 6),             -- Firecrawl credits
    cost                DECIMAL(18, 10),            -- USD; NULL means unknown, never 0
    cost_source         VARCHAR NOT NULL CHECK (cost_source IN ('provider', 'price_table', 'override', 'unknown')),
    currency            VARCHAR NOT NULL,
    price_version       VARCHAR,
    started_at          TIMESTAMPTZ NOT NULL,
    completed_at        TIMESTAMPTZ NOT NULL,
    duration_ms         DOUBLE NOT NULL,
    status              VARCHAR NOT NULL CHECK (status IN ('success', 'error', 'cached', 'rejected')),
    error_type          VARCHAR,
    error_message       VARCHAR,
    retry_count         INTEGER NOT NULL DEFAULT 0,
    cache_hit           BOOLEAN NOT NULL DEFAULT FALSE,
    request_hash        VARCHAR,
    service_name        VARCHAR,
    attributes          JSON                        -- remaining span attributes and data-quality notes
);

-- Per-lead and per-company details are point look-ups; time ranges use DuckDB's zone maps.
CREATE INDEX IF NOT EXISTS enrichment_logs_lead_idx ON enrichment_logs (lead_id);
CREATE INDEX IF NOT EXISTS enrichment_logs_company_idx ON enrichment_logs (company_id);
CREATE INDEX IF NOT EXISTS enrichment_logs_session_idx ON enrichment_logs (session_id);
