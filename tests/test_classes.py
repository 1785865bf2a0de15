"""Amounts into classes and dates into months."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from specs.patterns import MONTH_PATTERN, class_labels
from transforms.classes import to_classes
from transforms.months import to_month

EDGES = [60, 80, 100]


def classify(values, edges=EDGES):
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.Float64})
        .select(to_classes(pl.col("v"), edges))["v"]
        .to_list()
    )


def test_class_labels_are_half_open_intervals_with_open_ends():
    assert class_labels([60, 80, 100]) == ["<60", "[60,80)", "[80,100)", ">=100"]
    assert class_labels([7.5, 15]) == ["<7.5", "[7.5,15)", ">=15"]


def test_amounts_fall_in_their_class_an_edge_belonging_to_the_upper_class():
    assert classify([0.0, 59.99, 60.0, 79.5, 80.0, 100.0, 1e6, None]) == [
        "<60",
        "<60",
        "[60,80)",
        "[60,80)",
        "[80,100)",
        ">=100",
        ">=100",
        None,
    ]


def _bounds(label: str) -> tuple[float, float]:
    if label.startswith("<"):
        return float("-inf"), float(label[1:])
    if label.startswith(">="):
        return float(label[2:]), float("inf")
    low, high = label[1:-1].split(",")
    return float(low), float(high)


@given(
    st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50),
    st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=12, unique=True),
)
def test_every_amount_lies_inside_the_interval_of_its_label(values, edges):
    edges = sorted(edges)
    for value, label in zip(values, classify(values, edges), strict=True):
        low, high = _bounds(label)
        assert low <= value < high
        assert label in class_labels(edges)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_a_date_becomes_the_text_of_its_month(day):
    month = pl.DataFrame({"d": [day]}).select(to_month(pl.col("d")))["d"].item()
    assert re.fullmatch(MONTH_PATTERN, month)
    assert month == f"{day.year:04d}-{day.month:02d}"


def test_a_missing_date_stays_missing():
    frame = pl.DataFrame({"d": [None]}, schema={"d": pl.Date})
    assert frame.select(to_month(pl.col("d")))["d"].to_list() == [None]
