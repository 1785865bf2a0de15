"""Benchmark: `rex synth` at 100,000 and 1,000,000 persons, wall time and peak memory.

Each generation runs in its own process, `--repeat` times per size; reported per size: the
median wall time, the largest peak RSS of the process (os.wait4's ru_maxrss), the store's size
on disk and its rows. The point is that memory is bounded by the chunk size, not the population.
Run: `.venv/bin/python benchmarks/bench_synth.py` (about 15 minutes on 2 cores), or e.g.
`.venv/bin/python benchmarks/bench_synth.py --persons 100000 --repeat 3 --chunk-size 50000`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from measure import run_child

REX = [sys.executable, "-m", "flows.cli"]
DEFAULT_SIZES = (100_000, 1_000_000)


def store_size(store: Path) -> dict[str, float]:
    files = {p.relative_to(store).as_posix(): p.stat().st_size for p in store.rglob("*.parquet")}
    return {"total_mib": round(sum(files.values()) / 2**20, 1)} | {
        name: round(size / 2**20, 1) for name, size in sorted(files.items())
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=None, help="default: rex's default")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="rex-bench-synth-"))
    env = {**os.environ, "REX_DATA_DIR": str(root / "data")}
    results = {}
    try:
        for persons in args.persons:
            store = root / f"store-{persons}"
            command = [*REX, "synth", "--persons", str(persons), "--seed", str(args.seed)]
            command += ["--out", str(store)]
            if args.chunk_size:
                command += ["--chunk-size", str(args.chunk_size)]
            runs = [run_child(command, env) for _ in range(args.repeat)]
            results[persons] = {
                "median_s": round(statistics.median(r[0] for r in runs), 1),
                "peak_rss_mib": round(max(r[1] for r in runs)),
                "runs_s": [round(r[0], 1) for r in runs],
                "store_mib": store_size(store),
            }
            shutil.rmtree(store)
            print(json.dumps({persons: results[persons]}), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        json.dumps(
            {
                "chunk_size": args.chunk_size or "default",
                "repeat": args.repeat,
                "cpus": os.cpu_count(),
                "sizes": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
