"""A table's labels are part of what leaves: the rules for the values of the columns it is by.

rex measures, on its own run of the declared query, how many persons hold each label value
(researcher.tables: `labels`). Then:

- a row whose label combination is held by fewer persons than the threshold (but by somebody)
  singles them out: its counts would be suppressed, its labels would not. Such a row is left
  out of the table, unless the code declared every label of it as a level held by nobody or
  by the threshold at least (a grid of public classes, whose suppressed cells stay). A table
  most of whose rows are such (a table by birth date, by an exact amount, by a 1-euro bin of a
  histogram, padded or not) is person-level and never leaves;
- a label held by nobody (a level the code declared, for a zero cell) is the code's own choice:
  a number must lie within the values held by somebody, a text must be plain (as below);
- a text label is plain: short, of letters, digits and the signs of codes and class labels
  (`F`, `25-34`, `[40,50)`, `>=80`); any other text (JSON, a sentence) can carry anything the
  code read, so the table goes to a reviewer;
- a label column with a single value says nothing of the table (it is one group): it carries
  only what the code put in it, so the table goes to a reviewer.

Reasons refer to label columns by their place in the table, never by name or value: the code
chose both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

COLUMN = "column"
VALUE = "value"
PERSONS = "persons"
PLAIN = re.compile(r"[A-Za-z0-9 .,:;<>=+%/()\[\]_-]{1,32}")


@dataclass(frozen=True)
class LabelFindings:
    """What the labels make of a table: person-level (never leaves), or for a reviewer."""

    person_level: str = ""
    review: str = ""


def rare_rows(
    table: pl.DataFrame,
    persons: pl.Series,
    labels: pl.DataFrame,
    by: list[str],
    levels: dict[str, list] | None,
    min_persons: int,
) -> pl.Series:
    """Per row of `table` (its `persons` beside it), whether it is left out: held by some
    persons but fewer than the threshold, and not a row of declared public levels."""
    rows = table.select(by).with_columns(persons.alias("__persons"))
    declared = pl.lit(bool(levels) and set(by) <= set(levels or {}))
    for column in by:
        held = labels.filter(pl.col(COLUMN) == column).select(
            pl.col(VALUE).alias(column), pl.col(PERSONS).alias(f"__held_{column}")
        )
        rows = rows.with_columns(pl.col(column).cast(pl.String)).join(
            held, on=column, how="left", nulls_equal=True, maintain_order="left"
        )
        marginal = pl.col(f"__held_{column}").fill_null(0)
        declared = declared & ((marginal == 0) | (marginal >= min_persons))
    few = (pl.col("__persons") > 0) & (pl.col("__persons") < min_persons)
    return rows.select((few & ~declared).alias("left_out"))["left_out"]


def findings(
    table: pl.DataFrame, labels: pl.DataFrame, by: list[str], left_out: pl.Series, held: int
) -> LabelFindings:
    """The findings of the label rules on `labels` (column, value as text, persons holding it)
    of `table` by the columns `by`, of which `left_out` rows are left out of `held` rows that
    hold anybody."""
    place = {name: index + 1 for index, name in enumerate(by)}
    if left_out.sum() and 2 * left_out.sum() > held:
        return LabelFindings(
            person_level=f"its labels single out persons ({left_out.sum():,} of its {held:,} "
            "rows are label combinations of fewer persons than the threshold)"
        )
    review = []
    for column in by:
        values = labels.filter(pl.col(COLUMN) == column)
        by_some = values.filter(pl.col(PERSONS) > 0)[VALUE].drop_nulls()
        # the table's labels held by nobody: levels the code declared for zero cells
        shown = table[column].cast(pl.String).drop_nulls().unique()
        unheld = shown.filter(~shown.is_in(by_some.implode()))
        numbers = by_some.cast(pl.Float64, strict=False)
        if numbers.null_count() == 0 and not by_some.is_empty():
            outside = unheld.cast(pl.Float64, strict=False)
            low, high = numbers.min(), numbers.max()
            if outside.null_count() or (
                not outside.is_empty() and not outside.is_between(low, high).all()  # type: ignore[arg-type]
            ):
                review.append(f"label column {place[column]} has levels outside its values")
        else:
            texts = pl.concat([by_some, unheld])
            free = texts.str.contains(f"^{PLAIN.pattern}$").not_().sum()
            if free:
                review.append(f"label column {place[column]} holds {free:,} free texts")
        if shown.len() == 1:
            review.append(f"label column {place[column]} has a single value")
    return LabelFindings(review="; ".join(review))
