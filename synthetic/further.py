"""The sources of the further variables of 18/088, cut from the same lives as the first ones.

One entry point for synthetic.generate: it takes the tables already drawn and returns the
extended ones (more columns on DMFA, RVA, NIC and SIGEDIS) and the new ones (job seekers,
disability, self-employed, RVA sanctions, payments and activation, incomes). It draws from the
generator after all first tables, so those stay as they were.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from specs import sources as declared_sources
from synthetic import (
    disability,
    dmfa_details,
    income,
    jobseekers,
    nic_details,
    rva_details,
    self_employed,
    sigedis_details,
)


def further_tables(
    rng: np.random.Generator,
    life: pl.DataFrame,
    people: pl.DataFrame,
    employers: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
) -> dict[str, pl.DataFrame]:
    """The extended and the new source tables, keyed like specs.sources."""
    residences = tables[declared_sources.RESIDENCES.key]
    unemployment = rva_details.unemployment_with_details(
        rng, tables[declared_sources.UNEMPLOYMENT.key], residences
    )
    incapacity = nic_details.incapacity_with_details(rng, tables[declared_sources.INCAPACITY.key])
    occupations = dmfa_details.occupations_with_details(
        rng, tables[declared_sources.OCCUPATIONS.key], employers
    )
    registrations = jobseekers.registrations_table(rng, life, people, unemployment, residences)
    recognitions = disability.disability_table(rng, people, incapacity)
    activities = self_employed.self_employed_table(rng, life, people)
    payments = rva_details.payments_table(rng, unemployment)
    return {
        declared_sources.OCCUPATIONS.key: occupations,
        declared_sources.UNEMPLOYMENT.key: unemployment,
        declared_sources.INCAPACITY.key: incapacity,
        declared_sources.CAREER.key: sigedis_details.career_with_details(
            tables[declared_sources.CAREER.key], occupations
        ),
        declared_sources.SANCTIONS.key: rva_details.sanctions_table(rng, unemployment),
        declared_sources.PAYMENTS.key: payments,
        declared_sources.ACTIVATION.key: rva_details.activation_table(rng, unemployment),
        declared_sources.JOBSEEKERS.key: registrations,
        declared_sources.DISABILITY.key: recognitions,
        declared_sources.SELF_EMPLOYED.key: activities,
        declared_sources.INCOMES.key: income.income_table(
            rng,
            people,
            tables[declared_sources.HOUSEHOLDS.key],
            payments,
            incapacity,
            occupations,
            activities,
            recognitions,
            registrations,
        ),
    }
