"""The synthetic sources of the further 18/088 variables tell the same life as the first ones."""

from __future__ import annotations

import polars as pl
import pytest

from synthetic.draws import GERMAN_SPEAKING, overlap_per_period
from synthetic.generate import population_tables
from tests.sourcestore import d


@pytest.fixture(scope="module")
def tables():
    return population_tables(3_000, 13)


def _region_service(nis: str) -> str:
    if nis in GERMAN_SPEAKING:
        return "ADG"
    if nis.startswith("21"):
        return "ACTIRIS"
    if nis[0] in "5689" or nis.startswith("25"):
        return "FOREM"
    return "VDAB"


def test_the_employment_service_is_that_of_the_region_lived_in_at_registration(tables):
    registrations = tables["jobseekers.registrations"]
    residences = tables["register.residences"]
    at_start = (
        registrations.join(residences, on="insz")
        .filter(
            (pl.col("valid_from") <= pl.col("start_date"))
            & (pl.col("valid_until").is_null() | (pl.col("valid_until") >= pl.col("start_date")))
        )
        .select("service", "nis_code")
    )
    assert at_start.height > 100
    expected = [_region_service(nis) for nis in at_start["nis_code"]]
    assert at_start["service"].to_list() == expected


def test_every_benefit_spell_is_a_registration_of_an_applicant_for_allowance(tables):
    spells = tables["rva.unemployment"].select("insz", "start_date", "end_date")
    registered = tables["jobseekers.registrations"].filter(pl.col("category") == "50")
    assert spells.sort("insz", "start_date").equals(
        registered.select("insz", "start_date", "end_date").sort("insz", "start_date")
    )


def test_disability_is_rare_and_concentrated_among_persons_in_invalidity(tables):
    recognised = set(tables["fodsz.disability"]["insz"])
    invalid = set(
        tables["nic.incapacity"].filter(pl.col("phase") == "invalidity")["insz"].to_list()
    )
    everyone = tables["register.persons"].height
    assert 0 < len(recognised) < 0.05 * everyone
    share_invalid = len(recognised & invalid) / max(1, len(invalid))
    share_others = len(recognised - invalid) / (everyone - len(invalid))
    assert share_invalid > 5 * share_others


def test_rva_income_of_a_quarter_is_the_sum_of_its_monthly_payments(tables):
    payments = tables["rva.payments"].with_columns(
        quarter=(pl.col("month") // 100 * 10 + (pl.col("month") % 100 - 1) // 3 + 1).cast(pl.Int32)
    )
    paid = payments.group_by("insz", "quarter").agg(cents=pl.col("amount_paid_cents").sum())
    income = tables["income.quarterly"].filter(pl.col("taxable_benefit_rva_cents").is_not_null())
    joined = paid.join(income, on=["insz", "quarter"], how="full", coalesce=True)
    assert joined.height == paid.height == income.height
    assert (joined["cents"] == joined["taxable_benefit_rva_cents"]).all()


def test_payments_follow_the_daily_allowance_of_their_spell(tables):
    unemployment = tables["rva.unemployment"]
    monthly = overlap_per_period(unemployment, "start_date", "end_date", "1mo", "month")
    per_month = monthly.group_by("insz", "month").agg(
        allowance=pl.col("daily_allowance_cents").max()
    )
    payments = tables["rva.payments"].join(per_month, on=["insz", "month"])
    assert payments.height == tables["rva.payments"].height
    assert (payments["amount_paid_cents"] <= payments["benefit_days"] * payments["allowance"]).all()


def test_invalidity_and_primary_benefits_land_with_riziv_and_the_nic(tables):
    income = tables["income.quarterly"]
    incapacity = tables["nic.incapacity"]
    invalid = set(incapacity.filter(pl.col("phase") == "invalidity")["insz"].to_list())
    with_riziv = set(income.filter(pl.col("taxable_benefit_riziv_cents") > 0)["insz"].to_list())
    with_nic = set(income.filter(pl.col("gross_indemnity_nic_cents") > 0)["insz"].to_list())
    assert with_riziv and with_riziv <= invalid
    assert with_nic <= set(incapacity["insz"].to_list())


def test_a_period_overlap_counts_the_days_of_each_month_within_the_sources():
    spell = pl.DataFrame(
        {"insz": ["x"], "start_date": [d("2020-11-20")], "end_date": [None]},
        schema={"insz": pl.String, "start_date": pl.Date, "end_date": pl.Date},
    )
    got = overlap_per_period(spell, "start_date", "end_date", "1mo", "month")
    # an open spell runs to the end of the sources, 31 December 2020 (register.END)
    assert got.select("month", "days").rows() == [(202011, 11), (202012, 31)]
    quarters = overlap_per_period(spell, "start_date", "end_date", "3mo", "quarter")
    assert quarters.select("quarter", "days").rows() == [(20204, 42)]
