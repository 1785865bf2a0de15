"""The formats researchers use, beside Parquet: CSV, and Stata with the codebook's labels.

Each is made from a panel's finished Parquet file. CSV is streamed by DuckDB (read the Parquet,
write the CSV, a row group at a time). Stata's `.dta` is written by pandas, which takes a whole
frame: a panel is read into memory once (for the 10,000-person sample of 18/088 the month panel
is the largest; see the report of the change for the memory measured).

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
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from specs.release import ReleasedColumn

# one thread keeps the rows in the Parquet file's order and the memory that of a row group
CSV_MEMORY_LIMIT = "256MB"
STATA_VERSION = 118  # Stata 14 and later: UTF-8 text
STATA_LABEL_CHARS = 80
STATA_VALUE_LABEL_CHARS = 32_000


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
    if column.protection == "classes":
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


def stata_frame(frame: pd.DataFrame, columns: list[ReleasedColumn]) -> pd.DataFrame:
    """The panel as Stata stores it (see the module)."""
    out: dict[str, pd.Series] = {}
    for column in columns:
        values = frame[column.name]
        if labelled(column):
            numbers = {value: n for n, value in enumerate(numbered(column), start=1)}
            out[column.name] = values.map(numbers).astype(
                "float64" if values.isna().any() else "int32"
            )
        elif column.dtype == "BOOLEAN":
            out[column.name] = values.astype("float64" if values.isna().any() else "int8")
        elif column.dtype == "DATE":
            out[column.name] = pd.to_datetime(values)
        elif pd.api.types.is_numeric_dtype(values):
            integer = pd.api.types.is_integer_dtype(values) and not values.isna().any()
            out[column.name] = values.astype("int32" if integer else "float64")
        else:
            out[column.name] = values.fillna("").astype(object)
    return pd.DataFrame(out)


def write_stata(
    parquet: Path, target: Path, columns: list[ReleasedColumn], title: str, as_of: dt.date
) -> None:
    """The panel as Stata .dta with variable and value labels; the file's time stamp is the
    run's as-of date, so that the same run gives the same bytes."""
    frame = stata_frame(pq.read_table(parquet).to_pandas(), columns)
    labels: Mapping[str, dict[float, str]] = {
        c.name: {float(k): v for k, v in value_labels(c).items()} for c in columns if labelled(c)
    }
    frame.to_stata(
        target,
        write_index=False,
        version=STATA_VERSION,
        time_stamp=dt.datetime(as_of.year, as_of.month, as_of.day),
        data_label=title[:STATA_LABEL_CHARS],
        variable_labels={c.name: c.description[:STATA_LABEL_CHARS] for c in columns},
        value_labels=dict(labels),
        convert_dates={c.name: "td" for c in columns if c.dtype == "DATE"},
    )


def write_formats(
    folder: Path,
    layout: Mapping[str, list[ReleasedColumn]],
    title: str,
    as_of: dt.date,
) -> list[str]:
    """CSV and Stata files of every table of the release in `folder`; their names."""
    written = []
    for name, columns in layout.items():
        parquet = folder / f"{name}.parquet"
        write_csv(parquet, folder / f"{name}.csv")
        write_stata(parquet, folder / f"{name}.dta", columns, f"{title}: {name}", as_of)
        written += [f"{name}.csv", f"{name}.dta"]
    return written
