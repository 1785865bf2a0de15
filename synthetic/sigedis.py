"""SIGEDIS career: worked and assimilated days per year, on the 6-day regime (312 a year).

From 2003 the days are those the DMFA declared (5-day days x 6/5) and the months of unemployment
and incapacity; before 2003 each person's career is drawn from a personal propensity to work.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic import lifecourse as lc

DAYS_PER_YEAR = 312
SIX_DAY_PER_FIVE_DAY = 6 / 5
ASSIMILATED_DAYS_PER_MONTH = 26
FIRST_CAREER_YEAR = 1960
CAREER_AGES = (18, 64)


def career_table(
    rng: np.random.Generator,
    life: pl.DataFrame,
    persons: pl.DataFrame,
    occupations: pl.DataFrame,
    employers: pl.DataFrame,
) -> pl.DataFrame:
    recent_work = (
        occupations.with_columns(year=(pl.col("quarter") // 10).cast(pl.Int32))
        .group_by("insz", "year", "employer_rsz")
        .agg(days=pl.col("days_worked").sum() / 100)
        .sort("insz", "year", "days", "employer_rsz", descending=[False, False, True, False])
        .group_by("insz", "year", maintain_order=True)
        .agg(days=pl.col("days").sum(), employer_rsz=pl.col("employer_rsz").first())
        .with_columns(
            worked_days=(pl.col("days") * SIX_DAY_PER_FIVE_DAY).round().clip(0, DAYS_PER_YEAR)
        )
    )
    recent_benefits = (
        life.filter(pl.col("state").is_in([lc.UNEMPLOYED, lc.INCAPACITATED]))
        .with_columns(year=(lc.START.year + pl.col("month").cast(pl.Int32) // 12))
        .group_by("person", "year")
        .agg(months=pl.len())
        .join(persons.select("person", "insz"), on="person")
        .select("insz", "year", "months")
    )
    recent = (
        recent_work.join(recent_benefits, on=["insz", "year"], how="full", coalesce=True)
        .with_columns(worked_days=pl.col("worked_days").fill_null(0))
        .with_columns(
            assimilated_days=(pl.col("months").fill_null(0) * ASSIMILATED_DAYS_PER_MONTH).clip(
                0, DAYS_PER_YEAR - pl.col("worked_days")
            ),
        )
        .with_columns(employer_rsz=pl.when(pl.col("worked_days") > 0).then("employer_rsz"))
    )
    n = persons.height
    early = persons.select(
        "person",
        "insz",
        first=pl.max_horizontal(
            pl.col("birth_date").dt.year() + CAREER_AGES[0], pl.lit(FIRST_CAREER_YEAR)
        ),
        last=pl.min_horizontal(
            pl.col("birth_date").dt.year() + CAREER_AGES[1], pl.lit(lc.START.year - 1)
        ),
        propensity=pl.Series(rng.beta(4, 2, n)),
        employer=pl.Series(rng.integers(0, employers.height, n, dtype=np.int32)),
    ).filter(pl.col("first") <= pl.col("last"))
    years = early.with_columns(year=pl.int_ranges("first", pl.col("last") + 1)).explode("year")
    m = years.height
    works = pl.Series(rng.random(m)) < pl.col("propensity")
    years = years.with_columns(
        worked_days=pl.when(works)
        .then((pl.Series(rng.uniform(0.7, 1.0, m)) * DAYS_PER_YEAR).round())
        .otherwise(0),
        assimilated_days=pl.when(~works & (pl.Series(rng.random(m)) < 0.3))
        .then((pl.Series(rng.uniform(0.2, 1.0, m)) * DAYS_PER_YEAR).round())
        .otherwise(0),
    ).join(employers.select("employer", "employer_rsz"), on="employer")
    years = years.with_columns(employer_rsz=pl.when(pl.col("worked_days") > 0).then("employer_rsz"))
    columns = ["insz", "year", "worked_days", "assimilated_days", "employer_rsz"]
    return (
        pl.concat([years.select(columns), recent.select(columns)], how="vertical_relaxed")
        .filter((pl.col("worked_days") + pl.col("assimilated_days")) > 0)
        .sort("insz", "year")
    )
