"""Job-seeker registrations at the regional employment services (VDAB, FOREM, ACTIRIS, ADG).

Every benefit spell of the RVA is a registration of an applicant for allowance (category 50),
with the same dates. Some young persons out of work and without benefit register too (youth in
professional-integration period, 51, or freely, 53), and a few are registered through the
CPAS/OCMW (52). The service is the one of the region the person lives in when registering.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from specs import codes
from synthetic import lifecourse as lc
from synthetic.draws import employment_service, residence_on, weighted
from synthetic.spells import dated, spells

YOUNG_AGE = 30  # inactive persons under this age may register without benefit
SHARE_YOUNG_REGISTERING = 0.30
YOUNG_CATEGORIES = {"51": 0.6, "53": 0.3, "52": 0.1}
YEARS_BACK_IF_RUNNING = 1.0
STUDY_LEVELS = {"1": 0.10, "2": 0.20, "3": 0.40, "4": 0.17, "5": 0.10, "9": 0.03}
STUDY_DOMAINS = {
    "00": 0.25,
    "01": 0.04,
    "02": 0.06,
    "03": 0.06,
    "04": 0.14,
    "05": 0.03,
    "06": 0.04,
    "07": 0.17,
    "08": 0.02,
    "09": 0.08,
    "10": 0.09,
    "99": 0.02,
}
EXEMPTIONS = {"0": 0.90, "1": 0.04, "2": 0.02, "3": 0.03, "9": 0.01}

assert set(YOUNG_CATEGORIES) <= set(codes.JOBSEEKER_CATEGORY)
assert set(STUDY_LEVELS) == set(codes.STUDY_LEVEL)
assert set(STUDY_DOMAINS) == set(codes.STUDY_DOMAIN)
assert set(EXEMPTIONS) == set(codes.JOBSEEKER_EXEMPTION)


def registrations_table(
    rng: np.random.Generator,
    life: pl.DataFrame,
    persons: pl.DataFrame,
    unemployment: pl.DataFrame,
    residences: pl.DataFrame,
) -> pl.DataFrame:
    """One row per registration (insz, start_date, end_date, category, study, service, ...)."""
    with_benefit = unemployment.select("insz", "start_date", "end_date", category=pl.lit("50"))
    age_years = (
        life.join(persons.select("person", born=pl.col("birth_date").dt.year()), on="person")
        .with_columns(age=lc.START.year + pl.col("month").cast(pl.Int32) // 12 - pl.col("born"))
        .filter((pl.col("state") == lc.INACTIVE) & (pl.col("age") < YOUNG_AGE))
    )
    young = dated(spells(age_years, "state"), rng, YEARS_BACK_IF_RUNNING)
    young = young.filter(pl.Series(rng.random(young.height)) < SHARE_YOUNG_REGISTERING)
    young = young.join(persons.select("person", "insz"), on="person", maintain_order="left").select(
        "insz", "start_date", "end_date", category=weighted(rng, YOUNG_CATEGORIES, young.height)
    )
    registrations = pl.concat([with_benefit, young]).sort("insz", "start_date")
    n = registrations.height
    # a person's level and field of study do not change between registrations
    study = persons.select(
        "insz",
        study_level=weighted(rng, STUDY_LEVELS, persons.height),
        study_domain=weighted(rng, STUDY_DOMAINS, persons.height),
    )
    return (
        registrations.with_columns(nis=residence_on(registrations, "start_date", residences))
        .join(study, on="insz", how="left", maintain_order="left")
        .select(
            "insz",
            "start_date",
            "end_date",
            "category",
            "study_domain",
            "study_level",
            service=employment_service(pl.col("nis")),
            exemption=weighted(rng, EXEMPTIONS, n),
        )
        .sort("insz", "start_date", "category")
    )
