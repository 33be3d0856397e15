"""What each provider module tells the generic HTTP layer, and helpers to read untrusted JSON.

The span life cycle is written once (`exchange.py`); a provider module only knows its API: which
operation a method and path are, what usage a response reports, which streamed event carries the
final usage, and which endpoints start or report on asynchronous jobs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from enrichment_logs.pricing.usage import Usage

OTHER = "other"
"""The operation of an endpoint we do not know: still a row, priced only if it reports a cost."""

JobRole = Literal["start", "status"]
_JOB_LISTINGS = frozenset({"active", "ongoing"})
"""`GET /crawl/active` lists jobs; it is not the status of a job named `active`."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One provider endpoint as the cost engine names it."""

    operation: str
    job: JobRole | None = None
    """`start`: the call submits an asynchronous job that is billed when it finishes; `status`:
    the call polls job `job_id`, whose final status carries the charge."""
    job_id: str | None = None


class ProviderApi(Protocol):
    """Implemented by the modules `exa`, `firecrawl` and `perplexity` of this package."""

    @property
    def STREAM_MARKERS(self) -> Sequence[bytes]:
        """Byte strings one of which a streamed event must contain to be worth parsing."""
        ...

    def endpoint(self, method: str, path: str) -> Endpoint:
        """The endpoint of a request; `path` is relative to the provider's API root."""
        ...

    def usage(self, endpoint: Endpoint, request: Any, response: Any) -> Usage:
        """What the response (a parsed JSON body, or the final streamed event) reports."""
        ...

    def final_event(self, event: Any) -> Any:
        """The body to price if this streamed event carries the final usage, else None."""
        ...

    def failure(self, endpoint: Endpoint, response: Any) -> str | None:
        """Why a 2xx response still reports a failed call (a failed job or run), else None."""
        ...

    def job_id(self, response: Any) -> str | None:
        """The id of the job a `start` call created."""
        ...

    def job_finished(self, response: Any) -> bool:
        """Whether a `status` response reports the job as finished (and so billed)."""
        ...


def job_endpoint(method: str, path: str, jobs: Mapping[str, str]) -> Endpoint | None:
    """`POST {root}` starts a job of `jobs[root]`; `GET {root}/{id}` reports on it."""
    for root, operation in jobs.items():
        if method == "POST" and path == root:
            return Endpoint(operation, job="start")
        job, slash, _ = path.removeprefix(root + "/").partition("/")
        polled = method == "GET" and path.startswith(root + "/") and not slash
        if polled and job and job not in _JOB_LISTINGS:
            return Endpoint(operation, job="status", job_id=job)
    return None


def job_failure(endpoint: Endpoint, response: Any, failed: frozenset[str]) -> str | None:
    """Why a job's status poll says it ended badly (HTTP 200 with a failed status), or None."""
    status = obj(response).get("status")
    if endpoint.job != "status" or status not in failed:
        return None
    return str(obj(response).get("error") or f"the {endpoint.operation} job {status}")


def obj(value: Any) -> Mapping[str, Any]:
    """`value` if it is a JSON object, else an empty one: provider bodies are untrusted."""
    return value if isinstance(value, Mapping) else {}


def dig(value: Any, *keys: str) -> Any:
    """`value[k1][k2]...`, or None as soon as a level is missing or not an object."""
    for key in keys:
        value = obj(value).get(key)
    return value


def items(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []
