"""The floor of an extract: what DuckDB alone needs for the same input and output.

Reads every column of every source table once (a hash of every value summed, so that each is
read and decoded), then loads the released panels and copies them to fresh Parquet files (zstd),
once.
Run by bench_scale.py in a child process of its own, with the same DuckDB memory as rex.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from flows.runtime.settings import DEFAULT_MEMORY_LIMIT  # noqa: E402
from specs.sources import SOURCE_TABLES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--release", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    memory = os.environ.get("REX_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    con = duckdb.connect(config={"memory_limit": memory})
    for table in SOURCE_TABLES.values():
        path = str(args.store / table.relative_path)
        # every value decoded (a hash of each); column names come from the source schemas
        hashes = ", ".join(f'sum(hash("{c.name}"))' for c in table.columns)
        con.read_parquet(path).aggregate(hashes).fetchall()
    args.out.mkdir(parents=True)
    for panel in sorted(args.release.glob("*.parquet")):
        target = str(args.out / panel.name)
        con.read_parquet(str(panel)).write_parquet(target, compression="zstd")


if __name__ == "__main__":
    main()
