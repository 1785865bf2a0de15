"""Statistical disclosure control of an analysis run's tables: which cells may leave.

rex makes every table it checks itself (researcher.tables, on its own run of the declared
query), and with it the cells: one row per table row and value column, with the statistic, the
persons who contribute, their total, the two largest contributions of one person, the rows,
whether the cell is in effect a count, and whether a percentile is one person's value. The
rules are the spec's `output_checks` (specs.modes.OutputChecks):

- a cell of fewer than `min_persons` persons is suppressed (ACRO's threshold; OpenSAFELY's
  redaction of counts of 7 or fewer);
- a count of zero is suppressed unless the spec releases zeros (ACRO: zeros are disclosive);
- a magnitude cell (a sum, a mean or a percentile, as ACRO applies them to any aggregation) is
  suppressed if its `dominance_n` largest contributions exceed `dominance_k` of its total
  ((n, k) rule), or if its total less the two largest is below `p_ratio` of the largest
  (p-ratio rule: the second largest contributor would learn the largest within p);
- a percentile that equals one of the values it is taken of is suppressed: it is that person's;
- every count, and every sum of whole numbers or mean of zeros and ones (in effect a count or
  a share of persons), is rounded to the nearest multiple of `round_counts_to`, the same way
  whether or not it was a multiple already, and nothing in the released table says which were:
  its `_check` columns say only which cells are suppressed.

Dominance is measured on absolute contributions, so a negative amount cannot hide a dominant
one. Differences between cells, of one table or of several (margins, totals, overlapping
groups) are the disclosure ledger's (transforms.ledger).
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from specs.modes import OutputChecks

ROW = "row"
COLUMN = "column"
STATISTIC = "statistic"
PERSONS = "persons"
TOTAL = "total"
LARGEST = "largest"
SECOND = "second"
ROWS = "rows"
COUNTLIKE = "countlike"
EXACT = "exact"
OUTCOME = "outcome"
# what a released value becomes: a count rounded, or None for the table's own value
ROUNDED_VALUE = "rounded_value"

COUNT = "count"
ADDITIVE = frozenset({"sum", "mean"})
PERCENTILES = frozenset({"median", "p10", "p25", "p75", "p90"})
# statistics whose value is made of the persons' contributions, which dominance rules apply to
MAGNITUDES = ADDITIVE | PERCENTILES
STATISTICS = frozenset({COUNT, *ADDITIVE, *PERCENTILES})

CELL_SCHEMA = {
    ROW: pl.Int64,
    COLUMN: pl.String,
    STATISTIC: pl.String,
    PERSONS: pl.Int64,
    TOTAL: pl.Float64,
    LARGEST: pl.Float64,
    SECOND: pl.Float64,
    ROWS: pl.Int64,
    COUNTLIKE: pl.Boolean,
    EXACT: pl.Boolean,
}


# What the released `<column>_check` column says of a suppressed cell, whatever the rule.
SUPPRESSED = "suppressed"


class CellOutcome(StrEnum):
    RELEASED = "released"
    ROUNDED = "rounded"
    FEW_PERSONS = "suppressed: fewer persons than the threshold"
    ZERO = "suppressed: a zero count"
    DOMINANCE = "suppressed: dominated by its largest contributors ((n, k) rule)"
    P_RATIO = "suppressed: its largest contribution can be estimated closely (p-ratio rule)"
    EXACT = "suppressed: a percentile that is one person's value"
    DIFFERENCE = (
        "suppressed: other released cells would give it back by difference (disclosure ledger)"
    )
    LEFT_OUT = "suppressed: a row of fewer persons than the threshold, left out with its labels"

    @property
    def suppressed(self) -> bool:
        return self.value.startswith("suppressed")


def cell_outcomes(cells: pl.DataFrame, rules: OutputChecks) -> pl.DataFrame:
    """The cells with the outcome of each (`outcome`), the first rule that suppresses it, and
    the value a count (or a count in effect) is released as (`rounded_value`)."""
    persons, total = pl.col(PERSONS), pl.col(TOTAL)
    largest, second = pl.col(LARGEST).abs(), pl.col(SECOND).abs()
    is_count = pl.col(STATISTIC) == COUNT
    magnitude = pl.col(STATISTIC).is_in(list(MAGNITUDES))
    countlike = pl.col(COUNTLIKE) & (is_count | pl.col(STATISTIC).is_in(list(ADDITIVE)))
    # the n largest absolute contributions: the two recorded, and for n > 2 a bound (each of the
    # others is at most the second): suppressing on the bound errs on the side of suppressing
    top_n = largest if rules.dominance_n == 1 else largest + second * (rules.dominance_n - 1)
    absolute_total = pl.max_horizontal(total.abs(), largest + second)
    zero = is_count & (persons == 0)
    outcome = (
        pl.when(zero & (rules.zeros == "suppress"))
        .then(pl.lit(CellOutcome.ZERO.value))
        .when(~zero & (persons < rules.min_persons))
        .then(pl.lit(CellOutcome.FEW_PERSONS.value))
        .when(magnitude & (top_n > rules.dominance_k * absolute_total))
        .then(pl.lit(CellOutcome.DOMINANCE.value))
        .when(magnitude & (absolute_total - largest - second < rules.p_ratio * largest))
        .then(pl.lit(CellOutcome.P_RATIO.value))
        .when(pl.col(STATISTIC).is_in(list(PERCENTILES)) & pl.col(EXACT))
        .then(pl.lit(CellOutcome.EXACT.value))
        .when(countlike & (rules.round_counts_to > 1))
        .then(pl.lit(CellOutcome.ROUNDED.value))
        .otherwise(pl.lit(CellOutcome.RELEASED.value))
    )
    base = rules.round_counts_to
    # a mean of zeros and ones is released as its rounded count over its rounded rows
    value = (
        pl.when(is_count)
        .then(rounded(persons, base).cast(pl.Float64))
        .when(pl.col(STATISTIC) == "sum")
        .then(rounded(total.round().cast(pl.Int64), base).cast(pl.Float64))
        .otherwise(
            rounded(total.round().cast(pl.Int64), base).cast(pl.Float64)
            / rounded(pl.col(ROWS), base).cast(pl.Float64)
        )
    )
    return cells.with_columns(outcome.alias(OUTCOME)).with_columns(
        pl.when(pl.col(OUTCOME) == CellOutcome.ROUNDED.value)
        .then(value)
        .otherwise(None)
        .alias(ROUNDED_VALUE)
    )


def rounded(values: pl.Expr, base: int) -> pl.Expr:
    """Counts rounded to the nearest multiple of `base` (halves up), as integers."""
    return ((values + base // 2) // base) * base


def released_table(table: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """The table as it may leave: suppressed cells emptied, counts (and counts in effect)
    rounded, and beside every value column with a suppressed cell a `<column>_check` column
    that says `suppressed` there and nothing elsewhere (not why, nor which were rounded). A
    table with no cell changed comes back as it is."""
    changed = outcomes.filter(pl.col(OUTCOME) != CellOutcome.RELEASED.value)
    if changed.is_empty():
        return table
    indexed = table.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    columns: list[str] = []
    for name in table.columns:
        columns.append(name)
        per_cell = outcomes.filter(pl.col(COLUMN) == name).select(ROW, OUTCOME, ROUNDED_VALUE)
        if per_cell.is_empty() or name not in set(changed[COLUMN]):
            continue
        indexed = indexed.join(per_cell, on=ROW, how="left")
        suppressed = pl.col(OUTCOME).str.starts_with("suppressed").fill_null(False)
        kept = pl.coalesce(pl.col(ROUNDED_VALUE), pl.col(name).cast(pl.Float64))
        indexed = indexed.with_columns(
            pl.when(suppressed).then(None).otherwise(kept).cast(table.schema[name]).alias(name),
            pl.when(suppressed)
            .then(pl.lit(SUPPRESSED))
            .otherwise(pl.lit(""))
            .alias(f"{name}_check"),
        ).drop(OUTCOME, ROUNDED_VALUE)
        if indexed[f"{name}_check"].eq(SUPPRESSED).any():
            columns.append(f"{name}_check")
    return indexed.sort(ROW).select(columns)


def summary(outcomes: pl.DataFrame) -> dict[str, int]:
    """How many cells had each outcome (only those that occur)."""
    counted = outcomes.group_by(OUTCOME).len().sort(OUTCOME)
    return dict(zip(counted[OUTCOME].to_list(), counted["len"].to_list(), strict=True))
