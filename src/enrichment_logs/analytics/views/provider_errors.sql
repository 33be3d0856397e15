-- provider_errors: failed calls per provider, operation and error type (NULL when the failure
-- named no type).
SELECT
    provider,
    operation,
    error_type,
    count(*) AS errors
FROM enrichment_calls
WHERE status = 'error'
GROUP BY provider, operation, error_type
