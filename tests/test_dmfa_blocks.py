"""The DMFA block fields of 19/104 and 13/021 in the generated sources: each block where it
belongs, declaration fields shared by an employer's lines, amounts that follow the wage, the
Brussels care facilities that 19/104 is about, and the RVA activation allowances of 13/021."""

from __future__ import annotations

import polars as pl
import pytest

from specs.sources import OCCUPATIONS
from synthetic import dmfa_blocks, register, rva_allowances
from synthetic import generate as synth
from synthetic.identifiers import DayCounters

PUBLIC = (
    "public_organisation_type",
    "staff_category",
    "grade_name",
    "public_start",
    "language_role",
    "service_nature",
    "function_nature",
    "public_declaration_exemption",
)
STUDENT = ("student_wage_cents", "student_contribution_cents", "student_days")
DECLARATION = (
    "curatorship",
    "net_amount_due_cents",
    "five_day_conversion",
    "holiday_start",
    "declaration_source_code",
    "lump_contribution_base_cents",
    "lump_contribution_cents",
)


@pytest.fixture(scope="module")
def lines(world) -> pl.DataFrame:
    return pl.read_parquet(world["store"] / OCCUPATIONS.relative_path)


@pytest.fixture(scope="module")
def persons(world) -> pl.DataFrame:
    return pl.read_parquet(world["store"] / "register" / "persons.parquet")


def test_the_public_sector_block_is_filled_on_public_lines_only(lines):
    public = lines.filter(pl.col("sector") == "2")
    private = lines.filter(pl.col("sector") != "2")
    assert public.height > 0
    assert public.select(pl.col(PUBLIC).null_count()).sum_horizontal().item() == 0
    assert private.select(pl.col(PUBLIC).is_not_null().sum()).sum_horizontal().item() == 0
    # a tenure date only where the line is tenured, and never after the quarter
    tenured = lines.filter(pl.col("tenure_date").is_not_null())
    assert (tenured["worker_status"] == "2").all() and (tenured["sector"] == "2").all()


def test_the_student_block_is_filled_on_young_private_lines_only_and_all_together(lines, persons):
    filled = lines.select(pl.sum_horizontal(pl.col(STUDENT).is_not_null()).alias("n"))["n"]
    assert set(filled.unique().to_list()) == {0, len(STUDENT)}
    students = lines.filter(pl.col("student_wage_cents").is_not_null()).join(
        persons.select("insz", "birth_date"), on="insz"
    )
    assert students.height > 0
    quarter_start = pl.date(pl.col("quarter") // 10, (pl.col("quarter") % 10 - 1) * 3 + 1, 1)
    age = (quarter_start - pl.col("birth_date")).dt.total_days() / 365.25
    assert students.select((age < dmfa_blocks.STUDENT_AGE).all()).item()
    assert (students["sector"] != "2").all()
    assert (students["student_wage_cents"] == students["gross_wage_cents"]).all()
    expected = (students["gross_wage_cents"] * dmfa_blocks.STUDENT_SOLIDARITY_RATE).round()
    assert (students["student_contribution_cents"] == expected.cast(pl.Int64)).all()


def test_declaration_fields_are_the_same_on_every_line_of_an_employer_and_quarter(lines):
    per_declaration = lines.group_by("employer_rsz", "quarter").agg(pl.col(DECLARATION).n_unique())
    assert per_declaration.select(pl.max_horizontal(DECLARATION).max()).item() == 1
    # they differ between employers
    assert lines["net_amount_due_cents"].n_unique() > 100
    # the holiday start is declared with the third quarter only
    holiday = lines.filter(pl.col("holiday_start").is_not_null())
    assert holiday.height > 0 and (holiday["quarter"] % 10 == 3).all()


def test_line_amounts_follow_the_gross_wage(lines):
    ordinary = lines.filter(pl.col("contribution_type") == "0")
    assert (ordinary["contribution_base_cents"] == ordinary["gross_wage_cents"]).all()
    expected = (ordinary["gross_wage_cents"] * dmfa_blocks.CONTRIBUTION_RATE).round()
    assert (ordinary["contribution_cents"] == expected.cast(pl.Int64)).all()
    deducted = lines.filter(pl.col("deduction_base_cents").is_not_null())
    assert (deducted["deduction_code"] != "0000").all()
    assert (deducted["deduction_base_cents"] == deducted["gross_wage_cents"]).all()
    assert (deducted["deduction_cents"] <= deducted["deduction_base_cents"]).all()
    part_time = lines.filter(pl.col("contract_type") == "1")
    assert part_time["service_hours_hundredths"].null_count() == 0
    assert lines.filter(pl.col("contract_type") == "0")[
        "service_hours_hundredths"
    ].null_count() == (lines.filter(pl.col("contract_type") == "0").height)


def test_the_block_fields_leave_every_column_of_18_088_as_it_was():
    seed, persons = 3, 300
    employers = synth.population_employers(persons, seed)
    rng = synth.stream(seed, synth.PERSONS_STREAM, 0)
    people = register.persons_frame(rng, persons, 0, DayCounters())
    before = synth.build_tables(rng, people, employers)["dmfa.occupations"]
    after = synth.block_tables(seed, 0, persons, employers, DayCounters())["dmfa.occupations"]
    assert after.select(before.columns).equals(before)
    assert set(after.columns) - set(before.columns)


def test_the_dmfa_reaches_the_last_quarter_of_the_sources(lines):
    """The sources run to register.END (2020): 19/104's quarters of 2019-2020 hold lines."""
    last = register.END.year * 10 + (register.END.month - 1) // 3 + 1
    quarters = lines["quarter"]
    assert quarters.max() == last == 20204
    assert quarters.min() == register.START.year * 10 + 1
    assert (quarters == 20203).sum() > 0 and (quarters == 20194).sum() > 0


def test_brussels_care_facilities_have_workers_in_both_quarters_19_104_compares(lines):
    """19/104 compares the FTE of Brussels care facilities in 2019-Q4 and 2020-Q3 (its summary's
    periods): the facilities in the 3,000-person world have workers in both."""
    care = lines.filter(
        pl.col("nace").is_in(list(dmfa_blocks.CARE_NACE))
        & pl.col("local_unit_nis").str.starts_with("21")
    )
    assert care["joint_committee"].unique().to_list() == [dmfa_blocks.CARE_COMMITTEE]
    per_facility = care.group_by("employer_rsz").agg(
        q4=(pl.col("quarter") == 20194).sum(), q3=(pl.col("quarter") == 20203).sum()
    )
    assert per_facility.height >= 3
    assert per_facility.filter((pl.col("q4") > 0) & (pl.col("q3") > 0)).height >= 2


def test_activation_allowances_are_paid_in_months_of_a_job_taken_up_after_benefit(world, lines):
    allowances = pl.read_parquet(world["store"] / "rva" / "activation_allowances.parquet")
    unemployment = pl.read_parquet(world["store"] / "rva" / "unemployment.parquet")
    assert allowances.height > 0
    assert allowances.select(pl.struct("insz", "month").is_duplicated().any()).item() is False
    month_start = pl.date(pl.col("month") // 100, pl.col("month") % 100, 1)
    # a job at the enterprise runs in the month and started after one of the benefit spells
    jobs = allowances.join(lines, on=["insz", "enterprise_kbo"]).filter(
        (pl.col("occupation_start") <= month_start.dt.month_end())
        & (pl.col("occupation_end").is_null() | (pl.col("occupation_end") >= month_start))
    )
    assert jobs.select("insz", "month").unique().height == allowances.height
    after = allowances.join(unemployment.select("insz", "end_date"), on="insz").filter(
        pl.col("end_date") < month_start
    )
    assert after.select("insz", "month").unique().height == allowances.height
    full = pl.col("allowance_type").replace_strict(rva_allowances.MONTHLY_EURO) * 100
    assert allowances.select((pl.col("amount_cents") <= full).all()).item()
