"""The further RVA data of 18/088: the details of each benefit spell, sanctions, monthly
payments and activation procedures, all cut from the benefit spells of synthetic.rva.

Payments follow the spells day by day (26 benefit days a full month, the spell's daily
allowance), so the amounts paid agree with the benefit records; a sanction lies inside its
spell; activation procedures follow long spells.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from specs import codes
from synthetic.draws import overlap_per_period, residence_on, uniform_days, weighted

BENEFIT_DAYS_PER_MONTH = 26
# Office by the first digits of the NIS code of the residence (the arrondissement's office).
OFFICE_BY_PREFIX = {
    "11": "11", "12": "11", "13": "11", "21": "21", "23": "23", "24": "23", "25": "25",
    "31": "31", "32": "31", "33": "31", "34": "31", "35": "31", "36": "31", "37": "31", "38": "31",
    "41": "44", "42": "44", "43": "44", "44": "44", "45": "44", "46": "44",
    "51": "53", "52": "52", "53": "53", "54": "53", "55": "52", "56": "52", "57": "53",
    "61": "62", "62": "62", "63": "62", "64": "62",
    "71": "71", "72": "71", "73": "71",
    "81": "82", "82": "82", "83": "82", "84": "82", "85": "82",
    "91": "92", "92": "92", "93": "92",
}  # fmt: skip
CONTRACTS = {"1": 0.92, "2": 0.05, "0": 0.03}
CRITERIA = {"A": 0.80, "S": 0.12, "P": 0.08}
PREVIOUS = {"1": 0.65, "2": 0.15, "3": 0.08, "4": 0.07, "9": 0.05}
SCHEMES = {"VW": 0.86, "IU": 0.10, "SWT": 0.04}
SECTORS = {
    "41201": 0.1, "47111": 0.12, "49410": 0.08, "56101": 0.1, "62010": 0.05, "64190": 0.03,
    "78200": 0.15, "81210": 0.1, "25620": 0.1, "10711": 0.07, "86101": 0.05, "88101": 0.05,
}  # fmt: skip
SHARE_PROGRAMME = 0.05
SHARE_REPLACING = 0.03
SHARE_SANCTIONED = 0.08
SANCTION_TYPES = {"1": 0.3, "2": 0.4, "3": 0.2, "4": 0.1}
SANCTION_REASONS = {"1": 0.4, "2": 0.2, "3": 0.3, "4": 0.1}
SANCTION_WEEKS = (4, 26)
SHARE_WORKING_HOURS = 0.05  # months with some hours of work while on benefit
SHARE_ACTIVATION = 0.35  # of spells longer than the months before the first letter
MONTHS_BEFORE_LETTER = 6
MONTHS_BETWEEN_INTERVIEWS = 4
INTERVIEW_RESULTS = {"P": 0.6, "N": 0.3, "A": 0.1}

assert set(OFFICE_BY_PREFIX.values()) <= set(codes.UNEMPLOYMENT_OFFICE)
assert set(SECTORS) <= set(codes.NACE)


def unemployment_with_details(
    rng: np.random.Generator, unemployment: pl.DataFrame, residences: pl.DataFrame
) -> pl.DataFrame:
    """The benefit spells with office, contract, criteria, scheme and the other RVA fields."""
    n = unemployment.height
    nis = residence_on(unemployment, "start_date", residences)
    return unemployment.with_columns(
        office=nis.str.slice(0, 2).replace_strict(OFFICE_BY_PREFIX, default="21"),
        contract=weighted(rng, CONTRACTS, n),
        activation_criterion=weighted(rng, CRITERIA, n),
        created_date=pl.col("start_date") - pl.duration(days=pl.lit(uniform_days(rng, 0, 20, n))),
        previous_situation=weighted(rng, PREVIOUS, n),
        career_break_reason=pl.lit("0"),
        time_credit_reason=pl.lit("0"),
        programme_id=pl.when(pl.Series(rng.random(n)) < SHARE_PROGRAMME).then(
            pl.Series(rng.integers(10_000_000, 99_999_999, n)).cast(pl.String)
        ),
        replacement=pl.when(pl.Series(rng.random(n)) < SHARE_REPLACING)
        .then(pl.lit("Y"))
        .otherwise(pl.lit("N")),
        scheme=weighted(rng, SCHEMES, n),
        activity_sector=weighted(rng, SECTORS, n),
        rva_status=pl.lit("1"),
        temporary_type=pl.lit("0"),
    )


def sanctions_table(rng: np.random.Generator, unemployment: pl.DataFrame) -> pl.DataFrame:
    """Sanctions inside some benefit spells: decided, notified, then in force for some weeks."""
    spells = unemployment.with_columns(
        length=(pl.col("end_date").fill_null(pl.col("start_date") + pl.duration(days=720))
                - pl.col("start_date")).dt.total_days()
    ).filter((pl.col("length") > 60) & (pl.Series(rng.random(unemployment.height))
                                        < SHARE_SANCTIONED))  # fmt: skip
    m = spells.height
    weeks = pl.Series(rng.integers(SANCTION_WEEKS[0], SANCTION_WEEKS[1] + 1, m), dtype=pl.Int32)
    start = pl.col("start_date") + pl.duration(
        days=(pl.Series(rng.random(m)) * (pl.col("length") - 30)).floor().cast(pl.Int64) + 30
    )
    sanction_type = weighted(rng, SANCTION_TYPES, m)
    return (
        spells.with_columns(sanction_start=start, weeks=weeks, sanction_type=sanction_type)
        .with_columns(
            decision_date=pl.col("sanction_start")
            - pl.duration(days=pl.lit(uniform_days(rng, 10, 30, m)))
        )
        .select(
            "insz",
            start_date="sanction_start",
            end_date=pl.col("sanction_start")
            + pl.duration(weeks=pl.col("weeks"))
            - pl.duration(days=1),
            sanction_type="sanction_type",
            reason=weighted(rng, SANCTION_REASONS, m),
            amount_cents=(pl.col("daily_allowance_cents") * 6 * pl.col("weeks")).cast(pl.Int64),
            decision_date="decision_date",
            notification_date=pl.col("decision_date") + pl.duration(days=3),
            effective_date="sanction_start",
            exclusion_weeks=pl.when(pl.col("sanction_type") == "2")
            .then(pl.col("weeks"))
            .otherwise(0)
            .cast(pl.Int32),
            duration_weeks="weeks",
        )
        .sort("insz", "start_date")
    )


def payments_table(rng: np.random.Generator, unemployment: pl.DataFrame) -> pl.DataFrame:
    """One payment row per person and month of benefit: days on the 6-day regime (26 a full
    month) at the spell's daily allowance."""
    monthly = overlap_per_period(unemployment, "start_date", "end_date", "1mo", "month")
    month_days = pl.date(pl.col("month") // 100, pl.col("month") % 100, 1).dt.month_end().dt.day()
    days = (pl.col("days") * BENEFIT_DAYS_PER_MONTH / month_days).round().clip(1, 26).cast(pl.Int32)
    return (
        monthly.with_columns(benefit_days=days)
        .group_by("insz", "month")
        .agg(
            amount_paid_cents=(pl.col("benefit_days") * pl.col("daily_allowance_cents")).sum(),
            benefit_days=pl.col("benefit_days").sum().clip(upper_bound=26),
        )
        .sort("insz", "month")
        .with_columns(
            budget_units_hundredths=(pl.col("benefit_days") * 100 / 26).round().cast(pl.Int32),
            payments=pl.lit(1, dtype=pl.Int32),
            month_end_situation=pl.lit("1"),
        )
        .pipe(_with_hours, rng)
        .select(
            "insz",
            "month",
            pl.col("amount_paid_cents").cast(pl.Int64),
            "benefit_days",
            "hours_worked_hundredths",
            "budget_units_hundredths",
            "payments",
            "month_end_situation",
        )
    )


def _with_hours(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = frame.height
    hours = np.where(rng.random(n) < SHARE_WORKING_HOURS, rng.integers(400, 6000, n), 0)
    return frame.with_columns(hours_worked_hundredths=pl.Series(hours, dtype=pl.Int32))


def activation_table(rng: np.random.Generator, unemployment: pl.DataFrame) -> pl.DataFrame:
    """Procedures that follow job-search efforts: a letter some months into a long spell, then
    interviews every few months until one is positive (at most three)."""
    letter = pl.col("start_date").dt.offset_by(f"{MONTHS_BEFORE_LETTER}mo")
    long = unemployment.filter(
        (pl.col("end_date").is_null() | (pl.col("end_date") > letter))
        & (pl.Series(rng.random(unemployment.height)) < SHARE_ACTIVATION)
    ).with_columns(letter_date=letter)
    m = long.height
    columns: dict[str, pl.Expr | pl.Series] = {}
    going_on = pl.lit(True)
    for n in (1, 2, 3):
        day = pl.col("letter_date").dt.offset_by(f"{n * MONTHS_BETWEEN_INTERVIEWS}mo")
        held = going_on & (pl.col("end_date").is_null() | (pl.col("end_date") >= day))
        result = weighted(rng, INTERVIEW_RESULTS, m)
        columns[f"interview_{n}_date"] = pl.when(held).then(day)
        columns[f"interview_{n}_result"] = pl.when(held).then(pl.lit(result))
        going_on = held & (pl.lit(result) != "P")
    last = pl.coalesce("interview_3_date", "interview_2_date", "interview_1_date", "letter_date")
    return (
        long.with_columns(**columns)
        .with_columns(
            procedure_number=pl.Series(rng.integers(10_000_000, 99_999_999, m)).cast(pl.String)
        )
        .select(
            "insz",
            start_date="letter_date",
            end_date=last,
            procedure_number="procedure_number",
            letter_date="letter_date",
            **{
                f"interview_{n}_{part}": f"interview_{n}_{part}"
                for n in (1, 2, 3)
                for part in ("date", "result")
            },
        )
        .sort("insz", "start_date")
    )
