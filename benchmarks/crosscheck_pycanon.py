"""Cross-check rex's k-anonymity and l-diversity against pycanon, once, on the same frame.

Not part of CI. pycanon pins exact versions that cannot live in rex's environment (see
tech-notes), so it runs in a throwaway one:

    python3 -m venv /tmp/pycanon-venv && /tmp/pycanon-venv/bin/pip install pycanon pyarrow
    .venv/bin/python benchmarks/crosscheck_pycanon.py --store data/synthetic

In rex's environment the script selects the 18/088 population of the store, draws the sample
(with a throwaway key: the figures do not depend on which persons are drawn for the check),
times the disclosure-risk step (flows.extract.disclosure.measure), writes the released
quasi-identifier frame of the population (no person column) to Parquet, then runs itself under
the pycanon environment on that file and compares the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MISSING = "<missing>"  # pycanon (pandas) drops missing values from groups: give them a value


def pycanon_side(frame_path: Path, columns: list[str], sensitive: list[str]) -> dict:
    import pandas as pd
    from pycanon import anonymity

    frame = pd.read_parquet(frame_path)
    flags = frame.pop("in_sample").astype(bool)
    population = frame.astype("string").fillna(MISSING)
    sample = population[flags.to_numpy()].reset_index(drop=True)
    return {
        "k_population": int(anonymity.k_anonymity(population, columns)),
        "k_sample": int(anonymity.k_anonymity(sample, columns)),
        "l_sample": {s: int(anonymity.l_diversity(sample, columns, [s])) for s in sensitive},
    }


def rex_side(store: Path, spec_path: Path, pycanon_python: Path) -> None:
    import duckdb
    import polars as pl

    from flows.extract import disclosure
    from flows.stores.sources import open_sources
    from specs.load import load_spec
    from specs.modes import ModeName
    from transforms import disclosure_risk as risk
    from transforms import panels, source_checks
    from transforms import population as population_query
    from transforms.sample import draw_sample

    spec = load_spec(spec_path)
    mode = spec.modes[ModeName.SAMPLE]
    con = duckdb.connect()
    sources = source_checks.clean_sources(
        opened := open_sources(con, store), source_checks.find_defects(opened)
    )
    started = time.perf_counter()
    population = population_query.select(sources, spec).pl().sort("insz")
    selected = time.perf_counter()
    sample = draw_sample(population, bytes(range(32)), min(mode.persons or 0, population.height))
    figures = disclosure.measure(con, [sources], spec, mode, population, sample)
    measured = time.perf_counter()
    print(f"population selected in {selected - started:.1f} s")
    print(f"disclosure risk measured in {measured - selected:.1f} s (the added step)")
    print(json.dumps(figures, indent=1))

    # the same frame for pycanon: the population's released quasi-identifiers, no person column
    columns = risk.quasi_identifiers(spec, mode)
    sensitive = risk.sensitive_columns(spec, mode)
    everyone = con.from_arrow(population.select("insz", "birth_date", "death_date").to_arrow())
    built = panels.build_panels(everyone, spec.period, sources, {"quarter": columns + sensitive})
    frame = risk.as_released(
        built["quarter"], columns + sensitive, "insz", "quarter", mode, spec.classes
    ).join(
        population.select("insz").with_columns(
            pl.col("insz").is_in(sample["insz"].implode()).alias(risk.IN_SAMPLE)
        ),
        on="insz",
    )
    # the quasi-identifiers measured, and coarser sets where k and l are more than 1
    agree = True
    for chosen in (columns, ["sex", "household_type"], ["sex"]):
        sized = risk.class_sizes(frame, chosen)
        sampled = sized.filter(pl.col(risk.IN_SAMPLE))
        ours = {
            "k_population": sized.select(pl.col("k").min().fill_null(0)).item(),
            "k_sample": sampled.select(pl.col("k_sample").min().fill_null(0)).item(),
            "l_sample": {s: risk.l_diversity(sampled, chosen, s)["min"] for s in sensitive},
        }
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "frame.parquet"
            frame.drop("insz").write_parquet(path)
            out = subprocess.run(
                [
                    str(pycanon_python),
                    __file__,
                    "--pycanon",
                    str(path),
                    "--columns",
                    *chosen,
                    "--sensitive",
                    *sensitive,
                ],  # fmt: skip
                capture_output=True,
                text=True,
            )
            if out.returncode:
                sys.exit(f"pycanon failed:\n{out.stderr}")
        theirs = json.loads(out.stdout.strip().splitlines()[-1])
        print("quasi-identifiers:", ", ".join(chosen))
        print("  rex:    ", json.dumps(ours))
        print("  pycanon:", json.dumps(theirs))
        agree = agree and ours == theirs
    print("agree" if agree else "DISAGREE")
    sys.exit(0 if agree else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("data/synthetic"))
    parser.add_argument("--spec", type=Path, default=Path("specs/18-088.yaml"))
    parser.add_argument("--pycanon-python", type=Path, default=Path("/tmp/pycanon-venv/bin/python"))
    parser.add_argument("--pycanon", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--columns", nargs="*", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--sensitive", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pycanon is not None:
        print(json.dumps(pycanon_side(args.pycanon, args.columns, args.sensitive)))
    else:
        rex_side(args.store, args.spec, args.pycanon_python)


if __name__ == "__main__":
    main()
