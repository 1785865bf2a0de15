"""The streamed Stata writer gives the bytes pandas' writer gives for the same frame, whatever
its batches; and it refuses what Stata cannot hold, naming the column."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from flows.release import formats
from flows.release.stata import StataError, write_dta
from specs.release import ReleasedColumn

STAMP = dt.datetime(2020, 6, 30)
CODES = {"F": "female", "M": "male", "X": "X"}
CLASSES = {"<60": "<60", "[60,80)": "[60,80)", ">=80": ">=80"}
COLUMNS = [
    ReleasedColumn("person_id", "VARCHAR", "pseudonym", False, "none", is_key=True),
    ReleasedColumn("sex", "VARCHAR", "sex of the person", True, "none", allowed=CODES),
    ReleasedColumn("daily_wage", "VARCHAR", "daily wage", True, "classes", allowed=CLASSES),
    ReleasedColumn("days", "INTEGER", "days paid", True, "none"),
    ReleasedColumn("share", "DOUBLE", "share of full time", True, "none"),
    ReleasedColumn("working", "BOOLEAN", "at work at the end of the month", True, "none"),
    ReleasedColumn("start", "DATE", "start of the episode", True, "none"),
    ReleasedColumn("place", "VARCHAR", "municipality name, é and ü", True, "none"),
]


def pandas_stata(parquet, target, columns: list[ReleasedColumn], title: str) -> None:
    """The file as pandas' `to_stata` writes it from the whole frame: the reference."""
    frame = pq.read_table(parquet).to_pandas()
    out = {}
    for column in columns:
        values = frame[column.name]
        if formats.labelled(column):
            numbers = {v: n for n, v in enumerate(formats.numbered(column), start=1)}
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
    pd.DataFrame(out).to_stata(
        target,
        write_index=False,
        version=118,
        time_stamp=STAMP,
        data_label=title,
        variable_labels={c.name: c.description for c in columns},
        value_labels={
            c.name: {float(k): v for k, v in formats.value_labels(c).items()}
            for c in columns
            if formats.labelled(c)
        },
        convert_dates={c.name: "td" for c in columns if c.dtype == "DATE"},
    )


def maybe(values):
    return st.one_of(st.none(), values)


@st.composite
def panels(draw) -> pl.DataFrame:
    rows = draw(st.integers(min_value=1, max_value=40))

    def column(values):
        return draw(st.lists(values, min_size=rows, max_size=rows))

    return pl.DataFrame(
        {
            "person_id": column(st.text("0123456789abcdef", min_size=1, max_size=16)),
            "sex": column(maybe(st.sampled_from(sorted(CODES)))),
            "daily_wage": column(maybe(st.sampled_from(sorted(CLASSES)))),
            "days": column(
                draw(st.sampled_from([maybe, lambda v: v]))(st.integers(-(10**6), 10**6))
            ),
            "share": column(maybe(st.floats(-1e9, 1e9, allow_nan=False))),
            "working": column(draw(st.sampled_from([maybe, lambda v: v]))(st.booleans())),
            "start": column(maybe(st.dates(dt.date(1950, 1, 1), dt.date(2030, 12, 31)))),
            "place": column(maybe(st.text(max_size=12))),
        },
        schema={
            "person_id": pl.String,
            "sex": pl.String,
            "daily_wage": pl.String,
            "days": pl.Int32,
            "share": pl.Float64,
            "working": pl.Boolean,
            "start": pl.Date,
            "place": pl.String,
        },
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(panel=panels(), batch_rows=st.integers(min_value=1, max_value=50))
def test_the_streamed_file_is_byte_for_byte_the_one_pandas_writes(tmp_path, panel, batch_rows):
    parquet = tmp_path / "p.parquet"
    panel.write_parquet(parquet)
    pandas_stata(parquet, tmp_path / "pandas.dta", COLUMNS, "t: p")
    columns = formats.stata_columns(pq.read_schema(parquet), COLUMNS)
    write_dta(parquet, tmp_path / "rex.dta", columns, "t: p", STAMP, batch_rows=batch_rows)
    assert (tmp_path / "rex.dta").read_bytes() == (tmp_path / "pandas.dta").read_bytes()


def test_a_panel_of_many_batches_reads_back_whole(tmp_path):
    rows = 200_001
    numbers = np.arange(rows)
    panel = pl.DataFrame(
        {
            "person_id": [f"p{n}" for n in numbers % 997],
            "sex": np.where(numbers % 3 == 0, "F", "M"),
            "daily_wage": None,
            "days": numbers.astype(np.int32),
            "share": numbers / 7,
            "working": numbers % 2 == 0,
            "start": np.datetime64("2003-01-01") + (numbers % 5000).astype("timedelta64[D]"),
            "place": "Liège",
        },
        schema_overrides={"daily_wage": pl.String, "days": pl.Int32},
    )
    parquet = tmp_path / "p.parquet"
    panel.write_parquet(parquet, row_group_size=50_000)
    columns = formats.stata_columns(pq.read_schema(parquet), COLUMNS)
    write_dta(parquet, tmp_path / "p.dta", columns, "t", STAMP, batch_rows=65_536)
    back = pd.read_stata(tmp_path / "p.dta", convert_categoricals=False)
    assert len(back) == rows
    assert back["days"].tolist() == numbers.tolist()
    assert back["person_id"].iloc[-1] == f"p{(rows - 1) % 997}"
    assert back["place"].eq("Liège").all() and back["daily_wage"].isna().all()


def test_a_value_outside_the_codebook_list_is_refused_naming_the_column_not_the_value(tmp_path):
    parquet = tmp_path / "p.parquet"
    pl.DataFrame({"sex": ["F", "Q7Z"]}).write_parquet(parquet)
    columns = formats.stata_columns(pq.read_schema(parquet), [COLUMNS[1]])
    with pytest.raises(StataError, match="p.dta: sex holds a value outside") as refused:
        write_dta(parquet, tmp_path / "p.dta", columns, "t", STAMP)
    assert "Q7Z" not in str(refused.value)


@pytest.mark.parametrize("name", ["1st", "in", "a" * 33, "naïve"])
def test_a_name_stata_cannot_hold_is_refused(tmp_path, name):
    parquet = tmp_path / "p.parquet"
    pl.DataFrame({name: [1]}).write_parquet(parquet)
    column = ReleasedColumn(name, "INTEGER", "n", False, "none")
    columns = formats.stata_columns(pq.read_schema(parquet), [column])
    with pytest.raises(StataError, match="not a Stata variable name"):
        write_dta(parquet, tmp_path / "p.dta", columns, "t", STAMP)
