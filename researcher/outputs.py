"""Tables, estimates and plots that rex can check before they leave the premises.

The researchers' code makes its outputs with these functions, at home on the sample release and
on premise on the whole population alike. Each table function returns the table and records, per
cell, how many persons contribute to it and the two largest contributions of one person; `save_*`
writes the output into the run's output folder (`REX_OUTPUT`; at home `outputs/`) and the record
beside it, in a hidden folder the checker reads and that never leaves. So the checker applies the
rules (rex's `transforms.output_checks`) to the exact contributions, and a file written without
these functions is taken as unchecked and withheld.

Why not ACRO (the SACRO project's `acro` 1.0.2, which does the same for pandas): it wraps pandas
and statsmodels calls (`acro.crosstab`, `acro.pivot_table`, `acro.ols`), so code written against
polars panels would have to be rewritten for it; it needs pandas <= 2.3.3 where rex has 3.1, plus
statsmodels, openpyxl, lxml and rdflib; and its record of a run (a JSON of outputs and their
checks) would be a second format beside rex's manifest and audit log. Its rules and thresholds are
kept: rex's defaults are ACRO's (10 persons, (2, 0.9) dominance, p-ratio 0.1, zeros disclosive).

Every function takes and returns polars frames; nothing loops over persons.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

# The folder, inside the output folder, that holds what the checker needs (never released).
RECORDS = ".rex-checks"
OUTPUT_VARIABLE = "REX_OUTPUT"
PERSON_ID = "person_id"
PERSONS = "persons"
COUNT = "count"
STATISTICS = ("sum", "mean", "median", "p10", "p25", "p75", "p90")
_QUANTILES = {"median": 0.5, "p10": 0.1, "p25": 0.25, "p75": 0.75, "p90": 0.9}


@dataclass(frozen=True)
class CheckedTable:
    """A table and its cells: one row per table row and value column, with the statistic, the
    persons contributing, their total and the two largest contributions of one person."""

    table: pl.DataFrame
    cells: pl.DataFrame


def output_folder() -> Path:
    """Where outputs go: the run's folder on premise (REX_OUTPUT), `outputs/` at home."""
    folder = Path(os.environ.get(OUTPUT_VARIABLE, "outputs"))
    (folder / RECORDS).mkdir(parents=True, exist_ok=True)
    return folder


def count_table(
    frame: pl.DataFrame,
    by: Sequence[str],
    person: str = PERSON_ID,
    levels: Mapping[str, Sequence[Any]] | None = None,
    name: str = PERSONS,
) -> CheckedTable:
    """Persons per combination of `by` (each person once per cell); with `levels`, every
    combination of the levels given, zeros included."""
    by = list(by)
    counts = frame.group_by(by).agg(pl.col(person).n_unique().cast(pl.Int64).alias(name))
    if levels:
        grid = pl.DataFrame({by[0]: list(levels[by[0]])}).cast({by[0]: counts.schema[by[0]]})
        for column in by[1:]:
            level = pl.DataFrame({column: list(levels[column])}).cast(
                {column: counts.schema[column]}
            )
            grid = grid.join(level, how="cross")
        counts = grid.join(counts, on=by, how="left").with_columns(pl.col(name).fill_null(0))
    table = counts.sort(by, nulls_last=True)
    persons = pl.col(name)
    cells = table.with_row_index("row").select(
        pl.col("row").cast(pl.Int64),
        pl.lit(name).alias("column"),
        pl.lit(COUNT).alias("statistic"),
        persons.alias("persons"),
        persons.cast(pl.Float64).alias("total"),
        (persons > 0).cast(pl.Float64).alias("largest"),
        (persons > 1).cast(pl.Float64).alias("second"),
    )
    return CheckedTable(table, cells)


def magnitude_table(
    frame: pl.DataFrame,
    by: Sequence[str],
    value: str,
    statistic: str = "mean",
    person: str = PERSON_ID,
) -> CheckedTable:
    """Per combination of `by`, the persons with a value and the `statistic` of `value` over
    the rows (sum, mean, median or p10 .. p90); a person's contribution to a cell is the sum of
    their values in it."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic {statistic!r}: expected one of {', '.join(STATISTICS)}")
    by = list(by)
    valued = frame.filter(pl.col(value).is_not_null())
    # a table by person is grouped by the person once (and is person-level output)
    contributions = valued.group_by(list(dict.fromkeys([*by, person]))).agg(
        pl.col(value).cast(pl.Float64).sum().alias("contribution")
    )
    by_size = pl.col("contribution").abs().sort(descending=True)
    cells_of = contributions.group_by(by).agg(
        pl.len().cast(pl.Int64).alias(PERSONS),
        pl.col("contribution").sum().alias("total"),
        by_size.first().alias("largest"),
        by_size.slice(1, 1).first().fill_null(0.0).alias("second"),
    )
    column = f"{statistic}_{value}"
    if statistic == "sum":
        stat = pl.col(value).cast(pl.Float64).sum()
    elif statistic == "mean":
        stat = pl.col(value).cast(pl.Float64).mean()
    else:
        stat = pl.col(value).cast(pl.Float64).quantile(_QUANTILES[statistic], "linear")
    values = valued.group_by(by).agg(stat.alias(column))
    joined = cells_of.join(values, on=by, how="left").sort(by, nulls_last=True)
    table = joined.select(*by, PERSONS, column)
    indexed = joined.with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))
    count_cells = indexed.select(
        "row",
        pl.lit(PERSONS).alias("column"),
        pl.lit(COUNT).alias("statistic"),
        PERSONS,
        pl.col(PERSONS).cast(pl.Float64).alias("total"),
        pl.lit(1.0).alias("largest"),
        (pl.col(PERSONS) > 1).cast(pl.Float64).alias("second"),
    )
    value_cells = indexed.select(
        "row",
        pl.lit(column).alias("column"),
        pl.lit(statistic).alias("statistic"),
        PERSONS,
        "total",
        "largest",
        "second",
    )
    return CheckedTable(table, pl.concat([count_cells, value_cells]).sort("row", "column"))


def save_table(checked: CheckedTable, name: str) -> Path:
    """Write the table as `<name>.csv` in the output folder, and its cells beside it."""
    folder = output_folder()
    path = folder / f"{name}.csv"
    checked.table.write_csv(path)
    checked.cells.write_parquet(folder / RECORDS / f"{path.name}.cells.parquet")
    _record(path, {"kind": "table", "cells": f"{path.name}.cells.parquet"})
    return path


def save_estimates(estimates: pl.DataFrame, name: str, persons: int, residual_dof: int) -> Path:
    """Write a model's estimates (one row per parameter) as `<name>.csv`, with the persons the
    model was fitted on and its residual degrees of freedom, which the checker compares with
    the threshold (ACRO's rule for models)."""
    path = output_folder() / f"{name}.csv"
    estimates.write_csv(path)
    _record(path, {"kind": "estimates", "persons": persons, "residual_dof": residual_dof})
    return path


def save_plot(figure: Any, name: str, from_tables: Sequence[Path]) -> Path:
    """Save a matplotlib figure as `<name>.png`, drawn from tables saved by `save_table` (the
    checker releases it only if each of them comes out with no cell suppressed)."""
    path = output_folder() / f"{name}.png"
    figure.savefig(path, dpi=100, metadata={"Software": None})
    _record(path, {"kind": "plot", "from_tables": [Path(t).name for t in from_tables]})
    return path


def _record(path: Path, fields: dict[str, Any]) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    record = {"file": path.name, "sha256": digest, **fields}
    (path.parent / RECORDS / f"{path.name}.json").write_text(json.dumps(record, indent=2) + "\n")
