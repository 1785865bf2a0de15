"""Summaries: totals over the persons of a released panel, declared in the spec."""

from __future__ import annotations

import polars as pl
import pytest
import yaml
from pydantic import ValidationError

from flows.runtime.settings import SPECS_DIR
from specs.model import Spec, Summary
from transforms.summaries import summarise

FTE = Summary(
    description="fte per facility",
    panel="quarter_job",
    by=("employer_id", "local_unit_id"),
    sum=("fte",),
    periods=("2019-Q4", "2020-Q3"),
)


def test_a_summary_adds_up_each_group_and_quarter_and_counts_its_persons():
    released = pl.DataFrame(
        {
            "person_id": ["a", "a", "b", "c", "c", "d"],
            "quarter": ["2019-Q4", "2019-Q4", "2019-Q4", "2020-Q3", "2020-Q1", "2020-Q3"],
            "job": [1, 2, 1, 1, 1, 1],
            "employer_id": ["e1", "e1", "e1", "e1", "e1", "e2"],
            "local_unit_id": ["u1", "u1", "u1", "u1", "u1", "u2"],
            "fte": [0.5, 0.25, 1.0, 0.8, 1.0, None],
        }
    )
    assert summarise(released, FTE).to_dicts() == [
        {
            "employer_id": "e1",
            "local_unit_id": "u1",
            "quarter": "2019-Q4",
            "fte": 1.75,
            "persons": 2,
        },
        {
            "employer_id": "e1",
            "local_unit_id": "u1",
            "quarter": "2020-Q3",
            "fte": 0.8,
            "persons": 1,
        },
        {
            "employer_id": "e2",
            "local_unit_id": "u2",
            "quarter": "2020-Q3",
            "fte": 0.0,
            "persons": 1,
        },
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"by": ["fte"]}, "by takes a code or coded_id variable; 'fte' is a quantity"),
        ({"sum": ["employer_id"]}, "sum takes a quantity variable"),
        ({"sum": ["worker_hours_typo"]}, "is not a variable the spec requests"),
        ({"panel": "week"}, "unknown panel 'week'"),
        ({"periods": ["2019Q4"]}, "2019Q4 is no quarter of the period 2005-01 .. 2020-09"),
        ({"periods": ["2020-Q4"]}, "2020-Q4 is no quarter of the period"),
    ],
)
def test_a_summary_over_what_the_spec_does_not_release_is_refused(change, message):
    document = yaml.safe_load((SPECS_DIR / "19-104.yaml").read_text())
    document["summaries"]["fte_per_facility"].update(change)
    with pytest.raises(ValidationError, match=message):
        Spec.model_validate(document)


def test_sums_are_decimal_whatever_the_type_of_the_quantity():
    counts = Summary(description="d", panel="quarter_job", by=("employer_id",), sum=("days",))
    released = pl.DataFrame(
        {
            "person_id": ["a", "b"],
            "quarter": ["2020-Q3"] * 2,
            "employer_id": ["e"] * 2,
            "days": [2**31 - 1, 2**31 - 1],
        },
        schema_overrides={"days": pl.Int32},
    )
    summed = summarise(released, counts)
    assert summed["days"].dtype == pl.Float64
    assert summed["days"].item() == 2 * (2**31 - 1)
