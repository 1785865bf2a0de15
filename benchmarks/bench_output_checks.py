"""What rex's own computation of the outputs costs: the barometer's declarations checked on an
on-premise workspace, with the person-locality runs (each query also run on four parts of the
workspace) against the floor of running each query once, alternated, in the same process.

    .venv/bin/python benchmarks/bench_output_checks.py \
        data/onprem/dulbea-barometer/18-088_onprem_2020-06-30

The declarations are the barometer's (`notebooks/barometer_onprem.py`), written once into a
temporary folder as the API writes them on premise. Reports medians of 3 and the peak memory.
"""

from __future__ import annotations

import os
import resource
import runpy
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3


def main() -> None:
    workspace = Path(sys.argv[1]).resolve()
    sys.path[:0] = [str(ROOT), str(ROOT / "notebooks")]
    from flows.analysis import output_checking
    from flows.analysis.run import workspace_persons
    from specs.modes import OutputChecks

    with tempfile.TemporaryDirectory() as folder:
        outputs = Path(folder) / "outputs"
        os.environ.update(REX_RELEASE=str(workspace), REX_ONPREM="1", REX_OUTPUT=str(outputs))
        runpy.run_path(str(ROOT / "notebooks" / "barometer_onprem.py"), run_name="__main__")
        panels = {p.name: p for p in sorted(workspace.glob("*.parquet"))}
        checked = output_checking.Workspace(panels, workspace_persons(workspace), str(workspace))
        local = output_checking._person_local_rows

        def once(plan, rows_of, workspace):  # the floor: the query run once, trusted
            return rows_of(output_checking._deserialised(plan)).collect()

        timings: dict[str, list[float]] = {"with locality runs": [], "query run once": []}
        for _ in range(REPEATS):
            for label, runner in (("with locality runs", local), ("query run once", once)):
                output_checking._person_local_rows = runner  # type: ignore[assignment]
                start = time.perf_counter()
                output_checking.check_outputs(outputs, checked, OutputChecks())
                timings[label].append(time.perf_counter() - start)
        output_checking._person_local_rows = local
    persons = pl.read_parquet(workspace / "persons.parquet").height
    print(f"barometer's 9 declarations, workspace of {persons:,} persons")
    print("| checks | median of 3 (s) |")
    print("|---|---:|")
    for label, seconds in timings.items():
        print(f"| {label} | {statistics.median(seconds):.2f} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
