"""Tables of totals over the persons of a released panel (specs.model.Summary).

A global step, like sampling and scrambling: it adds up rows of different persons. It reads the
panel as released (after protection), so a summary holds nothing the panel does not.

An extract built a slice of persons at a time adds up each slice (`partial_sums`) and then the
slices (`combine`). The sums are exact decimals until the end, so the total does not depend on
the order of the additions, that is on how the persons were sliced; the persons of a group are
counted per slice and added, which is exact because slices are disjoint in persons.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from specs.catalog import PANELS
from specs.model import Summary

PERSONS = "persons"
# Decimal places the partial sums keep (a released amount or FTE has far fewer), and those of
# the published sums.
EXACT = pl.Decimal(38, 10)
PUBLISHED_DECIMALS = 4


def _keys(summary: Summary) -> list[str]:
    return [*summary.by, PANELS[summary.panel].keys[1]]


def partial_sums(released: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """The sums and person counts of one part of the released panel (persons disjoint from
    every other part's)."""
    period = PANELS[summary.panel].keys[1]
    rows = released
    if summary.periods:
        rows = rows.filter(pl.col(period).cast(pl.String).is_in(list(summary.periods)))
    return rows.group_by(_keys(summary)).agg(
        *(pl.col(name).cast(pl.Float64).cast(EXACT).sum().alias(name) for name in summary.sum),
        pl.col("person_id").n_unique().cast(pl.Int64).alias(PERSONS),
    )


def combine(partials: Sequence[pl.DataFrame], summary: Summary) -> pl.DataFrame:
    """The summary from the partial sums of every part of the panel."""
    keys = _keys(summary)
    return (
        pl.concat(partials)
        .group_by(keys)
        .agg(
            *(
                pl.col(name).sum().cast(pl.Float64).round(PUBLISHED_DECIMALS).alias(name)
                for name in summary.sum
            ),
            pl.col(PERSONS).sum().cast(pl.Int32),
        )
        .sort(keys, nulls_last=True)
    )


def summarise(released: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """Per group (`by`) and period: the sums of `sum` and the number of distinct persons."""
    return combine([partial_sums(released, summary)], summary)
