-- latency_sample: which calls the latency percentiles of provider_performance come from.
-- Up to 1 000 000 calls: every call that reached the provider, and the percentiles are exact.
-- Beyond, a sample of them: one call in `one_in` (the smallest power of two that leaves at most
-- 1 000 000), the calls whose sample_key is at most max_sample_key. The key is fixed by each
-- call (enrichment_calls), so the same calls give the same percentiles in every reader and every
-- time; a larger log's sample holds a smaller one's. Exact percentiles of 10 million durations
-- take ~1 s of CPU, the sample's ~0.1 s (README: "Benchmark: analytics at 10 million rows",
-- with the sample's measured error).
SELECT
    count(*)                                                    AS calls,
    CAST(
        CASE WHEN count(*) <= 1000000 THEN 1 ELSE 2 ** ceil(log2(count(*) / 1000000)) END
        AS UBIGINT
    )                                                           AS one_in,
    CAST(18446744073709551615 // one_in AS UBIGINT)             AS max_sample_key
FROM enrichment_calls
