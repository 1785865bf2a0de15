"""Spec tests of the panels: inline source rows, expected rows per person."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from flows.extract import disclosure
from flows.stores.sources import open_sources
from specs.catalog import VARIABLES
from specs.model import PopulationRule
from specs.values import Period
from tests.sourcestore import d, write_store
from transforms import calendar, panels
from transforms import population as population_query

ANNA, BERT, CARL = "85073003427", "50010100155", "90010100118"

PERIOD = Period.model_validate({"from": "2010-01", "until": "2010-06"})

ROWS = {
    "register.persons": [
        dict(
            insz=ANNA,
            last_name="A",
            first_name="A",
            sex="F",
            birth_date=d("1985-07-30"),
            death_date=None,
            street="s 1",
            postal_code="1000",
            first_nationality="129",
        ),
        dict(
            insz=BERT,
            last_name="B",
            first_name="B",
            sex="M",
            birth_date=d("1950-01-01"),
            death_date=d("2010-03-10"),
            street="s 2",
            postal_code="1000",
            first_nationality="150",
        ),
        dict(
            insz=CARL,
            last_name="C",
            first_name="C",
            sex="M",
            birth_date=d("1990-01-01"),
            death_date=None,
            street="s 3",
            postal_code="1000",
            first_nationality="150",
        ),
    ],
    "register.residences": [
        dict(insz=ANNA, valid_from=d("1985-07-30"), valid_until=d("2010-04-30"), nis_code="21004"),
        dict(insz=ANNA, valid_from=d("2010-05-01"), valid_until=None, nis_code="11002"),
        dict(insz=BERT, valid_from=d("1950-01-01"), valid_until=d("2010-03-10"), nis_code="62063"),
    ],
    "register.nationalities": [
        dict(insz=ANNA, valid_from=d("1985-07-30"), valid_until=d("2010-02-01"), nationality="129"),
        dict(insz=ANNA, valid_from=d("2010-02-02"), valid_until=None, nationality="150"),
        dict(insz=BERT, valid_from=d("1950-01-01"), valid_until=d("2010-03-10"), nationality="150"),
    ],
    "register.households": [
        dict(
            insz=ANNA, valid_from=d("2003-07-30"), valid_until=None, lipro="SING", household_size=1
        ),
    ],
    "dmfa.occupations": [
        dict(
            insz=ANNA,
            quarter=20094,
            employer_rsz="100006",
            enterprise_kbo="0403019261",
            local_unit_id="2000000001",
            joint_committee="200",
            worker_code="495",
            contract_type="1",
            q_hours=1900,
            s_hours=3800,
            occupation_start=d("2009-05-01"),
            occupation_end=d("2010-02-14"),
            days_worked=3250,
            gross_wage_cents=420000,
            declaration_version=1,
        ),
        dict(
            insz=ANNA,
            quarter=20101,
            employer_rsz="100006",
            enterprise_kbo="0403019261",
            local_unit_id="2000000001",
            joint_committee="200",
            worker_code="495",
            contract_type="1",
            q_hours=1900,
            s_hours=3800,
            occupation_start=d("2009-05-01"),
            occupation_end=d("2010-02-14"),
            days_worked=1500,
            gross_wage_cents=190000,
            declaration_version=1,
        ),
    ],
    "rva.unemployment": [
        dict(
            insz=ANNA,
            start_date=d("2010-05-03"),
            end_date=None,
            category="WN",
            daily_allowance_cents=4512,
        ),
    ],
    "nic.incapacity": [
        dict(
            insz=ANNA,
            episode=1,
            phase="primary",
            start_date=d("2010-02-15"),
            end_date=d("2010-04-10"),
            illness_start_date=d("2010-01-16"),
            primary_start_date=d("2010-02-15"),
            nature="FULL",
            daily_benefit_cents=5000,
        ),
        dict(
            insz=BERT,
            episode=1,
            phase="primary",
            start_date=d("2008-01-01"),
            end_date=d("2008-12-31"),
            illness_start_date=d("2007-12-01"),
            primary_start_date=d("2008-01-01"),
            nature="FULL",
            daily_benefit_cents=4000,
        ),
        dict(
            insz=BERT,
            episode=1,
            phase="invalidity",
            start_date=d("2009-01-01"),
            end_date=d("2010-03-10"),
            illness_start_date=d("2007-12-01"),
            primary_start_date=d("2008-01-01"),
            nature="FULL",
            daily_benefit_cents=4100,
        ),
    ],
    "jobseekers.registrations": [
        dict(
            insz=ANNA,
            start_date=d("2010-05-03"),
            end_date=None,
            category="50",
            study_domain="04",
            study_level="3",
            service="VDAB",
            exemption="0",
        ),
    ],
    "rva.payments": [
        dict(
            insz=ANNA,
            month=201005,
            amount_paid_cents=90240,
            benefit_days=20,
            hours_worked_hundredths=0,
            budget_units_hundredths=77,
            payments=1,
            month_end_situation="1",
        ),
    ],
    "fodsz.disability": [
        dict(
            insz=BERT,
            start_date=d("2009-01-01"),
            end_date=d("2010-03-10"),
            ordinary_allowance="Y",
            special_allowance="N",
            lower_limbs_50="N",
            full_blindness="N",
            earning_capacity_third="Y",
        ),
    ],
    "sigedis.career": [
        dict(insz=ANNA, year=2008, worked_days=312, assimilated_days=0, employer_rsz="100006"),
        dict(insz=ANNA, year=2009, worked_days=0, assimilated_days=0, employer_rsz=None),
        dict(insz=ANNA, year=2010, worked_days=40, assimilated_days=100, employer_rsz="100006"),
    ],
}


def incapacity_population(sources):
    """The persons with incapacity in PERIOD, as the 18/088 rule selects them."""
    return population_query.select_population(
        sources["register.persons"],
        sources["nic.incapacity"],
        calendar.bounds(PERIOD),
        PopulationRule.INCAPACITY_IN_PERIOD,
    )


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    store = write_store(tmp_path_factory.mktemp("store"), ROWS)
    return open_sources(duckdb.connect(), store)


@pytest.fixture(scope="module")
def population(sources):
    return incapacity_population(sources)


def test_population_holds_only_persons_with_incapacity_in_the_period(population):
    assert sorted(population.pl()["insz"]) == sorted([ANNA, BERT])


def test_population_of_all_persons_holds_everyone_alive_in_the_period(sources):
    everyone = population_query.select_population(
        sources["register.persons"],
        sources["nic.incapacity"],
        calendar.bounds(PERIOD),
        PopulationRule.ALL_PERSONS,
    )
    assert sorted(everyone.pl()["insz"]) == sorted([ANNA, BERT, CARL])


def _rows(relation, columns):
    return relation.pl().sort("insz", columns[0]).select("insz", *columns).rows()


def test_month_panel_takes_the_situation_on_the_last_day(sources, population):
    month = panels.month_panel(
        population, calendar.months(PERIOD), *(sources[k] for k in panels.MONTH_SOURCES)
    )
    got = _rows(
        month,
        [
            "month",
            "socio_economic_position",
            "incapacity_phase",
            "incapacity_start",
            "incapacity_end",
            "unemployment_category",
            "unemployment_daily_allowance",
        ],
    )
    assert got == [
        (BERT, "2010-01", "332", "invalidity", d("2008-01-01"), d("2010-03-10"), None, None),
        (BERT, "2010-02", "332", "invalidity", d("2008-01-01"), d("2010-03-10"), None, None),
        # died on 10 March: the situation on the day of death
        (BERT, "2010-03", "332", "invalidity", d("2008-01-01"), d("2010-03-10"), None, None),
        (ANNA, "2010-01", "111", None, None, None, None, None),
        (ANNA, "2010-02", "331", "primary", d("2010-02-15"), d("2010-04-10"), None, None),
        (ANNA, "2010-03", "331", "primary", d("2010-02-15"), d("2010-04-10"), None, None),
        (ANNA, "2010-04", "399", None, None, None, None, None),
        (ANNA, "2010-05", "211", None, None, None, "WN", 45.12),
        (ANNA, "2010-06", "211", None, None, None, "WN", 45.12),
    ]


def test_quarter_panel_takes_characteristics_on_the_last_day(sources, population):
    quarter = panels.quarter_panel(
        population, calendar.quarters(PERIOD), *(sources[k] for k in panels.QUARTER_SOURCES)
    )
    got = _rows(
        quarter,
        [
            "quarter",
            "municipality",
            "nationality",
            "first_nationality",
            "lipro_position",
            "job_count",
            "gross_wage",
            "primary_incapacity_start",
        ],
    )
    assert got == [
        (BERT, "2010-Q1", "62063", "150", "150", None, 0, None, d("2008-01-01")),
        # still in primary incapacity on 31 March
        (ANNA, "2010-Q1", "21004", "150", "129", "SING", 1, 1900.0, d("2010-02-15")),
        (ANNA, "2010-Q2", "11002", "150", "129", "SING", 0, None, None),
    ]


def test_job_panel_keeps_every_job_of_the_quarter_with_its_daily_wage(sources, population):
    jobs = panels.job_panel(population, calendar.quarters(PERIOD), sources["dmfa.occupations"])
    got = _rows(
        jobs,
        [
            "quarter",
            "job",
            "employer_id",
            "part_time_percentage",
            "paid_days",
            "job_gross_wage",
            "daily_wage",
        ],
    )
    # 2009-Q4 lies outside the period; 1,900 euro over 15 paid days is 126.67 a day
    assert got == [(ANNA, "2010-Q1", 1, "100006", 50.0, 15.0, 1900.0, 126.67)]


def _built(sources, population, names, period=PERIOD):
    return panels.build_panels(population, period, sources, names)


def test_month_panel_adds_supplementary_positions_days_ill_and_source_columns(sources, population):
    month = _built(
        sources,
        population,
        {
            "month": (
                "socio_economic_position",
                "supplementary_position_1",
                "incapacity_days",
                "employment_service",
                "unemployment_benefits_paid",
            )
        },
    )["month"]
    got = month.sort("insz", "month").select(
        "insz",
        "month",
        "socio_economic_position",
        "supplementary_position_1",
        "incapacity_days",
        "employment_service",
        "unemployment_benefits_paid",
    )
    assert got.rows() == [
        # invalidity wins over the recognised disability, which becomes a supplementary position
        (BERT, "2010-01", "332", "340", 31, None, None),
        (BERT, "2010-02", "332", "340", 28, None, None),
        (BERT, "2010-03", "332", "340", 10, None, None),
        (ANNA, "2010-01", "111", None, 0, None, None),
        # primary incapacity from 15 February
        (ANNA, "2010-02", "331", None, 14, None, None),
        (ANNA, "2010-03", "331", None, 31, None, None),
        (ANNA, "2010-04", "399", None, 10, None, None),
        # registered job seeker with benefit: the registration is no supplementary position
        (ANNA, "2010-05", "211", None, 0, "VDAB", 902.4),
        (ANNA, "2010-06", "211", None, 0, "VDAB", None),
    ]


def test_quarter_panel_derives_household_type_days_ill_and_cumulated_benefits(sources, population):
    names = (
        "household_type",
        "incapacity_days_quarter",
        "incapacity_paid_days",
        "cumulative_benefits",
        "socio_economic_position_quarter",
        "disability_ordinary_allowance",
        "incapacitated",
    )
    quarter = _built(sources, population, {"quarter": names})["quarter"]
    got = quarter.sort("insz", "quarter").select("insz", "quarter", *names)
    assert got.rows() == [
        # died 10 March 2010: 69 days ill in the quarter, 59 on the 6-day regime; the episode
        # paid 366 days x 6/7 x 40 euro in primary incapacity and 434 x 6/7 x 41 in invalidity
        (BERT, "2010-Q1", None, 69, 59, 27800.57, "332", "Y", "Y"),
        # 45 days from 15 February: 39 benefit days, 45 x 6/7 x 50 euro
        (ANNA, "2010-Q1", "1", 45, 39, 1928.57, "331", "N", "Y"),
        (ANNA, "2010-Q2", "1", 10, 9, None, "211", "N", "N"),
    ]


def test_job_panel_marks_the_main_job_and_reads_line_columns(sources, population):
    jobs = _built(
        sources, population, {"quarter_job": ("main_job", "part_time_class", "wage_class")}
    )["quarter_job"]
    # Q/S = 50% is class 2; 1,900 euro over 15 days is 126.67 a day: Salcla class 1 + 101
    assert jobs.select(
        "insz", "quarter", "job", "main_job", "part_time_class", "wage_class"
    ).rows() == [(ANNA, "2010-Q1", 1, "Y", "2", 102)]


def test_job_panel_gives_the_line_its_quarter_and_its_fte_over_the_days_it_covers(
    sources, population
):
    names = ("line_quarter_start", "line_quarter_end", "service_fraction", "fte")
    jobs = _built(sources, population, {"quarter_job": names})["quarter_job"]
    # Q/S = 0.5; the occupation ends on 14 February: 45 of the quarter's 90 days, 0.5 x 45/90
    assert jobs.select("insz", "quarter", *names).rows() == [
        (ANNA, "2010-Q1", d("2010-01-01"), d("2010-03-31"), 0.5, 0.25)
    ]


def test_fte_counts_an_ongoing_occupation_from_its_start_to_the_quarters_end(tmp_path_factory):
    line = dict(ROWS["dmfa.occupations"][1], quarter=20102, occupation_start=d("2010-05-01"))
    line.update(occupation_end=None, q_hours=3800)
    store = write_store(tmp_path_factory.mktemp("fte"), {**ROWS, "dmfa.occupations": [line]})
    sources = open_sources(duckdb.connect(), store)
    jobs = _built(sources, incapacity_population(sources), {"quarter_job": ("fte",)})
    # full time from 1 May: 61 of the 91 days of 2010-Q2
    assert jobs["quarter_job"].select("insz", "quarter", "fte").rows() == [
        (ANNA, "2010-Q2", round(61 / 91, 4))
    ]


def test_month_panel_reads_the_activation_allowance_paid_for_the_month(tmp_path_factory):
    allowance = dict(
        insz=ANNA, month=201006, enterprise_kbo="0403019261", allowance_type="1", amount_cents=50000
    )
    rows = {**ROWS, "rva.activation_allowances": [allowance]}
    sources = open_sources(duckdb.connect(), write_store(tmp_path_factory.mktemp("rva"), rows))
    names = ("activation_allowance_type", "activation_allowance", "activation_enterprise_id")
    month = _built(sources, incapacity_population(sources), {"month": names})["month"]
    got = month.filter(pl.col("insz") == ANNA).sort("month").select("month", *names)
    # the enterprise number is still exact here: protect replaces it with a pseudonym
    assert got.rows()[-2:] == [
        ("2010-05", None, None, None),
        ("2010-06", "1", 500.0, "0403019261"),
    ]


def test_year_panel_counts_the_career_years_with_days_before_the_panel_too(sources, population):
    period = Period.model_validate(
        {"from": "2010-01", "until": "2010-06", "career_from_year": 2009}
    )
    years = _built(sources, population, {"year": ("career_length_years",)}, period)["year"]
    # 2008 counts although it lies before the panel; 2009 has no days
    assert years.sort("year").select("insz", "year", "career_length_years").rows() == [
        (ANNA, 2009, 1),
        (ANNA, 2010, 2),
    ]


def test_of_overlapping_spells_the_latest_started_one_is_read(tmp_path_factory):
    rows = dict(ROWS)
    base = dict(
        insz=ANNA,
        end_date=None,
        category="50",
        study_domain="04",
        study_level="3",
        exemption="0",
    )
    rows["jobseekers.registrations"] = [
        dict(base, start_date=d("2010-01-01"), service="ACTIRIS"),
        dict(base, start_date=d("2010-03-01"), service="VDAB"),
        # a duplicate of the latest: the same value, whichever copy is read
        dict(base, start_date=d("2010-03-01"), service="VDAB"),
    ]
    store = write_store(tmp_path_factory.mktemp("overlap"), rows)
    sources = open_sources(duckdb.connect(), store)
    population = incapacity_population(sources)
    month = _built(sources, population, {"month": ("employment_service",)})["month"]
    anna = month.filter(pl.col("insz") == ANNA).sort("month")
    assert anna["employment_service"].to_list() == ["ACTIRIS", "ACTIRIS"] + ["VDAB"] * 4


def test_a_self_employed_main_occupation_is_working_and_counts_as_a_job(tmp_path_factory):
    rows = dict(ROWS)
    rows["rsvz.self_employed"] = [
        dict(
            insz=ANNA,
            start_date=d("2010-04-12"),
            end_date=None,
            category="1",
            annual_income_cents=2_400_000,
        ),
    ]
    store = write_store(tmp_path_factory.mktemp("self_employed"), rows)
    sources = open_sources(duckdb.connect(), store)
    population = incapacity_population(sources)
    built = _built(
        sources,
        population,
        {
            "month": ("socio_economic_position",),
            "quarter": ("total_job_count", "self_employed_annual_income"),
        },
    )
    anna = built["month"].filter(pl.col("insz") == ANNA).sort("month")
    # from April self-employed (was "not active: other"), which also beats the job-seeking
    # of May and June: the position closest to the labour market wins
    assert anna["socio_economic_position"].to_list() == ["111", "331", "331", "121", "121", "121"]
    quarter = built["quarter"].filter(pl.col("insz") == ANNA).sort("quarter")
    # Q1: the salaried job; Q2: the self-employed activity running on 30 June
    assert quarter.select("total_job_count", "self_employed_annual_income").rows() == [
        (1, None),
        (1, 24000.0),
    ]


def test_month_positions_are_the_month_panels_positions(sources, population):
    months = calendar.months(PERIOD)
    panel = panels.month_panel(population, months, *(sources[k] for k in panels.MONTH_SOURCES))
    positions = panels.month_positions(
        population, months, *(sources[k] for k in panels.POSITION_SOURCES)
    )
    columns = ["month", "socio_economic_position"]
    assert positions.columns == ["insz", *columns]
    assert _rows(positions, columns) == _rows(panel, columns)


def test_the_risks_quarter_rows_hold_each_persons_last_row_of_the_quarter_panel(
    sources, population
):
    requested = ["sex", "municipality", "household_type", "incapacity_phase"]
    variables = [VARIABLES[name] for name in requested]
    whole = panels.quarter_rows(population, calendar.quarters(PERIOD), sources, variables)
    rows = disclosure.last_quarter_rows(population, PERIOD, sources, requested)

    def last(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.sort("quarter").group_by("insz").agg(pl.all().last()).sort("insz")

    assert last(rows).equals(last(whole))
    # Anna is alive at the end: her last quarter alone; Bert died in March: all his quarters
    assert sorted(rows.select("insz", "quarter").rows()) == sorted(
        [(ANNA, "2010-Q2"), (BERT, "2010-Q1")]
    )
    assert whole.height == 3
