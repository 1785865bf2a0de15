"""NIC/RIZIV incapacity: per episode a primary-incapacity phase of at most a year, then invalidity.

An employee's first month is the employer's guaranteed wage: the NIC phase starts 30 days after
the first day of illness. An episode over before that never reaches the NIC.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from synthetic import lifecourse as lc
from synthetic.spells import dated, spells

GUARANTEED_WAGE_DAYS = 30
PRIMARY_PHASE = "1y"
SHARE_LIMITED = 0.10
PRIMARY_RATE = 0.60
INVALIDITY_RATE = (0.55, 0.65)
MAX_DAILY_WAGE_2003 = 110.0
MIN_DAILY_BENEFIT_2003 = 30.0
INDEXATION = 0.02
YEARS_BACK_IF_RUNNING = 3.0
DAYS_PER_MONTH = 26


def incapacity_table(
    rng: np.random.Generator, life: pl.DataFrame, persons: pl.DataFrame, wages: pl.DataFrame
) -> pl.DataFrame:
    rows = spells(life.filter(pl.col("state") == lc.INCAPACITATED), "state")
    per_episode = dated(rows, rng, YEARS_BACK_IF_RUNNING)
    n = per_episode.height
    # Draws are attached in spell order, before any join (joins do not keep row order).
    per_episode = per_episode.with_columns(
        limited_draw=pl.Series(rng.random(n)),
        invalidity_rate=pl.Series(rng.uniform(*INVALIDITY_RATE, n)),
    ).join(
        rows.group_by("spell").agg(
            was_employed=pl.col("was_employed").first(), employer=pl.col("employer").first()
        ),
        on="spell",
        maintain_order="left",
    )
    end_of_sources = pl.lit(lc.END)
    episodes = (
        # keep the order: the draws below are matched to rows by position
        per_episode.join(persons.select("person", "insz"), on="person", maintain_order="left")
        .join(wages, on="person", maintain_order="left")
        .with_columns(
            illness_start_date=pl.col("start_date"),
            primary_start_date=pl.when(pl.col("was_employed") | (pl.col("employer") >= 0))
            .then(pl.col("start_date") + pl.duration(days=GUARANTEED_WAGE_DAYS))
            .otherwise(pl.col("start_date")),
            nature=pl.when(pl.col("limited_draw") < SHARE_LIMITED)
            .then(pl.lit("LIMITED"))
            .otherwise(pl.lit("FULL")),
        )
        .filter(pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("primary_start_date")))
        .filter(pl.col("primary_start_date") <= end_of_sources)
        .sort("insz", "illness_start_date")
        .with_columns(episode=pl.int_range(1, pl.len() + 1).over("insz").cast(pl.Int32))
    )
    invalidity_from = pl.col("primary_start_date").dt.offset_by(PRIMARY_PHASE)
    index = (1 + INDEXATION) ** (pl.col("start_date").dt.year() - lc.START.year).clip(0, None)
    daily_wage = (pl.col("wage_2003") / DAYS_PER_MONTH).clip(upper_bound=MAX_DAILY_WAGE_2003)
    benefit = (daily_wage * pl.col("rate")).clip(lower_bound=MIN_DAILY_BENEFIT_2003) * index

    primary = episodes.with_columns(
        phase=pl.lit("primary"),
        start_date=pl.col("primary_start_date"),
        end_date=pl.when(invalidity_from <= end_of_sources)
        .then(
            pl.min_horizontal(
                pl.col("end_date").fill_null(pl.lit(dt.date.max)),
                invalidity_from - pl.duration(days=1),
            )
        )
        .otherwise(pl.col("end_date")),
        rate=pl.lit(PRIMARY_RATE),
    )
    invalidity = episodes.filter(
        (invalidity_from <= end_of_sources)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= invalidity_from))
    ).with_columns(
        phase=pl.lit("invalidity"), start_date=invalidity_from, rate=pl.col("invalidity_rate")
    )
    return (
        pl.concat([primary, invalidity], how="diagonal_relaxed")
        .select(
            "insz",
            "episode",
            "phase",
            "start_date",
            "end_date",
            "illness_start_date",
            "primary_start_date",
            "nature",
            daily_benefit_cents=(benefit * 100).round().cast(pl.Int32),
        )
        .sort("insz", "start_date")
    )
