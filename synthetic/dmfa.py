"""RSZ DMFA: one occupation line per job per quarter, with hours, paid days and gross wage.

An occupation runs while the person works for one employer, including months of incapacity in
which the contract is suspended (no paid days then, except the employer's guaranteed-wage month).
Paid days are counted on the 5-day full-time regime (65 a quarter) and scaled by Q/S.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from specs import codes
from synthetic import employers as employer_pool
from synthetic import hazards
from synthetic import lifecourse as lc
from synthetic.spells import dated, month_start, spells

FULL_TIME_HOURS = 3800  # S: hundredths of hours a week
PAID_DAYS_PER_MONTH = 65 / 3
SHARE_PART_TIME = hazards.PART_TIME_BY_SEX
PART_TIME_FRACTIONS = (0.8, 0.5)  # 4/5 is the most common regime
SHARE_WHITE_COLLAR = 0.55
# Full-time monthly gross: log-normal with a thinner lower tail, through Statbel's 2021
# P10/P50/P90 (2,303 / 3,507 / 5,922): sigma = ln(P50/P10) / 1.2816 below the median and
# ln(P90/P50) / 1.2816 above it. The 2003 median puts 2010 at the 2021 median deflated by the
# 22% indexation of 2010-2021 (synthetic/targets.py).
MEDIAN_MONTHLY_WAGE_2003 = 2500.0
WAGE_SIGMA_BELOW_MEDIAN = 0.328
WAGE_SIGMA_ABOVE_MEDIAN = 0.409
WAGE_GROWTH = 0.02
YEARS_BACK_IF_RUNNING = 10.0

assert set(employer_pool.COMMITTEE_WEIGHTS) <= set(codes.JOINT_COMMITTEE)


def person_wages(rng: np.random.Generator, persons: pl.DataFrame) -> pl.DataFrame:
    """Each person's full-time monthly wage in 2003 and worker code."""
    n = persons.height
    z = rng.standard_normal(n)
    sigma = np.where(z < 0, WAGE_SIGMA_BELOW_MEDIAN, WAGE_SIGMA_ABOVE_MEDIAN)
    return persons.select(
        "person",
        wage_2003=pl.Series(MEDIAN_MONTHLY_WAGE_2003 * np.exp(sigma * z)),
        worker_code=pl.Series(np.where(rng.random(n) < SHARE_WHITE_COLLAR, "495", "015")),
    )


def occupation_spells(
    rng: np.random.Generator, life: pl.DataFrame, persons: pl.DataFrame, employers: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(spells with dates and terms, the monthly rows of each spell)."""
    rows = spells(life.filter(pl.col("employer") >= 0), "employer")
    per_spell = dated(rows, rng, YEARS_BACK_IF_RUNNING).join(
        rows.group_by("spell").agg(pl.col("employer").first()), on="spell"
    )
    n = per_spell.height
    adult = persons.select("person", "is_man", adult_from=pl.col("birth_date").dt.offset_by("18y"))
    per_spell = per_spell.join(adult, on="person").join(employers, on="employer").sort("spell")
    part_time_share = pl.when("is_man").then(SHARE_PART_TIME["M"]).otherwise(SHARE_PART_TIME["F"])
    fraction = np.where(rng.random(n) < 0.6, *PART_TIME_FRACTIONS)
    per_spell = per_spell.with_columns(
        occupation_start=pl.max_horizontal("start_date", "adult_from"),
        occupation_end=pl.col("end_date"),
        part_time=pl.Series(rng.random(n)) < part_time_share,
        unit=pl.col("first_unit")
        + (pl.Series(rng.random(n)) * pl.col("units")).floor().cast(pl.Int64),
    ).with_columns(
        q_share=pl.when("part_time").then(pl.Series(fraction)).otherwise(1.0),
    )
    return per_spell, rows


def occupations_table(
    rng: np.random.Generator, life: pl.DataFrame, persons: pl.DataFrame, employers: pl.DataFrame
) -> pl.DataFrame:
    per_spell, rows = occupation_spells(rng, life, persons, employers)
    wages = person_wages(rng, persons)
    # Rows keep their (person, month) order, so each quarter's wage is summed in month order.
    monthly = rows.join(
        per_spell.select("spell", "occupation_start", "occupation_end", "q_share"),
        on="spell",
        maintain_order="left",
    ).with_columns(first=month_start(pl.col("month")))
    monthly = (
        monthly.with_columns(
            last=pl.col("first").dt.month_end(),
            length=pl.col("first").dt.month_end().dt.day().cast(pl.Float64),
        )
        .with_columns(
            covered=(
                (
                    pl.min_horizontal("last", pl.col("occupation_end").fill_null(pl.col("last")))
                    - pl.max_horizontal("first", "occupation_start")
                ).dt.total_days()
                + 1
            ).clip(0, None)
            / pl.col("length"),
            # paid: working, or the guaranteed-wage month that opens an incapacity
            paid=(pl.col("state") == lc.EMPLOYED)
            | ((pl.col("state") == lc.INCAPACITATED) & pl.col("was_employed")),
        )
        .with_columns(
            paid_months=pl.when("paid").then(pl.col("covered")).otherwise(0.0),
            quarter=(pl.col("first").dt.year() * 10 + pl.col("first").dt.quarter()).cast(pl.Int32),
            year=pl.col("first").dt.year(),
        )
    )
    lines = (
        monthly.join(wages, on="person", maintain_order="left")
        .with_columns(
            wage=pl.col("paid_months")
            * pl.col("q_share")
            * pl.col("wage_2003")
            * (1 + WAGE_GROWTH) ** (pl.col("year") - lc.START.year)
        )
        .group_by("spell", "quarter")
        .agg(
            paid_months=pl.col("paid_months").sum(),
            wage=pl.col("wage").sum(),
            worker_code=pl.col("worker_code").first(),
        )
        .join(per_spell, on="spell")
        .join(persons.select("person", "insz"), on="person")
    )
    return lines.select(
        "insz",
        "quarter",
        "employer_rsz",
        "enterprise_kbo",
        local_unit_id=pl.Series(employer_pool.local_unit_numbers(lines["unit"].to_numpy())),
        joint_committee="joint_committee",
        worker_code="worker_code",
        contract_type=pl.when("part_time").then(pl.lit("1")).otherwise(pl.lit("0")),
        q_hours=(pl.col("q_share") * FULL_TIME_HOURS).round().cast(pl.Int32),
        s_hours=pl.lit(FULL_TIME_HOURS, dtype=pl.Int32),
        occupation_start="occupation_start",
        occupation_end="occupation_end",
        days_worked=(pl.col("paid_months") * PAID_DAYS_PER_MONTH * pl.col("q_share") * 100)
        .round()
        .cast(pl.Int32),
        gross_wage_cents=(pl.col("wage") * 100).round().cast(pl.Int64),
        declaration_version=pl.lit(1, dtype=pl.Int32),
    ).sort("insz", "quarter", "occupation_start", "employer_rsz")
