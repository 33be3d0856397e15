"""`make bench`: run every benchmark and write its results to benchmarks/results/*.json.

`python -m benchmarks --quick` runs the long ones shorter (a check, not the README's figures);
`--only NAME ...` runs some of them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks import (
    analytics_scale,
    call_overhead,
    export_rate,
    kill_window,
    lake_writers,
    memory_run,
    openai_overhead,
    pipeline_overhead,
)

RESULTS = Path(__file__).parent / "results"

SHORTENED = (
    analytics_scale,
    call_overhead,
    export_rate,
    kill_window,
    memory_run,
    pipeline_overhead,
    lake_writers,
)
"""Benchmarks whose `main` takes `quick`."""

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="shorter runs of the long ones")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="e.g. export_rate kill_window")
    options = parser.parse_args()
    for benchmark in (openai_overhead, *SHORTENED):
        if options.only and benchmark.__name__.rsplit(".", 1)[-1] not in options.only:
            continue
        if benchmark in SHORTENED:
            result = benchmark.main(RESULTS, quick=options.quick)
        else:
            result = benchmark.main(RESULTS)
        print(json.dumps(result, indent=2))
