"""The further NIC/RIZIV data of 18/088 per incapacity phase: degree, benefit and medical codes,
status, scheme, GRI decision for invalidity, and the annual earnings the benefit rests on.

Status follows the episode: an employee's primary incapacity starts after the guaranteed-wage
month, an unemployed person's on the first day of illness. A limited incapacity (authorised
part-time resumption) is a benefit for adapted work.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from specs import codes
from synthetic.draws import uniform_days, weighted
from synthetic.register import END

# Shares of diagnosis groups (mental disorders and musculoskeletal disorders lead, domain.md 4).
MEDICAL = {"F": 0.37, "M": 0.30, "C": 0.08, "I": 0.06, "S": 0.09, "X": 0.10}
OCCUPATION_OF_EMPLOYEES = {"1": 0.45, "2": 0.55}
DISCHARGE_WHEN_ENDED = {"1": 0.85, "2": 0.05, "3": 0.03, "9": 0.07}
NACE_WEIGHTS = {code: 1.0 for code in codes.NACE}
LIMITED_PERCENTAGE = 50
FULL_PERCENTAGE = 100
BENEFIT_RATE = 0.60  # the benefit is 60% of the capped daily wage (synthetic.nic)
DAYS_PER_YEAR = 312

assert set(MEDICAL) == set(codes.MEDICAL_CODE)


def incapacity_with_details(rng: np.random.Generator, incapacity: pl.DataFrame) -> pl.DataFrame:
    n = incapacity.height
    employee = pl.col("primary_start_date") > pl.col("illness_start_date")
    # one diagnosis per episode: the phases of an episode share it
    episodes = incapacity.select("insz", "episode").unique().sort("insz", "episode")
    diagnosis = episodes.with_columns(medical_code=weighted(rng, MEDICAL, episodes.height))
    limited = pl.col("nature") == "LIMITED"
    invalidity = pl.col("phase") == "invalidity"
    return (
        incapacity.join(diagnosis, on=["insz", "episode"], how="left", maintain_order="left")
        .with_columns(
            percentage=pl.when(limited)
            .then(LIMITED_PERCENTAGE)
            .otherwise(FULL_PERCENTAGE)
            .cast(pl.Int32),
            benefit_code=pl.when(limited)
            .then(pl.lit("30"))
            .when(invalidity)
            .then(pl.lit("20"))
            .otherwise(pl.lit("10")),
            discharge_code=pl.when(pl.col("end_date").is_null())
            .then(pl.lit("0"))
            .otherwise(weighted(rng, DISCHARGE_WHEN_ENDED, n)),
            statistical_indicator=pl.when(invalidity).then(pl.lit("2")).otherwise(pl.lit("1")),
            occupation=pl.when(employee)
            .then(weighted(rng, OCCUPATION_OF_EMPLOYEES, n))
            .otherwise(pl.lit("3")),
            social_status=pl.when(employee).then(pl.lit("1")).otherwise(pl.lit("2")),
            scheme=pl.lit("G"),
            nace=pl.when(employee).then(weighted(rng, NACE_WEIGHTS, n)),
            payment_period_end=pl.col("end_date").fill_null(pl.lit(END)),
            session_date=pl.when(invalidity).then(
                pl.col("start_date") - pl.duration(days=pl.lit(uniform_days(rng, 10, 40, n)))
            ),
            gri_decision=pl.when(invalidity).then(pl.lit("1")).otherwise(pl.lit("0")),
            benefit_type=pl.when(limited).then(pl.lit("ADAPTED_WORK")).otherwise(pl.lit("NORMAL")),
            day_type=pl.lit("PAID"),
            file_status=pl.when(pl.col("end_date").is_null())
            .then(pl.lit("1"))
            .otherwise(pl.lit("2")),
            annual_income_cents=(pl.col("daily_benefit_cents") / BENEFIT_RATE * DAYS_PER_YEAR)
            .round()
            .cast(pl.Int64),
        )
        .sort("insz", "start_date")
    )
