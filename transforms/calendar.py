"""Calendar frames for a spec's period: the months, quarters and years a panel has rows for."""

from __future__ import annotations

import datetime as dt

import polars as pl

from specs.values import Period


def month_label(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_label(day: dt.date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def months(period: Period) -> pl.DataFrame:
    """One row per month of the period: its label (YYYY-MM), first and last day, and quarter."""
    starts = pl.date_range(period.first_day, period.last_day, interval="1mo", eager=True)
    return (
        pl.DataFrame({"month_start": starts})
        .with_columns(
            month=pl.col("month_start").dt.strftime("%Y-%m"),
            month_end=pl.col("month_start").dt.month_end(),
            quarter=pl.format(
                "{}-Q{}", pl.col("month_start").dt.year(), pl.col("month_start").dt.quarter()
            ),
        )
        .select("month", "month_start", "month_end", "quarter")
    )


def quarters(period: Period) -> pl.DataFrame:
    """One row per quarter touched by the period: label (YYYY-Qn), DMFA code (YYYYQ), bounds."""
    return (
        months(period)
        .group_by("quarter", maintain_order=True)
        .agg(quarter_start=pl.col("month_start").min(), quarter_end=pl.col("month_end").max())
        .with_columns(
            dmfa_quarter=(
                pl.col("quarter_start").dt.year() * 10 + pl.col("quarter_start").dt.quarter()
            ).cast(pl.Int32)
        )
    )


def years(period: Period) -> pl.DataFrame:
    """The years of the career panel: from the career start (or period start) to the period end."""
    return pl.DataFrame(
        {"year": range(period.first_career_year, period.last_day.year + 1)},
        schema={"year": pl.Int32},
    )


def bounds(period: Period) -> pl.DataFrame:
    """The period as a one-row frame, for joins that need its first and last day."""
    return pl.DataFrame({"first_day": [period.first_day], "last_day": [period.last_day]})
