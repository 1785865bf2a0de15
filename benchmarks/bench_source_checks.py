"""Benchmark: injecting defects, and the source checks (find, then clean) on a source store.

Generates a population once, injects every kind of defect in memory (timed), writes a clean store
and one with the cleanable kinds only, then times `find_defects` on each and the cleaning of the
second (each cleaned table counted once). Run:
`.venv/bin/python benchmarks/bench_source_checks.py --persons 100000`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from flows.stores.sources import open_sources  # noqa: E402
from specs import sources as declared_sources
from specs.sources import SOURCE_TABLES  # noqa: E402
from synthetic.defects import inject_defects  # noqa: E402
from synthetic.generate import conform, population_tables  # noqa: E402
from transforms import source_checks as sc  # noqa: E402

CLEANABLE = frozenset(k for k, rule in sc.RULES.items() if rule.action is sc.Action.CLEAN)


def write(tables, folder: Path) -> Path:
    for key, table in SOURCE_TABLES.items():
        path = folder / table.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(conform(tables[key], table).to_arrow(), path)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    tables = population_tables(args.persons, args.seed)
    started = time.perf_counter()
    inject_defects(tables, args.seed)
    print(f"inject_defects, every kind: {time.perf_counter() - started:.2f} s")
    with tempfile.TemporaryDirectory(prefix="rex-bench-checks-") as folder:
        time_checks(tables, args, Path(folder))


def time_checks(tables, args: argparse.Namespace, root: Path) -> None:
    stores = {
        "clean": write(tables, root / "clean"),
        "cleanable defects": write(inject_defects(tables, args.seed, CLEANABLE), root / "defects"),
    }
    for label, store in stores.items():
        con = duckdb.connect()
        sources = open_sources(con, store)
        lines = sources[declared_sources.OCCUPATIONS.key].aggregate("count(*)").fetchall()[0][0]
        started = time.perf_counter()
        findings = sc.find_defects(sources)
        found = time.perf_counter() - started
        started = time.perf_counter()
        cleaned = sc.clean_sources(sources, findings)
        for key, relation in cleaned.items():
            if relation is not sources[key]:
                relation.aggregate("count(*)").fetchall()
        print(
            f"{label}: {args.persons:,} persons, {lines:,} DMFA lines; find {found:.2f} s, "
            f"clean {time.perf_counter() - started:.2f} s; "
            f"{sum(f.records for f in findings):,} records found"
        )


if __name__ == "__main__":
    main()
