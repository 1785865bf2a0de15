"""The further DMFA/DWH fields of 18/088 on each occupation line and its employer.

Employer fields (activity, size and its importance code, seat, nature, sector) are drawn once per
employer and shared by all its lines: the activity follows the joint committee, the size the
employer's rank (the same Zipf law that spreads hires over employers). Line fields follow the
line: the schedule from Q/S, assimilated days where a suspended contract (incapacity) leaves the
quarter short of its full days, a termination indemnity for some lines that end.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from specs import codes
from synthetic.draws import weighted
from synthetic.register import municipalities

NACE_BY_COMMITTEE = {
    "200": ("62010", "64190", "47111", "78200"),
    "100": ("25620", "10711"),
    "124": ("41201",),
    "302": ("56101",),
    "322.01": ("81210",),
    "330": ("86101", "88101"),
    "140": ("49410",),
    "111": ("25620",),
    "209": ("25620",),
}
LARGEST_EMPLOYER_JOBS = 3000
SIZE_EXPONENT = 1.1
# Importance code: lower bounds of the size classes 1..9 (domain.md 3.4).
IMPORTANCE_LOWER_BOUNDS = (0, 5, 10, 20, 50, 100, 200, 500, 1000)
NATURE_BY_NACE = {"84111": "4", "85201": "3", "86101": "2", "88101": "2"}
SHARE_UNIT_ELSEWHERE = 0.3
QUARTER_DAYS_FULL_TIME = 65
DEDUCTIONS = {"0000": 0.55, "3000": 0.35, "0001": 0.07, "3310": 0.03}
STRUCTURAL_REDUCTION_SHARE = 0.05  # of the quarter's wage
MEASURES = {"0": 0.95, "1": 0.03, "2": 0.01, "9": 0.01}
SHARE_TELEWORK = 0.10
SHARE_INDEMNITY_AT_END = 0.15
INDEMNITY_MONTHS = 3

assert set(NACE_BY_COMMITTEE) == set(codes.JOINT_COMMITTEE)
assert {n for group in NACE_BY_COMMITTEE.values() for n in group} <= set(codes.NACE)


def _importance(jobs: pl.Expr) -> pl.Expr:
    """The importance code (1-9) of a number of jobs."""
    code = pl.lit(0)
    for index, bound in enumerate(IMPORTANCE_LOWER_BOUNDS, start=1):
        code = pl.when(jobs >= bound).then(pl.lit(index)).otherwise(code)
    return code.cast(pl.String)


EMPLOYER_DETAIL_COLUMNS = (
    "nace",
    "employer_jobs",
    "employer_nis",
    "local_unit_nis",
    "importance_code",
    "local_unit_importance_code",
    "employer_nature",
)


def with_employer_details(rng: np.random.Generator, employers: pl.DataFrame) -> pl.DataFrame:
    """The employers with their activity, size and seat (EMPLOYER_DETAIL_COLUMNS)."""
    details = employer_details(rng, employers).select("employer_rsz", *EMPLOYER_DETAIL_COLUMNS)
    return employers.join(details, on="employer_rsz", how="left", maintain_order="left")


def employer_details(rng: np.random.Generator, employers: pl.DataFrame) -> pl.DataFrame:
    n = employers.height
    places = municipalities()
    weights = places["inhabitants"].to_numpy().astype(float)
    seat = places["nis_code"].to_numpy()[rng.choice(places.height, n, p=weights / weights.sum())]
    unit = places["nis_code"].to_numpy()[rng.choice(places.height, n, p=weights / weights.sum())]
    options = pl.col("joint_committee").replace_strict(
        {c: list(n) for c, n in NACE_BY_COMMITTEE.items()}, return_dtype=pl.List(pl.String)
    )
    pick = (pl.Series(rng.random(n)) * options.list.len()).floor().cast(pl.Int32)
    jobs = np.round(LARGEST_EMPLOYER_JOBS / (employers["employer"].to_numpy() + 1) ** SIZE_EXPONENT)
    return employers.select(
        "employer_rsz",
        "units",
        nace=options.list.get(pick),
        employer_jobs=pl.Series(jobs.astype(np.int32) + 1),
        employer_nis=pl.Series(seat, dtype=pl.String),
        local_unit_nis=pl.Series(
            np.where(rng.random(n) < SHARE_UNIT_ELSEWHERE, unit, seat), dtype=pl.String
        ),
    ).with_columns(
        importance_code=_importance(pl.col("employer_jobs")),
        local_unit_importance_code=_importance(pl.col("employer_jobs") // pl.col("units")),
        employer_nature=pl.col("nace").replace_strict(NATURE_BY_NACE, default="1"),
    )


def occupations_with_details(
    rng: np.random.Generator, occupations: pl.DataFrame, employers: pl.DataFrame
) -> pl.DataFrame:
    n = occupations.height
    quarter_start = pl.date(pl.col("quarter") // 10, (pl.col("quarter") % 10 - 1) * 3 + 1, 1)
    quarter_end = quarter_start.dt.offset_by("3mo") - pl.duration(days=1)
    covered = (
        (
            pl.min_horizontal(quarter_end, pl.col("occupation_end").fill_null(quarter_end))
            - pl.max_horizontal(quarter_start, pl.col("occupation_start"))
        ).dt.total_days()
        + 1
    ) / ((quarter_end - quarter_start).dt.total_days() + 1)
    q_share = pl.col("q_hours") / pl.col("s_hours")
    expected = (covered * QUARTER_DAYS_FULL_TIME * q_share * 100).round()
    assimilated = (expected - pl.col("days_worked")).clip(0, None).cast(pl.Int32)
    ends_here = pl.col("occupation_end").is_not_null() & (pl.col("occupation_end") <= quarter_end)
    deduction = weighted(rng, DEDUCTIONS, n)
    details = employers.select("employer_rsz", *EMPLOYER_DETAIL_COLUMNS)
    return (
        occupations.join(details, on="employer_rsz", how="left", maintain_order="left")
        .with_columns(
            employer_category=pl.lit("010"),
            days_per_week=(q_share * 500).round().cast(pl.Int32),
            special_worker_class=pl.lit("0"),
            deduction_code=deduction,
            assimilated_days=assimilated,
            regionalisation=pl.lit("0"),
            fictive_nace=pl.when(pl.col("nace") == "78200").then(
                weighted(rng, {c: 1.0 for c in codes.NACE if c != "78200"}, n)
            ),
            employment_measure=weighted(rng, MEASURES, n),
            telework=pl.when(pl.Series(rng.random(n)) < SHARE_TELEWORK)
            .then(pl.lit("Y"))
            .otherwise(pl.lit("N")),
            notice_days=pl.lit(0, dtype=pl.Int32),
            termination_indemnity_cents=pl.when(
                ends_here & (pl.Series(rng.random(n)) < SHARE_INDEMNITY_AT_END)
            )
            .then(pl.col("gross_wage_cents") * INDEMNITY_MONTHS)
            .cast(pl.Int64),
            sector=pl.when(pl.col("employer_nature").is_in(["3", "4"]))
            .then(pl.lit("2"))
            .otherwise(pl.lit("1")),
            service_code=pl.lit("1"),
            other_days=pl.lit(0, dtype=pl.Int32),
            contribution_reduction_cents=pl.when(deduction == "3000")
            .then((pl.col("gross_wage_cents") * STRUCTURAL_REDUCTION_SHARE).round())
            .cast(pl.Int64),
            pays_contributions=pl.lit("Y"),
            consolidation_type=pl.lit("0"),
            pension_type=pl.lit("0"),
            normal_days=pl.when(pl.col("q_hours") >= pl.col("s_hours")).then(pl.col("days_worked")),
        )
        .with_columns(
            assimilated_code=pl.when(pl.col("assimilated_days") > 0)
            .then(pl.lit("50"))
            .otherwise(pl.lit("0"))
        )
    )
