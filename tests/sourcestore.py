"""Tiny hand-made source stores for spec tests: inline rows in, a source folder out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from specs.sources import SOURCE_TABLES, polars_schema


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def write_store(folder: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    """Write every source table, with the given rows (missing tables are empty)."""
    for key, table in SOURCE_TABLES.items():
        frame = pl.DataFrame(rows.get(key, []), schema=polars_schema(table))
        path = folder / table.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)
    return folder
