"""Span attribute names: the contract between what creates spans and what turns them into rows.

GenAI names come from `opentelemetry-semantic-conventions` so they follow the spec as it moves;
what the spec does not define (lead, company, session, credits, cost provenance) lives in our own
`enrichment.*` namespace. Nothing else in the package spells an attribute name as a literal.
"""

from __future__ import annotations

from typing import Final, Literal

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _gen_ai
from opentelemetry.semconv.attributes import error_attributes as _error

# --- GenAI semantic conventions -------------------------------------------------------------
GEN_AI_PROVIDER_NAME: Final = _gen_ai.GEN_AI_PROVIDER_NAME
GEN_AI_OPERATION_NAME: Final = _gen_ai.GEN_AI_OPERATION_NAME
GEN_AI_REQUEST_MODEL: Final = _gen_ai.GEN_AI_REQUEST_MODEL
GEN_AI_RESPONSE_MODEL: Final = _gen_ai.GEN_AI_RESPONSE_MODEL
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = _gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
GEN_AI_USAGE_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_INPUT_TOKENS
GEN_AI_USAGE_OUTPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = _gen_ai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS
ERROR_TYPE: Final = _error.ERROR_TYPE

# --- enrichment.* ---------------------------------------------------------------------------
SPAN_TYPE: Final = "enrichment.span.type"
"""`tool_call` for a paid call (one row), `session` for an enrichment session (no row),
`covered` for another instrumentation's span of a call we log (no row: one call, one row)."""

LOG_ID: Final = "enrichment.log_id"
PROVIDER: Final = "enrichment.provider"
OPERATION: Final = "enrichment.operation"
LEAD_ID: Final = "enrichment.lead_id"
COMPANY_ID: Final = "enrichment.company_id"
SESSION_ID: Final = "enrichment.session_id"

CREDITS: Final = "enrichment.credits"
COST: Final = "enrichment.cost"
"""A cost known when the span ends (provider-reported or an override), as a decimal string."""
COST_SOURCE: Final = "enrichment.cost.source"
COST_CURRENCY: Final = "enrichment.cost.currency"
PRICE_VERSION: Final = "enrichment.price_version"

USAGE_EXTRA_PREFIX: Final = "enrichment.usage."
"""Provider-specific usage that prices a call (`enrichment.usage.search_type`, `...results`)."""
TOKENS_USED: Final = USAGE_EXTRA_PREFIX + "tokens_used"
"""A total without its split, as `complete_enrichment_log(tokens_used=...)` records it."""

INVALID: Final = "enrichment.invalid"
"""Names of usage values that were reported but unusable (stored as NULL)."""

STATUS: Final = "enrichment.status"
ERROR_MESSAGE: Final = "enrichment.error.message"
RETRY_COUNT: Final = "enrichment.retry_count"
CACHE_HIT: Final = "enrichment.cache_hit"
REQUEST_HASH: Final = "enrichment.request_hash"
COST_SAVED: Final = "enrichment.cost_saved"
"""A cache hit: what the call that fetched the cached response cost (decimal string)."""
BUDGET_ESTIMATE: Final = "enrichment.budget.estimate"
"""The cost a budget reserved for the call before it ran."""
BREAKER_STATE: Final = "enrichment.breaker.state"
"""`open` on a call the breaker refused, `half_open` on its probe call; also a breaker event's."""
REQUEST_DATA: Final = "enrichment.request_data"
RESPONSE_DATA: Final = "enrichment.response_data"
"""JSON strings: scrubbed content when capture is on, otherwise metadata (keys and sizes)."""

# --- span events of the guards (budgets, breakers, retries) ---------------------------------
ATTEMPT_EVENT: Final = "enrichment.attempt"
ATTEMPT_NUMBER: Final = "enrichment.attempt.number"
ATTEMPT_OUTCOME: Final = "enrichment.attempt.outcome"
"""`success`, `HTTP 429`, `ConnectTimeout`, ..."""
ATTEMPT_WAIT_SECONDS: Final = "enrichment.attempt.wait_seconds"
"""The wait before the next attempt (absent on the last)."""
BUDGET_WARNING_EVENT: Final = "enrichment.budget.warning"
BUDGET_LIMIT: Final = "enrichment.budget.limit"
BUDGET_THRESHOLD: Final = "enrichment.budget.threshold"
BUDGET_SPENT: Final = "enrichment.budget.spent"
BUDGET_AMOUNT: Final = "enrichment.budget.amount"
BREAKER_EVENT: Final = "enrichment.breaker"
BREAKER_NAME: Final = "enrichment.breaker.name"
BREAKER_REASON: Final = "enrichment.breaker.reason"

SESSION_COST: Final = "enrichment.session.cost"
SESSION_COST_UNKNOWN_CALLS: Final = "enrichment.session.cost_unknown_calls"
SESSION_CALLS: Final = "enrichment.session.calls"
SESSION_INPUT_TOKENS: Final = "enrichment.session.input_tokens"
SESSION_OUTPUT_TOKENS: Final = "enrichment.session.output_tokens"

SpanType = Literal["tool_call", "session", "covered"]
Status = Literal["success", "error", "cached", "rejected"]
CostSource = Literal["provider", "price_table", "override", "unknown"]
