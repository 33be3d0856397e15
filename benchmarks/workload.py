"""What the benchmarks call and measure: tool calls shaped like the reference pipeline's, each
benchmark's measurement in a fresh process, and resident memory.

The four tools make the spans a lead's enrichment makes (Firecrawl credits, Exa and Perplexity
reported costs, OpenAI tokens priced by genai-prices), through the public API only. A benchmark
measures in a process of its own (`run_measurement`), so one benchmark's global tracer provider,
threads and memory never colour another's figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import enrichment_logs as el


@el.tool("firecrawl", "scrape")
def scrape(url: str) -> dict[str, Any]:
    el.record_usage(credits=1)
    return {"markdown": f"# {url}", "metadata": {"creditsUsed": 1}}


@el.tool("exa", "search")
def search(query: str) -> dict[str, Any]:
    el.record_usage(cost="0.007", search_type="auto", results=5)
    return {"results": [{"title": query}] * 5}


@el.tool("perplexity", "responses.create")
def ask(question: str) -> dict[str, Any]:
    el.record_usage(model="sonar", input_tokens=180, output_tokens=420, cost="0.00662")
    return {"output_text": question}


@el.tool("openai", "chat.completions.create", model="gpt-4o-mini")
def extract(page: str) -> dict[str, Any]:
    el.record_usage(
        model="gpt-4o-mini-2024-07-18",
        input_tokens=1850,
        cached_input_tokens=1024,
        output_tokens=240,
    )
    return {"content": page}


TOOLS: Sequence[Callable[[str], dict[str, Any]]] = (scrape, search, ask, extract)


def enrich_lead(n: int) -> None:
    """One lead's four calls, attributed to it as the reference pipeline's are."""
    with el.enrichment_session(lead_id=f"lead-{n:07d}", company_id=f"company-{n % 997}"):
        for call in TOOLS:
            call(f"acme-{n}")


def tool_calls(count: int) -> None:
    """`count` calls, four per lead."""
    for n in range(count // len(TOOLS)):
        enrich_lead(n)


_SERVE_EMULATOR = """
import json, sys, threading
from enrichment_logs.emulator import ProviderEmulator
with ProviderEmulator(seed=1, latency=json.loads(sys.argv[1])) as emulator:
    print(emulator.base_url, flush=True)
    threading.Event().wait()
"""


@contextmanager
def emulator_process(latency: Mapping[str, float] | None = None) -> Iterator[str]:
    """The emulator in its own process, as a real provider is: it must not share our GIL.
    `latency` adds seconds per provider. Yields its base URL."""
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE_EMULATOR, json.dumps(dict(latency or {}))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        server.terminate()
        server.wait(timeout=10)


def resident_kib(field: str = "VmRSS") -> int:
    """`VmRSS` (now) or `VmHWM` (peak so far) of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def run_measurement(module: str, arguments: dict[str, Any], timeout: float = 1800) -> Any:
    """Run `python -m <module> '<arguments as JSON>'` and return what it prints as JSON."""
    finished = subprocess.run(
        [sys.executable, "-m", module, json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{finished.stderr}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def measurement_arguments() -> dict[str, Any]:
    """The JSON arguments a measurement process was started with."""
    return dict(json.loads(sys.argv[1]))


def write_result(results_dir: Path, name: str, result: dict[str, Any]) -> dict[str, Any]:
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
