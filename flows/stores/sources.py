"""Reading the source store into DuckDB, refusing files that do not match their schema."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from specs.refusal import Refusal
from specs.sources import SOURCE_TABLES, STORE_MANIFEST, SourceTable


class SourceError(Refusal, RuntimeError):
    """A source file is missing, unreadable or not as its schema says; the message names it."""


def _open_table(con: duckdb.DuckDBPyConnection, store: Path, table: SourceTable):
    path = store / table.relative_path
    if not path.is_file():
        raise SourceError(f"source file {path} is missing (expected {table.description})")
    try:
        relation = con.read_parquet(str(path))
        actual = dict(zip(relation.columns, map(str, relation.types), strict=True))
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]
        raise SourceError(f"source file {path} cannot be read as Parquet: {first_line}") from None
    expected = {c.name: c.dtype for c in table.columns}
    if list(actual) != list(expected):
        raise SourceError(f"source file {path} {_column_difference(list(actual), list(expected))}")
    for name, dtype in expected.items():
        if actual[name] != dtype:
            raise SourceError(
                f"source file {path}: column {name!r} is {actual[name]}, expected {dtype}"
            )
    required = [c.name for c in table.columns if not c.nullable]
    null_counts = relation.aggregate(
        ", ".join(f'count(*) - count("{name}")' for name in required)
    ).fetchall()[0]
    for name, nulls in zip(required, null_counts, strict=True):
        if nulls:
            raise SourceError(
                f"source file {path}: column {name!r} has {nulls} empty values; it may not be empty"
            )
    return relation


def open_sources(con: duckdb.DuckDBPyConnection, store: Path) -> dict[str, duckdb.DuckDBPyRelation]:
    """Every source table as a relation, keyed '<institution>.<table>', after schema checks."""
    if not store.is_dir():
        raise SourceError(
            f"source store {store} does not exist; generate one with `rex synth --out {store}`"
        )
    return {key: _open_table(con, store, table) for key, table in SOURCE_TABLES.items()}


def store_is_synthetic(store: Path) -> bool:
    """Whether the store says it was generated (its store.json); a store that does not say so is
    taken for real data."""
    path = store / STORE_MANIFEST
    if not path.is_file():
        return False
    try:
        description = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise SourceError(f"{path} is not valid JSON") from None
    return isinstance(description, dict) and description.get("synthetic") is True


def _column_difference(actual: list[str], expected: list[str], shown: int = 8) -> str:
    """What is wrong with a source file's columns, in a line a person can read."""

    def names(columns: list[str]) -> str:
        more = len(columns) - shown
        return ", ".join(columns[:shown]) + (f" and {more} more" if more > 0 else "")

    missing = [c for c in expected if c not in actual]
    unexpected = [c for c in actual if c not in expected]
    problems = [f"lacks the column(s) {names(missing)}"] if missing else []
    problems += [f"has unexpected column(s) {names(unexpected)}"] if unexpected else []
    if not problems:
        problems = [f"has its columns in another order than the schema ({names(expected)})"]
    hint = " (a store written for an older schema? a synthetic one is made again by `rex synth`)"
    return "; ".join(problems) + (hint if missing and not unexpected else "")
