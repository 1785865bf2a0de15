"""KSZ datawarehouse incomes per person and quarter, summed from the benefit and wage records
that the other sources hold, so that each institution's income agrees with its records:

- RVA: the monthly unemployment payments; NIC: primary-incapacity benefits and RIZIV:
  invalidity benefits, each at the phase's daily benefit on the 6-day regime (a small share of
  episodes are occupational diseases, paid by FEDRIS instead);
- wages: the DMFA gross wage less the employee's social-security contribution;
- self-employed: a quarter of the annual income for each day of activity;
- RSVZ bridging right for a quarter after some main self-employed activities end,
- FPD pension from age 65, FOD SZ allowance with a recognised disability, POD MI integration
  income for job seekers registered through the CPAS/OCMW, FAMIFED family allowance for parents.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from specs.sources import INCOMES
from synthetic.draws import overlap_per_period

SIX_DAY_SHARE = 6 / 7
EMPLOYEE_CONTRIBUTION = 0.1307
SHARE_OCCUPATIONAL_DISEASE = 0.01
SHARE_LOCAL_EMPLOYMENT_AGENCY = 0.02
PENSION_AGE = "65y"
SHARE_BRIDGING_RIGHT = 0.20
BRIDGING_DAYS = 90
BRIDGING_RIGHT_PER_MONTH = 1_300.0
# Monthly flat amounts in euro (2003 level; not indexed: the synthetic incomes are indicative).
PENSION_PER_MONTH = 1_300.0
DISABILITY_ALLOWANCE_PER_MONTH = 900.0
INTEGRATION_INCOME_PER_MONTH = 1_000.0
FAMILY_ALLOWANCE_PER_CHILD_PER_MONTH = 150.0
PARENTS = {"MAR+": 2, "UNM+": 2, "H1PA": 1}  # LIPRO positions of parents: adults in household
DAYS_PER_QUARTER = 365.25 / 4


def _per_quarter(frame: pl.DataFrame, column: str, cents: pl.Expr) -> pl.DataFrame:
    """(insz, quarter, column, cents) for each quarter a spell of `frame` covers."""
    return overlap_per_period(frame, "start_date", "end_date", "3mo", "quarter").select(
        "insz", "quarter", column=pl.lit(column), cents=cents.round().cast(pl.Int64)
    )


def _monthly_flat(per_month: float) -> pl.Expr:
    return pl.col("days") * (per_month * 3 / DAYS_PER_QUARTER) * 100


def income_table(
    rng: np.random.Generator,
    persons: pl.DataFrame,
    households: pl.DataFrame,
    payments: pl.DataFrame,
    incapacity: pl.DataFrame,
    occupations: pl.DataFrame,
    self_employed: pl.DataFrame,
    disability: pl.DataFrame,
    jobseekers: pl.DataFrame,
) -> pl.DataFrame:
    quarter_of_month = (pl.col("month") // 100 * 10 + (pl.col("month") % 100 - 1) // 3 + 1).cast(
        pl.Int32
    )
    rva = payments.select(
        "insz",
        quarter=quarter_of_month,
        column=pl.lit("taxable_benefit_rva_cents"),
        cents="amount_paid_cents",
    )
    episodes = incapacity.select("insz", "episode").unique().sort("insz", "episode")
    occupational = episodes.filter(
        pl.Series(rng.random(episodes.height)) < SHARE_OCCUPATIONAL_DISEASE
    ).with_columns(fedris=pl.lit(True))
    phases = incapacity.join(occupational, on=["insz", "episode"], how="left")
    benefit = pl.col("days") * SIX_DAY_SHARE * pl.col("daily_benefit_cents")
    primary = phases.filter((pl.col("phase") == "primary") & pl.col("fedris").is_null())
    invalidity = phases.filter((pl.col("phase") == "invalidity") & pl.col("fedris").is_null())
    fedris = phases.filter(pl.col("fedris").is_not_null())
    wages = occupations.group_by("insz", "quarter").agg(
        gross=pl.col("gross_wage_cents").sum(), activa=(pl.col("employment_measure") == "1").any()
    )
    pensioners = persons.select(
        "insz", start_date=pl.col("birth_date").dt.offset_by(PENSION_AGE), end_date="death_date"
    )
    parents = households.filter(pl.col("lipro").is_in(list(PARENTS))).select(
        "insz",
        start_date="valid_from",
        end_date="valid_until",
        children=(pl.col("household_size") - pl.col("lipro").replace_strict(PARENTS)).clip(1),
    )
    ended = self_employed.filter(
        (pl.col("category") == "1") & pl.col("end_date").is_not_null()
    ).sort("insz", "start_date")
    bridged = ended.filter(pl.Series(rng.random(ended.height)) < SHARE_BRIDGING_RIGHT).select(
        "insz",
        start_date=pl.col("end_date") + pl.duration(days=1),
        end_date=pl.col("end_date") + pl.duration(days=BRIDGING_DAYS),
    )
    amounts = pl.concat(
        [
            rva.with_columns(pl.col("cents").cast(pl.Int64)),
            _per_quarter(primary, "gross_indemnity_nic_cents", benefit),
            _per_quarter(primary, "taxable_indemnity_nic_cents", benefit),
            _per_quarter(invalidity, "taxable_benefit_riziv_cents", benefit),
            _per_quarter(invalidity, "gross_indemnity_riziv_cents", benefit),
            _per_quarter(fedris, "gross_indemnity_fedris_cents", benefit),
            _per_quarter(fedris, "taxable_indemnity_fedris_cents", benefit),
            wages.select(
                "insz",
                "quarter",
                column=pl.lit("taxable_wage_cents"),
                cents=(pl.col("gross") * (1 - EMPLOYEE_CONTRIBUTION)).round().cast(pl.Int64),
            ),
            _per_quarter(
                self_employed,
                "self_employed_income_cents",
                pl.col("days") / DAYS_PER_QUARTER * pl.col("annual_income_cents") / 4,
            ),
            _per_quarter(
                bridged, "taxable_benefit_rsvz_cents", _monthly_flat(BRIDGING_RIGHT_PER_MONTH)
            ),
            _per_quarter(pensioners, "taxable_benefit_fpd_cents", _monthly_flat(PENSION_PER_MONTH)),
            _per_quarter(
                disability,
                "taxable_benefit_fodsz_cents",
                _monthly_flat(DISABILITY_ALLOWANCE_PER_MONTH),
            ),
            _per_quarter(
                jobseekers.filter(pl.col("category") == "52"),
                "taxable_benefit_podmi_cents",
                _monthly_flat(INTEGRATION_INCOME_PER_MONTH),
            ),
            _per_quarter(
                parents,
                "taxable_benefit_famifed_cents",
                _monthly_flat(FAMILY_ALLOWANCE_PER_CHILD_PER_MONTH) * pl.col("children"),
            ),
        ],
        how="vertical_relaxed",
    ).filter(pl.col("cents") > 0)
    wide = amounts.pivot(
        on="column", index=["insz", "quarter"], values="cents", aggregate_function="sum"
    )
    amount_columns = [c.name for c in INCOMES.columns if c.name.endswith("_cents")]
    wide = (
        wide.with_columns(
            pl.lit(None, dtype=pl.Int64).alias(c) for c in amount_columns if c not in wide.columns
        )
        # the pivot's sum gives 0 where a person had no such income: that is "none", not 0
        .with_columns(pl.when(pl.col(c) > 0).then(pl.col(c)).alias(c) for c in amount_columns)
        .sort("insz", "quarter")
    )
    n = wide.height
    agency = pl.Series(rng.random(n)) < SHARE_LOCAL_EMPLOYMENT_AGENCY
    return (
        wide.join(
            wages.select("insz", "quarter", "activa"),
            on=["insz", "quarter"],
            how="left",
            maintain_order="left",
        )
        .with_columns(
            rva_activation=pl.when(pl.col("activa").fill_null(False))
            .then(pl.lit("Y"))
            .otherwise(pl.lit("N")),
            local_employment_agency=pl.when(
                agency & pl.col("taxable_benefit_rva_cents").is_not_null()
            )
            .then(pl.lit("Y"))
            .otherwise(pl.lit("N")),
        )
        .select("insz", "quarter", "rva_activation", "local_employment_agency", *amount_columns)
        .sort("insz", "quarter")
    )
