"""RVA activation allowances (13/021 points 19-20): for some unemployed persons who take up a
job, the months of that job in which the RVA pays an activation allowance, with the employer's
enterprise number.

A job qualifies when it starts within JOB_WITHIN_DAYS of the end of one of the person's benefit
spells; a share of those jobs carries an allowance, of one type, from the first month of the job
for at most the type's months, never past the job's end. One row per person and month (where
two such jobs overlap, the earlier one's). Drawn from a stream of its own, so every other table
keeps its values.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from specs import codes
from synthetic.draws import overlap_per_period

JOB_WITHIN_DAYS = 92
SHARE_WITH_ALLOWANCE = 0.10
TYPES = {"1": 0.6, "2": 0.3, "3": 0.1}
# Synthetic: full-time monthly amounts (euro) and the longest run of months, per type.
MONTHLY_EURO = {"1": 500.0, "2": 300.0, "3": 250.0}
LONGEST_MONTHS = {"1": 24, "2": 12, "3": 12}
JOB_KEY = ("insz", "employer_rsz", "local_unit_id", "occupation_start")

assert set(TYPES) == set(MONTHLY_EURO) == set(LONGEST_MONTHS) == set(codes.ACTIVATION_ALLOWANCE)


def allowances_table(
    rng: np.random.Generator, unemployment: pl.DataFrame, occupations: pl.DataFrame
) -> pl.DataFrame:
    """One row per person and month with an activation allowance paid."""
    jobs = (
        occupations.sort("quarter")
        .unique(JOB_KEY, keep="first")
        .select(*JOB_KEY, "enterprise_kbo", "occupation_end", "q_hours", "s_hours")
        .sort(JOB_KEY)
    )
    after_benefit = (
        jobs.join(unemployment.select("insz", "end_date"), on="insz")
        .filter(
            pl.col("end_date").is_not_null()
            & (pl.col("end_date") < pl.col("occupation_start"))
            & (pl.col("occupation_start") <= pl.col("end_date") + pl.duration(days=JOB_WITHIN_DAYS))
        )
        .select(JOB_KEY)
        .unique()
    )
    jobs = jobs.join(after_benefit, on=JOB_KEY, how="semi", maintain_order="left")
    n = jobs.height
    kinds = np.array(list(TYPES))
    weights = np.array(list(TYPES.values()))
    jobs = jobs.with_columns(
        paid=pl.Series(rng.random(n) < SHARE_WITH_ALLOWANCE),
        allowance_type=pl.Series(kinds[rng.choice(kinds.size, n, p=weights / weights.sum())]),
    ).filter("paid")
    longest = pl.col("allowance_type").replace_strict(LONGEST_MONTHS, return_dtype=pl.Int64)
    last_paid_day = pl.col("occupation_start").dt.offset_by(
        pl.format("{}mo", longest)
    ) - pl.duration(days=1)
    jobs = jobs.with_columns(
        allowance_end=pl.min_horizontal(
            last_paid_day, pl.col("occupation_end").fill_null(last_paid_day)
        )
    )
    months = overlap_per_period(jobs, "occupation_start", "allowance_end", "1mo", "month")
    first_of_month = pl.date(pl.col("month") // 100, pl.col("month") % 100, 1)
    month_days = first_of_month.dt.month_end().dt.day()
    monthly = pl.col("allowance_type").replace_strict(MONTHLY_EURO, return_dtype=pl.Float64)
    amount = monthly * 100 * pl.col("q_hours") / pl.col("s_hours") * pl.col("days") / month_days
    return (
        months.sort("insz", "month", "occupation_start", "employer_rsz", "local_unit_id")
        .unique(["insz", "month"], keep="first", maintain_order=True)
        .select(
            "insz",
            "month",
            "enterprise_kbo",
            "allowance_type",
            amount_cents=amount.round().cast(pl.Int64),
        )
    )
