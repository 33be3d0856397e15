"""`make bench`: run every benchmark and write its results to benchmarks/results/*.json."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import openai_overhead

RESULTS = Path(__file__).parent / "results"

if __name__ == "__main__":
    for benchmark in (openai_overhead,):
        print(json.dumps(benchmark.main(RESULTS), indent=2))
