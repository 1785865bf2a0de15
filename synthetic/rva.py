"""RVA full unemployment: one row per benefit spell, with family category and daily allowance."""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic import lifecourse as lc
from synthetic.spells import dated, spells

REPLACEMENT_RATE = 0.60
WORKING_DAYS_PER_MONTH = 26
# Daily allowance bounds in 2003 euro, indexed yearly.
MIN_DAILY_ALLOWANCE_2003 = 30.0
MAX_DAILY_ALLOWANCE_2003 = 60.0
INDEXATION = 0.02
YEARS_BACK_IF_RUNNING = 1.5
SHARE_INCREASED_COHABITANT = 0.2
HEADS_OF_HOUSEHOLD = ("MAR+", "UNM+", "H1PA")
LIVING_ALONE = ("SING",)


def unemployment_table(
    rng: np.random.Generator, life: pl.DataFrame, persons: pl.DataFrame, wages: pl.DataFrame
) -> pl.DataFrame:
    rows = spells(life.filter(pl.col("state") == lc.UNEMPLOYED), "state")
    per_spell = dated(rows, rng, YEARS_BACK_IF_RUNNING)
    # Draws are attached in spell order, before any join (joins do not keep row order).
    per_spell = per_spell.with_columns(cohabitant_draw=pl.Series(rng.random(per_spell.height)))
    position = pl.col("adult_position")
    category = (
        pl.when(position.is_in(HEADS_OF_HOUSEHOLD))
        .then(pl.lit("WA"))
        .when(position.is_in(LIVING_ALONE))
        .then(pl.lit("WN"))
        .when(pl.col("cohabitant_draw") < SHARE_INCREASED_COHABITANT)
        .then(pl.lit("WP"))
        .otherwise(pl.lit("W"))
    )
    index = (1 + INDEXATION) ** (pl.col("start_date").dt.year() - lc.START.year).clip(0, None)
    allowance = (REPLACEMENT_RATE * pl.col("wage_2003") / WORKING_DAYS_PER_MONTH).clip(
        MIN_DAILY_ALLOWANCE_2003, MAX_DAILY_ALLOWANCE_2003
    ) * index
    return (
        per_spell.join(persons.select("person", "insz", "adult_position"), on="person")
        .join(wages, on="person")
        .select(
            "insz",
            "start_date",
            "end_date",
            category=category,
            daily_allowance_cents=(allowance * 100).round().cast(pl.Int32),
        )
        .sort("insz", "start_date")
    )
