"""Running a panel's checks as a great-expectations suite, on an ephemeral context.

Each engine-neutral check (specs.checks) becomes one expectation through `expectation`. The
result keeps, per expectation, its type, column, outcome and count of offending rows: never the
offending values, which could be identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from specs import checks as c
from specs import identifiers


@dataclass(frozen=True)
class Outcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None

    def describe(self) -> str:
        where = f" on column {self.column!r}" if self.column else ""
        count = f" ({self.unexpected_count} rows)" if self.unexpected_count else ""
        return f"{self.expectation}{where}{count}"


class ValidationFailed(RuntimeError):
    """A release failed its suite; nothing of it is published."""

    def __init__(self, panel: str, failures: list[Outcome]):
        self.panel = panel
        self.failures = failures
        super().__init__(
            f"panel {panel!r} failed validation: " + "; ".join(f.describe() for f in failures)
        )


def expectation(check: c.Check) -> Any:
    """The great-expectations expectation that enforces one check."""
    import great_expectations.expectations as gxe

    match check:
        case c.ColumnsExactly(columns):
            return gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(columns))
        case c.NotNull(column):
            return gxe.ExpectColumnValuesToNotBeNull(column=column)
        case c.UniqueTogether(columns):
            return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns))
        case c.InSet(column, values):
            return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values))
        case c.MatchesPattern(column, pattern):
            return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=pattern)
        case c.NotMatchingPattern(column, pattern):
            return gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=pattern)
        case c.ValidIdentifier(column, scheme):
            return _valid_identifier_expectation()(column=column, scheme=scheme.value)
        case c.Between(column, low, high):
            return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)
        case c.DistinctCountBetween(column, low, high):
            return gxe.ExpectColumnUniqueValueCountToBeBetween(
                column=column, min_value=low, max_value=high
            )
    raise TypeError(f"no expectation for check {check!r}")


@cache
def _valid_identifier_expectation() -> Any:
    """A custom expectation: the column's identifiers have valid check digits (specs.identifiers).

    Defined on first use, as great-expectations registers a metric when its class is created.
    The predicate is the SQL the source checks use, run by DuckDB on the column.
    """
    import duckdb
    import pandas as pd
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import (
        ColumnMapMetricProvider,
        column_condition_partial,
    )

    class ColumnValuesValidIdentifier(ColumnMapMetricProvider):
        condition_metric_name = "column_values.rex_valid_identifier"
        condition_value_keys = ("scheme",)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, scheme: str, **kwargs: Any) -> pd.Series:
            values = pd.DataFrame({"v": column.astype(object)})
            predicate = identifiers.valid(identifiers.Scheme(scheme), "v")
            valid = duckdb.from_df(values).select(f"coalesce({predicate}, false) as ok").df()["ok"]
            valid.index = column.index
            return valid

    class ExpectColumnValuesToBeValidIdentifiers(ColumnMapExpectation):
        scheme: str
        map_metric = "column_values.rex_valid_identifier"
        success_keys = ("scheme", "mostly")

    return ExpectColumnValuesToBeValidIdentifiers


@cache
def _batch_definition():
    import logging

    import great_expectations as gx

    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("rex")
    return source.add_dataframe_asset("panel").add_batch_definition_whole_dataframe("whole")


def validate_panel(panel: str, frame: pl.DataFrame, checks: list[c.Check]) -> list[Outcome]:
    """Run the checks on one panel; raise ValidationFailed naming each failed expectation."""
    import great_expectations as gx

    batch_definition = _batch_definition()  # the suite needs the context to exist first
    suite = gx.ExpectationSuite(name=f"rex-{panel}")
    for check in checks:
        suite.add_expectation(expectation(check))
    # numpy-backed columns: great-expectations' pandas metrics run about four times faster on
    # them than on Arrow extension arrays (measured on an on-premise month panel of 2.1M rows)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    result = batch.validate(suite, result_format="BASIC")
    outcomes = [
        Outcome(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            unexpected_count=r.result.get("unexpected_count"),
        )
        for r in result.results
    ]
    outcomes.sort(key=lambda o: (o.expectation, o.column or ""))
    failures = [o for o in outcomes if not o.success]
    if failures:
        raise ValidationFailed(panel, failures)
    return outcomes
