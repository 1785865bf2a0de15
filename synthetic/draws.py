"""Small vectorised helpers shared by the modules that add the further variables of 18/088:
weighted draws from code lists, the residence on a day, the region's employment service, and
the days a spell covers in each month or quarter."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from specs import codes
from synthetic.register import END, START

# The nine municipalities of the German-speaking Community (domain.md 1.4): ADG, not FOREM.
GERMAN_SPEAKING = ("63001", "63012", "63013", "63023", "63040", "63048", "63061", "63067", "63087")
assert len(GERMAN_SPEAKING) == 9


def weighted(rng: np.random.Generator, weights: Mapping[str, float], size: int) -> pl.Series:
    """`size` codes drawn with the given weights (need not sum to one)."""
    values = np.array(list(weights))
    p = np.array(list(weights.values()), dtype=float)
    return pl.Series(values[rng.choice(len(values), size=size, p=p / p.sum())], dtype=pl.String)


def flag(rng: np.random.Generator, share: float, size: int) -> pl.Series:
    """Y with probability `share`, else N."""
    return pl.Series(np.where(rng.random(size) < share, "Y", "N"), dtype=pl.String)


def uniform_days(rng: np.random.Generator, low: int, high: int, size: int) -> pl.Series:
    """Durations of low..high days (inclusive), for offsets from a date."""
    return pl.Series(rng.integers(low, high + 1, size), dtype=pl.Int64)


def residence_on(frame: pl.DataFrame, day: str, residences: pl.DataFrame) -> pl.Series:
    """The NIS code of each row's residence on the row's `day` (rows keep their order)."""
    indexed = frame.select("insz", day).with_row_index("row")
    found = (
        indexed.join(residences, on="insz", how="left")
        .filter(
            (pl.col("valid_from") <= pl.col(day))
            & (pl.col("valid_until").is_null() | (pl.col("valid_until") >= pl.col(day)))
        )
        .group_by("row")
        .agg(pl.col("nis_code").first())
    )
    # born after the day or an edge case: the first known residence
    first = residences.sort("valid_from").group_by("insz").agg(first_nis=pl.col("nis_code").first())
    return (
        indexed.join(found, on="row", how="left")
        .join(first, on="insz", how="left")
        .sort("row")
        .select(pl.coalesce("nis_code", "first_nis"))
        .to_series()
    )


def employment_service(nis: pl.Expr) -> pl.Expr:
    """The regional employment service of a municipality: VDAB, FOREM, ACTIRIS or ADG."""
    return (
        pl.when(nis.is_in(GERMAN_SPEAKING))
        .then(pl.lit("ADG"))
        .when(nis.str.starts_with("21"))
        .then(pl.lit("ACTIRIS"))
        .when(nis.str.slice(0, 1).is_in(["5", "6", "8", "9"]) | nis.str.starts_with("25"))
        .then(pl.lit("FOREM"))
        .otherwise(pl.lit("VDAB"))
    )


assert {"VDAB", "FOREM", "ACTIRIS", "ADG"} == set(codes.EMPLOYMENT_SERVICE)


def overlap_per_period(
    frame: pl.DataFrame, start: str, end: str, every: str, code: str
) -> pl.DataFrame:
    """One row per row of `frame` and month (every="1mo") or quarter ("3mo") it covers within
    START-END, with the period's code (`code`: YYYYMM or YYYYQ) and the covered calendar days.
    An open end runs to the end of the sources."""
    spans = frame.with_columns(
        _from=pl.max_horizontal(pl.col(start), pl.lit(START)),
        _to=pl.min_horizontal(pl.col(end).fill_null(pl.lit(END)), pl.lit(END)),
    ).filter(pl.col("_from") <= pl.col("_to"))
    months = 3 if every == "3mo" else 1
    first_of = pl.date(
        pl.col("_from").dt.year(), ((pl.col("_from").dt.month() - 1) // months) * months + 1, 1
    )
    exploded = spans.with_columns(
        _period=pl.date_ranges(first_of, pl.col("_to"), interval=every)
    ).explode("_period")
    period_end = pl.col("_period").dt.offset_by(every) - pl.duration(days=1)
    code_expr = (
        pl.col("_period").dt.year() * 100 + pl.col("_period").dt.month()
        if every == "1mo"
        else pl.col("_period").dt.year() * 10 + pl.col("_period").dt.quarter()
    )
    return exploded.with_columns(
        days=(
            (
                pl.min_horizontal(period_end, pl.col("_to"))
                - pl.max_horizontal(pl.col("_period"), pl.col("_from"))
            ).dt.total_days()
            + 1
        ).cast(pl.Int32),
        **{code: code_expr.cast(pl.Int32)},
    ).drop("_from", "_to", "_period")
