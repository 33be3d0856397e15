-- cost_saved: on a cache hit (status 'cached', cost 0), what the call that fetched the cached
-- response cost, so SUM(cost_saved) is what the response cache saved. NULL on every other row.
ALTER TABLE enrichment_logs ADD COLUMN IF NOT EXISTS cost_saved DECIMAL(18, 10);
