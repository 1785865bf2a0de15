"""Running a panel's checks as a great-expectations suite, on an ephemeral context.

Each engine-neutral check (specs.checks) becomes one expectation through `expectation`. The
result keeps, per expectation, its type, column, outcome and count of offending rows: never the
offending values, which could be identifiers.

A panel built a slice of persons at a time is validated a slice at a time (`SliceValidation`;
small slices are put together into batches of up to VALIDATION_BATCH_ROWS rows, since a suite's
run has a fixed cost, while the rows waiting for their batch, over all panels, are kept under
VALIDATION_WAITING_BYTES, or none in a sample's run): every check on rows or on keys that include
the person holds for the panel when it holds for each slice, and the counts of offending rows add
up (`combined`). The one check on the panel as a whole, the number of distinct persons, is split
off (`per_slice`) and decided on the sum of the slices' counts (`distinct_count_outcomes`), since
slices are disjoint in persons.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import Any

import polars as pl
import pyarrow as pa

from specs import checks as c
from specs import identifiers
from specs.refusal import Refusal


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


class ValidationFailed(Refusal, RuntimeError):
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

    rex = _per_value_expectations()
    match check:
        case c.ColumnsExactly(columns):
            return gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(columns))
        case c.NotNull(column):
            return gxe.ExpectColumnValuesToNotBeNull(column=column)
        case c.UniqueTogether((column,)):  # GX's compound check wants two columns or more
            return gxe.ExpectColumnValuesToBeUnique(column=column)
        case c.UniqueTogether(columns):
            return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns))
        case c.InSet(column, values):
            return rex.ExpectColumnValuesToBeAllowed(column=column, code_list=code_list(values))
        case c.MatchesPattern(column, pattern):
            return rex.ExpectColumnValuesToMatchPattern(column=column, regex=pattern)
        case c.NotMatchingPattern(column, pattern):
            return rex.ExpectColumnValuesToNotMatchPattern(column=column, regex=pattern)
        case c.ValidIdentifier(column, scheme):
            return rex.ExpectColumnValuesToBeValidIdentifiers(column=column, scheme=scheme.value)
        case c.Between(column, low, high):
            return rex.ExpectColumnValuesToBeWithin(column=column, min_value=low, max_value=high)
        case c.DistinctCountBetween(column, low, high):
            return gxe.ExpectColumnUniqueValueCountToBeBetween(
                column=column, min_value=low, max_value=high
            )
    raise TypeError(f"no expectation for check {check!r}")


# The code lists of rex's in-set expectations, by digest (`code_list`).
_CODE_LISTS: dict[str, tuple] = {}


def code_list(values: Iterable) -> str:
    """The name (a digest) under which rex's in-set expectation finds these values.

    great-expectations rebuilds an expectation's configuration from its pydantic model each
    time it reads a keyword, some 40 times per expectation and run, and pydantic copies a list
    keyword element by element each time (a list of 600 municipality codes: 0.9 ms a copy), and
    again to name each metric it computes: a sixth of the suites' time on the demo's panels.
    A digest is one string to copy; the list is kept here, in the process that runs the suite,
    and the digest names exactly these values in this order."""
    kept = tuple(values)
    name = hashlib.sha256(repr(kept).encode()).hexdigest()[:32]
    _CODE_LISTS.setdefault(name, kept)
    return name


def per_value(column: Any, predicate: Callable[[Any], Any]) -> Any:
    """Whether each row's value meets `predicate` (a vectorised test of a pandas Series), tested
    once per distinct value where the column is a category (its categories, mapped back by
    their codes); a null meets it, as the map expectations of great-expectations leave nulls
    out."""
    import numpy as np
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        meets = np.append(np.asarray(predicate(pd.Series(column.cat.categories)), dtype=bool), True)
        return pd.Series(meets[column.cat.codes.to_numpy()], index=column.index)  # code -1: null
    present = column.notna().to_numpy()
    meets = np.ones(len(column), dtype=bool)
    meets[present] = np.asarray(predicate(column[present]), dtype=bool)
    return pd.Series(meets, index=column.index)


@cache
def _per_value_expectations() -> SimpleNamespace:
    """rex's column expectations: each tests a column's values with `per_value`.

    great-expectations' own pandas map metrics (in set, match regex, between) first copy the
    whole batch without the column's nulls, then test every row: on a month panel of 61
    columns, that copy was a third of a suite's time and the regexes, cast from categories back
    to text row by row, a fifth. These read the column alone and test each distinct value once;
    they count the same offending rows (a property test compares them with great-expectations'
    own). Defined on first use, as great-expectations registers a metric when its class is
    created.
    """
    import duckdb
    import pandas as pd
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import (
        ColumnMapMetricProvider,
        column_condition_partial,
    )

    class PerValueMetric(ColumnMapMetricProvider):
        filter_column_isnull = False  # per_value lets nulls pass, without copying the batch

    class ColumnValuesAllowed(PerValueMetric):
        condition_metric_name = "column_values.rex_allowed"
        condition_value_keys = ("code_list",)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, code_list: str, **kwargs: Any) -> pd.Series:
            allowed = _CODE_LISTS[code_list]
            return per_value(column, lambda values: values.isin(allowed))

    class ColumnValuesMatchPattern(PerValueMetric):
        condition_metric_name = "column_values.rex_match_pattern"
        condition_value_keys = ("regex",)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, regex: str, **kwargs: Any) -> pd.Series:
            return per_value(column, lambda values: values.astype(str).str.contains(regex))

    class ColumnValuesNotMatchPattern(PerValueMetric):
        condition_metric_name = "column_values.rex_not_match_pattern"
        condition_value_keys = ("regex",)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, regex: str, **kwargs: Any) -> pd.Series:
            return per_value(column, lambda values: ~values.astype(str).str.contains(regex))

    class ColumnValuesWithin(PerValueMetric):
        condition_metric_name = "column_values.rex_within"
        condition_value_keys = ("min_value", "max_value")

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(
            cls, column: pd.Series, min_value: int, max_value: int, **kwargs: Any
        ) -> pd.Series:
            return per_value(column, lambda values: values.between(min_value, max_value))

    class ColumnValuesValidIdentifier(PerValueMetric):
        condition_metric_name = "column_values.rex_valid_identifier"
        condition_value_keys = ("scheme",)

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, scheme: str, **kwargs: Any) -> pd.Series:
            # the predicate is the SQL the source checks use, run by DuckDB
            predicate = identifiers.valid(identifiers.Scheme(scheme), "v")

            def valid(values: pd.Series) -> Any:
                frame = duckdb.from_df(pd.DataFrame({"v": values.astype(object).to_numpy()}))
                return frame.select(f"coalesce({predicate}, false) as ok").df()["ok"]

            return per_value(column, valid)

    class ExpectColumnValuesToBeAllowed(ColumnMapExpectation):
        code_list: str  # the digest of its values (`code_list`)
        map_metric = "column_values.rex_allowed"
        success_keys = ("code_list", "mostly")

    class ExpectColumnValuesToMatchPattern(ColumnMapExpectation):
        regex: str
        map_metric = "column_values.rex_match_pattern"
        success_keys = ("regex", "mostly")

    class ExpectColumnValuesToNotMatchPattern(ColumnMapExpectation):
        regex: str
        map_metric = "column_values.rex_not_match_pattern"
        success_keys = ("regex", "mostly")

    class ExpectColumnValuesToBeWithin(ColumnMapExpectation):
        min_value: int
        max_value: int
        map_metric = "column_values.rex_within"
        success_keys = ("min_value", "max_value", "mostly")

    class ExpectColumnValuesToBeValidIdentifiers(ColumnMapExpectation):
        scheme: str
        map_metric = "column_values.rex_valid_identifier"
        success_keys = ("scheme", "mostly")

    return SimpleNamespace(
        ExpectColumnValuesToBeAllowed=ExpectColumnValuesToBeAllowed,
        ExpectColumnValuesToMatchPattern=ExpectColumnValuesToMatchPattern,
        ExpectColumnValuesToNotMatchPattern=ExpectColumnValuesToNotMatchPattern,
        ExpectColumnValuesToBeWithin=ExpectColumnValuesToBeWithin,
        ExpectColumnValuesToBeValidIdentifiers=ExpectColumnValuesToBeValidIdentifiers,
    )


# One suite runs at a time in a process: great-expectations' context is not made for threads.
_GX_LOCK = threading.Lock()


@contextlib.contextmanager
def _configurations_kept() -> Iterator[None]:
    """While a suite runs, each expectation's configuration is built once, not at each reading.

    great-expectations rebuilds an expectation's configuration from its pydantic model each
    time it reads one of its keywords: some 40 times per expectation and run, 42,024 times in
    twelve runs of the demo's four suites, 64% of their time (pydantic copying each field, then
    two regular expressions making the type's name). The configuration depends on the model's
    fields alone, so it is kept with the fields it was built from and built again when one of
    them was assigned another value (none is, while a suite runs; great-expectations copies a
    configuration before changing it). Installed for the run of a suite only, under _GX_LOCK,
    and taken out after it; property tests compare every outcome with and without it.
    """
    from great_expectations.expectations.expectation import Expectation

    built = Expectation.__dict__["configuration"]
    kept: dict[int, tuple[Any, tuple, Any]] = {}

    def configuration(self: Any) -> Any:
        fields = tuple(self.__dict__.values())
        entry = kept.get(id(self))
        if (
            entry is None
            or entry[0] is not self
            or len(entry[1]) != len(fields)
            or not all(was is now for was, now in zip(entry[1], fields, strict=True))
        ):
            # the entry holds the expectation and its field values, so neither id is reused
            entry = (self, fields, built.fget(self))
            kept[id(self)] = entry
        return entry[2]

    Expectation.configuration = property(configuration)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        Expectation.configuration = built  # type: ignore[method-assign]
        kept.clear()


@cache
def _batch_definition():
    import logging

    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # great-expectations fingerprints every in-memory batch under this size (an md5 over
    # pandas' hash of every cell: a quarter of a suite's time on a panel of 500,000 rows) for
    # its batch markers, which rex never reads; each file of a release has its sha256 instead.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("rex")
    return source.add_dataframe_asset("panel").add_batch_definition_whole_dataframe("whole")


def prepare_in_background() -> threading.Thread:
    """Import great-expectations and make its context in a thread of its own (about 4 s),
    while the run reads and checks its sources in DuckDB, which leaves the interpreter free."""

    def prepare() -> None:
        # an error here is met again, and said, where the first suite runs
        with _GX_LOCK, contextlib.suppress(Exception):
            _batch_definition()

    thread = threading.Thread(target=prepare, name="rex-prepare-validation", daemon=True)
    thread.start()
    return thread


def validate_panel(panel: str, frame: pl.DataFrame, checks: list[c.Check]) -> list[Outcome]:
    """Run the checks on one panel; raise ValidationFailed naming each failed expectation."""
    outcomes = panel_outcomes(panel, frame, checks)
    refuse_failures(panel, outcomes)
    return outcomes


def refuse_failures(panel: str, outcomes: list[Outcome]) -> None:
    """Raise ValidationFailed naming each failed expectation of a panel, if any failed."""
    failures = [o for o in outcomes if not o.success]
    if failures:
        raise ValidationFailed(panel, failures)


def per_slice(checks: list[c.Check]) -> tuple[list[c.Check], list[c.DistinctCountBetween]]:
    """The checks each slice of persons is held to, and those decided over all slices."""
    whole = [check for check in checks if isinstance(check, c.DistinctCountBetween)]
    return [check for check in checks if not isinstance(check, c.DistinctCountBetween)], whole


# Rows of a panel validated at once: slices smaller than this are validated together (a suite's
# run costs about 0.3 s on a month or quarter panel whatever its rows, then about 0.6 s per
# million rows), larger ones in parts of about this many rows, cut between persons (so the pandas
# copy that great-expectations needs stays bounded).
VALIDATION_BATCH_ROWS = 500_000
# Arrow bytes of slices waiting for their batch, over all panels: past this, the panel with the
# most waiting is validated first. Without it each panel kept up to a batch waiting (a sample's
# 10,000 persons held about 600 MiB of quarter and job rows while the month panel's batches
# ran); at this size an on-premise run of 2,500-person slices validates its largest panel about
# once a slice and the others every second or third. A sample waits for nothing (below).
VALIDATION_WAITING_BYTES = 256 * 2**20


def waiting_for_validation(sample: bool) -> int:
    """The Arrow bytes that may wait for validation in a run: none in a sample's, whose few
    slices are each validated as they come (a few dozen runs of the suites; what waited was the
    largest part of its peak memory), the budget above in a run of the whole population."""
    return 0 if sample else VALIDATION_WAITING_BYTES


PERSON_ID = "person_id"


class SliceValidation:
    """The slices of each panel validated in order, in batches of whole persons."""

    def __init__(
        self,
        checks: Mapping[str, list[c.Check]],
        rows: int = VALIDATION_BATCH_ROWS,
        waiting_bytes: int = VALIDATION_WAITING_BYTES,
    ):
        self._checks = checks
        self._rows = rows
        self._waiting_bytes = waiting_bytes
        self._pending: dict[str, list[pa.Table]] = {name: [] for name in checks}
        self._pending_rows = dict.fromkeys(checks, 0)
        self.outcomes: dict[str, list[list[Outcome]]] = {name: [] for name in checks}

    def add(self, panel: str, table: pa.Table) -> None:
        self._pending[panel].append(table)
        self._pending_rows[panel] += table.num_rows
        if self._pending_rows[panel] >= self._rows:
            self._validate(panel, everything=False)
        waiting = self._waiting()
        while sum(waiting.values()) > self._waiting_bytes:
            largest = max(waiting, key=waiting.__getitem__)
            self._validate(largest, everything=True)
            waiting[largest] = 0

    @property
    def waiting(self) -> int:
        """Arrow bytes of the rows waiting for their batch, over all panels."""
        return sum(self._waiting().values())

    def _waiting(self) -> dict[str, int]:
        return {name: sum(t.nbytes for t in tables) for name, tables in self._pending.items()}

    def finish(self) -> dict[str, list[list[Outcome]]]:
        """Every batch's outcomes, per panel (the rest validated now; an empty panel too)."""
        for panel in self._pending:
            if self._pending_rows[panel] or not self.outcomes[panel]:
                self._validate(panel, everything=True)
        return self.outcomes

    def _validate(self, panel: str, everything: bool) -> None:
        # in Arrow throughout, as the slices give it: a polars frame of the batch would be a
        # copy of it (and its Arrow for pandas another)
        table = pa.concat_tables(self._pending[panel])
        self._pending[panel], self._pending_rows[panel] = [], 0
        while table.num_rows >= self._rows or (
            everything and (table.num_rows or not self.outcomes[panel])
        ):
            cut = _person_boundary(table, self._rows)
            self.outcomes[panel].append(
                panel_outcomes(panel, table.slice(0, cut), self._checks[panel])
            )
            table = table.slice(cut)
            if not table.num_rows:
                break
        if table.num_rows:
            # a copy of the rows left, so that the batch's buffers are freed now
            self._pending[panel] = [table.combine_chunks()]
            self._pending_rows[panel] = table.num_rows


def _person_boundary(table: pa.Table, rows: int) -> int:
    """The first row from `rows` on where another person starts (rows are sorted by person), or
    the table's end: a person's rows are never split between two batches."""
    if table.num_rows <= rows:
        return table.num_rows
    ids = pl.Series(table.column(PERSON_ID))
    starts = (ids != ids.shift(1)).arg_true()
    later = starts.filter(starts >= rows)
    return int(later[0]) if later.len() else table.num_rows


# The expectation a DistinctCountBetween becomes (see `expectation`), by its type name.
DISTINCT_COUNT_EXPECTATION = "expect_column_unique_value_count_to_be_between"


def distinct_count_outcomes(
    checks: Iterable[c.DistinctCountBetween], distinct: Mapping[str, int]
) -> list[Outcome]:
    """The outcome of each distinct-count check, from the distinct values of its column summed
    over the slices (`distinct`, by column), as great-expectations reports it."""
    return [
        Outcome(
            expectation=DISTINCT_COUNT_EXPECTATION,
            column=check.column,
            success=check.low <= distinct[check.column] <= check.high,
            unexpected_count=None,
        )
        for check in checks
    ]


def combined(parts: Iterable[list[Outcome]], extra: Iterable[Outcome] = ()) -> list[Outcome]:
    """The outcomes of a panel from those of its slices: an expectation succeeds when it
    succeeded on every slice, and its offending rows add up."""
    merged: dict[tuple[str, str | None], Outcome] = {}
    for outcome in [o for part in parts for o in part]:
        key = (outcome.expectation, outcome.column)
        seen = merged.get(key)
        if seen is None:
            merged[key] = outcome
            continue
        counts = [n for n in (seen.unexpected_count, outcome.unexpected_count) if n is not None]
        merged[key] = Outcome(
            expectation=outcome.expectation,
            column=outcome.column,
            success=seen.success and outcome.success,
            unexpected_count=sum(counts) if counts else None,
        )
    outcomes = [*merged.values(), *extra]
    outcomes.sort(key=lambda o: (o.expectation, o.column or ""))
    return outcomes


@lru_cache(maxsize=64)
def _suite(panel: str, checks: tuple[c.Check, ...]) -> Any:
    """The suite of a panel's checks, made once for all the slices of a panel."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=f"rex-{panel}")
    for check in checks:
        suite.add_expectation(expectation(check))
    return suite


def panel_outcomes(
    panel: str, frame: pl.DataFrame | pa.Table, checks: list[c.Check]
) -> list[Outcome]:
    """Run the checks on one panel (or a slice of it): the outcome of every expectation.

    The suite runs as BOOLEAN_ONLY: great-expectations then counts the offending rows of each
    map expectation (its success is that count being zero) but never collects them, which on a
    pandas frame means copying the frame without its nulls and taking the offending values out,
    about half of a suite's time, for values rex would throw away. Only when something failed is
    the suite run again for its counts of offending rows (BASIC), on that batch alone.

    Why pandas and not a DuckDB SQL datasource (through duckdb-engine), which would push every
    check into DuckDB: as shipped (great-expectations 1.24), each metric query's connection is
    closed, and its transaction rolled back, before the rows are fetched, so every expectation
    errors; great-expectations keeps a connection open only for the dialects it lists, and
    DuckDB is not one of them (nor does it have regex expectations for it).
    """

    # numpy-backed columns: great-expectations' pandas metrics run about four times faster on
    # them than on Arrow extension arrays (measured on an on-premise month panel of 2.1M rows);
    # text as categories, since each column's expectation copies the frame without that
    # column's nulls, and a category column is copied as its integer codes (a third less time
    # for a suite on a month panel). Every check reads categories as the text they stand for.
    # Arrow makes the categories itself, in half the time of a cast in polars, and the same
    # frame (dates as datetime64, as polars gives them).
    table = frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame
    data = table.to_pandas(strings_to_categorical=True, date_as_object=False)
    del table
    with _GX_LOCK:
        batch_definition = _batch_definition()  # the suite needs the context to exist first
        suite = _suite(panel, tuple(checks))
        batch = batch_definition.get_batch(batch_parameters={"dataframe": data})
        with _configurations_kept():
            result = batch.validate(suite, result_format="BOOLEAN_ONLY")
            if not result.success:
                result = batch.validate(suite, result_format="BASIC")
    del data
    outcomes = [
        Outcome(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            unexpected_count=_unexpected_count(r),
        )
        for r in result.results
    ]
    outcomes.sort(key=lambda o: (o.expectation, o.column or ""))
    return outcomes


def _unexpected_count(result: Any) -> int | None:
    """The offending rows of an expectation's result: as reported (BASIC), or zero for a map
    expectation that succeeded as BOOLEAN_ONLY (its success is that count being zero, as no
    check of rex sets `mostly`); None for an expectation on the table as a whole."""
    if "unexpected_count" in result.result:
        return result.result["unexpected_count"]
    if result.success and _is_map_expectation(result.expectation_config.type):
        return 0
    return None


@cache
def _is_map_expectation(type_name: str) -> bool:
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )
    from great_expectations.expectations.registry import get_expectation_impl

    return issubclass(
        get_expectation_impl(type_name),
        ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation,
    )
