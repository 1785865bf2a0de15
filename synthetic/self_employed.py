"""RSVZ self-employed activities: a main occupation for some persons out of salaried work for a
year or more, a secondary one beside some long salaried jobs. Incomes are log-normal around the
RSVZ reference income (main) and well below it (secondary)."""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic import lifecourse as lc
from synthetic.spells import dated, spells

MIN_MONTHS = 12
SHARE_MAIN = 0.12  # of inactive runs of a year or more
SHARE_SECONDARY = 0.04  # of salaried runs of a year or more
MEDIAN_INCOME = {"1": 24_000.0, "2": 8_000.0}
INCOME_SIGMA = 0.6
YEARS_BACK_IF_RUNNING = 5.0


def self_employed_table(rng: np.random.Generator, life: pl.DataFrame, persons: pl.DataFrame):
    runs = spells(life.filter(pl.col("state").is_in([lc.INACTIVE, lc.EMPLOYED])), "state")
    per_run = (
        runs.group_by("spell")
        .agg(state=pl.col("state").first(), months=pl.len())
        .filter(pl.col("months") >= MIN_MONTHS)
        .sort("spell")
    )
    share = pl.when(pl.col("state") == lc.INACTIVE).then(SHARE_MAIN).otherwise(SHARE_SECONDARY)
    chosen = per_run.filter(pl.Series(rng.random(per_run.height)) < share)
    activity = dated(runs.filter(pl.col("spell").is_in(chosen["spell"].implode())), rng,
                     YEARS_BACK_IF_RUNNING).join(chosen, on="spell").sort("spell")  # fmt: skip
    m = activity.height
    category = pl.when(pl.col("state") == lc.INACTIVE).then(pl.lit("1")).otherwise(pl.lit("2"))
    median = (
        pl.when(pl.col("state") == lc.INACTIVE)
        .then(MEDIAN_INCOME["1"])
        .otherwise(MEDIAN_INCOME["2"])
    )
    income = median * pl.Series(np.exp(INCOME_SIGMA * rng.standard_normal(m)))
    return (
        activity.join(persons.select("person", "insz"), on="person", maintain_order="left")
        .select(
            "insz",
            "start_date",
            "end_date",
            category=category,
            annual_income_cents=(income * 100).round().cast(pl.Int64),
        )
        .sort("insz", "start_date")
    )
