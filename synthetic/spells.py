"""From monthly states to spells with exact dates, shared by the DMFA, RVA and NIC modules.

A spell is a run of consecutive months of one person in which a key (the employer, or the
state) stays the same. A spell that is already running in January 2003 started before the
period; one still running in the last month of the sources (register.END) has no end date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from synthetic.lifecourse import MONTHS, START

LAST_MONTH = MONTHS - 1


def spells(rows: pl.DataFrame, key: str) -> pl.DataFrame:
    """Number the spells of `rows` (person, month, key, ...): a new spell starts where the
    person, the key or the continuity of months changes."""
    return rows.sort("person", "month").with_columns(
        spell=(
            (pl.col("person") != pl.col("person").shift())
            | (pl.col(key) != pl.col(key).shift())
            | (pl.col("month").cast(pl.Int32) != pl.col("month").cast(pl.Int32).shift() + 1)
        )
        .fill_null(True)
        .cum_sum()
        .cast(pl.Int64)
    )


def month_start(index: pl.Expr) -> pl.Expr:
    """The first day of month `index` (0 = January 2003)."""
    months = index.cast(pl.Int32)
    return pl.date(pl.lit(START.year) + months // 12, months % 12 + 1, 1)


def day_in_month(index: pl.Expr, share: pl.Expr | pl.Series) -> pl.Expr:
    """A day of month `index`, at the given share (0 <= share < 1) of the way through it."""
    first = month_start(index)
    return first + pl.duration(days=(share * first.dt.month_end().dt.day()).floor().cast(pl.Int64))


def dated(
    spell_rows: pl.DataFrame, rng: np.random.Generator, years_back_if_running: float
) -> pl.DataFrame:
    """One row per spell with first and last month and exact start and end dates.

    A spell running in January 2003 started up to `years_back_if_running` years earlier.
    """
    per_spell = (
        spell_rows.group_by("spell")
        .agg(
            pl.col("person").first(),
            first_month=pl.col("month").min(),
            last_month=pl.col("month").max(),
        )
        .sort("spell")
    )
    n = per_spell.height
    before = dt.timedelta(days=1)
    end_share = pl.Series(rng.random(n))
    dated_spells = per_spell.with_columns(
        start_date=pl.when(pl.col("first_month") == 0)
        .then(
            pl.lit(START)
            - before
            - pl.duration(
                days=pl.lit(
                    pl.Series(np.floor(rng.random(n) * 365.25 * years_back_if_running)).cast(
                        pl.Int64
                    )
                )
            )
        )
        .otherwise(day_in_month(pl.col("first_month"), pl.Series(rng.random(n)))),
        end_date=pl.when(pl.col("last_month") == LAST_MONTH)
        .then(None)
        .otherwise(day_in_month(pl.col("last_month"), end_share)),
    )
    # A spell of a single month ends between its start and the month's end, never before it.
    start = pl.col("start_date")
    days_left = (start.dt.month_end() - start).dt.total_days() + 1
    return dated_spells.with_columns(
        end_date=pl.when(
            (pl.col("first_month") == pl.col("last_month"))
            & pl.col("first_month").is_between(1, LAST_MONTH - 1)
        )
        .then(start + pl.duration(days=(end_share * days_left).floor().cast(pl.Int64)))
        .otherwise(pl.col("end_date"))
    )
