"""The further SIGEDIS fields of 18/088: days in full-time equivalent and the career fraction's
denominator. A year's days count in full-time equivalent at the person's mean Q/S of that year
in the DMFA (full time before 2003, where there is no DMFA)."""

from __future__ import annotations

import polars as pl

FULL_CAREER_YEARS = 45  # the employee pension's career fraction: years / 45


def career_with_details(career: pl.DataFrame, occupations: pl.DataFrame) -> pl.DataFrame:
    fraction = (
        occupations.with_columns(year=(pl.col("quarter") // 10).cast(pl.Int32))
        .group_by("insz", "year")
        .agg(fraction=(pl.col("q_hours") / pl.col("s_hours")).mean())
    )
    share = pl.col("fraction").fill_null(1.0).clip(0, 1)
    return (
        career.join(fraction, on=["insz", "year"], how="left")
        .with_columns(
            worked_days_fte_hundredths=(pl.col("worked_days") * share * 100).round().cast(pl.Int32),
            assimilated_days_fte_hundredths=(pl.col("assimilated_days") * share * 100)
            .round()
            .cast(pl.Int32),
            career_denominator=pl.lit(FULL_CAREER_YEARS, dtype=pl.Int32),
        )
        .drop("fraction")
        .sort("insz", "year")
    )
