"""FOD SZ disability recognitions: rare, far more frequent among persons in invalidity.

A recognition starts on the first day of invalidity (for those who reach it) or on a day of the
period, and lasts until death or beyond the sources. Each carries at least one flag.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthetic.draws import flag
from synthetic.register import END, START

SHARE_AMONG_INVALIDITY = 0.15
SHARE_OTHER_ADULTS = 0.01
FLAG_SHARES = {
    "ordinary_allowance": 0.35,
    "special_allowance": 0.10,
    "lower_limbs_50": 0.15,
    "full_blindness": 0.02,
    "earning_capacity_third": 0.60,
}


def disability_table(
    rng: np.random.Generator, persons: pl.DataFrame, incapacity: pl.DataFrame
) -> pl.DataFrame:
    invalidity = (
        incapacity.filter(pl.col("phase") == "invalidity")
        .group_by("insz")
        .agg(invalidity_from=pl.col("start_date").min())
    )
    adults = persons.select(
        "insz",
        "death_date",
        adult_from=pl.max_horizontal(pl.col("birth_date").dt.offset_by("18y"), pl.lit(START)),
    ).join(invalidity, on="insz", how="left", maintain_order="left")
    n = adults.height
    draw = pl.Series(rng.random(n))
    share = (
        pl.when(pl.col("invalidity_from").is_not_null())
        .then(SHARE_AMONG_INVALIDITY)
        .otherwise(SHARE_OTHER_ADULTS)
    )
    span = (pl.lit(END) - pl.col("adult_from")).dt.total_days()
    other_start = pl.col("adult_from") + pl.duration(
        days=(pl.Series(rng.random(n)) * span).floor().cast(pl.Int64)
    )
    chosen = adults.with_columns(
        start_date=pl.coalesce("invalidity_from", other_start),
    ).filter(
        (draw < share)
        & (pl.col("adult_from") <= pl.lit(END))
        & (pl.col("death_date").is_null() | (pl.col("death_date") >= pl.col("start_date")))
    )
    m = chosen.height
    flags = {name: flag(rng, share, m) for name, share in FLAG_SHARES.items()}
    none_set = pl.all_horizontal(pl.col(name) == "N" for name in FLAG_SHARES)
    return (
        chosen.with_columns(end_date=pl.col("death_date"), **flags)
        .with_columns(
            # a recognition always holds something: the reduced earning capacity by default
            earning_capacity_third=pl.when(none_set)
            .then(pl.lit("Y"))
            .otherwise(pl.col("earning_capacity_third"))
        )
        .select("insz", "start_date", "end_date", *FLAG_SHARES)
        .sort("insz")
    )
