"""Benchmark: synthetic generation and both 18/088 exports, each timed, with peak memory.

Each step runs in its own process (so its peak memory is its own), `--repeat` times; the median
wall time and the largest peak RSS are reported. Run: `make bench` or
`.venv/bin/python benchmarks/bench_pipeline.py --persons 100000 --repeat 3`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import REPO, run_child

REX = [sys.executable, "-m", "flows.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--as-of", default="2020-06-30")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="rex-bench-"))
    env = {**os.environ, "REX_DATA_DIR": str(root / "data"), "REX_KEY_STORE": str(root / "keys")}
    subprocess.run(
        [*REX, "keys", "create", "dulbea-barometer"],
        env=env,
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    spec = str(REPO / "specs" / "18-088.yaml")
    steps = {
        "synth": [*REX, "synth", "--persons", str(args.persons), "--seed", "1"],
        "export sample": [*REX, "export", "sample", "--spec", spec, "--as-of", args.as_of],
        "export onprem": [*REX, "export", "onprem", "--spec", spec, "--as-of", args.as_of],
    }
    results = {}
    for name, command in steps.items():
        runs = []
        for _ in range(args.repeat):
            if name.startswith("export"):  # a rerun would only reuse the published release
                subprocess.run(
                    ["rm", "-rf", str(root / "data" / "releases"), str(root / "data" / "onprem")],
                    check=True,
                )
            runs.append(run_child(command, env))
        results[name] = {
            "median_s": round(statistics.median(r[0] for r in runs), 2),
            "peak_rss_mib": round(max(r[1] for r in runs)),
            "runs_s": [round(r[0], 2) for r in runs],
        }
    print(
        json.dumps(
            {
                "persons": args.persons,
                "repeat": args.repeat,
                "cpus": os.cpu_count(),
                "steps": results,
            },
            indent=2,
        )
    )
    subprocess.run(["rm", "-rf", str(root)], check=True)


if __name__ == "__main__":
    main()
