"""The validation suite: each kind of bad release is caught and named, good ones pass."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.release.validate import ValidationFailed, validate_panel
from flows.runtime.settings import SPECS_DIR
from specs import checks as c
from specs.catalog import Granularity
from specs.checks import panel_checks
from specs.load import load_spec
from specs.modes import ModeName
from specs.release import released_panels

SPEC = load_spec(SPECS_DIR / "18-088.yaml")
SAMPLE = SPEC.modes[ModeName.SAMPLE]
PERIODS = {
    Granularity.MONTH: ["2010-01", "2010-02"],
    Granularity.QUARTER: ["2010-Q1"],
    Granularity.YEAR: [2010],
}
LAYOUT = released_panels(SPEC, SAMPLE, PERIODS)
PERSON_A, PERSON_B = "a" * 20, "b" * 20


def good_month_panel() -> pl.DataFrame:
    given = pl.DataFrame(
        {
            "person_id": [PERSON_A, PERSON_A, PERSON_B],
            "month": ["2010-01", "2010-02", "2010-01"],
            "socio_economic_position": ["111", "331", "211"],
            "unemployment_category": [None, None, "WN"],
            "unemployment_daily_allowance": [None, None, "[40,50)"],
            "unemployment_start": [None, None, "2009-11"],
            "incapacity_phase": [None, "primary", None],
            "incapacity_nature": [None, "FULL", None],
            "incapacity_start": [None, "2010-02", None],
            "incapacity_end": [None, None, None],
            "incapacity_daily_benefit": [None, "[50,60)", None],
        },
        schema_overrides={c: pl.String for c in ["unemployment_category", "incapacity_end"]},
    )
    # the spec's other month columns: empty where they may be, else a valid value
    others = []
    for column in LAYOUT["month"]:
        if column.name in given.columns:
            continue
        if column.nullable:
            others.append(pl.lit(None, dtype=pl.String).alias(column.name))
        elif column.allowed:
            others.append(pl.lit(sorted(column.allowed)[0]).alias(column.name))
        else:
            others.append(pl.lit(0, dtype=pl.Int32).alias(column.name))
    return given.with_columns(others).select(c.name for c in LAYOUT["month"])


def check(frame: pl.DataFrame, sample_size: int = 2):
    return validate_panel("month", frame, panel_checks(LAYOUT["month"], sample_size, True))


def test_a_release_as_the_spec_says_passes():
    outcomes = check(good_month_panel())
    assert outcomes and all(o.success for o in outcomes)


def failure_of(frame: pl.DataFrame, sample_size: int = 2) -> str:
    with pytest.raises(ValidationFailed) as caught:
        check(frame, sample_size)
    return str(caught.value)


def test_an_extra_column_fails():
    message = failure_of(good_month_panel().with_columns(street=pl.lit("x")))
    assert "expect_table_columns_to_match_ordered_list" in message


def test_an_insz_shaped_value_fails_and_the_value_is_not_in_the_message():
    frame = good_month_panel().with_columns(
        unemployment_category=pl.Series([None, "85073003328", "WN"])
    )
    message = failure_of(frame)
    assert "expect_column_values_to_be_allowed on column 'unemployment_category'" in message
    assert "85073003328" not in message


INSZ_LOOKALIKES = ["85073003328", "85.07.30-033.28", "850730 033 28"]


def test_no_code_class_label_or_pattern_of_a_release_admits_an_insz():
    """Why code and pattern columns need no separate INSZ check (specs.checks)."""
    import re

    from specs.checks import INSZ_SHAPE

    for panel, columns in LAYOUT.items():
        for column in columns:
            if column.allowed is not None:
                assert not any(re.search(INSZ_SHAPE, value) for value in column.allowed), (
                    panel,
                    column.name,
                )
            if column.pattern is not None:
                assert not any(re.search(column.pattern, v) for v in INSZ_LOOKALIKES), column.name


def test_a_free_text_column_gets_the_insz_check():
    from specs.checks import NotMatchingPattern, panel_checks
    from specs.release import ReleasedColumn

    free = ReleasedColumn("note", "VARCHAR", "free text", nullable=True, protection="none")
    coded = ReleasedColumn(
        "code", "VARCHAR", "a code", nullable=True, protection="none", allowed={"A": "a"}
    )
    kinds = [type(c) for c in panel_checks([free, coded], None, True)]
    names = [
        c.column
        for c in panel_checks([free, coded], None, True)
        if isinstance(c, NotMatchingPattern)
    ]
    assert NotMatchingPattern in kinds and names == ["note"]


def test_an_exact_amount_fails_in_sample_mode():
    frame = good_month_panel().with_columns(
        incapacity_daily_benefit=pl.Series([None, "52.30", None])
    )
    assert "be_allowed on column 'incapacity_daily_benefit' (1 rows)" in failure_of(frame)


def test_an_exact_date_fails_in_sample_mode():
    frame = good_month_panel().with_columns(incapacity_start=pl.Series([None, "2010-02-15", None]))
    assert "match_pattern on column 'incapacity_start'" in failure_of(frame)


def test_a_duplicate_person_period_fails():
    frame = pl.concat([good_month_panel(), good_month_panel().head(1)])
    assert "expect_compound_columns_to_be_unique" in failure_of(frame)


def test_a_missing_pseudonym_fails():
    frame = good_month_panel().with_columns(person_id=pl.Series([PERSON_A, None, PERSON_B]))
    assert "not_be_null on column 'person_id'" in failure_of(frame)


def test_a_period_outside_the_window_fails():
    frame = good_month_panel().with_columns(month=pl.Series(["2010-01", "2016-01", "2010-01"]))
    assert "be_allowed on column 'month'" in failure_of(frame)


def test_a_wrong_sample_size_fails():
    assert "unique_value_count_to_be_between on column 'person_id'" in failure_of(
        good_month_panel(), sample_size=3
    )


def test_a_passing_suite_counts_no_offending_row_and_table_checks_count_none():
    # the suite runs without collecting offending values; a passing map expectation has none
    outcomes = check(good_month_panel())
    counts = {o.expectation: o.unexpected_count for o in outcomes}
    assert counts["expect_column_values_to_not_be_null"] == 0
    assert counts["expect_compound_columns_to_be_unique"] == 0
    assert counts["expect_table_columns_to_match_ordered_list"] is None
    assert counts["expect_column_unique_value_count_to_be_between"] is None


def test_a_failing_suite_counts_the_offending_rows_of_each_failed_expectation():
    frame = good_month_panel().with_columns(
        person_id=pl.Series([PERSON_A, None, None]),
        month=pl.Series(["2010-01", "2016-01", "2010-01"]),
    )
    with pytest.raises(ValidationFailed) as caught:
        check(frame, sample_size=3)
    failed = {(f.expectation, f.column): f.unexpected_count for f in caught.value.failures}
    assert failed[("expect_column_values_to_not_be_null", "person_id")] == 2
    assert failed[("expect_column_values_to_be_allowed", "month")] == 1


# Values for the per-value expectations: codes, a month, an INSZ (valid check digits) and one
# with wrong ones, free text, and nulls.
TEXTS = ["WN", "ab", "2010-01", "2010-13", "85073003328", "85073003329", "x y", None]


@settings(max_examples=15, deadline=None)
@given(
    texts=st.lists(st.sampled_from(TEXTS), min_size=1, max_size=40),
    numbers=st.lists(st.one_of(st.none(), st.integers(-5, 2030)), min_size=40, max_size=40),
)
def test_rex_column_expectations_count_the_rows_great_expectations_own_would(texts, numbers):
    """Each per-value expectation (the column's categories tested once) counts the offending
    rows that great-expectations' own expectation counts on the same frame (text as plain
    strings), and the identifier check agrees with the source checks' SQL row by row."""
    import duckdb
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from flows.release import validate
    from specs import identifiers
    from specs.checks import INSZ_SHAPE

    frame = pl.DataFrame(
        {"text": texts, "number": numbers[: len(texts)]},
        schema={"text": pl.String, "number": pl.Int32},
    )
    month = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"
    checks = [
        c.InSet("text", ("WN", "2010-01")),
        c.MatchesPattern("text", month),
        c.NotMatchingPattern("text", INSZ_SHAPE),
        c.Between("number", 0, 2020),
        c.ValidIdentifier("text", identifiers.Scheme.INSZ),
    ]
    ours = {
        (o.column, o.expectation.removeprefix("expect_column_values_to_")): o.unexpected_count
        for o in validate.panel_outcomes("property", frame, checks)
    }

    own = gx.ExpectationSuite(name="great-expectations-own")
    for expectation in (
        gxe.ExpectColumnValuesToBeInSet(column="text", value_set=["WN", "2010-01"]),
        gxe.ExpectColumnValuesToMatchRegex(column="text", regex=month),
        gxe.ExpectColumnValuesToNotMatchRegex(column="text", regex=INSZ_SHAPE),
        gxe.ExpectColumnValuesToBeBetween(column="number", min_value=0, max_value=2020),
    ):
        own.add_expectation(expectation)
    with validate._GX_LOCK:
        batch = validate._batch_definition().get_batch(
            batch_parameters={"dataframe": frame.to_pandas()}
        )
        results = batch.validate(own, result_format="BASIC").results
    theirs = [r.result["unexpected_count"] for r in results]
    assert [
        ours["text", "be_allowed"],
        ours["text", "match_pattern"],
        ours["text", "not_match_pattern"],
        ours["number", "be_within"],
    ] == theirs

    valid = identifiers.valid(identifiers.Scheme.INSZ, "v")
    [(invalid,)] = duckdb.sql(  # DuckDB reads `frame` by its name
        f"select count(*) from (select text as v from frame)"
        f" where v is not null and not coalesce({valid}, false)"
    ).fetchall()
    assert ours["text", "be_valid_identifiers"] == invalid


@settings(max_examples=6, deadline=None)
@given(
    persons=st.lists(st.sampled_from([PERSON_A, PERSON_B, None]), min_size=3, max_size=3),
    months=st.lists(st.sampled_from(["2010-01", "2010-02", "2016-01", None]), min_size=3),
    positions=st.lists(st.sampled_from(["111", "211", "999", "85073003328", None]), min_size=3),
)
def test_keeping_configurations_while_a_suite_runs_changes_no_outcome(persons, months, positions):
    """Each outcome, failures and their counts included, is the one great-expectations gives
    when it rebuilds every configuration at each reading, as it does on its own; and its own
    property is back once a suite has run."""
    import contextlib
    from unittest import mock

    from great_expectations.expectations.expectation import Expectation

    from flows.release import validate

    own = Expectation.__dict__["configuration"]
    frame = good_month_panel().with_columns(
        person_id=pl.Series(persons),
        month=pl.Series(months[:3]),
        socio_economic_position=pl.Series(positions[:3], dtype=pl.String),
    )
    checks = panel_checks(LAYOUT["month"], 2, True)
    kept = validate.panel_outcomes("month", frame, checks)
    assert Expectation.__dict__["configuration"] is own
    with mock.patch.object(validate, "_configurations_kept", contextlib.nullcontext):
        rebuilt = validate.panel_outcomes("month", frame, checks)
    assert kept == rebuilt
