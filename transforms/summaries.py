"""Tables of totals over the persons of a released panel (specs.model.Summary).

A global step, like sampling and scrambling: it adds up rows of different persons. It reads the
panel as released (after protection), so a summary holds nothing the panel does not.
"""

from __future__ import annotations

import polars as pl

from specs.catalog import PANELS
from specs.model import Summary

PERSONS = "persons"


def summarise(released: pl.DataFrame, summary: Summary) -> pl.DataFrame:
    """Per group (`by`) and period: the sums of `sum` and the number of distinct persons."""
    period = PANELS[summary.panel].keys[1]
    rows = released
    if summary.periods:
        rows = rows.filter(pl.col(period).cast(pl.String).is_in(list(summary.periods)))
    keys = [*summary.by, period]
    return (
        rows.group_by(keys)
        .agg(
            *(pl.col(name).cast(pl.Float64).sum().round(4).alias(name) for name in summary.sum),
            pl.col("person_id").n_unique().cast(pl.Int32).alias(PERSONS),
        )
        .sort(keys, nulls_last=True)
    )
