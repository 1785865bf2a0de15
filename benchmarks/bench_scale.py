"""Benchmark: the 18/088 sample export and on-premise build at scale, each against its floor.

For each population (`--persons`, default 100,000): generate a store (`rex synth`), create a key,
then time, `--repeat` times each, in a child process of its own (median wall time, largest peak
RSS): `rex export sample`, `rex export onprem`, and the floor of each, measured in the same run:
DuckDB alone reading every column of every source table once and writing the released panels
once (loading the release's Parquet files and copying them to fresh Parquet, zstd). Run:
`.venv/bin/python benchmarks/bench_scale.py --persons 100000 1000000 --repeat 3`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import REPO, run_child

REX = [sys.executable, "-m", "flows.cli"]
FLOOR = [sys.executable, str(Path(__file__).resolve().parent / "floor.py")]
SPEC = REPO / "specs" / "18-088.yaml"
PROJECT = "dulbea-barometer"


def measured(command: list[str], env: dict[str, str], repeat: int, before=None) -> dict:
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        runs.append(run_child(command, env))
    return {
        "median_s": round(statistics.median(r[0] for r in runs), 2),
        "peak_rss_mib": round(max(r[1] for r in runs)),
        "runs_s": [round(r[0], 2) for r in runs],
    }


def release_of(data: Path, mode: str, as_of: str) -> Path:
    base = data / ("onprem" if mode == "onprem" else "releases") / PROJECT
    return base / f"18-088_{mode}_{as_of}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--as-of", default="2020-06-30")
    parser.add_argument("--root", type=Path, default=None, help="work folder (default: a temp one)")
    parser.add_argument("--keep", action="store_true", help="keep the stores for another run")
    args = parser.parse_args()

    root = args.root or Path(tempfile.mkdtemp(prefix="rex-scale-"))
    results = []
    for persons in args.persons:
        folder = root / f"p{persons}"
        data = folder / "data"
        env = {**os.environ, "REX_DATA_DIR": str(data), "REX_KEY_STORE": str(folder / "keys")}
        store = data / "synthetic"
        entry: dict = {"persons": persons}
        if not (store / "store.json").exists():
            synth = [*REX, "synth", "--persons", str(persons), "--seed", "1", "--out", str(store)]
            entry["synth"] = measured(synth, env, 1)
        if not (folder / "keys" / f"{PROJECT}.key").exists():
            subprocess.run(
                [*REX, "keys", "create", PROJECT],
                env=env,
                cwd=REPO,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        for mode in ("sample", "onprem"):
            release = release_of(data, mode, args.as_of)

            def fresh(release: Path = release) -> None:
                shutil.rmtree(release, ignore_errors=True)  # a rerun would reuse it

            command = [*REX, "export", mode, "--spec", str(SPEC), "--as-of", args.as_of]
            entry[f"export {mode}"] = measured(command, env, args.repeat, fresh)
            manifest = json.loads((release / "manifest.json").read_text())
            entry[f"export {mode}"]["released_persons"] = manifest["persons"]
            out = folder / f"floor-{mode}"

            def clean(out: Path = out) -> None:
                shutil.rmtree(out, ignore_errors=True)

            floor = [*FLOOR, "--store", str(store), "--release", str(release), "--out", str(out)]
            entry[f"floor {mode}"] = measured(floor, env, args.repeat, clean)
            entry[f"export {mode}"]["x_floor"] = round(
                entry[f"export {mode}"]["median_s"] / entry[f"floor {mode}"]["median_s"], 2
            )
        results.append(entry)
    print(
        json.dumps(
            {"repeat": args.repeat, "cpus": os.cpu_count(), "populations": results}, indent=2
        )
    )
    if not args.keep and args.root is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
