"""Checking every file an analysis run wrote before any of it may leave.

Each file of the output folder gets one outcome: released as it is, released with cells
suppressed or rounded (the file says which, in a `<column>_check` column), or withheld with the
reason. What is checked, in order:

1. person-level content, whatever the file: an identifier of the workspace's persons in any
   common encoding (transforms.identifiers: a pseudonym in any case, reversed, in hex or base64,
   as a number or split across columns; an INSZ; an exact birth date) withholds the file;
2. the record rex's researcher API (`researcher.outputs`) wrote beside it: a file without one,
   or changed since, is unchecked and withheld;
3. by kind: a table's cells against the spec's `output_checks` (transforms.output_checks), and
   a table whose cells are persons is withheld (transforms.person_level); a model's estimates
   need the threshold of persons and of residual degrees of freedom; a plot leaves only if every
   table it is drawn from was checked in this run and leaves with no cell suppressed.

Reasons name files, columns and counts, never a value: they go to the terminal and the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from flows.release import sha256_file
from researcher.outputs import RECORDS
from specs.model import OutputChecks
from transforms import identifiers, output_checks, person_level

RELEASED = "released"
RELEASED_CHANGED = "released with cells suppressed or rounded"
WITHHELD = "withheld"
TABULAR = frozenset({".csv", ".tsv", ".parquet"})


@dataclass(frozen=True)
class Persons:
    """What the scans look for of the workspace's persons: their pseudonyms and birth dates."""

    ids: pl.Series
    birth_dates: pl.Series = field(default_factory=lambda: pl.Series([], dtype=pl.Date))

    @classmethod
    def of(cls, ids: pl.Series | Persons) -> Persons:
        return ids if isinstance(ids, Persons) else cls(ids)


@dataclass(frozen=True)
class FileCheck:
    """The outcome for one output file; `released` holds the bytes that may leave."""

    name: str
    kind: str
    outcome: str
    reason: str
    cells: dict[str, int] = field(default_factory=dict)
    released: bytes | None = None
    person_level: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "kind": self.kind,
            "outcome": self.outcome,
            "reason": self.reason,
            "cells": self.cells,
        }


def output_files(outputs: Path) -> list[Path]:
    """Every file the run wrote, but the API's records."""
    return sorted(
        p for p in outputs.rglob("*") if p.is_file() and RECORDS not in p.relative_to(outputs).parts
    )


def check_outputs(
    outputs: Path, persons: Persons | pl.Series, rules: OutputChecks
) -> list[FileCheck]:
    """The outcome of every output file; plots after the tables they are drawn from."""
    persons = Persons.of(persons)
    files = output_files(outputs)
    records = {path: _record(outputs, path) for path in files}
    first = [p for p in files if (records[p] or {}).get("kind") != "plot"]
    checks: dict[str, FileCheck] = {}
    for path in first + [p for p in files if p not in first]:
        name = str(path.relative_to(outputs))
        checks[name] = _check(path, name, records[path], outputs, persons, rules, checks)
    return list(checks.values())


def _record(outputs: Path, path: Path) -> dict[str, Any] | None:
    record = outputs / RECORDS / f"{path.name}.json"
    if path.parent != outputs or not record.is_file():
        return None
    try:
        loaded = json.loads(record.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _withheld(name: str, kind: str, reason: str, person: bool = False) -> FileCheck:
    return FileCheck(name, kind, WITHHELD, reason, person_level=person)


def _check(
    path: Path,
    name: str,
    record: dict[str, Any] | None,
    outputs: Path,
    persons: Persons,
    rules: OutputChecks,
    checked: dict[str, FileCheck],
) -> FileCheck:
    kind = str((record or {}).get("kind", "file"))
    named = identifiers_in(path, persons)
    if named:
        return _withheld(
            name, kind, f"person-level: it names persons of the workspace ({named})", True
        )
    if record is None:
        return _withheld(
            name, kind, "unchecked: not written with rex's researcher API (researcher.outputs)"
        )
    if record.get("sha256") != sha256_file(path):
        return _withheld(name, kind, "unchecked: changed after rex's researcher API wrote it")
    if kind == "table":
        return _check_table(path, name, outputs / RECORDS / str(record.get("cells")), rules)
    if kind == "estimates":
        return _check_estimates(path, name, record, rules)
    if kind == "plot":
        return _check_plot(path, name, record, checked)
    return _withheld(name, kind, f"unchecked: rex's researcher API writes no {kind!r}")


def _frame(path: Path) -> pl.DataFrame | None:
    """A tabular output as text cells (None: not a table, or not readable as one)."""
    if path.suffix not in TABULAR:
        return None
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path).select(pl.all().cast(pl.String))
        separator = "\t" if path.suffix == ".tsv" else ","
        return pl.read_csv(path, infer_schema=False, separator=separator)
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return None


def identifiers_in(path: Path, persons: Persons | pl.Series) -> str:
    """What of the file identifies the workspace's persons ('' for nothing): its text columns,
    if it is a table, then every identifier in any encoding in its text and its cells."""
    persons = Persons.of(persons)
    found = []
    texts = [path.read_bytes().decode("latin-1")]
    frame = _frame(path)
    if frame is not None:
        columns = person_level.pseudonym_columns(frame, persons.ids)
        found += [f"column {c!r}: {n:,} pseudonyms" for c, n in columns.items()]
        if path.suffix == ".parquet":  # compressed: its bytes say nothing, its cells do
            texts += [frame[c].drop_nulls().str.join("\n").item() for c in frame.columns]
    text = pl.Series("text", texts, dtype=pl.String)
    hits = identifiers.pseudonym_hits(text, persons.ids)
    if frame is not None:
        hits[identifiers.SPLIT] = identifiers.split_hits(frame, persons.ids)
    hits[identifiers.INSZ] = identifiers.insz_hits(text)
    hits[identifiers.BIRTH_DATES] = identifiers.birth_date_hits(text, persons.birth_dates)
    plain = hits.pop(identifiers.PSEUDONYMS, 0)
    if plain and not found:
        found.append(f"{plain:,} pseudonyms in its text")
    found += [f"{n:,} {kind}" for kind, n in hits.items() if n]
    return "; ".join(found)


def _check_table(path: Path, name: str, cells_path: Path, rules: OutputChecks) -> FileCheck:
    try:
        cells = pl.read_parquet(cells_path).cast(output_checks.CELL_SCHEMA)  # type: ignore[arg-type]
        table = pl.read_csv(path)
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return _withheld(name, "table", "unchecked: its record of cells cannot be read")
    if person_level.cells_are_persons(cells):
        return _withheld(
            name, "table", "person-level: each of its cells is one person (a row per person)", True
        )
    if not _counts_match(table, cells):
        return _withheld(
            name, "table", "unchecked: its counts are not the persons rex's researcher API recorded"
        )
    outcomes = output_checks.cell_outcomes(cells, rules)
    counted = output_checks.summary(outcomes)
    # a table of magnitudes is made for them: with all of them suppressed, nothing it was made
    # for would be left (only its counts of persons), so it is withheld whole, as is a table
    # of counts with every count suppressed
    magnitudes = outcomes.filter(pl.col(output_checks.STATISTIC) != output_checks.COUNT)
    purpose = magnitudes if not magnitudes.is_empty() else outcomes
    if purpose[output_checks.OUTCOME].str.starts_with("suppressed").all():
        said = "; ".join(
            f"{n:,} {o.removeprefix('suppressed: ')}"
            for o, n in output_checks.summary(purpose).items()
        )
        what = "magnitude" if purpose is magnitudes else "count"
        return FileCheck(
            name, "table", WITHHELD, f"every {what} cell is suppressed ({said})", counted
        )
    released = output_checks.released_table(table, outcomes, rules)
    if released is table:
        return FileCheck(name, "table", RELEASED, "every cell passes", counted, path.read_bytes())
    said = ", ".join(
        f"{n:,} {outcome.removeprefix('suppressed: ')}"
        for outcome, n in counted.items()
        if outcome != output_checks.CellOutcome.RELEASED
    )
    return FileCheck(
        name,
        "table",
        RELEASED_CHANGED,
        f"of {outcomes.height:,} cells: {said} (its _check columns say which)",
        counted,
        released.write_csv().encode(),
    )


def _counts_match(table: pl.DataFrame, cells: pl.DataFrame) -> bool:
    """Whether every count cell of the table is the number of persons its record gives."""
    counts = cells.filter(pl.col(output_checks.STATISTIC) == output_checks.COUNT)
    if counts.is_empty():
        return True
    if not set(counts[output_checks.COLUMN]) <= set(table.columns):
        return False
    long = table.with_row_index(output_checks.ROW).select(
        pl.col(output_checks.ROW).cast(pl.Int64),
        *(pl.col(c).cast(pl.Int64, strict=False) for c in set(counts[output_checks.COLUMN])),
    )
    long = long.unpivot(
        index=output_checks.ROW, variable_name=output_checks.COLUMN, value_name="value"
    )
    joined = counts.join(long, on=[output_checks.ROW, output_checks.COLUMN], how="left")
    return (
        bool((joined["value"] == joined[output_checks.PERSONS]).all())
        and joined["value"].null_count() == 0
    )


def _check_estimates(
    path: Path, name: str, record: dict[str, Any], rules: OutputChecks
) -> FileCheck:
    persons, dof = record.get("persons"), record.get("residual_dof")
    if not isinstance(persons, int) or not isinstance(dof, int):
        return _withheld(
            name, "estimates", "unchecked: its record gives no persons or degrees of freedom"
        )
    if persons < rules.min_persons or dof < rules.min_persons:
        return _withheld(
            name,
            "estimates",
            f"fitted on {persons:,} persons with {dof:,} residual degrees of freedom; at least "
            f"{rules.min_persons} of each are needed",
        )
    return FileCheck(
        name, "estimates", RELEASED, f"fitted on {persons:,} persons", {}, path.read_bytes()
    )


def _check_plot(
    path: Path, name: str, record: dict[str, Any], checked: dict[str, FileCheck]
) -> FileCheck:
    sources = record.get("from_tables") or []
    if not isinstance(sources, list) or not sources:
        return _withheld(name, "plot", "unchecked: drawn from no table checked in this run")
    for source in sources:
        table = checked.get(str(source))
        if table is None or table.kind != "table":
            return _withheld(
                name, "plot", f"unchecked: drawn from {source!r}, no table of this run"
            )
        if table.outcome == WITHHELD:
            return _withheld(name, "plot", f"drawn from {source!r}, which is withheld")
        suppressed = sum(n for o, n in table.cells.items() if o.startswith("suppressed"))
        if suppressed:
            return _withheld(
                name, "plot", f"drawn from {source!r}, of which {suppressed:,} cells are suppressed"
            )
    return FileCheck(
        name, "plot", RELEASED, f"drawn from {', '.join(map(str, sources))}", {}, path.read_bytes()
    )
