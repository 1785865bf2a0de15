"""The formats researchers use, beside Parquet: CSV, and Stata with the codebook's labels.

Each is made from a panel's finished Parquet file. CSV is streamed by DuckDB (read the Parquet,
write the CSV, a row group at a time). Stata's `.dta` is streamed too, a batch of rows at a time
(`flows.release.stata`), so its memory is a batch's whatever the panel's length.

In Stata:
- every column gets its codebook meaning as variable label (Stata allows 80 characters);
- a column with a code list or class labels is stored as the number of its value in the
  codebook's list (1, 2, ...: the classes in their order, the codes sorted), with a value
  label giving the value as released, and for a code its meaning (`code = meaning`), so that
  `tabulate` shows both;
- a true/false column is 1/0; dates are Stata dates; a missing value is Stata's missing (`.`),
  a missing text is empty, as Stata has no missing text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from flows.release.stata import Kind, StataColumn, write_dta
from specs.protections import AMOUNTS
from specs.release import ReleasedColumn

# one thread keeps the rows in the Parquet file's order and the memory that of a row group
CSV_MEMORY_LIMIT = "256MB"
STATA_LABEL_CHARS = 80
STATA_VALUE_LABEL_CHARS = 32_000
NUMBERS = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)


def write_csv(parquet: Path, target: Path) -> None:
    """The panel as CSV (header, comma, missing as empty), streamed from its Parquet file."""
    con = duckdb.connect(config={"threads": 1, "memory_limit": CSV_MEMORY_LIMIT})
    try:
        con.read_parquet(str(parquet)).write_csv(str(target), header=True)
    finally:
        con.close()


def labelled(column: ReleasedColumn) -> bool:
    """Whether Stata gets the column as numbers with value labels: a code list or classes."""
    return column.allowed is not None and not column.is_key


def numbered(column: ReleasedColumn) -> list[str]:
    """The values of a labelled column in the order they are numbered from 1: the classes in
    their order, the codes in the codebook's (sorted) order."""
    assert column.allowed is not None
    if column.protection == AMOUNTS.label:
        return list(column.allowed)
    return sorted(column.allowed)


def value_labels(column: ReleasedColumn) -> dict[int, str]:
    """The value labels of a labelled column: number -> released value (and meaning)."""
    assert column.allowed is not None
    labels = {}
    for number, value in enumerate(numbered(column), start=1):
        meaning = column.allowed[value]
        text = value if meaning == value else f"{value} = {meaning}"
        labels[number] = text[:STATA_VALUE_LABEL_CHARS]
    return labels


def stata_columns(schema: pa.Schema, columns: list[ReleasedColumn]) -> list[StataColumn]:
    """How each released column is stored in Stata (see the module)."""
    stored = []
    for column in columns:
        kind: Kind
        arrow = schema.field(column.name).type
        if labelled(column):
            kind = "numbered"
        elif column.dtype == "BOOLEAN" or pa.types.is_boolean(arrow):
            kind = "boolean"
        elif column.dtype == "DATE":
            kind = "date"
        elif any(is_type(arrow) for is_type in NUMBERS):
            kind = "number"
        else:
            kind = "text"
        stored.append(
            StataColumn(
                column.name,
                kind,
                column.description[:STATA_LABEL_CHARS],
                values=numbered(column) if kind == "numbered" else (),
                value_labels=value_labels(column) if kind == "numbered" else None,
            )
        )
    return stored


def write_stata(
    parquet: Path, target: Path, columns: list[ReleasedColumn], title: str, as_of: dt.date
) -> None:
    """The panel as Stata .dta with variable and value labels, streamed from its Parquet file;
    the file's time stamp is the run's as-of date, so that the same run gives the same bytes."""
    write_dta(
        parquet,
        target,
        stata_columns(pq.read_schema(parquet), columns),
        data_label=title[:STATA_LABEL_CHARS],
        time_stamp=dt.datetime(as_of.year, as_of.month, as_of.day),
    )


def write_formats(
    folder: Path,
    layout: Mapping[str, list[ReleasedColumn]],
    title: str,
    as_of: dt.date,
) -> list[str]:
    """CSV and Stata files of every table of the release in `folder`; their names.

    The CSV files are written by DuckDB in a thread of their own while the Stata files are
    written here (DuckDB leaves the interpreter free): the two take about the time of one."""
    written = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rex-csv") as csv_writer:
        csv_files = [
            csv_writer.submit(write_csv, folder / f"{name}.parquet", folder / f"{name}.csv")
            for name in layout
        ]
        for name, columns in layout.items():
            parquet = folder / f"{name}.parquet"
            write_stata(parquet, folder / f"{name}.dta", columns, f"{title}: {name}", as_of)
            written += [f"{name}.csv", f"{name}.dta"]
        for csv_file in csv_files:
            csv_file.result()  # a CSV file that failed fails the release
    return written
