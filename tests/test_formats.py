"""The sample's CSV and Stata files read back equal to its Parquet, cell by cell, with labels."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import polars as pl
import pytest

from flows.release import formats
from flows.release.files import alterations
from specs.release import ReleasedColumn

CODED = ReleasedColumn(
    "sex",
    "VARCHAR",
    "sex of the person",
    nullable=True,
    protection="none",
    allowed={"F": "female", "M": "male"},
)
CLASSES = ReleasedColumn(
    "daily_wage",
    "VARCHAR",
    "daily wage",
    nullable=True,
    protection="classes",
    allowed={"<60": "<60", "[60,80)": "[60,80)", ">=80": ">=80"},
)
TEXT = ReleasedColumn(
    "person_id", "VARCHAR", "pseudonym", nullable=False, protection="none", is_key=True
)
COUNT = ReleasedColumn("days", "INTEGER", "days paid", nullable=True, protection="none")


def test_stata_stores_codes_and_classes_as_numbers_labelled_with_value_and_meaning(tmp_path):
    rows = pl.DataFrame(
        {
            "person_id": ["aaaa", "bbbb", "cccc"],
            "sex": ["M", None, "F"],
            "daily_wage": ["[60,80)", ">=80", None],
            "days": [3, None, 0],
        }
    )
    parquet = tmp_path / "p.parquet"
    rows.write_parquet(parquet)
    columns = [TEXT, CODED, CLASSES, COUNT]
    formats.write_stata(parquet, tmp_path / "p.dta", columns, "t", dt.date(2020, 6, 30))
    with pd.io.stata.StataReader(tmp_path / "p.dta") as reader:
        raw = reader.read(convert_categoricals=False)
        assert reader.value_labels() == {
            "sex": {1: "F = female", 2: "M = male"},
            "daily_wage": {1: "<60", 2: "[60,80)", 3: ">=80"},
        }
        assert reader.variable_labels()["days"] == "days paid"
    assert raw["person_id"].tolist() == ["aaaa", "bbbb", "cccc"]
    assert raw["sex"].tolist()[::2] == [2, 1] and pd.isna(raw["sex"][1])
    assert raw["daily_wage"].tolist()[:2] == [2, 3] and pd.isna(raw["daily_wage"][2])
    assert raw["days"].tolist()[::2] == [3, 0] and pd.isna(raw["days"][1])


def test_the_same_panel_gives_the_same_stata_bytes(tmp_path):
    parquet = tmp_path / "p.parquet"
    pl.DataFrame({"person_id": ["aaaa"], "sex": ["F"]}).write_parquet(parquet)
    for name in ("a.dta", "b.dta"):
        formats.write_stata(parquet, tmp_path / name, [TEXT, CODED], "t", dt.date(2020, 6, 30))
    assert (tmp_path / "a.dta").read_bytes() == (tmp_path / "b.dta").read_bytes()


def released(world, name: str) -> tuple[pl.DataFrame, list[dict]]:
    folder = world["sample"].folder
    book = json.loads((folder / "codebook.json").read_text())
    return pl.read_parquet(folder / f"{name}.parquet"), book[name]["columns"]


def tables(world) -> list[str]:
    return json.loads((world["sample"].folder / "codebook.json").read_text()).keys()


def test_every_table_of_the_sample_ships_as_csv_and_stata_listed_in_the_manifest(world):
    manifest = world["sample"].manifest
    for name in tables(world):
        for suffix in (".csv", ".dta"):
            assert (world["sample"].folder / f"{name}{suffix}").exists()
            assert f"{name}{suffix}" in manifest.files
    assert not any(n.endswith((".csv", ".dta")) for n in world["onprem"].manifest.files)
    assert alterations(world["sample"].folder) == []


@pytest.mark.parametrize("suffix", ["csv", "dta"])
def test_csv_and_stata_read_back_equal_to_the_parquet_cell_by_cell(world, suffix):
    for name in tables(world):
        parquet, columns = released(world, name)
        path = world["sample"].folder / f"{name}.{suffix}"
        if suffix == "csv":
            back = pl.read_csv(path, schema=parquet.schema)
            assert back.equals(parquet), name
            continue
        with pd.io.stata.StataReader(path) as reader:
            raw = reader.read(convert_categoricals=False)
            labels = reader.value_labels()
            variable_labels = reader.variable_labels()
        assert list(raw.columns) == parquet.columns
        for entry in columns:
            column = entry["name"]
            assert variable_labels[column] == entry["meaning"][: formats.STATA_LABEL_CHARS]
            expected = parquet[column].to_list()
            values = entry.get("classes") or list(entry.get("codes", {}))
            if values:
                # the number is the value's place in the codebook, its label the value itself
                meanings = entry.get("codes", {})
                got = [None if pd.isna(n) else labels[column][int(n)] for n in raw[column]]
                want = [
                    None
                    if v is None
                    else (v if meanings.get(v, v) == v else f"{v} = {meanings[v]}")
                    for v in expected
                ]
                assert got == want, (name, column)
                assert [None if pd.isna(n) else values[int(n) - 1] for n in raw[column]] == expected
            elif parquet[column].dtype == pl.String:
                assert raw[column].tolist() == [v or "" for v in expected], (name, column)
            else:
                got = [None if pd.isna(v) else v for v in raw[column]]
                assert got == pytest.approx(expected, nan_ok=True) or got == expected, (
                    name,
                    column,
                )
