"""What the disclosure ledger (transforms.ledger) costs: the barometer's cells over N persons.

The cells are those of the barometer on premise: persons by year x sex x age group (10 x 2 x 5),
their margin by year x sex, persons on 31 December by year x sex x state (10 x 2 x 2), and
the trajectories (25 months x 4 states) of the persons entering incapacity (a tenth); half of
them released by an earlier run (the ledger), half new. Each size runs in a fresh process, so
that its peak memory is its own; the floor is the same cells' grouping alone, in the same run.

    .venv/bin/python benchmarks/bench_ledger.py [persons ...]   # default 13830 100000
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import polars as pl

REPEATS = 3


def cells(persons: int, seed: int = 1) -> pl.DataFrame:
    """(cell, person) of the barometer's tables over `persons` synthetic persons."""
    rng = np.random.default_rng(seed)
    people = pl.DataFrame(
        {
            "person": np.arange(persons, dtype=np.uint32),
            "year": rng.integers(0, 10, persons),
            "sex": rng.integers(0, 2, persons),
            "age": rng.integers(0, 5, persons),
        }
    )
    frames = [
        people.select(pl.format("a:1:{}-{}-{}:n", "year", "sex", "age").alias("cell"), "person"),
        people.select(pl.format("a:2:{}-{}:n", "year", "sex").alias("cell"), "person"),
    ]
    for year in range(10):  # every person alive on each 31 December, in invalidity or not
        state = pl.Series(rng.integers(0, 2, persons))
        frames.append(
            people.select(
                pl.format(f"b:3:{year}-{{}}-{{}}:n", "sex", pl.lit(state)).alias("cell"), "person"
            )
        )
    entering = people.filter(pl.Series(rng.random(persons) < 0.1))
    for offset in range(25):
        state = pl.Series(rng.integers(0, 4, entering.height))
        frames.append(
            entering.select(
                pl.format(f"b:4:{offset}-{{}}:n", pl.lit(state)).alias("cell"), "person"
            )
        )
    return pl.concat(frames)


def measure(persons: int) -> dict[str, float]:
    from transforms import ledger

    members = cells(persons)
    old = members.filter(pl.col("cell").str.starts_with("a:"))
    new = members.filter(pl.col("cell").str.starts_with("b:"))
    seconds, floor = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        members.group_by("cell").len()
        floor.append(time.perf_counter() - start)
        start = time.perf_counter()
        ledger.disclosive(old, new, 10)
        seconds.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "persons": persons,
        "memberships": members.height,
        "ledger_s": statistics.median(seconds),
        "grouping_floor_s": statistics.median(floor),
        "peak_mib": peak,
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(measure(int(sys.argv[2]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [13_830, 100_000]
    print("| persons | memberships | ledger (median s) | grouping floor (s) | peak MiB |")
    print("|---:|---:|---:|---:|---:|")
    for size in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout)
        print(
            f"| {r['persons']:,} | {r['memberships']:,} | {r['ledger_s']:.2f} | "
            f"{r['grouping_floor_s']:.3f} | {r['peak_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()
