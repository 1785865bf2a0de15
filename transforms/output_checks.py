"""Statistical disclosure control of an analysis run's tables: which cells may leave.

A checked table comes with its cells (one row per table row and value column: the statistic,
the persons who contribute, their total, and the two largest contributions of one person), as
the researchers' API (`researcher.tables`) records them while it makes the table. The rules are
the spec's `output_checks` (specs.model.OutputChecks):

- a cell of fewer than `min_persons` persons is suppressed (ACRO's threshold; OpenSAFELY's
  redaction of counts of 7 or fewer);
- a count of zero is suppressed unless the spec releases zeros (ACRO: zeros are disclosive);
- a magnitude cell is suppressed if its `dominance_n` largest contributions exceed `dominance_k`
  of its total ((n, k) rule), or if its total less the two largest is below `p_ratio` of the
  largest (p-ratio rule: the second largest contributor would learn the largest within p);
- released counts are rounded to the nearest multiple of `round_counts_to` (OpenSAFELY).

Dominance is measured on absolute contributions, so a negative amount cannot hide a dominant
one. Percentiles are checked by the threshold alone (as ACRO does): no contribution sums to them.
There is no secondary suppression: the tables the API makes hold no margins, so a suppressed
cell cannot be recovered by subtraction within the table.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from specs.model import OutputChecks

ROW = "row"
COLUMN = "column"
STATISTIC = "statistic"
PERSONS = "persons"
TOTAL = "total"
LARGEST = "largest"
SECOND = "second"
OUTCOME = "outcome"

COUNT = "count"
# statistics whose value is made of the persons' contributions, which dominance rules apply to
ADDITIVE = frozenset({"sum", "mean"})
PERCENTILES = frozenset({"median", "p10", "p25", "p75", "p90"})
STATISTICS = frozenset({COUNT, *ADDITIVE, *PERCENTILES})

CELL_SCHEMA = {
    ROW: pl.Int64,
    COLUMN: pl.String,
    STATISTIC: pl.String,
    PERSONS: pl.Int64,
    TOTAL: pl.Float64,
    LARGEST: pl.Float64,
    SECOND: pl.Float64,
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

    @property
    def suppressed(self) -> bool:
        return self.value.startswith("suppressed")


def cell_outcomes(cells: pl.DataFrame, rules: OutputChecks) -> pl.DataFrame:
    """The cells with the outcome of each (`outcome`), the first rule that suppresses it."""
    persons, total = pl.col(PERSONS), pl.col(TOTAL)
    largest, second = pl.col(LARGEST).abs(), pl.col(SECOND).abs()
    is_count = pl.col(STATISTIC) == COUNT
    additive = pl.col(STATISTIC).is_in(list(ADDITIVE))
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
        .when(additive & (top_n > rules.dominance_k * absolute_total))
        .then(pl.lit(CellOutcome.DOMINANCE.value))
        .when(additive & (absolute_total - largest - second < rules.p_ratio * largest))
        .then(pl.lit(CellOutcome.P_RATIO.value))
        .when(is_count & (persons % rules.round_counts_to != 0))
        .then(pl.lit(CellOutcome.ROUNDED.value))
        .otherwise(pl.lit(CellOutcome.RELEASED.value))
    )
    return cells.with_columns(outcome.alias(OUTCOME))


def rounded(values: pl.Expr, base: int) -> pl.Expr:
    """Counts rounded to the nearest multiple of `base` (halves up), as integers."""
    return ((values + base // 2) // base) * base


def released_table(
    table: pl.DataFrame, outcomes: pl.DataFrame, rules: OutputChecks
) -> pl.DataFrame:
    """The table as it may leave: suppressed cells emptied, counts rounded, and beside every
    value column that changed a `<column>_check` column saying what was done to each cell.
    A table with no cell changed comes back as it is."""
    changed = outcomes.filter(pl.col(OUTCOME) != CellOutcome.RELEASED.value)
    if changed.is_empty():
        return table
    indexed = table.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    columns: list[str] = []
    for name in table.columns:
        columns.append(name)
        per_cell = outcomes.filter(pl.col(COLUMN) == name).select(ROW, OUTCOME)
        if per_cell.is_empty() or name not in set(changed[COLUMN]):
            continue
        check = f"{name}_check"
        indexed = indexed.join(per_cell.rename({OUTCOME: check}), on=ROW, how="left")
        suppressed = pl.col(check).str.starts_with("suppressed")
        value = pl.col(name)
        is_rounded = pl.col(check) == CellOutcome.ROUNDED.value
        kept = (
            pl.when(is_rounded).then(rounded(value, rules.round_counts_to)).otherwise(value)
            if table.schema[name].is_integer()
            else value
        )
        # the released column says only that a cell was suppressed, not why: which rule
        # suppressed it would tell an empty cell from one of a few persons (or a dominated one)
        indexed = indexed.with_columns(
            pl.when(suppressed).then(None).otherwise(kept).cast(table.schema[name]).alias(name),
            pl.when(pl.col(check) == CellOutcome.RELEASED.value)
            .then(pl.lit(""))
            .when(suppressed)
            .then(pl.lit(SUPPRESSED))
            .otherwise(pl.col(check))
            .alias(check),
        )
        columns.append(check)
    return indexed.sort(ROW).select(columns)


def summary(outcomes: pl.DataFrame) -> dict[str, int]:
    """How many cells had each outcome (only those that occur)."""
    counted = outcomes.group_by(OUTCOME).len().sort(OUTCOME)
    return dict(zip(counted[OUTCOME].to_list(), counted["len"].to_list(), strict=True))
